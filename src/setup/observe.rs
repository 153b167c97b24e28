//! What setup looks at beside the doctor's facts, gathered in one place so
//! the plan stays pure: the step record, the Python to build a venv from,
//! the files ttm wrote and whether the user changed them, the shell profile.

use std::path::Path;
use std::time::Duration;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::plan::Options;
use super::requirements::minor_version;
use super::state::{written_record, State};
use crate::env_kind::EnvKind;
use crate::error::{Error, Result};
use crate::manifest::{Chapter, Manifest};
use crate::platform::{Facts, Os};
use crate::system::{Cmd, System};
use crate::workspace::{Workspace, FOLDERS};

const VERSION_SCRIPT: &str = "import sys; print('%d.%d.%d' % sys.version_info[:3])";

/// A Python found on PATH by setup itself, with its version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundPython {
    pub path: PathBuf,
    pub version: String,
}

/// A file ttm writes and the user may edit: its content now, and the copy
/// of what ttm last wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeenFile {
    pub current: Option<Vec<u8>>,
    pub record: Option<Vec<u8>>,
    /// `<file>.new`, written beside it when the user's version was kept.
    pub beside: Option<Vec<u8>>,
}

impl SeenFile {
    /// It exists and is not what ttm last wrote (or ttm never wrote it).
    pub fn user_changed(&self) -> bool {
        self.current.is_some() && self.current != self.record
    }
}

/// What setup observes on disk and on PATH beside the doctor's facts.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub state: State,
    /// The first python3 on PATH.
    pub python3: Option<FoundPython>,
    /// `python3.X` on PATH, when a version was asked for.
    pub python_versioned: Option<PathBuf>,
    pub venv_python_exists: bool,
    /// `git` found on PATH by setup itself.
    pub git_on_path: bool,
    /// macOS: `brew` in its default prefix though not on PATH (installed by
    /// an earlier run, before a new terminal read `~/.zprofile`).
    pub brew_in_prefix: bool,
    pub missing_folders: Vec<String>,
    pub requirements: SeenFile,
    pub manifest: SeenFile,
    /// Chapters of the workspace's ttm.toml, kept when ttm rewrites it.
    pub chapters: BTreeMap<String, Chapter>,
    pub lock_exists: bool,
    pub zprofile: Option<String>,
    pub venv_activate: Option<String>,
    /// `<conda env>/conda-meta/state`, where conda keeps an env's variables.
    pub conda_env_state: Option<String>,
}

pub fn observe(sys: &System, facts: &Facts, opts: &Options) -> Result<Seen> {
    let ws = Workspace::at(&opts.workspace);
    // The doctor's Python when it found one. Otherwise ask python3 itself,
    // but never on a Mac: Apple's stub would open the installer's dialog.
    let python3 = match &facts.python {
        Some(p) => Some(FoundPython {
            path: p.path.clone(),
            version: p.version.clone(),
        }),
        None if facts.os == Os::Macos => None,
        None => sys.which("python3").and_then(|path| {
            let version = python_version(sys, &path)?;
            Some(FoundPython { path, version })
        }),
    };
    let python_versioned = opts
        .python
        .as_ref()
        .and_then(|v| sys.which(&format!("python{}", minor_version(v))));
    let mut missing_folders: Vec<String> = FOLDERS
        .iter()
        .map(|f| f.to_string())
        .chain(std::iter::once("logs".to_owned()))
        .filter(|f| !ws.root().join(f).is_dir())
        .collect();
    missing_folders.dedup();
    let seen_file = |path: &Path| -> Result<SeenFile> {
        let mut beside = path.as_os_str().to_owned();
        beside.push(".new");
        Ok(SeenFile {
            current: sys.read_optional(path)?,
            record: sys.read_optional(&written_record(&ws, path))?,
            beside: sys.read_optional(Path::new(&beside))?,
        })
    };
    // The workspace's ttm.toml keeps its chapters when setup rewrites it, so
    // one that does not parse stops setup rather than losing them.
    let chapters = Manifest::load(sys, &ws.manifest())
        .map_err(|e| match e {
            Error::BadFile { path, message } => Error::BadFile {
                path,
                message: format!(
                    "{message} (setup keeps its chapters when it rewrites it): fix the file or move it away, then run ttm setup again"
                ),
            },
            other => other,
        })?
        .map(|m| m.chapters)
        .unwrap_or_default();
    // Chapters `ttm scaffold` recorded only in ttm.toml.new (the user's
    // ttm.toml kept) stay recorded in what setup writes.
    let mut chapters = chapters;
    if let Ok(Some(beside)) = Manifest::load(sys, &crate::scaffold::manifest_beside(&ws)) {
        for (name, chapter) in beside.chapters {
            chapters.entry(name).or_insert(chapter);
        }
    }
    let conda_env_state = match (opts.env, &facts.conda) {
        (EnvKind::Conda, Some(c)) => c
            .envs
            .iter()
            .find(|p| p.file_name().is_some_and(|n| n == opts.env_name.as_str()))
            .and_then(|p| {
                sys.read_optional(&p.join("conda-meta/state"))
                    .ok()
                    .flatten()
            })
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        _ => None,
    };
    let text = |p: &Path| -> Result<Option<String>> {
        Ok(sys
            .read_optional(p)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    };
    Ok(Seen {
        state: State::load(sys, &ws)?,
        python3,
        python_versioned,
        venv_python_exists: opts.venv.join("bin/python").exists(),
        git_on_path: sys.which("git").is_some(),
        brew_in_prefix: facts.os == Os::Macos
            && Path::new(if facts.apple_silicon {
                "/opt/homebrew/bin/brew"
            } else {
                "/usr/local/bin/brew"
            })
            .is_file(),
        missing_folders,
        requirements: seen_file(&ws.requirements())?,
        manifest: seen_file(&ws.manifest())?,
        chapters,
        lock_exists: ws.lock().is_file(),
        zprofile: text(&opts.home.join(".zprofile"))?,
        venv_activate: text(&opts.venv.join("bin/activate"))?,
        conda_env_state,
    })
}

/// `python -I -c` printing its version; None when it does not run (Apple's stub).
fn python_version(sys: &System, python: &Path) -> Option<String> {
    let out = sys
        .run(
            &Cmd::new(python)
                .args(["-I", "-c", VERSION_SCRIPT])
                .timeout(Duration::from_secs(20)),
        )
        .ok()?;
    let v = out.stdout_text().trim().to_owned();
    (out.success() && v.starts_with('3')).then_some(v)
}
