//! Prompts, only where a person can answer. Without a terminal on stdin and
//! without `--yes`, a command that would ask fails at once (exit 2) instead
//! of hanging; with `--yes` it takes the defaults.
//!
//! Ctrl-C at a prompt is the user's answer, not a crash: the terminal reads
//! it as a key (raw mode), and `console` then raises SIGINT, which would end
//! ttm before dialoguer shows the cursor again. While a prompt waits, the
//! signal only raises a flag ([`Catch`]); the prompt returns, the cursor is
//! shown, and the command ends with [`Error::Interrupted`] (exit 130, as a
//! shell reports a Ctrl-C).

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Select};

use crate::error::{Error, Result};
use crate::setup::interrupt::Catch;

#[derive(Debug, Clone)]
pub struct Prompter {
    /// A person can answer (stdin is a terminal and --yes was not given).
    pub interactive: bool,
    /// --yes: take every default.
    pub assume_yes: bool,
}

impl Prompter {
    /// Fail now when `command` would need an answer that nobody can give.
    pub fn require_answers(&self, command: &str) -> Result<()> {
        if self.interactive || self.assume_yes {
            Ok(())
        } else {
            Err(Error::NoTerminal {
                command: command.to_owned(),
            })
        }
    }

    /// Choose one of `items`; `default` under --yes.
    pub fn select(&self, prompt: &str, items: &[&str], default: usize) -> Result<usize> {
        if !self.interactive {
            return Ok(default);
        }
        ask(|| {
            Select::with_theme(&ColorfulTheme::default())
                .with_prompt(prompt)
                .items(items)
                .default(default)
                .interact()
        })
    }

    /// Yes or no; `default` under --yes.
    pub fn confirm(&self, prompt: &str, default: bool) -> Result<bool> {
        if !self.interactive {
            return Ok(default);
        }
        ask(|| {
            Confirm::with_theme(&ColorfulTheme::default())
                .with_prompt(prompt)
                .default(default)
                .interact()
        })
    }

    /// A line of text, checked by `validate` (a bad one is said and asked
    /// again); `default` under --yes.
    pub fn input(
        &self,
        prompt: &str,
        default: &str,
        validate: impl Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        if !self.interactive {
            return Ok(default.to_owned());
        }
        ask(|| {
            Input::<String>::with_theme(&ColorfulTheme::default())
                .with_prompt(prompt)
                .default(default.to_owned())
                .validate_with(|s: &String| validate(s))
                .interact_text()
        })
    }
}

/// One prompt, with Ctrl-C caught while it waits (module docs).
fn ask<T>(prompt: impl FnOnce() -> dialoguer::Result<T>) -> Result<T> {
    let catch = Catch::ctrl_c();
    let answer = prompt();
    let interrupted = catch.interrupted();
    drop(catch);
    match answer {
        Ok(v) if !interrupted => Ok(v),
        Ok(_) => Err(restore_terminal()),
        Err(dialoguer::Error::IO(io))
            if interrupted || io.kind() == std::io::ErrorKind::Interrupted =>
        {
            Err(restore_terminal())
        }
        Err(dialoguer::Error::IO(io)) => {
            Err(Error::failed(format!("cannot read the answer: {io}")))
        }
    }
}

/// Show the cursor a prompt hid and leave its line, so the shell's prompt
/// starts clean; what the command prints next comes below.
fn restore_terminal() -> Error {
    let term = console::Term::stderr();
    let _ = term.show_cursor();
    let _ = term.write_line("");
    Error::Interrupted
}
