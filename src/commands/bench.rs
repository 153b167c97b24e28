//! `ttm bench`: the book's benchmark (sections 3.6–3.7) done right.
//!
//! 1. Validate the flags before any work: `--size`, `--runs`, the `--save`
//!    and `--plot` paths, the device in this build, memory for the matmul.
//! 2. With `--torch`: find the project environment's python and ask its
//!    PyTorch what it has; an `import torch` that fails is exit 2, here,
//!    before minutes of Burn work.
//! 3. Measure each available Burn (device, backend), CPU first as the book
//!    does, then PyTorch on the same hardware: warm-up apart, synchronised
//!    runs, medians.
//! 4. Print the table with the book's rows beside ours (or one JSON
//!    document), then save and draw what was asked.
//!
//! `ttm bench compare FILE…` reads every file first (a file that is not
//! ours, or from a newer ttm, is exit 2 with its name), then prints the
//! section 3.7 layout across machines.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{Context, Status};
use crate::bench::chart::{write_svg, ChartRow};
use crate::bench::reference::{BOOK_NOTE, BOOK_NO_WARMUP_NOTE};
use crate::bench::results::{BenchDoc, BenchRow, Framework, Skipped, Workload};
use crate::bench::stats::Summary;
use crate::bench::table::{
    book_rows, compare_rows, compare_table, detail_table, platform_label, CompareRow,
};
use crate::bench::torch::{self, TorchProbe};
use crate::cli::{BenchArgs, BenchCommand, BenchCompareArgs, DeviceChoice};
use crate::compute::bench::{time_matmul, time_train_step, Timing, TRAIN_STEP};
use crate::compute::memory::{
    check_gpu_memory, cuda_free_bytes, host_available_bytes, human_bytes, largest_size_for,
    matmul_bytes,
};
use crate::compute::{backends, discover, DeviceKind, Discovered};
use crate::error::{Error, Result};
use crate::platform;

pub fn run(ctx: &Context, args: &BenchArgs) -> Result<Status> {
    if let Some(BenchCommand::Compare(compare_args)) = &args.compare {
        return compare(ctx, compare_args);
    }
    let plan = validate(ctx, args)?;
    let ws = ctx.workspace()?;
    let spinner = ctx.out.spinner("looking at this machine");
    let facts = platform::detect(&ctx.sys, &ws);
    let python = torch::env_python(&facts, &ws);
    let torch_side = if args.torch {
        spinner.set_message("asking the project environment's PyTorch");
        match prepare_torch(ctx, python.as_deref()) {
            Ok(side) => Some(side),
            Err(e) => {
                spinner.finish_and_clear();
                return Err(e);
            }
        }
    } else {
        None
    };
    spinner.set_message("finding devices");
    let discovered = discover(&ctx.sys);
    spinner.finish_and_clear();

    let wanted = |device: DeviceKind| plan.device.is_none_or(|d| d == device);
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut targets: Vec<Discovered> = Vec::new();
    for d in discovered.iter().filter(|d| wanted(d.target.device)) {
        if d.available {
            targets.push(d.clone());
        } else {
            skipped.push(Skipped {
                what: format!("Burn on {}", d.target),
                reason: d.reason.clone().unwrap_or_else(|| "unavailable".to_owned()),
                failed: false,
            });
        }
    }
    if targets.is_empty() {
        let why = skipped
            .iter()
            .map(|s| format!("{}: {}", s.what, s.reason))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::Unavailable {
            message: format!("no device to benchmark: {why}; try `ttm bench --device cpu`"),
        });
    }
    // CPU first, as the book's table; then the GPUs, best first.
    targets.sort_by_key(|d| d.target.device != DeviceKind::Cpu);
    for d in &targets {
        if d.target.device == DeviceKind::Cuda {
            check_gpu_memory(args.size, cuda_free_bytes(&ctx.sys), d.name.as_deref())?;
        }
    }

    let hardware_order: Vec<DeviceKind> = {
        let mut order: Vec<DeviceKind> = targets.iter().map(|d| d.target.device).collect();
        order.dedup();
        order
    };
    let torch_devices: Vec<(String, Option<String>)> = match &torch_side {
        Some(TorchSide::Ready { probe, .. }) => {
            torch_devices(probe, &hardware_order, plan.device, &mut skipped)
        }
        Some(TorchSide::Missing(reason)) => {
            skipped.push(Skipped {
                what: "PyTorch".to_owned(),
                reason: reason.clone(),
                failed: false,
            });
            Vec::new()
        }
        None => Vec::new(),
    };

    let steps = (targets.len() * 2 + torch_devices.len() * 2) as u64;
    let bar = ctx.out.progress_bar(steps, "benchmarking");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let mut rows: Vec<BenchRow> = Vec::new();
    let mut failed = false;
    for &device in &hardware_order {
        for d in targets.iter().filter(|d| d.target.device == device) {
            for workload in Workload::BOTH {
                bar.set_message(format!(
                    "Burn {} on {}: {}",
                    d.target.backend,
                    device,
                    describe(workload, args.size)
                ));
                let timing = match workload {
                    Workload::Matmul => time_matmul(d.target, args.size, args.runs),
                    Workload::TrainStep => time_train_step(d.target, args.runs),
                };
                match timing.and_then(|t| burn_row(d, workload, args.size, t)) {
                    Ok(row) => rows.push(row),
                    Err(e) => {
                        failed = true;
                        skipped.push(Skipped {
                            what: format!("Burn on {}: {}", d.target, workload.as_str()),
                            reason: e.to_string(),
                            failed: true,
                        });
                    }
                }
                bar.inc(1);
            }
        }
        let torch_name = torch_device_for(device);
        if let (Some(TorchSide::Ready { python, .. }), Some(name)) = (&torch_side, torch_name) {
            if torch_devices.iter().any(|(d, _)| d == name) {
                bar.set_message(format!("PyTorch on {name}: matmul and train step"));
                match torch::run_device(&ctx.sys, python, name, args.size, args.runs) {
                    Ok(run) => rows.extend(run.rows),
                    Err(reason) => {
                        failed = true;
                        skipped.push(Skipped {
                            what: format!("PyTorch on {name}"),
                            reason,
                            failed: true,
                        });
                    }
                }
                bar.inc(2);
            }
        }
    }
    bar.finish_and_clear();

    let machine = serde_json::to_value(&facts).unwrap_or(Value::Null);
    let mut doc = BenchDoc::new(machine, TRAIN_STEP, rows);
    doc.skipped = skipped;
    if let Some(TorchSide::Ready { probe, .. }) = &torch_side {
        doc.torch_version = Some(probe.version.clone());
    }
    let cpu_name = doc
        .results
        .iter()
        .find(|r| r.on_cpu())
        .and_then(|r| r.device_name.clone());
    let platform = platform_label(
        &doc.machine,
        &cpu_name.map_or("this machine".to_owned(), |n| format!("this machine, {n}")),
    );

    if let Some(path) = &plan.save {
        doc.save(&ctx.sys, path)?;
    }
    if let Some(path) = &plan.plot {
        let mut table_rows = compare_rows(&platform, &doc);
        table_rows.extend(book_rows());
        let chart: Vec<ChartRow> = table_rows.iter().map(ChartRow::from_compare).collect();
        write_svg(&ctx.sys, path, &format!("ttm bench: {platform}"), &chart)?;
    }
    if ctx.out.json {
        ctx.out.json_doc(&doc);
    } else {
        print_human(ctx, args, &doc, &platform, python.as_deref(), &plan);
    }
    Ok(if failed {
        Status::Failure
    } else {
        Status::Success
    })
}

/// The flags, checked and resolved.
struct Plan {
    device: Option<DeviceKind>,
    save: Option<PathBuf>,
    plot: Option<PathBuf>,
}

fn validate(ctx: &Context, args: &BenchArgs) -> Result<Plan> {
    if args.size == 0 {
        return Err(Error::bad_input(
            "--size must be at least 1 (the default is 5000, the book's 5000×5000 matmul)",
        ));
    }
    if args.runs == 0 {
        return Err(Error::bad_input(
            "--runs must be at least 1 (the default is 10 timed runs after the warm-up)",
        ));
    }
    let save = args
        .save
        .as_deref()
        .map(|p| output_path(ctx, "--save", p, None))
        .transpose()?;
    let plot = args
        .plot
        .as_deref()
        .map(|p| output_path(ctx, "--plot", p, Some("svg")))
        .transpose()?;
    let device = match args.device {
        None | Some(DeviceChoice::Auto) => None,
        Some(DeviceChoice::Cpu) => Some(DeviceKind::Cpu),
        Some(DeviceChoice::Metal) => Some(DeviceKind::Metal),
        Some(DeviceChoice::Cuda) => Some(DeviceKind::Cuda),
        Some(DeviceChoice::Vulkan) => Some(DeviceKind::Vulkan),
    };
    if let Some(d) = device {
        let compiled = backends::compiled_targets();
        if !compiled.iter().any(|t| t.device == d) {
            let have: Vec<&str> = {
                let mut v: Vec<&str> = compiled.iter().map(|t| t.device.as_str()).collect();
                v.dedup();
                v
            };
            return Err(Error::bad_input(format!(
                "--device {d}: this build has no {} backend; it has {}",
                d.title(),
                have.join(", ")
            )));
        }
    }
    let needed = matmul_bytes(args.size);
    if let Some(available) = host_available_bytes(&ctx.sys) {
        if needed > available as u128 {
            return Err(Error::bad_input(format!(
                "--size {} needs {} for three {0}×{0} f32 matrices, and this machine has {} available; choose --size {} or less",
                args.size,
                human_bytes(needed),
                human_bytes(available as u128),
                largest_size_for(available)
            )));
        }
    }
    Ok(Plan { device, save, plot })
}

/// A file to write: its folder must exist, it must not be a folder, and
/// (for the chart) it must end in the right extension.
fn output_path(ctx: &Context, flag: &str, path: &Path, extension: Option<&str>) -> Result<PathBuf> {
    let resolved = ctx.sys.resolve_path(path)?;
    if let Some(ext) = extension {
        let ok = resolved
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(ext));
        if !ok {
            return Err(Error::bad_input(format!(
                "{flag} {}: the chart is {}; give a file name ending in .{ext}",
                path.display(),
                ext.to_uppercase()
            )));
        }
    }
    if resolved.is_dir() {
        return Err(Error::bad_input(format!(
            "{flag} {}: is a folder; give a file name, e.g. {}",
            path.display(),
            path.join(format!("bench.{}", extension.unwrap_or("json")))
                .display()
        )));
    }
    match resolved.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !parent.is_dir() => {
            Err(Error::bad_input(format!(
                "{flag} {}: the folder {} does not exist; create it first (mkdir -p {})",
                path.display(),
                parent.display(),
                parent.display()
            )))
        }
        _ => Ok(resolved),
    }
}

/// The PyTorch side, when --torch asked for it.
enum TorchSide {
    Ready {
        python: PathBuf,
        probe: TorchProbe,
    },
    /// No project environment: its rows are skipped, and why.
    Missing(String),
}

fn prepare_torch(ctx: &Context, python: Option<&Path>) -> Result<TorchSide> {
    let Some(python) = python else {
        return Ok(TorchSide::Missing(
            "no project environment with a python (create it with `ttm setup`)".to_owned(),
        ));
    };
    let probe = torch::probe(&ctx.sys, python)?;
    Ok(TorchSide::Ready {
        python: python.to_path_buf(),
        probe,
    })
}

/// PyTorch's name for the hardware a Burn device runs on.
fn torch_device_for(device: DeviceKind) -> Option<&'static str> {
    match device {
        DeviceKind::Cpu => Some("cpu"),
        DeviceKind::Cuda => Some("cuda"),
        DeviceKind::Metal => Some("mps"),
        DeviceKind::Vulkan => None,
    }
}

/// The PyTorch devices to run: those it has, on the hardware Burn measures.
/// Hardware it lacks (a CPU-only wheel on a GPU machine) is listed as skipped.
fn torch_devices(
    probe: &TorchProbe,
    hardware: &[DeviceKind],
    asked: Option<DeviceKind>,
    skipped: &mut Vec<Skipped>,
) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for &device in hardware {
        match torch_device_for(device) {
            Some(name) => match probe.devices.get(name) {
                Some(label) => out.push((name.to_owned(), label.clone())),
                None => skipped.push(Skipped {
                    what: format!("PyTorch on {name}"),
                    reason: format!("PyTorch {} has no {name} device here", probe.version),
                    failed: false,
                }),
            },
            None if asked == Some(device) => skipped.push(Skipped {
                what: format!("PyTorch on {device}"),
                reason: "PyTorch has no Vulkan backend".to_owned(),
                failed: false,
            }),
            None => {}
        }
    }
    out
}

fn describe(workload: Workload, size: usize) -> String {
    match workload {
        Workload::Matmul => format!("matmul {size}×{size}"),
        Workload::TrainStep => "train step".to_owned(),
    }
}

fn burn_row(d: &Discovered, workload: Workload, size: usize, t: Timing) -> Result<BenchRow> {
    let summary = Summary::of(t.first_s, &t.samples_s, t.flops).ok_or_else(|| {
        Error::failed(format!(
            "{} on {} gave no usable times",
            workload.as_str(),
            d.target
        ))
    })?;
    let size = match workload {
        Workload::Matmul => size,
        Workload::TrainStep => TRAIN_STEP_BATCH,
    };
    Ok(BenchRow::new(
        Framework::Burn,
        d.target.backend.as_str(),
        d.target.device.as_str(),
        workload,
        size,
        summary,
        t.samples_s,
        &t.precision,
        d.name.clone(),
    ))
}

/// The train step's batch (see `compute::bench::TRAIN_STEP`).
const TRAIN_STEP_BATCH: usize = 512;

fn print_human(
    ctx: &Context,
    args: &BenchArgs,
    doc: &BenchDoc,
    platform: &str,
    python: Option<&Path>,
    plan: &Plan,
) {
    let out = &ctx.out;
    out.line(out.bold(format!("ttm bench on {platform}")));
    out.line(format!(
        "  matmul: {0}×{0} f32; train step: {TRAIN_STEP}",
        args.size
    ));
    out.line(format!(
        "  each: one warm-up call (\"First call\": compilation, autotune), then {} synchronised runs; times are medians",
        args.runs
    ));
    out.line("");
    out.result(detail_table(doc).render());
    out.line(out.dim(
        "  vs CPU: against the same framework's CPU row; Burn vs PyTorch: PyTorch's median ÷ Burn's (above 1×, Burn is faster)",
    ));
    if let Some(v) = &doc.torch_version {
        out.line(out.dim(format!("  PyTorch {v}")));
    }
    for s in &doc.skipped {
        let text = format!("  not measured: {}: {}", s.what, s.reason);
        out.line(if s.failed {
            out.yellow(text)
        } else {
            out.dim(text)
        });
    }
    if !args.torch {
        let hint = match python {
            Some(p) => format!(
                "  PyTorch side by side: add --torch (runs the same workloads with {})",
                p.display()
            ),
            None => "  PyTorch side by side: add --torch once the project environment exists (`ttm setup`)".to_owned(),
        };
        out.line(out.dim(hint));
    }

    out.line("");
    out.line(out.bold("Beside the book (section 3.7 layout)"));
    let mut rows: Vec<CompareRow> = compare_rows(platform, doc);
    rows.extend(book_rows());
    out.result(compare_table(&rows).render());
    out.line(out.dim(format!(
        "  Relative Speed: the train step against the same platform's CPU; {BOOK_NOTE}"
    )));
    out.line(out.dim(format!("  {BOOK_NO_WARMUP_NOTE}")));
    if let Some(p) = &plan.save {
        out.line(format!(
            "saved {} (compare machines: ttm bench compare FILE…)",
            p.display()
        ));
    }
    if let Some(p) = &plan.plot {
        out.line(format!("chart {}", p.display()));
    }
}

fn compare(ctx: &Context, args: &BenchCompareArgs) -> Result<Status> {
    let plot = args
        .plot
        .as_deref()
        .map(|p| output_path(ctx, "--plot", p, Some("svg")))
        .transpose()?;
    let mut docs: Vec<(PathBuf, BenchDoc)> = Vec::new();
    for file in &args.files {
        let path = ctx.sys.resolve_path(file)?;
        let doc = BenchDoc::load(&ctx.sys, &path).map_err(|e| match e {
            Error::BadFile { message, .. } => Error::BadFile {
                path: file.clone(),
                message,
            },
            other => other,
        })?;
        docs.push((file.clone(), doc));
    }
    let labels = platform_labels(&docs);
    let mut rows: Vec<CompareRow> = Vec::new();
    for ((_, doc), label) in docs.iter().zip(&labels) {
        rows.extend(compare_rows(label, doc));
    }
    rows.extend(book_rows());

    if let Some(path) = &plot {
        let chart: Vec<ChartRow> = rows.iter().map(ChartRow::from_compare).collect();
        write_svg(&ctx.sys, path, "ttm bench compare", &chart)?;
    }
    if ctx.out.json {
        let files: Vec<Value> = docs
            .iter()
            .zip(&labels)
            .map(|((path, doc), label)| {
                json!({
                    "file": path,
                    "platform": label,
                    "ttm_version": doc.ttm_version,
                    "torch_version": doc.torch_version,
                    "train_step": doc.train_step,
                    "machine": doc.machine,
                })
            })
            .collect();
        ctx.out.json_doc(&json!({
            "schema": 1,
            "generator": "ttm bench compare",
            "files": files,
            "rows": rows,
        }));
        return Ok(Status::Success);
    }
    let out = &ctx.out;
    out.result(compare_table(&rows).render());
    out.line(out.dim(format!(
        "  Relative Speed: the train step (else the matmul) against the same platform's and framework's CPU; {BOOK_NOTE}"
    )));
    let sizes: Vec<usize> = {
        let mut s: Vec<usize> = rows
            .iter()
            .filter(|r| !r.book)
            .filter_map(|r| r.matmul_size)
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    if sizes.len() > 1 || sizes.first().is_some_and(|n| *n != 5000) {
        out.line(out.yellow(
            "  the matmul sizes differ (N shown): compare GFLOP/s rather than seconds (`ttm bench --size 5000` matches the book)",
        ));
    }
    let definitions: Vec<&str> = {
        let mut d: Vec<&str> = docs
            .iter()
            .map(|(_, doc)| doc.train_step.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        d.dedup();
        d
    };
    if definitions.len() > 1 {
        out.line(out.yellow("  these files define the train step differently; their train-step times are not comparable"));
    }
    if let Some(p) = &plot {
        out.line(format!("chart {}", p.display()));
    }
    Ok(Status::Success)
}

/// One label per file, from its machine facts; the file name tells apart
/// two files with the same label.
fn platform_labels(docs: &[(PathBuf, BenchDoc)]) -> Vec<String> {
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    let base: Vec<String> = docs
        .iter()
        .map(|(p, d)| platform_label(&d.machine, &stem(p)))
        .collect();
    base.iter()
        .zip(docs)
        .map(|(label, (p, _))| {
            let fallback = stem(p);
            if base.iter().filter(|l| *l == label).count() > 1 && !label.contains(&fallback) {
                format!("{label} ({fallback})")
            } else {
                label.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(devices: &[&str]) -> TorchProbe {
        TorchProbe {
            version: "2.5.1".to_owned(),
            devices: devices.iter().map(|d| ((*d).to_owned(), None)).collect(),
        }
    }

    #[test]
    fn torch_runs_where_burn_runs_and_says_what_it_lacks() {
        let mut skipped = Vec::new();
        let hw = [DeviceKind::Cpu, DeviceKind::Cuda, DeviceKind::Vulkan];
        let run = torch_devices(&probe(&["cpu"]), &hw, None, &mut skipped);
        assert_eq!(run, vec![("cpu".to_owned(), None)]);
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert_eq!(skipped[0].what, "PyTorch on cuda");
        assert!(skipped[0].reason.contains("no cuda device"));

        let mut skipped = Vec::new();
        let run = torch_devices(
            &probe(&["cpu", "mps"]),
            &[DeviceKind::Metal],
            Some(DeviceKind::Metal),
            &mut skipped,
        );
        assert_eq!(run, vec![("mps".to_owned(), None)]);
        assert!(skipped.is_empty());

        let mut skipped = Vec::new();
        let run = torch_devices(
            &probe(&["cpu"]),
            &[DeviceKind::Vulkan],
            Some(DeviceKind::Vulkan),
            &mut skipped,
        );
        assert!(run.is_empty());
        assert_eq!(skipped[0].reason, "PyTorch has no Vulkan backend");
    }
}
