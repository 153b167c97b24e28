//! The release's moving parts that cannot run here (GitHub's macOS runners,
//! Homebrew): the workflows checked against GitHub's workflow schema, and
//! the names that the installer, the workflow and the formula must agree on.

use std::path::Path;
use std::process::Command;

use crate::tools::pypi_tool;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_workflows_match_githubs_schema() {
    let check = pypi_tool("check-jsonschema", "0.39.0", "check-jsonschema");
    let out = Command::new(check)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args([".github/workflows/ci.yml", ".github/workflows/release.yml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_broken_workflow_is_caught_by_the_schema_check() {
    let check = pypi_tool("check-jsonschema", "0.39.0", "check-jsonschema");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        read(".github/workflows/ci.yml").replace("runs-on:", "run-on:"),
    )
    .unwrap();
    let out = Command::new(check)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a job without runs-on passed");
}

#[test]
fn the_release_builds_every_target_the_installer_downloads() {
    let release = read(".github/workflows/release.yml");
    let install = read("scripts/install.sh");
    assert!(
        release.contains("tags: [\"v*\"]"),
        "releases come from tags"
    );
    for target in [
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "x86_64-unknown-linux-gnu",
    ] {
        assert!(release.contains(&format!("target: {target}")), "{target}");
    }
    // The names the installer fetches are the names the release uploads.
    assert!(install.contains("archive=ttm-$target.tar.gz"));
    assert!(install.contains("\"$archive.sha256\""));
    assert!(release.contains("archive=\"ttm-${{ matrix.target }}.tar.gz\""));
    assert!(release.contains("shasum -a 256 \"$archive\" > \"$archive.sha256\""));
    assert!(release.contains("lipo -create"), "a universal macOS binary");
    assert!(release.contains("cargo test --locked"));
    // The self-test is recorded, never fatal (a runner may have no GPU).
    let selftest = &release[release.find("name: ttm selftest").unwrap()..];
    assert!(selftest.contains("set +e"), "{selftest}");
}

#[test]
fn the_formula_builds_from_source_with_completions_and_tests_itself() {
    let formula = read("scripts/packaging/ttm.rb");
    let release = read(".github/workflows/release.yml");
    assert!(formula.contains("depends_on \"rust\" => :build"));
    assert!(formula.contains("archive/refs/tags/v@VERSION@.tar.gz"));
    assert!(formula.contains("generate_completions_from_executable(bin/\"ttm\", \"completions\")"));
    let test = &formula[formula.find("test do").expect("a test block")..];
    assert!(test.contains("ttm doctor --json"));
    assert!(test.contains("ttm selftest --device cpu --json"));
    // Every token of the template is one the release fills in.
    for token in formula.split('@').skip(1).step_by(2) {
        assert!(
            release.contains(&format!("s/@{token}@/")),
            "the release workflow does not fill @{token}@"
        );
    }
}
