//! The one error type. Every variant carries what the user needs to act:
//! what went wrong, where, and (through [`Error::fix`]) the command that fixes it.
//! `lib::main_entry` prints it once and exits with [`Error::code`].

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value the user gave is wrong. Exit 2.
    #[error("{message}")]
    BadInput { message: String },

    /// A command would prompt, but there is no terminal and no --yes. Exit 2.
    #[error("`ttm {command}` needs answers and there is no terminal to ask on: pass --yes to accept the defaults, or the flags")]
    NoTerminal { command: String },

    /// The user chose Cancel: their answer, not a failure (no `error:`). Exit 2.
    #[error("Cancelled. Nothing was changed.")]
    Cancelled,

    /// Ctrl-C at a prompt: said plainly, like Cancel. Exit 130, as a shell
    /// reports a command ended by Ctrl-C.
    #[error("Cancelled.")]
    Interrupted,

    /// HOME is not set, so there is no default workspace. Exit 2.
    #[error("HOME is not set: set it, or pass --workspace PATH")]
    HomeUnset,

    /// The workspace path is unusable (a file, or inside a file). Exit 2.
    #[error("workspace {}: {reason}", path.display())]
    BadWorkspace { path: PathBuf, reason: String },

    /// A file could not be read or written. Exit 1.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A program could not be run, or failed. Exit 1.
    #[error("{program}: {message}")]
    Program { program: String, message: String },

    /// A file of ours is not what we expect (bad TOML, JSON, lock line). Exit 2.
    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },

    /// The requested device or backend cannot run here. Exit 2.
    #[error("{message}")]
    Unavailable { message: String },

    /// What was asked for needs a program that is not installed; the fix
    /// installs it. Exit 2.
    #[error("{message}")]
    NotInstalled { message: String, fix: String },

    /// A step of work failed; the message says which and where the log is. Exit 1.
    #[error("{message}")]
    Failed {
        message: String,
        fix: Option<String>,
    },
}

impl Error {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Error::BadInput {
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Error::Failed {
            message: message.into(),
            fix: None,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The exit code: 2 for bad input and refusals, 1 for work that failed.
    pub fn code(&self) -> u8 {
        match self {
            Error::BadInput { .. }
            | Error::NoTerminal { .. }
            | Error::Cancelled
            | Error::HomeUnset
            | Error::BadWorkspace { .. }
            | Error::BadFile { .. }
            | Error::Unavailable { .. }
            | Error::NotInstalled { .. } => 2,
            Error::Io { .. } | Error::Program { .. } | Error::Failed { .. } => 1,
            Error::Interrupted => 130,
        }
    }

    /// The user's own choice (Cancel, Ctrl-C at a prompt): printed as it
    /// is, without `error:`.
    pub fn is_users_choice(&self) -> bool {
        matches!(self, Error::Cancelled | Error::Interrupted)
    }

    /// The command that fixes it, when there is one.
    pub fn fix(&self) -> Option<&str> {
        match self {
            Error::Failed { fix, .. } => fix.as_deref(),
            Error::NotInstalled { fix, .. } => Some(fix),
            _ => None,
        }
    }
}
