//! The validated options (ripgrep's lowargs → hiargs): clap's structs in
//! `crate::cli` are the raw flags; this module turns them, once, into typed
//! options the commands take. Every message that names a flag (`--size 0`,
//! `--device metal`) is written here, so the domain modules never name one.

mod bench;
mod scaffold;
mod selftest;

pub use bench::{BenchCompareOptions, BenchOptions};
pub use scaffold::ScaffoldNewOptions;
pub use selftest::{SelftestOptions, TargetSelection};

use crate::cli::{BackendChoice, ColorChoice, DeviceChoice, GlobalArgs};
use crate::compute::memory::{human_bytes, largest_size_for, matmul_bytes};
use crate::compute::{BackendKind, DeviceKind};
use crate::error::{Error, Result};
use crate::ui::{ColorMode, OutputOptions, Verbosity};

/// What the printer needs from the global flags.
pub fn output_options(global: &GlobalArgs) -> OutputOptions {
    let verbosity = if global.quiet {
        Verbosity::Quiet
    } else if global.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    OutputOptions {
        json: global.json,
        verbosity,
        color: match global.color {
            ColorChoice::Auto => ColorMode::Auto,
            ColorChoice::Always => ColorMode::Always,
            ColorChoice::Never => ColorMode::Never,
        },
    }
}

/// `--device`: None is `auto` (any device).
pub fn device_kind(choice: DeviceChoice) -> Option<DeviceKind> {
    match choice {
        DeviceChoice::Auto => None,
        DeviceChoice::Cpu => Some(DeviceKind::Cpu),
        DeviceChoice::Metal => Some(DeviceKind::Metal),
        DeviceChoice::Cuda => Some(DeviceKind::Cuda),
        DeviceChoice::Vulkan => Some(DeviceKind::Vulkan),
    }
}

/// `--backend`: None is `auto` (any backend).
pub fn backend_kind(choice: BackendChoice) -> Option<BackendKind> {
    match choice {
        BackendChoice::Auto => None,
        BackendChoice::Candle => Some(BackendKind::Candle),
        BackendChoice::Cubecl => Some(BackendKind::Cubecl),
        BackendChoice::Ndarray => Some(BackendKind::Ndarray),
    }
}

/// Refuse a `TTM_AUTOTUNE` that names no autotune effort (unset or empty is the default).
pub fn check_tune_effort(sys: &crate::system::System) -> Result<()> {
    use crate::compute::backends::TuneEffort;
    crate::compute::tune_effort(sys).map(drop).map_err(|v| {
        Error::bad_input(format!(
            "TTM_AUTOTUNE={v} is not an autotune effort; use one of {}, or unset it",
            TuneEffort::NAMES.join(", ")
        ))
    })
}

/// Refuse a `--size` whose three N×N f32 matrices do not fit in the GPU's
/// free memory (`free` from `nvidia-smi`; unknown passes).
pub fn check_gpu_fits(size: usize, free: Option<u64>, gpu: Option<&str>) -> Result<()> {
    let needed = matmul_bytes(size);
    match free {
        Some(free) if needed > free as u128 => Err(Error::bad_input(format!(
            "--size {size} needs {} on the GPU, and {} has {} free; choose --size {} or less",
            human_bytes(needed),
            gpu.unwrap_or("the GPU"),
            human_bytes(free as u128),
            largest_size_for(free)
        ))),
        _ => Ok(()),
    }
}
