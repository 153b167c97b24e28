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
use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Autodiff, Candle, NdArray};
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
    /// The CPU's two backends come last, the faster first: NdArray where its
    /// matrix products run on a BLAS, else Candle.
    pub fn targets(self) -> Vec<Target> {
        self.targets_with(CpuBlas::of(self))
    }

    fn targets_with(self, blas: Option<CpuBlas>) -> Vec<Target> {
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
        let cpus = if blas.is_some() {
            [Target::CPU_NDARRAY, Target::CPU]
        } else {
            [Target::CPU, Target::CPU_NDARRAY]
        };
        gpus.iter()
            .map(|&(device, backend)| Target::new(device, backend))
            .chain(cpus)
            .collect()
    }
}

/// The BLAS that NdArray's matrix products run on in this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuBlas {
    /// Apple's Accelerate: every macOS build.
    Accelerate,
    /// The system's OpenBLAS: Linux builds with the `openblas` feature.
    OpenBlas,
}

impl CpuBlas {
    /// This build's, if any.
    pub const CURRENT: Option<CpuBlas> = if cfg!(target_os = "macos") {
        Some(CpuBlas::Accelerate)
    } else if cfg!(feature = "openblas") {
        Some(CpuBlas::OpenBlas)
    } else {
        None
    };

    /// What a build for `os` has: Accelerate on a Mac, else this build's feature.
    pub fn of(os: BuildOs) -> Option<CpuBlas> {
        match os {
            BuildOs::Macos => Some(CpuBlas::Accelerate),
            BuildOs::Other if cfg!(feature = "openblas") => Some(CpuBlas::OpenBlas),
            BuildOs::Other => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CpuBlas::Accelerate => "Accelerate",
            CpuBlas::OpenBlas => "OpenBLAS",
        }
    }
}

/// What runs NdArray's matrix products here, in words, and how to get the
/// fast path where this build lacks it: shown by the self-test and the bench.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CpuBackendNote {
    /// "ndarray" or "candle": the CPU backend `auto` picks in this build.
    pub default_backend: BackendKind,
    /// "OpenBLAS", "Accelerate"; None: NdArray runs `matrixmultiply`, single-threaded kernels.
    pub blas: Option<&'static str>,
    /// OpenBLAS's version and kernels ("OpenBLAS 0.3.21 … Cooperlake"), as the library says.
    pub blas_config: Option<String>,
    /// OpenBLAS's kernel family ("Haswell", "SkylakeX").
    pub blas_core: Option<String>,
    /// OPENBLAS_CORETYPE, where it is set: it forces the kernel family.
    pub coretype_forced: Option<String>,
    /// The hint for a build without a BLAS, on Linux.
    pub hint: Option<String>,
}

/// How to build ttm with the fast CPU path on Linux.
pub const OPENBLAS_HINT: &str = "for the BLAS CPU path (NdArray on OpenBLAS, about twice Candle's matrix-product rate):\n  `apt-get install libopenblas-dev`, then `cargo install --path . --features openblas`";

impl CpuBackendNote {
    /// This build's, with OpenBLAS's own answers where it is linked in, and
    /// `OPENBLAS_CORETYPE` as this process was given it.
    pub fn current(sys: &crate::system::System) -> CpuBackendNote {
        let (blas_config, blas_core) = openblas_info();
        CpuBackendNote::new(
            CpuBlas::CURRENT,
            BuildOs::CURRENT,
            blas_config,
            blas_core,
            sys.var_non_empty(crate::env_vars::OPENBLAS_CORETYPE),
        )
    }

    fn new(
        blas: Option<CpuBlas>,
        os: BuildOs,
        blas_config: Option<String>,
        blas_core: Option<String>,
        coretype: Option<String>,
    ) -> CpuBackendNote {
        let is_openblas = blas == Some(CpuBlas::OpenBlas);
        CpuBackendNote {
            default_backend: if blas.is_some() {
                BackendKind::Ndarray
            } else {
                BackendKind::Candle
            },
            blas: blas.map(CpuBlas::name),
            blas_config: blas_config.filter(|_| is_openblas),
            blas_core: blas_core.filter(|_| is_openblas),
            coretype_forced: coretype.filter(|_| is_openblas),
            hint: (blas.is_none() && os == BuildOs::Other).then(|| OPENBLAS_HINT.to_owned()),
        }
    }

    /// A few lines for the screen, none over 100 columns: "CPU backend: Burn NdArray on OpenBLAS (…)".
    pub fn line(&self) -> String {
        let mut line = match (self.default_backend, self.blas) {
            (BackendKind::Ndarray, Some(blas)) => {
                let mut s = format!("CPU backend: Burn NdArray, matrix products on {blas}");
                if let Some(core) = &self.blas_core {
                    s.push_str(&format!(" ({core} kernels)"));
                }
                s
            }
            _ => "CPU backend: Burn Candle (no BLAS in this build)".to_owned(),
        };
        if let Some(forced) = &self.coretype_forced {
            line.push_str(&format!(
                "\n  OPENBLAS_CORETYPE={forced} chooses those kernels; on a processor it was not set for,\n  `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ttm …` lets OpenBLAS pick its own\n  (ttm checks every product it times)"
            ));
        }
        if let Some(hint) = &self.hint {
            line.push_str(&format!("\n  {hint}"));
        }
        line
    }
}

#[cfg(feature = "openblas")]
mod openblas_ffi {
    use std::ffi::{c_char, CStr};
    extern "C" {
        fn openblas_get_config() -> *const c_char;
        fn openblas_get_corename() -> *const c_char;
    }
    fn text(p: *const c_char) -> Option<String> {
        if p.is_null() {
            return None;
        }
        // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
        Some(
            unsafe { CStr::from_ptr(p) }
                .to_string_lossy()
                .trim()
                .to_owned(),
        )
    }
    pub fn info() -> (Option<String>, Option<String>) {
        // SAFETY: both take no arguments and only read OpenBLAS's static state.
        unsafe { (text(openblas_get_config()), text(openblas_get_corename())) }
    }
}

/// OpenBLAS's configuration line and kernel family, where it is linked in.
fn openblas_info() -> (Option<String>, Option<String>) {
    #[cfg(feature = "openblas")]
    {
        openblas_ffi::info()
    }
    #[cfg(not(feature = "openblas"))]
    {
        (None, None)
    }
}

/// NdArray allocates every result afresh; glibc serves large blocks with
/// mmap and gives them back with munmap, so each product first-touches new
/// pages (measured: 0.65× the same OpenBLAS called directly, 2048² f32 on a
/// 2-core Zen 5). Keeping freed memory in the heap puts it at the library's
/// rate. Process-wide, and the heap keeps its peak size until exit: set only
/// when an NdArray workload runs. True where it took effect.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static DONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *DONE.get_or_init(|| {
            // SAFETY: mallopt only changes glibc's malloc parameters.
            unsafe {
                libc::mallopt(libc::M_MMAP_MAX, 0) == 1
                    && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
            }
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Every pair this build has, best first (the order `auto` prefers).
pub fn compiled_targets() -> Vec<Target> {
    BuildOs::CURRENT.targets()
}

/// The CPU pair `auto` picks in this build (NdArray on a BLAS, else Candle):
/// the self-test's CPU baseline.
pub fn cpu_default() -> Target {
    compiled_targets()
        .into_iter()
        .find(|t| t.device == DeviceKind::Cpu)
        .unwrap_or(Target::CPU)
}

/// Run `workload` on `target`'s backend. Call on the compute thread.
pub fn dispatch<W: BurnJob>(target: Target, workload: W) -> Result<W::Output, String> {
    match (target.device, target.backend) {
        (DeviceKind::Cpu, BackendKind::Candle) => {
            Ok(workload.run::<Autodiff<Candle>>(CandleDevice::Cpu, Barrier::Sync))
        }
        (DeviceKind::Cpu, BackendKind::Ndarray) => {
            keep_freed_memory();
            Ok(workload.run::<Autodiff<NdArray>>(NdArrayDevice::Cpu, Barrier::Sync))
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

/// How hard CubeCL's autotune works (its `AutotuneLevel`): the level sets how
/// far apart two problem sizes must be to be tuned apart, so a lower level
/// tunes fewer keys on a first call and shares each result more widely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TuneEffort {
    Minimal,
    Balanced,
    Extensive,
    Full,
}

impl TuneEffort {
    pub const NAMES: [&'static str; 4] = ["minimal", "balanced", "extensive", "full"];

    pub fn parse(text: &str) -> Option<TuneEffort> {
        match text {
            "minimal" => Some(TuneEffort::Minimal),
            "balanced" => Some(TuneEffort::Balanced),
            "extensive" => Some(TuneEffort::Extensive),
            "full" => Some(TuneEffort::Full),
            _ => None,
        }
    }
}

/// CubeCL keeps its autotune results (minutes of kernel timing on a first
/// run) in the `target/` folder of the Cargo project above the working
/// directory, else in ~/.cache/cubecl, and compiles every kernel again in each
/// process (NVRTC on CUDA). ttm is run from anywhere, so it keeps both the
/// tuning results and the compiled kernels (PTX, SPIR-V) in its own cache
/// folder. Must run before CubeCL is first used.
pub fn use_cubecl_cache(dir: std::path::PathBuf, effort: TuneEffort) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use burn::cubecl::config::autotune::AutotuneLevel;
        use burn::cubecl::config::cache::CacheConfig;
        use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
        let mut config = CubeClRuntimeConfig::default().override_from_env();
        config.autotune.cache = CacheConfig::File(dir.clone());
        config.compilation.cache = Some(CacheConfig::File(dir));
        config.autotune.level = match effort {
            TuneEffort::Minimal => AutotuneLevel::Minimal,
            TuneEffort::Balanced => AutotuneLevel::Balanced,
            TuneEffort::Extensive => AutotuneLevel::Extensive,
            TuneEffort::Full => AutotuneLevel::Full,
        };
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
    fn both_cpu_pairs_are_always_built_and_work() {
        let targets = compiled_targets();
        assert!(targets.contains(&Target::CPU) && targets.contains(&Target::CPU_NDARRAY));
        assert_eq!(probe(Target::CPU), Ok(None));
        assert_eq!(probe(Target::CPU_NDARRAY), Ok(None));
    }

    #[test]
    fn auto_prefers_ndarray_only_on_a_blas() {
        let cpus = |os: BuildOs, blas| -> Vec<String> {
            os.targets_with(blas)
                .iter()
                .filter(|t| t.device == DeviceKind::Cpu)
                .map(|t| t.to_string())
                .collect()
        };
        assert_eq!(
            cpus(BuildOs::Other, None),
            ["cpu (candle)", "cpu (ndarray)"]
        );
        assert_eq!(
            cpus(BuildOs::Other, Some(CpuBlas::OpenBlas)),
            ["cpu (ndarray)", "cpu (candle)"]
        );
        assert_eq!(
            cpus(BuildOs::Macos, Some(CpuBlas::Accelerate)),
            ["cpu (ndarray)", "cpu (candle)"]
        );
        assert_eq!(CpuBlas::of(BuildOs::Macos), Some(CpuBlas::Accelerate));
        assert_eq!(
            CpuBlas::of(BuildOs::Other),
            cfg!(feature = "openblas").then_some(CpuBlas::OpenBlas)
        );
    }

    #[test]
    fn the_cpu_note_says_which_backend_and_how_to_get_the_fast_one() {
        let plain = CpuBackendNote::new(None, BuildOs::Other, None, None, Some("Haswell".into()));
        assert_eq!(plain.default_backend, BackendKind::Candle);
        assert!(plain
            .line()
            .starts_with("CPU backend: Burn Candle (no BLAS in this build)"));
        assert!(plain.line().contains("apt-get install libopenblas-dev"));
        assert!(plain.line().contains("--features openblas"));
        assert!(
            plain.coretype_forced.is_none(),
            "no OpenBLAS, nothing forced"
        );

        let fast = CpuBackendNote::new(
            Some(CpuBlas::OpenBlas),
            BuildOs::Other,
            Some("OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell".into()),
            Some("Haswell".into()),
            Some("Haswell".into()),
        );
        assert_eq!(fast.default_backend, BackendKind::Ndarray);
        assert!(fast.hint.is_none());
        let line = fast.line();
        assert!(
            line.starts_with(
                "CPU backend: Burn NdArray, matrix products on OpenBLAS (Haswell kernels)"
            ),
            "{line}"
        );
        assert!(line.contains("OPENBLAS_CORETYPE=Haswell"), "{line}");

        let mac = CpuBackendNote::new(
            Some(CpuBlas::Accelerate),
            BuildOs::Macos,
            None,
            None,
            Some("x".into()),
        );
        assert_eq!(
            mac.line(),
            "CPU backend: Burn NdArray, matrix products on Accelerate"
        );

        let here = CpuBackendNote::current(&crate::system::System::from_parts(
            Vec::<(String, String)>::new(),
            "/",
        ));
        assert_eq!(here.blas.is_some(), CpuBlas::CURRENT.is_some());
        if cfg!(feature = "openblas") {
            // The library answers: its version and the kernels it chose.
            assert!(
                here.blas_config
                    .as_deref()
                    .is_some_and(|c| c.contains("OpenBLAS")),
                "{here:?}"
            );
            assert!(
                here.blas_core.as_deref().is_some_and(|c| !c.is_empty()),
                "{here:?}"
            );
        }
    }

    #[test]
    fn ndarray_keeps_freed_memory_on_glibc() {
        assert_eq!(
            keep_freed_memory(),
            cfg!(all(target_os = "linux", target_env = "gnu"))
        );
    }

    #[test]
    fn each_build_has_its_own_gpus_then_the_cpu() {
        let pairs =
            |os: BuildOs| -> Vec<String> { os.targets().iter().map(|t| t.to_string()).collect() };
        assert_eq!(
            pairs(BuildOs::Macos),
            [
                "metal (cubecl)",
                "metal (candle)",
                "cpu (ndarray)",
                "cpu (candle)"
            ]
        );
        let other = pairs(BuildOs::Other);
        assert_eq!(other[..2], ["cuda (cubecl)", "vulkan (cubecl)"]);
        assert_eq!(other.len(), 4);
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
