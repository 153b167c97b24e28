//! What `ttm setup` remembers between runs, under `<workspace>/.ttm/`:
//! `state` lists the steps that finished, each with a fingerprint of what it
//! did (the Python it used, the requirements it installed), so a second run
//! skips them and a failed run resumes at the step that failed; `written/`
//! keeps a copy of each file ttm wrote, to tell whether the user changed it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::system::System;
use crate::workspace::Workspace;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// step id -> fingerprint of the inputs it finished with.
    #[serde(default)]
    pub steps: BTreeMap<String, String>,
}

impl State {
    pub fn path(ws: &Workspace) -> PathBuf {
        ws.state_dir().join("state")
    }

    /// The recorded state; an unreadable file counts as none (steps rerun).
    pub fn load(sys: &System, ws: &Workspace) -> Result<State> {
        Ok(match State::inspect(sys, ws)? {
            Recorded::Read(state) => state,
            Recorded::Missing | Recorded::Unreadable => State::default(),
        })
    }

    /// The recorded state, or whether it is missing or unreadable (not
    /// UTF-8, not TOML). A file that cannot be read at all (a FIFO, a
    /// folder) is an error.
    pub fn inspect(sys: &System, ws: &Workspace) -> Result<Recorded> {
        Ok(match sys.read_optional(&State::path(ws))? {
            None => Recorded::Missing,
            Some(bytes) => String::from_utf8(bytes)
                .ok()
                .and_then(|t| toml::from_str(&t).ok())
                .map_or(Recorded::Unreadable, Recorded::Read),
        })
    }

    pub fn done(&self, id: &str, fingerprint: &str) -> bool {
        self.steps.get(id).map(String::as_str) == Some(fingerprint)
    }

    pub fn save(&self, sys: &System, ws: &Workspace) -> Result<()> {
        let dir = ws.state_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        let body = toml::to_string_pretty(self).unwrap_or_default();
        let text = format!(
            "# ttm setup: the steps that finished, with a fingerprint of their inputs.\n{body}"
        );
        sys.write_atomic(&State::path(ws), text.as_bytes())
    }
}

/// `.ttm/pinned`: written by `ttm setup --from` (it holds the path of the
/// lock it installed), it keeps the workspace on its `requirements.lock`
/// until `ttm setup --upgrade` removes it.
pub fn pinned_path(ws: &Workspace) -> PathBuf {
    ws.state_dir().join("pinned")
}

/// `.ttm/state` as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Missing,
    Unreadable,
    Read(State),
}

impl Recorded {
    /// "missing" or "unreadable", for the line that says the choices were kept.
    pub fn lost(&self) -> Option<&'static str> {
        match self {
            Recorded::Missing => Some("missing"),
            Recorded::Unreadable => Some("unreadable"),
            Recorded::Read(_) => None,
        }
    }
}

/// Where ttm keeps a copy of a workspace file it wrote (`requirements.txt`).
pub fn written_record(ws: &Workspace, file: &Path) -> PathBuf {
    let name = file.file_name().map(PathBuf::from).unwrap_or_default();
    ws.state_dir().join("written").join(name)
}

/// A stable fingerprint (FNV-1a, 64 bits, hex) of some parts. Stable across
/// runs and builds, which `std`'s hasher does not promise.
pub fn fingerprint<S: AsRef<[u8]>>(parts: &[S]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.as_ref().iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_separate_parts() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        assert_eq!(fingerprint::<&str>(&[]), "cbf29ce484222325");
    }

    #[test]
    fn state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path());
        let sys = System::from_parts([("HOME", "/h")], dir.path());
        assert_eq!(State::load(&sys, &ws).unwrap(), State::default());
        let mut s = State::default();
        s.steps.insert("pip-install".into(), "abc".into());
        s.save(&sys, &ws).unwrap();
        let back = State::load(&sys, &ws).unwrap();
        assert!(back.done("pip-install", "abc"));
        assert!(!back.done("pip-install", "abd"));
    }

    proptest::proptest! {
        /// A state file someone broke: read, or counted as unreadable (its
        /// choices then come from ttm.toml), never a panic or an error.
        #[test]
        fn any_state_bytes_are_read_or_unreadable(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let dir = tempfile::tempdir().unwrap();
            let ws = Workspace::at(dir.path());
            std::fs::create_dir_all(ws.state_dir()).unwrap();
            std::fs::write(State::path(&ws), &bytes).unwrap();
            let sys = System::from_parts([("HOME", "/h")], dir.path());
            proptest::prop_assert!(State::inspect(&sys, &ws).is_ok());
        }
    }
}
