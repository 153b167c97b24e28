//! `ttm selftest`: steps, size, the (device, backend) pairs asked for, and
//! memory for the matmul, all checked before anything is allocated.

use crate::cli::SelftestArgs;
use crate::compute::memory::{host_available_bytes, human_bytes, largest_size_for, matmul_bytes};
use crate::compute::{backends, BackendKind, DeviceKind, Target};
use crate::error::{Error, Result};
use crate::selftest::{or_list, working_devices};
use crate::system::System;

/// Which pairs to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSelection {
    /// The best available pair (`--device auto --backend auto`).
    Best,
    /// The first available of these, in preference order (`--device`, `--backend`).
    FirstOf(Vec<Target>),
    /// Every available pair (`--all`).
    All,
}

/// `ttm selftest`, checked and resolved.
#[derive(Debug, Clone)]
pub struct SelftestOptions {
    pub targets: TargetSelection,
    /// Seed of the generator for the data and the initial parameters.
    pub seed: u64,
    /// Training steps.
    pub steps: u32,
    /// N of the N×N matmul check.
    pub size: usize,
}

/// The most training steps a self-test runs (the book's check is 200).
pub const MAX_STEPS: u32 = 100_000;

impl SelftestOptions {
    pub fn from_args(sys: &System, args: &SelftestArgs) -> Result<SelftestOptions> {
        super::check_tune_effort(sys)?;
        if args.steps == 0 {
            return Err(Error::bad_input(
                "--steps must be at least 1 (the book trains for 200 steps; the default)",
            ));
        }
        if args.steps > MAX_STEPS {
            return Err(Error::bad_input(format!(
                "--steps {} is above the limit of {MAX_STEPS} (the book trains for 200 steps; the default)",
                args.steps
            )));
        }
        if args.size == 0 {
            return Err(Error::bad_input(
                "--size must be at least 1 (the default is 2048, a 2048×2048 matmul)",
            ));
        }
        let targets = target_selection(sys, args)?;
        check_host_memory(sys, args.size)?;
        Ok(SelftestOptions {
            targets,
            seed: args.seed,
            steps: args.steps,
            size: args.size,
        })
    }
}

/// The pairs --device/--backend name, in preference order.
/// A device or backend this build does not have is bad input.
fn target_selection(sys: &System, args: &SelftestArgs) -> Result<TargetSelection> {
    let (device, backend) = (
        super::device_kind(args.device),
        super::backend_kind(args.backend),
    );
    if args.all {
        return Ok(TargetSelection::All);
    }
    if device.is_none() && backend.is_none() {
        return Ok(TargetSelection::Best);
    }
    let compiled = backends::compiled_targets();
    let matching: Vec<Target> = compiled
        .iter()
        .copied()
        .filter(|t| device.is_none_or(|d| t.device == d) && backend.is_none_or(|b| t.backend == b))
        .collect();
    if !matching.is_empty() {
        return Ok(TargetSelection::FirstOf(matching));
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
            or_list(working_devices(sys).into_iter())
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

fn build_os() -> &'static str {
    match backends::BuildOs::CURRENT {
        backends::BuildOs::Macos => "a macOS build",
        backends::BuildOs::Other => "a Linux build; Metal is only in macOS builds",
    }
}

fn check_host_memory(sys: &System, size: usize) -> Result<()> {
    let needed = matmul_bytes(size);
    if let Some(available) = host_available_bytes(sys) {
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
