//! How a probe runs a program: through `System`, bounded by
//! `TTM_PROBE_TIMEOUT`, with every way it can go wrong (missing, hung,
//! non-zero, not UTF-8, Apple's xcrun stub) turned into a value, never a panic.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use crate::env_vars;
use crate::error::{Error, Result};
use crate::system::{Cmd, RunError, System};

/// The default bound on each probe, in seconds.
pub const DEFAULT_TIMEOUT_S: u64 = 10;

/// A probe's view of the machine: the system and how long each program may take.
pub struct Probe<'a> {
    pub sys: &'a System,
    pub timeout: Duration,
    /// Whether this is a Mac without the command line tools (asked once, when needed).
    mac_without_clt: OnceLock<bool>,
    /// Whether PyTorch's answer may come from the probe cache (and is kept
    /// there): doctor and bench, which change nothing. Setup asks afresh,
    /// since it is about to change the env, and leaves the cache alone.
    pub kept_answers: bool,
}

/// Why a probe's program gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFailure {
    /// Not on PATH (or the given path does not exist).
    NotFound,
    /// Apple's stub that works only once the command line tools are installed.
    XcrunStub,
    /// It ran and failed, hung, or printed garbage: the message says which.
    Failed(String),
}

impl<'a> Probe<'a> {
    /// A probe with the timeout from `TTM_PROBE_TIMEOUT` (the default if unset or invalid;
    /// commands validate it first with [`Probe::timeout_from`]).
    pub fn new(sys: &'a System) -> Probe<'a> {
        let timeout = Probe::timeout_from(sys).unwrap_or(Duration::from_secs(DEFAULT_TIMEOUT_S));
        Probe::with_timeout(sys, timeout)
    }

    pub fn with_timeout(sys: &'a System, timeout: Duration) -> Probe<'a> {
        Probe {
            sys,
            timeout,
            mac_without_clt: OnceLock::new(),
            kept_answers: false,
        }
    }

    /// This probe, allowed to use and keep PyTorch's answer in the cache.
    pub fn keeping_answers(mut self) -> Probe<'a> {
        self.kept_answers = true;
        self
    }

    /// On a Mac without the command line tools, `/usr/bin/git` and
    /// `/usr/bin/python3` are Apple's stubs, and running one opens Apple's
    /// "install the command line developer tools?" dialog. Doctor changes
    /// nothing, so it does not run them: they are stubs, known without running.
    pub fn is_apple_stub_not_to_run(&self, program: &Path) -> bool {
        if program != Path::new("/usr/bin/git") && program != Path::new("/usr/bin/python3") {
            return false;
        }
        // A Mac is where `xcode-select` is: not `uname -s`, which would make
        // the Python and git probes wait on the OS probe's program (a hung
        // uname held them all up).
        *self.mac_without_clt.get_or_init(|| {
            self.sys.which("xcode-select").is_some()
                && self.text(Cmd::new("xcode-select").arg("-p")).is_err()
        })
    }

    /// `TTM_PROBE_TIMEOUT` as a duration: a positive number of seconds.
    pub fn timeout_from(sys: &System) -> Result<Duration> {
        match sys.var_non_empty(env_vars::TTM_PROBE_TIMEOUT) {
            None => Ok(Duration::from_secs(DEFAULT_TIMEOUT_S)),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
                _ => Err(Error::bad_input(format!(
                    "{}={v:?} is not a number of seconds between 0 and 3600: set it to e.g. 10, or unset it",
                    env_vars::TTM_PROBE_TIMEOUT
                ))),
            },
        }
    }

    /// Run `cmd` and return its stdout as text, when it exits 0 with UTF-8 output.
    pub fn text(&self, cmd: Cmd) -> Result<String, ProbeFailure> {
        self.text_with_stderr(cmd).map(|(out, _)| out)
    }

    /// Like [`Probe::text`], with stderr too.
    pub fn text_with_stderr(&self, cmd: Cmd) -> Result<(String, String), ProbeFailure> {
        let line = shorten(&cmd.to_shell_line());
        self.text_labelled(cmd, &line)
    }

    /// Like [`Probe::text`], but a failure names the program as `label`
    /// (an embedded script's name) rather than its whole command line.
    pub fn text_as(&self, cmd: Cmd, label: &str) -> Result<String, ProbeFailure> {
        self.text_labelled(cmd, label).map(|(out, _)| out)
    }

    fn text_labelled(&self, cmd: Cmd, line: &str) -> Result<(String, String), ProbeFailure> {
        let out = match self.sys.run(&cmd.timeout(self.timeout)) {
            Ok(out) => out,
            Err(RunError::NotFound { .. }) => return Err(ProbeFailure::NotFound),
            Err(RunError::TimedOut { after, .. }) => {
                return Err(ProbeFailure::Failed(format!(
                    "`{line}` timed out after {}s and was stopped",
                    after.as_secs_f64()
                )))
            }
            Err(e @ RunError::Spawn { .. }) => return Err(ProbeFailure::Failed(e.to_string())),
        };
        let stderr = out.stderr_text();
        if !out.success() {
            if is_xcrun_stub_error(&stderr) {
                return Err(ProbeFailure::XcrunStub);
            }
            let status = match out.status {
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_owned(),
            };
            let tail = out.tail(1);
            return Err(ProbeFailure::Failed(if tail.is_empty() {
                format!("`{line}` {status}")
            } else {
                format!("`{line}` {status}: {}", shorten_to(&tail, 400))
            }));
        }
        match String::from_utf8(out.stdout) {
            Ok(s) => Ok((s, stderr)),
            Err(_) => Err(ProbeFailure::Failed(format!(
                "`{line}` printed output that is not UTF-8 text"
            ))),
        }
    }
}

/// Apple's `/usr/bin/python3`, `/usr/bin/git` … before the command line tools exist.
pub fn is_xcrun_stub_error(stderr: &str) -> bool {
    stderr.contains("xcrun: error: invalid active developer path")
        || stderr.contains("xcode-select: note: No developer tools were found")
}

fn shorten(s: &str) -> String {
    shorten_to(s, 160)
}

/// At most `max` characters (a program's last line: long paths stay whole).
fn shorten_to(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() > max {
        let cut: String = s.chars().take(max - 3).collect();
        format!("{cut}...")
    } else {
        s.to_owned()
    }
}

/// What a probe met instead of an answer: which probe ("conda", "torch")
/// and what happened ("`conda info --json` timed out after 10s and was stopped").
/// Shown and serialised as one line, `"{probe}: {message}"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub probe: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(probe: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            probe,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.probe, self.message)
    }
}

impl serde::Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A probe's answer: its value (if any), the problems it met and the
/// Apple stubs it found, merged into `Facts` by `detect`.
#[derive(Debug, Clone)]
pub struct Detected<T> {
    pub value: Option<T>,
    pub problems: Vec<Problem>,
    pub stubs: Vec<String>,
}

impl<T> Detected<T> {
    pub fn none() -> Detected<T> {
        Detected {
            value: None,
            problems: Vec::new(),
            stubs: Vec::new(),
        }
    }

    pub fn found(value: T) -> Detected<T> {
        Detected {
            value: Some(value),
            ..Detected::none()
        }
    }

    /// No value, because of `failure` of the probe called `name` (for `program`).
    pub fn failed(name: &'static str, program: &str, failure: ProbeFailure) -> Detected<T> {
        let mut d = Detected::none();
        d.note(name, program, failure);
        d
    }

    /// Record a failure: a problem line, or a stub.
    pub fn note(&mut self, name: &'static str, program: &str, failure: ProbeFailure) {
        match failure {
            ProbeFailure::NotFound => {}
            ProbeFailure::XcrunStub => {
                if !self.stubs.iter().any(|s| s == program) {
                    self.stubs.push(program.to_owned());
                }
            }
            ProbeFailure::Failed(msg) => self.problems.push(Problem::new(name, msg)),
        }
    }

    pub fn take(self, problems: &mut Vec<Problem>, stubs: &mut Vec<String>) -> Option<T> {
        problems.extend(self.problems);
        for s in self.stubs {
            if !stubs.contains(&s) {
                stubs.push(s);
            }
        }
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shim_dir(uname: &str, xcode_select_ok: bool) -> tempfile::TempDir {
        let mac = uname == "Darwin";
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        };
        write("uname", &format!("echo {uname}"));
        if !mac {
            // Linux has no xcode-select; uname is not asked.
            write("uname", "exec sleep 30");
            return dir;
        }
        write(
            "xcode-select",
            if xcode_select_ok {
                "echo /Library/Developer/CommandLineTools"
            } else {
                "echo 'xcode-select: error: unable to get active developer directory' >&2; exit 2"
            },
        );
        dir
    }

    #[test]
    fn apple_stubs_are_not_run_on_a_mac_without_the_tools() {
        for (uname, clt, expect) in [
            ("Darwin", false, true),
            ("Darwin", true, false),
            ("Linux", false, false),
        ] {
            let dir = shim_dir(uname, clt);
            let sys = System::from_parts([("PATH", dir.path().as_os_str())], "/");
            let probe = Probe::with_timeout(&sys, Duration::from_secs(5));
            assert_eq!(
                probe.is_apple_stub_not_to_run(Path::new("/usr/bin/git")),
                expect,
                "{uname} {clt}"
            );
            assert!(!probe.is_apple_stub_not_to_run(Path::new("/opt/homebrew/bin/git")));
        }
    }

    #[test]
    fn xcrun_errors_are_recognised() {
        assert!(is_xcrun_stub_error("xcrun: error: invalid active developer path (/Library/Developer/CommandLineTools), missing xcrun at: /Library/Developer/CommandLineTools/usr/bin/xcrun"));
        assert!(!is_xcrun_stub_error("fatal: not a git repository"));
    }
}
