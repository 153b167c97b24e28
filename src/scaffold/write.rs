//! The one writer of `ttm scaffold`: everything or nothing.
//!
//! The files arrive rendered in memory. For each of `notebooks/NAME`,
//! `data/NAME` and `models/NAME`, they are written into a staging folder
//! beside the destination (`notebooks/.NAME.ttm-partial`), and only when all
//! three are staged are they renamed into place, with a rename that refuses
//! to replace anything (`System::rename_no_replace`: `renameat2` with
//! `RENAME_NOREPLACE` on Linux, `renamex_np(RENAME_EXCL)` on macOS). Every
//! file operation goes through `System`. Then the caller's last step runs
//! (recording the chapter in `ttm.toml`). Any error on the way removes what
//! this run made (staging folders, placed folders, folders it created) and
//! nothing else, so an existing chapter is never touched.
//!
//! Before any of that, [`check_destinations`] makes sure each destination is
//! inside the workspace: a folder of the layout that is a symbolic link out of
//! the workspace is refused, not followed.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::scaffold::render::{RenderedFile, PROJECT_FOLDERS};
use crate::system::System;

/// The staging folder of `parent/name`.
pub fn staging_path(parent: &Path, name: &str) -> PathBuf {
    parent.join(format!(".{name}.ttm-partial"))
}

/// Refuse destinations that would leave the workspace or replace something:
/// each layout folder that exists must be a folder whose real path is inside
/// the workspace's real path, and `FOLDER/name` must not exist in any form.
pub fn check_destinations(sys: &System, root: &Path, name: &str) -> Result<()> {
    let real_root = match sys.canonicalize(root) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("cannot read", root, e)),
    };
    for folder in PROJECT_FOLDERS {
        let path = root.join(folder);
        let meta = match sys.symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("cannot read", path, e)),
        };
        if meta.file_type().is_symlink() {
            let target = sys.canonicalize(&path).map_err(|_| Error::BadWorkspace {
                path: root.to_path_buf(),
                reason: format!("{folder} is a symbolic link that leads nowhere: make it a folder"),
            })?;
            if !target.starts_with(&real_root) {
                return Err(Error::BadWorkspace {
                    path: root.to_path_buf(),
                    reason: format!(
                        "{folder} is a symbolic link to {}, outside the workspace; ttm writes only inside it: make {folder} a folder, or pass --workspace PATH",
                        target.display()
                    ),
                });
            }
        }
        if !sys.metadata(&path).is_ok_and(|m| m.is_dir()) {
            return Err(Error::BadWorkspace {
                path: root.to_path_buf(),
                reason: format!("{folder} is a file, not a folder: move it away"),
            });
        }
        let dest = path.join(name);
        if sys.symlink_metadata(&dest).is_ok() {
            return Err(Error::bad_input(format!(
                "{} already exists; ttm never overwrites a project: choose another name",
                dest.display()
            )));
        }
    }
    Ok(())
}

/// The folders the write creates: the workspace and the layout folders that
/// do not exist yet, parents first.
pub fn folders_to_create(sys: &System, root: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    let mut p = Some(root);
    let mut chain = Vec::new();
    while let Some(dir) = p {
        if sys.symlink_metadata(dir).is_ok() {
            break;
        }
        chain.push(dir.to_path_buf());
        p = dir.parent();
    }
    chain.reverse();
    missing.extend(chain);
    for folder in PROJECT_FOLDERS {
        let path = root.join(folder);
        if sys.symlink_metadata(&path).is_err() {
            missing.push(path);
        }
    }
    missing
}

/// What this run has made so far, undone in reverse on failure.
#[derive(Default)]
struct Undo {
    made: Vec<Made>,
}

enum Made {
    /// A folder that did not exist (the workspace, `data`…): removed if empty.
    Folder(PathBuf),
    /// A staging folder or a placed project folder: removed with its contents.
    Tree(PathBuf),
}

impl Undo {
    fn rollback(self, sys: &System) {
        for made in self.made.into_iter().rev() {
            let _ = match made {
                Made::Folder(p) => sys.remove_dir(&p),
                Made::Tree(p) => sys.remove_dir_all(&p),
            };
        }
    }
}

/// Write the project `name` into the workspace at `root`: all of `files`
/// (paths relative to the workspace, each under `FOLDER/name/`), an empty
/// `FOLDER/name` for each layout folder without files, then `finish`. On any
/// error, everything this call made is removed again.
pub fn write_project(
    sys: &System,
    root: &Path,
    name: &str,
    files: &[RenderedFile],
    finish: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let mut undo = Undo::default();
    match write_steps(sys, root, name, files, &mut undo).and_then(|()| finish()) {
        Ok(()) => Ok(()),
        Err(e) => {
            undo.rollback(sys);
            Err(e)
        }
    }
}

fn write_steps(
    sys: &System,
    root: &Path,
    name: &str,
    files: &[RenderedFile],
    undo: &mut Undo,
) -> Result<()> {
    for dir in folders_to_create(sys, root) {
        sys.create_dir(&dir)
            .map_err(|e| Error::io("cannot create", &dir, e))?;
        undo.made.push(Made::Folder(dir));
    }

    let mut staged = Vec::new();
    for folder in PROJECT_FOLDERS {
        let parent = root.join(folder);
        let staging = staging_path(&parent, name);
        match sys.create_dir(&staging) {
            Ok(()) => undo.made.push(Made::Tree(staging.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Failed {
                    message: format!(
                        // The workspace lock is held: no other ttm is writing it.
                        "{} is left from an interrupted `ttm scaffold new {name}`",
                        staging.display()
                    ),
                    fix: Some(format!(
                        "rm -r {}",
                        crate::system::shell_quote(&staging.to_string_lossy())
                    )),
                });
            }
            Err(e) => return Err(Error::io("cannot create", &staging, e)),
        }
        let prefix = Path::new(folder).join(name);
        for file in files {
            let Ok(inside) = file.dest.strip_prefix(&prefix) else {
                continue;
            };
            write_new_file(sys, &staging, inside, &file.contents)?;
        }
        staged.push((staging, parent.join(name)));
    }

    for (staging, dest) in staged {
        sys.rename_no_replace(&staging, &dest).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::bad_input(format!(
                    "{} already exists; ttm never overwrites a project: choose another name",
                    dest.display()
                ))
            } else {
                Error::io("cannot move into place", &dest, e)
            }
        })?;
        // The staging folder is now the destination; undo removes that instead.
        for made in undo.made.iter_mut().rev() {
            if matches!(made, Made::Tree(p) if *p == staging) {
                *made = Made::Tree(dest.clone());
                break;
            }
        }
    }
    Ok(())
}

/// Write a new file at `base/inside`, making its folders; never replaces one.
fn write_new_file(sys: &System, base: &Path, inside: &Path, contents: &[u8]) -> Result<()> {
    let path = base.join(inside);
    if let Some(dir) = path.parent() {
        sys.create_dir_all(dir)
            .map_err(|e| Error::io("cannot create", dir, e))?;
    }
    sys.write_new(&path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys() -> System {
        System::from_parts(
            [("PATH", "/usr/bin:/bin"), ("HOME", "/nonexistent-home")],
            std::env::temp_dir(),
        )
    }

    fn files(name: &str) -> Vec<RenderedFile> {
        vec![
            RenderedFile {
                dest: PathBuf::from(format!("notebooks/{name}/README.md")),
                contents: b"# hi\n".to_vec(),
            },
            RenderedFile {
                dest: PathBuf::from(format!("data/{name}/sub/x.txt")),
                contents: b"x".to_vec(),
            },
        ]
    }

    #[test]
    fn writes_everything_into_a_new_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        write_project(&sys(), &root, "ch1", &files("ch1"), || Ok(())).unwrap();
        assert_eq!(
            std::fs::read(root.join("notebooks/ch1/README.md")).unwrap(),
            b"# hi\n"
        );
        assert!(root.join("data/ch1/sub/x.txt").is_file());
        assert!(root.join("models/ch1").is_dir());
        assert!(!staging_path(&root.join("models"), "ch1").exists());
    }

    #[test]
    fn a_failing_last_step_removes_everything_made() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let err = write_project(&sys(), &root, "ch1", &files("ch1"), || {
            Err(Error::failed("boom"))
        });
        assert!(err.is_err());
        assert!(!root.exists());

        std::fs::create_dir_all(root.join("notebooks/keep")).unwrap();
        let err = write_project(&sys(), &root, "ch1", &files("ch1"), || {
            Err(Error::failed("boom"))
        });
        assert!(err.is_err());
        let left: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec!["notebooks"]);
        assert!(root.join("notebooks/keep").is_dir());
    }

    #[test]
    fn a_symlink_out_of_the_workspace_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let outside = dir.path().join("elsewhere");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("data")).unwrap();
        let err = check_destinations(&sys(), &root, "ch1").unwrap_err();
        assert!(err.to_string().contains("outside the workspace"), "{err}");
        std::fs::remove_file(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("data")).unwrap();
        check_destinations(&sys(), &root, "ch1").unwrap();
    }
}
