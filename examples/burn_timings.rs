//! A benchmark, not a test: the Burn workloads of `ttm bench` (matmul at
//! several sizes and the train step) on every available (device, backend)
//! pair, one JSON line per measurement, for comparing with PyTorch by hand.
//!
//! `cargo run --example burn_timings -- 2048 4096 8192` (sizes; default 2048).

use torch_to_the_metal::compute::bench::{time_matmul, time_train_step, Timing, TRAIN_STEP};
use torch_to_the_metal::compute::discover;
use torch_to_the_metal::compute::matmul::median;
use torch_to_the_metal::system::System;

fn main() {
    let sys = System::from_process();
    let sizes: Vec<usize> = sys
        .args()
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str()?.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![2048] } else { sizes };
    eprintln!("train step: {TRAIN_STEP}");
    for d in discover(&sys) {
        if !d.available {
            eprintln!("{}: {}", d.target, d.reason.unwrap_or_default());
            continue;
        }
        for &n in &sizes {
            report(
                &d.target.to_string(),
                "matmul",
                n,
                time_matmul(d.target, n, 20),
            );
        }
        report(
            &d.target.to_string(),
            "train_step",
            512,
            time_train_step(d.target, 20),
        );
    }
}

fn report(target: &str, workload: &str, size: usize, t: torch_to_the_metal::error::Result<Timing>) {
    let line = match t {
        Ok(t) => {
            let m = median(&t.samples_s);
            let min = t.samples_s.iter().copied().fold(f64::INFINITY, f64::min);
            serde_json::json!({
                "target": target, "workload": workload, "size": size,
                "first_s": t.first_s, "median_ms": m * 1e3, "min_ms": min * 1e3,
                "gflops": t.flops / m / 1e9, "precision": t.precision,
            })
        }
        Err(e) => {
            serde_json::json!({"target": target, "workload": workload, "size": size, "error": e.to_string()})
        }
    };
    println!("{line}");
}
