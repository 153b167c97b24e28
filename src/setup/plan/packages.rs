//! The packages: `requirements.txt` (ttm's template, PyTorch pinned for
//! this Mac; the user's own kept), `pip install` of it (or of `--from`'s
//! lock), and `PYTORCH_ENABLE_MPS_FALLBACK=1` in the environment, so
//! operators MPS lacks run on the CPU instead of failing.

use super::*;

/// `requirements.txt`, and the bytes pip will install (the user's file when kept).
pub(super) fn requirements(
    cx: &Cx,
    torch_set: Option<TorchSet>,
    torch_packages: &[String],
    notes: &mut Vec<String>,
    blockers: &mut Vec<Blocker>,
) -> (Step, Vec<u8>) {
    let (facts, opts, seen, ws) = (cx.facts, cx.opts, cx.seen, &cx.ws);
    if let Some(set) = torch_set {
        let macos = facts.os_version.as_deref().unwrap_or("?");
        notes.push(if facts.apple_silicon {
            format!("PyTorch: {set}, the newest whose MPS works on macOS {macos} (MPS needs macOS {} for it)", compat::show(set.mps_macos))
        } else {
            format!("PyTorch: {set}, the last release for Intel Macs (Python {})", set.python_range())
        });
    }
    let rendered = rendered_or_blocked(
        render_requirements(torch_packages, &opts.extra, opts.notebook),
        blockers,
    );
    let req_path = ws.requirements();
    let req = write_or_keep(&seen.requirements, ws, &req_path, &rendered);
    let kept = req.kept;
    if let Some(beside) = &req.beside {
        notes.push(format!(
            "requirements.txt: you changed it, so yours is kept and installed; ttm's version goes to {}",
            beside.display()
        ));
    }
    let installed_req = if kept {
        seen.requirements.current.clone().unwrap_or_default()
    } else {
        rendered.clone().into_bytes()
    };
    let mut s = step(
        StepId::Requirements,
        "requirements.txt",
        req.done,
        vec![req.action],
    );
    s.note = Some(if kept {
        "yours, kept".into()
    } else if torch_set.is_some() {
        "from ttm's template, PyTorch pinned for this Mac".into()
    } else {
        "from ttm's template".into()
    });
    (s, installed_req)
}

/// `pip install -r`, after a forced reinstall of torch where it is broken.
/// `steps`: those planned so far (whether the environment is kept).
pub(super) fn pip_install(
    cx: &Cx,
    steps: &[Step],
    env_python: &EnvPython,
    env_fp: &str,
    torch_packages: &[String],
    installed_req: Vec<u8>,
) -> Step {
    let (facts, verdicts, opts, seen) = (cx.facts, cx.verdicts, cx.opts, cx.seen);
    let (install_from, install_bytes): (PathBuf, Vec<u8>) = match &opts.locked {
        Some(l) => (l.path.clone(), l.lines.join("\n").into_bytes()),
        None => (cx.ws.requirements(), installed_req),
    };
    let pip_fp = fingerprint(&[env_fp.as_bytes(), &install_bytes[..]]);
    // A torch that does not import (or one doctor fails) is not "already
    // satisfied" for pip: only a forced reinstall repairs it.
    let torch_installed = facts
        .torch
        .as_ref()
        .is_some_and(|t| t.version.is_some() || facts.torch_broken());
    // A new environment gets a fresh torch anyway.
    let env_kept = steps
        .iter()
        .any(|s| s.id == StepId::Environment && s.satisfied);
    let reinstall =
        opts.reinstall || (env_kept && torch_installed && fails(verdicts, CheckId::Torch));
    let mut actions = Vec::new();
    if reinstall {
        let mut force = env_python
            .cmd(&["-m", "pip", "install", "--force-reinstall", "--no-deps"])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .timeout(2 * HOUR);
        for p in torch_packages.iter().filter(|p| !p.starts_with("numpy")) {
            force = force.arg(p.clone());
        }
        if env_python.user_site {
            force = force.arg("--user");
        }
        actions.push(Action::Run {
            cmd: force,
            may_fail: false,
        });
    }
    let mut pip = env_python
        .cmd(&["-m", "pip", "install", "-r"])
        .arg(install_from.display().to_string())
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .timeout(2 * HOUR);
    if env_python.user_site {
        pip = pip.arg("--user");
    }
    let mut s = step(
        StepId::PipInstall,
        if opts.locked.is_some() {
            "Install the locked packages (pip)"
        } else {
            "Install the packages (pip)"
        },
        seen.state.done(StepId::PipInstall.as_str(), &pip_fp) && !reinstall,
        {
            actions.push(Action::Run {
                cmd: pip,
                may_fail: false,
            });
            actions
        },
    );
    s.fingerprint = pip_fp.clone();
    s.checks = vec![CheckId::Torch];
    s.note = Some(if reinstall {
        format!(
            "from {}; torch, torchvision and torchaudio are reinstalled first ({})",
            install_from.display(),
            if opts.reinstall {
                "--reinstall"
            } else {
                "doctor's torch check fails"
            }
        )
    } else {
        format!("from {}", install_from.display())
    });
    s.fix = "check the network and the log, then ttm setup (it resumes here)".into();
    s
}

/// The MPS fallback, set where the environment keeps its variables (a conda
/// env's config, a venv's `bin/activate`, `~/.zprofile` without one). macOS only.
pub(super) fn mps_fallback(cx: &Cx) -> Step {
    let (facts, opts, seen) = (cx.facts, cx.opts, cx.seen);
    let var = env_vars::PYTORCH_ENABLE_MPS_FALLBACK;
    let export = format!("export {var}=1");
    let (done, action, fix) = match opts.env {
        EnvKind::Conda => (
            seen.conda_env_state
                .as_deref()
                .is_some_and(|t| t.contains(var)),
            Action::Run {
                cmd: PlannedCmd::new(
                    facts
                        .conda
                        .as_ref()
                        .map(|c| c.path.clone())
                        .unwrap_or_else(|| "conda".into()),
                    &[
                        "env",
                        "config",
                        "vars",
                        "set",
                        &format!("{var}=1"),
                        "-n",
                        &opts.env_name,
                    ],
                )
                .timeout(Duration::from_secs(300)),
                may_fail: false,
            },
            format!("conda env config vars set {var}=1 -n {}", opts.env_name),
        ),
        EnvKind::Venv => {
            let activate = opts.venv.join("bin/activate");
            (
                has_block(seen.venv_activate.as_deref(), &export),
                Action::AppendBlock {
                    path: activate.clone(),
                    lines: vec![export.clone()],
                },
                format!("echo '{export}' >> {}", activate.display()),
            )
        }
        EnvKind::None => (
            has_block(seen.zprofile.as_deref(), &export),
            Action::AppendBlock {
                path: opts.home.join(".zprofile"),
                lines: vec![export.clone()],
            },
            format!("echo '{export}' >> ~/.zprofile"),
        ),
    };
    let mut s = step(
        StepId::MpsFallback,
        "PYTORCH_ENABLE_MPS_FALLBACK=1 in the environment",
        done,
        vec![action],
    );
    s.note = Some("operators MPS lacks run on the CPU instead of failing".into());
    s.fix = fix;
    s
}
