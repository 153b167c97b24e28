//! The PyTorch side of `ttm bench`: `scripts/torch_bench.py`, embedded, run
//! with the project environment's python (`python -I -B -c SCRIPT …`), the
//! way uv queries interpreters. It prints one JSON object; a failed
//! `import torch` is JSON too. Parsing is pure, over that text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::results::{BenchRow, Framework, RowBackend, RowDevice, Workload};
use super::stats::Summary;
use crate::env_kind::EnvKind;
use crate::error::{Error, Result};
use crate::platform::Facts;
use crate::system::{last_json_line, last_lines, Cmd, System};
use crate::workspace::Workspace;

pub const TORCH_BENCH_SCRIPT: &str = include_str!("../../scripts/torch_bench.py");

/// Importing torch the first time after an install can take long (macOS
/// verifies every library once).
const PROBE_TIMEOUT: Duration = Duration::from_secs(180);
/// Both workloads on one device, the CPU at 5000² included.
const RUN_TIMEOUT: Duration = Duration::from_secs(1800);

/// The project environment's python: the one `platform::detect` found;
/// with `ttm.toml` saying `kind = "none"`, the python3 on PATH; else
/// `<workspace>/.venv/bin/python` when it exists.
pub fn env_python(sys: &System, facts: &Facts, ws: &Workspace) -> Option<PathBuf> {
    if let Some(env) = &facts.env {
        return Some(env.python.clone());
    }
    if facts
        .env_expected
        .as_ref()
        .is_some_and(|e| e.kind == EnvKind::None)
    {
        return facts.python.as_ref().map(|p| p.path.clone());
    }
    let venv = ws.venv().join("bin").join("python");
    sys.is_file(&venv).then_some(venv)
}

/// What the probe found: the version and the devices PyTorch can use.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchProbe {
    pub version: String,
    /// "cpu", "cuda", "mps", each with the device's name where known.
    pub devices: BTreeMap<String, Option<String>>,
}

/// One device's two workloads.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchRun {
    pub rows: Vec<BenchRow>,
}

#[derive(Debug, Deserialize)]
struct Reply {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    devices: BTreeMap<String, Option<String>>,
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    results: Vec<RawResult>,
}

#[derive(Debug, Deserialize)]
struct RawResult {
    workload: Workload,
    size: usize,
    first_s: f64,
    samples_s: Vec<f64>,
    flops: f64,
    precision: String,
}

/// The reply's last line that is a JSON object (a library may print before it).
fn reply_of(stdout: &str) -> std::result::Result<Reply, String> {
    let line = last_json_line(stdout).ok_or_else(|| "printed no JSON".to_owned())?;
    serde_json::from_str(line).map_err(|e| format!("printed unreadable JSON ({e})"))
}

/// The last non-empty line of an error: what Python says last is the cause.
pub fn last_line(text: &str) -> String {
    match last_lines(text, 1).trim() {
        "" => "unknown error".to_owned(),
        line => line.to_owned(),
    }
}

/// Parse the probe's output: Ok(Ok(probe)), or Ok(Err(import error's last line)).
pub fn parse_probe(
    stdout: &str,
) -> std::result::Result<std::result::Result<TorchProbe, String>, String> {
    let reply = reply_of(stdout)?;
    if !reply.ok {
        return Ok(Err(last_line(reply.error.as_deref().unwrap_or(""))));
    }
    Ok(Ok(TorchProbe {
        version: reply.version.unwrap_or_else(|| "unknown".to_owned()),
        devices: reply.devices,
    }))
}

/// Parse one device's run into rows.
pub fn parse_run(stdout: &str, runs: usize) -> std::result::Result<TorchRun, String> {
    let reply = reply_of(stdout)?;
    if !reply.ok {
        return Err(last_line(reply.error.as_deref().unwrap_or("")));
    }
    let name = reply.device.ok_or("named no device")?;
    let device =
        RowDevice::parse(&name).ok_or_else(|| format!("named an unknown device {name:?}"))?;
    let mut rows = Vec::new();
    for r in reply.results {
        if r.samples_s.len() != runs {
            return Err(format!(
                "returned {} samples of {}, not {runs}",
                r.samples_s.len(),
                r.workload.as_str()
            ));
        }
        let summary = Summary::of(r.first_s, &r.samples_s, r.flops)
            .ok_or_else(|| format!("returned unusable times for {}", r.workload.as_str()))?;
        rows.push(BenchRow::new(
            Framework::Torch,
            RowBackend::Torch,
            device,
            r.workload,
            r.size,
            summary,
            r.samples_s,
            &r.precision,
            reply.name.clone(),
        ));
    }
    if rows.len() != 2 {
        return Err(format!("returned {} workloads, not 2", rows.len()));
    }
    Ok(TorchRun { rows })
}

fn script_cmd(python: &Path) -> Cmd {
    Cmd::new(python).args(["-I", "-B", "-c", TORCH_BENCH_SCRIPT])
}

/// Ask the env's PyTorch its version and devices. An import that fails is
/// `Error::BadInput` (exit 2) naming the python and the error's last line.
pub fn probe(sys: &System, python: &Path) -> Result<TorchProbe> {
    let out = sys.run(&script_cmd(python).arg("probe").timeout(PROBE_TIMEOUT))?;
    let stdout = out.stdout_text();
    let parsed = parse_probe(&stdout).map_err(|why| Error::Program {
        program: python.display().to_string(),
        message: format!("the PyTorch probe {why}: {}", last_line(&out.tail(5))),
    })?;
    parsed.map_err(|import_error| {
        Error::bad_input(format!(
            "--torch: `import torch` fails in {}: {import_error}; install it with `ttm setup`, or run without --torch",
            python.display()
        ))
    })
}

/// Run both workloads on one PyTorch device.
pub fn run_device(
    sys: &System,
    python: &Path,
    device: &str,
    size: usize,
    runs: usize,
) -> std::result::Result<TorchRun, String> {
    let cmd = script_cmd(python)
        .args(["run", device, &size.to_string(), &runs.to_string()])
        .timeout(RUN_TIMEOUT);
    let out = sys.run(&cmd).map_err(|e| e.to_string())?;
    parse_run(&out.stdout_text(), runs).map_err(|why| {
        let tail = last_lines(&out.stderr_text(), 1);
        if tail.trim().is_empty() || out.success() {
            why
        } else {
            format!("{why} ({})", tail.trim())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_failure_is_an_answer() {
        let out = "{\"ok\": false, \"error\": \"ImportError: dlopen failed\\nlibtorch_cpu.dylib: image not found\"}\n";
        assert_eq!(
            parse_probe(out).unwrap(),
            Err("libtorch_cpu.dylib: image not found".to_owned())
        );
    }

    #[test]
    fn the_probe_lists_devices() {
        let out = "warning from a library\n{\"ok\": true, \"version\": \"2.5.1\", \"devices\": {\"cpu\": null, \"mps\": \"Apple GPU (MPS)\"}}\n";
        let p = parse_probe(out).unwrap().unwrap();
        assert_eq!(p.version, "2.5.1");
        assert_eq!(p.devices.keys().collect::<Vec<_>>(), ["cpu", "mps"]);
        assert!(parse_probe("").is_err());
        assert!(parse_probe("{broken").is_err());
    }

    #[test]
    fn a_run_becomes_rows() {
        let out = r#"{"ok": true, "version": "2.5.1", "devices": {"cpu": null}, "device": "cpu", "name": null,
 "results": [{"workload": "matmul", "size": 64, "first_s": 0.01, "samples_s": [0.001, 0.002, 0.003], "flops": 524288.0, "precision": "fp32"},
             {"workload": "train_step", "size": 512, "first_s": 0.2, "samples_s": [0.1, 0.1, 0.1], "flops": 4.9e9, "precision": "fp32"}]}"#
            .replace('\n', "");
        let run = parse_run(&out, 3).unwrap();
        assert_eq!(run.rows.len(), 2);
        assert_eq!(run.rows[0].framework, Framework::Torch);
        assert_eq!(run.rows[0].median_s, 0.002);
        assert_eq!(run.rows[1].workload, Workload::TrainStep);
        assert!(parse_run(&out, 4).unwrap_err().contains("not 4"));
        let failed = r#"{"ok": false, "error": "RuntimeError: CUDA out of memory"}"#;
        assert_eq!(
            parse_run(failed, 3).unwrap_err(),
            "RuntimeError: CUDA out of memory"
        );
    }
}
