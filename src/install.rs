//! How things get installed, written once: the commands the doctor's fixes
//! name and the ones setup runs (Homebrew's installer, Miniforge, the
//! Homebrew Python, a Linux distribution's package manager).

/// Homebrew's official installer script.
pub const HOMEBREW_INSTALL_URL: &str =
    "https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh";

/// Homebrew's install line, as its home page gives it.
pub const INSTALL_HOMEBREW: &str = r#"/bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)""#;

/// Miniforge for Apple Silicon (an arm64 conda).
pub const INSTALL_MINIFORGE_ARM64: &str = "curl -fsSLO https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-MacOSX-arm64.sh && bash Miniforge3-MacOSX-arm64.sh";

/// Miniforge's installer for the machine it runs on (Linux or macOS, any
/// architecture: the release names its files after `uname` and `uname -m`),
/// as conda-forge's README gives it; `-b` installs to `~/miniforge3` without
/// asking or editing shell files (ttm finds conda there).
pub const INSTALL_MINIFORGE_ANY: &str = "curl -fsSLo Miniforge3.sh https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-$(uname)-$(uname -m).sh && bash Miniforge3.sh -b";

/// Miniforge through Homebrew (its cask), on a Mac.
pub const BREW_INSTALL_MINIFORGE: &str = "brew install miniforge";

/// How to install conda here: Homebrew's cask on a Mac, the installer elsewhere.
pub fn install_miniforge(mac: bool) -> &'static str {
    if mac {
        BREW_INSTALL_MINIFORGE
    } else {
        INSTALL_MINIFORGE_ANY
    }
}

/// The Python Homebrew installs when none is asked for (`python@3.12`).
pub const BREW_DEFAULT_PYTHON: &str = "3.12";

/// `python@3.12`: Homebrew's formula for a Python `major.minor`.
pub fn brew_python_formula(minor: &str) -> String {
    format!("python@{minor}")
}

/// `brew install python@3.12`, the default Homebrew Python.
pub fn brew_install_default_python() -> String {
    format!("brew install {}", brew_python_formula(BREW_DEFAULT_PYTHON))
}

/// `sudo apt-get install -y a b`.
pub fn apt_get_install(packages: &str) -> String {
    format!("sudo apt-get install -y {packages}")
}

/// How to install `packages` on the Linux distribution `distro` (os-release's PRETTY_NAME).
pub fn linux_install(distro: &str, packages: &str) -> String {
    if distro.contains("Ubuntu") || distro.contains("Debian") {
        apt_get_install(packages)
    } else if distro.contains("Fedora") || distro.contains("Red Hat") || distro.contains("Rocky") {
        format!("sudo dnf install -y {packages}")
    } else {
        format!("install {packages} with your distribution's package manager")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_lines() {
        assert_eq!(brew_install_default_python(), "brew install python@3.12");
        assert!(INSTALL_HOMEBREW.contains(HOMEBREW_INSTALL_URL));
        assert_eq!(
            linux_install("Ubuntu 22.04.4 LTS", "git"),
            "sudo apt-get install -y git"
        );
        assert_eq!(
            linux_install("Fedora Linux 40", "git"),
            "sudo dnf install -y git"
        );
        assert!(linux_install("Arch Linux", "git").starts_with("install git with"));
        assert_eq!(install_miniforge(true), "brew install miniforge");
        let linux = install_miniforge(false);
        assert!(linux.contains("Miniforge3-$(uname)-$(uname -m).sh") && linux.ends_with(" -b"));
        assert!(!linux.contains("brew"));
    }
}
