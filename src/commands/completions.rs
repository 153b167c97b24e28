//! `ttm completions SHELL`: clap_complete's script for the shell, on stdout.
//!
//! `--template` completes to the templates' names: the built-in ones, and
//! the user's own found in the workspace now (run it again after adding
//! one). Any name still parses; the list is only what the shell offers.

use clap::CommandFactory;

use super::{Context, Status};
use crate::cli::{Cli, CompletionsArgs, TemplateNames};
use crate::error::Result;
use crate::scaffold::template;

pub fn run(ctx: &Context, args: &CompletionsArgs) -> Result<Status> {
    let names = template_names(ctx);
    // The hidden global `--yes` stays out of the commands that never ask
    // (bash and zsh would offer a hidden flag): only setup and scaffold new,
    // which declare their own, complete it.
    let mut cmd = Cli::command()
        .mut_arg("yes", |arg| arg.global(false))
        .mut_subcommand("scaffold", |scaffold| {
            scaffold.mut_subcommand("new", |new| {
                new.mut_arg("template", |arg| arg.value_parser(names))
            })
        });
    // Into memory first: clap_complete panics when its writer fails.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ttm", &mut script);
    crate::ui::pipe::out_bytes(&script);
    Ok(Status::Success)
}

/// Every template with its description; the built-in names alone where the
/// workspace cannot be read (completions never fail for that).
fn template_names(ctx: &Context) -> TemplateNames {
    let found = ctx
        .workspace()
        .and_then(|ws| template::load_all(&ctx.sys, &ws));
    match found {
        Ok((templates, _broken)) => TemplateNames(
            templates
                .into_iter()
                // clap keeps value names as `&'static str`; this process
                // prints one script and ends.
                .map(|t| {
                    let name: &'static str = Box::leak(t.name.into_boxed_str());
                    (name, one_line(&t.metadata.description))
                })
                .collect(),
        ),
        Err(_) => TemplateNames::built_in(),
    }
}

/// A description as the shells show it: one line, no control characters.
fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}
