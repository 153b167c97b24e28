//! The doctor's checks: facts in, one `CheckResult` per check id out.
//!
//! Each check is a pure function of [`Facts`], so every verdict can be tested
//! without a machine. The ids and their order are part of the interface
//! contract (DESIGN.md): all 14 are always present; `skip` where a check does
//! not apply (Homebrew on Linux, the command line tools off macOS).
//!
//! The checks live by group: [`system`] (os, arch, rosetta, macos-version),
//! [`toolchain`] (xcode-clt, homebrew, git, python), [`env`] (conda, env,
//! workspace), [`torch`], [`hardware`] (gpu, disk); [`report`] renders them
//! as the Markdown report of `ttm doctor --report`.

mod env;
mod hardware;
pub mod report;
mod system;
mod toolchain;
mod torch;

#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::platform::{Facts, Os};

pub use env::{check_conda, check_env, check_workspace};
pub use hardware::{check_disk, check_gpu, DISK_FAIL_BYTES, DISK_WARN_BYTES};
pub use system::{check_arch, check_macos_version, check_os, check_rosetta};
pub use toolchain::{check_git, check_homebrew, check_python, check_xcode_clt};
pub use torch::check_torch;

const GIB: u64 = 1 << 30;

/// One of the doctor's checks. [`CheckId::ALL`] is the order they are shown
/// in; [`CheckId::as_str`] the id `--json` prints (`"macos-version"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    Os,
    Arch,
    Rosetta,
    MacosVersion,
    XcodeClt,
    Homebrew,
    Git,
    Python,
    Conda,
    Env,
    Workspace,
    Torch,
    Gpu,
    Disk,
}

impl CheckId {
    /// Every check, in the order they are shown.
    pub const ALL: [CheckId; 14] = [
        CheckId::Os,
        CheckId::Arch,
        CheckId::Rosetta,
        CheckId::MacosVersion,
        CheckId::XcodeClt,
        CheckId::Homebrew,
        CheckId::Git,
        CheckId::Python,
        CheckId::Conda,
        CheckId::Env,
        CheckId::Workspace,
        CheckId::Torch,
        CheckId::Gpu,
        CheckId::Disk,
    ];

    /// The id as the interface contract spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Os => "os",
            CheckId::Arch => "arch",
            CheckId::Rosetta => "rosetta",
            CheckId::MacosVersion => "macos-version",
            CheckId::XcodeClt => "xcode-clt",
            CheckId::Homebrew => "homebrew",
            CheckId::Git => "git",
            CheckId::Python => "python",
            CheckId::Conda => "conda",
            CheckId::Env => "env",
            CheckId::Workspace => "workspace",
            CheckId::Torch => "torch",
            CheckId::Gpu => "gpu",
            CheckId::Disk => "disk",
        }
    }

    /// What `ttm doctor` calls it: words a newcomer knows, not the id.
    pub fn label(self) -> &'static str {
        match self {
            CheckId::Os => "Operating system",
            CheckId::Arch => "Processor",
            CheckId::Rosetta => "Rosetta",
            CheckId::MacosVersion => "macOS version",
            CheckId::XcodeClt => "Command Line Tools",
            CheckId::Homebrew => "Homebrew",
            CheckId::Git => "git",
            CheckId::Python => "Python",
            CheckId::Conda => "conda",
            CheckId::Env => "Environment",
            CheckId::Workspace => "Workspace",
            CheckId::Torch => "PyTorch",
            CheckId::Gpu => "GPU",
            CheckId::Disk => "Disk space",
        }
    }

    /// A check only a Mac can pass (skipped elsewhere: "not a Mac").
    pub fn mac_only(self) -> bool {
        matches!(
            self,
            CheckId::Rosetta | CheckId::MacosVersion | CheckId::XcodeClt | CheckId::Homebrew
        )
    }

    /// Run this check over the facts.
    pub fn run(self, f: &Facts) -> CheckResult {
        match self {
            CheckId::Os => check_os(f),
            CheckId::Arch => check_arch(f),
            CheckId::Rosetta => check_rosetta(f),
            CheckId::MacosVersion => check_macos_version(f),
            CheckId::XcodeClt => check_xcode_clt(f),
            CheckId::Homebrew => check_homebrew(f),
            CheckId::Git => check_git(f),
            CheckId::Python => check_python(f),
            CheckId::Conda => check_conda(f),
            CheckId::Env => check_env(f),
            CheckId::Workspace => check_workspace(f),
            CheckId::Torch => check_torch(f),
            CheckId::Gpu => check_gpu(f),
            CheckId::Disk => check_disk(f),
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl CheckStatus {
    /// "ok", "warn", "fail", "skip": as `--json` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub id: CheckId,
    pub status: CheckStatus,
    /// One line: what was found.
    pub summary: String,
    /// More: paths, versions, why it matters.
    pub detail: Option<String>,
    /// The command (or the action) that fixes it.
    pub fix: Option<String>,
}

impl CheckResult {
    pub fn new(id: CheckId, status: CheckStatus, summary: impl Into<String>) -> CheckResult {
        CheckResult {
            id,
            status,
            summary: summary.into(),
            detail: None,
            fix: None,
        }
    }
    fn ok(id: CheckId, summary: impl Into<String>) -> CheckResult {
        CheckResult::new(id, CheckStatus::Ok, summary)
    }
    fn warn(id: CheckId, summary: impl Into<String>) -> CheckResult {
        CheckResult::new(id, CheckStatus::Warn, summary)
    }
    fn fail(id: CheckId, summary: impl Into<String>) -> CheckResult {
        CheckResult::new(id, CheckStatus::Fail, summary)
    }
    fn skip(id: CheckId, summary: impl Into<String>) -> CheckResult {
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

/// Run every check, in [`CheckId::ALL`] order.
pub fn run_all(facts: &Facts) -> Vec<CheckResult> {
    CheckId::ALL.iter().map(|id| id.run(facts)).collect()
}

/// Ready: no check failed.
pub fn ready(results: &[CheckResult]) -> bool {
    results.iter().all(|r| r.status != CheckStatus::Fail)
}

/// How many checks failed and warned: "Ready, 2 warnings", "Not ready: 1 problem".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub fails: usize,
    pub warns: usize,
}

impl Tally {
    pub fn of(results: &[CheckResult]) -> Tally {
        let count = |s: CheckStatus| results.iter().filter(|r| r.status == s).count();
        Tally {
            fails: count(CheckStatus::Fail),
            warns: count(CheckStatus::Warn),
        }
    }

    pub fn ready(self) -> bool {
        self.fails == 0
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        if self.fails == 0 {
            if self.warns == 0 {
                f.write_str("Ready")
            } else {
                write!(f, "Ready, {}", plural(self.warns, "warning"))
            }
        } else {
            write!(f, "Not ready: {}", plural(self.fails, "problem"))?;
            if self.warns > 0 {
                write!(f, ", {}", plural(self.warns, "warning"))?;
            }
            Ok(())
        }
    }
}

fn is_mac(f: &Facts) -> bool {
    f.os == Os::Macos
}

/// The first problem of a probe, if it timed out or printed garbage: a warn, never a fail.
fn probe_trouble(f: &Facts, id: CheckId, probe: &str, what: &str) -> Option<CheckResult> {
    let p = f.problems_of(probe);
    let first = p.first()?;
    Some(
        CheckResult::warn(id, format!("could not check {what}: {}", first.message))
            .with_problems(f, probe),
    )
}

/// How to install `packages` on this Linux (its distribution from os-release).
fn linux_install(f: &Facts, packages: &str) -> String {
    crate::install::linux_install(f.os_version.as_deref().unwrap_or(""), packages)
}

fn gib(bytes: u64) -> String {
    let g = bytes as f64 / GIB as f64;
    if g >= 10.0 {
        format!("{g:.0} GiB")
    } else {
        format!("{g:.1} GiB")
    }
}
