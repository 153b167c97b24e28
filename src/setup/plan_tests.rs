//! `plan_setup` on machines built as values: a fresh Mac, a ready Apple
//! Silicon Mac with conda, Rosetta, Intel Homebrew, Linux without Python.

use std::path::{Path, PathBuf};

use super::observe::{FoundPython, Seen, SeenFile};
use super::plan::*;
use super::requirements::render_requirements;
use super::state::fingerprint;
use crate::checks::CheckId;
use crate::env_kind::EnvKind;
use crate::install::HOMEBREW_INSTALL_URL;
use crate::platform::*;

/// The plan over the doctor's own verdicts on these facts.
fn plan_setup(facts: &Facts, opts: &Options, seen: &Seen) -> SetupPlan {
    super::plan::plan_setup(facts, &crate::checks::run_all(facts), opts, seen)
}

fn facts(os: Os) -> Facts {
    Facts {
        os,
        arch: Some("arm64".into()),
        apple_silicon: os == Os::Macos,
        ..Facts::default()
    }
}

fn ready_mac() -> Facts {
    let mut f = facts(Os::Macos);
    f.xcode_clt = Some("/Library/Developer/CommandLineTools".into());
    f.homebrew = Some(Homebrew {
        path: "/opt/homebrew/bin/brew".into(),
        prefix: "/opt/homebrew".into(),
        version: Some("4.6.18".into()),
    });
    f.git = Some(Tool {
        path: "/usr/bin/git".into(),
        version: None,
    });
    f.python = Some(Python {
        path: "/opt/homebrew/bin/python3".into(),
        version: "3.12.4".into(),
        machine: "arm64".into(),
        apple_stub: false,
        in_env: false,
    });
    f
}

fn opts() -> Options {
    Options {
        workspace: "/h/ws".into(),
        home: "/h".into(),
        env: EnvKind::Venv,
        env_name: "torch_metal".into(),
        venv: "/h/ws/.venv".into(),
        python: None,
        extra: vec![],
        notebook: true,
        selftest: true,
        locked: None,
        assume_yes: true,
        reinstall: false,
    }
}

fn fresh_seen() -> Seen {
    Seen {
        missing_folders: ["notebooks", "data", "models", "logs"]
            .map(String::from)
            .to_vec(),
        ..Seen::default()
    }
}

fn ids(plan: &SetupPlan) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.id.as_str()).collect()
}

fn lines(plan: &SetupPlan, id: StepId) -> Vec<String> {
    plan.step(id)
        .unwrap()
        .actions
        .iter()
        .map(Action::describe)
        .collect()
}

#[test]
fn a_fresh_mac_gets_every_step_in_the_books_order() {
    let mut f = facts(Os::Macos);
    f.python = Some(Python {
        path: "/usr/bin/python3".into(),
        version: "3.9.6".into(),
        machine: "arm64".into(),
        apple_stub: true,
        in_env: false,
    });
    let seen = Seen {
        python3: Some(FoundPython {
            path: "/usr/bin/python3".into(),
            version: "3.9.6".into(),
        }),
        ..fresh_seen()
    };
    let plan = plan_setup(&f, &opts(), &seen);
    assert_eq!(
        ids(&plan),
        [
            "xcode-clt",
            "homebrew",
            "brew-shellenv",
            "brew-packages",
            "workspace",
            "environment",
            "requirements",
            "pip-install",
            "mps-fallback",
            "torch-check",
            "selftest",
            "lock",
            "manifest"
        ]
    );
    assert!(plan.steps.iter().all(|s| !s.satisfied));
    assert!(plan.blockers.is_empty());
    assert_eq!(
        lines(&plan, StepId::XcodeClt)[0],
        "$ xcode-select --install"
    );
    let brew = lines(&plan, StepId::Homebrew);
    assert!(brew[0].contains(HOMEBREW_INSTALL_URL), "{brew:?}");
    assert_eq!(
        brew[1],
        "$ NONINTERACTIVE=1 /bin/bash /h/ws/.ttm/homebrew-install.sh"
    );
    assert!(plan
        .step(StepId::Homebrew)
        .unwrap()
        .confirm
        .as_deref()
        .unwrap()
        .contains(HOMEBREW_INSTALL_URL));
    assert!(lines(&plan, StepId::BrewShellenv)[0]
        .contains("eval \"$(/opt/homebrew/bin/brew shellenv)\""));
    // git comes with the command line tools; Python from Homebrew, not Apple's stub.
    assert_eq!(
        lines(&plan, StepId::BrewPackages),
        ["$ /opt/homebrew/bin/brew install python@3.12"]
    );
    assert_eq!(
        lines(&plan, StepId::Environment),
        ["$ /opt/homebrew/bin/python3.12 -m venv --prompt torch_metal /h/ws/.venv"]
    );
    assert!(lines(&plan, StepId::MpsFallback)[0].contains("/h/ws/.venv/bin/activate"));
    assert!(lines(&plan, StepId::MpsFallback)[0].contains("export PYTORCH_ENABLE_MPS_FALLBACK=1"));
    assert_eq!(plan.manifest.environment.python, "3.12");
}

#[test]
fn without_yes_homebrews_installer_gets_the_terminal() {
    let plan = plan_setup(
        &facts(Os::Macos),
        &Options {
            assume_yes: false,
            ..opts()
        },
        &fresh_seen(),
    );
    let Action::Run { cmd, .. } = &plan.step(StepId::Homebrew).unwrap().actions[1] else {
        panic!()
    };
    assert!(cmd.interactive && cmd.env.is_empty());
}

#[test]
fn a_ready_mac_with_conda_uses_conda_and_sets_the_fallback_there() {
    let mut f = ready_mac();
    f.conda = Some(Conda {
        path: "/opt/homebrew/Caskroom/miniforge/base/bin/conda".into(),
        version: Some("24.7.1".into()),
        platform: Some("osx-arm64".into()),
        envs: vec![],
        base_prefix: Some("/opt/homebrew/Caskroom/miniforge/base".into()),
    });
    let seen = Seen {
        zprofile: Some("eval \"$(/opt/homebrew/bin/brew shellenv)\"\n".into()),
        ..fresh_seen()
    };
    let plan = plan_setup(
        &f,
        &Options {
            env: EnvKind::Conda,
            ..opts()
        },
        &seen,
    );
    let done: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.satisfied)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        done,
        ["xcode-clt", "homebrew", "brew-shellenv", "brew-packages"]
    );
    assert_eq!(
        lines(&plan, StepId::Environment),
        ["$ /opt/homebrew/Caskroom/miniforge/base/bin/conda create -n torch_metal python=3.10 -y"]
    );
    assert_eq!(
        lines(&plan, StepId::MpsFallback),
        ["$ /opt/homebrew/Caskroom/miniforge/base/bin/conda env config vars set PYTORCH_ENABLE_MPS_FALLBACK=1 -n torch_metal"]
    );
    assert!(lines(&plan, StepId::PipInstall)[0]
        .contains("/opt/homebrew/Caskroom/miniforge/base/envs/torch_metal/bin/python -m pip install -r /h/ws/requirements.txt"));

    // Once the env exists with the variable set, those steps are satisfied.
    let env = PathBuf::from("/opt/homebrew/Caskroom/miniforge/base/envs/torch_metal");
    f.conda.as_mut().unwrap().envs = vec![env.clone()];
    f.env = Some(ProjectEnv {
        flavor: EnvFlavor::Conda,
        name: "torch_metal".into(),
        python: env.join("bin/python"),
        prefix: env,
        python_version: Some("3.10.16".into()),
        python_machine: Some("arm64".into()),
    });
    let seen = Seen {
        conda_env_state: Some("{\"env_vars\": {\"PYTORCH_ENABLE_MPS_FALLBACK\": \"1\"}}".into()),
        ..seen
    };
    let plan = plan_setup(
        &f,
        &Options {
            env: EnvKind::Conda,
            ..opts()
        },
        &seen,
    );
    assert!(plan.step(StepId::Environment).unwrap().satisfied);
    assert!(plan.step(StepId::MpsFallback).unwrap().satisfied);
}

#[test]
fn intel_conda_on_apple_silicon_is_asked_for_arm64_packages() {
    let mut f = ready_mac();
    f.conda = Some(Conda {
        path: "/usr/local/anaconda3/bin/conda".into(),
        version: None,
        platform: Some("osx-64".into()),
        envs: vec![],
        base_prefix: None,
    });
    let plan = plan_setup(
        &f,
        &Options {
            env: EnvKind::Conda,
            ..opts()
        },
        &fresh_seen(),
    );
    assert!(lines(&plan, StepId::Environment)[0]
        .starts_with("$ CONDA_SUBDIR=osx-arm64 /usr/local/anaconda3/bin/conda create"));
    // No prefix known: the env's python runs through `conda run`.
    assert!(lines(&plan, StepId::PipInstall)[0]
        .contains("conda run --no-capture-output -n torch_metal python -m pip install"));
    assert!(plan.notes.iter().any(|n| n.contains("osx-64")));
}

#[test]
fn rosetta_blocks_and_intel_homebrew_gets_a_native_one_beside_it() {
    let mut f = facts(Os::Macos);
    f.rosetta = Some(true);
    let plan = plan_setup(&f, &opts(), &fresh_seen());
    assert!(plan.blockers[0].message.contains("Rosetta"));
    assert_eq!(plan.blockers[0].check, Some(CheckId::Rosetta));

    let mut f = ready_mac();
    f.homebrew = Some(Homebrew {
        path: "/usr/local/bin/brew".into(),
        prefix: "/usr/local".into(),
        version: None,
    });
    f.python = None;
    let plan = plan_setup(&f, &opts(), &fresh_seen());
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    let brew = plan.step(StepId::Homebrew).unwrap();
    assert!(!brew.satisfied && brew.checks.contains(&CheckId::Homebrew));
    assert_eq!(
        lines(&plan, StepId::Homebrew)[1],
        "$ NONINTERACTIVE=1 /usr/bin/arch -arm64 /bin/bash /h/ws/.ttm/homebrew-install.sh"
    );
    assert_eq!(
        lines(&plan, StepId::BrewPackages),
        ["$ /opt/homebrew/bin/brew install python@3.12"]
    );
}

#[test]
fn linux_without_python_or_git_says_which_apt_command() {
    let plan = plan_setup(&facts(Os::Linux), &opts(), &fresh_seen());
    assert_eq!(ids(&plan)[0], "system-packages");
    assert!(!ids(&plan).contains(&"homebrew") && !ids(&plan).contains(&"mps-fallback"));
    let s = plan.step(StepId::SystemPackages).unwrap();
    assert!(!s.satisfied);
    assert_eq!(s.fix, "sudo apt-get install -y python3 python3-venv git");
    let plan = plan_setup(
        &facts(Os::Linux),
        &Options {
            python: Some("3.12".into()),
            ..opts()
        },
        &Seen {
            git_on_path: true,
            ..fresh_seen()
        },
    );
    assert_eq!(
        plan.step(StepId::SystemPackages).unwrap().fix,
        "sudo apt-get install -y python3.12 python3.12-venv"
    );
}

#[test]
fn a_version_asked_for_prefers_python3_when_it_matches_else_python3_x() {
    let linux = |python: &str, versioned: Option<&str>| {
        let seen = Seen {
            python3: Some(FoundPython {
                path: "/usr/bin/python3".into(),
                version: "3.11.2".into(),
            }),
            python_versioned: versioned.map(PathBuf::from),
            git_on_path: true,
            ..fresh_seen()
        };
        plan_setup(
            &facts(Os::Linux),
            &Options {
                python: Some(python.into()),
                ..opts()
            },
            &seen,
        )
    };
    assert!(lines(&linux("3.11", None), StepId::Environment)[0]
        .starts_with("$ /usr/bin/python3 -m venv"));
    assert!(lines(
        &linux("3.12", Some("/usr/bin/python3.12")),
        StepId::Environment
    )[0]
    .starts_with("$ /usr/bin/python3.12 -m venv"));
    assert!(
        !linux("3.12", None)
            .step(StepId::SystemPackages)
            .unwrap()
            .satisfied
    );
}

#[test]
fn finished_steps_stay_finished_until_their_inputs_change() {
    // What the doctor sees once a run has finished: nothing it fails.
    let mut f = facts(Os::Linux);
    f.python = Some(Python {
        path: "/usr/bin/python3".into(),
        version: "3.11.2".into(),
        machine: "x86_64".into(),
        apple_stub: false,
        in_env: false,
    });
    f.git = Some(Tool {
        path: "/usr/bin/git".into(),
        version: None,
    });
    f.env = Some(ProjectEnv {
        flavor: EnvFlavor::Venv,
        name: ".venv".into(),
        prefix: "/h/ws/.venv".into(),
        python: "/h/ws/.venv/bin/python".into(),
        python_version: Some("3.11.2".into()),
        python_machine: Some("x86_64".into()),
    });
    f.torch = Some(Torch {
        version: Some("2.9.1".into()),
        error: None,
        installed: Some(true),
        numpy: None,
        mps_built: Some(false),
        mps_available: Some(false),
        cuda_built: Some(false),
        cuda_available: Some(false),
        cuda_version: None,
        device_name: None,
    });
    let base = Seen {
        python3: Some(FoundPython {
            path: "/usr/bin/python3".into(),
            version: "3.11.2".into(),
        }),
        git_on_path: true,
        venv_python_exists: true,
        lock_exists: true,
        ..Seen::default()
    };
    // Record every fingerprint as done, as a finished run would.
    let first = plan_setup(&f, &opts(), &base);
    let mut seen = base.clone();
    for s in &first.steps {
        seen.state
            .steps
            .insert(s.id.as_str().into(), s.fingerprint.clone());
    }
    let names: Vec<String> = crate::manifest::BASE_PACKAGES
        .iter()
        .map(|p| p.to_string())
        .collect();
    let rendered = render_requirements(&names, &[], true).unwrap();
    seen.requirements = SeenFile {
        current: Some(rendered.clone().into_bytes()),
        record: Some(rendered.into_bytes()),
        beside: None,
    };
    let text = first.manifest.to_toml();
    seen.manifest = SeenFile {
        current: Some(text.clone().into_bytes()),
        record: Some(text.into_bytes()),
        beside: None,
    };
    let again = plan_setup(&f, &opts(), &seen);
    assert!(
        again.nothing_to_do(),
        "{:?}",
        again
            .steps
            .iter()
            .filter(|s| !s.satisfied)
            .map(|s| s.id)
            .collect::<Vec<_>>()
    );

    // The venv deleted: made again, and everything built on it redone.
    let gone = Seen {
        venv_python_exists: false,
        ..seen.clone()
    };
    let plan = plan_setup(&f, &opts(), &gone);
    let todo: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| !s.satisfied)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(todo, ["environment", "pip-install", "torch-check", "lock"]);

    // A new package: requirements, pip, the check, the lock and the manifest redo; the venv does not.
    let more = Options {
        extra: vec!["pandas".into()],
        ..opts()
    };
    let plan = plan_setup(&f, &more, &seen);
    let todo: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| !s.satisfied)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        todo,
        [
            "requirements",
            "pip-install",
            "torch-check",
            "lock",
            "manifest"
        ]
    );
}

#[test]
fn a_requirements_file_the_user_changed_is_kept_and_installed() {
    let seen = Seen {
        requirements: SeenFile {
            current: Some(b"torch\nmy-lib\n".to_vec()),
            record: Some(b"torch\n".to_vec()),
            beside: None,
        },
        ..fresh_seen()
    };
    let plan = plan_setup(&facts(Os::Linux), &opts(), &seen);
    assert_eq!(
        lines(&plan, StepId::Requirements),
        ["write /h/ws/requirements.txt.new"]
    );
    assert!(plan.notes.iter().any(|n| n.contains("yours is kept")));
    let expected = fingerprint(&[
        plan.step(StepId::Environment)
            .unwrap()
            .fingerprint
            .as_bytes(),
        b"torch\nmy-lib\n",
    ]);
    assert_eq!(plan.step(StepId::PipInstall).unwrap().fingerprint, expected);
}

#[test]
fn locked_versions_are_installed_from_the_lock() {
    let o = Options {
        locked: Some(Locked {
            path: "/old/requirements.lock".into(),
            lines: vec!["torch==2.5.1".into()],
            pinned: false,
        }),
        ..opts()
    };
    let plan = plan_setup(&facts(Os::Linux), &o, &fresh_seen());
    assert!(
        lines(&plan, StepId::PipInstall)[0].ends_with("-m pip install -r /old/requirements.lock")
    );
}

#[test]
fn env_none_installs_into_the_user_site() {
    let seen = Seen {
        python3: Some(FoundPython {
            path: "/opt/homebrew/bin/python3".into(),
            version: "3.12.4".into(),
        }),
        ..fresh_seen()
    };
    let plan = plan_setup(
        &ready_mac(),
        &Options {
            env: EnvKind::None,
            ..opts()
        },
        &seen,
    );
    assert!(plan.step(StepId::Environment).unwrap().satisfied);
    assert!(lines(&plan, StepId::PipInstall)[0]
        .ends_with("/opt/homebrew/bin/python3 -m pip install -r /h/ws/requirements.txt --user"));
    assert!(lines(&plan, StepId::Lock)[0].contains("pip freeze --user"));
    assert!(lines(&plan, StepId::MpsFallback)[0]
        .contains(&Path::new("/h/.zprofile").display().to_string()));
}

#[test]
fn the_shellenv_line_is_added_once() {
    let block =
        format!("{BLOCK_START}\neval \"$(/opt/homebrew/bin/brew shellenv)\"\n{BLOCK_END}\n");
    assert!(has_block(
        Some(&block),
        "eval \"$(/opt/homebrew/bin/brew shellenv)\""
    ));
    assert!(has_block(
        Some("eval \"$(/opt/homebrew/bin/brew shellenv)\"\n"),
        "eval \"$(/opt/homebrew/bin/brew shellenv)\""
    ));
    assert!(!has_block(
        Some("# eval \"$(/opt/homebrew/bin/brew shellenv)\" someday\n"),
        "eval \"$(/opt/homebrew/bin/brew shellenv)\""
    ));
    assert!(!has_block(None, "x"));
}

#[test]
fn a_requirements_render_that_fails_blocks_the_plan() {
    let mut blockers = Vec::new();
    let text = super::plan::rendered_or_blocked(
        Err(crate::error::Error::failed(
            "cannot render requirements.txt: bad template",
        )),
        &mut blockers,
    );
    assert!(text.is_empty());
    assert_eq!(blockers.len(), 1);
    assert!(
        blockers[0].message.contains("requirements.txt"),
        "{:?}",
        blockers[0]
    );
    assert!(blockers[0].fix.contains("ttm doctor --report"));
}
