//! Prompts, only where a person can answer. Without a terminal on stdin and
//! without `--yes`, a command that would ask fails at once (exit 2) instead
//! of hanging; with `--yes` it takes the defaults.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Select};

use crate::error::{Error, Result};

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
        Select::with_theme(&ColorfulTheme::default())
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(prompt_error)
    }

    /// Yes or no; `default` under --yes.
    pub fn confirm(&self, prompt: &str, default: bool) -> Result<bool> {
        if !self.interactive {
            return Ok(default);
        }
        Confirm::with_theme(&ColorfulTheme::default())
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(prompt_error)
    }

    /// A line of text, checked by `validate`; `default` under --yes.
    pub fn input(
        &self,
        prompt: &str,
        default: &str,
        validate: impl Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        if !self.interactive {
            return Ok(default.to_owned());
        }
        Input::<String>::with_theme(&ColorfulTheme::default())
            .with_prompt(prompt)
            .default(default.to_owned())
            .validate_with(|s: &String| validate(s))
            .interact_text()
            .map_err(prompt_error)
    }
}

fn prompt_error(e: dialoguer::Error) -> Error {
    match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            Error::Cancelled
        }
        dialoguer::Error::IO(io) => Error::failed(format!("cannot read the answer: {io}")),
    }
}
