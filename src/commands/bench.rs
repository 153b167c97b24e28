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
    COMPARE_DROPPABLE, DETAIL_DROPPABLE, VS_TORCH,
};
use crate::bench::torch;
use crate::cli::{BenchArgs, BenchCommand};
use crate::compute::backends::CpuBackendNote;
use crate::compute::bench::TRAIN_STEP;
use crate::compute::memory::cuda_free_bytes;
use crate::compute::{discover_device, tunes_on_first_call, DeviceKind};
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
    let discovered = discover_device(&ctx.sys, options.device);
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

    first_tuning_note(ctx, &schedule);
    let bar = ctx
        .out
        .progress_bar(schedule.steps(options.runs), "benchmarking");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let measured = measure(
        &ctx.sys,
        schedule,
        torch_side.as_ref(),
        options.size,
        options.runs,
        &bar_progress(&bar),
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
        print_human(
            ctx,
            &options,
            &doc,
            &platform,
            python.as_deref(),
            cpu_note.as_ref(),
        );
    }
    Ok(if measured.failed {
        Status::Failure
    } else {
        Status::Success
    })
}

/// The progress bar, as the measurement reports to it (from the compute
/// thread too: a `ProgressBar` is a shared handle).
fn bar_progress(bar: &ProgressBar) -> BenchProgress {
    let bar = bar.clone();
    std::sync::Arc::new(move |position, text| {
        bar.set_position(position);
        if !text.is_empty() {
            bar.set_message(text);
        }
    })
}

/// The width the tables and notes are laid out for: the terminal's, at most 100.
fn layout_width(ctx: &Context) -> usize {
    crate::ui::wrap::terminal_width(&ctx.sys)
        .unwrap_or(100)
        .clamp(40, 100)
}

/// A note under a table: dim, broken at spaces to the width, under its text.
fn note(ctx: &Context, text: &str) {
    let width = layout_width(ctx);
    ctx.out
        .line(ctx.out.dim(crate::ui::wrap::hanging(text, 4, Some(width))));
}

/// "  left out at this width: Min … max, First call (a wider terminal or --json shows them)"
fn left_out_note(ctx: &Context, left_out: &[String]) {
    if !left_out.is_empty() {
        note(
            ctx,
            &format!(
                "  left out at this width: {} (a wider terminal, COLUMNS=120, or --json shows them)",
                left_out.join(", ")
            ),
        );
    }
}

fn print_human(
    ctx: &Context,
    options: &BenchOptions,
    doc: &BenchDoc,
    platform: &str,
    python: Option<&Path>,
    cpu_note: Option<&CpuBackendNote>,
) {
    let out = &ctx.out;
    let width = layout_width(ctx);
    out.line(out.bold(format!("ttm bench on {platform}")));
    let fit = |text: String| crate::ui::wrap::hanging(&text, 4, Some(width));
    out.line(fit(format!(
        "  matmul: {0}×{0} f32; train step: {TRAIN_STEP}",
        options.size
    )));
    out.line(fit(format!(
        "  each: one warm-up call (\"First call\": compilation, autotune), then {} synchronised runs; times are medians",
        options.runs
    )));
    out.line("");
    let mut table = detail_table(doc);
    let left_out = table.fit(width, &DETAIL_DROPPABLE);
    out.result(table.render());
    let has = |name: &str| table.headers.iter().any(|h| h == name);
    if has("vs CPU") {
        note(ctx, "  vs CPU: against the same framework's CPU row");
    }
    if has(VS_TORCH) {
        note(ctx, "  vs PyTorch: PyTorch's median ÷ Burn's (above 1×, Burn is faster), only at equal precision: PyTorch runs in Burn's, TF32 or fp32 (\"tf32 vs fp32\": they differed, not compared)");
    }
    if has("Of peak") {
        note(
            ctx,
            "  Of peak: GFLOP/s over the device's datasheet peak at that precision, where known",
        );
    }
    left_out_note(ctx, &left_out);
    if let Some(v) = &doc.torch_version {
        out.line(out.dim(format!("  PyTorch {v}")));
    }
    for s in &doc.skipped {
        let text = fit(format!("  not measured: {}: {}", s.what, s.reason));
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
                crate::ui::tilde::tilde(&p.display().to_string(), ctx.sys.home().ok().as_deref())
            ),
            None => "  PyTorch side by side: add --torch once the project environment exists (`ttm setup`)".to_owned(),
        };
        note(ctx, &hint);
    }

    out.line("");
    out.line(out.bold("Beside the book (section 3.7 layout)"));
    let mut rows: Vec<CompareRow> = compare_rows(platform, doc);
    rows.extend(book_rows());
    let mut table = compare_table(&rows);
    let left_out = table.fit(width, &COMPARE_DROPPABLE);
    out.result(table.render());
    note(
        ctx,
        &format!("  Relative Speed: the train step against the same platform's CPU; {BOOK_NOTE}"),
    );
    note(ctx, &format!("  {BOOK_NO_WARMUP_NOTE}"));
    left_out_note(ctx, &left_out);
    if let Some(cpu) = cpu_note {
        for line in cpu.line().lines() {
            note(ctx, &format!("  {line}"));
        }
    }
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
    let mut table = compare_table(&rows);
    let left_out = table.fit(layout_width(ctx), &COMPARE_DROPPABLE);
    out.result(table.render());
    note(
        ctx,
        &format!("  Relative Speed: the train step (else the matmul) against the same platform's and framework's CPU; {BOOK_NOTE}"),
    );
    left_out_note(ctx, &left_out);
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
        let width = layout_width(ctx);
        out.line(out.yellow(crate::ui::wrap::hanging(
            "  the matmul sizes differ (N shown): compare GFLOP/s rather than seconds (`ttm bench --size 5000` matches the book)",
            4,
            Some(width),
        )));
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
        out.line(out.yellow(crate::ui::wrap::hanging(
            "  these files define the train step differently; their train-step times are not comparable",
            4,
            Some(layout_width(ctx)),
        )));
    }
    if let Some(p) = &options.plot {
        out.line(format!("chart {}", p.display()));
    }
    Ok(Status::Success)
}

/// Before a run that will tune: what the first calls do and how long they take.
fn first_tuning_note(ctx: &Context, schedule: &BenchSchedule) {
    let tuning: Vec<String> = schedule
        .targets
        .iter()
        .filter(|d| tunes_on_first_call(&ctx.sys, d.target))
        .map(|d| d.target.device.to_string())
        .collect();
    if tuning.is_empty() {
        return;
    }
    let text = format!(
        "First CubeCL run on {} here: each warm-up compiles and times candidate kernels \
         (on an H200 about 40 s for the matmul and 3 min for the train step). \
         They are kept in ~/.cache/ttm/cubecl: later runs start at once.",
        tuning.join(" and ")
    );
    ctx.out
        .line(crate::ui::wrap::hanging(&text, 2, Some(layout_width(ctx))));
}
