//! One printer decides what reaches the terminal (uv's `printer.rs`).
//!
//! - `--json`: stdout holds exactly one JSON document; nothing else goes there.
//! - `--quiet`: only errors and warnings, on stderr.
//! - colour: `--color always|never`, or under `auto` only when the stream is a
//!   terminal, `NO_COLOR` is unset or empty, and `TERM` is not `dumb`.
//! - progress bars go to stderr, only on a terminal, never with --json or --quiet.

use std::fmt::Display;
use std::time::Duration;

use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::env_vars;
use crate::error::Error;
use crate::system::System;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// Only on a terminal, with `NO_COLOR` unset and `TERM` not `dumb`.
    Auto,
    Always,
    Never,
}

/// What the printer is told by the command line (built in `crate::args`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputOptions {
    pub json: bool,
    pub verbosity: Verbosity,
    pub color: ColorMode,
}

#[derive(Debug, Clone)]
pub struct Printer {
    pub json: bool,
    pub verbosity: Verbosity,
    color_out: bool,
    color_err: bool,
    progress: bool,
    /// Whether the one JSON document of this run was printed (an error
    /// after it does not print a second one).
    json_printed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Printer {
    pub fn new(sys: &System, options: &OutputOptions) -> Printer {
        let env_allows = sys.var_non_empty(env_vars::NO_COLOR).is_none()
            && sys.var(env_vars::TERM).as_deref() != Some("dumb");
        let (color_out, color_err) = match options.color {
            ColorMode::Always => (true, true),
            ColorMode::Never => (false, false),
            ColorMode::Auto => (
                env_allows && sys.stdout_is_terminal(),
                env_allows && sys.stderr_is_terminal(),
            ),
        };
        super::pipe::set_json(options.json);
        console::set_colors_enabled(color_out);
        console::set_colors_enabled_stderr(color_err);
        Printer {
            json: options.json,
            verbosity: options.verbosity,
            color_out,
            color_err,
            progress: sys.stderr_is_terminal()
                && !options.json
                && options.verbosity != Verbosity::Quiet,
            json_printed: Default::default(),
        }
    }

    /// A printer for unit tests: plain text, normal verbosity.
    pub fn plain() -> Printer {
        Printer {
            json: false,
            verbosity: Verbosity::Normal,
            color_out: false,
            color_err: false,
            progress: false,
            json_printed: Default::default(),
        }
    }

    pub fn color(&self) -> bool {
        self.color_out
    }

    /// A line of normal output (not with --json or --quiet).
    pub fn line(&self, text: impl Display) {
        if !self.json && self.verbosity >= Verbosity::Normal {
            super::pipe::out_line(text);
        }
    }

    /// A line shown only with --verbose.
    pub fn verbose(&self, text: impl Display) {
        if !self.json && self.verbosity >= Verbosity::Verbose {
            super::pipe::out_line(text);
        }
    }

    /// Output that is the command's result even under --quiet (a report, a table asked for).
    pub fn result(&self, text: impl Display) {
        if !self.json {
            super::pipe::out_line(text);
        }
    }

    /// The one JSON document of a --json run.
    pub fn json_doc<T: Serialize>(&self, value: &T) {
        self.json_printed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        match serde_json::to_string_pretty(value) {
            Ok(s) => super::pipe::out_line(s),
            Err(e) => super::pipe::err_line(format!("error: cannot encode JSON: {e}")),
        }
    }

    /// A warning on stderr (shown even under --quiet, never mixed into --json stdout).
    pub fn warn(&self, text: impl Display) {
        let label = self
            .err_style(Style::new().yellow().bold())
            .apply_to("warning:");
        super::pipe::err_line(format!("{label} {text}"));
    }

    /// The error, once, on stderr, with its fix on a second line.
    ///
    /// With `--json`, also as the run's JSON document on stdout (DESIGN.md:
    /// `{"schema": 1, "error": {"message", "fix", "code"}}`), unless the
    /// command already printed its document (a blocked setup's plan).
    pub fn error(&self, err: &Error) {
        if self.json && !self.json_printed.load(std::sync::atomic::Ordering::SeqCst) {
            self.json_doc(&error_doc(&err.to_string(), err.fix(), err.code()));
        }
        if err.is_users_choice() {
            super::pipe::err_line(err);
            return;
        }
        let label = self.err_style(Style::new().red().bold()).apply_to("error:");
        super::pipe::err_line(format!("{label} {err}"));
        if let Some(fix) = err.fix() {
            super::pipe::err_line(format!("  fix: {fix}"));
        }
    }

    fn err_style(&self, s: Style) -> Style {
        if self.color_err {
            s.force_styling(true)
        } else {
            Style::new()
        }
    }

    fn out_style(&self, s: Style) -> Style {
        if self.color_out {
            s.force_styling(true)
        } else {
            Style::new()
        }
    }

    pub fn green(&self, text: impl Display) -> String {
        self.out_style(Style::new().green())
            .apply_to(text)
            .to_string()
    }
    pub fn yellow(&self, text: impl Display) -> String {
        self.out_style(Style::new().yellow())
            .apply_to(text)
            .to_string()
    }
    pub fn red(&self, text: impl Display) -> String {
        self.out_style(Style::new().red())
            .apply_to(text)
            .to_string()
    }
    pub fn bold(&self, text: impl Display) -> String {
        self.out_style(Style::new().bold())
            .apply_to(text)
            .to_string()
    }
    pub fn dim(&self, text: impl Display) -> String {
        self.out_style(Style::new().dim())
            .apply_to(text)
            .to_string()
    }

    /// A progress bar of `len` steps on stderr; hidden where progress is not shown.
    pub fn progress_bar(&self, len: u64, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(len), self.draw_target());
        bar.set_style(
            // The message takes what the terminal's width leaves (cut, never wrapped).
            ProgressStyle::with_template("{spinner} [{bar:20}] {elapsed:>4} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(message.into());
        bar
    }

    /// A spinner with a message on stderr, for work of unknown length.
    pub fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.draw_target());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    fn draw_target(&self) -> ProgressDrawTarget {
        if self.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }
}

/// The JSON document of a refusal or failure.
pub fn error_doc(message: &str, fix: Option<&str>, code: u8) -> serde_json::Value {
    serde_json::json!({
        "schema": 1,
        "error": {"message": message, "fix": fix, "code": code},
    })
}
