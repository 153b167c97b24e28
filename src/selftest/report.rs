//! The `ttm selftest --json` document (DESIGN.md, "ttm selftest --json"):
//! typed, so its keys and their order are written down once.

use serde::Serialize;

use super::{gflops, SelftestRun};
use crate::compute::matmul::MatmulMeasure;
use crate::compute::{BackendKind, DeviceKind, Discovered};

/// The whole document. `device`, `training`, `matmul` and `verdict` are the
/// first run's; `runs` lists every run with `--all`.
#[derive(Debug, Clone, Serialize)]
pub struct SelftestReport {
    pub schema: u32,
    pub ready: bool,
    pub device: Option<DeviceReport>,
    pub training: Option<TrainingReport>,
    pub matmul: Option<MatmulReport>,
    pub verdict: Option<String>,
    pub runs: Vec<RunReport>,
    pub discovered: Vec<DiscoveredReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceReport {
    pub kind: DeviceKind,
    pub backend: BackendKind,
    pub name: Option<String>,
}

/// One (device, backend) pair's results.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub device: DeviceReport,
    pub training: TrainingReport,
    pub matmul: MatmulReport,
    pub ready: bool,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TrainingReport {
    Ran {
        steps: u32,
        lr: f64,
        seed: u64,
        weight: f64,
        bias: f64,
        initial_loss: Option<f64>,
        final_loss: f64,
        reference: ReferenceReport,
        max_abs_diff: f64,
        loss_fell: bool,
        passed: bool,
    },
    Failed {
        steps: u32,
        lr: f64,
        seed: u64,
        passed: bool,
        error: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct ReferenceReport {
    pub weight: f64,
    pub bias: f64,
    pub final_loss: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum MatmulReport {
    Ran {
        n: usize,
        device_s: f64,
        cpu_s: Option<f64>,
        device_gflops: f64,
        cpu_gflops: Option<f64>,
        speedup: Option<f64>,
        first_s: f64,
        runs: usize,
        precision: &'static str,
        sync: &'static str,
        max_rel_error: f64,
        cpu_max_rel_error: Option<f64>,
        sampled: usize,
        passed: bool,
    },
    Failed {
        n: Option<usize>,
        passed: bool,
        error: String,
    },
}

/// A pair this build has, and whether it works here.
#[derive(Debug, Clone, Serialize)]
pub struct DiscoveredReport {
    pub kind: DeviceKind,
    pub backend: BackendKind,
    pub name: Option<String>,
    pub available: bool,
    pub reason: Option<String>,
}

impl SelftestReport {
    pub fn new(ready: bool, runs: &[SelftestRun], all: bool, discovered: &[Discovered]) -> Self {
        let runs: Vec<RunReport> = runs.iter().map(RunReport::of).collect();
        let first = runs.first().cloned();
        SelftestReport {
            schema: 1,
            ready,
            device: first.as_ref().map(|r| r.device.clone()),
            training: first.as_ref().map(|r| r.training.clone()),
            matmul: first.as_ref().map(|r| r.matmul.clone()),
            verdict: first.map(|r| r.verdict),
            runs: if all { runs } else { Vec::new() },
            discovered: discovered
                .iter()
                .map(|d| DiscoveredReport {
                    kind: d.target.device,
                    backend: d.target.backend,
                    name: d.name.clone(),
                    available: d.available,
                    reason: d.reason.clone(),
                })
                .collect(),
        }
    }
}

impl RunReport {
    pub fn of(r: &SelftestRun) -> RunReport {
        let training = match &r.training {
            Ok((fit, check)) => TrainingReport::Ran {
                steps: r.problem.steps,
                lr: r.problem.lr,
                seed: r.seed,
                weight: fit.weight,
                bias: fit.bias,
                initial_loss: fit.losses.first().copied(),
                final_loss: fit.final_loss(),
                reference: ReferenceReport {
                    weight: r.reference.weight,
                    bias: r.reference.bias,
                    final_loss: r.reference.final_loss(),
                },
                max_abs_diff: check.max_abs_diff,
                loss_fell: check.loss_fell,
                passed: check.passed(),
            },
            Err(e) => TrainingReport::Failed {
                steps: r.problem.steps,
                lr: r.problem.lr,
                seed: r.seed,
                passed: false,
                error: e.clone(),
            },
        };
        let matmul = match &r.matmul {
            Ok(m) => {
                let cpu = r.cpu_measure();
                MatmulReport::Ran {
                    n: m.n,
                    device_s: m.median_s(),
                    cpu_s: cpu.map(MatmulMeasure::median_s),
                    device_gflops: gflops(m),
                    cpu_gflops: cpu.map(gflops),
                    speedup: r.speedup(),
                    first_s: m.first_s,
                    runs: m.samples_s.len(),
                    precision: m.precision,
                    sync: m.barrier.describe(),
                    max_rel_error: m.max_rel_error,
                    cpu_max_rel_error: cpu.map(|c| c.max_rel_error),
                    sampled: m.sampled,
                    passed: r.matmul_passed(),
                }
            }
            Err(e) => MatmulReport::Failed {
                n: None,
                passed: false,
                error: e.clone(),
            },
        };
        RunReport {
            device: DeviceReport {
                kind: r.found.target.device,
                backend: r.found.target.backend,
                name: r.found.name.clone(),
            },
            training,
            matmul,
            ready: r.passed(),
            verdict: r.verdict(),
        }
    }
}
