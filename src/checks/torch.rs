//! PyTorch in the project environment: does it import, does it see the GPU.

use super::system::both_fixes;
use super::{is_mac, probe_trouble, CheckId, CheckResult};
use crate::compat::{self, major_minor, show};
use crate::env_kind::EnvKind;
use crate::platform::Facts;

pub fn check_torch(f: &Facts) -> CheckResult {
    const ID: CheckId = CheckId::Torch;
    let python = match &f.env {
        Some(e) => crate::system::shell_quote(&e.python.display().to_string()),
        None => "python3".to_owned(),
    };
    let pip = format!("{python} -m pip install torch torchvision torchaudio");
    let wants_env = f
        .env_expected
        .as_ref()
        .map(|e| e.kind != EnvKind::None)
        .unwrap_or(true);
    let Some(t) = &f.torch else {
        if let Some(trouble) = probe_trouble(f, ID, "torch", "PyTorch") {
            return trouble;
        }
        return if wants_env && f.env.is_none() {
            CheckResult::fail(ID, "no project environment to look in").fix("ttm setup")
        } else {
            CheckResult::fail(ID, "could not ask Python about PyTorch").fix(pip)
        };
    };
    let Some(version) = &t.version else {
        let err = t.error.clone().unwrap_or_default();
        if !f.torch_broken() {
            return CheckResult::fail(ID, "PyTorch is not installed in the environment")
                .detail(err)
                .fix("ttm setup");
        }
        let mut r = CheckResult::fail(ID, format!("PyTorch is installed but does not import: {err}"))
            .detail("pip still lists it and answers \"Requirement already satisfied\": only a forced reinstall repairs it.")
            .detail(format!(
                "Or: {python} -m pip install --force-reinstall --no-deps torch torchvision torchaudio"
            ))
            .fix("ttm setup --reinstall")
            .with_problems(f, "torch");
        if err.contains("have 'x86_64', need 'arm64'") || err.contains("incompatible architecture")
        {
            r = r.detail("An x86_64 build on Apple Silicon: the environment runs under Rosetta.");
        }
        return r;
    };
    if let Some(r) = numpy_mismatch(t, version, &python) {
        return r;
    }
    if is_mac(f) {
        if !f.apple_silicon {
            // PyTorch's MPS backend also runs on the AMD GPUs of some Intel Macs.
            return if t.mps_available == Some(true) {
                CheckResult::warn(
                    ID,
                    format!("PyTorch {version}, MPS available on an Intel Mac (AMD GPU)"),
                )
                .detail(format!(
                    "{} was the last release for Intel Macs.",
                    compat::INTEL_MAC
                ))
            } else {
                CheckResult::warn(
                    ID,
                    format!("PyTorch {version}, CPU only (no MPS on this Intel Mac)"),
                )
            };
        }
        let macos = f.os_version.as_deref().unwrap_or("?");
        let mm = f.os_version.as_deref().and_then(major_minor);
        let floor = compat::mps_floor(version);
        return match (t.mps_built, t.mps_available) {
            (Some(true), Some(true)) => CheckResult::ok(ID, format!("PyTorch {version}, MPS available")),
            (Some(true), _) if f.rosetta == Some(true) || f.env.as_ref().and_then(|e| e.python_machine.as_deref()) == Some("x86_64") => {
                CheckResult::fail(ID, format!("PyTorch {version} cannot use MPS: its Python is x86_64 and runs under Rosetta"))
                    .detail("An Intel (x86_64) Python on Apple Silicon never sees the GPU.")
                    .detail("Make the environment again with an arm64 Python (see Environment): ttm setup does.")
                    .fix("ttm setup")
            }
            (Some(true), _) if matches!((mm, floor), (Some(m), Some(fl)) if m < fl) => {
                let fl = floor.map(show).unwrap_or_default();
                CheckResult::fail(ID, format!("PyTorch {version} needs macOS {fl} for MPS; this Mac has macOS {macos}"))
                    .detail("MPS is built in but not available: the signature of a macOS too old for this torch.")
                    .detail(super::system::keep_macos(macos, compat::for_mac(true, mm)))
                    .fix(both_fixes(macos, compat::for_mac(true, mm)))
            }
            (Some(true), _) => CheckResult::fail(ID, format!("PyTorch {version} has MPS built in, but MPS is not available"))
                .detail(format!("macOS {macos} should run its MPS; a Python under Rosetta is the other known cause."))
                .fix(format!("{python} -m pip install --force-reinstall torch torchvision torchaudio")),
            (Some(false), _) => CheckResult::fail(ID, format!("PyTorch {version} was built without MPS"))
                .detail("Typically installed from a CUDA index URL, which has no Mac wheels.")
                .fix(pip.replace("pip install", "pip install --force-reinstall")),
            _ => CheckResult::warn(ID, format!("PyTorch {version}: could not tell whether MPS works")),
        };
    }
    let has_nvidia = f.gpus.iter().any(|g| g.vendor == "NVIDIA");
    match t.cuda_available {
        Some(true) => CheckResult::ok(
            ID,
            format!(
                "PyTorch {version}, CUDA {} available{}",
                t.cuda_version.as_deref().unwrap_or("?"),
                t.device_name
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        ),
        _ if has_nvidia => {
            CheckResult::fail(ID, format!("PyTorch {version} cannot use the NVIDIA GPU"))
                .detail(match &t.cuda_version {
                    None => "This torch was built without CUDA (a CPU-only wheel).".to_owned(),
                    Some(v) => format!("Built for CUDA {v}; the driver may be too old for it."),
                })
                .fix(pip.replace("pip install", "pip install --force-reinstall"))
        }
        _ => CheckResult::warn(
            ID,
            format!("PyTorch {version}, CPU only (no GPU it can use)"),
        ),
    }
}

/// A torch built against NumPy 1.x beside NumPy 2: `from_numpy` fails.
fn numpy_mismatch(t: &crate::platform::Torch, version: &str, python: &str) -> Option<CheckResult> {
    let numpy = t.numpy.as_deref()?;
    let numpy_2 = major_minor(numpy).is_some_and(|(major, _)| major >= 2);
    (numpy_2 && compat::needs_numpy_below_2(version)).then(|| {
        CheckResult::fail(
            CheckId::Torch,
            format!("PyTorch {version} was built against NumPy 1.x, but numpy {numpy} is installed"),
        )
        .detail("\"A module that was compiled using NumPy 1.x cannot be run in NumPy 2\": torch.from_numpy fails.")
        .detail(format!("Or: {python} -m pip install 'numpy<2'"))
        .fix("ttm setup")
    })
}
