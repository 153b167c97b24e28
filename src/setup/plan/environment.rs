//! The Python environment: a venv made from the base Python, a conda
//! environment, or none (the base Python's user site-packages). Each keeps
//! a good environment the doctor found and makes a bad one again.

use super::*;

/// A venv at `opts.venv`, made from the base Python.
pub(super) fn venv(cx: &Cx, base: &BasePython, steps: &mut Vec<Step>) -> EnvChoice {
    let (facts, verdicts, opts, seen, macos) = (cx.facts, cx.verdicts, cx.opts, cx.seen, cx.macos);
    let (base_python, base_version) = (&base.path, &base.version);
    let venv = opts.venv.clone();
    let py = EnvPython {
        program: venv.join("bin/python"),
        pre_args: vec![],
        user_site: false,
    };
    let version = base_version
        .clone()
        .unwrap_or_else(|| BREW_DEFAULT_PYTHON.to_owned());
    let fp = fingerprint(&[
        "venv",
        &venv.display().to_string(),
        &minor_version(&version),
    ]);
    // The doctor's verdict on this very venv: a good one found (the
    // book's) is used as it is; a broken or x86_64 one is made again.
    let this_env = facts.env.as_ref().is_some_and(|e| e.prefix == venv);
    let env_ok = this_env && !fails(verdicts, CheckId::Env);
    let env_bad = this_env && fails(verdicts, CheckId::Env);
    let mut cmd = PlannedCmd::new(base_python, &["-m", "venv"]);
    if env_bad {
        cmd = cmd.arg("--clear");
    }
    let cmd = cmd
        .arg("--prompt")
        .arg(opts.env_name.clone())
        .arg(venv.display().to_string())
        .timeout(Duration::from_secs(600));
    let done = seen.venv_python_exists
        && !env_bad
        && (env_ok || seen.state.done(StepId::Environment.as_str(), &fp));
    let mut s = step(
        StepId::Environment,
        "Python environment (venv)",
        done,
        vec![Action::Run {
            cmd,
            may_fail: false,
        }],
    );
    s.fingerprint = fp.clone();
    s.checks = vec![CheckId::Env];
    s.note = Some(match facts.env.as_ref().filter(|_| env_ok) {
        Some(e) => format!(
            "{} exists (Python {}), {}",
            venv.display(),
            e.python_version.as_deref().unwrap_or("?"),
            env_reason(facts)
        ),
        None if env_bad => format!(
            "{} is made again from {} (doctor: {})",
            venv.display(),
            base_python.display(),
            summary(verdicts, CheckId::Env)
        ),
        None => format!("{} (Python {})", venv.display(), minor_version(&version)),
    });
    s.fix = if macos {
        format!("{} -m venv {}", base_python.display(), venv.display())
    } else {
        format!(
            "sudo apt-get install -y python3-venv, or: rm -rf {}; then ttm setup",
            shell_quote(&venv.display().to_string())
        )
    };
    steps.push(s);
    let line = format!(
        "venv at {} (Python {} from {})",
        venv.display(),
        minor_version(&version),
        base_python.display()
    );
    EnvChoice {
        python: py,
        line,
        fingerprint: fp,
        recorded: minor_version(&version),
    }
}

/// The conda environment `opts.env_name`, with Python `conda_python`.
pub(super) fn conda(
    cx: &Cx,
    conda_python: &str,
    steps: &mut Vec<Step>,
    notes: &mut Vec<String>,
) -> EnvChoice {
    let (facts, verdicts, opts) = (cx.facts, cx.verdicts, cx.opts);
    let conda = facts.conda.as_ref();
    let conda_bin = conda
        .map(|c| c.path.clone())
        .unwrap_or_else(|| PathBuf::from("conda"));
    let existing = conda.and_then(|c| {
        c.envs
            .iter()
            .filter(|p| Some(p.as_path()) != c.base_prefix.as_deref())
            .find(|p| p.file_name().is_some_and(|n| n == opts.env_name.as_str()))
            .cloned()
    });
    // The doctor's verdict on this env: x86_64, or a python that
    // does not run, and it is removed and made again.
    let env_bad = existing.is_some()
        && facts
            .env
            .as_ref()
            .is_some_and(|e| e.flavor == EnvFlavor::Conda && Some(&e.prefix) == existing.as_ref())
        && fails(verdicts, CheckId::Env);
    let prefix = existing.clone().or_else(|| {
        conda
            .and_then(|c| c.base_prefix.as_ref())
            .map(|b| b.join("envs").join(&opts.env_name))
    });
    let py = match &prefix {
        Some(p) => EnvPython {
            program: p.join("bin/python"),
            pre_args: vec![],
            user_site: false,
        },
        None => EnvPython {
            program: conda_bin.clone(),
            pre_args: ["run", "--no-capture-output", "-n", &opts.env_name, "python"]
                .map(String::from)
                .to_vec(),
            user_site: false,
        },
    };
    let mut cmd = PlannedCmd::new(&conda_bin, &["create", "-n", &opts.env_name])
        .arg(format!("python={conda_python}"))
        .arg("-y")
        .timeout(HOUR);
    let wrong_platform =
        facts.apple_silicon && conda.and_then(|c| c.platform.as_deref()) == Some("osx-64");
    let mut actions = Vec::new();
    if env_bad {
        actions.push(Action::Run {
            cmd: PlannedCmd::new(&conda_bin, &["env", "remove", "-n", &opts.env_name, "-y"])
                .timeout(Duration::from_secs(600)),
            may_fail: false,
        });
    }
    if wrong_platform {
        cmd = cmd.env("CONDA_SUBDIR", "osx-arm64");
        notes.push("conda is the Intel (osx-64) one: the environment is created with CONDA_SUBDIR=osx-arm64 (and keeps it) so PyTorch can use the GPU".into());
    }
    actions.push(Action::Run {
        cmd,
        may_fail: false,
    });
    if wrong_platform {
        let var = "CONDA_SUBDIR=osx-arm64";
        actions.push(Action::Run {
            cmd: PlannedCmd::new(
                &conda_bin,
                &["env", "config", "vars", "set", var, "-n", &opts.env_name],
            )
            .timeout(Duration::from_secs(300)),
            may_fail: false,
        });
    }
    let fp = fingerprint(&["conda", &opts.env_name, &minor_version(conda_python)]);
    let mut s = step(
        StepId::Environment,
        "Python environment (conda)",
        existing.is_some() && !env_bad,
        actions,
    );
    s.fingerprint = fp.clone();
    s.checks = vec![CheckId::Env, CheckId::Conda];
    s.note = Some(match &existing {
        Some(p) if env_bad => format!(
            "{} at {} is removed and made again (doctor: {})",
            opts.env_name,
            p.display(),
            summary(verdicts, CheckId::Env)
        ),
        Some(p) => format!(
            "{} exists at {}, {}",
            opts.env_name,
            p.display(),
            env_reason(facts)
        ),
        None => format!("{} with Python {conda_python}", opts.env_name),
    });
    if env_bad {
        s.confirm = Some(format!(
            "Remove the conda environment {} ({}) and make it again?",
            opts.env_name,
            summary(verdicts, CheckId::Env)
        ));
    }
    s.fix = format!("conda create -n {} python={conda_python}", opts.env_name);
    steps.push(s);
    let line = format!(
        "conda environment {} (Python {conda_python})",
        opts.env_name
    );
    EnvChoice {
        python: py,
        line,
        fingerprint: fp,
        recorded: conda_python.to_owned(),
    }
}

/// No environment: packages go to the base Python's user site.
pub(super) fn none(base: &BasePython, steps: &mut Vec<Step>) -> EnvChoice {
    let (base_python, base_version) = (&base.path, &base.version);
    let py = EnvPython {
        program: base_python.clone(),
        pre_args: vec![],
        user_site: true,
    };
    let version = base_version
        .clone()
        .unwrap_or_else(|| BREW_DEFAULT_PYTHON.to_owned());
    let fp = fingerprint(&["none", &base_python.display().to_string()]);
    let mut s = step(
        StepId::Environment,
        "Python environment (none: your user site-packages)",
        true,
        vec![],
    );
    s.fingerprint = fp.clone();
    s.note = Some(format!(
        "packages go to {}'s user site (pip install --user)",
        base_python.display()
    ));
    steps.push(s);
    let line = format!(
        "no environment: {} with pip install --user",
        base_python.display()
    );
    EnvChoice {
        python: py,
        line,
        fingerprint: fp,
        recorded: minor_version(&version),
    }
}
