//! What the book's code runs on: the GPU, and the disk it fills.

use super::{gib, probe_trouble, CheckId, CheckResult, GIB};
use crate::platform::{Facts, Os};

/// Below this much free space, setup cannot fit PyTorch: fail.
pub const DISK_FAIL_BYTES: u64 = 5 * GIB;
/// Below this, datasets and models will not fit for long: warn.
pub const DISK_WARN_BYTES: u64 = 20 * GIB;

pub fn check_gpu(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::Gpu;
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
    const ID: CheckId = CheckId::Disk;
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
        .detail("Free some space (brew cleanup, conda clean --all), then run ttm doctor again.")
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
