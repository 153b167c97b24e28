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

#[test]
fn bare_ttm_says_where_to_start() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm(Vec::<&str>::new()));
    assert_eq!(code, 2, "no command given: a usage error (DESIGN.md)");
    assert!(out.is_empty(), "{out}");
    for start in ["ttm doctor", "ttm setup", "ttm selftest"] {
        assert!(err.contains(start), "{err}");
    }
    assert!(err.find("ttm doctor") < err.find("ttm setup"), "{err}");
    assert!(
        !err.contains("--workspace"),
        "not the page of flags:\n{err}"
    );
}

#[test]
fn help_puts_the_global_flags_apart_and_has_examples() {
    let ctx = TestContext::new();
    let (code, out, _) = output(&mut ctx.ttm(["setup", "--help"]));
    assert_eq!(code, 0);
    let own = out.find("--env-name").unwrap();
    let global = out
        .find("Global options:")
        .expect("a heading for the global flags");
    assert!(
        own < global && global < out.find("--json").unwrap(),
        "{out}"
    );
    assert!(out.contains("Examples:\n  ttm setup"), "{out}");
    let (_, out, _) = output(&mut ctx.ttm(["--help"]));
    assert!(out.contains("Examples:\n  ttm doctor"), "{out}");
}

#[test]
fn completions_help_says_how_to_install_them() {
    let ctx = TestContext::new();
    let (code, out, _) = output(&mut ctx.ttm(["completions", "--help"]));
    assert_eq!(code, 0);
    for step in [
        "ttm completions zsh > ~/.zfunc/_ttm",
        "fpath+=~/.zfunc",
        "ttm completions bash > ~/.local/share/bash-completion/completions/ttm",
        "ttm completions fish > ~/.config/fish/completions/ttm.fish",
    ] {
        assert!(out.contains(step), "{step}:\n{out}");
    }
}
