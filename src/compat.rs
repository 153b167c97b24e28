//! Which PyTorch fits which Mac: the one table ttm knows, with its sources.
//!
//! The doctor's `macos-version` and `torch` checks read it (is the installed
//! torch's MPS usable on this macOS?), and setup picks from it the set it
//! writes into `requirements.txt` (the newest that gives this Mac a working
//! MPS). Nowhere else in ttm are torch versions or macOS floors written down.
//!
//! Sources (checked 2026-12):
//! - MPS needed macOS 12.3 at launch (torch 1.12; pytorch#77263).
//! - torch 2.5 dropped the 12.3-specific paths (pytorch#133141); torch 2.5.1
//!   finds no MPS device on macOS 12.7.6, "it should have said that you need
//!   MacOS 13.0" (a maintainer, pytorch#139425). So 2.4.1 is the last with
//!   MPS on macOS 12.3–12.x.
//! - torch 2.9 and later need macOS 14.0 for MPS (pytorch#162921, #163515
//!   "PyTorch needs MacOS-14 or newer to use MPS"); a 2.10 build on macOS
//!   13.7.4 has no MPS (pytorch#164943); Apple's PyTorch page lists macOS
//!   14.0+ and Python 3.10+ for 2.11. So 2.8.0 is the last with MPS on 13.x.
//! - The wheels still install on older macOS (2.11's tag is
//!   `macosx_11_0_arm64`): pip never refuses; only MPS is missing.
//! - Matching releases: 2.11.0 / torchvision 0.26.0 / torchaudio 2.11.0
//!   (pytorch/executorch#18107), 2.10.0 / 0.25.0 / 2.10.0 (executorch#16719),
//!   2.8.0 / 0.23.0 / 2.8.0, 2.4.1 / 0.19.1 / 2.4.1, 2.2.2 / 0.17.2 / 2.2.2
//!   (each release's notes on pytorch.org).
//! - Intel Macs: 2.2.2 is the last release with x86_64 macOS wheels, for
//!   Python 3.8–3.12 (a PyTorch maintainer, pytorch#161614). torch before 2.4
//!   was built against NumPy 1.x ("A module that was compiled using NumPy 1.x
//!   cannot be run in NumPy 2…", pytorch#107302 and #131668): pin `numpy<2`.

use std::fmt;

/// One torch release and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TorchSet {
    pub torch: &'static str,
    pub torchvision: &'static str,
    pub torchaudio: &'static str,
    /// The oldest and newest Python minor (3.x) with wheels.
    pub python: (u32, u32),
    /// `numpy<2`: built against NumPy 1.x.
    pub numpy_below_2: bool,
    /// The oldest macOS on which its MPS backend works.
    pub mps_macos: (u32, u32),
    /// Has x86_64 macOS wheels (Intel Macs).
    pub intel_mac: bool,
}

/// Newest first. Setup takes the first that fits; the doctor compares with it.
pub const TABLE: [TorchSet; 4] = [
    TorchSet {
        torch: "2.11.0",
        torchvision: "0.26.0",
        torchaudio: "2.11.0",
        python: (10, 14),
        numpy_below_2: false,
        mps_macos: (14, 0),
        intel_mac: false,
    },
    TorchSet {
        torch: "2.8.0",
        torchvision: "0.23.0",
        torchaudio: "2.8.0",
        python: (9, 13),
        numpy_below_2: false,
        mps_macos: (13, 0),
        intel_mac: false,
    },
    TorchSet {
        torch: "2.4.1",
        torchvision: "0.19.1",
        torchaudio: "2.4.1",
        python: (8, 12),
        numpy_below_2: false,
        mps_macos: (12, 3),
        intel_mac: false,
    },
    TorchSet {
        torch: "2.2.2",
        torchvision: "0.17.2",
        torchaudio: "2.2.2",
        python: (8, 12),
        numpy_below_2: true,
        mps_macos: (12, 3),
        intel_mac: true,
    },
];

/// The Python minors (3.x) some set in [`TABLE`] has wheels for: (8, 14)
/// is 3.8 to 3.14. A Python outside them gets no PyTorch from pip.
pub fn python_minors() -> (u32, u32) {
    let lo = TABLE.iter().map(|t| t.python.0).min().unwrap_or(8);
    let hi = TABLE.iter().map(|t| t.python.1).max().unwrap_or(14);
    (lo, hi)
}

/// The last set for Intel Macs.
pub const INTEL_MAC: TorchSet = TABLE[3];

impl TorchSet {
    /// The requirement lines: `torch==2.2.2`, …, and `numpy<2` where needed.
    pub fn pins(&self) -> Vec<String> {
        let mut v = vec![
            format!("torch=={}", self.torch),
            format!("torchvision=={}", self.torchvision),
            format!("torchaudio=={}", self.torchaudio),
        ];
        if self.numpy_below_2 {
            v.push("numpy<2".to_owned());
        }
        v
    }

    /// Whether it has wheels for Python 3.`minor`.
    pub fn has_python(&self, minor: u32) -> bool {
        (self.python.0..=self.python.1).contains(&minor)
    }

    /// "3.10–3.14"
    pub fn python_range(&self) -> String {
        format!("3.{}–3.{}", self.python.0, self.python.1)
    }
}

impl fmt::Display for TorchSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "torch {} / torchvision {} / torchaudio {}",
            self.torch, self.torchvision, self.torchaudio
        )?;
        if self.numpy_below_2 {
            write!(f, " with numpy<2")?;
        }
        Ok(())
    }
}

/// "14.5" → (14, 5); "10.15.7" → (10, 15); "2.5.1+cpu" → (2, 5).
pub fn major_minor(v: &str) -> Option<(u32, u32)> {
    let mut it = v.trim().split(['.', '+']);
    let major = it.next()?.parse().ok()?;
    let minor = it
        .next()
        .map(|m| {
            let digits: String = m.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().unwrap_or(0)
        })
        .unwrap_or(0);
    Some((major, minor))
}

/// "(14, 0)" as "14.0".
pub fn show(v: (u32, u32)) -> String {
    format!("{}.{}", v.0, v.1)
}

/// The oldest macOS on which torch `version` (any release, not only the
/// table's) has a working MPS. None for an unreadable version.
pub fn mps_floor(version: &str) -> Option<(u32, u32)> {
    let v = major_minor(version)?;
    Some(if v >= (2, 9) {
        (14, 0)
    } else if v >= (2, 5) {
        (13, 0)
    } else {
        (12, 3)
    })
}

/// Whether torch `version` was built against NumPy 1.x.
pub fn needs_numpy_below_2(version: &str) -> bool {
    major_minor(version).is_some_and(|v| v < (2, 4))
}

/// The set setup installs on a Mac: on Apple Silicon the newest whose MPS
/// works on `macos` (None: older than any MPS floor); on an Intel Mac the
/// last Intel set, whatever the macOS.
pub fn for_mac(apple_silicon: bool, macos: Option<(u32, u32)>) -> Option<TorchSet> {
    if !apple_silicon {
        return Some(INTEL_MAC);
    }
    let Some(macos) = macos else {
        return Some(TABLE[0]);
    };
    TABLE
        .iter()
        .find(|s| !s.intel_mac && s.mps_macos <= macos)
        .copied()
}

/// The oldest macOS for MPS at all.
pub fn oldest_mps_macos() -> (u32, u32) {
    TABLE.iter().map(|s| s.mps_macos).min().unwrap_or((12, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_set_that_has_mps_on_this_macos() {
        assert_eq!(for_mac(true, Some((14, 5))).unwrap().torch, "2.11.0");
        assert_eq!(for_mac(true, Some((13, 6))).unwrap().torch, "2.8.0");
        assert_eq!(for_mac(true, Some((12, 7))).unwrap().torch, "2.4.1");
        assert_eq!(for_mac(true, Some((12, 2))), None);
        let intel = for_mac(false, Some((14, 5))).unwrap();
        assert_eq!(
            intel.pins(),
            [
                "torch==2.2.2",
                "torchvision==0.17.2",
                "torchaudio==2.2.2",
                "numpy<2"
            ]
        );
        assert!(intel.has_python(12) && !intel.has_python(13));
        assert_eq!(oldest_mps_macos(), (12, 3));
    }

    #[test]
    fn floors_of_any_release() {
        assert_eq!(mps_floor("2.10.0"), Some((14, 0)));
        assert_eq!(mps_floor("2.9.1+cu126"), Some((14, 0)));
        assert_eq!(mps_floor("2.5.1"), Some((13, 0)));
        assert_eq!(mps_floor("2.2.2"), Some((12, 3)));
        assert_eq!(mps_floor("garbage"), None);
        assert!(needs_numpy_below_2("2.2.2") && !needs_numpy_below_2("2.4.1"));
        // Every set agrees with the rule for any release.
        for s in TABLE {
            assert_eq!(mps_floor(s.torch), Some(s.mps_macos), "{s}");
            assert_eq!(needs_numpy_below_2(s.torch), s.numpy_below_2, "{s}");
        }
    }
}
