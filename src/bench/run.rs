//! The measurement: which Burn (device, backend) pairs and which PyTorch
//! devices to run, in the book's order (CPU first, then the GPUs, best
//! first), then each workload with its warm-up apart, synchronised runs and
//! medians. What could not be measured is a [`Skipped`] with its reason.

use std::path::{Path, PathBuf};

use super::results::{BenchRow, Framework, Skipped, Workload};
use super::stats::Summary;
use super::torch::{self, TorchProbe};
use crate::compute::bench::{time_matmul_observed, time_train_step_observed, Timing};
use crate::compute::matmul::OnCall;
use crate::compute::{BackendKind, DeviceKind, Discovered, Target};
use crate::error::{Error, Result};
use crate::system::System;

/// The train step's batch (see `compute::bench::TRAIN_STEP`).
const TRAIN_STEP_BATCH: usize = 512;

/// The PyTorch side, when `--torch` asked for it.
#[derive(Debug, Clone)]
pub enum TorchSide {
    Ready {
        python: PathBuf,
        probe: TorchProbe,
    },
    /// No project environment: its rows are skipped, and why.
    Missing(String),
}

impl TorchSide {
    /// Ask the project environment's PyTorch what it has; an `import torch`
    /// that fails is an error here, before minutes of Burn work.
    pub fn prepare(sys: &System, python: Option<&Path>) -> Result<TorchSide> {
        let Some(python) = python else {
            return Ok(TorchSide::Missing(
                "no project environment with a python (create it with `ttm setup`)".to_owned(),
            ));
        };
        let probe = torch::probe(sys, python)?;
        Ok(TorchSide::Ready {
            python: python.to_path_buf(),
            probe,
        })
    }
}

/// What will run, in order, before anything runs.
#[derive(Debug, Clone)]
pub struct BenchSchedule {
    /// The available Burn pairs, CPU first.
    pub targets: Vec<Discovered>,
    /// The devices in the order they are measured.
    pub hardware_order: Vec<DeviceKind>,
    /// PyTorch's devices to run, each with its name where known.
    pub torch_devices: Vec<(String, Option<String>)>,
    pub skipped: Vec<Skipped>,
}

impl BenchSchedule {
    /// The Burn pairs of `asked` (all when None) that work, and the PyTorch
    /// devices on the same hardware. None that works is `Error::Unavailable`.
    pub fn new(
        discovered: &[Discovered],
        asked: Option<DeviceKind>,
        backend: Option<BackendKind>,
        torch_side: Option<&TorchSide>,
    ) -> Result<BenchSchedule> {
        let wanted = |t: Target| {
            asked.is_none_or(|d| d == t.device) && backend.is_none_or(|b| b == t.backend)
        };
        let mut skipped: Vec<Skipped> = Vec::new();
        let mut targets: Vec<Discovered> = Vec::new();
        for d in discovered.iter().filter(|d| wanted(d.target)) {
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
        let hardware_order: Vec<DeviceKind> = {
            let mut order: Vec<DeviceKind> = targets.iter().map(|d| d.target.device).collect();
            order.dedup();
            order
        };
        let torch_devices = match torch_side {
            Some(TorchSide::Ready { probe, .. }) => {
                torch_devices(probe, &hardware_order, asked, &mut skipped)
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
        Ok(BenchSchedule {
            targets,
            hardware_order,
            torch_devices,
            skipped,
        })
    }

    /// Steps of progress: one per call (the warm-up and each of `runs`),
    /// two workloads per Burn pair and per PyTorch device.
    pub fn steps(&self, runs: usize) -> u64 {
        let workloads = (self.targets.len() * 2 + self.torch_devices.len() * 2) as u64;
        workloads * (runs as u64 + 1)
    }
}

/// Where a bench run is, for a progress bar: `(calls done, what runs now)`.
/// Called from the compute thread too, hence `Send + Sync`.
pub type BenchProgress = std::sync::Arc<dyn Fn(u64, String) + Send + Sync>;

/// What a progress bar says while call `k` of a workload runs: the warm-up
/// (k = 0), then "run k/runs".
pub fn call_text(what: &str, k: usize, runs: usize) -> String {
    if k == 0 {
        format!("{what}: warm-up (compiles, tunes; not timed)")
    } else {
        format!("{what}: run {k}/{runs}")
    }
}

/// The rows measured, what was not, and whether something failed (exit 1).
#[derive(Debug, Clone)]
pub struct BenchMeasurements {
    pub rows: Vec<BenchRow>,
    pub skipped: Vec<Skipped>,
    pub failed: bool,
}

/// Run the schedule: on each device, Burn's pairs, then PyTorch on the same hardware.
pub fn measure(
    sys: &System,
    schedule: BenchSchedule,
    torch_side: Option<&TorchSide>,
    size: usize,
    runs: usize,
    progress: &BenchProgress,
) -> BenchMeasurements {
    let mut skipped = schedule.skipped;
    let mut rows: Vec<BenchRow> = Vec::new();
    let mut failed = false;
    let calls = runs as u64 + 1;
    let mut position = 0u64;
    for &device in &schedule.hardware_order {
        // What Burn's matrix products computed in on this device, as measured:
        // PyTorch runs its rows at the same precision.
        let mut burn_precision: Option<String> = None;
        for d in schedule
            .targets
            .iter()
            .filter(|d| d.target.device == device)
        {
            for workload in Workload::BOTH {
                let what = format!(
                    "Burn {} on {}: {}",
                    d.target.backend,
                    device,
                    describe(workload, size)
                );
                let (sink, base) = (progress.clone(), position);
                let on_call: OnCall =
                    std::sync::Arc::new(move |k| sink(base + k as u64, call_text(&what, k, runs)));
                let timing = match workload {
                    Workload::Matmul => time_matmul_observed(d.target, size, runs, Some(on_call)),
                    Workload::TrainStep => time_train_step_observed(d.target, runs, Some(on_call)),
                };
                match timing.and_then(|t| burn_row(d, workload, size, t)) {
                    Ok(row) => {
                        if workload == Workload::Matmul && burn_precision.is_none() {
                            burn_precision = Some(row.precision.clone());
                        }
                        rows.push(row)
                    }
                    Err(e) => {
                        failed = true;
                        skipped.push(Skipped {
                            what: format!("Burn on {}: {}", d.target, workload.as_str()),
                            reason: e.to_string(),
                            failed: true,
                        });
                    }
                }
                position += calls;
                progress(position, String::new());
            }
        }
        let torch_name = torch_device_for(device);
        if let (Some(TorchSide::Ready { python, .. }), Some(name)) = (torch_side, torch_name) {
            if schedule.torch_devices.iter().any(|(d, _)| d == name) {
                progress(
                    position,
                    format!("PyTorch on {name}: matmul and train step, {runs} runs each"),
                );
                let precision = torch_precision(burn_precision.as_deref());
                match torch::run_device(sys, python, name, size, runs, precision) {
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
                position += 2 * calls;
                progress(position, String::new());
            }
        }
    }
    BenchMeasurements {
        rows,
        skipped,
        failed,
    }
}

/// The precision PyTorch is asked for: Burn's, where it measured TF32; else strict fp32.
pub fn torch_precision(burn: Option<&str>) -> &'static str {
    match burn.map(super::peak::precision_word) {
        Some("tf32") => "tf32",
        _ => "fp32",
    }
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
        d.target.backend.into(),
        d.target.device.into(),
        workload,
        size,
        summary,
        t.samples_s,
        &t.precision,
        d.name.clone(),
    ))
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
    fn progress_counts_every_call_and_says_which_run() {
        use std::sync::{Arc, Mutex};
        let cpu = Discovered {
            target: crate::compute::Target::CPU,
            name: None,
            available: true,
            reason: None,
        };
        let schedule = BenchSchedule::new(
            &[cpu],
            Some(DeviceKind::Cpu),
            Some(BackendKind::Candle),
            None,
        )
        .unwrap();
        assert_eq!(
            schedule.steps(3),
            8,
            "two workloads, a warm-up and 3 runs each"
        );
        let seen: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
        let record = seen.clone();
        let progress: BenchProgress =
            Arc::new(move |at, text| record.lock().unwrap().push((at, text)));
        let sys = System::from_parts(Vec::<(String, String)>::new(), "/");
        let m = measure(&sys, schedule, None, 8, 3, &progress);
        assert!(!m.failed, "{:?}", m.skipped);
        let seen = seen.lock().unwrap();
        let texts: Vec<&str> = seen
            .iter()
            .map(|(_, t)| t.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        assert_eq!(
            texts,
            [
                "Burn candle on cpu: matmul 8×8: warm-up (compiles, tunes; not timed)",
                "Burn candle on cpu: matmul 8×8: run 1/3",
                "Burn candle on cpu: matmul 8×8: run 2/3",
                "Burn candle on cpu: matmul 8×8: run 3/3",
                "Burn candle on cpu: train step: warm-up (compiles, tunes; not timed)",
                "Burn candle on cpu: train step: run 1/3",
                "Burn candle on cpu: train step: run 2/3",
                "Burn candle on cpu: train step: run 3/3",
            ]
        );
        let positions: Vec<u64> = seen.iter().map(|(at, _)| *at).collect();
        assert!(positions.windows(2).all(|w| w[0] <= w[1]), "{positions:?}");
        assert_eq!(positions.last(), Some(&8));
        assert_eq!(positions[1], 1, "run 1 starts after the warm-up");
    }

    #[test]
    fn torch_is_asked_for_burns_precision() {
        assert_eq!(torch_precision(Some("tf32")), "tf32");
        assert_eq!(torch_precision(Some("fp32")), "fp32");
        assert_eq!(torch_precision(None), "fp32");
        assert_eq!(
            torch_precision(Some("fp32 (matmul precision high)")),
            "fp32"
        );
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
