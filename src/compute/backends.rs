//! The (device, backend) pairs this binary has, and the one place that maps a
//! [`Target`] to a concrete Burn backend type.
//!
//! Workloads are written once, generic over `B: AutodiffBackend`, as a
//! [`BurnJob`]; [`dispatch`] instantiates one for the target. The macOS pairs
//! are compiled only on macOS (the Metal crates build nowhere else); the
//! CUDA and Vulkan pairs everywhere else.
//!
//! Probing a pair means initialising it and running a tiny kernel, on the
//! compute thread, bounded in time, with panics caught: a missing driver
//! becomes a reason ("libcuda not found"), never a crash. Each pair is probed
//! once per process and the answer kept, because a GPU runtime is initialised
//! once (wgpu's setup cannot be made twice for a device).

// burn-candle is deprecated upstream (removed in 0.22); pinning 0.21 is the
// design's decision (DESIGN.md, Compute decisions), so its warnings are expected.
#![allow(deprecated)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use burn::backend::candle::CandleDevice;
use burn::backend::{Autodiff, Candle};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};

use super::worker::{run_on_worker, with_quiet_panics, JobError};
use super::{BackendKind, DeviceKind, Target};

/// How long a backend may take to initialise and run its first kernel.
pub const PROBE_BOUND: Duration = Duration::from_secs(90);

/// How a workload waits for the device to finish its queued work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barrier {
    /// `Backend::sync`: the backend's own barrier.
    Sync,
    /// Read a value of the result back: candle's Metal `sync` returns an
    /// error in 0.21, and a read-back waits for the work it depends on.
    ReadBack,
}

impl Barrier {
    pub fn describe(self) -> &'static str {
        match self {
            Barrier::Sync => "device synchronised",
            Barrier::ReadBack => {
                "synchronised by reading a value back (candle's Metal sync is unavailable)"
            }
        }
    }
}

/// Work written once for every backend.
pub trait BurnJob: Send + 'static {
    type Output: Send + 'static;
    fn run<B: AutodiffBackend>(self, device: B::Device, barrier: Barrier) -> Self::Output;
}

/// The operating system a binary was built for: it decides which GPU crates
/// are in it. A value, not a `cfg`, so that both lists are unit-tested on
/// any machine; only [`BuildOs::CURRENT`] reads the build's `cfg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildOs {
    Macos,
    Other,
}

impl BuildOs {
    #[cfg(target_os = "macos")]
    pub const CURRENT: BuildOs = BuildOs::Macos;
    #[cfg(not(target_os = "macos"))]
    pub const CURRENT: BuildOs = BuildOs::Other;

    /// Every pair a build for this OS has, best first (the order `auto` prefers).
    pub fn targets(self) -> Vec<Target> {
        let gpus: &[(DeviceKind, BackendKind)] = match self {
            BuildOs::Macos => &[
                (DeviceKind::Metal, BackendKind::Cubecl),
                (DeviceKind::Metal, BackendKind::Candle),
            ],
            BuildOs::Other => &[
                (DeviceKind::Cuda, BackendKind::Cubecl),
                (DeviceKind::Vulkan, BackendKind::Cubecl),
            ],
        };
        gpus.iter()
            .map(|&(device, backend)| Target::new(device, backend))
            .chain([Target::new(DeviceKind::Cpu, BackendKind::Candle)])
            .collect()
    }
}

/// Every pair this build has, best first (the order `auto` prefers).
pub fn compiled_targets() -> Vec<Target> {
    BuildOs::CURRENT.targets()
}

/// Run `workload` on `target`'s backend. Call on the compute thread.
pub fn dispatch<W: BurnJob>(target: Target, workload: W) -> Result<W::Output, String> {
    match (target.device, target.backend) {
        (DeviceKind::Cpu, BackendKind::Candle) => {
            Ok(workload.run::<Autodiff<Candle>>(CandleDevice::Cpu, Barrier::Sync))
        }
        #[cfg(not(target_os = "macos"))]
        (DeviceKind::Cuda, BackendKind::Cubecl) => Ok(workload
            .run::<Autodiff<burn::backend::Cuda>>(
                burn::backend::cuda::CudaDevice::new(0),
                Barrier::Sync,
            )),
        #[cfg(not(target_os = "macos"))]
        (DeviceKind::Vulkan, BackendKind::Cubecl) => Ok(workload
            .run::<Autodiff<burn::backend::Wgpu>>(
                burn::backend::wgpu::WgpuDevice::DefaultDevice,
                Barrier::Sync,
            )),
        #[cfg(target_os = "macos")]
        (DeviceKind::Metal, BackendKind::Cubecl) => Ok(workload
            .run::<Autodiff<burn::backend::Metal>>(
                burn::backend::wgpu::WgpuDevice::DefaultDevice,
                Barrier::Sync,
            )),
        #[cfg(target_os = "macos")]
        (DeviceKind::Metal, BackendKind::Candle) => {
            Ok(workload.run::<Autodiff<Candle>>(CandleDevice::metal(0), Barrier::ReadBack))
        }
        _ => Err(format!("{} is not in this build", target)),
    }
}

/// CubeCL keeps its autotune results (minutes of kernel timing on a first
/// run) in the `target/` folder of the Cargo project above the working
/// directory, else in ~/.cache/cubecl. ttm is run from anywhere, so it keeps
/// them in its own cache folder instead. Must run before CubeCL is first used.
pub fn use_cubecl_cache(dir: std::path::PathBuf) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use burn::cubecl::config::cache::CacheConfig;
        use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
        let mut config = CubeClRuntimeConfig::default().override_from_env();
        config.autotune.cache = CacheConfig::File(dir);
        // `set` panics if CubeCL already loaded its configuration: then its default stays.
        let _ = with_quiet_panics(|| std::panic::catch_unwind(|| CubeClRuntimeConfig::set(config)));
    });
}

/// What probing a pair found: the adapter's name where the backend knows it.
pub type Probe = Result<Option<String>, String>;

static PROBES: Mutex<Option<HashMap<Target, Probe>>> = Mutex::new(None);

/// Initialise `target` (once per process) and run a tiny kernel on it.
pub fn probe(target: Target) -> Probe {
    if let Some(known) = PROBES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&target)
    {
        return known.clone();
    }
    let outcome =
        with_quiet_panics(|| run_on_worker(Some(PROBE_BOUND), move || probe_on_worker(target)));
    let result = match outcome {
        Ok(r) => r,
        Err(JobError::TimedOut(d)) => Err(format!(
            "initialisation did not finish within {} s",
            d.as_secs()
        )),
        Err(e) => Err(explain_failure(target, &e.to_string())),
    };
    PROBES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(target, result.clone());
    result
}

/// Runs on the compute thread.
fn probe_on_worker(target: Target) -> Probe {
    let adapter = init_runtime(target)?;
    dispatch(target, SmokeTest)?.map_err(|e| explain_failure(target, &e))?;
    Ok(adapter)
}

/// Explicit runtime set-up where the backend needs one (wgpu: pick the API).
#[allow(unused_variables)]
fn init_runtime(target: Target) -> Probe {
    match (target.device, target.backend) {
        #[cfg(not(target_os = "macos"))]
        (DeviceKind::Vulkan, BackendKind::Cubecl) => {
            use burn::backend::wgpu::{graphics::Vulkan, init_setup, WgpuDevice};
            let setup = init_setup::<Vulkan>(&WgpuDevice::DefaultDevice, Default::default());
            adapter_name(
                setup.adapter.get_info().name,
                format!("{:?}", setup.adapter.get_info().device_type),
            )
        }
        #[cfg(target_os = "macos")]
        (DeviceKind::Metal, BackendKind::Cubecl) => {
            use burn::backend::wgpu::{graphics::Metal, init_setup, WgpuDevice};
            let setup = init_setup::<Metal>(&WgpuDevice::DefaultDevice, Default::default());
            adapter_name(setup.adapter.get_info().name, String::new())
        }
        _ => Ok(None),
    }
}

/// A software rasteriser (llvmpipe) is a CPU, not a GPU: not worth testing as one.
#[allow(dead_code)]
fn adapter_name(name: String, device_type: String) -> Probe {
    if device_type == "Cpu" {
        return Err(format!(
            "only a software driver ({name}) runs Vulkan here; no GPU"
        ));
    }
    Ok(Some(name).filter(|n| !n.is_empty()))
}

/// The smallest proof that kernels compile and run: 2·x + 1 read back.
struct SmokeTest;

impl BurnJob for SmokeTest {
    type Output = Result<(), String>;
    fn run<B: AutodiffBackend>(self, device: B::Device, _barrier: Barrier) -> Self::Output {
        let x = Tensor::<B::InnerBackend, 1>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0], [3]),
            &device,
        );
        let y = x.mul_scalar(2.0).add_scalar(1.0);
        let values = y
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| format!("cannot read a result back: {e:?}"))?;
        if values == [3.0, 5.0, 7.0] {
            Ok(())
        } else {
            Err(format!("2·[1, 2, 3] + 1 gave {values:?}"))
        }
    }
}

/// A panic's message, as the user needs it: what is missing and what to do.
pub fn explain_failure(target: Target, message: &str) -> String {
    let m = message.to_lowercase();
    let lib = |name: &str| {
        m.contains(&format!("\"{name}\" shared library")) || m.contains(&format!("lib{name}"))
    };
    if target.device == DeviceKind::Cuda {
        if lib("cuda") {
            return "libcuda not found (no NVIDIA driver)".into();
        }
        if lib("nvrtc") {
            return "libnvrtc not found (install the CUDA toolkit, or put its lib folder on LD_LIBRARY_PATH)".into();
        }
        if m.contains("cuda_path")
            || m.contains(".h: no such file")
            || m.contains("cannot open source file")
        {
            return "the CUDA headers are missing: set CUDA_PATH to the CUDA toolkit (or install it in /usr/local/cuda)".into();
        }
        if m.contains("no_device") || m.contains("no cuda-capable device") {
            return "no CUDA device (the driver sees no GPU)".into();
        }
    }
    if target.device == DeviceKind::Vulkan
        && (m.contains("no possible adapter") || m.contains("vulkan") && m.contains("load"))
    {
        return "no Vulkan adapter (no Vulkan loader, libvulkan.so.1, or no GPU driver for it)"
            .into();
    }
    if target.device == DeviceKind::Metal && m.contains("no possible adapter") {
        return "no Metal device".into();
    }
    // The first recorded panic is the root cause; later ones are its echoes.
    let first = message.lines().next().unwrap_or("").trim();
    let mut short: String = first.chars().take(200).collect();
    if short.len() < first.len() {
        short.push('…');
    }
    format!("initialisation failed: {short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_pair_is_always_built_and_works() {
        let cpu = Target::new(DeviceKind::Cpu, BackendKind::Candle);
        assert_eq!(compiled_targets().last(), Some(&cpu));
        assert_eq!(probe(cpu), Ok(None));
    }

    #[test]
    fn each_build_has_its_own_gpus_then_the_cpu() {
        let pairs =
            |os: BuildOs| -> Vec<String> { os.targets().iter().map(|t| t.to_string()).collect() };
        assert_eq!(
            pairs(BuildOs::Macos),
            ["metal (cubecl)", "metal (candle)", "cpu (candle)"]
        );
        assert_eq!(
            pairs(BuildOs::Other),
            ["cuda (cubecl)", "vulkan (cubecl)", "cpu (candle)"]
        );
        assert_eq!(compiled_targets(), BuildOs::CURRENT.targets());
    }

    #[test]
    fn failures_are_explained() {
        let cuda = Target::new(DeviceKind::Cuda, BackendKind::Cubecl);
        let vk = Target::new(DeviceKind::Vulkan, BackendKind::Cubecl);
        let msg = "Unable to dynamically load the \"cuda\" shared library - searched for library names: [\"cuda\", \"nvcuda\"]. Ensure that `LD_LIBRARY_PATH` has";
        assert_eq!(
            explain_failure(cuda, msg),
            "libcuda not found (no NVIDIA driver)"
        );
        let msg = "Unable to dynamically load the \"nvrtc\" shared library";
        assert!(explain_failure(cuda, msg).starts_with("libnvrtc not found"));
        let msg = "No possible adapter available for backend. Falling back to first available.";
        assert!(explain_failure(vk, msg).starts_with("no Vulkan adapter"));
        assert_eq!(
            explain_failure(vk, "something odd\nmore"),
            "initialisation failed: something odd"
        );
    }
}
