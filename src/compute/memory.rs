//! How much memory a matmul may use: the host's (macOS `sysctl hw.memsize`,
//! Linux `MemAvailable` in /proc/meminfo) and, on NVIDIA, the GPU's free
//! memory from `nvidia-smi`, asked through `platform`'s probe (its timeout).
//! Read before anything is allocated, so that `--size 100000` is a clear
//! refusal rather than an abort.

use std::path::Path;

use crate::platform::{parse_sysctl_u64, Probe};
use crate::system::{Cmd, System};

/// Bytes the host can give: MemAvailable on Linux, the physical memory on macOS.
pub fn host_available_bytes(sys: &System) -> Option<u64> {
    // Only macOS answers hw.memsize; Linux's sysctl fails on it.
    let probe = Probe::new(sys);
    if let Ok(text) = probe.text(Cmd::new("sysctl").args(["-n", "hw.memsize"])) {
        if let Some(bytes) = parse_sysctl_u64(&text) {
            return Some(bytes);
        }
    }
    let text = sys
        .read_optional(Path::new("/proc/meminfo"))
        .ok()
        .flatten()?;
    parse_meminfo_available(&String::from_utf8_lossy(&text))
}

/// `MemAvailable:   12345678 kB` → bytes.
pub fn parse_meminfo_available(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Free memory of the first NVIDIA GPU, from `nvidia-smi` (MiB).
pub fn cuda_free_bytes(sys: &System) -> Option<u64> {
    let text = Probe::new(sys)
        .text(
            Cmd::new("nvidia-smi")
                .args(["--query-gpu=memory.free", "--format=csv,noheader,nounits"]),
        )
        .ok()?;
    let mib: u64 = text.lines().next()?.trim().parse().ok()?;
    mib.checked_mul(1024 * 1024)
}

/// Bytes of the three N×N f32 matrices a matmul holds (A, B and the result).
pub fn matmul_bytes(n: usize) -> u128 {
    3 * (n as u128) * (n as u128) * 4
}

/// The largest N whose three matrices fit in `bytes`.
pub fn largest_size_for(bytes: u64) -> usize {
    ((bytes as f64 / 12.0).sqrt()) as usize
}

/// "12.3 GB"
pub fn human_bytes(bytes: u128) -> String {
    let gb = bytes as f64 / 1e9;
    if gb >= 1.0 {
        format!("{gb:.1} GB")
    } else {
        format!("{:.0} MB", bytes as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read() {
        let text =
            "MemTotal:       16384000 kB\nMemFree:         1000 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(parse_meminfo_available(text), Some(8_192_000_000));
        assert_eq!(parse_meminfo_available("MemAvailable: lots"), None);
        assert_eq!(parse_meminfo_available(""), None);
    }

    #[test]
    fn sizes_and_bytes() {
        assert_eq!(matmul_bytes(100_000), 120_000_000_000);
        assert_eq!(largest_size_for(12 * 1000 * 1000), 1000);
        assert_eq!(human_bytes(120_000_000_000), "120.0 GB");
        assert_eq!(human_bytes(5_000_000), "5 MB");
    }
}
