//! All Burn code: which (device, backend) pairs exist and work here, the
//! self-test's training and matmul checks, and the bench workloads.
//!
//! Everything Burn runs on one long-lived thread ([`worker`]): Burn 0.21 keeps
//! a memory pool per OS thread. Backends are chosen in [`backends`], the only
//! file that names concrete Burn backend types, so that moving off Burn 0.21
//! (which upstream replaced with a rewrite in 0.22) touches one module.
//!
//! - CPU: burn-candle, and burn-ndarray, whose matrix products run on a BLAS
//!   where the build has one (Accelerate on macOS, OpenBLAS on Linux with the
//!   `openblas` feature): then it is the CPU backend `auto` picks.
//! - NVIDIA: CubeCL `cuda` (needs libcuda, libnvrtc and the CUDA headers at run time, nothing at build time).
//! - Vulkan: CubeCL through wgpu, elsewhere than macOS.
//! - Apple Silicon: CubeCL `metal` (wgpu + MSL), and candle's Metal as `--backend candle`.

pub mod backends;
pub mod bench;
pub mod matmul;
pub mod memory;
pub mod rng;
pub mod training;
pub mod worker;

use std::fmt;

use crate::platform::{self, Probe};
use crate::system::{Cmd, System};

/// A kind of compute device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Cpu,
    Metal,
    Cuda,
    Vulkan,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 4] = [
        DeviceKind::Cpu,
        DeviceKind::Metal,
        DeviceKind::Cuda,
        DeviceKind::Vulkan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Metal => "metal",
            DeviceKind::Cuda => "cuda",
            DeviceKind::Vulkan => "vulkan",
        }
    }

    /// How people write it: "CPU", "Metal", "CUDA", "Vulkan".
    pub fn title(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "CPU",
            DeviceKind::Metal => "Metal",
            DeviceKind::Cuda => "CUDA",
            DeviceKind::Vulkan => "Vulkan",
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Burn backend family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Candle,
    Cubecl,
    Ndarray,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Candle => "candle",
            BackendKind::Cubecl => "cubecl",
            BackendKind::Ndarray => "ndarray",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One (device, backend) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub device: DeviceKind,
    pub backend: BackendKind,
}

impl Target {
    /// Candle on the CPU: in every build.
    pub const CPU: Target = Target {
        device: DeviceKind::Cpu,
        backend: BackendKind::Candle,
    };
    /// NdArray on the CPU: in every build, on a BLAS where the build has one.
    pub const CPU_NDARRAY: Target = Target {
        device: DeviceKind::Cpu,
        backend: BackendKind::Ndarray,
    };

    pub fn new(device: DeviceKind, backend: BackendKind) -> Target {
        Target { device, backend }
    }
}

impl fmt::Display for Target {
    /// "cuda (cubecl)"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.device, self.backend)
    }
}

/// A pair this binary has, and whether it works on this machine.
#[derive(Clone, Debug)]
pub struct Discovered {
    pub target: Target,
    /// The device's name: "NVIDIA H100 80GB HBM3", "Apple M2 Pro", the CPU model.
    pub name: Option<String>,
    pub available: bool,
    /// Why not, when not available: "libcuda not found (no NVIDIA driver)".
    pub reason: Option<String>,
}

/// Every pair this binary has, best first, each probed (once per process).
pub fn discover(sys: &System) -> Vec<Discovered> {
    discover_device(sys, None)
}

/// Every pair of `device` (all of them for None), probed: the others
/// are not probed. A GPU runtime that was probed keeps a polling thread for
/// the rest of the process (CubeCL's device server wakes every 150 µs),
/// which on a 2-core machine costs the BLAS CPU path up to a third of its
/// matrix-product rate, so a CPU-only run does not start one.
pub fn discover_device(sys: &System, device: Option<DeviceKind>) -> Vec<Discovered> {
    use_ttm_cache(sys);
    backends::compiled_targets()
        .into_iter()
        .filter(|t| device.is_none_or(|d| t.device == d))
        .map(|t| discover_one(sys, t))
        .collect()
}

/// Probe one pair (it must be in this build; others come back unavailable).
pub fn discover_one(sys: &System, target: Target) -> Discovered {
    use_ttm_cache(sys);
    if !backends::compiled_targets().contains(&target) {
        return Discovered {
            target,
            name: None,
            available: false,
            reason: Some(format!("{target} is not in this build")),
        };
    }
    match backends::probe(target) {
        Ok(adapter) => Discovered {
            target,
            name: adapter.or_else(|| device_name(sys, target.device)),
            available: true,
            reason: None,
        },
        Err(reason) => Discovered {
            target,
            name: None,
            available: false,
            reason: Some(reason),
        },
    }
}

/// CubeCL's autotune results and compiled kernels go to ~/.cache/ttm/cubecl
/// (see [`backends::use_cubecl_cache`]); `TTM_AUTOTUNE` sets the tuning effort.
fn use_ttm_cache(sys: &System) {
    if let Ok(dir) = cubecl_cache_dir(sys) {
        backends::use_cubecl_cache(dir, tune_effort(sys).unwrap_or(DEFAULT_TUNE_EFFORT));
    }
}

fn cubecl_cache_dir(sys: &System) -> crate::error::Result<std::path::PathBuf> {
    Ok(sys.home()?.join(".cache").join("ttm").join("cubecl"))
}

/// Whether the first call on `target` will compile and time CubeCL's candidate
/// kernels: a CubeCL pair with no tuning results for its runtime in ttm's
/// cache yet (CubeCL keeps them as `autotune/<version>/device-…-<runtime>/`).
/// Measured on an H200 (docs/bench.md, "First calls on a GPU"): about 40 s for
/// a large matmul and 3 minutes for the train step, once per machine.
pub fn tunes_on_first_call(sys: &System, target: Target) -> bool {
    if target.backend != BackendKind::Cubecl {
        return false;
    }
    let runtime = match target.device {
        DeviceKind::Cuda => "cuda",
        _ => "wgpu",
    };
    let Ok(dir) = cubecl_cache_dir(sys) else {
        return true;
    };
    let Ok(versions) = sys.read_dir(&dir.join("autotune")) else {
        return true;
    };
    !versions.flatten().any(|version| {
        sys.read_dir(&version.path()).is_ok_and(|devices| {
            devices
                .flatten()
                .any(|d| d.file_name().to_string_lossy().ends_with(runtime))
        })
    })
}

/// The autotune effort `TTM_AUTOTUNE` names (unset or empty: the default);
/// `Err` holds a value that names none (the command-line layer refuses it
/// before compute runs).
pub fn tune_effort(sys: &System) -> std::result::Result<backends::TuneEffort, String> {
    match sys.var_non_empty(crate::env_vars::TTM_AUTOTUNE) {
        None => Ok(DEFAULT_TUNE_EFFORT),
        Some(v) => backends::TuneEffort::parse(&v).ok_or(v),
    }
}

/// CubeCL's own default. `minimal` (coarser tuning keys) measured no shorter
/// first call for ttm's workloads: see docs/bench.md ("First calls on a GPU").
pub const DEFAULT_TUNE_EFFORT: backends::TuneEffort = backends::TuneEffort::Balanced;

/// The device's name from the system's own tools, where the backend cannot
/// tell; asked through `platform`'s probe (its timeout, its parsers).
fn device_name(sys: &System, device: DeviceKind) -> Option<String> {
    match device {
        DeviceKind::Cpu => cpu_model(sys),
        DeviceKind::Cuda => {
            let text = Probe::new(sys)
                .text(Cmd::new("nvidia-smi").args(NVIDIA_SMI_QUERY))
                .ok()?;
            platform::parse_nvidia_smi(&text)
                .ok()?
                .into_iter()
                .next()
                .map(|gpu| gpu.name)
        }
        DeviceKind::Metal => mac_brand(&Probe::new(sys)),
        DeviceKind::Vulkan => None,
    }
}

/// The query `platform` asks `nvidia-smi` (a fixture records its answer).
const NVIDIA_SMI_QUERY: [&str; 2] = [
    "--query-gpu=name,memory.total,driver_version",
    "--format=csv,noheader,nounits",
];

/// "Apple M2 Pro" (sysctl on macOS) or /proc/cpuinfo's "model name" on Linux.
pub fn cpu_model(sys: &System) -> Option<String> {
    if let Some(brand) = mac_brand(&Probe::new(sys)) {
        return Some(brand);
    }
    let info = sys
        .read_optional(std::path::Path::new("/proc/cpuinfo"))
        .ok()??;
    platform::parse_cpuinfo(&String::from_utf8_lossy(&info)).0
}

/// `sysctl -n machdep.cpu.brand_string`, on a Mac.
fn mac_brand(probe: &Probe) -> Option<String> {
    let text = probe
        .text(Cmd::new("sysctl").args(["-n", "machdep.cpu.brand_string"]))
        .ok()?;
    Some(text.trim().to_owned()).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_cubecl_pair_with_nothing_tuned_for_its_runtime_tunes_on_first_call() {
        let home = tempfile::tempdir().unwrap();
        let sys = System::from_parts([("HOME", home.path().as_os_str())], home.path());
        let cuda = Target {
            device: DeviceKind::Cuda,
            backend: BackendKind::Cubecl,
        };
        let vulkan = Target {
            device: DeviceKind::Vulkan,
            backend: BackendKind::Cubecl,
        };
        assert!(tunes_on_first_call(&sys, cuda), "no cache folder at all");
        assert!(
            !tunes_on_first_call(&sys, Target::CPU),
            "candle never tunes"
        );
        assert!(!tunes_on_first_call(&sys, Target::CPU_NDARRAY));
        let tuned = home
            .path()
            .join(".cache/ttm/cubecl/autotune/0.10.0/device-0-0-cuda");
        std::fs::create_dir_all(&tuned).unwrap();
        assert!(!tunes_on_first_call(&sys, cuda), "CUDA was tuned here");
        assert!(tunes_on_first_call(&sys, vulkan), "wgpu was not");
    }

    #[test]
    fn asking_for_the_cpu_probes_no_gpu() {
        let home = tempfile::tempdir().unwrap();
        let sys = System::from_parts([("HOME", home.path().as_os_str())], home.path());
        let found = discover_device(&sys, Some(DeviceKind::Cpu));
        assert!(!found.is_empty());
        assert!(
            found.iter().all(|d| d.target.device == DeviceKind::Cpu),
            "{found:?}"
        );
    }

    #[test]
    fn names_and_json_forms_agree() {
        for d in DeviceKind::ALL {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        assert_eq!(serde_json::to_value(BackendKind::Cubecl).unwrap(), "cubecl");
        assert_eq!(Target::CPU.to_string(), "cpu (candle)");
        assert_eq!(Target::CPU_NDARRAY.to_string(), "cpu (ndarray)");
        assert_eq!(
            serde_json::to_value(BackendKind::Ndarray).unwrap(),
            "ndarray"
        );
    }
}
