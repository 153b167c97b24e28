//! `ttm selftest`: prove the GPU computes, with Burn, before any Python.
//!
//! 1. Validate the flags (sizes, steps, device and backend) and refuse a
//!    matmul larger than memory, before anything is allocated.
//! 2. Find the pairs to test: the one asked for, the best available (auto),
//!    or every available one (--all).
//! 3. On each: the book's training run against the f64 reference, then the
//!    N×N matmul against the CPU (one CPU baseline shared by all runs).
//! 4. One verdict line, or one JSON document; exit 0 ready, 1 failed,
//!    2 bad input or the device is unavailable.

use serde_json::{json, Value};

use super::{Context, Status};
use crate::cli::{BackendChoice, DeviceChoice, SelftestArgs};
use crate::compute::matmul::{measure_matmul, MatmulMeasure};
use crate::compute::memory::{
    check_gpu_memory, cuda_free_bytes, host_available_bytes, human_bytes, largest_size_for,
    matmul_bytes,
};
use crate::compute::training::{
    check_fit, reference_fit, sparkline, train_on, Fit, Problem, TrainingCheck,
};
use crate::compute::{
    backends, discover, discover_one, BackendKind, DeviceKind, Discovered, Target,
};
use crate::error::{Error, Result};
use crate::system::System;
use crate::ui::Printer;

/// Timed matmul runs after the warm-up, on the device and on the CPU baseline.
const DEVICE_RUNS: usize = 5;
const CPU_RUNS: usize = 3;

pub fn run(ctx: &Context, args: &SelftestArgs) -> Result<Status> {
    validate_numbers(args)?;
    let wanted = wanted_targets(&ctx.sys, args)?;
    check_host_memory(ctx, args.size)?;

    let spinner = ctx.out.spinner("finding devices");
    let discovered = match &wanted {
        Some(targets) => targets.iter().map(|t| discover_one(&ctx.sys, *t)).collect(),
        None => discover(&ctx.sys),
    };
    spinner.finish_and_clear();
    let chosen = choose(ctx, args.all, &discovered)?;
    for d in &chosen {
        if d.target.device == DeviceKind::Cuda {
            check_gpu_memory(args.size, cuda_free_bytes(&ctx.sys), d.name.as_deref())?;
        }
    }

    let problem = Problem::book(args.seed, args.steps);
    let reference = reference_fit(&problem);
    let mut cpu_baseline: Option<std::result::Result<MatmulMeasure, String>> = None;
    let mut reports = Vec::new();
    for d in &chosen {
        let report = run_one(ctx, d, &problem, &reference, args, &mut cpu_baseline);
        reports.push(report);
    }

    let ready = reports.iter().all(RunReport::passed);
    let skipped: Vec<&Discovered> = discovered.iter().filter(|d| !d.available).collect();
    if ctx.out.json {
        ctx.out
            .json_doc(&json_document(ready, &reports, args.all, &discovered));
    } else {
        print_human(&ctx.out, &reports, &skipped, args.all);
    }
    Ok(if ready {
        Status::Success
    } else {
        Status::Failure
    })
}

fn validate_numbers(args: &SelftestArgs) -> Result<()> {
    if args.steps == 0 {
        return Err(Error::bad_input(
            "--steps must be at least 1 (the book trains for 200 steps; the default)",
        ));
    }
    if args.size == 0 {
        return Err(Error::bad_input(
            "--size must be at least 1 (the default is 2048, a 2048×2048 matmul)",
        ));
    }
    Ok(())
}

fn device_of(choice: DeviceChoice) -> Option<DeviceKind> {
    match choice {
        DeviceChoice::Auto => None,
        DeviceChoice::Cpu => Some(DeviceKind::Cpu),
        DeviceChoice::Metal => Some(DeviceKind::Metal),
        DeviceChoice::Cuda => Some(DeviceKind::Cuda),
        DeviceChoice::Vulkan => Some(DeviceKind::Vulkan),
    }
}

fn backend_of(choice: BackendChoice) -> Option<BackendKind> {
    match choice {
        BackendChoice::Auto => None,
        BackendChoice::Candle => Some(BackendKind::Candle),
        BackendChoice::Cubecl => Some(BackendKind::Cubecl),
    }
}

/// The pairs --device/--backend name, in preference order; None for "any".
/// A device or backend this build does not have is bad input.
fn wanted_targets(sys: &System, args: &SelftestArgs) -> Result<Option<Vec<Target>>> {
    let (device, backend) = (device_of(args.device), backend_of(args.backend));
    if args.all || (device.is_none() && backend.is_none()) {
        return Ok(None);
    }
    let compiled = backends::compiled_targets();
    let matching: Vec<Target> = compiled
        .iter()
        .copied()
        .filter(|t| device.is_none_or(|d| t.device == d) && backend.is_none_or(|b| t.backend == b))
        .collect();
    if !matching.is_empty() {
        return Ok(Some(matching));
    }
    let pairs = compiled
        .iter()
        .map(Target::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let message = match (device, backend) {
        (Some(d), _) if !compiled.iter().any(|t| t.device == d) => format!(
            "--device {d}: this build has no {} backend ({}); choose --device {}",
            d.title(),
            build_os(),
            choices(working_devices(sys).into_iter())
        ),
        (Some(d), Some(b)) => format!(
            "--device {d} --backend {b}: {d} runs only on --backend {} in this build (it has {pairs})",
            compiled
                .iter()
                .filter(|t| t.device == d)
                .map(|t| t.backend.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        _ => format!(
            "--device {} --backend {}: not in this build; it has {pairs}",
            device.map_or("auto", DeviceKind::as_str),
            backend.map_or("auto", BackendKind::as_str)
        ),
    };
    Err(Error::bad_input(message))
}

/// The devices that work here, for an error's list of choices.
fn working_devices(sys: &System) -> Vec<&'static str> {
    discover(sys)
        .into_iter()
        .filter(|d| d.available)
        .map(|d| d.target.device.as_str())
        .collect()
}

fn build_os() -> &'static str {
    match crate::compute::backends::BuildOs::CURRENT {
        crate::compute::backends::BuildOs::Macos => "a macOS build",
        crate::compute::backends::BuildOs::Other => "a Linux build; Metal is only in macOS builds",
    }
}

/// "auto, cpu or cuda"
fn choices<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut list: Vec<&str> = vec!["auto"];
    for n in names {
        if !list.contains(&n) {
            list.push(n);
        }
    }
    match list.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => list.join(""),
    }
}

fn check_host_memory(ctx: &Context, size: usize) -> Result<()> {
    let needed = matmul_bytes(size);
    if let Some(available) = host_available_bytes(&ctx.sys) {
        if needed > available as u128 {
            return Err(Error::bad_input(format!(
                "--size {size} needs {} for three {size}×{size} f32 matrices, and this machine has {} of memory available; choose --size {} or less",
                human_bytes(needed),
                human_bytes(available as u128),
                largest_size_for(available)
            )));
        }
    }
    Ok(())
}

/// The runs to make: every available pair (--all), the first available one
/// asked for, or the best available (auto). None available is exit 2.
fn choose(ctx: &Context, all: bool, discovered: &[Discovered]) -> Result<Vec<Discovered>> {
    let available: Vec<Discovered> = discovered.iter().filter(|d| d.available).cloned().collect();
    if all {
        return Ok(available);
    }
    if let Some(first) = available.first() {
        return Ok(vec![first.clone()]);
    }
    // Nothing asked for works: say why, and what does.
    let why = discovered
        .iter()
        .map(|d| {
            format!(
                "{} is unavailable: {}",
                d.target,
                d.reason.as_deref().unwrap_or("unknown")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let working = working_devices(&ctx.sys);
    let hint = match working.first() {
        None => "no device works here".to_owned(),
        Some(first) => format!(
            "available here: --device {}; try `ttm selftest --device {first}`",
            choices(working.iter().copied())
        ),
    };
    Err(Error::Unavailable {
        message: format!("{why}; {hint}"),
    })
}

/// One pair's results.
struct RunReport {
    found: Discovered,
    training: std::result::Result<(Fit, TrainingCheck), String>,
    matmul: std::result::Result<MatmulMeasure, String>,
    cpu: Option<std::result::Result<MatmulMeasure, String>>,
    reference: Fit,
    problem: Problem,
    seed: u64,
}

impl RunReport {
    fn training_passed(&self) -> bool {
        matches!(&self.training, Ok((_, c)) if c.passed())
    }

    fn matmul_passed(&self) -> bool {
        let cpu_ok = match &self.cpu {
            Some(Ok(m)) => m.passed(),
            Some(Err(_)) => false,
            None => true,
        };
        matches!(&self.matmul, Ok(m) if m.passed()) && cpu_ok
    }

    fn passed(&self) -> bool {
        self.training_passed() && self.matmul_passed()
    }

    fn cpu_measure(&self) -> Option<&MatmulMeasure> {
        match (&self.cpu, &self.matmul) {
            (Some(Ok(m)), _) => Some(m),
            (None, Ok(m)) => Some(m),
            _ => None,
        }
    }

    fn speedup(&self) -> Option<f64> {
        let device = self.matmul.as_ref().ok()?.median_s();
        Some(self.cpu_measure()?.median_s() / device)
    }

    fn label(&self) -> String {
        label(&self.found)
    }

    fn verdict(&self) -> String {
        let subject = self.label();
        if let Err(e) = &self.training {
            return format!("Not ready: {subject}: {e}");
        }
        if let Ok((fit, check)) = &self.training {
            if let Some(why) = check.failure(fit, &self.reference) {
                return format!("Not ready: {subject}: {why}");
            }
        }
        let m = match &self.matmul {
            Err(e) => return format!("Not ready: {subject}: {e}"),
            Ok(m) => m,
        };
        if !m.passed() {
            return format!(
                "Not ready: {subject}: the matmul gave wrong results (sampled error {:.1e})",
                m.max_rel_error
            );
        }
        if let Some(Err(e)) = &self.cpu {
            return format!("Not ready: {subject}: the CPU baseline failed: {e}");
        }
        if let Some(Ok(cpu)) = &self.cpu {
            if !cpu.passed() {
                return format!("Not ready: {subject}: the CPU baseline matmul gave wrong results");
            }
        }
        let matmul = match (self.found.target.device, self.speedup()) {
            (DeviceKind::Cpu, _) | (_, None) => {
                format!("matmul checked at {:.0} GFLOP/s", gflops(m))
            }
            (_, Some(s)) => format!("matmul {} the CPU", times(s)),
        };
        format!("Ready: {subject}, training matches the reference, {matmul}")
    }
}

fn label(d: &Discovered) -> String {
    let base = match d.target.backend {
        BackendKind::Candle if d.target.device != DeviceKind::Cpu => {
            format!("{} via candle", d.target.device.title())
        }
        _ => d.target.device.title().to_owned(),
    };
    match &d.name {
        Some(n) => format!("{base} ({n})"),
        None => base,
    }
}

fn gflops(m: &MatmulMeasure) -> f64 {
    m.flops() / m.median_s() / 1e9
}

fn times(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}×")
    } else {
        format!("{x:.1}×")
    }
}

fn run_one(
    ctx: &Context,
    found: &Discovered,
    problem: &Problem,
    reference: &Fit,
    args: &SelftestArgs,
    cpu_baseline: &mut Option<std::result::Result<MatmulMeasure, String>>,
) -> RunReport {
    let target = found.target;
    let spinner = ctx
        .out
        .spinner(format!("training on {target} ({} steps)", problem.steps));
    let training = train_on(target, problem).map(|fit| {
        let check = check_fit(&fit, reference);
        (fit, check)
    });
    let tuning = if target.backend == BackendKind::Cubecl {
        " (a first run on this machine tunes kernels: up to a minute)"
    } else {
        ""
    };
    spinner.set_message(format!("{n}×{n} matmul on {target}{tuning}", n = args.size));
    let seed = args.seed.wrapping_add(1);
    let matmul = measure_matmul(target, args.size, DEVICE_RUNS, seed);
    let cpu = if target == Target::CPU {
        None
    } else {
        spinner.set_message(format!(
            "{n}×{n} matmul on the CPU (baseline)",
            n = args.size
        ));
        Some(
            cpu_baseline
                .get_or_insert_with(|| measure_matmul(Target::CPU, args.size, CPU_RUNS, seed))
                .clone(),
        )
    };
    spinner.finish_and_clear();
    RunReport {
        found: found.clone(),
        training,
        matmul,
        cpu,
        reference: reference.clone(),
        problem: problem.clone(),
        seed: args.seed,
    }
}

fn print_human(out: &Printer, reports: &[RunReport], skipped: &[&Discovered], all: bool) {
    for r in reports {
        let backend = r.found.target.backend;
        out.line(out.bold(format!("{} · Burn {backend}", r.label())));
        match &r.training {
            Ok((fit, check)) => {
                out.line(format!(
                    "  training  {} steps, lr {}, seed {}: weight {:.4}, bias {:.4}, loss {:.4}  {}",
                    r.problem.steps,
                    r.problem.lr,
                    r.seed,
                    fit.weight,
                    fit.bias,
                    fit.final_loss(),
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
                    "            first call {} apart; {}; {}; error {:.1e} on {} sampled entries: {}",
                    seconds(m.first_s),
                    m.precision,
                    m.barrier.describe(),
                    m.max_rel_error,
                    m.sampled,
                    mark(out, r.matmul_passed())
                ));
            }
            Err(e) => out.line(format!("  matmul    {}", out.red(e))),
        }
    }
    if !skipped.is_empty() {
        let list = skipped
            .iter()
            .map(|d| {
                format!(
                    "{}: {}",
                    d.target,
                    d.reason.as_deref().unwrap_or("unavailable")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let only_cpu = reports
            .iter()
            .all(|r| r.found.target.device == DeviceKind::Cpu);
        if only_cpu || all {
            out.line(out.dim(format!("not tested: {list}")));
        } else {
            out.verbose(out.dim(format!("not tested: {list}")));
        }
    }
    for r in reports {
        let v = r.verdict();
        out.result(if r.passed() { out.green(v) } else { out.red(v) });
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

fn json_document(
    ready: bool,
    reports: &[RunReport],
    all: bool,
    discovered: &[Discovered],
) -> Value {
    let runs: Vec<Value> = reports.iter().map(run_json).collect();
    let first = runs.first().cloned().unwrap_or(Value::Null);
    json!({
        "schema": 1,
        "ready": ready,
        "device": first.get("device").cloned().unwrap_or(Value::Null),
        "training": first.get("training").cloned().unwrap_or(Value::Null),
        "matmul": first.get("matmul").cloned().unwrap_or(Value::Null),
        "verdict": first.get("verdict").cloned().unwrap_or(Value::Null),
        "runs": if all { runs } else { Vec::new() },
        "discovered": discovered.iter().map(|d| json!({
            "kind": d.target.device,
            "backend": d.target.backend,
            "name": d.name,
            "available": d.available,
            "reason": d.reason,
        })).collect::<Vec<_>>(),
    })
}

fn run_json(r: &RunReport) -> Value {
    let training = match &r.training {
        Ok((fit, check)) => json!({
            "steps": r.problem.steps,
            "lr": r.problem.lr,
            "seed": r.seed,
            "weight": fit.weight,
            "bias": fit.bias,
            "initial_loss": fit.losses.first(),
            "final_loss": fit.final_loss(),
            "reference": {"weight": r.reference.weight, "bias": r.reference.bias, "final_loss": r.reference.final_loss()},
            "max_abs_diff": check.max_abs_diff,
            "loss_fell": check.loss_fell,
            "passed": check.passed(),
        }),
        Err(e) => {
            json!({"steps": r.problem.steps, "lr": r.problem.lr, "seed": r.seed, "passed": false, "error": e})
        }
    };
    let matmul = match &r.matmul {
        Ok(m) => {
            let cpu = r.cpu_measure();
            json!({
                "n": m.n,
                "device_s": m.median_s(),
                "cpu_s": cpu.map(MatmulMeasure::median_s),
                "device_gflops": gflops(m),
                "cpu_gflops": cpu.map(gflops),
                "speedup": r.speedup(),
                "first_s": m.first_s,
                "runs": m.samples_s.len(),
                "precision": m.precision,
                "sync": m.barrier.describe(),
                "max_rel_error": m.max_rel_error,
                "cpu_max_rel_error": cpu.map(|c| c.max_rel_error),
                "sampled": m.sampled,
                "passed": r.matmul_passed(),
            })
        }
        Err(e) => json!({"n": Value::Null, "passed": false, "error": e}),
    };
    json!({
        "device": {"kind": r.found.target.device, "backend": r.found.target.backend, "name": r.found.name},
        "training": training,
        "matmul": matmul,
        "ready": r.passed(),
        "verdict": r.verdict(),
    })
}
