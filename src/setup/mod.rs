//! `ttm setup`'s domain: the plan as pure data ([`plan::plan_setup`]), what
//! setup observes beside the doctor's facts ([`observe`]), the packages and
//! their template ([`requirements`]), the record of finished steps
//! ([`state`]), and carrying a plan out ([`apply`]), stopping cleanly on
//! Ctrl-C ([`interrupt`]).

pub mod apply;
pub mod interrupt;
pub mod observe;
pub mod plan;
pub mod requirements;
pub mod state;

#[cfg(test)]
mod plan_tests;
