//! One file per command; each turns its flags into options (`crate::args`),
//! drives its domain module and returns how it ended. Errors go back up to `main_entry`, which prints them.

pub mod bench;
pub mod completions;
pub mod doctor;
pub mod scaffold;
pub mod selftest;
pub mod setup;

use std::path::Path;
use std::process::ExitCode;

use crate::args;
use crate::cli::{Command, GlobalArgs};
use crate::error::Result;
use crate::system::System;
use crate::ui::{Printer, Prompter};
use crate::workspace::Workspace;

/// What every command gets: the machine, the printer, the global flags.
pub struct Context {
    pub sys: System,
    pub out: Printer,
    pub global: GlobalArgs,
}

impl Context {
    pub fn new(sys: System, global: &GlobalArgs) -> Context {
        let out = Printer::new(&sys, &args::output_options(global));
        Context {
            sys,
            out,
            global: global.clone(),
        }
    }

    /// The workspace from --workspace, $TTM_WORKSPACE or HOME.
    pub fn workspace(&self) -> Result<Workspace> {
        Workspace::locate(&self.sys, self.global.workspace.as_deref().map(Path::new))
    }

    /// Who answers questions: a person at a terminal, or --yes.
    pub fn prompter(&self) -> Prompter {
        Prompter {
            interactive: self.sys.stdin_is_terminal() && !self.global.yes,
            assume_yes: self.global.yes,
        }
    }
}

/// How a command that ran to its end finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0.
    Success,
    /// Exit 1: the command did its work and the answer is "not ready" / "failed".
    Failure,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        match s {
            Status::Success => ExitCode::SUCCESS,
            Status::Failure => ExitCode::from(1),
        }
    }
}

pub fn run(ctx: &Context, command: Command) -> Result<Status> {
    match command {
        Command::Doctor(args) => doctor::run(ctx, &args),
        Command::Setup(args) => setup::run(ctx, &args),
        Command::Selftest(args) => selftest::run(ctx, &args),
        Command::Bench(args) => bench::run(ctx, &args),
        Command::Scaffold(cmd) => scaffold::run(ctx, &cmd),
        Command::Completions(args) => completions::run(ctx, &args),
    }
}
