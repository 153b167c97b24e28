//! The book's workspace (DESIGN.md, "The workspace"): where it is, and the
//! paths inside it. Where: `--workspace`, else `$TTM_WORKSPACE`, else
//! `~/torch_to_the_metal`.

use std::path::{Path, PathBuf};

use crate::env_vars;
use crate::error::{Error, Result};
use crate::system::System;

pub const DEFAULT_DIR: &str = "torch_to_the_metal";
/// The book's folders, created by `ttm setup`.
pub const FOLDERS: [&str; 3] = ["notebooks", "data", "models"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// Resolve the workspace from the flag, the environment, or HOME.
    pub fn locate(sys: &System, flag: Option<&Path>) -> Result<Workspace> {
        let root = match flag {
            Some(p) if p.as_os_str().is_empty() => {
                return Err(Error::bad_input("--workspace is empty: give a folder path"))
            }
            Some(p) => sys.resolve_path(p)?,
            None => match sys.var_non_empty(env_vars::TTM_WORKSPACE) {
                Some(p) => sys.resolve_path(Path::new(&p))?,
                None => sys.home()?.join(DEFAULT_DIR),
            },
        };
        Ok(Workspace { root })
    }

    pub fn at(root: impl Into<PathBuf>) -> Workspace {
        Workspace { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn notebooks(&self) -> PathBuf {
        self.root.join("notebooks")
    }
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }
    pub fn models(&self) -> PathBuf {
        self.root.join("models")
    }
    pub fn requirements(&self) -> PathBuf {
        self.root.join("requirements.txt")
    }
    pub fn lock(&self) -> PathBuf {
        self.root.join("requirements.lock")
    }
    pub fn manifest(&self) -> PathBuf {
        self.root.join("ttm.toml")
    }
    pub fn venv(&self) -> PathBuf {
        self.root.join(".venv")
    }
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn reports(&self) -> PathBuf {
        self.root.join("reports")
    }
    /// The user's own scaffold templates.
    pub fn templates(&self) -> PathBuf {
        self.root.join("templates")
    }
    /// ttm's own bookkeeping (what it last wrote, step state).
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".ttm")
    }

    /// Can the workspace be created or used? It must be a folder or not
    /// exist yet, and no part of its path may be a file.
    pub fn check_usable(&self) -> Result<()> {
        let mut p = self.root.as_path();
        loop {
            match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => return Ok(()),
                Ok(_) if p == self.root => {
                    return Err(Error::BadWorkspace {
                        path: self.root.clone(),
                        reason: "is a file, not a folder: move it away or pass --workspace PATH"
                            .into(),
                    })
                }
                Ok(_) => {
                    return Err(Error::BadWorkspace {
                        path: self.root.clone(),
                        reason: format!(
                        "{} is a file, so no folder can be made inside it: pass --workspace PATH",
                        p.display()
                    ),
                    })
                }
                Err(_) => match p.parent() {
                    Some(parent) => p = parent,
                    None => return Ok(()),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_env_then_home() {
        let sys = System::from_parts([("HOME", "/h"), ("TTM_WORKSPACE", "/w")], "/cwd");
        assert_eq!(
            Workspace::locate(&sys, Some(Path::new("rel")))
                .unwrap()
                .root(),
            Path::new("/cwd/rel")
        );
        assert_eq!(
            Workspace::locate(&sys, None).unwrap().root(),
            Path::new("/w")
        );
        let sys = System::from_parts([("HOME", "/h")], "/cwd");
        assert_eq!(
            Workspace::locate(&sys, None).unwrap().root(),
            Path::new("/h/torch_to_the_metal")
        );
        let sys = System::from_parts([("PATH", "/bin")], "/cwd");
        assert!(matches!(
            Workspace::locate(&sys, None),
            Err(Error::HomeUnset)
        ));
    }

    #[test]
    fn a_file_in_the_way_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert!(Workspace::at(&file).check_usable().is_err());
        assert!(Workspace::at(file.join("inside")).check_usable().is_err());
        assert!(Workspace::at(dir.path().join("new/deeper"))
            .check_usable()
            .is_ok());
    }
}
