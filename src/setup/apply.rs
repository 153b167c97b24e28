//! Carrying out a plan: each step not yet satisfied runs in order, its
//! programs' output appended to `<workspace>/logs/<step>.log`; when a step
//! finishes, `.ttm/state` records it (so the next run skips it); the first
//! failure stops the run with the step, the last lines of its log, the log's
//! path and the fix. Running `ttm setup` again resumes at that step.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::known_failures::known_fix;
use super::plan::{Action, EnvPython, PlannedCmd, SetupPlan, Step, StepId};
use super::shell_profile::append_block;
use super::state::State;
use super::step_log::{self, log_header, read_from};
use super::tool_output::{current_activity, last_json};
use crate::error::{Error, Result};
use crate::system::{last_lines, Cmd, System};
use crate::ui::{Printer, Prompter};
use crate::workspace::Workspace;

/// The book's check, run with the environment's python.
pub const TORCH_CHECK_SCRIPT: &str = include_str!("../../scripts/torch_check.py");
const TAIL_LINES: usize = 12;

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub id: StepId,
    pub title: String,
    /// "satisfied" (nothing to do), "done", "failed", "not-run".
    pub result: &'static str,
    pub log: Option<PathBuf>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepFailure {
    pub step: StepId,
    pub title: String,
    pub reason: String,
    pub tail: String,
    pub log: Option<PathBuf>,
    pub fix: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Applied {
    pub steps: Vec<StepReport>,
    /// The torch check's JSON (device, weight, bias, loss).
    pub torch_check: Option<Value>,
    /// `ttm selftest --json`'s document.
    pub selftest: Option<Value>,
    pub failure: Option<StepFailure>,
}

pub struct Applier<'a> {
    pub sys: &'a System,
    pub out: &'a Printer,
    pub prompter: &'a Prompter,
    pub ws: Workspace,
    /// Raised by Ctrl-C: the running program is stopped, no step starts.
    pub interrupted: Arc<AtomicBool>,
}

/// How an action failed: why, the last lines, and a fix better than the
/// step's own when the failure is not the program's (its log unwritable).
struct ActionError {
    reason: String,
    tail: String,
    fix: Option<String>,
}

impl ActionError {
    fn new(reason: impl Into<String>) -> ActionError {
        ActionError {
            reason: reason.into(),
            tail: String::new(),
            fix: None,
        }
    }

    fn with_tail(reason: impl Into<String>, tail: String) -> ActionError {
        ActionError {
            tail,
            ..ActionError::new(reason)
        }
    }
}

/// A log that cannot be written: its message, and its fix instead of the step's.
impl From<Error> for ActionError {
    fn from(e: Error) -> ActionError {
        ActionError {
            fix: e.fix().map(str::to_owned),
            reason: match e {
                Error::Failed { message, .. } => message,
                other => other.to_string(),
            },
            tail: String::new(),
        }
    }
}

/// Under this much free space the disk is full, whatever the step said.
const DISK_FULL_BYTES: u64 = 64 << 20;

impl Applier<'_> {
    /// The fix for a failed step when the workspace's disk is full (`df`).
    fn disk_full(&self) -> Option<String> {
        let probe = crate::platform::Probe::with_timeout(self.sys, Duration::from_secs(5));
        let free = crate::platform::free_bytes(&probe, self.ws.root())?;
        (free < DISK_FULL_BYTES).then(|| {
            format!(
                "the disk of the workspace is full ({} free): free some disk space, then ttm setup",
                crate::compute::memory::human_bytes(u128::from(free))
            )
        })
    }

    pub fn apply(&self, plan: &SetupPlan) -> Result<Applied> {
        let mut applied = Applied::default();
        let mut state = State::load(self.sys, &self.ws)?;
        let logs = self.ws.logs();
        let todo = plan.steps.iter().filter(|s| !s.satisfied).count();
        let mut n = 0;
        for step in &plan.steps {
            if step.satisfied || applied.failure.is_some() {
                applied.steps.push(StepReport {
                    id: step.id,
                    title: step.title.clone(),
                    result: if step.satisfied {
                        "satisfied"
                    } else {
                        "not-run"
                    },
                    log: None,
                    seconds: 0.0,
                });
                continue;
            }
            if self.is_interrupted() {
                return Err(self.interrupted_error(step));
            }
            n += 1;
            self.out
                .line(format!("[{n}/{todo}] {}", self.out.bold(&step.title)));
            if let Some(question) = &step.confirm {
                if !self.prompter.confirm(question, true)? {
                    return Err(Error::Failed {
                        message: format!(
                            "stopped before step `{}`: you declined",
                            step.id.as_str()
                        ),
                        fix: Some(step.fix.clone()),
                    });
                }
            }
            // A step that only says what to run by hand leaves no trace;
            // the others get the log folder and ttm's own (the Homebrew
            // script is downloaded there).
            if !step
                .actions
                .iter()
                .all(|a| matches!(a, Action::Manual { .. }))
            {
                for dir in [&logs, &self.ws.state_dir()] {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
                }
            }
            let log = logs.join(format!("{}.log", step.id.as_str()));
            let started = Instant::now();
            let result = self.run_step(step, &log, &mut applied);
            let seconds = started.elapsed().as_secs_f64();
            let log_written = log.is_file().then(|| log.clone());
            match result {
                Ok(()) => {
                    state
                        .steps
                        .insert(step.id.as_str().to_owned(), step.fingerprint.clone());
                    state.save(self.sys, &self.ws)?;
                    self.out
                        .line(format!("      {} ({seconds:.1}s)", self.out.green("done")));
                    applied.steps.push(StepReport {
                        id: step.id,
                        title: step.title.clone(),
                        result: "done",
                        log: log_written,
                        seconds,
                    });
                }
                Err(_) if self.is_interrupted() => {
                    if state.steps.remove(step.id.as_str()).is_some() {
                        state.save(self.sys, &self.ws)?;
                    }
                    self.out
                        .line(format!("      {}", self.out.red("interrupted")));
                    return Err(self.interrupted_error(step));
                }
                Err(e) => {
                    if state.steps.remove(step.id.as_str()).is_some() {
                        state.save(self.sys, &self.ws)?;
                    }
                    self.out.line(format!("      {}", self.out.red("failed")));
                    // What the program said, then a full disk (venv says only
                    // that ensurepip failed), then the step's own fix.
                    let fix = known_fix(&format!("{}\n{}", e.reason, e.tail))
                        .map(str::to_owned)
                        .or_else(|| self.disk_full())
                        .or_else(|| e.fix.clone())
                        .unwrap_or_else(|| step.fix.clone());
                    applied.failure = Some(StepFailure {
                        step: step.id,
                        title: step.title.clone(),
                        reason: e.reason,
                        tail: e.tail,
                        log: log_written.clone(),
                        fix,
                    });
                    applied.steps.push(StepReport {
                        id: step.id,
                        title: step.title.clone(),
                        result: "failed",
                        log: log_written,
                        seconds,
                    });
                }
            }
        }
        Ok(applied)
    }

    fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    fn interrupted_error(&self, step: &Step) -> Error {
        Error::Failed {
            message: format!(
                "interrupted during step `{}` ({}); what was running was stopped and the step is not recorded as done",
                step.id.as_str(),
                step.title
            ),
            fix: Some("ttm setup (it resumes at this step)".into()),
        }
    }

    fn run_step(&self, step: &Step, log: &Path, applied: &mut Applied) -> Result<(), ActionError> {
        for action in &step.actions {
            self.out.verbose(format!("      {}", action.describe()));
            match action {
                Action::Run { cmd, may_fail } => {
                    let res = self.run_logged(cmd, log, &step.title);
                    if let Err(e) = res {
                        if !*may_fail {
                            return Err(e);
                        }
                    }
                }
                Action::WaitFor { what, cmd, timeout } => {
                    self.wait_for(what, cmd, *timeout, log)?
                }
                Action::MakeDirs { dirs } => {
                    for d in dirs {
                        std::fs::create_dir_all(d).map_err(|e| {
                            ActionError::new(format!("cannot create {}: {e}", d.display()))
                        })?;
                    }
                }
                Action::AppendBlock { path, lines } => append_block(self.sys, path, lines)
                    .map_err(|e| ActionError::new(e.to_string()))?,
                Action::WriteFile {
                    path,
                    contents,
                    record,
                } => {
                    self.sys
                        .write_atomic(path, contents.as_bytes())
                        .map_err(|e| ActionError::new(e.to_string()))?;
                    if let Some(record) = record {
                        if let Some(dir) = record.parent() {
                            std::fs::create_dir_all(dir).map_err(|e| {
                                ActionError::new(format!("cannot create {}: {e}", dir.display()))
                            })?;
                        }
                        self.sys
                            .write_atomic(record, contents.as_bytes())
                            .map_err(|e| ActionError::new(e.to_string()))?;
                    }
                }
                Action::Manual { message, fix } => {
                    return Err(ActionError::new(format!("{message}; run: {fix}")));
                }
                Action::TorchCheck { python } => {
                    applied.torch_check = Some(self.torch_check(python, log)?);
                }
                Action::Selftest => applied.selftest = Some(self.selftest(log)?),
                Action::Freeze { python, path } => self.freeze(python, path, log)?,
            }
        }
        Ok(())
    }

    /// Run a program, its output appended to the log, a spinner meanwhile
    /// showing what pip is at.
    fn run_logged(&self, cmd: &PlannedCmd, log: &Path, title: &str) -> Result<(), ActionError> {
        let line = cmd.line();
        let start = log_header(log, title, &line)?;
        if cmd.interactive {
            self.out.line(format!("      $ {line}"));
            let out = self
                .sys
                .run(&cmd.to_cmd())
                .map_err(|e| ActionError::new(e.to_string()))?;
            return if out.success() {
                Ok(())
            } else {
                Err(ActionError::new(format!(
                    "`{line}` exited with {}",
                    exit_text(out.status)
                )))
            };
        }
        let spinner = self.out.spinner(title.to_owned());
        let run = cmd
            .to_cmd()
            .log_to(log)
            .cancel_on(self.interrupted.clone())
            .record_child(self.ws.state_dir().join("child"));
        let result = std::thread::scope(|scope| {
            let handle = scope.spawn(|| self.sys.run(&run));
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(200));
                if let Some(now) = read_from(log, start).as_deref().and_then(current_activity) {
                    spinner.set_message(format!("{title}: {now}"));
                }
            }
            handle.join()
        });
        spinner.finish_and_clear();
        let tail = || last_lines(&read_from(log, start).unwrap_or_default(), TAIL_LINES);
        match result {
            Ok(Ok(out)) if out.success() => Ok(()),
            Ok(Ok(out)) => Err(ActionError::with_tail(
                format!("`{line}` exited with {}", exit_text(out.status)),
                tail(),
            )),
            Ok(Err(e)) => Err(ActionError::with_tail(e.to_string(), tail())),
            Err(_) => Err(ActionError::new(format!("`{line}` could not be watched"))),
        }
    }

    fn wait_for(
        &self,
        what: &str,
        cmd: &PlannedCmd,
        timeout: Duration,
        log: &Path,
    ) -> Result<(), ActionError> {
        log_header(log, &format!("waiting for {what}"), &cmd.line())?;
        let spinner = self.out.spinner(format!("waiting for {what}"));
        let started = Instant::now();
        loop {
            if self.sys.run(&cmd.to_cmd()).is_ok_and(|o| o.success()) {
                spinner.finish_and_clear();
                return Ok(());
            }
            if self.is_interrupted() {
                spinner.finish_and_clear();
                return Err(ActionError::new("interrupted"));
            }
            if started.elapsed() > timeout {
                spinner.finish_and_clear();
                return Err(ActionError::new(format!(
                    "gave up waiting for {what} after {} minutes",
                    timeout.as_secs() / 60
                )));
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// Run a program, capturing its output, and copy both streams into the log.
    fn capture(
        &self,
        cmd: Cmd,
        line: &str,
        title: &str,
        log: &Path,
    ) -> Result<crate::system::Output, ActionError> {
        log_header(log, title, line)?;
        let spinner = self.out.spinner(title.to_owned());
        let out = self.sys.run(
            &cmd.cancel_on(self.interrupted.clone())
                .record_child(self.ws.state_dir().join("child")),
        );
        spinner.finish_and_clear();
        let out = out.map_err(|e| ActionError::new(e.to_string()))?;
        step_log::append(log, &out.stdout)?;
        step_log::append(log, &out.stderr)?;
        Ok(out)
    }

    fn torch_check(&self, python: &EnvPython, log: &Path) -> Result<Value, ActionError> {
        let flags: &[&str] = if python.user_site {
            &["-E", "-B", "-c"]
        } else {
            &["-I", "-B", "-c"]
        };
        let planned = python.cmd(flags).arg(TORCH_CHECK_SCRIPT);
        let line = format!(
            "{} -c <scripts/torch_check.py>",
            python.cmd(&flags[..2]).line()
        );
        let out = self.capture(
            planned.to_cmd().timeout(Duration::from_secs(600)),
            &line,
            "PyTorch check",
            log,
        )?;
        let doc = last_json(&out.stdout_text());
        match doc {
            Some(v) if v["ok"] == Value::Bool(true) => {
                self.out.line(format!(
                    "      torch {} on {}: weight {:.3}, bias {:.3} (the book expects about 3 and 2)",
                    v["torch"].as_str().unwrap_or("?"),
                    v["device"].as_str().unwrap_or("?"),
                    v["weight"].as_f64().unwrap_or(f64::NAN),
                    v["bias"].as_f64().unwrap_or(f64::NAN)
                ));
                Ok(v)
            }
            Some(v) => Err(ActionError::with_tail(
                format!(
                    "the PyTorch check failed: {}",
                    v["error"].as_str().unwrap_or("no reason given")
                ),
                out.tail(TAIL_LINES),
            )),
            None => Err(ActionError::with_tail(
                format!(
                    "the PyTorch check printed no result (exit {})",
                    exit_text(out.status)
                ),
                out.tail(TAIL_LINES),
            )),
        }
    }

    fn selftest(&self, log: &Path) -> Result<Value, ActionError> {
        let exe = self
            .sys
            .current_exe()
            .ok_or_else(|| ActionError::new("cannot find ttm's own executable"))?;
        let cmd = Cmd::new(&exe)
            .args(["selftest", "--json"])
            .timeout(Duration::from_secs(1200));
        let out = self.capture(cmd, "ttm selftest --json", "ttm selftest", log)?;
        match last_json(&out.stdout_text()) {
            Some(v) if v["ready"] == Value::Bool(true) => Ok(v),
            Some(v) => Err(ActionError::with_tail(
                "the self-test says this machine is not ready",
                last_lines(
                    &serde_json::to_string_pretty(&v).unwrap_or_default(),
                    TAIL_LINES,
                ),
            )),
            None => Err(ActionError::with_tail(
                format!(
                    "`ttm selftest --json` printed no result (exit {})",
                    exit_text(out.status)
                ),
                out.tail(TAIL_LINES),
            )),
        }
    }

    fn freeze(&self, python: &EnvPython, path: &Path, log: &Path) -> Result<(), ActionError> {
        let mut planned = python.cmd(&["-m", "pip", "freeze"]);
        if python.user_site {
            planned = planned.arg("--user");
        }
        let cmd = planned
            .to_cmd()
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .timeout(Duration::from_secs(300));
        let out = self.capture(cmd, &planned.line(), "pip freeze", log)?;
        if !out.success() {
            return Err(ActionError::with_tail(
                format!("pip freeze exited with {}", exit_text(out.status)),
                out.tail(TAIL_LINES),
            ));
        }
        self.sys
            .write_atomic(path, &out.stdout)
            .map_err(|e| ActionError::new(e.to_string()))
    }
}

fn exit_text(status: Option<i32>) -> String {
    match status {
        Some(c) => format!("code {c}"),
        None => "a signal".into(),
    }
}
