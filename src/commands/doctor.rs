//! `ttm doctor`: is this machine ready for the book?
//!
//! 1. Validate the inputs (the workspace path, `TTM_PROBE_TIMEOUT`).
//! 2. Detect the facts, every probe in parallel and bounded in time (`platform::detect`).
//! 3. Run the 14 checks over the facts (`checks::run_all`).
//! 4. Print them: one line each like `flutter doctor` (`-v` adds details),
//!    one JSON document with `--json`, or a Markdown report with `--report`.
//! 5. Exit 0 when no check failed (warnings allowed), 1 otherwise.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::{Context, Status};
use crate::checks::{self, CheckResult, CheckStatus};
use crate::cli::DoctorArgs;
use crate::error::Result;
use crate::platform::{self, Facts, Probe};
use crate::system::Cmd;
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
    let probe = Probe::with_timeout(&ctx.sys, timeout);

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

/// "Ready", "Ready, 2 warnings", "Not ready: 1 problem, 1 warning".
fn summary_line(out: &Printer, results: &[CheckResult]) -> String {
    let fails = results
        .iter()
        .filter(|r| r.status == CheckStatus::Fail)
        .count();
    let warns = results
        .iter()
        .filter(|r| r.status == CheckStatus::Warn)
        .count();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if fails == 0 {
        let s = if warns == 0 {
            "Ready".to_owned()
        } else {
            format!("Ready, {}", plural(warns, "warning"))
        };
        out.green(s)
    } else {
        let mut s = format!("Not ready: {}", plural(fails, "problem"));
        if warns > 0 {
            s.push_str(&format!(", {}", plural(warns, "warning")));
        }
        out.red(s)
    }
}

/// What `python -m torch.utils.collect_env` printed, or why there is nothing.
fn run_collect_env(probe: &Probe, facts: &Facts) -> std::result::Result<String, String> {
    if facts
        .torch
        .as_ref()
        .and_then(|t| t.version.as_ref())
        .is_none()
    {
        return Err("not run: PyTorch does not import in the project environment".into());
    }
    let python = match &facts.env {
        Some(e) => e.python.clone(),
        None => probe
            .sys
            .which("python3")
            .ok_or("not run: no python3 on PATH")?,
    };
    let timeout = (probe.timeout * 3).max(Duration::from_secs(30));
    let cmd = Cmd::new(&python)
        .args(["-m", "torch.utils.collect_env"])
        .timeout(timeout);
    match probe.sys.run(&cmd) {
        Ok(out) if out.success() => Ok(out.stdout_text()),
        Ok(out) => Err(format!("failed: {}", out.tail(3))),
        Err(e) => Err(e.to_string()),
    }
}

fn render_report(
    facts: &Facts,
    results: &[CheckResult],
    collect_env: &std::result::Result<String, String>,
) -> String {
    let mut md = String::new();
    let plain = Printer::plain();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "True",
        Some(false) => "False",
        None => "unknown",
    };
    let _ = writeln!(md, "# ttm doctor report\n");
    let _ = writeln!(
        md,
        "ttm {} · {}\n",
        env!("CARGO_PKG_VERSION"),
        summary_line(&plain, results)
    );
    let _ = writeln!(md, "## Checks\n");
    let _ = writeln!(md, "| check | status | summary |\n| --- | --- | --- |");
    for r in results {
        let status = serde_json::to_value(r.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            r.id,
            status,
            r.summary.replace('|', "\\|")
        );
    }
    let _ = writeln!(md, "\n## Machine\n");
    let os = match facts.os {
        crate::platform::Os::Macos => "macOS",
        crate::platform::Os::Linux => "Linux",
        crate::platform::Os::Other => "other",
    };
    let _ = writeln!(
        md,
        "- OS: {os} {} ({})",
        opt(&facts.os_version),
        opt(&facts.os_build)
    );
    let _ = writeln!(
        md,
        "- Architecture: {} (this process: {})",
        opt(&facts.arch),
        opt(&facts.process_arch)
    );
    let rosetta = match facts.rosetta {
        Some(true) => "yes, this process is translated",
        Some(false) => "no",
        None => "not applicable",
    };
    let _ = writeln!(
        md,
        "- Apple Silicon: {}; Rosetta: {rosetta}",
        facts.apple_silicon
    );
    let _ = writeln!(md, "- Chip: {}", opt(&facts.chip));
    let _ = writeln!(
        md,
        "- Memory: {}",
        facts
            .memory_bytes
            .map(|m| format!("{m} bytes ({:.1} GiB)", m as f64 / (1u64 << 30) as f64))
            .unwrap_or_else(|| "unknown".into())
    );
    let cores = match (
        facts.cpu_cores,
        facts.performance_cores,
        facts.efficiency_cores,
    ) {
        (Some(c), Some(p), Some(e)) => format!("{c} ({p} performance, {e} efficiency)"),
        (Some(c), _, _) => c.to_string(),
        _ => "unknown".into(),
    };
    let _ = writeln!(md, "- CPU cores: {cores}");
    for g in &facts.gpus {
        let _ = writeln!(
            md,
            "- GPU: {} ({}){}{}",
            g.name,
            g.vendor,
            g.cores.map(|c| format!(", {c} cores")).unwrap_or_default(),
            g.driver
                .as_deref()
                .map(|d| format!(", {d}"))
                .unwrap_or_default()
        );
    }
    if let Some(p) = &facts.python {
        let _ = writeln!(
            md,
            "- python3: {} {} ({})",
            p.path.display(),
            p.version,
            p.machine
        );
    }
    if let Some(c) = &facts.conda {
        let _ = writeln!(md, "- conda: {} ({})", opt(&c.version), opt(&c.platform));
    }
    if let Some(e) = &facts.env {
        let flavor = match e.flavor {
            crate::platform::EnvFlavor::Venv => "venv",
            crate::platform::EnvFlavor::Conda => "conda env",
        };
        let _ = writeln!(
            md,
            "- Environment: {flavor} {} at {} (Python {}, {})",
            e.name,
            e.prefix.display(),
            opt(&e.python_version),
            opt(&e.python_machine)
        );
    }
    let _ = writeln!(md, "\n## MPS (not in collect_env)\n");
    match &facts.torch {
        Some(t) => {
            let _ = writeln!(
                md,
                "- torch: {}",
                t.version.clone().unwrap_or_else(|| format!(
                    "does not import ({})",
                    t.error.clone().unwrap_or_default()
                ))
            );
            let _ = writeln!(
                md,
                "- torch.backends.mps.is_built(): {}",
                yes_no(t.mps_built)
            );
            let _ = writeln!(
                md,
                "- torch.backends.mps.is_available(): {}",
                yes_no(t.mps_available)
            );
        }
        None => {
            let _ = writeln!(md, "- torch: not probed");
        }
    }
    if facts.torch_env_vars.is_empty() {
        let _ = writeln!(
            md,
            "- PYTORCH_MPS_* / PYTORCH_ENABLE_MPS_FALLBACK: none set"
        );
    } else {
        for (k, v) in &facts.torch_env_vars {
            let _ = writeln!(md, "- {k}={v}");
        }
    }
    let _ = writeln!(md, "\n## python -m torch.utils.collect_env\n");
    match collect_env {
        Ok(text) => {
            let _ = writeln!(md, "```\n{}\n```", text.trim_end());
        }
        Err(why) => {
            let _ = writeln!(md, "{why}");
        }
    }
    if !facts.problems.is_empty() {
        let _ = writeln!(md, "\n## Probe problems\n");
        for p in &facts.problems {
            let _ = writeln!(md, "- {p}");
        }
    }
    md.trim_end().to_owned()
}
