//! The machine itself: which OS and version, which hardware, Rosetta.

use super::{gib, is_mac, CheckId, CheckResult};
use crate::compat::{self, major_minor, show, TorchSet};
use crate::platform::{Facts, Os};

const LEAVE_ROSETTA: &str = "arch -arm64 /bin/zsh -l";
const LEAVE_ROSETTA_FOR_GOOD: &str = "For good: in Finder, Get Info on your terminal app, untick \"Open using Rosetta\", and open a new terminal.";

pub fn check_os(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::Os;
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
                .detail("Run ttm on a Mac, or on Linux with an NVIDIA GPU.")
            } else {
                CheckResult::fail(ID, "could not tell which OS this is")
                    .with_problems(f, "uname")
                    .detail("The system folders are not on PATH.")
                    .fix("export PATH=\"/usr/bin:/bin:$PATH\"")
            }
        }
    }
}

pub fn check_arch(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::Arch;
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
    const ID: CheckId = CheckId::Rosetta;
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
            .detail(LEAVE_ROSETTA_FOR_GOOD)
            .fix(LEAVE_ROSETTA),
        _ => CheckResult::ok(ID, "native arm64 terminal, not under Rosetta"),
    }
}

pub fn check_macos_version(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::MacosVersion;
    const UPDATE: &str = "softwareupdate --list";
    const UPDATE_BY_HAND: &str = "Or: System Settings > General > Software Update.";
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
        .detail(UPDATE_BY_HAND)
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
            .detail(keep_macos(v, here))
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
        return r.detail(UPDATE_BY_HAND).fix(UPDATE);
    }
    CheckResult::ok(ID, format!("macOS {v} supports PyTorch's MPS backend"))
        .detail(format!("ttm setup installs {newest}."))
}

/// The installed torch's version, when it imports.
pub(super) fn installed_torch(f: &Facts) -> Option<&str> {
    f.torch.as_ref()?.version.as_deref()
}

/// The command that gets MPS back: `ttm setup` installs the newest torch
/// with MPS on this macOS where there is one, else update macOS.
pub(super) fn both_fixes(_v: &str, here: Option<TorchSet>) -> String {
    match here {
        Some(_) => "ttm setup".to_owned(),
        None => "softwareupdate --list".to_owned(),
    }
}

/// The detail beside [`both_fixes`]: what `ttm setup` installs, and the
/// other way (update macOS).
pub(super) fn keep_macos(v: &str, here: Option<TorchSet>) -> String {
    match here {
        Some(h) => format!(
            "ttm setup installs {h}, the newest with MPS on macOS {v} (pip install {}); or update macOS: softwareupdate --list.",
            h.pins().iter().map(|p| crate::system::shell_quote(p)).collect::<Vec<_>>().join(" ")
        ),
        None => "Update macOS: softwareupdate --list, or System Settings > General > Software Update.".to_owned(),
    }
}
