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

mod disk;
mod gpu;
mod homebrew;
mod os;
mod probe;
mod probe_cache;
mod project_env;
mod python;
mod sysctl;
mod tools;

pub use disk::{free_bytes, parse_df};
pub use gpu::{parse_nvidia_smi, parse_system_profiler_displays};
pub use homebrew::parse_brew_version;
pub use os::{parse_cpuinfo, parse_meminfo, parse_os_release, parse_sw_vers, parse_uname, SwVers};
pub use project_env::{parse_conda_info, parse_torch_probe, workspace_venv, CondaInfo};
pub use python::{parse_python_info, PythonInfo};
pub use sysctl::{parse_sysctl_bool, parse_sysctl_u64};
pub use tools::parse_git_version;

use std::path::PathBuf;

use serde::Serialize;

pub use probe::{Detected, Probe, ProbeFailure, Problem};

use crate::env_kind::EnvKind;
use crate::system::System;
use crate::workspace::Workspace;

/// Detect every fact, probes in parallel, each bounded in time.
pub fn detect(sys: &System, ws: &Workspace) -> Facts {
    detect_with(sys, ws, &Probe::new(sys))
}

/// [`detect`] for a command that changes nothing (bench): PyTorch's answer
/// may come from the probe cache.
pub fn detect_keeping_answers(sys: &System, ws: &Workspace) -> Facts {
    detect_with(sys, ws, &Probe::new(sys).keeping_answers())
}

/// [`detect`] with an explicit probe configuration (its timeout).
pub fn detect_with(sys: &System, ws: &Workspace, probe: &Probe) -> Facts {
    // Everything that does not depend on the OS starts at once; the OS probe
    // (`uname`, `sw_vers`) runs beside them and then starts the probes that
    // depend on it. The whole takes about as long as the slowest chain.
    let (os_part, brew, git, python, project, disk) = std::thread::scope(|s| {
        let brew = s.spawn(|| homebrew::detect(probe));
        let git = s.spawn(|| tools::detect_git(probe));
        let python = s.spawn(|| python::detect(probe));
        let project = s.spawn(|| project_env::detect(probe, ws));
        let disk = s.spawn(|| disk::detect(probe, ws.root()));
        let os_part = s.spawn(|| {
            let os_facts = os::detect(probe);
            let mac = os_facts.os == Os::Macos;
            let linux = os_facts.os == Os::Linux;
            let os = os_facts.os;
            std::thread::scope(|s| {
                let hw = s.spawn(|| mac.then(|| sysctl::detect(probe)));
                let machine = s.spawn(|| linux.then(|| os::detect_linux_machine(probe)));
                let xcode = s.spawn(|| {
                    if mac {
                        tools::detect_xcode_clt(probe)
                    } else {
                        Detected::none()
                    }
                });
                let gpus = s.spawn(|| gpu::detect(probe, os));
                (
                    os_facts,
                    join(hw).flatten(),
                    join(machine).flatten(),
                    join(xcode),
                    join(gpus),
                )
            })
        });
        (
            join(os_part),
            join(brew),
            join(git),
            join(python),
            join(project),
            join(disk),
        )
    });
    let (os_facts, mac_facts, machine, xcode, gpus) = os_part.unwrap_or_else(|| {
        (
            os::OsFacts::unknown("a probe thread failed"),
            None,
            None,
            None,
            None,
        )
    });
    let mac = os_facts.os == Os::Macos;

    let mut problems: Vec<Problem> = os_facts.problems.clone();
    let mut stubs = Vec::new();
    let mut facts = Facts {
        os: os_facts.os,
        os_version: os_facts.version.clone(),
        os_build: os_facts.build.clone(),
        arch: os_facts.machine.clone(),
        process_arch: os_facts.machine.clone(),
        workspace: workspace_facts(ws),
        torch_env_vars: torch_env_vars(sys),
        ..Facts::default()
    };
    if let Some(m) = mac_facts {
        // sysctl.rs still notes its problems as "sysctl: …" lines.
        problems.extend(
            m.problems
                .iter()
                .map(|line| Problem::new("sysctl", line.strip_prefix("sysctl: ").unwrap_or(line))),
        );
        facts.apple_silicon = m.arm64 == Some(true);
        if let Some(arm64) = m.arm64 {
            facts.arch = Some(if arm64 { "arm64" } else { "x86_64" }.to_owned());
        }
        facts.rosetta = if facts.apple_silicon {
            // Without sysctl.proc_translated, an x86_64 process on arm64 hardware is translated.
            Some(
                m.translated
                    .unwrap_or(facts.process_arch.as_deref() == Some("x86_64")),
            )
        } else {
            None
        };
        facts.chip = m.brand;
        facts.memory_bytes = m.memsize;
        facts.cpu_cores = m.ncpu;
        facts.performance_cores = m.perf_cores;
        facts.efficiency_cores = m.efficiency_cores;
    }
    if let Some(m) = machine {
        problems.extend(m.problems);
        facts.chip = m.cpu_model;
        facts.cpu_cores = m.cpu_count;
        facts.memory_bytes = m.memory_bytes;
    }
    if let Some(x) = xcode {
        facts.xcode_clt = x.take(&mut problems, &mut stubs);
    }
    if let Some(b) = brew {
        facts.homebrew = b.take(&mut problems, &mut stubs);
    }
    if let Some(g) = git {
        facts.git = g.take(&mut problems, &mut stubs);
    }
    if let Some(py) = python {
        facts.python = py.take(&mut problems, &mut stubs).map(|mut p| {
            // /usr/bin/python3 is Apple's only on a Mac.
            p.apple_stub &= mac;
            p
        });
    }
    if let Some(project) = project {
        problems.extend(project.problems);
        facts.conda = project.conda;
        facts.env = project.env;
        facts.torch = project.torch;
        facts.torch_kept_since = project.torch_kept_since;
        facts.env_expected = project.expected;
    }
    if let Some(g) = gpus {
        facts.gpus = g.take(&mut problems, &mut stubs).unwrap_or_default();
    }
    if let Some(d) = disk {
        facts.disk_free_bytes = d.take(&mut problems, &mut stubs);
    }
    if !mac {
        // The stubs are Apple's; elsewhere the xcrun error cannot occur.
        stubs.clear();
    }
    facts.xcrun_stubs = stubs;
    facts.problems = problems;
    facts
}

/// A thread's result; a probe that panicked (a bug) loses only its own facts.
fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> Option<T> {
    h.join().ok()
}

fn workspace_facts(ws: &Workspace) -> WorkspaceFacts {
    let root = ws.root();
    let exists = root.is_dir();
    WorkspaceFacts {
        root: root.to_path_buf(),
        exists,
        blocked: ws.check_usable().err().map(|e| e.to_string()),
        missing_folders: if exists {
            crate::workspace::FOLDERS
                .iter()
                .filter(|f| !root.join(f).is_dir())
                .map(|f| f.to_string())
                .collect()
        } else {
            crate::workspace::FOLDERS
                .iter()
                .map(|f| f.to_string())
                .collect()
        },
        has_requirements: ws.requirements().is_file(),
        has_manifest: ws.manifest().is_file(),
    }
}

/// `PYTORCH_ENABLE_MPS_FALLBACK` and every `PYTORCH_MPS_*` variable, sorted.
fn torch_env_vars(sys: &System) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = sys
        .vars()
        .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v.to_string_lossy().into_owned())))
        .filter(|(k, _)| {
            k == crate::env_vars::PYTORCH_ENABLE_MPS_FALLBACK
                || k.starts_with(crate::env_vars::PYTORCH_MPS_PREFIX)
        })
        .collect();
    vars.sort();
    vars
}

impl Facts {
    /// The problems noted by one probe.
    pub fn problems_of(&self, probe: &str) -> Vec<&Problem> {
        self.problems.iter().filter(|p| p.probe == probe).collect()
    }

    /// The GPU PyTorch would use, the one doctor and setup both name: on a
    /// Mac the Apple GPU, else an AMD one (MPS runs on it on Intel Macs),
    /// else the first listed; elsewhere the first.
    pub fn torch_gpu(&self) -> Option<&Gpu> {
        if self.os == Os::Macos {
            let amd = |g: &&Gpu| g.name.contains("AMD") || g.name.contains("Radeon");
            let apple = |g: &&Gpu| g.vendor == "Apple" || g.name.starts_with("Apple");
            return self
                .gpus
                .iter()
                .find(apple)
                .or_else(|| self.gpus.iter().find(amd))
                .or(self.gpus.first());
        }
        self.gpus.first()
    }

    /// Torch is in the environment but `import torch` fails (a broken install).
    pub fn torch_broken(&self) -> bool {
        self.torch.as_ref().is_some_and(|t| {
            t.version.is_none()
                && (t.installed == Some(true)
                    || t.error
                        .as_deref()
                        .is_some_and(|e| !e.contains("No module named")))
        })
    }

    /// Whether `program` is one of Apple's stubs that fail until the command line tools exist.
    pub fn is_xcrun_stub(&self, program: &str) -> bool {
        self.xcrun_stubs.iter().any(|s| s == program)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Macos,
    Linux,
    #[default]
    Other,
}

/// Everything detected, in one value. `Serialize` gives `doctor --json`'s `facts`.
#[derive(Debug, Clone, Serialize, Default)]
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
    /// When PyTorch's answer came from the probe cache: when it was asked
    /// (seconds since the epoch). Shown by `doctor -v`; not in the JSON.
    #[serde(skip)]
    pub torch_kept_since: Option<u64>,
    /// Probes that timed out, failed or printed something unreadable
    /// (serialised as lines: "conda: timed out after 10s").
    pub problems: Vec<Problem>,
    /// macOS: performance cores (`hw.perflevel0.physicalcpu`).
    pub performance_cores: Option<u32>,
    /// macOS: efficiency cores (`hw.perflevel1.physicalcpu`).
    pub efficiency_cores: Option<u32>,
    /// Programs on PATH that are Apple's stubs and fail until the command
    /// line tools are installed (`xcrun: error: invalid active developer path`): "python3", "git".
    pub xcrun_stubs: Vec<String>,
    /// Which project environment was chosen, and why: what `env` looks at
    /// and what setup installs into.
    pub env_expected: Option<ExpectedEnv>,
}

/// The project environment ttm chose (see `project_env` for the order).
#[derive(Debug, Clone, Serialize)]
pub struct ExpectedEnv {
    pub kind: EnvKind,
    /// The conda env's name, or the venv's folder name ("venv", ".venv").
    pub name: String,
    /// Whether it comes from ttm.toml.
    pub from_manifest: bool,
    /// Why this one: "the book's venv (python3 -m venv venv) in the workspace".
    pub reason: String,
    /// Where it is, or where setup would make it (a venv's folder); None
    /// for a conda env not made yet and for `none`.
    pub prefix: Option<PathBuf>,
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

#[derive(Debug, Clone, Serialize, Default)]
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
    /// The import error's last line ("ImportError: dlopen(...): Library not loaded: ...").
    pub error: Option<String>,
    /// torch is in site-packages (whether or not it imports); None: not asked.
    pub installed: Option<bool>,
    /// The numpy version installed beside it (not imported), if any.
    pub numpy: Option<String>,
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
