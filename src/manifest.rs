//! `ttm.toml`, the workspace's manifest: what `ttm setup` installed (so that
//! `ttm setup --from ttm.toml` reproduces it on another Mac) and which
//! chapters `ttm scaffold` created. Unknown keys are an error, so a typo is
//! caught rather than ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::env_kind::EnvKind;
use crate::error::{Error, Result};
use crate::system::System;
use crate::workspace::Workspace;

pub const SCHEMA: u32 = 1;
pub const DEFAULT_ENV_NAME: &str = "torch_metal";
/// The book's Python version (`conda create -n torch_metal python=3.10`).
pub const DEFAULT_PYTHON: &str = "3.10";
pub const BASE_PACKAGES: [&str; 3] = ["torch", "torchvision", "torchaudio"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: u32,
    /// The ttm version that last wrote it.
    pub ttm_version: String,
    pub environment: Environment,
    #[serde(default)]
    pub packages: Packages,
    #[serde(default)]
    pub chapters: BTreeMap<String, Chapter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub kind: EnvKind,
    pub name: String,
    pub python: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packages {
    /// What the user asked for, beside torch, torchvision and torchaudio.
    #[serde(default)]
    pub extra: Vec<String>,
    /// Install Jupyter (notebook tooling).
    #[serde(default = "yes")]
    pub notebook: bool,
    /// Run the self-test at the end of setup.
    #[serde(default = "yes")]
    pub selftest: bool,
}

fn yes() -> bool {
    true
}

impl Default for Packages {
    fn default() -> Self {
        Packages {
            extra: Vec::new(),
            notebook: true,
            selftest: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chapter {
    pub template: String,
    /// The day it was created, YYYY-MM-DD.
    pub created: String,
}

impl Manifest {
    pub fn new(environment: Environment) -> Manifest {
        Manifest {
            schema: SCHEMA,
            ttm_version: env!("CARGO_PKG_VERSION").to_owned(),
            environment,
            packages: Packages::default(),
            chapters: BTreeMap::new(),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let m: Manifest = toml::from_str(text).map_err(|e| Error::BadFile {
            path: path.to_path_buf(),
            message: format!("not a valid ttm manifest: {}", one_line(&e.to_string())),
        })?;
        if m.schema > SCHEMA {
            return Err(Error::BadFile {
                path: path.to_path_buf(),
                message: format!(
                    "schema {} is newer than this ttm understands ({SCHEMA}): upgrade ttm",
                    m.schema
                ),
            });
        }
        Ok(m)
    }

    /// Load the manifest at `path`; `Ok(None)` when there is none.
    pub fn load(sys: &System, path: &Path) -> Result<Option<Manifest>> {
        match sys.read_optional(path)? {
            None => Ok(None),
            Some(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| Error::BadFile {
                    path: path.to_path_buf(),
                    message: "is not UTF-8 text".into(),
                })?;
                Manifest::parse(&text, path).map(Some)
            }
        }
    }

    /// Write `ttm.toml` atomically and keep a copy of what was written in
    /// `.ttm/written/ttm.toml`, so a later run can tell whether the user has
    /// edited it since ([`user_changed`]).
    pub fn save(&self, sys: &System, ws: &Workspace) -> Result<()> {
        let text = self.to_toml();
        let record = written_record(ws);
        if let Some(dir) = record.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
        }
        sys.write_atomic(&ws.manifest(), text.as_bytes())?;
        sys.write_atomic(&record, text.as_bytes())
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!("# ttm manifest: `ttm setup --from ttm.toml` reproduces this environment.\n{body}")
    }
}

/// Where [`Manifest::save`] keeps its copy of what it wrote.
pub fn written_record(ws: &Workspace) -> PathBuf {
    ws.state_dir().join("written").join("ttm.toml")
}

/// Has the user edited `ttm.toml` since ttm last wrote it? True when it
/// exists and differs from ttm's record, or exists with no record at all.
pub fn user_changed(sys: &System, ws: &Workspace) -> Result<bool> {
    match sys.read_optional(&ws.manifest())? {
        None => Ok(false),
        Some(current) => {
            Ok(sys.read_optional(&written_record(ws))?.as_deref() != Some(&current[..]))
        }
    }
}

/// The workspace's manifest when its choices count: setup wrote it, or the
/// user edited it. `ttm scaffold` writes one with plain defaults for its
/// chapters, and those choose nothing. Doctor and setup both ask this.
pub fn chosen(sys: &System, ws: &Workspace) -> Result<Option<Manifest>> {
    let Some(m) = Manifest::load(sys, &ws.manifest())? else {
        return Ok(None);
    };
    use crate::setup::state::{Recorded, State};
    let by_setup = match State::inspect(sys, ws)? {
        Recorded::Read(state) => state.steps.contains_key("manifest"),
        // The state lost (deleted, or broken): setup was here when it left
        // its other traces, which scaffold never writes.
        Recorded::Missing | Recorded::Unreadable => setup_was_here(sys, ws),
    };
    Ok((by_setup || user_changed(sys, ws)?).then_some(m))
}

/// Traces only `ttm setup` leaves: `requirements.lock`, or its record of the
/// `requirements.txt` it wrote.
fn setup_was_here(sys: &System, ws: &Workspace) -> bool {
    let requirements = crate::setup::state::written_record(ws, &ws.requirements());
    [ws.lock(), requirements]
        .iter()
        .any(|p| sys.symlink_metadata(p).is_ok_and(|m| m.is_file()))
}

/// toml's messages span lines with a caret drawing; keep the first line of substance.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with("-->"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut m = Manifest::new(Environment {
            kind: EnvKind::Venv,
            name: DEFAULT_ENV_NAME.into(),
            python: "3.11".into(),
        });
        m.chapters.insert(
            "chapter-4".into(),
            Chapter {
                template: "chapter".into(),
                created: "2026-11-25".into(),
            },
        );
        m
    }

    #[test]
    fn round_trips() {
        let m = sample();
        let back = Manifest::parse(&m.to_toml(), Path::new("ttm.toml")).unwrap();
        assert_eq!(m, back);
    }

    #[test]
    fn save_records_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path());
        let sys = System::from_parts([("HOME", "/h")], dir.path());
        assert!(!user_changed(&sys, &ws).unwrap());
        sample().save(&sys, &ws).unwrap();
        assert!(!user_changed(&sys, &ws).unwrap());
        std::fs::write(ws.manifest(), "# mine\n").unwrap();
        assert!(user_changed(&sys, &ws).unwrap());
    }

    #[test]
    fn unknown_keys_and_newer_schemas_are_refused() {
        let text = sample()
            .to_toml()
            .replace("[environment]", "colour = 1\n[environment]");
        let err = Manifest::parse(&text, Path::new("ttm.toml")).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let text = sample().to_toml().replace("schema = 1", "schema = 9");
        assert!(Manifest::parse(&text, Path::new("ttm.toml")).is_err());
        assert!(Manifest::parse("not toml [", Path::new("ttm.toml")).is_err());
    }

    proptest::proptest! {
        /// A manifest from anywhere (another Mac, a broken disk): parsed or
        /// refused, never a panic; and what is read from disk is bounded.
        #[test]
        fn any_bytes_parse_or_are_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = Manifest::parse(&String::from_utf8_lossy(&bytes), Path::new("ttm.toml"));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ttm.toml");
            std::fs::write(&path, &bytes).unwrap();
            let sys = System::from_parts([("HOME", "/h")], dir.path());
            let _ = Manifest::load(&sys, &path);
        }
    }
}
