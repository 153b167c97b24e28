//! The GPU: `system_profiler SPDisplaysDataType -json` on macOS (chip name,
//! GPU cores in `sppci_cores`, Metal support), `nvidia-smi --query-gpu=…` on
//! Linux. No nvidia-smi on Linux means no NVIDIA GPU (or no driver).

use serde_json::Value;

use super::probe::{Detected, Probe, ProbeFailure};
use super::{Gpu, Os};
use crate::system::Cmd;

pub fn detect(probe: &Probe, os: Os) -> Detected<Vec<Gpu>> {
    match os {
        Os::Macos => {
            match probe.text(Cmd::new("system_profiler").args(["SPDisplaysDataType", "-json"])) {
                Ok(text) => match parse_system_profiler_displays(&text) {
                    Ok(gpus) => Detected::found(gpus),
                    Err(msg) => Detected::failed(
                        "gpu",
                        "system_profiler",
                        ProbeFailure::Failed(format!("system_profiler {msg}")),
                    ),
                },
                Err(f) => Detected::failed("gpu", "system_profiler", f),
            }
        }
        Os::Linux => match probe.text(Cmd::new("nvidia-smi").args([
            "--query-gpu=name,memory.total,driver_version",
            "--format=csv,noheader,nounits",
        ])) {
            Ok(text) => match parse_nvidia_smi(&text) {
                Ok(gpus) => Detected::found(gpus),
                Err(msg) => Detected::failed(
                    "gpu",
                    "nvidia-smi",
                    ProbeFailure::Failed(format!("nvidia-smi {msg}")),
                ),
            },
            Err(ProbeFailure::NotFound) => Detected::found(Vec::new()),
            Err(f) => Detected::failed("gpu", "nvidia-smi", f),
        },
        Os::Other => Detected::found(Vec::new()),
    }
}

/// `system_profiler SPDisplaysDataType -json`: one [`Gpu`] per item.
pub fn parse_system_profiler_displays(text: &str) -> Result<Vec<Gpu>, String> {
    let v: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("printed unreadable JSON ({e})"))?;
    let items = v
        .get("SPDisplaysDataType")
        .and_then(Value::as_array)
        .ok_or_else(|| "printed JSON without SPDisplaysDataType".to_owned())?;
    let s = |item: &Value, key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(items
        .iter()
        .filter_map(|item| {
            let name = s(item, "sppci_model").or_else(|| s(item, "_name"))?;
            let vendor = s(item, "spdisplays_vendor")
                .map(|v| pretty_vendor(&v))
                .unwrap_or_else(|| name.split_whitespace().next().unwrap_or("").to_owned());
            let cores = s(item, "sppci_cores").and_then(|c| c.trim().parse().ok());
            let driver = s(item, "spdisplays_mtlgpufamilysupport")
                .or_else(|| s(item, "spdisplays_metal"))
                .or_else(|| s(item, "spdisplays_metalfamily"))
                .map(|m| pretty_metal(&m));
            let memory_bytes = s(item, "spdisplays_vram")
                .or_else(|| s(item, "spdisplays_vram_shared"))
                .or_else(|| s(item, "_spdisplays_vram"))
                .and_then(|m| parse_size(&m));
            Some(Gpu {
                name,
                vendor,
                cores,
                memory_bytes,
                driver,
            })
        })
        .collect())
}

/// "sppci_vendor_Apple" → "Apple"; "Intel (0x8086)" → "Intel".
fn pretty_vendor(v: &str) -> String {
    let v = v.strip_prefix("sppci_vendor_").unwrap_or(v);
    let v = v.split(" (").next().unwrap_or(v);
    let mut c = v.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "spdisplays_metal3" → "Metal 3"; "spdisplays_supported" → "Metal".
fn pretty_metal(m: &str) -> String {
    let m = m.strip_prefix("spdisplays_").unwrap_or(m);
    if let Some(n) = m.strip_prefix("metal") {
        if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
            return format!("Metal {n}");
        }
    }
    match m {
        "supported" => "Metal".to_owned(),
        other => format!("Metal ({other})"),
    }
}

/// "1536 MB" / "8 GB" → bytes.
fn parse_size(s: &str) -> Option<u64> {
    let mut w = s.split_whitespace();
    let n: u64 = w.next()?.parse().ok()?;
    let unit = match w.next()? {
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(unit)
}

/// `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`:
/// "NVIDIA H100 80GB HBM3, 81559, 550.54.15" per line (memory in MiB).
pub fn parse_nvidia_smi(text: &str) -> Result<Vec<Gpu>, String> {
    let mut gpus = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 3 || fields[0].is_empty() {
            return Err(format!(
                "printed an unexpected line {:?}",
                line.chars().take(80).collect::<String>()
            ));
        }
        gpus.push(Gpu {
            name: fields[0].to_owned(),
            vendor: "NVIDIA".to_owned(),
            cores: None,
            memory_bytes: fields[1]
                .parse::<u64>()
                .ok()
                .and_then(|m| m.checked_mul(1 << 20)),
            driver: Some(fields[2].to_owned()).filter(|d| !d.is_empty()),
        });
    }
    Ok(gpus)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn apple_gpu_from_system_profiler() {
        let text = r#"{
  "SPDisplaysDataType" : [
    {
      "_name" : "Apple M3 Pro",
      "spdisplays_mtlgpufamilysupport" : "spdisplays_metal3",
      "spdisplays_vendor" : "sppci_vendor_Apple",
      "sppci_bus" : "spdisplays_builtin",
      "sppci_cores" : "14",
      "sppci_device_type" : "spdisplays_gpu",
      "sppci_model" : "Apple M3 Pro"
    }
  ]
}"#;
        let g = parse_system_profiler_displays(text).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].name, "Apple M3 Pro");
        assert_eq!(g[0].vendor, "Apple");
        assert_eq!(g[0].cores, Some(14));
        assert_eq!(g[0].driver.as_deref(), Some("Metal 3"));
        assert!(parse_system_profiler_displays("{}").is_err());
        assert!(parse_system_profiler_displays("not json").is_err());
    }

    #[test]
    fn nvidia_smi_csv() {
        let g = parse_nvidia_smi("NVIDIA H100 80GB HBM3, 81559, 550.54.15\n").unwrap();
        assert_eq!(g[0].name, "NVIDIA H100 80GB HBM3");
        assert_eq!(g[0].memory_bytes, Some(81559 << 20));
        assert_eq!(g[0].driver.as_deref(), Some("550.54.15"));
        assert!(parse_nvidia_smi(
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
        )
        .is_err());
        assert!(parse_nvidia_smi("").unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_system_profiler_displays(&s);
            let _ = parse_nvidia_smi(&s);
        }
    }
}
