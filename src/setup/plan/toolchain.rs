//! The tools first: on a Mac the command line tools, Homebrew (on PATH in
//! new terminals) and Python and git from it; on Linux the distribution's
//! Python and git, which ttm names but does not install (no sudo).

use super::*;

/// The toolchain's steps, in order.
pub(super) fn steps(
    cx: &Cx,
    brew_place: &BrewPlace,
    missing: Missing,
    base_version: Option<&str>,
) -> Vec<Step> {
    let (facts, opts, seen, ws, macos) = (cx.facts, cx.opts, cx.seen, &cx.ws, cx.macos);
    let usable_brew = brew_place.usable;
    let intel_brew = brew_place.intel;
    let brew_prefix = &brew_place.prefix;
    let brew = &brew_place.path;
    let (python_missing, git_missing) = (missing.python, missing.git);
    let mut steps = Vec::new();
    if macos {
        let clt = facts.xcode_clt.is_some();
        let mut s = step(
            StepId::XcodeClt,
            "Xcode command line tools (compilers, git)",
            clt,
            vec![
                Action::Run {
                    cmd: PlannedCmd::new("xcode-select", &["--install"]),
                    may_fail: true,
                },
                Action::WaitFor {
                    what: "the installer you see on screen to finish".into(),
                    cmd: PlannedCmd::new("xcode-select", &["-p"]).timeout(Duration::from_secs(20)),
                    timeout: Duration::from_secs(45 * 60),
                },
            ],
        );
        s.fix = "xcode-select --install, finish the installer, then ttm setup".into();
        s.checks = vec![CheckId::XcodeClt];
        if facts.is_xcrun_stub("git") || facts.xcode_clt.is_none() {
            // git comes with the tools (Apple's /usr/bin/git works once they exist).
            s.checks.push(CheckId::Git);
        }
        if let Some(p) = &facts.xcode_clt {
            s.note = Some(format!("installed at {}", p.display()));
        }
        steps.push(s);

        let have_brew = usable_brew.is_some() || seen.brew_in_prefix;
        let script = ws.state_dir().join("homebrew-install.sh");
        let mut install = PlannedCmd::new("/bin/bash", &[&script.display().to_string()]);
        if intel_brew {
            // Its installer picks the prefix from `uname -m`: run it as arm64.
            install = PlannedCmd::new("/usr/bin/arch", &["-arm64", "/bin/bash"])
                .arg(script.display().to_string());
        }
        if opts.assume_yes {
            install = install.env("NONINTERACTIVE", "1");
        } else {
            install.interactive = true;
        }
        let mut s = step(
            StepId::Homebrew,
            "Homebrew",
            have_brew,
            vec![
                Action::Run {
                    cmd: PlannedCmd::new("curl", &["-fsSL", HOMEBREW_INSTALL_URL, "-o"])
                        .arg(script.display().to_string())
                        .timeout(Duration::from_secs(300)),
                    may_fail: false,
                },
                Action::Run {
                    cmd: install,
                    may_fail: false,
                },
            ],
        );
        s.note = Some(match (&facts.homebrew, intel_brew) {
            (Some(b), true) => format!(
                "the Intel Homebrew in {} stays as it is and is not used; the native one goes to /opt/homebrew",
                b.prefix.display()
            ),
            (Some(b), false) => format!(
                "{} at {}",
                b.version.as_deref().unwrap_or("installed"),
                b.prefix.display()
            ),
            (None, _) => format!("the official install script, {HOMEBREW_INSTALL_URL}"),
        });
        s.checks = vec![CheckId::Homebrew];
        s.confirm = Some(format!(
            "Install Homebrew with its official script from {HOMEBREW_INSTALL_URL}?"
        ));
        s.fix = INSTALL_HOMEBREW.to_owned();
        steps.push(s);

        let eval_line = format!(
            "eval \"$({} shellenv)\"",
            brew_prefix.join("bin/brew").display()
        );
        let zprofile = opts.home.join(".zprofile");
        let mut s = step(
            StepId::BrewShellenv,
            "Homebrew on PATH in new terminals (~/.zprofile)",
            has_block(seen.zprofile.as_deref(), &eval_line),
            vec![Action::AppendBlock {
                path: zprofile,
                lines: vec![eval_line],
            }],
        );
        s.fix = "echo 'eval \"$(/opt/homebrew/bin/brew shellenv)\"' >> ~/.zprofile".into();
        steps.push(s);

        let mut formulae: Vec<String> = Vec::new();
        if python_missing {
            formulae.push(install::brew_python_formula(
                base_version.unwrap_or(BREW_DEFAULT_PYTHON),
            ));
        }
        if git_missing {
            formulae.push("git".into());
        }
        let mut cmd = PlannedCmd::new(brew, &["install"]);
        cmd.args.extend(formulae.iter().cloned());
        let mut s = step(
            StepId::BrewPackages,
            "Python and git from Homebrew",
            formulae.is_empty(),
            vec![Action::Run {
                cmd,
                may_fail: false,
            }],
        );
        s.note = Some(if formulae.is_empty() {
            "nothing missing".into()
        } else {
            format!("missing: {}", formulae.join(", "))
        });
        s.fix = format!("brew install {}", formulae.join(" "));
        s.checks = vec![CheckId::Python, CheckId::Git];
        steps.push(s);
    } else {
        let mut apt: Vec<String> = Vec::new();
        if python_missing {
            match &opts.python {
                Some(v) => apt.extend([
                    format!("python{}", minor_version(v)),
                    format!("python{}-venv", minor_version(v)),
                ]),
                None => apt.extend(["python3".into(), "python3-venv".into()]),
            }
        }
        if git_missing {
            apt.push("git".into());
        }
        let fix = install::apt_get_install(&apt.join(" "));
        let missing: Vec<&str> = [(python_missing, "python"), (git_missing, "git")]
            .iter()
            .filter(|(m, _)| *m)
            .map(|(_, n)| *n)
            .collect();
        let mut s = step(
            StepId::SystemPackages,
            "Python and git",
            apt.is_empty(),
            vec![Action::Manual {
                message: format!(
                    "{} missing; ttm does not run sudo for you",
                    missing.join(" and ")
                ),
                fix: fix.clone(),
            }],
        );
        s.note = Some(if apt.is_empty() {
            "both found".into()
        } else {
            format!("missing: {}", missing.join(", "))
        });
        s.fix = fix;
        s.checks = vec![CheckId::Python, CheckId::Git];
        steps.push(s);
    }

    steps
}
