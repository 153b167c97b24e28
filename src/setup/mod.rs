//! `ttm setup`'s domain: the plan as pure data ([`plan::plan_setup`]) made
//! from the doctor's verdicts ([`verdicts`]), what
//! setup observes beside the doctor's facts ([`observe`]), the packages and
//! their template ([`requirements`]), the record of finished steps
//! ([`state`]), and carrying a plan out ([`apply`]), stopping cleanly on
//! Ctrl-C ([`interrupt`]). Beside the executor: each step's log
//! ([`step_log`]), reading what the programs print ([`tool_output`]), the
//! failures with a better fix ([`known_failures`]) and the marked block in
//! shell profiles ([`shell_profile`]).

pub mod apply;
pub mod download;
pub mod interrupt;
pub mod known_failures;
pub mod observe;
pub mod plan;
pub mod requirements;
pub mod shell_profile;
pub mod state;
pub mod step_log;
pub mod tool_output;
pub mod verdicts;

#[cfg(test)]
mod plan_tests;
