//! Facts about the machine, detected at run time by running the programs on
//! the PATH we were given (`uname`, `sw_vers`, `sysctl`, `brew`, `conda`,
//! `python3` …), never with `cfg!(target_os)`, so that a Linux test can
//! present a fake Mac through shims.
//!
//! Each probe is bounded in time; a probe that fails, hangs or prints garbage
//! leaves its fact `None` and a note in [`Facts::problems`], never a panic.
//! Parsers are pure functions over recorded text, in the probe's own module.
//!
//! These types are the contract between detection (`detect`), the doctor's
//! checks (`checks/`) and setup's plan (`setup/`).

use std::path::PathBuf;

use serde::Serialize;

use crate::system::System;
use crate::workspace::Workspace;

/// Detect every fact, probes in parallel, each bounded in time.
/// (Placeholder until the doctor's detection lands: only the workspace is known.)
pub fn detect(sys: &System, ws: &Workspace) -> Facts {
    let _ = sys;
    Facts {
        os: Os::Other,
        os_version: None,
        os_build: None,
        arch: None,
        process_arch: None,
        apple_silicon: false,
        rosetta: None,
        chip: None,
        memory_bytes: None,
        cpu_cores: None,
        xcode_clt: None,
        homebrew: None,
        git: None,
        python: None,
        conda: None,
        workspace: WorkspaceFacts {
            root: ws.root().to_path_buf(),
            exists: ws.root().is_dir(),
            blocked: ws.check_usable().err().map(|e| e.to_string()),
            missing_folders: Vec::new(),
            has_requirements: ws.requirements().is_file(),
            has_manifest: ws.manifest().is_file(),
        },
        env: None,
        torch: None,
        gpus: Vec::new(),
        disk_free_bytes: None,
        torch_env_vars: Vec::new(),
        problems: Vec::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Macos,
    Linux,
    Other,
}

/// Everything detected, in one value. `Serialize` gives `doctor --json`'s `facts`.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub os: Os,
    /// "14.5" on macOS (`sw_vers -productVersion`); "Ubuntu 22.04.4 LTS" (os-release PRETTY_NAME) on Linux.
    pub os_version: Option<String>,
    /// macOS build ("23F79") or the Linux kernel release.
    pub os_build: Option<String>,
    /// The hardware's architecture, "arm64" or "x86_64" (true even under Rosetta).
    pub arch: Option<String>,
    /// What `uname -m` says for this process (x86_64 under Rosetta on arm64 hardware).
    pub process_arch: Option<String>,
    pub apple_silicon: bool,
    /// `sysctl.proc_translated`: Some(true) under Rosetta; None off macOS or on Intel.
    pub rosetta: Option<bool>,
    /// "Apple M1 Max", "Intel(R) Core(TM) i9-9880H", or the Linux CPU model.
    pub chip: Option<String>,
    pub memory_bytes: Option<u64>,
    pub cpu_cores: Option<u32>,
    /// `xcode-select -p` when the command line tools are installed.
    pub xcode_clt: Option<PathBuf>,
    pub homebrew: Option<Homebrew>,
    pub git: Option<Tool>,
    /// The Python a new environment would be made from (first usable python3 on PATH).
    pub python: Option<Python>,
    pub conda: Option<Conda>,
    pub workspace: WorkspaceFacts,
    /// The project environment (venv in the workspace, or the conda env), if it exists.
    pub env: Option<ProjectEnv>,
    /// PyTorch as seen by the project environment's python.
    pub torch: Option<Torch>,
    pub gpus: Vec<Gpu>,
    /// Free bytes on the file system holding the workspace (or its nearest existing parent).
    pub disk_free_bytes: Option<u64>,
    /// `PYTORCH_MPS_*` and `PYTORCH_ENABLE_MPS_FALLBACK` as set in our environment.
    pub torch_env_vars: Vec<(String, String)>,
    /// Probes that timed out, failed or printed something unreadable: "conda: timed out after 10s".
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub path: PathBuf,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Homebrew {
    pub path: PathBuf,
    /// `brew --prefix`: /opt/homebrew (Apple Silicon), /usr/local (Intel, or Intel Homebrew under Rosetta).
    pub prefix: PathBuf,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Python {
    pub path: PathBuf,
    /// "3.12.4"
    pub version: String,
    /// `platform.machine()`: "arm64" or "x86_64".
    pub machine: String,
    /// Apple's /usr/bin/python3 stub (works only with the command line tools).
    pub apple_stub: bool,
    /// `sys.prefix != sys.base_prefix` or a conda env.
    pub in_env: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Conda {
    pub path: PathBuf,
    pub version: Option<String>,
    /// `conda info --json` "platform": "osx-arm64", "osx-64", "linux-64".
    pub platform: Option<String>,
    pub envs: Vec<PathBuf>,
    pub base_prefix: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceFacts {
    pub root: PathBuf,
    pub exists: bool,
    /// The root exists but is not a folder, or a parent is a file.
    pub blocked: Option<String>,
    /// Which of notebooks/, data/, models/ are missing.
    pub missing_folders: Vec<String>,
    pub has_requirements: bool,
    pub has_manifest: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvFlavor {
    Venv,
    Conda,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectEnv {
    pub flavor: EnvFlavor,
    pub name: String,
    /// The env's root (the venv folder, or the conda env prefix).
    pub prefix: PathBuf,
    /// Its python executable.
    pub python: PathBuf,
    pub python_version: Option<String>,
    pub python_machine: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Torch {
    /// None when `import torch` failed; `error` then says why.
    pub version: Option<String>,
    pub error: Option<String>,
    pub mps_built: Option<bool>,
    pub mps_available: Option<bool>,
    pub cuda_built: Option<bool>,
    pub cuda_available: Option<bool>,
    pub cuda_version: Option<String>,
    /// `torch.cuda.get_device_name(0)` or "Apple M1 Max (MPS)".
    pub device_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gpu {
    /// "Apple M2 Pro", "NVIDIA H100 80GB HBM3"
    pub name: String,
    pub vendor: String,
    /// Apple: GPU cores (`sppci_cores`); NVIDIA: none.
    pub cores: Option<u32>,
    pub memory_bytes: Option<u64>,
    /// NVIDIA driver version, or Metal support ("Metal 3") on macOS.
    pub driver: Option<String>,
}
