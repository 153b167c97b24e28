//! The torch probe's answer is kept between runs (`import torch` takes
//! seconds) and asked again as soon as anything it depends on changes.

use std::path::Path;

use crate::common::{output, write_executable, TestContext};

/// A workspace venv whose python answers the doctor's probes and counts
/// each time it is asked about torch.
fn venv_that_counts(ctx: &TestContext) -> std::path::PathBuf {
    let venv = ctx.workspace().join(".venv");
    std::fs::create_dir_all(venv.join("lib/python3.11/site-packages")).unwrap();
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    let count = ctx.temp.path().join("torch-asked");
    write_executable(
        &venv.join("bin/python"),
        &format!(
            r##"#!/bin/sh
case "$*" in
  *"# ttm:python-info"*)
    echo '{{"ok": true, "version": "3.11.9", "machine": "x86_64", "prefix": "{venv}", "base_prefix": "/usr", "conda": false}}'; exit 0 ;;
  *"# ttm:torch-probe"*)
    echo asked >> "{count}"
    echo '{{"ok": true, "installed": true, "version": "2.99.0", "mps_built": false, "mps_available": false, "cuda_built": false, "cuda_available": false, "cuda_version": null}}'
    exit 0 ;;
esac
exit 3
"##,
            venv = venv.display(),
            count = count.display()
        ),
    );
    count
}

fn times_asked(count: &Path) -> usize {
    std::fs::read_to_string(count)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_second_doctor_reuses_the_answer_until_a_package_changes() {
    let ctx = TestContext::new();
    let count = venv_that_counts(&ctx);

    let (code, first, err) = output(&mut ctx.ttm(["doctor", "--json"]));
    assert!(code == 0 || code == 1, "{first}\n{err}");
    assert_eq!(times_asked(&count), 1);

    // Again: the same answer, not asked, and -v says where it came from.
    let (_, second, _) = output(&mut ctx.ttm(["doctor", "--json"]));
    assert_eq!(times_asked(&count), 1, "the kept answer was not used");
    let torch = |doc: &str| {
        let v: serde_json::Value = serde_json::from_str(doc).unwrap();
        v["facts"]["torch"].clone()
    };
    assert_eq!(torch(&first), torch(&second));
    assert_eq!(torch(&second)["version"], "2.99.0");
    let (_, verbose, _) = output(&mut ctx.ttm(["doctor", "-v"]));
    assert!(
        verbose.contains("PyTorch's answer was kept from 20"),
        "{verbose}"
    );
    assert_eq!(times_asked(&count), 1);

    // pip adds a package: the env's site-packages changed, so torch is asked again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::create_dir(
        ctx.workspace()
            .join(".venv/lib/python3.11/site-packages/numpy"),
    )
    .unwrap();
    let (_, verbose, _) = output(&mut ctx.ttm(["doctor", "-v"]));
    assert_eq!(times_asked(&count), 2, "a changed env must be asked again");
    assert!(!verbose.contains("was kept from"), "{verbose}");

    // A variable torch reads at import is part of the key too.
    let ctx = ctx.env("CUDA_VISIBLE_DEVICES", "0");
    let _ = output(&mut ctx.ttm(["doctor", "--json"]));
    assert_eq!(times_asked(&count), 3);
}

#[test]
fn a_damaged_cache_is_asked_again_and_replaced() {
    let ctx = TestContext::new();
    let count = venv_that_counts(&ctx);
    let _ = output(&mut ctx.ttm(["doctor", "--json"]));
    let probes = ctx.home.join(".cache/ttm/probes");
    let kept: Vec<_> = std::fs::read_dir(&probes).unwrap().flatten().collect();
    assert_eq!(kept.len(), 1, "one file per interpreter");
    std::fs::write(kept[0].path(), "{broken").unwrap();
    let (code, out, err) = output(&mut ctx.ttm(["doctor", "--json"]));
    assert!(code == 0 || code == 1, "{out}\n{err}");
    assert_eq!(times_asked(&count), 2);
    let text = std::fs::read_to_string(kept[0].path()).unwrap();
    assert!(text.contains("2.99.0"), "{text}");
}
