//! The proof at the end: the book's PyTorch check in the environment, then
//! ttm's own self-test (Burn, no Python) unless `--no-selftest`.

use super::*;

/// The book's linear regression, run by the environment's python.
pub(super) fn torch_check(cx: &Cx, env_python: &EnvPython, pip_fp: &str) -> Step {
    let seen = cx.seen;
    let check_fp = fingerprint(&["torch-check", pip_fp]);
    let mut s = step(
        StepId::TorchCheck,
        "PyTorch check: the book's linear regression",
        seen.state.done(StepId::TorchCheck.as_str(), &check_fp),
        vec![Action::TorchCheck {
            python: env_python.clone(),
        }],
    );
    s.fingerprint = check_fp;
    s.fix = "ttm doctor".into();
    s.checks = vec![CheckId::Torch];
    s
}

/// `ttm selftest`, unless the user said `--no-selftest`.
pub(super) fn selftest(cx: &Cx) -> Option<Step> {
    let (opts, seen) = (cx.opts, cx.seen);
    if !opts.selftest {
        return None;
    }
    let fp = fingerprint(&["selftest", env!("CARGO_PKG_VERSION")]);
    let mut s = step(
        StepId::Selftest,
        "ttm's own self-test (Burn, no Python)",
        seen.state.done(StepId::Selftest.as_str(), &fp),
        vec![Action::Selftest],
    );
    s.fingerprint = fp;
    s.fix = "ttm selftest --verbose".into();
    Some(s)
}
