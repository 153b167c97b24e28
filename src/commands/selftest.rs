//! `ttm selftest`: prove the GPU computes, with Burn, before any Python.
//!
//! 1. The flags, validated ([`crate::args::SelftestOptions`]): sizes, steps,
//!    device and backend, and a matmul larger than memory, refused before
//!    anything is allocated.
//! 2. Find the pairs to test: the one asked for, the best available (auto),
//!    or every available one (--all).
//! 3. On each, [`crate::selftest::run_pair`]: the book's training run against
//!    the f64 reference, then the N×N matmul against the CPU (one CPU
//!    baseline shared by all runs).
//! 4. One verdict line, or one JSON document ([`SelftestReport`]); exit 0
//!    ready, 1 failed, 2 bad input or the device is unavailable.

use super::{Context, Status};
use crate::args::{check_gpu_fits, SelftestOptions, TargetSelection};
use crate::cli::SelftestArgs;
use crate::compute::backends::CpuBackendNote;
use crate::compute::memory::cuda_free_bytes;
use crate::compute::training::{reference_fit, sparkline, TrainingProblem};
use crate::compute::{discover, discover_one, tunes_on_first_call, DeviceKind, Discovered};
use crate::error::Result;
use crate::selftest::report::SelftestReport;
use crate::selftest::{choose_runs, gflops, run_pair, times, SelftestRun, SelftestSettings};
use crate::ui::Printer;

pub fn run(ctx: &Context, args: &SelftestArgs) -> Result<Status> {
    let options = SelftestOptions::from_args(&ctx.sys, args)?;
    let all = options.targets == TargetSelection::All;

    let spinner = ctx.out.spinner("finding devices");
    let discovered = match &options.targets {
        TargetSelection::FirstOf(targets) => {
            targets.iter().map(|t| discover_one(&ctx.sys, *t)).collect()
        }
        TargetSelection::Best | TargetSelection::All => discover(&ctx.sys),
    };
    spinner.finish_and_clear();
    let chosen = choose_runs(&ctx.sys, all, &discovered)?;
    for d in &chosen {
        if d.target.device == DeviceKind::Cuda {
            check_gpu_fits(options.size, cuda_free_bytes(&ctx.sys), d.name.as_deref())?;
        }
    }

    let problem = TrainingProblem::book(options.seed, options.steps);
    let settings = SelftestSettings {
        reference: reference_fit(&problem),
        problem,
        seed: options.seed,
        size: options.size,
    };
    let mut cpu_baseline = None;
    let mut runs = Vec::new();
    for d in &chosen {
        let spinner = ctx.out.spinner("");
        let progress = |message: String| spinner.set_message(message);
        let first_tuning = tunes_on_first_call(&ctx.sys, d.target);
        runs.push(run_pair(
            d,
            &settings,
            &mut cpu_baseline,
            first_tuning,
            &progress,
        ));
        spinner.finish_and_clear();
    }

    let ready = runs.iter().all(SelftestRun::passed);
    let skipped: Vec<&Discovered> = discovered.iter().filter(|d| !d.available).collect();
    if ctx.out.json {
        ctx.out
            .json_doc(&SelftestReport::new(ready, &runs, all, &discovered));
    } else {
        let looked_for_gpu = options.targets == TargetSelection::Best;
        print_human(
            &ctx.out,
            &runs,
            &skipped,
            all,
            looked_for_gpu,
            &CpuBackendNote::current(&ctx.sys),
        );
    }
    Ok(if ready {
        Status::Success
    } else {
        Status::Failure
    })
}

fn print_human(
    out: &Printer,
    reports: &[SelftestRun],
    skipped: &[&Discovered],
    all: bool,
    looked_for_gpu: bool,
    cpu_note: &CpuBackendNote,
) {
    for r in reports {
        let backend = r.found.target.backend;
        out.line(out.bold(format!("{} · Burn {backend}", r.label())));
        match &r.training {
            Ok((fit, check)) => {
                out.line(format!(
                    "  training  {} steps, lr {}, seed {}: weight {:.4}, bias {:.4}, loss {:.4}",
                    r.problem.steps,
                    r.problem.lr,
                    r.seed,
                    fit.weight,
                    fit.bias,
                    fit.final_loss(),
                ));
                out.line(format!(
                    "            loss over the steps: {}",
                    sparkline(&fit.losses, 40)
                ));
                out.line(format!(
                    "            f64 reference: weight {:.4}, bias {:.4}; largest difference {:.1e}: {}",
                    r.reference.weight,
                    r.reference.bias,
                    check.max_abs_diff,
                    mark(out, check.passed())
                ));
            }
            Err(e) => out.line(format!("  training  {}", out.red(e))),
        }
        match &r.matmul {
            Ok(m) => {
                let cpu = match (r.found.target.device, r.cpu_measure()) {
                    (DeviceKind::Cpu, _) | (_, None) => String::new(),
                    (_, Some(c)) => format!(
                        "; CPU {} ({:.0} GFLOP/s): {} the CPU",
                        seconds(c.median_s()),
                        gflops(c),
                        times(c.median_s() / m.median_s())
                    ),
                };
                out.line(format!(
                    "  matmul    {n}×{n} f32: median {} ({:.0} GFLOP/s){cpu}",
                    seconds(m.median_s()),
                    gflops(m),
                    n = m.n
                ));
                out.line(format!(
                    "            first call {} (compiling, warming up: not in the median)",
                    seconds(m.first_s),
                ));
                // Apart, so that no line passes 100 columns (a read-back barrier is long).
                out.line(format!(
                    "            {}; {}",
                    m.precision,
                    m.barrier.describe(),
                ));
                out.line(format!(
                    "            error {:.1e} on {} sampled entries: {}",
                    m.max_rel_error,
                    m.sampled,
                    mark(out, r.matmul_passed())
                ));
            }
            Err(e) => out.line(format!("  matmul    {}", out.red(e))),
        }
    }
    let only_cpu = reports
        .iter()
        .all(|r| r.found.target.device == DeviceKind::Cpu);
    if !skipped.is_empty() {
        // One device a line, each wrapped to 100 columns under its text.
        let lines: Vec<String> = skipped
            .iter()
            .map(|d| {
                crate::ui::wrap::hanging(
                    &format!(
                        "  {}: {}",
                        d.target,
                        d.reason.as_deref().unwrap_or("unavailable")
                    ),
                    4,
                    Some(100),
                )
            })
            .collect();
        let text = format!("not tested:\n{}", lines.join("\n"));
        if only_cpu || all {
            out.line(out.dim(text));
        } else {
            out.verbose(out.dim(text));
        }
    }
    if reports
        .iter()
        .any(|r| r.found.target.device == DeviceKind::Cpu || r.cpu.is_some())
    {
        out.line(out.dim(cpu_note.line()));
    }
    // A default run that found no GPU: say so first, and what it means.
    let cpu_only = looked_for_gpu && only_cpu && !skipped.is_empty();
    for r in reports {
        let v = r.verdict();
        if let Some(line) = r.cpu_only_verdict().filter(|_| cpu_only) {
            out.result(out.green(line));
            out.result(
                "  Burn trains and multiplies correctly on this CPU; PyTorch will compute on the CPU too.",
            );
            out.result(
                "  With a GPU (Apple Silicon, or NVIDIA with its driver), ttm selftest tests it instead.",
            );
        } else {
            out.result(if r.passed() { out.green(v) } else { out.red(v) });
        }
    }
}

fn mark(out: &Printer, ok: bool) -> String {
    if ok {
        out.green("ok")
    } else {
        out.red("FAILED")
    }
}

/// "0.41 ms", "92.3 ms", "1.25 s"
fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}
