//! The Xcode command line tools (`xcode-select -p`) and git (`git --version`).
//! On a fresh Mac, `/usr/bin/git` is Apple's stub: it fails with the xcrun
//! error until the command line tools are installed.

use std::path::PathBuf;

use super::probe::{Detected, Probe, ProbeFailure};
use super::Tool;
use crate::system::Cmd;

pub fn detect_xcode_clt(probe: &Probe) -> Detected<PathBuf> {
    match probe.text_with_stderr(Cmd::new("xcode-select").arg("-p")) {
        Ok((out, _)) => {
            let path = out.trim();
            if path.is_empty() {
                Detected::none()
            } else {
                Detected::found(PathBuf::from(path))
            }
        }
        // "xcode-select: error: unable to get active developer directory…": not installed.
        Err(ProbeFailure::Failed(msg))
            if msg
                .to_lowercase()
                .contains("unable to get active developer directory") =>
        {
            Detected::none()
        }
        Err(f) => Detected::failed("xcode-select", "xcode-select", f),
    }
}

pub fn detect_git(probe: &Probe) -> Detected<Tool> {
    let Some(path) = probe.sys.which("git") else {
        return Detected::none();
    };
    if probe.is_apple_stub_not_to_run(&path) {
        return Detected::failed("git", "git", ProbeFailure::XcrunStub);
    }
    match probe.text(Cmd::new(&path).arg("--version")) {
        Ok(text) => Detected::found(Tool {
            path,
            version: parse_git_version(&text),
        }),
        Err(f) => Detected::failed("git", "git", f),
    }
}

/// `git --version`: "git version 2.39.3 (Apple Git-145)" → "2.39.3".
pub fn parse_git_version(text: &str) -> Option<String> {
    let rest = text.trim().strip_prefix("git version ")?;
    let v = rest.split_whitespace().next()?;
    v.chars().next()?.is_ascii_digit().then(|| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn git_versions() {
        assert_eq!(
            parse_git_version("git version 2.39.3 (Apple Git-145)\n").as_deref(),
            Some("2.39.3")
        );
        assert_eq!(
            parse_git_version("git version 2.34.1").as_deref(),
            Some("2.34.1")
        );
        assert_eq!(parse_git_version("xcrun: error"), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse_git_version(&s); }
    }
}
