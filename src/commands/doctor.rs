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
use crate::checks::report::{redact, render_report, run_collect_env};
use crate::checks::{self, CheckId, CheckResult, CheckStatus, Tally};
use crate::cli::DoctorArgs;
use crate::error::Result;
use crate::platform::{self, Facts, Os, Probe};
use crate::ui::tilde::tilde;
use crate::ui::{wrap, Printer};

#[derive(Serialize)]
struct DoctorJson<'a> {
    schema: u32,
    ready: bool,
    facts: &'a Facts,
    checks: &'a [CheckResult],
    /// With `--report`: the Markdown report, as `--report` alone prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<String>,
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

    // A report goes to public trackers: no user name in it unless asked.
    let report = args.report.then(|| {
        let collect_env = run_collect_env(&probe, &facts);
        let report = render_report(&facts, &results, &collect_env);
        match ctx.sys.home() {
            Ok(home) if !args.no_redact => redact(&report, &home),
            _ => report,
        }
    });
    if ctx.out.json {
        // With --report too: the same document, the report in its `report` key.
        ctx.out.json_doc(&DoctorJson {
            schema: 1,
            ready,
            facts: &facts,
            checks: &results,
            report,
        });
    } else if let Some(report) = report {
        ctx.out.result(report);
    } else {
        let setup = super::setup::would_fix(ctx, &ws, &facts, &results)
            .map(|(fixed, blockers)| SetupFixes { fixed, blockers });
        // Paths under HOME as ~/…, as the user types them.
        let home = ctx.sys.home().ok();
        let shown: Vec<CheckResult> = results
            .iter()
            .map(|r| CheckResult {
                summary: tilde(&r.summary, home.as_deref()),
                detail: r.detail.as_deref().map(|d| tilde(d, home.as_deref())),
                ..r.clone()
            })
            .collect();
        let width = wrap::terminal_width(&ctx.sys);
        print_human(&ctx.out, width, &facts, &shown, setup);
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

/// The widest label ("Command Line Tools") and a space.
const LABEL_WIDTH: usize = 19;

/// What `ttm setup` would do about the problems shown (see [`super::setup::would_fix`]).
struct SetupFixes {
    fixed: Vec<CheckId>,
    /// The checks whose failure stops setup until fixed by hand.
    blockers: Vec<CheckId>,
}

fn print_human(
    out: &Printer,
    width: Option<usize>,
    facts: &Facts,
    results: &[CheckResult],
    setup: Option<SetupFixes>,
) {
    let verbose = out.verbosity >= crate::ui::Verbosity::Verbose;
    out.line(if verbose {
        "Doctor summary:".to_owned()
    } else {
        "Doctor summary (details: ttm doctor -v):".to_owned()
    });
    // A wrapped summary goes on under its own first word.
    let hang = 2 + LABEL_WIDTH + 1;
    let mut fixes_shown: Vec<(&str, CheckId)> = Vec::new();
    for r in results {
        // A check that cannot apply here ("not a Mac") is noise unless asked for.
        if !verbose && r.status == CheckStatus::Skip && r.id.mac_only() && facts.os != Os::Macos {
            continue;
        }
        let line = wrap::hanging(
            &format!(
                "{} {:<LABEL_WIDTH$} {}",
                symbol(out, r.status),
                r.id.label(),
                r.summary
            ),
            hang,
            width,
        );
        let problem = matches!(r.status, CheckStatus::Warn | CheckStatus::Fail);
        // Problems show even under --quiet; what is fine does not.
        if problem {
            out.result(&line);
        } else {
            out.line(&line);
        }
        if let Some(d) = &r.detail {
            for l in d.lines() {
                out.verbose(out.dim(wrap::hanging(&format!("    {l}"), 4, width)));
            }
        }
        let Some(fix) = r.fix.as_deref().filter(|_| problem) else {
            continue;
        };
        // A command is never broken across lines: it must paste as it is.
        match fixes_shown.iter().find(|(f, _)| *f == fix) {
            Some((_, first)) => {
                out.result(out.dim(format!("    (the same fix as {})", first.label())))
            }
            None => {
                out.result(format!("    fix: {fix}"));
                fixes_shown.push((fix, r.id));
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
            out.verbose(wrap::hanging(&format!("    {p}"), 6, width));
        }
    }
    out.result("");
    out.result(summary_line(out, results));
    if let Some(line) = setup.and_then(|s| setup_line(&s)) {
        out.result(wrap::hanging(&line, 0, width));
    }
}

/// "`ttm setup` fixes 4 of these …", or None when it fixes none.
fn setup_line(s: &SetupFixes) -> Option<String> {
    let n = s.fixed.len();
    if n == 0 {
        return None;
    }
    Some(if s.blockers.is_empty() {
        format!("`ttm setup` fixes {n} of these (it shows its plan and asks first).")
    } else {
        let first: Vec<&str> = s.blockers.iter().map(|b| b.label()).collect();
        format!(
            "`ttm setup` fixes {n} of these once {} {} fixed (until then it changes nothing).",
            first.join(" and "),
            if first.len() == 1 { "is" } else { "are" }
        )
    })
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
