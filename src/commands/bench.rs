//! `ttm bench`: the book's benchmark (sections 3.6–3.7) done right.
//!
//! 1. The flags, validated ([`BenchOptions`]): `--size`, `--runs`, the
//!    `--save` and `--plot` paths, the device in this build, memory for the
//!    matmul.
//! 2. With `--torch`: find the project environment's python and ask its
//!    PyTorch what it has ([`TorchSide::prepare`]); an `import torch` that
//!    fails is exit 2, here, before minutes of Burn work.
//! 3. Measure each available Burn (device, backend), CPU first as the book
//!    does, then PyTorch on the same hardware ([`crate::bench::run`]).
//! 4. Print the table with the book's rows beside ours (or one JSON
//!    document), then save and draw what was asked.
//!
//! `ttm bench compare FILE…` reads every file first (a file that is not
//! ours, or from a newer ttm, is exit 2 with its name), then prints the
//! section 3.7 layout across machines ([`crate::bench::compare`]).

use std::path::Path;

use indicatif::ProgressBar;
use serde_json::Value;

use super::{Context, Status};
use crate::args::{check_gpu_fits, BenchCompareOptions, BenchOptions};
use crate::bench::chart::{write_svg, ChartRow};
use crate::bench::compare::{comparison_rows, load_all, CompareReport};
use crate::bench::reference::{BOOK_NOTE, BOOK_NO_WARMUP_NOTE};
use crate::bench::results::BenchDoc;
use crate::bench::run::{measure, BenchProgress, BenchSchedule, TorchSide};
use crate::bench::table::{
    book_rows, compare_rows, compare_table, detail_table, platform_label, CompareRow,
};
use crate::bench::torch;
use crate::cli::{BenchArgs, BenchCommand};
use crate::compute::backends::CpuBackendNote;
use crate::compute::bench::TRAIN_STEP;
use crate::compute::memory::cuda_free_bytes;
use crate::compute::{discover, DeviceKind};
use crate::error::Result;
use crate::platform;

pub fn run(ctx: &Context, args: &BenchArgs) -> Result<Status> {
    if let Some(BenchCommand::Compare(compare_args)) = &args.compare {
        return compare(
            ctx,
            &BenchCompareOptions::from_args(&ctx.sys, compare_args)?,
        );
    }
    let options = BenchOptions::from_args(&ctx.sys, args)?;
    let ws = ctx.workspace()?;
    let spinner = ctx.out.spinner("looking at this machine");
    let facts = platform::detect_keeping_answers(&ctx.sys, &ws);
    let python = torch::env_python(&ctx.sys, &facts, &ws);
    let torch_side = if options.torch {
        spinner.set_message("asking the project environment's PyTorch");
        match TorchSide::prepare(&ctx.sys, python.as_deref()) {
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

    let schedule = BenchSchedule::new(
        &discovered,
        options.device,
        options.backend,
        torch_side.as_ref(),
    )?;
    for d in &schedule.targets {
        if d.target.device == DeviceKind::Cuda {
            check_gpu_fits(options.size, cuda_free_bytes(&ctx.sys), d.name.as_deref())?;
        }
    }

    let bar = ctx.out.progress_bar(schedule.steps(), "benchmarking");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let measured = measure(
        &ctx.sys,
        schedule,
        torch_side.as_ref(),
        options.size,
        options.runs,
        &BarProgress(&bar),
    );
    bar.finish_and_clear();

    let machine = serde_json::to_value(&facts).unwrap_or(Value::Null);
    let mut doc = BenchDoc::new(machine, TRAIN_STEP, measured.rows);
    doc.skipped = measured.skipped;
    let cpu_note = doc
        .results
        .iter()
        .any(|r| r.on_cpu())
        .then(|| CpuBackendNote::current(&ctx.sys));
    doc.cpu_backend = cpu_note.as_ref().and_then(|n| serde_json::to_value(n).ok());
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

    if let Some(path) = &options.save {
        doc.save(&ctx.sys, path)?;
    }
    if let Some(path) = &options.plot {
        let mut table_rows = compare_rows(&platform, &doc);
        table_rows.extend(book_rows());
        let chart: Vec<ChartRow> = table_rows.iter().map(ChartRow::from_compare).collect();
        write_svg(&ctx.sys, path, &format!("ttm bench: {platform}"), &chart)?;
    }
    if ctx.out.json {
        ctx.out.json_doc(&doc);
    } else {
        print_human(ctx, &options, &doc, &platform, python.as_deref());
        if let Some(note) = &cpu_note {
            ctx.out.line(ctx.out.dim(format!("  {}", note.line())));
        }
    }
    Ok(if measured.failed {
        Status::Failure
    } else {
        Status::Success
    })
}

/// The progress bar, as the measurement reports to it.
struct BarProgress<'a>(&'a ProgressBar);

impl BenchProgress for BarProgress<'_> {
    fn running(&self, what: String) {
        self.0.set_message(what);
    }
    fn done(&self, steps: u64) {
        self.0.inc(steps);
    }
}

fn print_human(
    ctx: &Context,
    options: &BenchOptions,
    doc: &BenchDoc,
    platform: &str,
    python: Option<&Path>,
) {
    let out = &ctx.out;
    out.line(out.bold(format!("ttm bench on {platform}")));
    let fit = |text: String| crate::ui::wrap::hanging(&text, 4, Some(100));
    out.line(fit(format!(
        "  matmul: {0}×{0} f32; train step: {TRAIN_STEP}",
        options.size
    )));
    out.line(fit(format!(
        "  each: one warm-up call (\"First call\": compilation, autotune), then {} synchronised runs; times are medians",
        options.runs
    )));
    out.line("");
    out.result(detail_table(doc).render());
    out.line(out.dim(if doc.comparisons.is_empty() {
        "  vs CPU: against the same framework's CPU row"
    } else {
        "  vs CPU: against the same framework's CPU row; Burn vs PyTorch: PyTorch's median ÷ Burn's\n  (above 1×, Burn is faster), only at equal precision: PyTorch runs in Burn's, TF32 or fp32"
    }));
    out.line(
        out.dim(
            "  Of peak: GFLOP/s over the device's datasheet peak at that precision, where known",
        ),
    );
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
    if !options.torch {
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
    if let Some(p) = &options.save {
        out.line(format!(
            "saved {} (compare machines: ttm bench compare FILE…)",
            p.display()
        ));
    }
    if let Some(p) = &options.plot {
        out.line(format!("chart {}", p.display()));
    }
}

fn compare(ctx: &Context, options: &BenchCompareOptions) -> Result<Status> {
    let saved = load_all(&ctx.sys, &options.files)?;
    let rows = comparison_rows(&saved);
    if let Some(path) = &options.plot {
        let chart: Vec<ChartRow> = rows.iter().map(ChartRow::from_compare).collect();
        write_svg(&ctx.sys, path, "ttm bench compare", &chart)?;
    }
    if ctx.out.json {
        ctx.out.json_doc(&CompareReport::new(&saved, &rows));
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
        let mut d: Vec<&str> = saved
            .iter()
            .map(|s| s.doc.train_step.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        d.dedup();
        d
    };
    if definitions.len() > 1 {
        out.line(out.yellow("  these files define the train step differently; their train-step times are not comparable"));
    }
    if let Some(p) = &options.plot {
        out.line(format!("chart {}", p.display()));
    }
    Ok(Status::Success)
}
