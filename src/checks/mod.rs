//! The doctor's checks: facts in, one `CheckResult` per check id out.
//!
//! Each check is a pure function of [`Facts`], so every verdict can be tested
//! without a machine. The ids and their order are part of the interface
//! contract (DESIGN.md): all 14 are always present; `skip` where a check does
//! not apply (Homebrew on Linux, the command line tools off macOS).

use serde::Serialize;

use crate::compat::{self, major_minor, show, TorchSet};
use crate::env_kind::EnvKind;
use crate::platform::{EnvFlavor, Facts, Os};

/// Every check id, in the order they are shown.
pub const IDS: [&str; 14] = [
    "os",
    "arch",
    "rosetta",
    "macos-version",
    "xcode-clt",
    "homebrew",
    "git",
    "python",
    "conda",
    "env",
    "workspace",
    "torch",
    "gpu",
    "disk",
];

/// Below this much free space, setup cannot fit PyTorch: fail.
pub const DISK_FAIL_BYTES: u64 = 5 * GIB;
/// Below this, datasets and models will not fit for long: warn.
pub const DISK_WARN_BYTES: u64 = 20 * GIB;
const GIB: u64 = 1 << 30;

const INSTALL_HOMEBREW: &str = r#"/bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)""#;
const INSTALL_MINIFORGE_ARM64: &str = "curl -fsSLO https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-MacOSX-arm64.sh && bash Miniforge3-MacOSX-arm64.sh";
const LEAVE_ROSETTA: &str = "in Finder, Get Info on your terminal app, untick \"Open using Rosetta\", and open a new terminal (or run: arch -arm64 /bin/zsh -l)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub status: CheckStatus,
    /// One line: what was found.
    pub summary: String,
    /// More: paths, versions, why it matters.
    pub detail: Option<String>,
    /// The command (or the action) that fixes it.
    pub fix: Option<String>,
}

impl CheckResult {
    fn new(id: &'static str, status: CheckStatus, summary: impl Into<String>) -> CheckResult {
        CheckResult {
            id,
            status,
            summary: summary.into(),
            detail: None,
            fix: None,
        }
    }
    fn ok(id: &'static str, summary: impl Into<String>) -> CheckResult {
        CheckResult::new(id, CheckStatus::Ok, summary)
    }
    fn warn(id: &'static str, summary: impl Into<String>) -> CheckResult {
        CheckResult::new(id, CheckStatus::Warn, summary)
    }
    fn fail(id: &'static str, summary: impl Into<String>) -> CheckResult {
        CheckResult::new(id, CheckStatus::Fail, summary)
    }
    fn skip(id: &'static str, summary: impl Into<String>) -> CheckResult {
        CheckResult::new(id, CheckStatus::Skip, summary)
    }
    fn detail(mut self, d: impl Into<String>) -> CheckResult {
        let d = d.into();
        if d.is_empty() {
            return self;
        }
        self.detail = Some(match self.detail.take() {
            Some(prev) => format!("{prev}\n{d}"),
            None => d,
        });
        self
    }
    fn fix(mut self, f: impl Into<String>) -> CheckResult {
        self.fix = Some(f.into());
        self
    }
    /// Add what the probe of `probe` met (timeouts, garbage) to the detail.
    fn with_problems(mut self, facts: &Facts, probe: &str) -> CheckResult {
        for p in facts.problems_of(probe) {
            self = self.detail(p.to_string());
        }
        self
    }
}

/// Run every check, in [`IDS`] order.
pub fn run_all(facts: &Facts) -> Vec<CheckResult> {
    vec![
        check_os(facts),
        check_arch(facts),
        check_rosetta(facts),
        check_macos_version(facts),
        check_xcode_clt(facts),
        check_homebrew(facts),
        check_git(facts),
        check_python(facts),
        check_conda(facts),
        check_env(facts),
        check_workspace(facts),
        check_torch(facts),
        check_gpu(facts),
        check_disk(facts),
    ]
}

/// Ready: no check failed.
pub fn ready(results: &[CheckResult]) -> bool {
    results.iter().all(|r| r.status != CheckStatus::Fail)
}

fn is_mac(f: &Facts) -> bool {
    f.os == Os::Macos
}

/// The first problem of a probe, if it timed out or printed garbage: a warn, never a fail.
fn probe_trouble(f: &Facts, id: &'static str, probe: &str, what: &str) -> Option<CheckResult> {
    let p = f.problems_of(probe);
    let first = p.first()?;
    Some(
        CheckResult::warn(id, format!("could not check {what}: {}", first.message))
            .with_problems(f, probe),
    )
}

fn linux_install(f: &Facts, packages: &str) -> String {
    let distro = f.os_version.as_deref().unwrap_or("");
    if distro.contains("Ubuntu") || distro.contains("Debian") {
        format!("sudo apt-get install -y {packages}")
    } else if distro.contains("Fedora") || distro.contains("Red Hat") || distro.contains("Rocky") {
        format!("sudo dnf install -y {packages}")
    } else {
        format!("install {packages} with your distribution's package manager")
    }
}

fn gib(bytes: u64) -> String {
    let g = bytes as f64 / GIB as f64;
    if g >= 10.0 {
        format!("{g:.0} GiB")
    } else {
        format!("{g:.1} GiB")
    }
}

pub fn check_os(f: &Facts) -> CheckResult {
    const ID: &str = "os";
    let version = f
        .os_version
        .clone()
        .unwrap_or_else(|| "unknown version".into());
    match f.os {
        Os::Macos => {
            let mut r = CheckResult::ok(
                ID,
                match &f.os_build {
                    Some(b) => format!("macOS {version} ({b})"),
                    None => format!("macOS {version}"),
                },
            );
            if f.os_version.is_none() {
                r = CheckResult::warn(ID, "macOS, version unknown").with_problems(f, "sw_vers");
            }
            r
        }
        Os::Linux => {
            let r = CheckResult::ok(ID, format!("{version} (Linux)"));
            match &f.os_build {
                Some(k) => r.detail(format!("kernel {k}")),
                None => r,
            }
            .with_problems(f, "os-release")
        }
        Os::Other => {
            if f.problems_of("uname").is_empty() {
                CheckResult::fail(
                    ID,
                    format!("{version} is not supported: ttm knows macOS and Linux"),
                )
                .fix("run ttm on a Mac, or on Linux with an NVIDIA GPU")
            } else {
                CheckResult::fail(ID, "could not tell which OS this is")
                    .with_problems(f, "uname")
                    .fix("put the system folders on PATH: export PATH=\"/usr/bin:/bin:$PATH\"")
            }
        }
    }
}

pub fn check_arch(f: &Facts) -> CheckResult {
    const ID: &str = "arch";
    let arch = f.arch.as_deref().unwrap_or("unknown");
    let chip = f.chip.clone();
    let mut r = match (f.os, arch) {
        (Os::Macos, _) if f.apple_silicon => CheckResult::ok(
            ID,
            format!(
                "Apple Silicon ({})",
                chip.clone().unwrap_or_else(|| "arm64".into())
            ),
        ),
        (Os::Macos, "x86_64") => CheckResult::warn(
            ID,
            format!(
                "Intel Mac ({}): PyTorch 2.2.2 was the last release for Intel Macs",
                chip.clone().unwrap_or_else(|| "x86_64".into())
            ),
        )
        .detail(
            "The book's examples run on the CPU here (or an AMD GPU through MPS); an Apple Silicon Mac runs them on its GPU.",
        ),
        (Os::Linux, "x86_64" | "aarch64" | "arm64") => CheckResult::ok(
            ID,
            match &chip {
                Some(c) => format!("{arch} ({c})"),
                None => arch.to_owned(),
            },
        ),
        (_, "unknown") => {
            CheckResult::warn(ID, "could not tell the architecture").with_problems(f, "uname")
        }
        _ => CheckResult::warn(ID, format!("{arch}: PyTorch publishes no wheels for it")),
    };
    let mut detail = Vec::new();
    if let Some(m) = f.memory_bytes {
        detail.push(format!("memory {}", gib(m)));
    }
    if let Some(c) = f.cpu_cores {
        detail.push(match (f.performance_cores, f.efficiency_cores) {
            (Some(p), Some(e)) => format!("{c} cores ({p} performance, {e} efficiency)"),
            _ => format!("{c} cores"),
        });
    }
    if !detail.is_empty() {
        r = r.detail(detail.join(", "));
    }
    r.with_problems(f, "sysctl")
        .with_problems(f, "cpuinfo")
        .with_problems(f, "meminfo")
}

pub fn check_rosetta(f: &Facts) -> CheckResult {
    const ID: &str = "rosetta";
    if !is_mac(f) {
        return CheckResult::skip(ID, "not a Mac");
    }
    if !f.apple_silicon {
        return CheckResult::skip(ID, "Intel Mac: Rosetta does not apply");
    }
    let process = f.process_arch.as_deref().unwrap_or("unknown");
    match f.rosetta {
        Some(true) => CheckResult::fail(ID, "this terminal runs under Rosetta (x86_64 on Apple Silicon)")
            .detail(format!("`uname -m` says {process} and sysctl.proc_translated is 1: Python, pip and Homebrew run as Intel programs, MPS is unavailable and pip offers only old Intel wheels."))
            .fix(LEAVE_ROSETTA),
        _ => CheckResult::ok(ID, "native arm64 terminal, not under Rosetta"),
    }
}

pub fn check_macos_version(f: &Facts) -> CheckResult {
    const ID: &str = "macos-version";
    const UPDATE: &str = "softwareupdate --list   (or System Settings > General > Software Update)";
    if !is_mac(f) {
        return CheckResult::skip(ID, "not a Mac");
    }
    let Some(v) = f.os_version.as_deref() else {
        return CheckResult::warn(ID, "could not read the macOS version")
            .with_problems(f, "sw_vers");
    };
    let Some(mm) = major_minor(v) else {
        return CheckResult::warn(ID, format!("unreadable macOS version {v:?}"));
    };
    let oldest = compat::oldest_mps_macos();
    if mm < oldest {
        return CheckResult::fail(
            ID,
            format!(
                "macOS {v} is too old: PyTorch's MPS backend needs {} or newer",
                show(oldest)
            ),
        )
        .fix(UPDATE);
    }
    if !f.apple_silicon {
        return CheckResult::ok(ID, format!("macOS {v} supports PyTorch's MPS backend")).detail(
            format!(
                "An Intel Mac: {} at most (MPS on its AMD GPU).",
                compat::INTEL_MAC
            ),
        );
    }
    let newest = compat::TABLE[0];
    let here = compat::for_mac(true, Some(mm));
    if let Some(t) = installed_torch(f) {
        if let Some(floor) = compat::mps_floor(t).filter(|floor| mm < *floor) {
            return CheckResult::warn(
                ID,
                format!("macOS {v}: the installed PyTorch {t} needs macOS {} for MPS", show(floor)),
            )
            .detail("pip installs it anyway (its wheels are tagged for macOS 11), but MPS stays unavailable.")
            .fix(both_fixes(v, here));
        }
    }
    if mm < newest.mps_macos {
        let mut r = CheckResult::warn(
            ID,
            format!(
                "macOS {v}: PyTorch {} and newer need macOS {} for MPS",
                newest.torch,
                show(newest.mps_macos)
            ),
        );
        if let Some(h) = here {
            r = r.detail(format!(
                "The newest with MPS here: {h} (ttm setup installs it)."
            ));
        }
        return r.fix(both_fixes(v, here));
    }
    CheckResult::ok(ID, format!("macOS {v} supports PyTorch's MPS backend"))
        .detail(format!("ttm setup installs {newest}."))
}

/// The installed torch's version, when it imports.
fn installed_torch(f: &Facts) -> Option<&str> {
    f.torch.as_ref()?.version.as_deref()
}

/// Update macOS, or the newest torch that still has MPS on this one.
fn both_fixes(v: &str, here: Option<TorchSet>) -> String {
    match here {
        Some(h) => format!(
            "update macOS (softwareupdate --list), or keep macOS {v} with {}: ttm setup installs it (pip install {})",
            h,
            h.pins().iter().map(|p| crate::system::shell_quote(p)).collect::<Vec<_>>().join(" ")
        ),
        None => "update macOS: softwareupdate --list".to_owned(),
    }
}

pub fn check_xcode_clt(f: &Facts) -> CheckResult {
    const ID: &str = "xcode-clt";
    if !is_mac(f) {
        return CheckResult::skip(ID, "not a Mac");
    }
    if let Some(t) = probe_trouble(f, ID, "xcode-select", "the command line tools") {
        return t.fix("xcode-select --install");
    }
    match &f.xcode_clt {
        Some(p) => CheckResult::ok(ID, format!("command line tools at {}", p.display())),
        None => {
            let mut r = CheckResult::fail(ID, "Xcode command line tools are not installed")
                .detail("Homebrew, git and Apple's python3 need them.")
                .fix("xcode-select --install");
            if !f.xcrun_stubs.is_empty() {
                r = r.detail(format!(
                    "{} on PATH are Apple's stubs until they are installed.",
                    f.xcrun_stubs.join(" and ")
                ));
            }
            r
        }
    }
}

pub fn check_homebrew(f: &Facts) -> CheckResult {
    const ID: &str = "homebrew";
    if !is_mac(f) {
        return CheckResult::skip(ID, "not a Mac");
    }
    if let Some(t) = probe_trouble(f, ID, "homebrew", "Homebrew") {
        return t;
    }
    let Some(b) = &f.homebrew else {
        return CheckResult::fail(ID, "Homebrew is not installed")
            .detail("The book installs Python and git with it.")
            .fix(INSTALL_HOMEBREW);
    };
    let version = b
        .version
        .as_deref()
        .map(|v| format!("Homebrew {v}"))
        .unwrap_or_else(|| "Homebrew".into());
    let prefix = b.prefix.display().to_string();
    if f.apple_silicon && prefix == "/usr/local" {
        return CheckResult::fail(ID, format!("{version} in /usr/local is the Intel Homebrew (installed under Rosetta)"))
            .detail("On Apple Silicon, Homebrew belongs in /opt/homebrew; what the Intel one installs runs under Rosetta.")
            .fix(format!("brew bundle dump --file ~/Brewfile; then from a native terminal: arch -arm64 {INSTALL_HOMEBREW}; then /opt/homebrew/bin/brew bundle --file ~/Brewfile"));
    }
    let mut r = CheckResult::ok(ID, format!("{version} in {prefix}"))
        .detail(format!("{}", b.path.display()));
    if f.apple_silicon && prefix != "/opt/homebrew" {
        r = CheckResult::warn(ID, format!("{version} in {prefix}, not the standard /opt/homebrew"))
            .detail("Bottles (prebuilt packages) work only in the standard prefix; everything builds from source.");
    }
    r
}

pub fn check_git(f: &Facts) -> CheckResult {
    const ID: &str = "git";
    let fix = if is_mac(f) {
        if f.xcode_clt.is_none() {
            "xcode-select --install".to_owned()
        } else {
            "brew install git".to_owned()
        }
    } else {
        linux_install(f, "git")
    };
    if f.is_xcrun_stub("git") {
        return CheckResult::fail(
            ID,
            "git is Apple's stub: it works once the command line tools are installed",
        )
        .fix(fix);
    }
    if let Some(t) = probe_trouble(f, ID, "git", "git") {
        return t.fix(fix);
    }
    match &f.git {
        Some(g) => CheckResult::ok(
            ID,
            format!(
                "git {}",
                g.version.as_deref().unwrap_or("(version unknown)")
            ),
        )
        .detail(g.path.display().to_string()),
        None => CheckResult::fail(ID, "git is not installed").fix(fix),
    }
}

pub fn check_python(f: &Facts) -> CheckResult {
    const ID: &str = "python";
    let fix = if is_mac(f) {
        if f.apple_silicon
            && f.homebrew
                .as_ref()
                .is_some_and(|b| b.prefix.as_os_str() == "/usr/local")
        {
            "install native Homebrew first (see homebrew), then: /opt/homebrew/bin/brew install python@3.12".to_owned()
        } else if f.homebrew.is_none() {
            "install Homebrew (see homebrew), then: brew install python@3.12".to_owned()
        } else {
            "brew install python@3.12".to_owned()
        }
    } else {
        linux_install(f, "python3 python3-venv python3-pip")
    };
    let Some(p) = &f.python else {
        if f.is_xcrun_stub("python3") {
            return CheckResult::fail(
                ID,
                "python3 is Apple's stub: it works only once the command line tools are installed",
            )
            .detail("Install the command line tools (see xcode-clt), then your own Python.")
            .fix(fix);
        }
        if let Some(t) = probe_trouble(f, ID, "python", "python3") {
            return t.fix(fix);
        }
        return CheckResult::fail(ID, "no python3 on PATH").fix(fix);
    };
    let detail = format!("{} ({})", p.path.display(), p.machine);
    if f.apple_silicon && p.machine == "x86_64" {
        return CheckResult::fail(
            ID,
            format!("Python {} is x86_64 (runs under Rosetta)", p.version),
        )
        .detail(detail)
        .detail(
            "An Intel Python on Apple Silicon gets no MPS and only old Intel wheels of PyTorch.",
        )
        .fix(fix);
    }
    match major_minor(&p.version) {
        Some(mm) if mm < (3, 9) => {
            return CheckResult::fail(
                ID,
                format!(
                    "Python {} is too old for current PyTorch (3.9 or newer)",
                    p.version
                ),
            )
            .detail(detail)
            .fix(fix)
        }
        None => {
            return CheckResult::warn(ID, format!("unreadable Python version {:?}", p.version))
                .detail(detail)
        }
        Some((3, minor)) if is_mac(f) => {
            let mm = f.os_version.as_deref().and_then(major_minor);
            if let Some(set) = compat::for_mac(f.apple_silicon, mm).filter(|s| !s.has_python(minor))
            {
                return CheckResult::fail(
                    ID,
                    format!(
                        "Python {} has no wheels of {} (Python {})",
                        p.version,
                        set,
                        set.python_range()
                    ),
                )
                .detail(detail)
                .fix(fix);
            }
        }
        _ => {}
    }
    if p.apple_stub {
        return CheckResult::warn(ID, format!("Python {} is Apple's system Python", p.version))
            .detail(detail)
            .detail("It belongs to the command line tools; the book installs its own (Homebrew or conda).")
            .fix(fix);
    }
    CheckResult::ok(ID, format!("Python {} ({})", p.version, p.machine))
        .detail(p.path.display().to_string())
}

pub fn check_conda(f: &Facts) -> CheckResult {
    const ID: &str = "conda";
    let wants_conda = f
        .env_expected
        .as_ref()
        .is_some_and(|e| e.kind == EnvKind::Conda && e.from_manifest);
    if let Some(t) = probe_trouble(f, ID, "conda", "conda") {
        return t;
    }
    let Some(c) = &f.conda else {
        return if wants_conda {
            CheckResult::fail(
                ID,
                "conda is not installed, and ttm.toml asks for a conda environment",
            )
            .fix(if is_mac(f) {
                INSTALL_MINIFORGE_ARM64.to_owned()
            } else {
                "ttm setup --env conda".to_owned()
            })
        } else {
            CheckResult::skip(ID, "conda is not installed (optional: a venv works too)")
        };
    };
    let version = c
        .version
        .as_deref()
        .map(|v| format!("conda {v}"))
        .unwrap_or_else(|| "conda".into());
    let platform = c.platform.as_deref().unwrap_or("unknown platform");
    let detail = format!(
        "{}; base {}",
        c.path.display(),
        c.base_prefix
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "unknown".into())
    );
    if f.apple_silicon && platform == "osx-64" {
        let project_conda = f
            .env_expected
            .as_ref()
            .is_none_or(|e| e.kind == EnvKind::Conda);
        let arm64_env = f.env.as_ref().is_some_and(|e| {
            e.flavor == EnvFlavor::Conda && e.python_machine.as_deref() == Some("arm64")
        });
        if !project_conda || arm64_env {
            return CheckResult::warn(
                ID,
                format!("{version} is for Intel Macs (osx-64) on Apple Silicon"),
            )
            .detail(detail)
            .detail(if arm64_env {
                "The project env is arm64 (made with CONDA_SUBDIR=osx-arm64); keep that variable for every env you make."
            } else {
                "The project does not use it; an env it made would run under Rosetta."
            })
            .fix(INSTALL_MINIFORGE_ARM64);
        }
        return CheckResult::fail(
            ID,
            format!("{version} is for Intel Macs (osx-64) on Apple Silicon"),
        )
        .detail(detail)
        .detail("Every package it installs runs under Rosetta, and PyTorch gets no MPS.")
        .fix(format!("{INSTALL_MINIFORGE_ARM64}   (or make envs with CONDA_SUBDIR=osx-arm64: ttm setup does)"));
    }
    CheckResult::ok(ID, format!("{version} ({platform})")).detail(detail)
}

pub fn check_env(f: &Facts) -> CheckResult {
    const ID: &str = "env";
    let expected = f.env_expected.clone();
    let (kind, name) = expected
        .as_ref()
        .map(|e| (e.kind, e.name.as_str()))
        .unwrap_or((EnvKind::Conda, crate::manifest::DEFAULT_ENV_NAME));
    let why = expected
        .as_ref()
        .map(|e| format!("chosen: {}", e.reason))
        .unwrap_or_default();
    if kind == EnvKind::None {
        return CheckResult::skip(
            ID,
            "ttm.toml says no environment: packages go into python3 itself",
        );
    }
    let Some(e) = &f.env else {
        let what = if kind == EnvKind::Venv {
            let dir = expected
                .as_ref()
                .and_then(|e| e.prefix.clone())
                .unwrap_or_else(|| f.workspace.root.join(".venv"));
            format!("the venv {}", dir.display())
        } else {
            format!("the conda environment {name}")
        };
        let mut r = CheckResult::fail(ID, format!("{what} does not exist"))
            .detail(why)
            .fix(if kind == EnvKind::Venv {
                "ttm setup --env venv".to_owned()
            } else {
                format!("ttm setup --env conda --env-name {name}")
            });
        if kind == EnvKind::Conda && f.conda.is_none() {
            r = r.detail("conda is not installed; `ttm setup --env venv` makes a venv instead.");
        }
        return r.with_problems(f, "manifest");
    };
    let label = match e.flavor {
        EnvFlavor::Venv => format!("venv {}", e.prefix.display()),
        EnvFlavor::Conda => format!("conda env {}", e.name),
    };
    let flavor = if e.flavor == EnvFlavor::Venv {
        "venv"
    } else {
        "conda"
    };
    let mut r = match (&e.python_version, &e.python_machine) {
        (Some(v), Some(m)) if f.apple_silicon && m == "x86_64" => {
            CheckResult::fail(ID, format!("{label} is x86_64 (Python {v}): it runs under Rosetta"))
                .detail("Made by an Intel conda or Python; PyTorch in it cannot use MPS.")
                .fix(match e.flavor {
                    EnvFlavor::Conda => format!(
                        "conda env remove -n {} && CONDA_SUBDIR=osx-arm64 conda create -n {} python={} (ttm setup does this)",
                        e.name, e.name, crate::manifest::DEFAULT_PYTHON
                    ),
                    EnvFlavor::Venv => format!(
                        "with arm64 Python installed (see python): rm -rf {} && ttm setup --env venv",
                        crate::system::shell_quote(&e.prefix.display().to_string())
                    ),
                })
        }
        (Some(v), Some(m)) => CheckResult::ok(ID, format!("{label} (Python {v}, {m})")),
        _ => {
            let why_not = f
                .problems_of("env")
                .first()
                .map(|p| p.message.clone())
                .unwrap_or_else(|| format!("{} does not run", e.python.display()));
            CheckResult::fail(ID, format!("{label}: its python could not be asked about itself"))
                .detail(why_not)
                .fix(format!("ttm setup --env {flavor}   (it makes the environment again)"))
        }
    };
    r = r.detail(why).detail(e.python.display().to_string());
    r.with_problems(f, "manifest")
}

pub fn check_workspace(f: &Facts) -> CheckResult {
    const ID: &str = "workspace";
    let w = &f.workspace;
    let root = w.root.display().to_string();
    if let Some(b) = &w.blocked {
        return CheckResult::fail(ID, format!("cannot be used: {b}"))
            .fix("ttm doctor --workspace PATH (a folder), or move the file away");
    }
    if !w.exists {
        return CheckResult::warn(ID, format!("{root} does not exist yet")).fix("ttm setup");
    }
    if !w.missing_folders.is_empty() {
        return CheckResult::warn(
            ID,
            format!(
                "{root} lacks {}",
                w.missing_folders
                    .iter()
                    .map(|m| format!("{m}/"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .fix(format!(
            "mkdir -p {}",
            w.missing_folders
                .iter()
                .map(|m| crate::system::shell_quote(&w.root.join(m).display().to_string()))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let mut r = CheckResult::ok(ID, root);
    r = r.detail(format!(
        "ttm.toml {}, requirements.txt {}",
        if w.has_manifest { "present" } else { "absent" },
        if w.has_requirements {
            "present"
        } else {
            "absent"
        }
    ));
    r
}

pub fn check_torch(f: &Facts) -> CheckResult {
    const ID: &str = "torch";
    let python = match &f.env {
        Some(e) => crate::system::shell_quote(&e.python.display().to_string()),
        None => "python3".to_owned(),
    };
    let pip = format!("{python} -m pip install torch torchvision torchaudio");
    let wants_env = f
        .env_expected
        .as_ref()
        .map(|e| e.kind != EnvKind::None)
        .unwrap_or(true);
    let Some(t) = &f.torch else {
        if let Some(trouble) = probe_trouble(f, ID, "torch", "PyTorch") {
            return trouble;
        }
        return if wants_env && f.env.is_none() {
            CheckResult::fail(ID, "no project environment to look in").fix("ttm setup")
        } else {
            CheckResult::fail(ID, "could not ask Python about PyTorch").fix(pip)
        };
    };
    let Some(version) = &t.version else {
        let err = t.error.clone().unwrap_or_default();
        if !f.torch_broken() {
            return CheckResult::fail(ID, "PyTorch is not installed in the environment")
                .detail(err)
                .fix("ttm setup");
        }
        let mut r = CheckResult::fail(ID, format!("PyTorch is installed but does not import: {err}"))
            .detail("pip still lists it and answers \"Requirement already satisfied\": only a forced reinstall repairs it.")
            .fix(format!(
                "ttm setup --reinstall   (or: {python} -m pip install --force-reinstall --no-deps torch torchvision torchaudio)"
            ))
            .with_problems(f, "torch");
        if err.contains("have 'x86_64', need 'arm64'") || err.contains("incompatible architecture")
        {
            r = r.detail("An x86_64 build on Apple Silicon: the environment runs under Rosetta.");
        }
        return r;
    };
    if let Some(r) = numpy_mismatch(t, version, &python) {
        return r;
    }
    if is_mac(f) {
        if !f.apple_silicon {
            // PyTorch's MPS backend also runs on the AMD GPUs of some Intel Macs.
            return if t.mps_available == Some(true) {
                CheckResult::warn(
                    ID,
                    format!("PyTorch {version}, MPS available on an Intel Mac (AMD GPU)"),
                )
                .detail(format!(
                    "{} was the last release for Intel Macs.",
                    compat::INTEL_MAC
                ))
            } else {
                CheckResult::warn(
                    ID,
                    format!("PyTorch {version}, CPU only (no MPS on this Intel Mac)"),
                )
            };
        }
        let macos = f.os_version.as_deref().unwrap_or("?");
        let mm = f.os_version.as_deref().and_then(major_minor);
        let floor = compat::mps_floor(version);
        return match (t.mps_built, t.mps_available) {
            (Some(true), Some(true)) => CheckResult::ok(ID, format!("PyTorch {version}, MPS available")),
            (Some(true), _) if f.rosetta == Some(true) || f.env.as_ref().and_then(|e| e.python_machine.as_deref()) == Some("x86_64") => {
                CheckResult::fail(ID, format!("PyTorch {version} cannot use MPS: its Python is x86_64 and runs under Rosetta"))
                    .detail("An Intel (x86_64) Python on Apple Silicon never sees the GPU.")
                    .fix("make the environment again with arm64 Python (see env), then ttm setup")
            }
            (Some(true), _) if matches!((mm, floor), (Some(m), Some(fl)) if m < fl) => {
                let fl = floor.map(show).unwrap_or_default();
                CheckResult::fail(ID, format!("PyTorch {version} needs macOS {fl} for MPS; this Mac has macOS {macos}"))
                    .detail("MPS is built in but not available: the signature of a macOS too old for this torch.")
                    .fix(both_fixes(macos, compat::for_mac(true, mm)))
            }
            (Some(true), _) => CheckResult::fail(ID, format!("PyTorch {version} has MPS built in, but MPS is not available"))
                .detail(format!("macOS {macos} should run its MPS; a Python under Rosetta is the other known cause."))
                .fix(format!("{python} -m pip install --force-reinstall torch torchvision torchaudio")),
            (Some(false), _) => CheckResult::fail(ID, format!("PyTorch {version} was built without MPS"))
                .detail("Typically installed from a CUDA index URL, which has no Mac wheels.")
                .fix(pip.replace("pip install", "pip install --force-reinstall")),
            _ => CheckResult::warn(ID, format!("PyTorch {version}: could not tell whether MPS works")),
        };
    }
    let has_nvidia = f.gpus.iter().any(|g| g.vendor == "NVIDIA");
    match t.cuda_available {
        Some(true) => CheckResult::ok(
            ID,
            format!(
                "PyTorch {version}, CUDA {} available{}",
                t.cuda_version.as_deref().unwrap_or("?"),
                t.device_name
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        ),
        _ if has_nvidia => {
            CheckResult::fail(ID, format!("PyTorch {version} cannot use the NVIDIA GPU"))
                .detail(match &t.cuda_version {
                    None => "This torch was built without CUDA (a CPU-only wheel).".to_owned(),
                    Some(v) => format!("Built for CUDA {v}; the driver may be too old for it."),
                })
                .fix(pip.replace("pip install", "pip install --force-reinstall"))
        }
        _ => CheckResult::warn(
            ID,
            format!("PyTorch {version}, CPU only (no GPU it can use)"),
        ),
    }
}

/// A torch built against NumPy 1.x beside NumPy 2: `from_numpy` fails.
fn numpy_mismatch(t: &crate::platform::Torch, version: &str, python: &str) -> Option<CheckResult> {
    let numpy = t.numpy.as_deref()?;
    let numpy_2 = major_minor(numpy).is_some_and(|(major, _)| major >= 2);
    (numpy_2 && compat::needs_numpy_below_2(version)).then(|| {
        CheckResult::fail(
            "torch",
            format!("PyTorch {version} was built against NumPy 1.x, but numpy {numpy} is installed"),
        )
        .detail("\"A module that was compiled using NumPy 1.x cannot be run in NumPy 2\": torch.from_numpy fails.")
        .fix(format!("ttm setup   (or: {python} -m pip install 'numpy<2')"))
    })
}

pub fn check_gpu(f: &Facts) -> CheckResult {
    const ID: &str = "gpu";
    if let Some(t) = probe_trouble(f, ID, "gpu", "the GPU") {
        return t;
    }
    let first = f.torch_gpu();
    match f.os {
        Os::Macos if f.apple_silicon => match first {
            Some(g) => {
                let mut parts = vec![g.name.clone()];
                if let Some(c) = g.cores {
                    parts.push(format!("{c} GPU cores"));
                }
                if let Some(d) = &g.driver {
                    parts.push(d.clone());
                }
                if let Some(m) = f.memory_bytes {
                    parts.push(format!("{} unified memory", gib(m)));
                }
                CheckResult::ok(ID, parts.join(", "))
            }
            None => CheckResult::warn(ID, "system_profiler listed no GPU"),
        },
        Os::Macos => CheckResult::warn(
            ID,
            match first.filter(|g| g.name.contains("AMD") || g.name.contains("Radeon")) {
                Some(g) => format!(
                    "{}: MPS may use it, with PyTorch 2.2.2 at most (Intel Mac)",
                    g.name
                ),
                None => match first {
                    Some(g) => format!(
                        "{}: PyTorch cannot use it (MPS needs Apple Silicon or an AMD GPU)",
                        g.name
                    ),
                    None => "no GPU PyTorch can use".to_owned(),
                },
            },
        )
        .detail(
            f.gpus
                .iter()
                .map(|g| g.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Os::Linux => match first {
            Some(g) => CheckResult::ok(
                ID,
                format!(
                    "{}{}{}",
                    g.name,
                    g.memory_bytes
                        .map(|m| format!(", {}", gib(m)))
                        .unwrap_or_default(),
                    g.driver
                        .as_deref()
                        .map(|d| format!(", driver {d}"))
                        .unwrap_or_default()
                ),
            )
            .detail(if f.gpus.len() > 1 {
                format!("{} GPUs", f.gpus.len())
            } else {
                "1 GPU".into()
            }),
            None => CheckResult::warn(
                ID,
                "no NVIDIA GPU found (nvidia-smi absent): PyTorch will use the CPU",
            )
            .detail("With an NVIDIA GPU, install its driver; nvidia-smi comes with it."),
        },
        Os::Other => CheckResult::skip(ID, "unknown OS"),
    }
}

pub fn check_disk(f: &Facts) -> CheckResult {
    const ID: &str = "disk";
    if let Some(t) = probe_trouble(f, ID, "disk", "free disk space") {
        return t;
    }
    let Some(free) = f.disk_free_bytes else {
        return CheckResult::warn(ID, "could not measure free disk space (df not found)");
    };
    let r = if free < DISK_FAIL_BYTES {
        CheckResult::fail(
            ID,
            format!(
                "only {} free: PyTorch and its packages need about {}",
                gib(free),
                gib(DISK_FAIL_BYTES)
            ),
        )
        .fix("free some space (e.g. brew cleanup, conda clean --all), then run ttm doctor again")
    } else if free < DISK_WARN_BYTES {
        CheckResult::warn(
            ID,
            format!(
                "{} free: enough for PyTorch, tight for datasets and models",
                gib(free)
            ),
        )
    } else {
        CheckResult::ok(ID, format!("{} free", gib(free)))
    };
    r.detail(format!(
        "on the file system of {}",
        f.workspace.root.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Conda, Gpu, Homebrew, Python, Torch};

    fn ready_mac() -> Facts {
        Facts {
            os: Os::Macos,
            os_version: Some("14.5".into()),
            os_build: Some("23F79".into()),
            arch: Some("arm64".into()),
            process_arch: Some("arm64".into()),
            apple_silicon: true,
            rosetta: Some(false),
            chip: Some("Apple M1 Max".into()),
            memory_bytes: Some(64 * GIB),
            xcode_clt: Some("/Library/Developer/CommandLineTools".into()),
            homebrew: Some(Homebrew {
                path: "/opt/homebrew/bin/brew".into(),
                prefix: "/opt/homebrew".into(),
                version: Some("4.3.5".into()),
            }),
            python: Some(Python {
                path: "/opt/homebrew/bin/python3".into(),
                version: "3.12.4".into(),
                machine: "arm64".into(),
                apple_stub: false,
                in_env: false,
            }),
            conda: Some(Conda {
                path: "/c".into(),
                version: Some("24.11.3".into()),
                platform: Some("osx-arm64".into()),
                envs: vec![],
                base_prefix: None,
            }),
            torch: Some(Torch {
                version: Some("2.5.1".into()),
                error: None,
                installed: Some(true),
                numpy: None,
                mps_built: Some(true),
                mps_available: Some(true),
                cuda_built: Some(false),
                cuda_available: Some(false),
                cuda_version: None,
                device_name: None,
            }),
            gpus: vec![Gpu {
                name: "Apple M1 Max".into(),
                vendor: "Apple".into(),
                cores: Some(32),
                memory_bytes: None,
                driver: Some("Metal 3".into()),
            }],
            disk_free_bytes: Some(300 * GIB),
            ..Facts::default()
        }
    }

    fn status(results: &[CheckResult], id: &str) -> CheckStatus {
        results.iter().find(|r| r.id == id).unwrap().status
    }

    #[test]
    fn every_id_once_in_order() {
        let r = run_all(&Facts::default());
        assert_eq!(r.iter().map(|c| c.id).collect::<Vec<_>>(), IDS);
    }

    #[test]
    fn rosetta_python_and_conda_fail_on_apple_silicon() {
        let mut f = ready_mac();
        f.rosetta = Some(true);
        f.python.as_mut().unwrap().machine = "x86_64".into();
        f.conda.as_mut().unwrap().platform = Some("osx-64".into());
        f.homebrew.as_mut().unwrap().prefix = "/usr/local".into();
        let r = run_all(&f);
        for id in ["rosetta", "python", "conda", "homebrew"] {
            assert_eq!(status(&r, id), CheckStatus::Fail, "{id}");
        }
        assert!(r
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .all(|c| c.fix.is_some()));
        assert!(!ready(&r));
    }

    #[test]
    fn off_macos_the_mac_checks_skip() {
        let f = Facts {
            os: Os::Linux,
            os_version: Some("Ubuntu 22.04.4 LTS".into()),
            arch: Some("x86_64".into()),
            ..Facts::default()
        };
        let r = run_all(&f);
        for id in ["rosetta", "macos-version", "xcode-clt", "homebrew"] {
            assert_eq!(status(&r, id), CheckStatus::Skip, "{id}");
        }
        assert_eq!(
            check_git(&f).fix.as_deref(),
            Some("sudo apt-get install -y git")
        );
    }

    #[test]
    fn macos_versions() {
        let mut f = ready_mac();
        for (v, s) in [
            ("12.2.1", CheckStatus::Fail),
            ("13.6", CheckStatus::Warn),
            ("14.5", CheckStatus::Ok),
            ("15.1", CheckStatus::Ok),
            ("x", CheckStatus::Warn),
        ] {
            f.os_version = Some(v.into());
            assert_eq!(check_macos_version(&f).status, s, "{v}");
        }
    }

    #[test]
    fn torch_mps_signatures() {
        let mut f = ready_mac();
        assert_eq!(check_torch(&f).status, CheckStatus::Ok);
        f.torch.as_mut().unwrap().mps_available = Some(false);
        assert_eq!(check_torch(&f).status, CheckStatus::Fail);
        f.torch.as_mut().unwrap().mps_built = Some(false);
        assert!(check_torch(&f).summary.contains("without MPS"));
        f.torch = None;
        f.problems.push(crate::platform::Problem::new(
            "torch",
            "`python -I -B -c ...` timed out after 10s and was stopped",
        ));
        let r = check_torch(&f);
        assert_eq!(r.status, CheckStatus::Warn);
        assert!(r.summary.contains("timed out"), "{}", r.summary);
    }

    #[test]
    fn the_torch_table_decides_macos_and_torch() {
        let mut f = ready_mac();
        f.os_version = Some("13.6".into());
        f.torch.as_mut().unwrap().version = Some("2.10.0".into());
        f.torch.as_mut().unwrap().mps_available = Some(false);
        let t = check_torch(&f);
        assert_eq!(t.status, CheckStatus::Fail);
        assert!(t.summary.contains("needs macOS 14.0"), "{}", t.summary);
        let fix = t.fix.unwrap();
        assert!(
            fix.contains("update macOS") && fix.contains("torch==2.8.0"),
            "{fix}"
        );
        let m = check_macos_version(&f);
        assert_eq!(m.status, CheckStatus::Warn);
        assert!(
            m.summary.contains("PyTorch 2.10.0 needs macOS 14.0"),
            "{}",
            m.summary
        );

        // A NumPy-1 torch beside NumPy 2.
        let mut f = ready_mac();
        f.torch.as_mut().unwrap().version = Some("2.2.2".into());
        f.torch.as_mut().unwrap().numpy = Some("2.1.0".into());
        assert!(check_torch(&f).summary.contains("NumPy 1.x"));

        // An Intel Mac: Python 3.13 has no torch 2.2.2 wheels.
        let mut f = ready_mac();
        f.apple_silicon = false;
        f.python.as_mut().unwrap().machine = "x86_64".into();
        f.python.as_mut().unwrap().version = "3.13.1".into();
        let p = check_python(&f);
        assert_eq!(p.status, CheckStatus::Fail);
        assert!(p.summary.contains("3.8–3.12"), "{}", p.summary);
    }

    #[test]
    fn a_torch_that_does_not_import_fails_with_the_reinstall() {
        let mut f = ready_mac();
        let t = f.torch.as_mut().unwrap();
        t.version = None;
        t.error =
            Some("ImportError: dlopen(x): Library not loaded: @rpath/libtorch_cpu.dylib".into());
        let r = check_torch(&f);
        assert_eq!(r.status, CheckStatus::Fail);
        assert!(r
            .summary
            .ends_with("Library not loaded: @rpath/libtorch_cpu.dylib"));
        assert!(r.fix.unwrap().starts_with("ttm setup --reinstall"));
        f.torch.as_mut().unwrap().error =
            Some("ModuleNotFoundError: No module named 'torch'".into());
        f.torch.as_mut().unwrap().installed = Some(false);
        assert!(check_torch(&f).summary.contains("not installed"));
    }

    #[test]
    fn an_intel_conda_is_a_warning_once_the_env_is_arm64() {
        let mut f = ready_mac();
        f.conda.as_mut().unwrap().platform = Some("osx-64".into());
        assert_eq!(check_conda(&f).status, CheckStatus::Fail);
        f.env = Some(crate::platform::ProjectEnv {
            flavor: EnvFlavor::Conda,
            name: "torch_metal".into(),
            prefix: "/c/envs/torch_metal".into(),
            python: "/c/envs/torch_metal/bin/python".into(),
            python_version: Some("3.10.16".into()),
            python_machine: Some("arm64".into()),
        });
        assert_eq!(check_conda(&f).status, CheckStatus::Warn);
        f.env.as_mut().unwrap().python_machine = Some("x86_64".into());
        assert_eq!(check_conda(&f).status, CheckStatus::Fail);
        assert_eq!(check_env(&f).status, CheckStatus::Fail);
    }

    #[test]
    fn disk_thresholds() {
        let mut f = ready_mac();
        f.disk_free_bytes = Some(GIB);
        assert_eq!(check_disk(&f).status, CheckStatus::Fail);
        f.disk_free_bytes = Some(10 * GIB);
        assert_eq!(check_disk(&f).status, CheckStatus::Warn);
        f.disk_free_bytes = None;
        assert_eq!(check_disk(&f).status, CheckStatus::Warn);
    }
}
