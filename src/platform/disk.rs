//! Free space where the workspace lives: `df -Pk` (POSIX format, 1024-byte
//! blocks) on the workspace, or its nearest existing parent before setup.

use std::path::Path;

use super::probe::{Detected, Probe, ProbeFailure};
use crate::system::Cmd;

pub fn detect(probe: &Probe, root: &Path) -> Detected<u64> {
    let mut at = root;
    while !at.is_dir() {
        match at.parent() {
            Some(p) => at = p,
            None => return Detected::none(),
        }
    }
    match probe.text(Cmd::new("df").arg("-Pk").arg(at)) {
        Ok(text) => match parse_df(&text) {
            Some(free) => Detected::found(free),
            None => Detected::failed(
                "disk",
                "df",
                ProbeFailure::Failed("`df -Pk` printed no size".into()),
            ),
        },
        Err(f) => Detected::failed("disk", "df", f),
    }
}

/// The free bytes where `root` is (or would be), when `df` says.
pub fn free_bytes(probe: &Probe, root: &Path) -> Option<u64> {
    let mut at = root;
    while !at.is_dir() {
        at = at.parent()?;
    }
    probe
        .text(Cmd::new("df").arg("-Pk").arg(at))
        .ok()
        .and_then(|text| parse_df(&text))
}

/// `df -Pk PATH`: the available bytes from the last line
/// ("/dev/disk3s5 971350180 612345678 340123456 65% /System/Volumes/Data").
pub fn parse_df(text: &str) -> Option<u64> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next()?;
    if !header.contains("Avail") {
        return None;
    }
    let line = lines.next_back()?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 6 || !fields[fields.len() - 2].ends_with('%') {
        return None;
    }
    let kb: u64 = fields[fields.len() - 3].parse().ok()?;
    kb.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn df_posix_output() {
        let mac = "Filesystem     1024-blocks      Used Available Capacity  Mounted on\n/dev/disk3s5     971350180 612345678 340123456    65%    /System/Volumes/Data\n";
        assert_eq!(parse_df(mac), Some(340123456 * 1024));
        let spaced = "Filesystem 1024-blocks Used Available Capacity Mounted on\nmap auto_home 0 0 0 100% /System/Volumes/Data/home\n";
        assert_eq!(parse_df(spaced), Some(0));
        assert_eq!(parse_df("df: /nope: No such file or directory"), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse_df(&s); }
    }
}
