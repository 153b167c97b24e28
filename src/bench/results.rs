//! The result rows and the document `ttm bench --json` prints and `--save`
//! writes (DESIGN.md, "ttm bench --json"), and reading such a file back for
//! `ttm bench compare`: a file that is not ours, or that a newer ttm wrote,
//! is refused with its name, before anything is printed.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::stats::Summary;
use crate::compute::{BackendKind, DeviceKind};
use crate::error::{Error, Result};
use crate::system::System;

/// The schema this ttm writes and the newest it reads.
pub const SCHEMA: u64 = 1;
/// The mark that says a JSON file is a `ttm bench` result.
pub const GENERATOR: &str = "ttm bench";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    Burn,
    Torch,
}

impl Framework {
    pub fn title(self) -> &'static str {
        match self {
            Framework::Burn => "Burn",
            Framework::Torch => "PyTorch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    Matmul,
    TrainStep,
}

impl Workload {
    pub const BOTH: [Workload; 2] = [Workload::Matmul, Workload::TrainStep];

    pub fn as_str(self) -> &'static str {
        match self {
            Workload::Matmul => "matmul",
            Workload::TrainStep => "train_step",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Workload::Matmul => "MatMul",
            Workload::TrainStep => "Train step",
        }
    }
}

/// The device a row ran on, as its framework names it (PyTorch's `mps` is
/// the Metal hardware). Declared in the tables' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowDevice {
    Cpu,
    Cuda,
    Metal,
    Vulkan,
    Mps,
}

impl RowDevice {
    pub fn as_str(self) -> &'static str {
        match self {
            RowDevice::Cpu => "cpu",
            RowDevice::Cuda => "cuda",
            RowDevice::Metal => "metal",
            RowDevice::Vulkan => "vulkan",
            RowDevice::Mps => "mps",
        }
    }

    /// "cpu", "cuda", "mps", … as the JSON and PyTorch write it.
    pub fn parse(name: &str) -> Option<RowDevice> {
        [
            RowDevice::Cpu,
            RowDevice::Cuda,
            RowDevice::Metal,
            RowDevice::Vulkan,
            RowDevice::Mps,
        ]
        .into_iter()
        .find(|d| d.as_str() == name)
    }

    /// As people say it: "CPU", "CUDA", "Metal", "MPS", "Vulkan".
    pub fn title(self) -> &'static str {
        match self {
            RowDevice::Cpu => "CPU",
            RowDevice::Cuda => "CUDA",
            RowDevice::Metal => "Metal",
            RowDevice::Vulkan => "Vulkan",
            RowDevice::Mps => "MPS",
        }
    }

    /// The hardware, as Burn names it ("mps" is Metal).
    pub fn hardware(self) -> RowDevice {
        match self {
            RowDevice::Mps => RowDevice::Metal,
            d => d,
        }
    }
}

impl From<DeviceKind> for RowDevice {
    fn from(d: DeviceKind) -> RowDevice {
        match d {
            DeviceKind::Cpu => RowDevice::Cpu,
            DeviceKind::Cuda => RowDevice::Cuda,
            DeviceKind::Metal => RowDevice::Metal,
            DeviceKind::Vulkan => RowDevice::Vulkan,
        }
    }
}

impl std::fmt::Display for RowDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What computed a row: one of Burn's backends, or PyTorch. Declared in
/// the tables' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowBackend {
    Candle,
    Cubecl,
    Torch,
}

impl RowBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            RowBackend::Candle => "candle",
            RowBackend::Cubecl => "cubecl",
            RowBackend::Torch => "torch",
        }
    }
}

impl From<BackendKind> for RowBackend {
    fn from(b: BackendKind) -> RowBackend {
        match b {
            BackendKind::Candle => RowBackend::Candle,
            BackendKind::Cubecl => RowBackend::Cubecl,
        }
    }
}

impl std::fmt::Display for RowBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One workload on one (framework, backend, device).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    pub framework: Framework,
    pub backend: RowBackend,
    pub device: RowDevice,
    pub workload: Workload,
    /// N of the N×N matmul; the batch of the train step.
    pub size: usize,
    pub runs: usize,
    pub first_s: f64,
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub gflops: f64,
    /// "fp32", "tf32", … as measured (Burn) or as configured (PyTorch).
    pub precision: String,
    /// "NVIDIA H100 80GB HBM3", the CPU model, …
    #[serde(default)]
    pub device_name: Option<String>,
    /// The timed runs, in order.
    #[serde(default)]
    pub samples_s: Vec<f64>,
    /// How many times faster than the same framework's CPU row of this workload.
    #[serde(default)]
    pub speedup_vs_cpu: Option<f64>,
}

impl BenchRow {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        framework: Framework,
        backend: RowBackend,
        device: RowDevice,
        workload: Workload,
        size: usize,
        summary: Summary,
        samples_s: Vec<f64>,
        precision: &str,
        device_name: Option<String>,
    ) -> BenchRow {
        BenchRow {
            framework,
            backend,
            device,
            workload,
            size,
            runs: samples_s.len(),
            first_s: summary.first_s,
            median_s: summary.median_s,
            min_s: summary.min_s,
            max_s: summary.max_s,
            gflops: summary.gflops,
            precision: precision.to_owned(),
            device_name,
            samples_s,
            speedup_vs_cpu: None,
        }
    }

    /// The device as people say it: "CPU", "CUDA", "Metal", "MPS", "Vulkan".
    pub fn device_title(&self) -> &'static str {
        self.device.title()
    }

    /// Whether the row ran on the processor rather than a GPU.
    pub fn on_cpu(&self) -> bool {
        self.device == RowDevice::Cpu
    }

    /// The Burn device a PyTorch device corresponds to ("mps" is Metal).
    pub fn hardware(&self) -> RowDevice {
        self.device.hardware()
    }

    /// "Burn cubecl", "Burn candle", "PyTorch".
    pub fn engine(&self) -> String {
        match self.framework {
            Framework::Burn => format!("Burn {}", self.backend),
            Framework::Torch => "PyTorch".to_owned(),
        }
    }
}

/// Burn against PyTorch on the same hardware and workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The hardware: "cpu", "cuda", "metal".
    pub device: RowDevice,
    pub workload: Workload,
    pub burn_backend: RowBackend,
    pub burn_median_s: f64,
    pub torch_median_s: f64,
    /// PyTorch's median over Burn's: above 1, Burn is faster.
    pub burn_speed_vs_torch: f64,
}

/// A device or framework that was not measured, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// "cuda (cubecl)", "PyTorch", "PyTorch on mps".
    pub what: String,
    pub reason: String,
    /// It was tried and failed (exit 1), rather than not available here.
    #[serde(default)]
    pub failed: bool,
}

/// What `ttm bench --json` prints and `--save` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchDoc {
    pub schema: u64,
    pub generator: String,
    #[serde(default)]
    pub ttm_version: String,
    /// The machine's facts (`platform::detect`), as `ttm doctor --json` shows them.
    pub machine: Value,
    /// What the train step is.
    #[serde(default)]
    pub train_step: String,
    /// The PyTorch version of the `torch` rows.
    #[serde(default)]
    pub torch_version: Option<String>,
    pub results: Vec<BenchRow>,
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

impl BenchDoc {
    pub fn new(machine: Value, train_step: &str, results: Vec<BenchRow>) -> BenchDoc {
        let mut doc = BenchDoc {
            schema: SCHEMA,
            generator: GENERATOR.to_owned(),
            ttm_version: env!("CARGO_PKG_VERSION").to_owned(),
            machine,
            train_step: train_step.to_owned(),
            torch_version: None,
            results,
            comparisons: Vec::new(),
            skipped: Vec::new(),
        };
        doc.derive();
        doc
    }

    /// Fill in what follows from the rows: speedups over the CPU, Burn against PyTorch.
    pub fn derive(&mut self) {
        let rows = self.results.clone();
        for row in &mut self.results {
            row.speedup_vs_cpu = rows
                .iter()
                .find(|c| c.on_cpu() && c.framework == row.framework && c.workload == row.workload)
                .and_then(|cpu| super::stats::speedup(cpu.median_s, row.median_s));
        }
        self.comparisons = rows
            .iter()
            .filter(|b| b.framework == Framework::Burn)
            .filter_map(|burn| {
                let torch = rows.iter().find(|t| {
                    t.framework == Framework::Torch
                        && t.workload == burn.workload
                        && t.hardware() == burn.hardware()
                })?;
                Some(Comparison {
                    device: burn.hardware(),
                    workload: burn.workload,
                    burn_backend: burn.backend,
                    burn_median_s: burn.median_s,
                    torch_median_s: torch.median_s,
                    burn_speed_vs_torch: super::stats::speedup(torch.median_s, burn.median_s)?,
                })
            })
            .collect();
    }

    /// The row of `workload` on `framework`'s `device`.
    pub fn row(
        &self,
        framework: Framework,
        device: RowDevice,
        workload: Workload,
    ) -> Option<&BenchRow> {
        self.results
            .iter()
            .find(|r| r.framework == framework && r.device == device && r.workload == workload)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Write the document (atomically) to `path`.
    pub fn save(&self, sys: &System, path: &Path) -> Result<()> {
        let mut text = self.to_json();
        text.push('\n');
        sys.write_atomic(path, text.as_bytes())
    }

    /// Read a file `ttm bench --save` wrote. Not ours, a newer schema, or
    /// broken: `Error::BadFile` naming the file (exit 2).
    pub fn load(sys: &System, path: &Path) -> Result<BenchDoc> {
        let bytes = sys.read_optional(path)?.ok_or_else(|| Error::BadFile {
            path: path.to_path_buf(),
            message: "no such file; give a file saved with `ttm bench --save FILE`".to_owned(),
        })?;
        BenchDoc::parse(&bytes).map_err(|message| Error::BadFile {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parse a saved document; the error says what is wrong with it.
    pub fn parse(bytes: &[u8]) -> std::result::Result<BenchDoc, String> {
        let not_ours = "not a `ttm bench` result (save one with `ttm bench --save FILE`)";
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("{not_ours}: not JSON ({e})"))?;
        let Some(object) = value.as_object() else {
            return Err(format!("{not_ours}: not a JSON object"));
        };
        if object.get("generator").and_then(Value::as_str) != Some(GENERATOR) {
            return Err(not_ours.to_owned());
        }
        let schema = match object.get("schema").and_then(Value::as_u64) {
            Some(s) if s >= 1 => s,
            _ => return Err(format!("{not_ours}: no valid \"schema\"")),
        };
        if schema > SCHEMA {
            return Err(format!(
                "written by a newer ttm (schema {schema}); this ttm {} reads schema {SCHEMA}: update ttm to compare it",
                env!("CARGO_PKG_VERSION")
            ));
        }
        let mut doc: BenchDoc = serde_json::from_value(value)
            .map_err(|e| format!("a `ttm bench` result, but damaged: {e}"))?;
        doc.derive();
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(
        framework: Framework,
        backend: &str,
        device: &str,
        w: Workload,
        median: f64,
    ) -> BenchRow {
        let samples = vec![median * 0.9, median, median * 1.2];
        let flops = match w {
            Workload::Matmul => 2.5e11,
            Workload::TrainStep => 4.9e9,
        };
        let s = Summary::of(median * 10.0, &samples, flops).unwrap();
        let backend = match backend {
            "candle" => RowBackend::Candle,
            "cubecl" => RowBackend::Cubecl,
            _ => RowBackend::Torch,
        };
        let device = RowDevice::parse(device).unwrap();
        BenchRow::new(
            framework, backend, device, w, 5000, s, samples, "fp32", None,
        )
    }

    pub fn sample_doc() -> BenchDoc {
        BenchDoc::new(
            json!({"os": "linux", "chip": "Test CPU"}),
            "a train step",
            vec![
                row(Framework::Burn, "candle", "cpu", Workload::Matmul, 1.2),
                row(Framework::Burn, "candle", "cpu", Workload::TrainStep, 0.2),
                row(Framework::Burn, "cubecl", "cuda", Workload::Matmul, 0.006),
                row(
                    Framework::Burn,
                    "cubecl",
                    "cuda",
                    Workload::TrainStep,
                    0.002,
                ),
                row(Framework::Torch, "torch", "cuda", Workload::Matmul, 0.005),
                row(Framework::Torch, "torch", "cpu", Workload::Matmul, 1.5),
            ],
        )
    }

    #[test]
    fn json_round_trip_keeps_every_row() {
        let doc = sample_doc();
        let text = doc.to_json();
        let back = BenchDoc::parse(text.as_bytes()).unwrap();
        // serde_json parses floats to within an ulp, not always bit for bit.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
        assert_eq!(back.results.len(), doc.results.len());
        for (b, d) in back.results.iter().zip(&doc.results) {
            let numbers = |r: &BenchRow| {
                let mut v = vec![r.first_s, r.median_s, r.min_s, r.max_s, r.gflops];
                v.extend(&r.samples_s);
                v.extend(r.speedup_vs_cpu);
                v
            };
            assert!(
                numbers(b).iter().zip(numbers(d)).all(|(x, y)| close(*x, y)),
                "{b:?} != {d:?}"
            );
            assert_eq!(numbers(b).len(), numbers(d).len());
            let strip = |r: &BenchRow| BenchRow {
                first_s: 0.0,
                median_s: 0.0,
                min_s: 0.0,
                max_s: 0.0,
                gflops: 0.0,
                samples_s: vec![],
                speedup_vs_cpu: None,
                ..r.clone()
            };
            assert_eq!(strip(b), strip(d));
        }
        assert_eq!(back.comparisons.len(), doc.comparisons.len());
        for (b, d) in back.comparisons.iter().zip(&doc.comparisons) {
            assert!(close(b.burn_speed_vs_torch, d.burn_speed_vs_torch));
        }
        assert_eq!(back.machine, doc.machine);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], 1);
        let r = &v["results"][0];
        for key in [
            "framework",
            "backend",
            "device",
            "workload",
            "size",
            "runs",
            "first_s",
            "median_s",
            "min_s",
            "max_s",
            "gflops",
            "precision",
        ] {
            assert!(r.get(key).is_some(), "row lacks {key}: {r}");
        }
        assert_eq!(r["framework"], "burn");
        assert_eq!(v["results"][1]["workload"], "train_step");
    }

    #[test]
    fn speedups_and_burn_against_torch_are_derived() {
        let doc = sample_doc();
        let cuda = doc
            .row(Framework::Burn, RowDevice::Cuda, Workload::Matmul)
            .unwrap();
        assert!((cuda.speedup_vs_cpu.unwrap() - 200.0).abs() < 1e-9);
        let cpu = doc
            .row(Framework::Burn, RowDevice::Cpu, Workload::Matmul)
            .unwrap();
        assert_eq!(cpu.speedup_vs_cpu, Some(1.0));
        assert_eq!(doc.comparisons.len(), 2);
        let c = doc
            .comparisons
            .iter()
            .find(|c| c.device == RowDevice::Cuda)
            .unwrap();
        assert!((c.burn_speed_vs_torch - 0.005 / 0.006).abs() < 1e-9);
        let c = doc
            .comparisons
            .iter()
            .find(|c| c.device == RowDevice::Cpu)
            .unwrap();
        assert!((c.burn_speed_vs_torch - 1.25).abs() < 1e-9);
    }

    #[test]
    fn torch_mps_pairs_with_burn_metal() {
        let doc = BenchDoc::new(
            Value::Null,
            "",
            vec![
                row(
                    Framework::Burn,
                    "cubecl",
                    "metal",
                    Workload::TrainStep,
                    0.01,
                ),
                row(Framework::Torch, "torch", "mps", Workload::TrainStep, 0.02),
            ],
        );
        assert_eq!(doc.comparisons.len(), 1);
        assert_eq!(doc.comparisons[0].device, RowDevice::Metal);
        assert!((doc.comparisons[0].burn_speed_vs_torch - 2.0).abs() < 1e-9);
    }

    #[test]
    fn foreign_and_newer_files_are_refused() {
        let err = BenchDoc::parse(b"not json").unwrap_err();
        assert!(err.starts_with("not a `ttm bench` result"), "{err}");
        let err = BenchDoc::parse(br#"{"schema": 1, "ready": true, "checks": []}"#).unwrap_err();
        assert!(err.starts_with("not a `ttm bench` result"), "{err}");
        let err = BenchDoc::parse(br#"[1, 2]"#).unwrap_err();
        assert!(err.contains("not a JSON object"), "{err}");
        let mut newer: Value = serde_json::from_str(&sample_doc().to_json()).unwrap();
        newer["schema"] = json!(2);
        let err = BenchDoc::parse(newer.to_string().as_bytes()).unwrap_err();
        assert!(err.contains("newer ttm (schema 2)"), "{err}");
        let mut broken: Value = serde_json::from_str(&sample_doc().to_json()).unwrap();
        broken["results"][0]["median_s"] = json!("fast");
        let err = BenchDoc::parse(broken.to_string().as_bytes()).unwrap_err();
        assert!(err.contains("damaged"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = BenchDoc::parse(&bytes);
        }
    }
}
