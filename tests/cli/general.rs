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

#[test]
fn template_completes_to_template_names_not_files() {
    let ctx = TestContext::new();
    // A template of the user's own, found when the completions are made.
    let mine = ctx.workspace().join("templates/my-lab");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("template.toml"),
        "description = \"The lab's own (with 'quotes')\"\n",
    )
    .unwrap();
    std::fs::write(mine.join("README.md"), "# {{ title }}\n").unwrap();

    let (code, zsh, err) = output(&mut ctx.ttm(["completions", "zsh"]));
    assert_eq!(code, 0, "{err}");
    let start = zsh
        .find("'--template=")
        .unwrap_or_else(|| panic!("no --template in\n{zsh}"));
    let spec = &zsh[start..start + zsh[start..].find("))'").unwrap()];
    for name in ["chapter\\:", "training\\:", "my-lab\\:\"The lab'\\''s own"] {
        assert!(spec.contains(name), "{name}: {spec}");
    }
    assert!(!spec.contains("_files"), "not file names: {spec}");

    let (code, fish, _) = output(&mut ctx.ttm(["completions", "fish"]));
    assert_eq!(code, 0);
    let start = fish
        .find("-l template")
        .unwrap_or_else(|| panic!("no -l template in\n{fish}"));
    let spec = &fish[start..start + fish[start..].find("\ncomplete").unwrap()];
    assert!(spec.contains("-f -a \"chapter"), "no files offered: {spec}");
    assert!(
        spec.contains("my-lab") && spec.contains("training"),
        "{spec}"
    );

    let (code, bash, _) = output(&mut ctx.ttm(["completions", "bash"]));
    assert_eq!(code, 0);
    let words = bash
        .lines()
        .skip_while(|l| !l.contains("--template)"))
        .find(|l| l.contains("compgen -W"))
        .unwrap_or_else(|| panic!("no --template case in\n{bash}"));
    assert!(words.contains("\"chapter my-lab training\""), "{words}");
    // --yes completes only where something asks.
    for line in bash.lines().filter(|l| l.trim_start().starts_with("opts=")) {
        if line.contains(" doctor setup ") {
            continue; // the top level: `ttm -y setup` is fine
        }
        let asks = line.contains("--dry-run");
        assert_eq!(line.contains("--yes"), asks, "{line}");
    }
    // The script is valid bash.
    let script = ctx.temp.path().join("ttm.bash");
    std::fs::write(&script, &bash).unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    // Where no workspace can be read, the built-in names still complete.
    let ctx = TestContext::new().env("TTM_WORKSPACE", "relative/not/allowed");
    let (code, zsh, err) = output(&mut ctx.ttm(["completions", "zsh"]));
    assert_eq!(code, 0, "{err}");
    assert!(zsh.contains("chapter"), "{zsh}");
}
