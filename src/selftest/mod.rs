//! The self-test, as a domain: which (device, backend) pairs to run, the
//! book's training run against the f64 reference and the N×N matmul against
//! the CPU on each, and the verdict. `commands::selftest` prints it; the
//! JSON contract is [`report`].

pub mod report;

use crate::compute::backends::cpu_default;
use crate::compute::matmul::{measure_matmul, MatmulMeasure};
use crate::compute::training::{check_fit, train_on, Fit, TrainingCheck, TrainingProblem};
use crate::compute::{discover, BackendKind, DeviceKind, Discovered};
use crate::error::{Error, Result};
use crate::system::System;

/// Timed matmul runs after the warm-up, on the device and on the CPU baseline.
const DEVICE_RUNS: usize = 5;
const CPU_RUNS: usize = 3;

/// What every pair is checked with.
#[derive(Debug, Clone)]
pub struct SelftestSettings {
    pub problem: TrainingProblem,
    /// The f64 reference of `problem`.
    pub reference: Fit,
    pub seed: u64,
    /// N of the N×N matmul.
    pub size: usize,
}

/// The outcome of a matmul on one pair, or why it did not run.
pub type MatmulOutcome = std::result::Result<MatmulMeasure, String>;

/// One pair's results.
#[derive(Debug, Clone)]
pub struct SelftestRun {
    pub found: Discovered,
    pub training: std::result::Result<(Fit, TrainingCheck), String>,
    pub matmul: MatmulOutcome,
    /// The CPU baseline; None on the CPU itself.
    pub cpu: Option<MatmulOutcome>,
    pub reference: Fit,
    pub problem: TrainingProblem,
    pub seed: u64,
}

/// The devices that work here, for an error's list of choices.
pub fn working_devices(sys: &System) -> Vec<&'static str> {
    discover(sys)
        .into_iter()
        .filter(|d| d.available)
        .map(|d| d.target.device.as_str())
        .collect()
}

/// "auto, cpu or cuda"
pub fn or_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
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

/// The runs to make: every available pair (`all`), or the first available
/// one. None available is exit 2, saying why and what works.
pub fn choose_runs(sys: &System, all: bool, discovered: &[Discovered]) -> Result<Vec<Discovered>> {
    let available: Vec<Discovered> = discovered.iter().filter(|d| d.available).cloned().collect();
    if all {
        return Ok(available);
    }
    if let Some(first) = available.first() {
        return Ok(vec![first.clone()]);
    }
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
    let working = working_devices(sys);
    let hint = match working.first() {
        None => "no device works here".to_owned(),
        Some(first) => format!(
            "available here: --device {}; try `ttm selftest --device {first}`",
            or_list(working.iter().copied())
        ),
    };
    Err(Error::Unavailable {
        message: format!("{why}; {hint}"),
    })
}

/// Train and multiply on one pair; `progress` hears what is running, and says
/// the first call will take long where `first_tuning` (nothing tuned here yet).
/// The CPU baseline is measured once and shared by all runs.
pub fn run_pair(
    found: &Discovered,
    settings: &SelftestSettings,
    cpu_baseline: &mut Option<MatmulOutcome>,
    first_tuning: bool,
    progress: &dyn Fn(String),
) -> SelftestRun {
    let target = found.target;
    let problem = &settings.problem;
    progress(format!("training on {target} ({} steps)", problem.steps));
    let training = train_on(target, problem).map(|fit| {
        let check = check_fit(&fit, &settings.reference);
        (fit, check)
    });
    let tuning = if first_tuning {
        " (first run here: compiling and tuning kernels, about 40 s on an H200)"
    } else {
        ""
    };
    let size = settings.size;
    progress(format!("{n}×{n} matmul on {target}{tuning}", n = size));
    let seed = settings.seed.wrapping_add(1);
    let matmul = measure_matmul(target, size, DEVICE_RUNS, seed);
    let cpu_target = cpu_default();
    let cpu = if target == cpu_target {
        None
    } else {
        progress(format!("{n}×{n} matmul on the CPU (baseline)", n = size));
        Some(
            cpu_baseline
                .get_or_insert_with(|| measure_matmul(cpu_target, size, CPU_RUNS, seed))
                .clone(),
        )
    };
    SelftestRun {
        found: found.clone(),
        training,
        matmul,
        cpu,
        reference: settings.reference.clone(),
        problem: problem.clone(),
        seed: settings.seed,
    }
}

impl SelftestRun {
    pub fn training_passed(&self) -> bool {
        matches!(&self.training, Ok((_, c)) if c.passed())
    }

    pub fn matmul_passed(&self) -> bool {
        let cpu_ok = match &self.cpu {
            Some(Ok(m)) => m.passed(),
            Some(Err(_)) => false,
            None => true,
        };
        matches!(&self.matmul, Ok(m) if m.passed()) && cpu_ok
    }

    pub fn passed(&self) -> bool {
        self.training_passed() && self.matmul_passed()
    }

    /// The CPU's matmul: the baseline, or this run's own on the CPU.
    pub fn cpu_measure(&self) -> Option<&MatmulMeasure> {
        match (&self.cpu, &self.matmul) {
            (Some(Ok(m)), _) => Some(m),
            (None, Ok(m)) => Some(m),
            _ => None,
        }
    }

    pub fn speedup(&self) -> Option<f64> {
        let device = self.matmul.as_ref().ok()?.median_s();
        Some(self.cpu_measure()?.median_s() / device)
    }

    pub fn label(&self) -> String {
        label(&self.found)
    }

    /// The verdict line: "Ready: SUBJECT, FINDINGS" or "Not ready: SUBJECT: WHY".
    pub fn verdict(&self) -> String {
        let subject = self.label();
        match self.findings() {
            Ok(findings) => format!("Ready: {subject}, {findings}"),
            Err(why) => format!("Not ready: {subject}: {why}"),
        }
    }

    /// What a passing run found ("training matches the reference, matmul
    /// 225× the CPU"), or why it failed. Apart from the subject, whose
    /// device name may hold any text (a CPU named "…, 2.9 GHz").
    pub fn findings(&self) -> std::result::Result<String, String> {
        if let Err(e) = &self.training {
            return Err(e.clone());
        }
        if let Ok((fit, check)) = &self.training {
            if let Some(why) = check.failure(fit, &self.reference) {
                return Err(why);
            }
        }
        let m = match &self.matmul {
            Err(e) => return Err(e.clone()),
            Ok(m) => m,
        };
        if !m.passed() {
            return Err(format!(
                "the matmul gave wrong results (sampled error {:.1e})",
                m.max_rel_error
            ));
        }
        if let Some(Err(e)) = &self.cpu {
            return Err(format!("the CPU baseline failed: {e}"));
        }
        if let Some(Ok(cpu)) = &self.cpu {
            if !cpu.passed() {
                return Err("the CPU baseline matmul gave wrong results".to_owned());
            }
        }
        let matmul = match (self.found.target.device, self.speedup()) {
            (DeviceKind::Cpu, _) | (_, None) => {
                format!("matmul checked at {:.0} GFLOP/s", gflops(m))
            }
            (_, Some(s)) => format!("matmul {} the CPU", times(s)),
        };
        Ok(format!("training matches the reference, {matmul}"))
    }

    /// The verdict of a passing run on the CPU of a machine where no GPU
    /// was found: what it means comes first.
    pub fn cpu_only_verdict(&self) -> Option<String> {
        let findings = self.findings().ok()?;
        Some(format!("Ready (CPU only: no GPU found): {findings}"))
    }
}

fn label(d: &Discovered) -> String {
    let base = match d.target.backend {
        BackendKind::Candle if d.target.device != DeviceKind::Cpu => {
            format!("{} via candle", d.target.device.title())
        }
        // The CPU's backend is said when it is not the one `auto` picks.
        _ if d.target.device == DeviceKind::Cpu && d.target != cpu_default() => {
            format!("CPU via {}", d.target.backend)
        }
        _ => d.target.device.title().to_owned(),
    };
    match &d.name {
        Some(n) => format!("{base} ({n})"),
        None => base,
    }
}

pub fn gflops(m: &MatmulMeasure) -> f64 {
    m.flops() / m.median_s() / 1e9
}

/// "225×", "3.4×"
pub fn times(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}×")
    } else {
        format!("{x:.1}×")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::training::{check_fit, reference_fit};

    fn cpu_run(name: &str) -> SelftestRun {
        let problem = TrainingProblem::book(42, 20);
        let reference = reference_fit(&problem);
        let check = check_fit(&reference, &reference);
        SelftestRun {
            found: Discovered {
                target: cpu_default(),
                name: Some(name.to_owned()),
                available: true,
                reason: None,
            },
            training: Ok((reference.clone(), check)),
            matmul: Ok(MatmulMeasure {
                n: 64,
                first_s: 0.01,
                samples_s: vec![0.001],
                max_rel_error: 1e-7,
                sampled: 64,
                all_finite: true,
                barrier: crate::compute::backends::Barrier::Sync,
                precision: "fp32",
            }),
            cpu: None,
            reference,
            problem,
            seed: 42,
        }
    }

    #[test]
    fn a_cpu_name_with_commas_stays_whole_in_the_verdict() {
        let name = "Intel(R) Xeon(R) CPU E5-2690 v4, 2.60GHz, rev. 1";
        let run = cpu_run(name);
        assert!(run.passed());
        assert_eq!(
            run.verdict(),
            format!(
                "Ready: CPU ({name}), training matches the reference, matmul checked at 1 GFLOP/s"
            )
        );
        assert_eq!(
            run.cpu_only_verdict().unwrap(),
            "Ready (CPU only: no GPU found): training matches the reference, matmul checked at 1 GFLOP/s"
        );
    }
}
