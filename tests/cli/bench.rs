//! `ttm bench` end to end: a real (small) CPU bench with Burn, PyTorch
//! through fake env pythons (shims) and the real embedded script, saved
//! files and `compare` on fixtures, the SVG, and bad input. Speed is never
//! asserted: only that times exist and add up.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

fn results_dir() -> PathBuf {
    fixtures_dir().join("bench-results")
}

/// Tags open and close in order; no bare `&` in text.
fn assert_well_formed_svg(svg: &str) {
    assert!(
        svg.starts_with("<svg"),
        "not an SVG: {}",
        &svg[..svg.len().min(80)]
    );
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        for (i, _) in text.match_indices('&') {
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"]
                    .iter()
                    .any(|e| text[i..].starts_with(e)),
                "bare '&' in {text}"
            );
        }
        let end = start + rest[start..].find('>').expect("unclosed tag");
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_owned());
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
}

/// A workspace whose env python is `script` (a shell script).
fn fake_env_python(ctx: &TestContext, script: &str) -> PathBuf {
    let bin = ctx.workspace().join(".venv").join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let python = bin.join("python");
    write_executable(&python, &format!("#!/bin/sh\n{script}\n"));
    python
}

fn row<'a>(doc: &'a Value, framework: &str, device: &str, workload: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["framework"] == framework && r["device"] == device && r["workload"] == workload)
        .unwrap_or_else(|| panic!("no {framework} {device} {workload} row in {doc}"))
}

#[test]
fn a_cpu_bench_measures_saves_and_draws() {
    let ctx = TestContext::new();
    let save = ctx.temp.path().join("here.json");
    let plot = ctx.temp.path().join("here.svg");
    let (code, out, err) = output(&mut ctx.ttm([
        "bench",
        "--device",
        "cpu",
        "--size",
        "96",
        "--runs",
        "3",
        "--json",
        "--save",
        save.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let doc = json_of(&out);
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["generator"], "ttm bench");
    assert!(
        doc["machine"].is_object(),
        "machine facts: {}",
        doc["machine"]
    );
    assert!(doc["train_step"]
        .as_str()
        .unwrap()
        .contains("784→1024→1024→10"));
    let results = doc["results"].as_array().unwrap();
    // Both CPU backends: NdArray and Candle, two workloads each.
    assert_eq!(results.len(), 4, "{doc}");
    let mut backends: Vec<&str> = results
        .iter()
        .map(|r| r["backend"].as_str().unwrap())
        .collect();
    backends.sort();
    assert_eq!(backends, ["candle", "candle", "ndarray", "ndarray"]);
    for r in results {
        assert_eq!(r["framework"], "burn");
        assert_eq!(r["device"], "cpu");
        assert_eq!(r["runs"], 3);
        assert_eq!(r["samples_s"].as_array().unwrap().len(), 3);
        assert_eq!(r["precision"], "fp32");
        let f = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"));
        assert!(f("first_s") > 0.0);
        assert!(f("min_s") > 0.0 && f("min_s") <= f("median_s") && f("median_s") <= f("max_s"));
        assert!(f("gflops") > 0.0);
    }
    let matmul = row(&doc, "burn", "cpu", "matmul");
    assert_eq!(matmul["size"], 96);
    // GFLOP/s is 2·N³ over the median.
    let expected = 2.0 * 96f64.powi(3) / matmul["median_s"].as_f64().unwrap() / 1e9;
    assert!((matmul["gflops"].as_f64().unwrap() - expected).abs() < 1e-6 * expected);
    assert_eq!(row(&doc, "burn", "cpu", "train_step")["size"], 512);

    // The saved file is the same document.
    let saved = json_of(&std::fs::read_to_string(&save).unwrap());
    assert_eq!(saved["results"], doc["results"]);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert_well_formed_svg(&svg);
    assert!(svg.contains("Burn candle"), "the bars are labelled");
    assert!(
        svg.contains("the book: macOS M1 (MPS GPU)"),
        "the book's rows are drawn"
    );

    // And `compare` reads it back.
    let (code, out, err) = output(&mut ctx.ttm(["bench", "compare", save.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("CPU · Burn candle"), "{out}");
    assert!(out.contains("(N=96)"), "{out}");
}

#[test]
fn the_human_table_puts_the_books_rows_beside_ours() {
    let ctx = TestContext::new();
    let (code, out, err) =
        output(&mut ctx.ttm(["bench", "--device", "cpu", "--size", "32", "--runs", "1"]));
    assert_eq!(code, 0, "{err}");
    for needle in [
        "MatMul 32×32",
        "Train step ",
        "batch 512",
        "Burn candle",
        "First call",
        "GFLOP/s",
        "Beside the book",
        "Platform",
        "Relative Speed",
        "the book: Ubuntu (CUDA GPU)",
        "≈11× faster",
        "784→1024→1024→10",
        "add --torch",
    ] {
        assert!(out.contains(needle), "no {needle:?} in\n{out}");
    }
}

#[test]
fn bad_numbers_are_refused_and_nothing_is_written() {
    let ctx = TestContext::new();
    let save = ctx.temp.path().join("never.json");
    for (args, needle) in [
        (vec!["--size", "0"], "--size must be at least 1"),
        (vec!["--runs", "0"], "--runs must be at least 1"),
        (
            vec!["--plot", "chart.png"],
            "give a file name ending in .svg",
        ),
        (vec!["--save", "no/such/folder/x.json"], "does not exist"),
        (vec!["--device", "metal"], "--device metal"),
    ] {
        let mut all = vec!["bench"];
        if !args.contains(&"--save") {
            all.extend(["--save", save.to_str().unwrap()]);
        }
        all.extend(args.iter().copied());
        let (code, out, err) = output(&mut ctx.ttm(&all));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(out.is_empty(), "{out}");
    }
    assert!(!save.exists());
}

#[test]
fn a_device_that_is_missing_here_is_exit_2() {
    let ctx = TestContext::new();
    // No Vulkan loader and no GPU on the test machine.
    let (code, _out, err) =
        output(&mut ctx.ttm(["bench", "--device", "vulkan", "--size", "8", "--runs", "1"]));
    if code == 0 {
        eprintln!("this machine has a working Vulkan device; nothing to check");
        return;
    }
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no device to benchmark"), "{err}");
}

#[test]
fn an_env_whose_torch_import_fails_is_exit_2() {
    let ctx = TestContext::new();
    let python = fake_env_python(
        &ctx,
        r#"printf '%s\n' '{"ok": false, "error": "ImportError: dlopen(libtorch_cpu.dylib)\nOSError: libtorch_cpu.so: cannot open shared object file"}'"#,
    );
    let (code, out, err) = output(&mut ctx.ttm([
        "bench", "--torch", "--device", "cpu", "--size", "8", "--runs", "1",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("libtorch_cpu.so: cannot open shared object file"),
        "{err}"
    );
    assert!(!err.contains("dlopen"), "only the last line: {err}");
    assert!(
        err.contains(python.to_str().unwrap()),
        "names the python: {err}"
    );
}

#[test]
fn the_real_script_reports_a_missing_torch_as_json() {
    // The embedded script itself, run by a real python without torch.
    let Some(real) = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
    else {
        eprintln!("no python3 here; skipped");
        return;
    };
    let ctx = TestContext::new();
    fake_env_python(&ctx, &format!("exec {} \"$@\"", real.display()));
    let (code, _out, err) = output(&mut ctx.ttm([
        "bench", "--torch", "--device", "cpu", "--size", "8", "--runs", "1",
    ]));
    if code == 0 {
        eprintln!("this python has torch; nothing to check");
        return;
    }
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("No module named 'torch'"), "{err}");
}

#[test]
fn without_a_project_env_torch_rows_are_skipped_with_a_reason() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm([
        "bench", "--torch", "--device", "cpu", "--size", "16", "--runs", "1", "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let doc = json_of(&out);
    assert!(doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["framework"] == "burn"));
    let skipped = doc["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["what"] == "PyTorch" && s["reason"].as_str().unwrap().contains("ttm setup")),
        "{skipped:?}"
    );
}

#[test]
fn backend_picks_one_cpu_backend_and_the_cpu_backend_is_named() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm([
        "bench",
        "--device",
        "cpu",
        "--backend",
        "ndarray",
        "--size",
        "32",
        "--runs",
        "1",
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let doc = json_of(&out);
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{doc}");
    assert!(results.iter().all(|r| r["backend"] == "ndarray"), "{doc}");
    let note = &doc["cpu_backend"];
    let blas = cfg!(feature = "openblas");
    assert_eq!(
        note["default_backend"],
        if blas { "ndarray" } else { "candle" },
        "{note}"
    );
    assert_eq!(note["blas"].as_str(), blas.then_some("OpenBLAS"), "{note}");
    assert_eq!(note["hint"].is_string(), !blas, "{note}");

    let (code, out, err) = output(&mut ctx.ttm([
        "bench",
        "--device",
        "cpu",
        "--backend",
        "candle",
        "--size",
        "32",
        "--runs",
        "1",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("CPU backend: Burn"), "{out}");
    // A CPU has no datasheet peak here: neither the column nor its note.
    assert!(!out.contains("Of peak"), "{out}");

    let (code, _, err) = output(&mut ctx.ttm(["bench", "--device", "cpu", "--backend", "cubecl"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--backend cubecl: not in this build on cpu"),
        "{err}"
    );
}

/// A python that answers like `scripts/torch_bench.py` on a CPU-only PyTorch.
const FAKE_TORCH: &str = r#"
# argv: -I -B -c SCRIPT probe | run DEVICE SIZE RUNS PRECISION (echoed back)
case "$5" in
  probe) echo '{"ok": true, "version": "2.5.1", "devices": {"cpu": null}}' ;;
  run)
    samples=$(awk -v n="$8" 'BEGIN { s = "0.004"; for (i = 1; i < n; i++) s = s ", 0.004"; print s }')
    flops=$(awk -v n="$7" 'BEGIN { printf "%.1f", 2 * n * n * n }')
    echo "{\"ok\": true, \"version\": \"2.5.1\", \"devices\": {\"cpu\": null}, \"device\": \"$6\", \"name\": null, \"results\": [{\"workload\": \"matmul\", \"size\": $7, \"first_s\": 0.01, \"samples_s\": [$samples], \"flops\": $flops, \"precision\": \"$9\"}, {\"workload\": \"train_step\", \"size\": 512, \"first_s\": 0.2, \"samples_s\": [$samples], \"flops\": 4897636352.0, \"precision\": \"$9\"}]}" ;;
esac
"#;

#[test]
fn torch_rows_sit_beside_burns_with_the_ratio() {
    let ctx = TestContext::new();
    fake_env_python(&ctx, FAKE_TORCH);
    let (code, out, err) = output(&mut ctx.ttm([
        "bench", "--torch", "--device", "cpu", "--size", "48", "--runs", "2", "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let doc = json_of(&out);
    assert_eq!(doc["torch_version"], "2.5.1");
    let torch = row(&doc, "torch", "cpu", "matmul");
    assert_eq!(torch["backend"], "torch");
    assert_eq!(torch["size"], 48);
    assert_eq!(torch["median_s"], 0.004);
    // Asked for strict fp32 on the CPU (the fake echoes what it was asked).
    assert_eq!(torch["precision"], "fp32");
    let burn = row(&doc, "burn", "cpu", "matmul");
    let comparisons = doc["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 4, "{comparisons:?}");
    let c = comparisons
        .iter()
        .find(|c| c["workload"] == "matmul" && c["burn_backend"] == burn["backend"])
        .unwrap();
    assert_eq!(c["precision"], "fp32");
    let ratio = 0.004 / burn["median_s"].as_f64().unwrap();
    assert!((c["burn_speed_vs_torch"].as_f64().unwrap() - ratio).abs() < 1e-9 * ratio);

    let (code, out, err) = output(&mut ctx.ttm([
        "bench", "--torch", "--device", "cpu", "--size", "48", "--runs", "2",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("PyTorch 2.5.1"), "{out}");
    assert!(out.contains("CPU · PyTorch"), "{out}");
}

#[test]
fn a_torch_run_that_fails_is_exit_1_with_burns_rows_kept() {
    let ctx = TestContext::new();
    fake_env_python(
        &ctx,
        r#"case "$5" in
  probe) echo '{"ok": true, "version": "2.5.1", "devices": {"cpu": null}}' ;;
  *) echo '{"ok": false, "error": "RuntimeError: out of memory"}' ;;
esac"#,
    );
    let (code, out, _err) = output(&mut ctx.ttm([
        "bench", "--torch", "--device", "cpu", "--size", "16", "--runs", "1", "--json",
    ]));
    assert_eq!(code, 1);
    let doc = json_of(&out);
    assert_eq!(
        doc["results"].as_array().unwrap().len(),
        4,
        "both CPU backends, two workloads each"
    );
    let s = &doc["skipped"][0];
    assert_eq!(s["what"], "PyTorch on cpu");
    assert_eq!(s["reason"], "RuntimeError: out of memory");
    assert_eq!(s["failed"], true);
}

#[test]
fn compare_prints_the_books_layout_across_machines() {
    let ctx = TestContext::new();
    let plot = ctx.temp.path().join("machines.svg");
    let (code, out, err) = output(&mut ctx.ttm([
        "bench",
        "compare",
        results_dir().join("linux-h100.json").to_str().unwrap(),
        results_dir().join("mac-m1.json").to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let mut settings = snapshot_settings(&ctx, &["[TIME]"]);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("bench_compare_two_machines", out));
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert_well_formed_svg(&svg);
    assert!(
        svg.contains("Ubuntu 22.04.4 LTS, NVIDIA H100 80GB HBM3"),
        "platform labels"
    );
}

#[test]
fn compare_json_has_one_row_per_engine_and_the_books() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm([
        "bench",
        "compare",
        "--json",
        results_dir().join("mac-m1.json").to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let doc = json_of(&out);
    assert_eq!(doc["schema"], 1);
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.iter().filter(|r| r["book"] == false).count(), 3);
    assert_eq!(rows.iter().filter(|r| r["book"] == true).count(), 4);
    let metal = rows.iter().find(|r| r["device"] == "metal").unwrap();
    assert_eq!(metal["platform"], "macOS 14.5, Apple M1 Max");
    // 0.091 s on the CPU against 0.012 s on Metal.
    let rel = metal["relative_speed"].as_f64().unwrap();
    assert!((rel - 0.091 / 0.012).abs() < 1e-9, "{rel}");
}

#[test]
fn compare_refuses_files_that_are_not_ours_or_newer() {
    let ctx = TestContext::new();
    let good = results_dir().join("mac-m1.json");
    let not_json = ctx.temp.path().join("notes.txt");
    std::fs::write(&not_json, "hello").unwrap();
    for (file, needle) in [
        (
            results_dir().join("doctor-report.json"),
            "not a `ttm bench` result",
        ),
        (
            results_dir().join("newer-schema.json"),
            "newer ttm (schema 2)",
        ),
        (not_json.clone(), "not JSON"),
        (ctx.temp.path().join("missing.json"), "no such file"),
    ] {
        let plot = ctx.temp.path().join("never.svg");
        let (code, out, err) = output(&mut ctx.ttm([
            "bench",
            "compare",
            good.to_str().unwrap(),
            file.to_str().unwrap(),
            "--plot",
            plot.to_str().unwrap(),
        ]));
        assert_eq!(code, 2, "{}: {err}", file.display());
        assert!(err.contains(needle), "{err}");
        assert!(
            err.contains(file.to_str().unwrap()),
            "names the file: {err}"
        );
        assert!(out.is_empty(), "nothing printed before the refusal: {out}");
        assert!(!plot.exists(), "nothing drawn");
    }
}

#[test]
fn without_torch_no_empty_column_and_the_header_fits_100_columns() {
    let ctx = TestContext::new();
    let (code, out, err) =
        output(&mut ctx.ttm(["bench", "--device", "cpu", "--size", "32", "--runs", "1"]));
    assert_eq!(code, 0, "{err}");
    let header = out.lines().find(|l| l.starts_with("Device")).expect(&out);
    assert!(!header.contains("vs PyTorch"), "{header}");
    assert!(
        header.chars().count() <= 100,
        "{} columns: {header}",
        header.chars().count()
    );
    assert!(
        out.contains("≈6× faster") && !out.contains("≈6.3×"),
        "{out}"
    );
    for l in out.lines() {
        assert!(
            l.chars().count() <= 100,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    // At 80 columns every line fits too, the tables with all their columns here.
    let ctx = TestContext::new().env("COLUMNS", "80");
    let (code, out, err) =
        output(&mut ctx.ttm(["bench", "--device", "cpu", "--size", "32", "--runs", "1"]));
    assert_eq!(code, 0, "{err}");
    for l in out.lines() {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}\n{out}",
            l.chars().count()
        );
    }
    assert!(
        out.contains("GFLOP/s") && out.contains("Relative Speed"),
        "{out}"
    );
}

#[test]
fn compare_fits_80_columns_keeping_the_books_columns() {
    let ctx = TestContext::new().env("COLUMNS", "80");
    let (code, out, err) = output(&mut ctx.ttm([
        "bench",
        "compare",
        results_dir().join("linux-h100.json").to_str().unwrap(),
        results_dir().join("mac-m1.json").to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    for l in out.lines() {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}\n{out}",
            l.chars().count()
        );
    }
    let header = out.lines().next().unwrap();
    for column in ["MatMul (s)", "GFLOP/s", "Train Step (s)", "Relative Speed"] {
        assert!(header.contains(column), "{column}: {header}");
    }
    assert!(
        out.contains("\nUbuntu 22.04.4 LTS, NVIDIA H100 80GB HBM3\n"),
        "{out}"
    );
}
