//! `ttm bench` and `ttm bench compare`: sizes, runs, the device in this
//! build, the `--save` and `--plot` paths, and memory for the matmul, all
//! checked before any work.

use std::path::{Path, PathBuf};

use crate::cli::{BenchArgs, BenchCompareArgs};
use crate::compute::memory::{host_available_bytes, human_bytes, largest_size_for, matmul_bytes};
use crate::compute::{backends, BackendKind, DeviceKind};
use crate::error::{Error, Result};
use crate::system::System;

/// The largest `--size` at all: three 65536² f32 matrices are 51.5 GB.
pub const MAX_SIZE: usize = 65_536;

/// `ttm bench`, checked and resolved.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The one device asked for; None measures every available one.
    pub device: Option<DeviceKind>,
    /// The one Burn backend asked for; None measures every one.
    pub backend: Option<BackendKind>,
    /// N of the N×N matmul.
    pub size: usize,
    /// Timed runs after the warm-up.
    pub runs: usize,
    /// Whether PyTorch runs the same workloads side by side.
    pub torch: bool,
    pub save: Option<PathBuf>,
    pub plot: Option<PathBuf>,
}

impl BenchOptions {
    pub fn from_args(sys: &System, args: &BenchArgs) -> Result<BenchOptions> {
        super::check_tune_effort(sys)?;
        if args.size == 0 {
            return Err(Error::bad_input(
                "--size must be at least 1 (the default is 5000, the book's 5000×5000 matmul)",
            ));
        }
        if args.runs == 0 {
            return Err(Error::bad_input(
                "--runs must be at least 1 (the default is 10 timed runs after the warm-up)",
            ));
        }
        let save = args
            .save
            .as_deref()
            .map(|p| output_path(sys, "--save", p, None, args.force))
            .transpose()?;
        let plot = args
            .plot
            .as_deref()
            .map(|p| output_path(sys, "--plot", p, Some("svg"), args.force))
            .transpose()?;
        let device = args.device.and_then(super::device_kind);
        if let Some(d) = device {
            let compiled = backends::compiled_targets();
            if !compiled.iter().any(|t| t.device == d) {
                let have: Vec<&str> = {
                    let mut v: Vec<&str> = compiled.iter().map(|t| t.device.as_str()).collect();
                    v.dedup();
                    v
                };
                return Err(Error::bad_input(format!(
                    "--device {d}: this build has no {} backend; it has {}",
                    d.title(),
                    have.join(", ")
                )));
            }
        }
        let backend = super::backend_kind(args.backend);
        if let Some(b) = backend {
            let compiled = backends::compiled_targets();
            if !compiled
                .iter()
                .any(|t| t.backend == b && device.is_none_or(|d| t.device == d))
            {
                let pairs: Vec<String> = compiled.iter().map(|t| t.to_string()).collect();
                return Err(Error::bad_input(format!(
                    "--backend {b}: not in this build{}; it has {}",
                    device.map(|d| format!(" on {d}")).unwrap_or_default(),
                    pairs.join(", ")
                )));
            }
        }
        let needed = matmul_bytes(args.size);
        if args.size > MAX_SIZE {
            return Err(Error::bad_input(format!(
                "--size {} is above ttm's limit of {MAX_SIZE} (three {0}×{0} f32 matrices take {}); choose --size {MAX_SIZE} or less",
                args.size,
                human_bytes(needed),
            )));
        }
        if let Some(available) = host_available_bytes(sys) {
            // Half, so that the machine stays usable while the bench runs.
            let allowed = available / 2;
            if needed > allowed as u128 {
                return Err(Error::bad_input(format!(
                    "--size {} needs {} for three {0}×{0} f32 matrices; ttm uses at most half of the {} available here; choose --size {} or less",
                    args.size,
                    human_bytes(needed),
                    human_bytes(available as u128),
                    largest_size_for(allowed)
                )));
            }
        }
        Ok(BenchOptions {
            device,
            backend,
            size: args.size,
            runs: args.runs,
            torch: args.torch,
            save,
            plot,
        })
    }
}

/// `ttm bench compare FILE…`, with the chart's path checked.
#[derive(Debug, Clone)]
pub struct BenchCompareOptions {
    /// The files as given (their names label the rows).
    pub files: Vec<PathBuf>,
    pub plot: Option<PathBuf>,
}

impl BenchCompareOptions {
    pub fn from_args(sys: &System, args: &BenchCompareArgs) -> Result<BenchCompareOptions> {
        let plot = args
            .plot
            .as_deref()
            .map(|p| output_path(sys, "--plot", p, Some("svg"), args.force))
            .transpose()?;
        Ok(BenchCompareOptions {
            files: args.files.clone(),
            plot,
        })
    }
}

/// A file to write: its folder must exist, it must not be a folder, it
/// must not exist unless `force` (no result is replaced silently), and (for
/// the chart) it must end in the right extension.
fn output_path(
    sys: &System,
    flag: &str,
    path: &Path,
    extension: Option<&str>,
    force: bool,
) -> Result<PathBuf> {
    let resolved = sys.resolve_path(path)?;
    if let Some(ext) = extension {
        let ok = resolved
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(ext));
        if !ok {
            return Err(Error::bad_input(format!(
                "{flag} {}: the chart is {}; give a file name ending in .{ext}",
                path.display(),
                ext.to_uppercase()
            )));
        }
    }
    if sys.is_dir(&resolved) {
        return Err(Error::bad_input(format!(
            "{flag} {}: is a folder; give a file name, e.g. {}",
            path.display(),
            path.join(format!("bench.{}", extension.unwrap_or("json")))
                .display()
        )));
    }
    if !force && sys.symlink_metadata(&resolved).is_ok() {
        return Err(Error::bad_input(format!(
            "{flag} {}: the file exists; pass --force to replace it, or give another name",
            path.display()
        )));
    }
    match resolved.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !sys.is_dir(parent) => {
            Err(Error::bad_input(format!(
                "{flag} {}: the folder {} does not exist; create it first (mkdir -p {})",
                path.display(),
                parent.display(),
                parent.display()
            )))
        }
        _ => Ok(resolved),
    }
}
