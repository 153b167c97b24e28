//! The checks' verdicts on hand-made facts.

use super::*;
use crate::platform::EnvFlavor;
use crate::platform::{Conda, Gpu, Homebrew, Python, Torch};

fn ready_mac() -> Facts {
    Facts {
        os: Os::Macos,
        os_version: Some("14.5".into()),
        os_build: Some("23F79".into()),
        arch: Some("arm64".into()),
        process_arch: Some("arm64".into()),
        apple_silicon: true,
        rosetta: Some(false),
        chip: Some("Apple M1 Max".into()),
        memory_bytes: Some(64 * GIB),
        xcode_clt: Some("/Library/Developer/CommandLineTools".into()),
        homebrew: Some(Homebrew {
            path: "/opt/homebrew/bin/brew".into(),
            prefix: "/opt/homebrew".into(),
            version: Some("4.3.5".into()),
        }),
        python: Some(Python {
            path: "/opt/homebrew/bin/python3".into(),
            version: "3.12.4".into(),
            machine: "arm64".into(),
            apple_stub: false,
            in_env: false,
        }),
        conda: Some(Conda {
            path: "/c".into(),
            version: Some("24.11.3".into()),
            platform: Some("osx-arm64".into()),
            envs: vec![],
            base_prefix: None,
        }),
        torch: Some(Torch {
            version: Some("2.5.1".into()),
            error: None,
            installed: Some(true),
            numpy: None,
            mps_built: Some(true),
            mps_available: Some(true),
            cuda_built: Some(false),
            cuda_available: Some(false),
            cuda_version: None,
            device_name: None,
        }),
        gpus: vec![Gpu {
            name: "Apple M1 Max".into(),
            vendor: "Apple".into(),
            cores: Some(32),
            memory_bytes: None,
            driver: Some("Metal 3".into()),
        }],
        disk_free_bytes: Some(300 * GIB),
        ..Facts::default()
    }
}

fn status(results: &[CheckResult], id: &str) -> CheckStatus {
    results.iter().find(|r| r.id.as_str() == id).unwrap().status
}

#[test]
fn every_id_once_in_order() {
    let r = run_all(&Facts::default());
    assert_eq!(r.iter().map(|c| c.id).collect::<Vec<_>>(), CheckId::ALL);
    let ids: Vec<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "os",
            "arch",
            "rosetta",
            "macos-version",
            "xcode-clt",
            "homebrew",
            "git",
            "python",
            "conda",
            "env",
            "workspace",
            "torch",
            "gpu",
            "disk"
        ]
    );
}

#[test]
fn rosetta_python_and_conda_fail_on_apple_silicon() {
    let mut f = ready_mac();
    f.rosetta = Some(true);
    f.python.as_mut().unwrap().machine = "x86_64".into();
    f.conda.as_mut().unwrap().platform = Some("osx-64".into());
    f.homebrew.as_mut().unwrap().prefix = "/usr/local".into();
    let r = run_all(&f);
    for id in ["rosetta", "python", "conda", "homebrew"] {
        assert_eq!(status(&r, id), CheckStatus::Fail, "{id}");
    }
    assert!(r
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .all(|c| c.fix.is_some()));
    assert!(!ready(&r));
}

#[test]
fn off_macos_the_mac_checks_skip() {
    let f = Facts {
        os: Os::Linux,
        os_version: Some("Ubuntu 22.04.4 LTS".into()),
        arch: Some("x86_64".into()),
        ..Facts::default()
    };
    let r = run_all(&f);
    for id in ["rosetta", "macos-version", "xcode-clt", "homebrew"] {
        assert_eq!(status(&r, id), CheckStatus::Skip, "{id}");
    }
    assert_eq!(
        check_git(&f).fix.as_deref(),
        Some("sudo apt-get install -y git")
    );
}

#[test]
fn macos_versions() {
    let mut f = ready_mac();
    for (v, s) in [
        ("12.2.1", CheckStatus::Fail),
        ("13.6", CheckStatus::Warn),
        ("14.5", CheckStatus::Ok),
        ("15.1", CheckStatus::Ok),
        ("x", CheckStatus::Warn),
    ] {
        f.os_version = Some(v.into());
        assert_eq!(check_macos_version(&f).status, s, "{v}");
    }
}

#[test]
fn torch_mps_signatures() {
    let mut f = ready_mac();
    assert_eq!(check_torch(&f).status, CheckStatus::Ok);
    f.torch.as_mut().unwrap().mps_available = Some(false);
    assert_eq!(check_torch(&f).status, CheckStatus::Fail);
    f.torch.as_mut().unwrap().mps_built = Some(false);
    assert!(check_torch(&f).summary.contains("without MPS"));
    f.torch = None;
    f.problems.push(crate::platform::Problem::new(
        "torch",
        "`python -I -B -c ...` timed out after 10s and was stopped",
    ));
    let r = check_torch(&f);
    assert_eq!(r.status, CheckStatus::Warn);
    assert!(r.summary.contains("timed out"), "{}", r.summary);
}

#[test]
fn the_torch_table_decides_macos_and_torch() {
    let mut f = ready_mac();
    f.os_version = Some("13.6".into());
    f.torch.as_mut().unwrap().version = Some("2.10.0".into());
    f.torch.as_mut().unwrap().mps_available = Some(false);
    let t = check_torch(&f);
    assert_eq!(t.status, CheckStatus::Fail);
    assert!(t.summary.contains("needs macOS 14.0"), "{}", t.summary);
    assert_eq!(t.fix.as_deref(), Some("ttm setup"));
    let detail = t.detail.unwrap_or_default();
    assert!(
        detail.contains("update macOS") && detail.contains("torch==2.8.0"),
        "{detail}"
    );
    let m = check_macos_version(&f);
    assert_eq!(m.status, CheckStatus::Warn);
    assert!(
        m.summary.contains("PyTorch 2.10.0 needs macOS 14.0"),
        "{}",
        m.summary
    );

    // A NumPy-1 torch beside NumPy 2.
    let mut f = ready_mac();
    f.torch.as_mut().unwrap().version = Some("2.2.2".into());
    f.torch.as_mut().unwrap().numpy = Some("2.1.0".into());
    assert!(check_torch(&f).summary.contains("NumPy 1.x"));

    // An Intel Mac: Python 3.13 has no torch 2.2.2 wheels.
    let mut f = ready_mac();
    f.apple_silicon = false;
    f.python.as_mut().unwrap().machine = "x86_64".into();
    f.python.as_mut().unwrap().version = "3.13.1".into();
    let p = check_python(&f);
    assert_eq!(p.status, CheckStatus::Fail);
    assert!(p.summary.contains("3.8–3.12"), "{}", p.summary);
}

#[test]
fn a_torch_that_does_not_import_fails_with_the_reinstall() {
    let mut f = ready_mac();
    let t = f.torch.as_mut().unwrap();
    t.version = None;
    t.error = Some("ImportError: dlopen(x): Library not loaded: @rpath/libtorch_cpu.dylib".into());
    let r = check_torch(&f);
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(r
        .summary
        .ends_with("Library not loaded: @rpath/libtorch_cpu.dylib"));
    assert!(r.fix.unwrap().starts_with("ttm setup --reinstall"));
    f.torch.as_mut().unwrap().error = Some("ModuleNotFoundError: No module named 'torch'".into());
    f.torch.as_mut().unwrap().installed = Some(false);
    assert!(check_torch(&f).summary.contains("not installed"));
}

#[test]
fn an_intel_conda_is_a_warning_once_the_env_is_arm64() {
    let mut f = ready_mac();
    f.conda.as_mut().unwrap().platform = Some("osx-64".into());
    assert_eq!(check_conda(&f).status, CheckStatus::Fail);
    f.env = Some(crate::platform::ProjectEnv {
        flavor: EnvFlavor::Conda,
        name: "torch_metal".into(),
        prefix: "/c/envs/torch_metal".into(),
        python: "/c/envs/torch_metal/bin/python".into(),
        python_version: Some("3.10.16".into()),
        python_machine: Some("arm64".into()),
    });
    assert_eq!(check_conda(&f).status, CheckStatus::Warn);
    f.env.as_mut().unwrap().python_machine = Some("x86_64".into());
    assert_eq!(check_conda(&f).status, CheckStatus::Fail);
    assert_eq!(check_env(&f).status, CheckStatus::Fail);
}

#[test]
fn disk_thresholds() {
    let mut f = ready_mac();
    f.disk_free_bytes = Some(GIB);
    assert_eq!(check_disk(&f).status, CheckStatus::Fail);
    f.disk_free_bytes = Some(10 * GIB);
    assert_eq!(check_disk(&f).status, CheckStatus::Warn);
    f.disk_free_bytes = None;
    assert_eq!(check_disk(&f).status, CheckStatus::Warn);
}
