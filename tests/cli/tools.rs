//! Linters the tests run (shellcheck, a GitHub workflow schema check), taken
//! from PyPI into a throwaway venv under `target/test-tools/`, made once and
//! reused. PyPI is the one network the tests may use; a machine without it
//! fails these tests with the reason, it does not skip them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

static MAKING: Mutex<()> = Mutex::new(());

/// `program` from `package==version`, installed with the machine's python3.
pub fn pypi_tool(package: &str, version: &str, program: &str) -> PathBuf {
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|p| p.into_inner());
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-tools")
        .join(format!("{package}-{version}"));
    let exe = venv.join("bin").join(program);
    // Written last: a venv without it is a half-made one, made again.
    let done = venv.join(".complete");
    if done.is_file() && exe.is_file() {
        return exe;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed (the tests take {package} from PyPI):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv",
    );
    run(
        Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .arg(format!("{package}=={version}")),
        &format!("pip install {package}=={version}"),
    );
    assert!(exe.is_file(), "{package} has no {program}");
    std::fs::write(&done, "").unwrap();
    exe
}
