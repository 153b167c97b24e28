//! `ttm selftest` end to end: the CPU path (candle) really trains and
//! multiplies here; GPUs are absent on CI and must come back as reasons,
//! never as panics.

use serde_json::Value;

use crate::common::*;

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

#[test]
fn cpu_selftest_trains_and_checks_the_matmul() {
    let ctx = TestContext::new();
    let (code, out, err) =
        output(&mut ctx.ttm(["selftest", "--device", "cpu", "--size", "192", "--json"]));
    assert_eq!(code, 0, "{err}");
    let doc = json_of(&out);
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["ready"], true);
    assert_eq!(doc["device"]["kind"], "cpu");
    // The CPU backend `auto` picks: NdArray where the build has a BLAS.
    let cpu_backend = if cfg!(feature = "openblas") {
        "ndarray"
    } else {
        "candle"
    };
    assert_eq!(doc["device"]["backend"], cpu_backend);
    let t = &doc["training"];
    assert_eq!(t["steps"], 200);
    assert_eq!(t["lr"], 0.1);
    assert_eq!(t["seed"], 42);
    assert_eq!(t["passed"], true);
    let (w, wr) = (
        t["weight"].as_f64().unwrap(),
        t["reference"]["weight"].as_f64().unwrap(),
    );
    let (b, br) = (
        t["bias"].as_f64().unwrap(),
        t["reference"]["bias"].as_f64().unwrap(),
    );
    assert!((w - wr).abs() <= 1e-3 * wr.abs() && (b - br).abs() <= 1e-3 * br.abs());
    // 200 steps fit roughly y = 3x + 2.
    assert!((w - 3.0).abs() < 0.6 && (b - 2.0).abs() < 0.4, "{t}");
    assert!(t["final_loss"].as_f64().unwrap() < t["initial_loss"].as_f64().unwrap());
    let m = &doc["matmul"];
    assert_eq!(m["n"], 192);
    assert_eq!(m["passed"], true);
    assert_eq!(m["precision"], "fp32");
    assert_eq!(m["sampled"], 64);
    assert!(m["max_rel_error"].as_f64().unwrap() < 1e-5);
    assert!(m["device_gflops"].as_f64().unwrap() > 0.0);
    assert_eq!(doc["runs"], Value::Array(vec![]));
    let discovered = doc["discovered"].as_array().unwrap();
    assert!(discovered
        .iter()
        .any(|d| d["kind"] == "cpu" && d["available"] == true));
}

#[test]
fn the_seed_changes_the_problem_and_steps_are_obeyed() {
    let ctx = TestContext::new();
    let run = |seed: &str, steps: &str| {
        let (code, out, err) = output(&mut ctx.ttm([
            "selftest", "--device", "cpu", "--size", "64", "--seed", seed, "--steps", steps,
            "--json",
        ]));
        assert_eq!(code, 0, "{err}");
        json_of(&out)["training"].clone()
    };
    let a = run("1", "50");
    let b = run("2", "50");
    assert_eq!(a["steps"], 50);
    assert_ne!(a["weight"], b["weight"]);
    assert_eq!(a["weight"], run("1", "50")["weight"]);
}

#[test]
fn human_output_ends_with_the_verdict() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm(["selftest", "--device", "cpu", "--size", "128"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("training  200 steps, lr 0.1, seed 42"),
        "{out}"
    );
    assert!(out.contains("f64 reference"), "{out}");
    assert!(out.contains('▁'), "no sparkline:\n{out}");
    assert!(out.contains("matmul    128×128 f32"), "{out}");
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("Ready: CPU") && last.contains("training matches the reference"),
        "{out}"
    );
}

#[test]
fn the_ndarray_backend_is_selectable_and_the_cpu_backend_is_named() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm([
        "selftest",
        "--device",
        "cpu",
        "--backend",
        "ndarray",
        "--size",
        "64",
        "--steps",
        "50",
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let doc = json_of(&out);
    assert_eq!(doc["device"]["backend"], "ndarray", "{doc}");
    assert_eq!(doc["ready"], true, "{doc}");
    let (code, out, err) = output(&mut ctx.ttm([
        "selftest",
        "--device",
        "cpu",
        "--backend",
        "candle",
        "--size",
        "64",
        "--steps",
        "20",
    ]));
    assert_eq!(code, 0, "{err}");
    let at = out
        .find("CPU backend: ")
        .unwrap_or_else(|| panic!("no CPU backend line:\n{out}"));
    // The line and the indented lines under it.
    let line = &out[at..];
    if cfg!(feature = "openblas") {
        assert!(
            line.contains("Burn NdArray, matrix products on OpenBLAS"),
            "{line}"
        );
    } else {
        assert!(
            line.contains("Burn Candle (no BLAS in this build)"),
            "{line}"
        );
        assert!(
            line.contains("apt-get install libopenblas-dev")
                && line.contains("--features openblas"),
            "{line}"
        );
    }
}

#[test]
fn all_runs_every_available_pair_and_missing_gpus_are_reasons() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm([
        "selftest", "--all", "--size", "64", "--steps", "20", "--json",
    ]));
    assert!(!err.contains("panicked"), "{err}");
    let doc = json_of(&out);
    assert_eq!(code, if doc["ready"] == true { 0 } else { 1 }, "{err}");
    let runs = doc["runs"].as_array().unwrap();
    assert!(
        runs.iter()
            .any(|r| r["device"]["kind"] == "cpu" && r["ready"] == true),
        "{doc}"
    );
    for d in doc["discovered"].as_array().unwrap() {
        if d["available"] == false {
            assert!(d["reason"].as_str().is_some_and(|r| !r.is_empty()), "{d}");
        }
    }
    let available = doc["discovered"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["available"] == true)
        .count();
    assert_eq!(runs.len(), available);
}

#[test]
fn an_unavailable_gpu_is_exit_2_naming_what_works() {
    // No NVIDIA driver on CI: a reason, exit 2, never a panic. (On a machine
    // with one, the test passes through the success path instead.)
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm([
        "selftest", "--device", "cuda", "--size", "64", "--steps", "10",
    ]));
    assert!(!err.contains("panicked"), "{err}");
    if code == 2 {
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("cuda (cubecl) is unavailable"), "{err}");
        assert!(err.contains("ttm selftest --device cpu"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    } else {
        assert_eq!(code, 0, "{err}");
    }
}

#[test]
fn bad_input_is_exit_2_with_the_choices() {
    let ctx = TestContext::new();
    let cases: &[(&[&str], &str)] = &[
        (&["--size", "0"], "--size must be at least 1"),
        (&["--steps", "0"], "--steps must be at least 1"),
        (
            &["--backend", "tpu"],
            "possible values: auto, candle, cubecl",
        ),
        (
            &["--device", "npu"],
            "possible values: auto, cpu, metal, cuda, vulkan",
        ),
        (&["--size", "10000000"], "choose --size"),
        (
            &["--device", "cpu", "--backend", "cubecl"],
            if cfg!(feature = "openblas") {
                "cpu runs only on --backend ndarray or candle"
            } else {
                "cpu runs only on --backend candle or ndarray"
            },
        ),
    ];
    for (args, expected) in cases {
        let mut argv = vec!["selftest"];
        argv.extend_from_slice(args);
        argv.push("--json");
        let (code, out, err) = output(&mut ctx.ttm(&argv));
        assert_eq!(code, 2, "{args:?}: {err}");
        // With --json the refusal is the one document on stdout (DESIGN.md).
        let doc: serde_json::Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {out}"));
        assert_eq!(doc["error"]["code"], 2, "{args:?}: {out}");
        assert!(
            doc["error"]["message"].as_str().unwrap().contains(expected),
            "{args:?}: {out}"
        );
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    if !cfg!(target_os = "macos") {
        let (code, _, err) = output(&mut ctx.ttm(["selftest", "--device", "metal"]));
        assert_eq!(code, 2);
        assert!(
            err.contains("no Metal backend") && err.contains("choose --device auto"),
            "{err}"
        );
        assert!(err.contains("cpu"), "{err}");
    }
}

#[test]
fn a_matmul_larger_than_memory_is_refused_before_allocating() {
    // A fake Mac with 16 GiB: `sysctl -n hw.memsize` answers first.
    let mut ctx = TestContext::new();
    ctx.shim(
        "sysctl",
        r#"case "$*" in "-n hw.memsize") echo 17179869184 ;; *) exit 1 ;; esac"#,
    );
    let (code, out, err) = output(&mut ctx.ttm(["selftest", "--size", "40000"]));
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert_eq!(
        err.trim(),
        "error: --size 40000 needs 19.2 GB for three 40000×40000 f32 matrices, and this machine has 17.2 GB of memory available; choose --size 37837 or less"
    );
}

#[test]
fn without_a_gpu_the_verdict_says_cpu_only_and_no_line_is_over_100_columns() {
    let ctx = TestContext::new();
    let (_, out, _) = output(&mut ctx.ttm(["selftest", "--size", "64", "--steps", "20", "--json"]));
    if json_of(&out)["device"]["kind"] != "cpu" {
        return; // a machine with a GPU: the CPU-only wording does not apply
    }
    let (code, out, err) = output(&mut ctx.ttm(["selftest", "--size", "64", "--steps", "20"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Ready (CPU only: no GPU found): training matches"),
        "{out}"
    );
    assert!(out.contains("PyTorch will compute on the CPU too"), "{out}");
    assert!(
        out.contains("(compiling, warming up: not in the median)"),
        "{out}"
    );
    assert!(!out.contains("apart"), "{out}");
    for l in out.lines() {
        assert!(
            l.chars().count() <= 100,
            "{} columns: {l}",
            l.chars().count()
        );
    }
}

#[test]
fn an_autotune_effort_that_is_not_one_is_refused_before_anything_runs() {
    let ctx = TestContext::new().env("TTM_AUTOTUNE", "fastest");
    for argv in [
        vec![
            "selftest", "--device", "cpu", "--size", "64", "--steps", "5",
        ],
        vec!["bench", "--device", "cpu", "--size", "64", "--runs", "1"],
    ] {
        let (code, out, err) = output(&mut ctx.ttm(&argv));
        assert_eq!(code, 2, "{argv:?}: {out}{err}");
        assert!(
            err.contains("TTM_AUTOTUNE=fastest") && err.contains("minimal, balanced"),
            "{argv:?}: {err}"
        );
        assert!(out.is_empty(), "{argv:?}: nothing ran: {out}");
    }
    // A valid one runs (the CPU backends do not autotune).
    let ctx = TestContext::new().env("TTM_AUTOTUNE", "full");
    let (code, out, err) = output(&mut ctx.ttm([
        "selftest", "--device", "cpu", "--size", "64", "--steps", "5",
    ]));
    assert_eq!(code, 0, "{out}{err}");
}
