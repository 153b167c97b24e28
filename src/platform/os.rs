//! Which OS, which version, which hardware: `uname -srm`, then `sw_vers` on
//! macOS, or `/etc/os-release`, `/proc/cpuinfo` and `/proc/meminfo` on Linux.
//! Linux files are read with `cat` through `System`, like every other fact,
//! so that a fixture can present another distribution.

use super::probe::{Probe, ProbeFailure, Problem};
use super::Os;
use crate::system::Cmd;

pub struct OsFacts {
    pub os: Os,
    pub version: Option<String>,
    pub build: Option<String>,
    /// `uname -m`: the process's architecture (x86_64 under Rosetta).
    pub machine: Option<String>,
    pub problems: Vec<Problem>,
}

impl OsFacts {
    pub fn unknown(why: &str) -> OsFacts {
        OsFacts {
            os: Os::Other,
            version: None,
            build: None,
            machine: None,
            problems: vec![Problem::new("uname", why)],
        }
    }
}

pub fn detect(probe: &Probe) -> OsFacts {
    let mut facts = OsFacts::unknown("");
    facts.problems.clear();
    let uname = match probe.text(Cmd::new("uname").arg("-srm")) {
        Ok(text) => match parse_uname(&text) {
            Some(u) => u,
            None => {
                facts.problems.push(Problem::new(
                    "uname",
                    format!(
                        "unexpected output {:?}",
                        text.trim().chars().take(80).collect::<String>()
                    ),
                ));
                return facts;
            }
        },
        Err(ProbeFailure::Failed(msg)) => {
            facts.problems.push(Problem::new("uname", msg));
            return facts;
        }
        Err(_) => {
            facts
                .problems
                .push(Problem::new("uname", "not found on PATH"));
            return facts;
        }
    };
    facts.machine = Some(uname.machine.clone());
    match uname.sysname.as_str() {
        "Darwin" => {
            facts.os = Os::Macos;
            match probe.text(Cmd::new("sw_vers")) {
                Ok(text) => {
                    let v = parse_sw_vers(&text);
                    if v.version.is_none() {
                        facts
                            .problems
                            .push(Problem::new("sw_vers", "no ProductVersion in its output"));
                    }
                    facts.version = v.version;
                    facts.build = v.build;
                }
                Err(ProbeFailure::Failed(msg)) => facts.problems.push(Problem::new("sw_vers", msg)),
                Err(_) => facts
                    .problems
                    .push(Problem::new("sw_vers", "not found on PATH")),
            }
        }
        "Linux" => {
            facts.os = Os::Linux;
            facts.build = Some(uname.release.clone());
            match probe.text(Cmd::new("cat").arg("/etc/os-release")) {
                Ok(text) => facts.version = parse_os_release(&text),
                Err(ProbeFailure::Failed(msg)) => {
                    facts.problems.push(Problem::new("os-release", msg))
                }
                Err(_) => facts
                    .problems
                    .push(Problem::new("os-release", "cat not found on PATH")),
            }
            if facts.version.is_none() {
                facts.version = Some(format!("Linux {}", uname.release));
            }
        }
        other => facts.version = Some(format!("{other} {}", uname.release)),
    }
    facts
}

pub struct LinuxMachine {
    pub cpu_model: Option<String>,
    pub cpu_count: Option<u32>,
    pub memory_bytes: Option<u64>,
    pub problems: Vec<Problem>,
}

pub fn detect_linux_machine(probe: &Probe) -> LinuxMachine {
    let mut m = LinuxMachine {
        cpu_model: None,
        cpu_count: None,
        memory_bytes: None,
        problems: Vec::new(),
    };
    match probe.text(Cmd::new("cat").arg("/proc/cpuinfo")) {
        Ok(text) => {
            let (model, count) = parse_cpuinfo(&text);
            m.cpu_model = model;
            m.cpu_count = (count > 0).then_some(count);
        }
        Err(ProbeFailure::Failed(msg)) => m.problems.push(Problem::new("cpuinfo", msg)),
        Err(_) => {}
    }
    match probe.text(Cmd::new("cat").arg("/proc/meminfo")) {
        Ok(text) => m.memory_bytes = parse_meminfo(&text),
        Err(ProbeFailure::Failed(msg)) => m.problems.push(Problem::new("meminfo", msg)),
        Err(_) => {}
    }
    m
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uname {
    pub sysname: String,
    pub release: String,
    pub machine: String,
}

/// `uname -srm`: "Darwin 23.5.0 arm64".
pub fn parse_uname(text: &str) -> Option<Uname> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < 3 {
        return None;
    }
    Some(Uname {
        sysname: words[0].to_owned(),
        release: words[1].to_owned(),
        machine: words[words.len() - 1].to_owned(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwVers {
    pub name: Option<String>,
    pub version: Option<String>,
    pub build: Option<String>,
}

/// `sw_vers`: "ProductName:\tmacOS\nProductVersion:\t14.5\nBuildVersion:\t23F79".
pub fn parse_sw_vers(text: &str) -> SwVers {
    let mut v = SwVers::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            "ProductName" => v.name = Some(value.to_owned()),
            "ProductVersion" => v.version = Some(value.to_owned()),
            "BuildVersion" => v.build = Some(value.to_owned()),
            _ => {}
        }
    }
    v
}

/// `/etc/os-release`: PRETTY_NAME, else NAME and VERSION.
pub fn parse_os_release(text: &str) -> Option<String> {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').to_owned())
        })
    };
    get("PRETTY_NAME").filter(|s| !s.is_empty()).or_else(|| {
        let name = get("NAME")?;
        Some(match get("VERSION") {
            Some(v) => format!("{name} {v}"),
            None => name,
        })
    })
}

/// `/proc/cpuinfo`: the first "model name" and the number of processors.
pub fn parse_cpuinfo(text: &str) -> (Option<String>, u32) {
    let mut model = None;
    let mut count = 0u32;
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match k.trim() {
            "processor" => count = count.saturating_add(1),
            "model name" if model.is_none() => {
                let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
                if !v.is_empty() {
                    model = Some(v);
                }
            }
            _ => {}
        }
    }
    (model, count)
}

/// `/proc/meminfo`: MemTotal in bytes.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => n.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uname_of_a_mac_and_linux() {
        let u = parse_uname("Darwin 23.5.0 arm64\n").unwrap();
        assert_eq!(
            (u.sysname.as_str(), u.machine.as_str()),
            ("Darwin", "arm64")
        );
        let u = parse_uname("Linux 5.15.0-105-generic x86_64").unwrap();
        assert_eq!(u.release, "5.15.0-105-generic");
        assert!(parse_uname("Darwin").is_none());
    }

    #[test]
    fn sw_vers_old_and_new_formats() {
        // macOS 14 prints tabs; macOS 10.15 printed "ProductName:\tMac OS X".
        let v = parse_sw_vers(
            "ProductName:\t\tmacOS\nProductVersion:\t\t14.5\nBuildVersion:\t\t23F79\n",
        );
        assert_eq!(v.version.as_deref(), Some("14.5"));
        assert_eq!(v.build.as_deref(), Some("23F79"));
        let v = parse_sw_vers(
            "ProductName:\tMac OS X\nProductVersion:\t10.15.7\nBuildVersion:\t19H2\n",
        );
        assert_eq!(v.name.as_deref(), Some("Mac OS X"));
        assert_eq!(parse_sw_vers("garbage"), SwVers::default());
    }

    #[test]
    fn os_release_pretty_name() {
        let text = "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n";
        assert_eq!(
            parse_os_release(text).as_deref(),
            Some("Ubuntu 22.04.4 LTS")
        );
        assert_eq!(parse_os_release("NAME=Arch\n").as_deref(), Some("Arch"));
        assert_eq!(parse_os_release(""), None);
    }

    #[test]
    fn cpuinfo_and_meminfo() {
        let cpu = "processor\t: 0\nmodel name\t: AMD EPYC 7R13 Processor\nprocessor\t: 1\nmodel name\t: AMD EPYC 7R13 Processor\n";
        assert_eq!(
            parse_cpuinfo(cpu),
            (Some("AMD EPYC 7R13 Processor".into()), 2)
        );
        assert_eq!(
            parse_meminfo("MemTotal:       65842612 kB\nMemFree: 1 kB\n"),
            Some(65842612 * 1024)
        );
        assert_eq!(parse_meminfo("MemTotal: lots"), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = parse_uname(&s);
            let _ = parse_sw_vers(&s);
            let _ = parse_os_release(&s);
            let _ = parse_cpuinfo(&s);
            let _ = parse_meminfo(&s);
        }
    }
}
