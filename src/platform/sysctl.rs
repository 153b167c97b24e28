//! macOS hardware facts from `sysctl -n NAME`: Apple Silicon even under
//! Rosetta (`hw.optional.arm64`, which rustup-init.sh trusts over `uname -m`),
//! whether this process is translated (`sysctl.proc_translated`), the chip,
//! memory and cores. An "unknown oid" (an Intel Mac has no
//! `sysctl.proc_translated`) is an absent fact, not a problem.

use super::probe::{Probe, ProbeFailure};
use crate::system::Cmd;

#[derive(Debug, Default)]
pub struct MacHardware {
    pub arm64: Option<bool>,
    pub translated: Option<bool>,
    pub brand: Option<String>,
    pub memsize: Option<u64>,
    pub ncpu: Option<u32>,
    pub perf_cores: Option<u32>,
    pub efficiency_cores: Option<u32>,
    pub problems: Vec<String>,
}

pub fn detect(probe: &Probe) -> MacHardware {
    let mut hw = MacHardware::default();
    let mut get = |name: &str| -> Option<String> {
        match probe.text_with_stderr(Cmd::new("sysctl").args(["-n", name])) {
            Ok((out, err)) if !err.contains("unknown oid") => Some(out),
            Ok(_) => None,
            Err(ProbeFailure::Failed(msg)) if msg.contains("unknown oid") => None,
            Err(ProbeFailure::Failed(msg)) => {
                hw.problems.push(format!("sysctl: {msg}"));
                None
            }
            Err(_) => None,
        }
    };
    let arm64 = get("hw.optional.arm64");
    // An Intel Mac may not know hw.optional.arm64 at all: that is "not arm64".
    let arm64_known = arm64.is_some();
    let translated = get("sysctl.proc_translated");
    let brand = get("machdep.cpu.brand_string");
    let memsize = get("hw.memsize");
    let ncpu = get("hw.ncpu");
    let perf = get("hw.perflevel0.physicalcpu");
    let eff = get("hw.perflevel1.physicalcpu");
    hw.arm64 = match arm64 {
        Some(text) => parse_sysctl_bool(&text),
        None => None,
    };
    if !arm64_known && brand.is_some() {
        hw.arm64 = Some(false);
    }
    hw.translated = translated.as_deref().and_then(parse_sysctl_bool);
    hw.brand = brand
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty() && b.chars().all(|c| !c.is_control()));
    hw.memsize = memsize.as_deref().and_then(parse_sysctl_u64);
    hw.ncpu = ncpu
        .as_deref()
        .and_then(parse_sysctl_u64)
        .and_then(|n| u32::try_from(n).ok());
    hw.perf_cores = perf
        .as_deref()
        .and_then(parse_sysctl_u64)
        .and_then(|n| u32::try_from(n).ok());
    hw.efficiency_cores = eff
        .as_deref()
        .and_then(parse_sysctl_u64)
        .and_then(|n| u32::try_from(n).ok());
    hw
}

/// `sysctl -n` of a flag: "1" or "0".
pub fn parse_sysctl_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// `sysctl -n` of a number: "68719476736".
pub fn parse_sysctl_u64(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn flags_and_numbers() {
        assert_eq!(parse_sysctl_bool("1\n"), Some(true));
        assert_eq!(parse_sysctl_bool("0"), Some(false));
        assert_eq!(
            parse_sysctl_bool("sysctl: unknown oid 'sysctl.proc_translated'"),
            None
        );
        assert_eq!(parse_sysctl_u64("68719476736\n"), Some(68719476736));
        assert_eq!(parse_sysctl_u64("-1"), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = parse_sysctl_bool(&s);
            let _ = parse_sysctl_u64(&s);
        }
    }
}
