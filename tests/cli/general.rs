//! The global interface: version, help, completions, unknown flags.

use crate::common::*;

#[test]
fn version_and_help() {
    let ctx = TestContext::new();
    let (code, out, _) = output(&mut ctx.ttm(["--version"]));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("ttm {}", env!("CARGO_PKG_VERSION")));
    let (code, out, _) = output(&mut ctx.ttm(["help"]));
    assert_eq!(code, 0);
    for cmd in [
        "doctor",
        "setup",
        "selftest",
        "bench",
        "scaffold",
        "completions",
    ] {
        assert!(out.contains(cmd), "help lacks {cmd}:\n{out}");
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm(["doctor", "--frobnicate"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("--frobnicate"), "{err}");
}

#[test]
fn completions_for_each_shell() {
    let ctx = TestContext::new();
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, _) = output(&mut ctx.ttm(["completions", shell]));
        assert_eq!(code, 0);
        assert!(out.contains("selftest"), "{shell}");
    }
    let (code, _, err) = output(&mut ctx.ttm(["completions", "tcsh"]));
    assert_eq!(code, 2);
    assert!(err.contains("tcsh"));
}
