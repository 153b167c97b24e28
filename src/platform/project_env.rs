//! conda, the project environment and PyTorch inside it.
//!
//! Which environment is the project's, first match wins:
//! 1. the one `ttm.toml` names (when setup wrote it or the user edited it);
//! 2. an activated one: `VIRTUAL_ENV` (a venv), `CONDA_PREFIX` (a conda env, not base);
//! 3. `<workspace>/.venv` (the venv ttm makes);
//! 4. `<workspace>/venv` (the book's `python3 -m venv venv`);
//! 5. the conda env `torch_metal` (the book's `conda create -n torch_metal`);
//! 6. none exists yet: the conda env `torch_metal` where conda is installed,
//!    else the venv `<workspace>/.venv` (what setup makes).
//!
//! PyTorch is asked about by that environment's python with
//! `scripts/torch_probe.py`; the interpreter facts and the torch probe run in
//! parallel. A probe that fails is one line naming the probe, never its text.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::probe::{Detected, Probe, ProbeFailure, Problem};
use super::probe_cache;
use super::python::{query, run_script};
use super::{Conda, EnvFlavor, ExpectedEnv, ProjectEnv, Torch};
use crate::env_kind::EnvKind;
use crate::env_vars;
use crate::manifest::{self, DEFAULT_ENV_NAME};
use crate::system::{last_json_line, Cmd};
use crate::workspace::Workspace;

pub const TORCH_PROBE_SCRIPT: &str = include_str!("../../scripts/torch_probe.py");

pub struct ProjectFacts {
    pub conda: Option<Conda>,
    pub env: Option<ProjectEnv>,
    pub torch: Option<Torch>,
    pub expected: Option<ExpectedEnv>,
    pub problems: Vec<Problem>,
    /// The torch answer was kept from a run at this time (the probe cache).
    pub torch_kept_since: Option<u64>,
}

pub fn detect(probe: &Probe, ws: &Workspace) -> ProjectFacts {
    let mut problems = Vec::new();
    let conda = detect_conda(probe).take(&mut problems, &mut Vec::new());
    let (expected, env) = choose_env(probe, ws, conda.as_ref(), &mut problems);
    let python: Option<PathBuf> = match (&env, expected.kind) {
        (Some(e), _) => Some(e.python.clone()),
        (None, EnvKind::None) => probe.sys.which("python3"),
        _ => None,
    };
    let mut env = env;
    let mut torch = None;
    let mut torch_kept_since = None;
    if let Some(python) = python {
        let (info, probed) = std::thread::scope(|s| {
            let info = s.spawn(|| env.is_some().then(|| query(probe, &python)));
            let torch = s.spawn(|| ask_torch(probe, &python));
            (info.join().ok().flatten(), torch.join().ok())
        });
        match (info, env.as_mut()) {
            (Some(Ok(info)), Some(e)) => {
                e.python_version = Some(info.version);
                e.python_machine = Some(info.machine);
            }
            (Some(Err(ProbeFailure::Failed(msg))), _) => problems.push(Problem::new("env", msg)),
            (Some(Err(_)), Some(e)) => problems.push(Problem::new(
                "env",
                format!("{} does not run", e.python.display()),
            )),
            _ => {}
        }
        let probed = probed.map(|(answer, kept_since)| {
            torch_kept_since = kept_since;
            answer
        });
        match probed {
            Some(Ok(text)) => match parse_torch_probe(&text) {
                Ok(t) => torch = Some(t),
                Err(msg) => problems.push(Problem::new("torch", format!("the probe {msg}"))),
            },
            Some(Err(ProbeFailure::Failed(msg))) => {
                // It ran and died (a crash while importing torch): torch is
                // broken, and the last line it printed says how.
                if let Some(last) = exit_tail(&msg) {
                    torch = Some(Torch::broken(last));
                } else if msg.contains(" was killed by a signal") {
                    torch = Some(Torch::broken("importing torch crashed python".into()));
                }
                problems.push(Problem::new("torch", msg));
            }
            Some(Err(_)) => problems.push(Problem::new(
                "torch",
                format!("{} does not run", python.display()),
            )),
            None => {}
        }
    }
    ProjectFacts {
        conda,
        env,
        torch,
        expected: Some(expected),
        problems,
        torch_kept_since,
    }
}

/// The torch probe's answer: the kept one while nothing it depends on has
/// changed (with when it was asked), else a fresh one, kept when it parses.
fn ask_torch(probe: &Probe, python: &Path) -> (Result<String, ProbeFailure>, Option<u64>) {
    if !probe.kept_answers {
        return (run_script(probe, python, TORCH_PROBE_SCRIPT), None);
    }
    let kept = probe_cache::slot(probe.sys, python, TORCH_PROBE_SCRIPT)
        .and_then(|slot| probe_cache::load(probe.sys, &slot));
    if let Some(kept) = kept {
        return (Ok(kept.answer), Some(kept.asked_at));
    }
    let answer = run_script(probe, python, TORCH_PROBE_SCRIPT);
    if let Ok(text) = &answer {
        // Keyed after the probe ran: the first `import torch` writes Python's
        // byte-code caches, which the key sees.
        let slot = probe_cache::slot(probe.sys, python, TORCH_PROBE_SCRIPT);
        if let (Some(slot), true) = (slot, parse_torch_probe(text).is_ok()) {
            // Not kept is only slower next time; the probe itself answered.
            let _ = probe_cache::store(probe.sys, &slot, text);
        }
    }
    (answer, None)
}

/// "`x` exited with status 1: ImportError: …" → "ImportError: …".
fn exit_tail(msg: &str) -> Option<String> {
    let (_, rest) = msg.split_once(" exited with status ")?;
    let (_, tail) = rest.split_once(": ")?;
    Some(tail.trim().to_owned())
}

impl Torch {
    fn broken(error: String) -> Torch {
        Torch {
            version: None,
            error: Some(error),
            installed: Some(true),
            numpy: None,
            mps_built: None,
            mps_available: None,
            cuda_built: None,
            cuda_available: None,
            cuda_version: None,
            device_name: None,
        }
    }
}

/// The venv folder in the workspace: `.venv` (ttm's), else `venv` (the
/// book's) where only that one exists; `.venv` when neither does.
pub fn workspace_venv(ws: &Workspace) -> PathBuf {
    let book = ws.root().join("venv");
    if !venv_python(&ws.venv()).is_file() && venv_python(&book).is_file() {
        book
    } else {
        ws.venv()
    }
}

fn chosen(kind: EnvKind, name: &str, reason: String, prefix: Option<PathBuf>) -> ExpectedEnv {
    ExpectedEnv {
        kind,
        name: name.to_owned(),
        from_manifest: false,
        reason,
        prefix,
    }
}

/// The project environment, and the env itself where it exists (module docs: the order).
fn choose_env(
    probe: &Probe,
    ws: &Workspace,
    conda: Option<&Conda>,
    problems: &mut Vec<Problem>,
) -> (ExpectedEnv, Option<ProjectEnv>) {
    let sys = probe.sys;
    match manifest::chosen(sys, ws) {
        Ok(Some(m)) => {
            let name = m.environment.name;
            let mut e = match m.environment.kind {
                EnvKind::Conda => {
                    let env = conda.and_then(|c| conda_env(c, &name));
                    let prefix = env.as_ref().map(|e| e.prefix.clone());
                    (
                        chosen(EnvKind::Conda, &name, "named in ttm.toml".into(), prefix),
                        env,
                    )
                }
                EnvKind::Venv => {
                    let dir = workspace_venv(ws);
                    let env = venv_env(&dir);
                    (
                        chosen(
                            EnvKind::Venv,
                            &folder_name(&dir),
                            "named in ttm.toml".into(),
                            Some(dir),
                        ),
                        env,
                    )
                }
                EnvKind::None => (
                    chosen(EnvKind::None, &name, "named in ttm.toml".into(), None),
                    None,
                ),
            };
            e.0.from_manifest = true;
            return e;
        }
        Ok(None) => {}
        Err(e) => problems.push(Problem::new("manifest", e.to_string())),
    }
    if let Some(dir) = sys.var_non_empty(env_vars::VIRTUAL_ENV).map(PathBuf::from) {
        if let Some(env) = venv_env(&dir) {
            let why = format!(
                "activated in this shell ({}={})",
                env_vars::VIRTUAL_ENV,
                dir.display()
            );
            return (chosen(EnvKind::Venv, &env.name, why, Some(dir)), Some(env));
        }
    }
    if let (Some(c), Some(prefix)) = (conda, sys.var_non_empty(env_vars::CONDA_PREFIX)) {
        let prefix = PathBuf::from(prefix);
        let is_base = c.base_prefix.as_deref() == Some(prefix.as_path());
        if let (false, Some(name)) = (is_base, prefix.file_name()) {
            let name = name.to_string_lossy().into_owned();
            if let Some(env) = conda_env(c, &name).filter(|e| e.prefix == prefix) {
                let why = format!(
                    "activated in this shell ({}={})",
                    env_vars::CONDA_PREFIX,
                    prefix.display()
                );
                return (chosen(EnvKind::Conda, &name, why, Some(prefix)), Some(env));
            }
        }
    }
    for (dir, why) in [
        (ws.venv(), ".venv in the workspace (the venv ttm makes)"),
        (
            ws.root().join("venv"),
            "the book's venv (python3 -m venv venv), in the workspace",
        ),
    ] {
        if let Some(env) = venv_env(&dir) {
            return (
                chosen(EnvKind::Venv, &env.name, why.into(), Some(dir)),
                Some(env),
            );
        }
    }
    if let Some(env) = conda.and_then(|c| conda_env(c, DEFAULT_ENV_NAME)) {
        let why = format!("the book's conda env (conda create -n {DEFAULT_ENV_NAME})");
        return (
            chosen(
                EnvKind::Conda,
                DEFAULT_ENV_NAME,
                why,
                Some(env.prefix.clone()),
            ),
            Some(env),
        );
    }
    if conda.is_some() {
        let why = "none exists yet; conda is installed, so setup makes the book's conda env".into();
        (chosen(EnvKind::Conda, DEFAULT_ENV_NAME, why, None), None)
    } else {
        let why = "none exists yet; setup makes a venv in the workspace".into();
        (chosen(EnvKind::Venv, ".venv", why, Some(ws.venv())), None)
    }
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

fn venv_python(prefix: &Path) -> PathBuf {
    prefix.join("bin").join("python")
}

fn venv_env(prefix: &Path) -> Option<ProjectEnv> {
    let python = venv_python(prefix);
    python.is_file().then(|| ProjectEnv {
        flavor: EnvFlavor::Venv,
        name: folder_name(prefix),
        prefix: prefix.to_path_buf(),
        python,
        python_version: None,
        python_machine: None,
    })
}

fn conda_env(conda: &Conda, name: &str) -> Option<ProjectEnv> {
    let prefix = conda
        .envs
        .iter()
        .filter(|p| Some(p.as_path()) != conda.base_prefix.as_deref())
        .find(|p| p.file_name().is_some_and(|n| n == name))?
        .clone();
    Some(ProjectEnv {
        flavor: EnvFlavor::Conda,
        name: name.to_owned(),
        python: venv_python(&prefix),
        prefix,
        python_version: None,
        python_machine: None,
    })
}

fn detect_conda(probe: &Probe) -> Detected<Conda> {
    let sys = probe.sys;
    let from_env = sys
        .var_non_empty(crate::env_vars::CONDA_EXE)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_file());
    let path = from_env.or_else(|| sys.which("conda")).or_else(|| {
        // Installed but not initialised in this shell: the installers' default places.
        let home = sys.home().ok()?;
        let mut places: Vec<PathBuf> = ["miniforge3", "miniconda3", "anaconda3", "mambaforge"]
            .iter()
            .map(|d| home.join(d).join("bin").join("conda"))
            .collect();
        places.push(PathBuf::from("/opt/anaconda3/bin/conda"));
        places.push(PathBuf::from(
            "/opt/homebrew/Caskroom/miniforge/base/bin/conda",
        ));
        places.into_iter().find(|p| p.is_file())
    });
    let Some(path) = path else {
        return Detected::none();
    };
    match probe.text(Cmd::new(&path).args(["info", "--json"])) {
        Ok(text) => match parse_conda_info(&text) {
            Ok(info) => Detected::found(Conda {
                path,
                version: info.conda_version,
                platform: info.platform,
                envs: info.envs,
                base_prefix: info.root_prefix,
            }),
            Err(msg) => Detected::failed(
                "conda",
                "conda",
                ProbeFailure::Failed(format!("`conda info --json` {msg}")),
            ),
        },
        Err(ProbeFailure::NotFound) => Detected::none(),
        Err(f) => Detected::failed("conda", "conda", f),
    }
}

/// The keys of `conda info --json` that ttm reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CondaInfo {
    #[serde(default)]
    pub conda_version: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub envs: Vec<PathBuf>,
    #[serde(default)]
    pub root_prefix: Option<PathBuf>,
}

/// Parse `conda info --json`.
pub fn parse_conda_info(text: &str) -> Result<CondaInfo, String> {
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("printed unreadable JSON ({e})"))?;
    if !v.is_object() {
        return Err("printed JSON that is not an object".into());
    }
    serde_json::from_value(v).map_err(|e| format!("printed unexpected JSON ({e})"))
}

#[derive(Debug, Deserialize)]
struct TorchProbeReply {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    installed: Option<bool>,
    #[serde(default)]
    numpy: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    mps_built: Option<bool>,
    #[serde(default)]
    mps_available: Option<bool>,
    #[serde(default)]
    cuda_built: Option<bool>,
    #[serde(default)]
    cuda_available: Option<bool>,
    #[serde(default)]
    cuda_version: Option<String>,
    #[serde(default)]
    device_name: Option<String>,
}

/// Parse what `scripts/torch_probe.py` prints.
pub fn parse_torch_probe(text: &str) -> Result<Torch, String> {
    let line = last_json_line(text).ok_or_else(|| "printed no JSON".to_owned())?;
    let p: TorchProbeReply =
        serde_json::from_str(line).map_err(|e| format!("printed unreadable JSON ({e})"))?;
    Ok(Torch {
        version: if p.ok { p.version } else { None },
        error: if p.ok {
            None
        } else {
            Some(p.error.unwrap_or_else(|| "import torch failed".into()))
        },
        installed: p.installed,
        numpy: p.numpy,
        mps_built: p.mps_built,
        mps_available: p.mps_available,
        cuda_built: p.cuda_built,
        cuda_available: p.cuda_available,
        cuda_version: p.cuda_version,
        device_name: p.device_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn conda_info_keys() {
        let text = r#"{"conda_version": "24.11.3", "platform": "osx-arm64",
            "envs": ["/Users/zzz/miniforge3", "/Users/zzz/miniforge3/envs/torch_metal"],
            "root_prefix": "/Users/zzz/miniforge3", "channels": []}"#;
        let info = parse_conda_info(text).unwrap();
        assert_eq!(info.platform.as_deref(), Some("osx-arm64"));
        assert_eq!(info.envs.len(), 2);
        let conda = Conda {
            path: "/x".into(),
            version: info.conda_version,
            platform: info.platform,
            envs: info.envs,
            base_prefix: info.root_prefix,
        };
        let env = conda_env(&conda, "torch_metal").unwrap();
        assert_eq!(
            env.python,
            Path::new("/Users/zzz/miniforge3/envs/torch_metal/bin/python")
        );
        assert!(
            conda_env(&conda, "miniforge3").is_none(),
            "base is not a project env"
        );
        assert!(parse_conda_info("[1]").is_err());
        assert!(parse_conda_info("CondaError: oops").is_err());
    }

    #[test]
    fn torch_probe_answers() {
        let t = parse_torch_probe(r#"{"ok": true, "version": "2.5.1", "mps_built": true, "mps_available": true, "cuda_built": false, "cuda_available": false, "cuda_version": null}"#).unwrap();
        assert_eq!(t.version.as_deref(), Some("2.5.1"));
        assert_eq!(t.mps_available, Some(true));
        let t = parse_torch_probe(
            r#"{"ok": false, "error": "ModuleNotFoundError: No module named 'torch'"}"#,
        )
        .unwrap();
        assert!(t.version.is_none());
        assert!(t.error.unwrap().contains("No module named"));
        assert!(parse_torch_probe("Segmentation fault").is_err());
        assert!(TORCH_PROBE_SCRIPT.starts_with("# ttm:torch-probe"));
    }

    #[test]
    fn the_workspace_venv_is_dot_venv_else_the_books() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path());
        assert_eq!(workspace_venv(&ws), ws.venv(), "neither: the one ttm makes");
        let make = |d: &str| {
            std::fs::create_dir_all(dir.path().join(d).join("bin")).unwrap();
            std::fs::write(dir.path().join(d).join("bin/python"), "").unwrap();
        };
        make("venv");
        assert_eq!(workspace_venv(&ws), dir.path().join("venv"));
        make(".venv");
        assert_eq!(workspace_venv(&ws), ws.venv());
    }

    #[test]
    fn a_probe_that_died_leaves_its_last_line() {
        assert_eq!(
            exit_tail("`/v/bin/python -I -B -c <the torch-probe probe>` exited with status 1: ImportError: dlopen(x): Library not loaded: y").as_deref(),
            Some("ImportError: dlopen(x): Library not loaded: y")
        );
        assert_eq!(exit_tail("`x` timed out after 10s and was stopped"), None);
        let t =
            parse_torch_probe(r#"{"ok": false, "installed": true, "error": "ImportError: boom"}"#)
                .unwrap();
        assert_eq!(t.installed, Some(true));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_conda_info(&s);
            let _ = parse_torch_probe(&s);
        }
    }
}
