//! `ttm` turns a fresh Mac (or a Linux box with an NVIDIA GPU) into a ready
//! PyTorch workstation and proves it is ready.
//!
//! The shape: `cli` parses argv, `args` turns the flags into validated
//! options, `commands::<cmd>` drives one command, the
//! domain modules do the work, and [`system::System`] is the only door to the
//! machine (environment, programs, files under HOME).

pub mod account;
pub mod alloc_budget;
pub mod args;
pub mod bench;
pub mod calendar;
pub mod checks;
pub mod child_record;
pub mod cli;
pub mod commands;
pub mod compat;
pub mod compute;
pub mod env_kind;
pub mod env_vars;
pub mod error;
pub mod install;
pub mod manifest;
pub mod platform;
pub mod scaffold;
pub mod selftest;
pub mod setup;
pub mod system;
pub mod ui;
pub mod workspace;
pub mod workspace_lock;

use std::process::ExitCode;

/// Everything `main` does: snapshot the environment, parse argv, run the
/// command, print an error once and map it to an exit code.
pub fn main_entry() -> ExitCode {
    let sys = system::System::from_process();
    let cli = match cli::parse(sys.args()) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = err.exit_code().clamp(0, 255) as u8;
            if code != 0 && wants_json(&sys.args()) {
                let text = err.render().to_string();
                // The first paragraph: the error and its [possible values: …].
                let message = text
                    .lines()
                    .take_while(|l| !l.trim().is_empty())
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" ")
                    .trim_start_matches("error: ")
                    .to_owned();
                let fix = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("tip: "))
                    .map(str::to_owned)
                    .unwrap_or_else(|| "see `ttm --help`".to_owned());
                let doc = ui::error_doc(&message, Some(&fix), code);
                ui::pipe::out_line(serde_json::to_string_pretty(&doc).unwrap_or_default());
            }
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let sys = match cli
        .global
        .user
        .as_deref()
        .map(|name| become_user(&sys, name))
    {
        None => sys,
        Some(Ok(theirs)) => theirs,
        Some(Err(err)) => {
            let ctx = commands::Context::new(sys, &cli.global);
            ctx.out.error(&err);
            return ExitCode::from(err.code());
        }
    };
    let ctx = commands::Context::new(sys, &cli.global);
    let Some(command) = cli.command else {
        // Bare `ttm`: where to start, not a page of flags. Still exit 2
        // (DESIGN.md: bad input), as no command was given.
        ui::pipe::err_line(cli::START_HERE);
        return ExitCode::from(2);
    };
    match commands::run(&ctx, command) {
        Ok(status) => status.into(),
        Err(err) => {
            ctx.out.error(&err);
            ExitCode::from(err.code())
        }
    }
}

/// Whether argv asks for `--json` (before any `--`), for errors clap finds
/// before there are flags to read it from.
fn wants_json(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// `--user NAME`: switch to that account for good, before anything is read
/// or written, and see the machine as it does.
fn become_user(sys: &system::System, name: &str) -> error::Result<system::System> {
    let account = account::lookup(name)?;
    if !account::needs_switch(&account) {
        return Ok(sys.as_account(&account));
    }
    account::drop_to(&account)?;
    Ok(sys.as_account(&account))
}
