//! `ttm completions SHELL`: clap_complete's script for the shell, on stdout.

use clap::CommandFactory;

use super::{Context, Status};
use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

pub fn run(_ctx: &Context, args: &CompletionsArgs) -> Result<Status> {
    let mut cmd = Cli::command();
    // Into memory first: clap_complete panics when its writer fails.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ttm", &mut script);
    crate::ui::pipe::out_bytes(&script);
    Ok(Status::Success)
}
