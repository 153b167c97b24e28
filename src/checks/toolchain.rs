//! The tools the book installs first: the command line tools, Homebrew,
//! git and a Python to make environments from.

use super::{is_mac, linux_install, probe_trouble, CheckId, CheckResult};
use crate::compat::{self, major_minor};
use crate::install::{self, INSTALL_HOMEBREW};
use crate::platform::Facts;

pub fn check_xcode_clt(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::XcodeClt;
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
    const ID: CheckId = CheckId::Homebrew;
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
            .detail("From a native (arm64) terminal: keep the list of what it has, install Homebrew in /opt/homebrew, install the list again there.")
            .fix(format!("brew bundle dump --file ~/Brewfile && arch -arm64 {INSTALL_HOMEBREW} && /opt/homebrew/bin/brew bundle --file ~/Brewfile"));
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
    const ID: CheckId = CheckId::Git;
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
    const ID: CheckId = CheckId::Python;
    let fix = if is_mac(f) {
        if f.apple_silicon
            && f.homebrew
                .as_ref()
                .is_some_and(|b| b.prefix.as_os_str() == "/usr/local")
        {
            format!(
                "/opt/homebrew/bin/{}",
                install::brew_install_default_python()
            )
        } else {
            // Without Homebrew, its row (just above) says how to get it first.
            install::brew_install_default_python()
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
            .detail(
                "Install the command line tools (see Command Line Tools), then your own Python.",
            )
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
