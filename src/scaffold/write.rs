//! The one writer of `ttm scaffold`: everything or nothing.
//!
//! The files arrive rendered in memory. For each of `notebooks/NAME`,
//! `data/NAME` and `models/NAME`, they are written into a staging folder
//! beside the destination (`notebooks/.NAME.ttm-partial`), and only when all
//! three are staged are they renamed into place, with a rename that refuses
//! to replace anything (`renameat2(RENAME_NOREPLACE)` on Linux,
//! `renamex_np(RENAME_EXCL)` on macOS). Then the caller's last step runs
//! (recording the chapter in `ttm.toml`). Any error on the way removes what
//! this run made (staging folders, placed folders, folders it created) and
//! nothing else, so an existing chapter is never touched.
//!
//! Before any of that, [`check_destinations`] makes sure each destination is
//! inside the workspace: a folder of the layout that is a symbolic link out of
//! the workspace is refused, not followed.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::scaffold::render::{RenderedFile, PROJECT_FOLDERS};

/// The staging folder of `parent/name`.
pub fn staging_path(parent: &Path, name: &str) -> PathBuf {
    parent.join(format!(".{name}.ttm-partial"))
}

/// Refuse destinations that would leave the workspace or replace something:
/// each layout folder that exists must be a folder whose real path is inside
/// the workspace's real path, and `FOLDER/name` must not exist in any form.
pub fn check_destinations(root: &Path, name: &str) -> Result<()> {
    let real_root = match std::fs::canonicalize(root) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("cannot read", root, e)),
    };
    for folder in PROJECT_FOLDERS {
        let path = root.join(folder);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("cannot read", path, e)),
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::canonicalize(&path).map_err(|_| Error::BadWorkspace {
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
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            return Err(Error::BadWorkspace {
                path: root.to_path_buf(),
                reason: format!("{folder} is a file, not a folder: move it away"),
            });
        }
        let dest = path.join(name);
        if std::fs::symlink_metadata(&dest).is_ok() {
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
pub fn folders_to_create(root: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    let mut p = Some(root);
    let mut chain = Vec::new();
    while let Some(dir) = p {
        if std::fs::symlink_metadata(dir).is_ok() {
            break;
        }
        chain.push(dir.to_path_buf());
        p = dir.parent();
    }
    chain.reverse();
    missing.extend(chain);
    for folder in PROJECT_FOLDERS {
        let path = root.join(folder);
        if std::fs::symlink_metadata(&path).is_err() {
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
    fn rollback(self) {
        for made in self.made.into_iter().rev() {
            let _ = match made {
                Made::Folder(p) => std::fs::remove_dir(&p),
                Made::Tree(p) => std::fs::remove_dir_all(&p),
            };
        }
    }
}

/// Write the project `name` into the workspace at `root`: all of `files`
/// (paths relative to the workspace, each under `FOLDER/name/`), an empty
/// `FOLDER/name` for each layout folder without files, then `finish`. On any
/// error, everything this call made is removed again.
pub fn write_project(
    root: &Path,
    name: &str,
    files: &[RenderedFile],
    finish: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let mut undo = Undo::default();
    match write_steps(root, name, files, &mut undo).and_then(|()| finish()) {
        Ok(()) => Ok(()),
        Err(e) => {
            undo.rollback();
            Err(e)
        }
    }
}

fn write_steps(root: &Path, name: &str, files: &[RenderedFile], undo: &mut Undo) -> Result<()> {
    for dir in folders_to_create(root) {
        std::fs::create_dir(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        undo.made.push(Made::Folder(dir));
    }

    let mut staged = Vec::new();
    for folder in PROJECT_FOLDERS {
        let parent = root.join(folder);
        let staging = staging_path(&parent, name);
        match std::fs::create_dir(&staging) {
            Ok(()) => undo.made.push(Made::Tree(staging.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Failed {
                    message: format!(
                        "{} is left from an interrupted `ttm scaffold new {name}` (or one is running now)",
                        staging.display()
                    ),
                    fix: Some(format!("rm -r {}", crate::system::shell_quote(&staging.to_string_lossy()))),
                })
            }
            Err(e) => return Err(Error::io("cannot create", &staging, e)),
        }
        let prefix = Path::new(folder).join(name);
        for file in files {
            let Ok(inside) = file.dest.strip_prefix(&prefix) else {
                continue;
            };
            write_new_file(&staging, inside, &file.contents)?;
        }
        staged.push((staging, parent.join(name)));
    }

    for (staging, dest) in staged {
        rename_no_replace(&staging, &dest).map_err(|e| {
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
fn write_new_file(base: &Path, inside: &Path, contents: &[u8]) -> Result<()> {
    let path = base.join(inside);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    }
    let mut f =
        std::fs::File::create_new(&path).map_err(|e| Error::io("cannot create", &path, e))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("cannot write", &path, e))
}

/// Rename `from` to `to`, failing with `AlreadyExists` rather than replacing
/// whatever is at `to` (even an empty folder, which plain rename replaces).
pub fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let from_c = CString::new(from.as_os_str().as_bytes())?;
        let to_c = CString::new(to.as_os_str().as_bytes())?;
        // SAFETY: both pointers are valid NUL-terminated strings that outlive the call.
        #[cfg(target_os = "linux")]
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                from_c.as_ptr(),
                libc::AT_FDCWD,
                to_c.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        // SAFETY: as above.
        #[cfg(target_os = "macos")]
        let rc = unsafe { libc::renamex_np(from_c.as_ptr(), to_c.as_ptr(), libc::RENAME_EXCL) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if !no_replace_unsupported(&err) {
            return Err(err);
        }
        // A file system without the flag: check, then rename.
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "destination exists",
        ));
    }
    std::fs::rename(from, to)
}

/// Whether `renameat2(RENAME_NOREPLACE)` (Linux) or
/// `renamex_np(RENAME_EXCL)` (macOS) failed only because this file system or
/// kernel lacks the flag, so that a check-then-rename must do instead. Both
/// OSes name these errors alike; their numbers differ, hence `libc`'s.
fn no_replace_unsupported(err: &std::io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::ENOTSUP)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_flag_falls_back_to_check_then_rename() {
        let os = std::io::Error::from_raw_os_error;
        for unsupported in [libc::EINVAL, libc::ENOSYS, libc::ENOTSUP] {
            assert!(no_replace_unsupported(&os(unsupported)), "{unsupported}");
        }
        for real in [libc::EEXIST, libc::ENOTEMPTY, libc::EACCES, libc::EXDEV] {
            assert!(!no_replace_unsupported(&os(real)), "{real}");
        }
        let plain = std::io::Error::other("no errno");
        assert!(!no_replace_unsupported(&plain));
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
        write_project(&root, "ch1", &files("ch1"), || Ok(())).unwrap();
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
        let err = write_project(&root, "ch1", &files("ch1"), || Err(Error::failed("boom")));
        assert!(err.is_err());
        assert!(!root.exists());

        std::fs::create_dir_all(root.join("notebooks/keep")).unwrap();
        let err = write_project(&root, "ch1", &files("ch1"), || Err(Error::failed("boom")));
        assert!(err.is_err());
        let left: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec!["notebooks"]);
        assert!(root.join("notebooks/keep").is_dir());
    }

    #[test]
    fn rename_never_replaces_an_empty_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        let err = rename_no_replace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(a.exists());
        rename_no_replace(&a, &dir.path().join("c")).unwrap();
        assert!(!a.exists());
    }

    #[test]
    fn a_symlink_out_of_the_workspace_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let outside = dir.path().join("elsewhere");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("data")).unwrap();
        let err = check_destinations(&root, "ch1").unwrap_err();
        assert!(err.to_string().contains("outside the workspace"), "{err}");
        std::fs::remove_file(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("data")).unwrap();
        check_destinations(&root, "ch1").unwrap();
    }
}
