//! About how much `pip install` will download, for the plan's summary: a
//! newcomer about to fetch PyTorch should know whether it is 80 MB or
//! several GB before saying Proceed.
//!
//! The numbers are PyTorch's own wheels, as `pip download --no-deps
//! --only-binary=:all:` reported them on 2026-12-02 (Python 3.12 wheels):
//! - macOS arm64: torch 2.11.0 80.6 MB, torchvision 0.26.0 1.9 MB,
//!   torchaudio 2.11.0 0.7 MB;
//! - macOS x86_64 (Intel Macs): torch 2.2.2 150.8 MB;
//! - Linux x86_64: torch 2.11.0 530.7 MB (2.9.1: 899.7 MB). On Linux pip
//!   adds NVIDIA's CUDA wheels (cuDNN, cuBLAS, …) as dependencies; their
//!   size was not measured, so the summary says they come on top.
//!
//! JupyterLab and the packages pip adds come on top everywhere.

use crate::platform::{Facts, Os};

/// One line for the plan's summary, or None where ttm has no number.
pub fn estimate(facts: &Facts) -> Option<String> {
    let arch = facts.arch.as_deref().unwrap_or("");
    match facts.os {
        Os::Macos if !facts.apple_silicon => Some(
            "about 155 MB for PyTorch (torch 2.2.2 for Intel Macs is 151 MB), plus JupyterLab".to_owned(),
        ),
        Os::Macos => Some(
            "about 85 MB for PyTorch (torch 2.11.0 for Apple Silicon is 81 MB), plus JupyterLab".to_owned(),
        ),
        Os::Linux | Os::Other if arch == "x86_64" => Some(
            "about 530 MB for torch (2.11.0 for Linux x86_64), plus the NVIDIA CUDA wheels pip adds to it, plus JupyterLab".to_owned(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_gets_its_own_number() {
        let mac = Facts {
            os: Os::Macos,
            apple_silicon: true,
            arch: Some("arm64".into()),
            ..Facts::default()
        };
        assert!(estimate(&mac)
            .unwrap()
            .starts_with("about 85 MB for PyTorch"));
        let intel = Facts {
            os: Os::Macos,
            arch: Some("x86_64".into()),
            ..Facts::default()
        };
        assert!(estimate(&intel).unwrap().contains("155 MB"));
        let linux = Facts {
            os: Os::Linux,
            arch: Some("x86_64".into()),
            ..Facts::default()
        };
        assert!(estimate(&linux).unwrap().contains("NVIDIA CUDA wheels"));
        let arm = Facts {
            os: Os::Linux,
            arch: Some("aarch64".into()),
            ..Facts::default()
        };
        assert_eq!(estimate(&arm), None);
    }
}
