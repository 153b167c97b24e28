//! `System` is the only door to the machine (rustup's `Process`, minus the
//! mock): a snapshot of argv, the environment, the working directory and
//! which standard streams are terminals, taken once in `main` and passed down.
//!
//! Programs are found with `which::which_in` on *this* PATH and run with duct
//! with *this* environment, in their own process group and with a timeout, so
//! a hung probe is killed with its children. Tests change the data (PATH,
//! HOME); the code still runs real programs.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::env_vars;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct System {
    args: Vec<OsString>,
    vars: BTreeMap<OsString, OsString>,
    cwd: PathBuf,
    stdin_tty: bool,
    stdout_tty: bool,
    stderr_tty: bool,
}

impl System {
    /// The snapshot of this process. The one place that reads `std::env`.
    pub fn from_process() -> System {
        System {
            args: std::env::args_os().collect(),
            vars: std::env::vars_os().collect(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            stdin_tty: std::io::stdin().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    /// A snapshot made of given parts (unit tests): no terminals.
    pub fn from_parts<K, V>(
        vars: impl IntoIterator<Item = (K, V)>,
        cwd: impl Into<PathBuf>,
    ) -> System
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        System {
            args: vec![OsString::from("ttm")],
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            cwd: cwd.into(),
            stdin_tty: false,
            stdout_tty: false,
            stderr_tty: false,
        }
    }

    /// This very binary, to run `ttm selftest` as a step of `ttm setup`.
    pub fn current_exe(&self) -> Option<PathBuf> {
        std::env::current_exe().ok()
    }

    /// Whether two paths name the same file (through symlinks, as Homebrew's
    /// `bin/ttm` is one); false when either cannot be resolved.
    pub fn same_file(&self, a: &Path, b: &Path) -> bool {
        match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }

    /// This snapshot as `account` sees it, after `--user` switched to it:
    /// its HOME, USER, LOGNAME and SHELL, none of the caller's XDG folders
    /// (they were root's), and its HOME as the working directory when the
    /// caller's cannot be entered by it.
    pub fn as_account(&self, account: &crate::account::Account) -> System {
        let mut sys = self.clone();
        let name = OsString::from(&account.name);
        sys.vars
            .insert(env_vars::HOME.into(), account.home.clone().into_os_string());
        sys.vars.insert(env_vars::USER.into(), name.clone());
        sys.vars.insert(env_vars::LOGNAME.into(), name);
        match &account.shell {
            Some(shell) => sys
                .vars
                .insert(env_vars::SHELL.into(), shell.clone().into_os_string()),
            None => sys.vars.remove(OsStr::new(env_vars::SHELL)),
        };
        sys.vars.retain(|k, _| {
            !env_vars::ROOTS_OWN_FOLDERS
                .iter()
                .any(|v| k.as_os_str() == OsStr::new(v))
        });
        if std::fs::read_dir(&sys.cwd).is_err() {
            sys.cwd = account.home.clone();
        }
        sys
    }

    pub fn args(&self) -> Vec<OsString> {
        self.args.clone()
    }

    /// A variable's value, if set and valid UTF-8.
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars
            .get(OsStr::new(name))
            .and_then(|v| v.to_str())
            .map(str::to_owned)
    }

    /// A variable's value, if set and not empty.
    pub fn var_non_empty(&self, name: &str) -> Option<String> {
        self.var(name).filter(|v| !v.is_empty())
    }

    pub fn vars(&self) -> impl Iterator<Item = (&OsString, &OsString)> {
        self.vars.iter()
    }

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    pub fn stdin_is_terminal(&self) -> bool {
        self.stdin_tty
    }

    pub fn stdout_is_terminal(&self) -> bool {
        self.stdout_tty
    }

    pub fn stderr_is_terminal(&self) -> bool {
        self.stderr_tty
    }

    /// HOME: set, non-empty and absolute, or `Error::HomeUnset`.
    pub fn home(&self) -> Result<PathBuf> {
        match self.vars.get(OsStr::new(env_vars::HOME)) {
            Some(h) if !h.is_empty() && Path::new(h).is_absolute() => Ok(PathBuf::from(h)),
            _ => Err(Error::HomeUnset),
        }
    }

    /// A path as the user meant it: `~/x` under HOME, relative to the working directory.
    pub fn resolve_path(&self, path: &Path) -> Result<PathBuf> {
        if let Ok(rest) = path.strip_prefix("~") {
            return Ok(self.home()?.join(rest));
        }
        Ok(if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        })
    }

    /// The directories of PATH, in order, empty entries dropped.
    pub fn path_dirs(&self) -> Vec<PathBuf> {
        match self.vars.get(OsStr::new(env_vars::PATH)) {
            Some(p) => std::env::split_paths(p)
                .filter(|d| !d.as_os_str().is_empty())
                .collect(),
            None => Vec::new(),
        }
    }

    /// The first `program` on this PATH.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        let path = self.vars.get(OsStr::new(env_vars::PATH))?;
        which::which_in(program, Some(path), &self.cwd).ok()
    }

    /// Every `program` on this PATH, in order, without duplicates.
    pub fn which_all(&self, program: &str) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = Vec::new();
        if let Some(path) = self.vars.get(OsStr::new(env_vars::PATH)) {
            if let Ok(iter) = which::which_in_all(program, Some(path), &self.cwd) {
                for p in iter {
                    if !found.contains(&p) {
                        found.push(p);
                    }
                }
            }
        }
        found
    }

    /// Run a program to completion, bounded by its timeout.
    ///
    /// A non-zero exit is not an error here: it is in [`Output::status`]. The
    /// errors are: not found, could not start, timed out (the whole process
    /// group is killed).
    pub fn run(&self, cmd: &Cmd) -> Result<Output, RunError> {
        let program = self.locate(cmd)?;
        let mut vars = self.vars.clone();
        for (k, v) in &cmd.envs {
            match v {
                Some(v) => vars.insert(k.clone(), v.clone()),
                None => vars.remove(k),
            };
        }
        let mut expr = duct::cmd(&program, &cmd.args)
            .full_env(vars)
            .dir(cmd.dir.as_deref().unwrap_or(&self.cwd))
            .unchecked();
        if cmd.interactive {
            // Inherit the terminal: no capture, no own process group (it must
            // stay in the foreground to read the terminal), no timeout.
            let started = Instant::now();
            let out = expr
                .run()
                .map_err(|e| spawn_error(&cmd.display_name(), e))?;
            return Ok(Output::from_std(out, started.elapsed()));
        }
        expr = match &cmd.stdin {
            Some(bytes) => expr.stdin_bytes(bytes.clone()),
            None => expr.stdin_null(),
        };
        // Captured output is read by two threads that keep its head and tail
        // (a program that prints without end must not be buffered whole).
        let mut capture: Option<(std::io::PipeReader, std::io::PipeReader)> = None;
        expr = match &cmd.log {
            Some(log) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .map_err(|e| RunError::Spawn {
                        program: cmd.display_name(),
                        message: format!("cannot open log {}: {e}", log.display()),
                    })?;
                // duct applies the outer redirection first: send stdout to the
                // file, then stderr to that same stdout.
                expr.stderr_to_stdout().stdout_file(file)
            }
            None => {
                let (out_r, out_w) =
                    std::io::pipe().map_err(|e| spawn_error(&cmd.display_name(), e))?;
                let (err_r, err_w) =
                    std::io::pipe().map_err(|e| spawn_error(&cmd.display_name(), e))?;
                capture = Some((out_r, err_r));
                expr.stdout_file(out_w).stderr_file(err_w)
            }
        };
        expr = expr.before_spawn(|c| {
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(c, 0);
            Ok(())
        });
        let started = Instant::now();
        let handle = expr
            .start()
            .map_err(|e| spawn_error(&cmd.display_name(), e))?;
        // The expression holds our copies of the pipes' write ends: close them,
        // so the readers see the end when the program's group is gone.
        drop(expr);
        // Written down while it runs; removed on every way out of here.
        let _record = cmd.record.as_ref().and_then(|path| {
            let pid = *handle.pids().first()?;
            // The program's name and its arguments (not its variables).
            let name = Path::new(&cmd.program)
                .file_name()
                .unwrap_or(&cmd.program)
                .to_string_lossy()
                .into_owned();
            let line = std::iter::once(name)
                .chain(cmd.args.iter().map(|a| a.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(" ");
            crate::child_record::write(self, path, pid, &line);
            Some(RemoveOnDrop(path.clone()))
        });
        let readers = capture.map(|(out, err)| {
            (
                spawn_bounded_reader(out, cmd.output_cap),
                spawn_bounded_reader(err, cmd.output_cap),
            )
        });
        let collect = |readers: Option<(Reader, Reader)>| match readers {
            Some((out, err)) => (out.finish(), err.finish()),
            None => (Vec::new(), Vec::new()),
        };
        let finished = match &cmd.cancel {
            None => handle
                .wait_timeout(cmd.timeout)
                .map_err(|e| spawn_error(&cmd.display_name(), e))?
                .is_some(),
            Some(cancel) => loop {
                let left = cmd.timeout.saturating_sub(started.elapsed());
                let slice = left.min(Duration::from_millis(100));
                if handle
                    .wait_timeout(slice)
                    .map_err(|e| spawn_error(&cmd.display_name(), e))?
                    .is_some()
                {
                    break true;
                }
                if cancel.load(std::sync::atomic::Ordering::SeqCst) {
                    // Cancelled: stop the program and its children; the
                    // output says a signal ended it (status None).
                    kill_group(&handle.pids());
                    break true;
                }
                if left.is_zero() {
                    break false;
                }
            },
        };
        if !finished {
            kill_group(&handle.pids());
            let _ = handle.wait();
            let (stdout, _) = collect(readers);
            return Err(RunError::TimedOut {
                program: cmd.display_name(),
                after: cmd.timeout,
                stdout,
            });
        }
        let mut out = handle
            .into_output()
            .map_err(|e| spawn_error(&cmd.display_name(), e))?;
        if readers.is_some() {
            (out.stdout, out.stderr) = collect(readers);
        }
        Ok(Output::from_std(out, started.elapsed()))
    }

    fn locate(&self, cmd: &Cmd) -> Result<PathBuf, RunError> {
        let p = Path::new(&cmd.program);
        if p.components().count() > 1 || p.is_absolute() {
            return if p.exists() {
                Ok(p.to_path_buf())
            } else {
                Err(RunError::NotFound {
                    program: cmd.display_name(),
                })
            };
        }
        self.which(&cmd.program.to_string_lossy())
            .ok_or_else(|| RunError::NotFound {
                program: cmd.display_name(),
            })
    }

    /// Whether `path` is a folder (following links).
    pub fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    /// Whether `path` is a file (following links).
    pub fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    /// A file's metadata, following links.
    pub fn metadata(&self, path: &Path) -> std::io::Result<std::fs::Metadata> {
        std::fs::metadata(path)
    }

    /// A path's own metadata: a link is a link, not what it points at.
    pub fn symlink_metadata(&self, path: &Path) -> std::io::Result<std::fs::Metadata> {
        std::fs::symlink_metadata(path)
    }

    /// Whether `path` is itself a symbolic link (not followed).
    pub fn is_link(&self, path: &Path) -> bool {
        is_link(path)
    }

    /// The entries of a folder.
    pub fn read_dir(&self, dir: &Path) -> std::io::Result<std::fs::ReadDir> {
        std::fs::read_dir(dir)
    }

    /// Read a whole file.
    pub fn read(&self, path: &Path) -> Result<Vec<u8>> {
        self.read_optional(path)?.ok_or_else(|| {
            Error::io(
                "cannot read",
                path,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })
    }

    /// Remove a file.
    pub fn remove_file(&self, path: &Path) -> Result<()> {
        std::fs::remove_file(path).map_err(|e| Error::io("cannot remove", path, e))
    }

    /// Remove an empty folder.
    pub fn remove_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_dir(path)
    }

    /// A path with every link and `..` resolved; it must exist.
    pub fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    /// Create one folder (its parent must exist).
    pub fn create_dir(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir(dir)
    }

    /// Create a folder and the parents it lacks.
    pub fn create_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    /// Remove a folder and everything in it.
    pub fn remove_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::remove_dir_all(dir)
    }

    /// Write a new file, flushed; one that exists already is an error, never replaced.
    pub fn write_new(&self, path: &Path, contents: &[u8]) -> Result<()> {
        let mut f =
            std::fs::File::create_new(path).map_err(|e| Error::io("cannot create", path, e))?;
        f.write_all(contents)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io("cannot write", path, e))
    }

    /// Rename `from` to `to`, failing with `AlreadyExists` rather than replacing
    /// whatever is at `to` (even an empty folder, which plain rename replaces).
    pub fn rename_no_replace(&self, from: &Path, to: &Path) -> std::io::Result<()> {
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

    /// Read a file that may be missing: `Ok(None)` when it does not exist.
    ///
    /// Every file ttm reads may come from outside (a manifest from another
    /// Mac, a lock, a compare file, a template, a state file someone
    /// replaced), so this is the one reader and it is bounded: a folder, a
    /// FIFO, a device or a socket is refused without waiting on it (the open
    /// does not block), and so is a file over [`MAX_READ_BYTES`]; both are
    /// `Error::BadFile` naming the file (exit 2).
    pub fn read_optional(&self, path: &Path) -> Result<Option<Vec<u8>>> {
        read_bounded(path, MAX_READ_BYTES)
    }

    /// Write a file atomically: a temporary file beside it, flushed, then
    /// renamed over it, and the folder flushed so the rename survives a
    /// crash. A reader sees the old content or the new, never half.
    ///
    /// An existing file keeps its mode; a symbolic link stays a link and
    /// its target gets the new content.
    pub fn write_atomic(&self, path: &Path, contents: &[u8]) -> Result<()> {
        let target = symlink_target(path);
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let existing_mode = std::fs::metadata(&target).ok().map(|m| m.permissions());
        let result = (|| {
            let prefix = format!(".{name}.");
            let mut builder = tempfile::Builder::new();
            builder.prefix(&prefix).suffix(".ttm.tmp");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // As `File::create`: 0666 less the umask, for a new file.
                builder.permissions(std::fs::Permissions::from_mode(0o666));
            }
            let mut tmp = builder.tempfile_in(dir)?;
            tmp.write_all(contents)?;
            if let Some(mode) = existing_mode {
                tmp.as_file().set_permissions(mode)?;
            }
            tmp.as_file().sync_all()?;
            tmp.persist(&target).map_err(|e| e.error)?;
            sync_dir(dir)
        })();
        result.map_err(|e| Error::io("cannot write", path, e))
    }
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

/// Whether `path` is itself a symbolic link (not followed); for code that
/// has no [`System`] (the workspace lock).
pub fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The file a path names: a symbolic link's target (followed to its end),
/// else the path itself.
fn symlink_target(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    // A bound, against a loop of links.
    for _ in 0..40 {
        if !is_link(&current) {
            break;
        }
        match std::fs::read_link(&current) {
            Ok(next) if next.is_absolute() => current = next,
            Ok(next) => {
                current = current
                    .parent()
                    .map_or_else(|| next.clone(), |parent| parent.join(&next))
            }
            Err(_) => break,
        }
    }
    current
}

/// Flush a folder's entries (the rename) to disk; a no-op off Unix.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// How much of a captured stream is kept: this many bytes of its head and as
/// many of its tail; what lies between is cut and a line says how much.
pub const OUTPUT_KEEP_BYTES: usize = 256 * 1024;

/// A thread reading one stream of a program, keeping its head and tail.
struct Reader {
    done: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl Reader {
    /// What was read; a stream still open a second after its program ended
    /// (held by a child that left the process group) is given up on.
    fn finish(self) -> Vec<u8> {
        self.done
            .recv_timeout(Duration::from_secs(1))
            .unwrap_or_default()
    }
}

fn spawn_bounded_reader(stream: std::io::PipeReader, keep: usize) -> Reader {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_head_and_tail(stream, keep));
    });
    Reader { done: rx }
}

/// The first `keep` bytes and the last `keep` bytes of `stream`, with a
/// line between them saying how many were cut.
pub fn read_head_and_tail(mut stream: impl std::io::Read, keep: usize) -> Vec<u8> {
    let mut head: Vec<u8> = Vec::new();
    let mut tail: std::collections::VecDeque<u8> = std::collections::VecDeque::new();
    let mut cut: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let mut chunk = &buf[..n];
        if head.len() < keep {
            let take = (keep - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        tail.extend(chunk);
        if tail.len() > keep {
            let extra = tail.len() - keep;
            tail.drain(..extra);
            cut += extra as u64;
        }
    }
    if cut > 0 {
        head.extend_from_slice(format!("\n[ttm: {cut} bytes of output cut here]\n").as_bytes());
    }
    head.extend(tail);
    head
}

/// The most bytes ttm reads from one file (16 MiB: a manifest, a lock or
/// a bench result is a few kilobytes).
pub const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// Read `path` whole if it is a regular file of at most `cap` bytes;
/// `Ok(None)` when it does not exist.
pub fn read_bounded(path: &Path, cap: u64) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    #[cfg(unix)]
    let opened = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
    };
    #[cfg(not(unix))]
    let opened = std::fs::File::open(path);
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", path, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot read", path, e))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "is a folder, not a file"
        } else {
            "is not a regular file (a FIFO, a device or a socket), so ttm does not read it"
        };
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!("{what}: give a file"),
        });
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("cannot read", path, e))?;
    if bytes.len() as u64 > cap {
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!(
                "is larger than {} MiB, more than any file ttm reads: give the right file",
                cap / (1024 * 1024)
            ),
        });
    }
    Ok(Some(bytes))
}

fn spawn_error(program: &str, e: std::io::Error) -> RunError {
    RunError::Spawn {
        program: program.to_owned(),
        message: e.to_string(),
    }
}

fn kill_group(pids: &[u32]) {
    #[cfg(unix)]
    for &pid in pids {
        // SAFETY: kill(2) with a negative pid signals that process group; it
        // has no memory effects. The group was created for this child alone.
        unsafe {
            libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pids;
}

/// A file removed when this drops.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One program to run: what, with which arguments and environment, for how long.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    dir: Option<PathBuf>,
    timeout: Duration,
    stdin: Option<Vec<u8>>,
    log: Option<PathBuf>,
    interactive: bool,
    cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Bytes kept of each captured stream's head, and as many of its tail.
    output_cap: usize,
    /// Where the running child is written down (`crate::child_record`).
    record: Option<PathBuf>,
}

impl Cmd {
    /// `program` is a name looked up on PATH, or a path.
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        Cmd {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            dir: None,
            timeout: Duration::from_secs(10),
            stdin: None,
            log: None,
            interactive: false,
            cancel: None,
            output_cap: OUTPUT_KEEP_BYTES,
            record: None,
        }
    }

    /// Write the running program down at `path` while it runs (removed when
    /// it ends), so that a run killed outright leaves a trace of it.
    pub fn record_child(mut self, path: impl Into<PathBuf>) -> Cmd {
        self.record = Some(path.into());
        self
    }

    /// Stop the program (and its process group) as soon as `flag` turns
    /// true, e.g. set by a Ctrl-C handler: a program in its own process
    /// group does not get the terminal's SIGINT itself. It then ends as
    /// killed by a signal (`Output::status` is None).
    pub fn cancel_on(mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Cmd {
        self.cancel = Some(flag);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.envs
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Cmd {
        self.envs.push((key.as_ref().to_owned(), None));
        self
    }

    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.dir = Some(dir.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    pub fn stdin_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    /// Append stdout and stderr to this log file instead of capturing them.
    pub fn log_to(mut self, path: impl Into<PathBuf>) -> Cmd {
        self.log = Some(path.into());
        self
    }

    /// Run on the user's terminal (an installer that asks for a password).
    pub fn interactive(mut self) -> Cmd {
        self.interactive = true;
        self
    }

    pub fn program(&self) -> &OsStr {
        &self.program
    }

    pub fn get_args(&self) -> &[OsString] {
        &self.args
    }

    fn display_name(&self) -> String {
        Path::new(&self.program)
            .file_name()
            .unwrap_or(&self.program)
            .to_string_lossy()
            .into_owned()
    }

    /// The command line as a user would type it (for plans and logs).
    pub fn to_shell_line(&self) -> String {
        std::iter::once(&self.program)
            .chain(self.args.iter())
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Quote a word for display in a POSIX shell line.
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What a finished program left.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit code; `None` when a signal ended it.
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Output {
    fn from_std(out: std::process::Output, elapsed: Duration) -> Output {
        Output {
            status: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
            elapsed,
        }
    }

    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// stdout as text; invalid UTF-8 is replaced, never a panic.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The last `n` non-empty lines of stderr (or stdout when stderr is empty).
    pub fn tail(&self, n: usize) -> String {
        let text = if self.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
            self.stderr_text()
        } else {
            self.stdout_text()
        };
        last_lines(&text, n)
    }
}

/// The last `n` non-empty lines of a text.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The last line of a program's output that is a one-line JSON object (a
/// library may print before it), as the embedded scripts print their answer.
pub fn last_json_line(text: &str) -> Option<&str> {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('{') && l.ends_with('}'))
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    #[error("{program} not found on PATH")]
    NotFound { program: String },
    #[error("{program} could not be started: {message}")]
    Spawn { program: String, message: String },
    #[error("{program} did not finish within {}s and was stopped", after.as_secs())]
    TimedOut {
        program: String,
        after: Duration,
        stdout: Vec<u8>,
    },
}

impl From<RunError> for Error {
    fn from(e: RunError) -> Error {
        let program = match &e {
            RunError::NotFound { program }
            | RunError::Spawn { program, .. }
            | RunError::TimedOut { program, .. } => program.clone(),
        };
        let full = e.to_string();
        let message = full
            .strip_prefix(program.as_str())
            .map(|m| m.trim_start().to_owned())
            .unwrap_or(full);
        Error::Program { program, message }
    }
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

    #[test]
    fn rename_never_replaces_an_empty_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        let err = sys().rename_no_replace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(a.exists());
        sys().rename_no_replace(&a, &dir.path().join("c")).unwrap();
        assert!(!a.exists());
    }

    #[cfg(unix)]
    #[test]
    fn write_atomic_keeps_an_existing_files_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.sh");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o751)).unwrap();
        sys().write_atomic(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o751);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn write_atomic_gives_a_new_file_the_usual_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let path = dir.path().join("new");
        sys().write_atomic(&path, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
    }

    #[cfg(unix)]
    #[test]
    fn write_atomic_writes_through_a_symlink_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink("real.toml", &link).unwrap();
        sys().write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn runs_a_program_and_captures_output() {
        let out = sys()
            .run(&Cmd::new("sh").args(["-c", "echo hi; echo err >&2; exit 3"]))
            .unwrap();
        assert_eq!(out.status, Some(3));
        assert_eq!(out.stdout_text(), "hi\n");
        assert_eq!(out.tail(5), "err");
    }

    #[test]
    fn a_log_gets_both_streams() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.log");
        let out = sys()
            .run(
                &Cmd::new("sh")
                    .args(["-c", "echo out; echo err >&2"])
                    .log_to(&log),
            )
            .unwrap();
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "out\nerr\n");
    }

    #[test]
    fn a_hung_program_and_its_children_are_killed() {
        let started = Instant::now();
        let err = sys()
            .run(
                &Cmd::new("sh")
                    .args(["-c", "sleep 30 & sleep 30; wait"])
                    .timeout(Duration::from_millis(300)),
            )
            .unwrap_err();
        assert!(matches!(err, RunError::TimedOut { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_cancelled_program_and_its_children_are_stopped() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let flag = Arc::new(AtomicBool::new(false));
        let setter = flag.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            setter.store(true, Ordering::SeqCst);
        });
        let started = Instant::now();
        let out = sys()
            .run(
                &Cmd::new("sh")
                    .args(["-c", "sleep 30 & sleep 30; wait"])
                    .timeout(Duration::from_secs(60))
                    .cancel_on(flag),
            )
            .unwrap();
        t.join().unwrap();
        assert_eq!(out.status, None);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_missing_program_is_not_found() {
        let err = sys().run(&Cmd::new("ttm-no-such-program")).unwrap_err();
        assert!(matches!(err, RunError::NotFound { .. }));
        let empty = System::from_parts([("PATH", "")], "/");
        assert!(empty.which("sh").is_none());
        assert!(empty.path_dirs().is_empty());
    }

    #[test]
    fn home_must_be_absolute() {
        assert!(System::from_parts([("HOME", "rel")], "/").home().is_err());
        assert!(System::from_parts([("X", "1")], "/").home().is_err());
        assert_eq!(sys().home().unwrap(), PathBuf::from("/nonexistent-home"));
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.txt");
        sys().write_atomic(&p, b"one").unwrap();
        sys().write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn endless_output_keeps_its_head_and_tail_and_says_it_was_cut() {
        // Before: the whole output was buffered (`yes`: gigabytes in seconds).
        let out = sys()
            .run(&Cmd::new("sh").args([
                "-c",
                "echo first; head -c 3000000 /dev/zero | tr '\\0' y; echo; echo last",
            ]))
            .unwrap();
        assert!(out.success());
        let text = out.stdout_text();
        assert!(text.starts_with("first\n"), "{}", &text[..20]);
        assert!(text.ends_with("\nlast\n"), "the tail is kept");
        assert!(text.contains("bytes of output cut here]"), "it says so");
        assert!(
            out.stdout.len() <= 2 * OUTPUT_KEEP_BYTES + 100,
            "{}",
            out.stdout.len()
        );
        let err = sys()
            .run(
                &Cmd::new("sh")
                    .args(["-c", "exec yes"])
                    .timeout(Duration::from_millis(500)),
            )
            .unwrap_err();
        let RunError::TimedOut { stdout, .. } = err else {
            panic!("{err:?}")
        };
        assert!(
            stdout.len() <= 2 * OUTPUT_KEEP_BYTES + 100,
            "{}",
            stdout.len()
        );
        assert_eq!(read_head_and_tail(&b"short"[..], 4), b"short".to_vec());
        assert_eq!(
            read_head_and_tail(&b"short"[..], 2),
            b"sh\n[ttm: 1 bytes of output cut here]\nrt".to_vec()
        );
    }

    #[test]
    fn reads_refuse_what_is_not_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ttm.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) on a NUL-terminated path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        for (path, needle) in [
            (fifo.as_path(), "is not a regular file"),
            (Path::new("/dev/zero"), "is not a regular file"),
            (dir.path(), "is a folder"),
        ] {
            let err = sys().read_optional(path).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
            assert_eq!(err.code(), 2, "{err}");
        }
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 1025]).unwrap();
        let err = read_bounded(&big, 1024).unwrap_err();
        assert!(err.to_string().contains("is larger than"), "{err}");
        assert_eq!(read_bounded(&big, 1025).unwrap().unwrap().len(), 1025);
        assert!(sys()
            .read_optional(&dir.path().join("missing"))
            .unwrap()
            .is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn a_bounded_read_gives_the_bytes_or_refuses(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), cap in 0u64..300) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("f");
            std::fs::write(&p, &bytes).unwrap();
            match read_bounded(&p, cap) {
                Ok(Some(got)) => proptest::prop_assert!(got == bytes && bytes.len() as u64 <= cap),
                Ok(None) => proptest::prop_assert!(false, "the file exists"),
                Err(e) => proptest::prop_assert!(bytes.len() as u64 > cap && e.code() == 2),
            }
        }
    }

    #[test]
    fn shell_quote_quotes_what_needs_it() {
        assert_eq!(shell_quote("torch==2.5"), "torch==2.5");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
