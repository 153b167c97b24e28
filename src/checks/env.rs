//! Where the packages go: conda, the project environment, the workspace.

use super::{is_mac, probe_trouble, CheckId, CheckResult};
use crate::env_kind::EnvKind;
use crate::install::{INSTALL_MINIFORGE_ANY, INSTALL_MINIFORGE_ARM64};
use crate::platform::{EnvFlavor, Facts};

pub fn check_conda(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::Conda;
    let wants_conda = f
        .env_expected
        .as_ref()
        .is_some_and(|e| e.kind == EnvKind::Conda && e.from_manifest);
    if let Some(t) = probe_trouble(f, ID, "conda", "conda") {
        return t;
    }
    let Some(c) = &f.conda else {
        return if wants_conda {
            CheckResult::fail(
                ID,
                "conda is not installed, and ttm.toml asks for a conda environment",
            )
            .fix(if is_mac(f) && f.apple_silicon {
                INSTALL_MINIFORGE_ARM64
            } else {
                INSTALL_MINIFORGE_ANY
            })
        } else {
            CheckResult::skip(ID, "conda is not installed (optional: a venv works too)")
        };
    };
    let version = c
        .version
        .as_deref()
        .map(|v| format!("conda {v}"))
        .unwrap_or_else(|| "conda".into());
    let platform = c.platform.as_deref().unwrap_or("unknown platform");
    let detail = format!(
        "{}; base {}",
        c.path.display(),
        c.base_prefix
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "unknown".into())
    );
    if f.apple_silicon && platform == "osx-64" {
        let project_conda = f
            .env_expected
            .as_ref()
            .is_none_or(|e| e.kind == EnvKind::Conda);
        let arm64_env = f.env.as_ref().is_some_and(|e| {
            e.flavor == EnvFlavor::Conda && e.python_machine.as_deref() == Some("arm64")
        });
        if !project_conda || arm64_env {
            return CheckResult::warn(
                ID,
                format!("{version} is for Intel Macs (osx-64) on Apple Silicon"),
            )
            .detail(detail)
            .detail(if arm64_env {
                "The project env is arm64 (made with CONDA_SUBDIR=osx-arm64); keep that variable for every env you make."
            } else {
                "The project does not use it; an env it made would run under Rosetta."
            })
            .fix(INSTALL_MINIFORGE_ARM64);
        }
        return CheckResult::fail(
            ID,
            format!("{version} is for Intel Macs (osx-64) on Apple Silicon"),
        )
        .detail(detail)
        .detail("Every package it installs runs under Rosetta, and PyTorch gets no MPS.")
        .detail("Or make each env with CONDA_SUBDIR=osx-arm64 (ttm setup does).")
        .fix(INSTALL_MINIFORGE_ARM64);
    }
    CheckResult::ok(ID, format!("{version} ({platform})")).detail(detail)
}

pub fn check_env(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::Env;
    let expected = f.env_expected.clone();
    let (kind, name) = expected
        .as_ref()
        .map(|e| (e.kind, e.name.as_str()))
        .unwrap_or((EnvKind::Conda, crate::manifest::DEFAULT_ENV_NAME));
    let why = expected
        .as_ref()
        .map(|e| format!("chosen: {}", e.reason))
        .unwrap_or_default();
    if kind == EnvKind::None {
        return CheckResult::skip(
            ID,
            "ttm.toml says no environment: packages go into python3 itself",
        );
    }
    let Some(e) = &f.env else {
        let what = if kind == EnvKind::Venv {
            let dir = expected
                .as_ref()
                .and_then(|e| e.prefix.clone())
                .unwrap_or_else(|| f.workspace.root.join(".venv"));
            format!("the venv {}", dir.display())
        } else {
            format!("the conda environment {name}")
        };
        let mut r = CheckResult::fail(ID, format!("{what} does not exist"))
            .detail(why)
            .fix(if kind == EnvKind::Venv {
                "ttm setup --env venv".to_owned()
            } else {
                format!("ttm setup --env conda --env-name {name}")
            });
        if kind == EnvKind::Conda && f.conda.is_none() {
            r = r.detail("conda is not installed; `ttm setup --env venv` makes a venv instead.");
        }
        return r.with_problems(f, "manifest");
    };
    let label = match e.flavor {
        EnvFlavor::Venv => format!("venv {}", e.prefix.display()),
        EnvFlavor::Conda => format!("conda env {}", e.name),
    };
    let flavor = if e.flavor == EnvFlavor::Venv {
        "venv"
    } else {
        "conda"
    };
    let mut r = match (&e.python_version, &e.python_machine) {
        (Some(v), Some(m)) if f.apple_silicon && m == "x86_64" => CheckResult::fail(
            ID,
            format!("{label} is x86_64 (Python {v}): it runs under Rosetta"),
        )
        .detail("Made by an Intel conda or Python; PyTorch in it cannot use MPS.")
        .fix(match e.flavor {
            EnvFlavor::Conda => format!(
                "conda env remove -n {} && CONDA_SUBDIR=osx-arm64 conda create -n {} python={}",
                e.name,
                e.name,
                crate::manifest::DEFAULT_PYTHON
            ),
            EnvFlavor::Venv => format!(
                "rm -rf {} && ttm setup --env venv",
                crate::system::shell_quote(&e.prefix.display().to_string())
            ),
        }),
        (Some(v), Some(m)) => CheckResult::ok(ID, format!("{label} (Python {v}, {m})")),
        _ => {
            let why_not = f
                .problems_of("env")
                .first()
                .map(|p| p.message.clone())
                .unwrap_or_else(|| format!("{} does not run", e.python.display()));
            CheckResult::fail(
                ID,
                format!("{label}: its python could not be asked about itself"),
            )
            .detail(why_not)
            .detail("ttm setup makes the environment again.")
            .fix(format!("ttm setup --env {flavor}"))
        }
    };
    r = r.detail(why).detail(e.python.display().to_string());
    r.with_problems(f, "manifest")
}

pub fn check_workspace(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::Workspace;
    let w = &f.workspace;
    let root = w.root.display().to_string();
    if let Some(b) = &w.blocked {
        return CheckResult::fail(ID, format!("cannot be used: {b}"))
            .detail("Move the file away, or give a folder: --workspace PATH.");
    }
    if !w.exists {
        return CheckResult::warn(ID, format!("{root} does not exist yet")).fix("ttm setup");
    }
    if !w.missing_folders.is_empty() {
        return CheckResult::warn(
            ID,
            format!(
                "{root} lacks {}",
                w.missing_folders
                    .iter()
                    .map(|m| format!("{m}/"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .fix(format!(
            "mkdir -p {}",
            w.missing_folders
                .iter()
                .map(|m| crate::system::shell_quote(&w.root.join(m).display().to_string()))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let mut r = CheckResult::ok(ID, root);
    r = r.detail(format!(
        "ttm.toml {}, requirements.txt {}",
        if w.has_manifest { "present" } else { "absent" },
        if w.has_requirements {
            "present"
        } else {
            "absent"
        }
    ));
    r
}
