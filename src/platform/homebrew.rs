//! Homebrew: `brew --prefix` and `brew --version`. The prefix tells a native
//! Apple Silicon Homebrew (/opt/homebrew) from an Intel one (/usr/local),
//! which on Apple Silicon means it was installed from a Rosetta terminal.
//! A Mac whose shell profile lacks `brew shellenv` has brew installed but
//! not on PATH, so the standard prefixes are tried too.

use std::path::{Path, PathBuf};

use super::probe::{Detected, Probe, ProbeFailure, Problem};
use super::Homebrew;
use crate::system::Cmd;

pub fn detect(probe: &Probe) -> Detected<Homebrew> {
    let path = probe.sys.which("brew").or_else(|| {
        ["/opt/homebrew/bin/brew", "/usr/local/bin/brew"]
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .map(Path::to_path_buf)
    });
    let Some(path) = path else {
        return Detected::none();
    };
    // `brew --version` is the slow one; both run at once.
    let (prefix, version) = std::thread::scope(|s| {
        let version = s.spawn(|| probe.text(Cmd::new(&path).arg("--version")));
        let prefix = probe.text(Cmd::new(&path).arg("--prefix"));
        (
            prefix,
            version.join().unwrap_or(Err(ProbeFailure::NotFound)),
        )
    });
    let prefix = match prefix {
        Ok(text) if !text.trim().is_empty() => PathBuf::from(text.trim()),
        Ok(_) => {
            let mut d = Detected::none();
            d.problems
                .push(Problem::new("homebrew", "`brew --prefix` printed nothing"));
            return d;
        }
        Err(f) => return Detected::failed("homebrew", "brew", f),
    };
    let mut d = Detected::none();
    let version = match version {
        Ok(text) => parse_brew_version(&text),
        Err(f) => {
            d.note("homebrew", "brew", f);
            None
        }
    };
    d.value = Some(Homebrew {
        path,
        prefix,
        version,
    });
    d
}

/// `brew --version`: "Homebrew 4.3.5\n…" → "4.3.5".
pub fn parse_brew_version(text: &str) -> Option<String> {
    let first = text.lines().next()?.trim();
    let v = first.strip_prefix("Homebrew ")?.split_whitespace().next()?;
    v.chars().next()?.is_ascii_digit().then(|| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn brew_versions() {
        assert_eq!(
            parse_brew_version("Homebrew 4.6.18\n").as_deref(),
            Some("4.6.18")
        );
        assert_eq!(
            parse_brew_version("Homebrew 4.0.10\nHomebrew/homebrew-core (git revision 1f1b2b; last commit 2023-03-28)\n").as_deref(),
            Some("4.0.10")
        );
        assert_eq!(parse_brew_version("brew: command not found"), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse_brew_version(&s); }
    }
}
