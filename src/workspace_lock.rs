//! One writer at a time in a workspace. Every command that writes there
//! (`setup`, `scaffold new`) first takes an advisory lock on
//! `<workspace>/.ttm/lock` (`flock`, so the kernel drops it on every exit,
//! SIGKILL included). A second writer does not wait: it stops at once with
//! one line naming the holder's pid and command (exit 2), so twenty parallel
//! `ttm scaffold new` lose no update to `ttm.toml`: each either finishes or
//! is refused before it reads anything.
//!
//! The lock file is removed when the lock is released (while still held),
//! and a taker checks that the file it locked is still the one at the path,
//! so a taker that opened the old file retries on the new one.
//!
//! Taking the lock also refuses a workspace whose `.ttm`, `logs` or
//! `templates` is a symbolic link: ttm writes (and reads templates) only
//! inside the workspace.

use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// The folders of a workspace that must not be symbolic links.
pub const NO_LINKS: [&str; 3] = [".ttm", "logs", "templates"];

/// A held lock; released (and its file removed) on drop.
#[derive(Debug)]
pub struct WorkspaceLock {
    file: std::fs::File,
    path: PathBuf,
    /// Folders this lock created (the workspace, `.ttm`), innermost last:
    /// removed on release when they are empty again.
    created: Vec<PathBuf>,
}

impl WorkspaceLock {
    /// Take the lock for `command` (e.g. "ttm setup"), or say who holds it.
    pub fn acquire(ws: &Workspace, command: &str) -> Result<WorkspaceLock> {
        ws.check_usable()?;
        refuse_links(ws)?;
        let mut created = Vec::new();
        for dir in missing_ancestors(ws.root()) {
            create_dir(&dir)?;
            created.push(dir);
        }
        let state = ws.state_dir();
        if std::fs::symlink_metadata(&state).is_err() {
            create_dir(&state)?;
            created.push(state.clone());
        }
        let path = state.join("lock");
        loop {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&path)
                .map_err(|e| Error::io("cannot open", &path, e))?;
            // SAFETY: flock(2) on a descriptor this function owns; no memory effects.
            let locked = unsafe {
                libc::flock(
                    std::os::fd::AsRawFd::as_raw_fd(&file),
                    libc::LOCK_EX | libc::LOCK_NB,
                )
            } == 0;
            if !locked {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                    return Err(Error::io("cannot lock", &path, err));
                }
                let mut holder = String::new();
                let _ = (&file).take(4096).read_to_string(&mut holder);
                let mut lines = holder.lines();
                let pid = lines.next().unwrap_or("").trim();
                let what = lines.next().unwrap_or("").trim();
                let who = match (pid.is_empty(), what.is_empty()) {
                    (true, _) => "another ttm".to_owned(),
                    (false, true) => format!("another ttm (pid {pid})"),
                    (false, false) => format!("another ttm (pid {pid}, `{what}`)"),
                };
                return Err(Error::BadWorkspace {
                    path: ws.root().to_path_buf(),
                    reason: format!(
                        "{who} is writing in it (it holds {}): wait for it to finish, then run this again",
                        path.display()
                    ),
                });
            }
            // The holder before us may have removed the file after we opened
            // it: then we hold a lock on a file nobody else will open.
            let same = match (file.metadata(), std::fs::symlink_metadata(&path)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            if !same {
                continue;
            }
            let note = format!("{}\n{}\n", std::process::id(), one_line(command));
            let _ = file
                .set_len(0)
                .and_then(|_| file.rewind())
                .and_then(|_| file.write_all(note.as_bytes()));
            return Ok(WorkspaceLock {
                file,
                path,
                created,
            });
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The workspace folder and its parents, where this lock created them.
    pub fn created_workspace_folders(&self) -> Vec<PathBuf> {
        let state = self.path.parent();
        self.created
            .iter()
            .filter(|d| Some(d.as_path()) != state)
            .cloned()
            .collect()
    }
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        // Removed while still held, so a waiting taker sees a new file.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.set_len(0);
        for dir in self.created.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The files `ttm scaffold new` writes in the workspace.
pub const SCAFFOLD_WRITES: [&str; 4] = [
    "ttm.toml",
    "ttm.toml.new",
    ".ttm/written",
    ".ttm/written/ttm.toml",
];

/// The files `ttm setup` writes in the workspace (and its step logs).
pub const SETUP_WRITES: [&str; 12] = [
    ".ttm/child",
    "ttm.toml",
    "ttm.toml.new",
    "requirements.txt",
    "requirements.txt.new",
    "requirements.lock",
    ".ttm/state",
    ".ttm/pinned",
    ".ttm/homebrew-install.sh",
    ".ttm/written",
    ".ttm/written/ttm.toml",
    ".ttm/written/requirements.txt",
];

/// Refuse when a file ttm is about to write in the workspace (`names`,
/// relative to it), or a step log in `logs/`, is a symbolic link: ttm would
/// write through it, outside the workspace, or replace it with a plain file.
pub fn refuse_linked_files(ws: &Workspace, names: &[&str]) -> Result<()> {
    let logs = std::fs::read_dir(ws.logs())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| format!("logs/{}", e.file_name().to_string_lossy()));
    let names = names.iter().map(|n| n.to_string()).chain(logs);
    for name in names {
        let path = ws.root().join(&name);
        if crate::system::is_link(&path) {
            return Err(Error::BadWorkspace {
                path: ws.root().to_path_buf(),
                reason: format!(
                    "{name} is a symbolic link; ttm does not write through links in the workspace: put the file itself there"
                ),
            });
        }
    }
    Ok(())
}

fn refuse_links(ws: &Workspace) -> Result<()> {
    for name in NO_LINKS {
        let path = ws.root().join(name);
        if crate::system::is_link(&path) {
            return Err(Error::BadWorkspace {
                path: ws.root().to_path_buf(),
                reason: format!(
                    "{name} is a symbolic link; ttm writes only inside the workspace and does not follow it: make {} a folder",
                    path.display()
                ),
            });
        }
    }
    Ok(())
}

/// The workspace and those of its parents that do not exist, outermost first.
fn missing_ancestors(root: &Path) -> Vec<PathBuf> {
    let mut chain = Vec::new();
    let mut p = Some(root);
    while let Some(dir) = p {
        if std::fs::symlink_metadata(dir).is_ok() {
            break;
        }
        chain.push(dir.to_path_buf());
        p = dir.parent();
    }
    chain.reverse();
    chain
}

fn create_dir(dir: &Path) -> Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io("cannot create", dir, e)),
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path().join("ws"));
        let held = WorkspaceLock::acquire(&ws, "ttm setup --yes").unwrap();
        assert!(held.path().exists());
        let err = WorkspaceLock::acquire(&ws, "ttm scaffold new a").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}, `ttm setup --yes`", std::process::id())),
            "{text}"
        );
        assert_eq!(err.code(), 2);
        drop(held);
        assert!(!ws.root().exists(), "what only the lock made is gone again");
        let again = WorkspaceLock::acquire(&ws, "ttm scaffold new a").unwrap();
        drop(again);
    }

    #[test]
    fn links_out_of_the_workspace_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        for name in NO_LINKS {
            std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join(name)).unwrap();
            let err = WorkspaceLock::acquire(&Workspace::at(&root), "ttm setup").unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("{name} is a symbolic link")),
                "{err}"
            );
            assert_eq!(err.code(), 2);
            std::fs::remove_file(root.join(name)).unwrap();
        }
        assert_eq!(
            std::fs::read_dir(dir.path().join("elsewhere"))
                .unwrap()
                .count(),
            0
        );
    }
}
