//! `ttm doctor`: is this machine ready for the book?
//!
//! 1. Validate the inputs (the workspace path, `TTM_PROBE_TIMEOUT`).
//! 2. Detect the facts, every probe in parallel and bounded in time (`platform::detect`).
//! 3. Run the 14 checks over the facts (`checks::run_all`).
//! 4. Print them: one line each like `flutter doctor` (`-v` adds details),
//!    one JSON document with `--json`, or a Markdown report with `--report`.
//! 5. Exit 0 when no check failed (warnings allowed), 1 otherwise.

use serde::Serialize;

use super::{Context, Status};
use crate::checks::report::{render_report, run_collect_env};
use crate::checks::{self, CheckResult, CheckStatus, Tally};
use crate::cli::DoctorArgs;
use crate::error::Result;
use crate::platform::{self, Facts, Probe};
use crate::ui::Printer;

#[derive(Serialize)]
struct DoctorJson<'a> {
    schema: u32,
    ready: bool,
    facts: &'a Facts,
    checks: &'a [CheckResult],
}

pub fn run(ctx: &Context, args: &DoctorArgs) -> Result<Status> {
    let ws = ctx.workspace()?;
    let timeout = Probe::timeout_from(&ctx.sys)?;
    let probe = Probe::with_timeout(&ctx.sys, timeout).keeping_answers();

    let spinner = ctx.out.spinner("checking this machine");
    let facts = platform::detect_with(&ctx.sys, &ws, &probe);
    let results = checks::run_all(&facts);
    spinner.finish_and_clear();
    let ready = checks::ready(&results);

    if ctx.out.json {
        ctx.out.json_doc(&DoctorJson {
            schema: 1,
            ready,
            facts: &facts,
            checks: &results,
        });
    } else if args.report {
        let collect_env = run_collect_env(&probe, &facts);
        ctx.out
            .result(render_report(&facts, &results, &collect_env));
    } else {
        print_human(&ctx.out, &facts, &results);
    }
    Ok(if ready {
        Status::Success
    } else {
        Status::Failure
    })
}

fn symbol(out: &Printer, s: CheckStatus) -> String {
    match s {
        CheckStatus::Ok => out.green("✓"),
        CheckStatus::Warn => out.yellow("!"),
        CheckStatus::Fail => out.red("✗"),
        CheckStatus::Skip => out.dim("−"),
    }
}

fn print_human(out: &Printer, facts: &Facts, results: &[CheckResult]) {
    let verbose = out.verbosity >= crate::ui::Verbosity::Verbose;
    out.line(if verbose {
        "Doctor summary:".to_owned()
    } else {
        "Doctor summary (details: ttm doctor -v):".to_owned()
    });
    for r in results {
        let line = format!("{} {:<14} {}", symbol(out, r.status), r.id, r.summary);
        let problem = matches!(r.status, CheckStatus::Warn | CheckStatus::Fail);
        // Problems show even under --quiet; what is fine does not.
        if problem {
            out.result(&line);
        } else {
            out.line(&line);
        }
        if let Some(d) = &r.detail {
            for l in d.lines() {
                out.verbose(format!("    {}", out.dim(l)));
            }
        }
        if let Some(fix) = &r.fix {
            if problem {
                out.result(format!("    fix: {fix}"));
            }
        }
    }
    if let (true, Some(asked)) = (verbose, facts.torch_kept_since) {
        out.verbose("");
        out.verbose(format!(
            "PyTorch's answer was kept from {} (in ~/.cache/ttm/probes); it is asked",
            crate::calendar::utc_timestamp(asked)
        ));
        out.verbose(
            "again when the env's python or packages, the OS build or the GPU driver change.",
        );
    }
    if verbose && !facts.problems.is_empty() {
        out.verbose("");
        out.verbose("Probe problems:");
        for p in &facts.problems {
            out.verbose(format!("    {p}"));
        }
    }
    out.result("");
    out.result(summary_line(out, results));
}

/// "Ready", "Ready, 2 warnings", "Not ready: 1 problem, 1 warning", coloured.
fn summary_line(out: &Printer, results: &[CheckResult]) -> String {
    let tally = Tally::of(results);
    if tally.ready() {
        out.green(tally.to_string())
    } else {
        out.red(tally.to_string())
    }
}
