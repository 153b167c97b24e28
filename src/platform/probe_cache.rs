//! The torch probe's answer, kept between runs: `import torch` takes seconds
//! (3 s on the GPU machine, most of a doctor run), and doctor, setup and
//! bench each ask it.
//!
//! An answer is kept in `~/.cache/ttm/probes/torch-<python>.json` under a key
//! made of everything it depends on: ttm's version and the probe script, the
//! interpreter (its path, and the size and time of the file it resolves to),
//! every `site-packages` folder of the env and of the user's site (a folder's
//! time moves with each package pip adds or removes) with its `torch` folder,
//! the OS build, the NVIDIA driver, and the variables torch reads at import.
//! Any change is a new key, so the probe runs again. Only answers that parse
//! are kept; a probe that failed, hung or crashed is asked again next time.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::system::System;

/// The variables that change what `import torch` reports.
const TORCH_READS: [&str; 8] = [
    "CUDA_VISIBLE_DEVICES",
    "PYTORCH_ENABLE_MPS_FALLBACK",
    "PYTORCH_MPS_HIGH_WATERMARK_RATIO",
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONNOUSERSITE",
];

/// Files whose contents name the OS build and the GPU driver.
const MACHINE_FILES: [&str; 3] = [
    "/proc/sys/kernel/osrelease",
    "/proc/driver/nvidia/version",
    "/System/Library/CoreServices/SystemVersion.plist",
];

/// A kept answer is a few hundred bytes; anything past this is not ours.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: String,
    /// What the probe printed.
    answer: String,
    /// Seconds since the epoch when it was asked.
    asked_at: u64,
}

/// Where one interpreter's answer is kept, and the key it must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSlot {
    pub path: PathBuf,
    pub key: String,
}

/// A kept answer that still holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub answer: String,
    pub asked_at: u64,
}

/// The slot for `python`'s torch answer, or None without a HOME (no cache).
pub fn slot(sys: &System, python: &Path, script: &str) -> Option<CacheSlot> {
    let home = sys.home().ok()?;
    let mut named = DefaultHasher::new();
    python.hash(&mut named);
    let path = home
        .join(".cache")
        .join("ttm")
        .join("probes")
        .join(format!("torch-{:016x}.json", named.finish()));
    Some(CacheSlot {
        path,
        key: key(sys, python, script, &home),
    })
}

/// Everything the answer depends on, hashed.
fn key(sys: &System, python: &Path, script: &str, home: &Path) -> String {
    let mut h = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    script.hash(&mut h);
    python.hash(&mut h);
    match sys.canonicalize(python) {
        Ok(real) => {
            real.hash(&mut h);
            stamp(sys, &real).hash(&mut h);
        }
        Err(_) => "no interpreter".hash(&mut h),
    }
    for dir in site_dirs(sys, python, home) {
        dir.hash(&mut h);
        stamp(sys, &dir).hash(&mut h);
        stamp(sys, &dir.join("torch")).hash(&mut h);
    }
    for file in MACHINE_FILES {
        let text = sys
            .read_optional(Path::new(file))
            .ok()
            .flatten()
            .unwrap_or_default();
        text.hash(&mut h);
    }
    for var in TORCH_READS {
        sys.var(var).hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// A file's (size, modification time in ns), or None when it is not there.
fn stamp(sys: &System, path: &Path) -> Option<(u64, u128)> {
    let meta = sys.metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?;
    Some((meta.len(), modified.as_nanos()))
}

/// The `site-packages` folders the interpreter may import torch from: its
/// env's (`<prefix>/lib/python*/site-packages`, the prefix being the folder
/// above `bin/`) and the user's (`~/.local/lib/python*/site-packages`,
/// `~/Library/Python/*/lib/python/site-packages`), sorted.
fn site_dirs(sys: &System, python: &Path, home: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut libs = vec![home.join(".local").join("lib")];
    if let Some(prefix) = python.parent().and_then(Path::parent) {
        libs.push(prefix.join("lib"));
    }
    for lib in libs {
        for version in children(sys, &lib) {
            if version
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"))
            {
                dirs.push(version.join("site-packages"));
            }
        }
    }
    for version in children(sys, &home.join("Library").join("Python")) {
        dirs.push(version.join("lib").join("python").join("site-packages"));
    }
    dirs.retain(|d| sys.is_dir(d));
    dirs.sort();
    dirs
}

fn children(sys: &System, dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = sys.read_dir(dir) else {
        return Vec::new();
    };
    // A folder of Python versions holds a handful; more is not one.
    entries.take(64).flatten().map(|e| e.path()).collect()
}

/// The kept answer, if there is one and its key still matches.
pub fn load(sys: &System, slot: &CacheSlot) -> Option<Kept> {
    let meta = sys.symlink_metadata(&slot.path).ok()?;
    if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
        return None;
    }
    let bytes = sys.read(&slot.path).ok()?;
    let entry: Entry = serde_json::from_slice(&bytes).ok()?;
    (entry.key == slot.key).then_some(Kept {
        answer: entry.answer,
        asked_at: entry.asked_at,
    })
}

/// Keep `answer` under the slot's key. A cache that cannot be written is no
/// error (the next run asks again); the reason is returned for `-v`.
pub fn store(sys: &System, slot: &CacheSlot, answer: &str) -> Result<(), String> {
    let entry = Entry {
        key: slot.key.clone(),
        answer: answer.to_owned(),
        asked_at: SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    let text = serde_json::to_vec(&entry).map_err(|e| e.to_string())?;
    if let Some(dir) = slot.path.parent() {
        sys.create_dir_all(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    sys.write_atomic(&slot.path, &text)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(home: &Path) -> System {
        System::from_parts([("HOME", home.as_os_str())], home)
    }

    fn venv(root: &Path) -> PathBuf {
        let site = root.join("venv/lib/python3.12/site-packages");
        std::fs::create_dir_all(&site).unwrap();
        let python = root.join("venv/bin/python");
        std::fs::create_dir_all(python.parent().unwrap()).unwrap();
        std::fs::write(&python, "#!/bin/sh\n").unwrap();
        python
    }

    #[test]
    fn an_answer_is_kept_until_a_package_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let sys = machine(tmp.path());
        let python = venv(tmp.path());
        let slot = slot(&sys, &python, "probe v1").unwrap();
        assert!(load(&sys, &slot).is_none(), "nothing kept yet");
        store(&sys, &slot, "{\"ok\": true}").unwrap();
        let kept = load(&sys, &slot).unwrap();
        assert_eq!(kept.answer, "{\"ok\": true}");
        // Asked again, the same machine gives the same key.
        assert_eq!(super::slot(&sys, &python, "probe v1").unwrap(), slot);

        // pip installs something: the folder changes, so does the key.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::create_dir(tmp.path().join("venv/lib/python3.12/site-packages/torch")).unwrap();
        let after = super::slot(&sys, &python, "probe v1").unwrap();
        assert_eq!(after.path, slot.path, "one file per interpreter");
        assert_ne!(after.key, slot.key);
        assert!(load(&sys, &after).is_none());
    }

    #[test]
    fn a_new_script_or_variable_or_interpreter_is_a_new_key() {
        let tmp = tempfile::tempdir().unwrap();
        let sys = machine(tmp.path());
        let python = venv(tmp.path());
        let base = slot(&sys, &python, "probe v1").unwrap().key;
        assert_ne!(slot(&sys, &python, "probe v2").unwrap().key, base);
        let cuda = System::from_parts(
            [
                ("HOME", tmp.path().as_os_str()),
                ("CUDA_VISIBLE_DEVICES", std::ffi::OsStr::new("1")),
            ],
            tmp.path(),
        );
        assert_ne!(slot(&cuda, &python, "probe v1").unwrap().key, base);
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&python, "#!/bin/sh\n# rebuilt\n").unwrap();
        assert_ne!(slot(&sys, &python, "probe v1").unwrap().key, base);
    }

    #[test]
    fn a_damaged_or_huge_entry_is_no_answer() {
        let tmp = tempfile::tempdir().unwrap();
        let sys = machine(tmp.path());
        let python = venv(tmp.path());
        let slot = slot(&sys, &python, "probe").unwrap();
        std::fs::create_dir_all(slot.path.parent().unwrap()).unwrap();
        std::fs::write(&slot.path, b"{not json").unwrap();
        assert!(load(&sys, &slot).is_none());
        std::fs::write(&slot.path, vec![b' '; MAX_ENTRY_BYTES as usize + 1]).unwrap();
        assert!(load(&sys, &slot).is_none());
    }

    #[test]
    fn without_home_there_is_no_cache() {
        let sys = System::from_parts(Vec::<(String, String)>::new(), "/");
        assert!(slot(&sys, Path::new("/usr/bin/python3"), "probe").is_none());
    }
}
