//! `ttm setup`'s domain: the plan as pure data ([`plan::plan_setup`]) made
//! from the doctor's verdicts ([`verdicts`]), what
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
pub mod verdicts;

#[cfg(test)]
mod plan_tests;
