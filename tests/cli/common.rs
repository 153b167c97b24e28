//! The test context (uv's `TestContext`): a temporary HOME, a PATH we choose
//! (a fixture's shims first), `LC_ALL=C`, `NO_COLOR=1`, `COLUMNS=100`, and
//! nothing inherited from the developer's environment. Every test runs the
//! real `ttm` binary.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

pub struct TestContext {
    pub temp: TempDir,
    pub home: PathBuf,
    /// Directories put first on PATH (fixture bins, per-test shims).
    pub path_front: Vec<PathBuf>,
    /// Whether the system directories (/usr/bin, /bin) follow on PATH.
    pub system_path: bool,
    pub extra_env: Vec<(OsString, OsString)>,
}

/// The repository's `tests/fixtures` folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

impl TestContext {
    /// A context with an empty HOME and the system PATH only.
    pub fn new() -> TestContext {
        let temp = tempfile::Builder::new()
            .prefix("ttm-test")
            .tempdir()
            .unwrap();
        let home = temp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        TestContext {
            temp,
            home,
            path_front: Vec::new(),
            system_path: true,
            extra_env: Vec::new(),
        }
    }

    /// A context presenting a fixture's machine: its `bin/` first on PATH,
    /// then (unless `isolated`) the system directories.
    pub fn fixture(profile: &str) -> TestContext {
        let mut ctx = TestContext::new();
        let bin = fixtures_dir().join(profile).join("bin");
        assert!(bin.is_dir(), "no fixture bin at {}", bin.display());
        ctx.path_front.push(bin);
        ctx
    }

    /// Only the fixture's shims (and `shim_dir`) are on PATH.
    pub fn isolated(mut self) -> TestContext {
        self.system_path = false;
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> TestContext {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// The default workspace under the temporary HOME.
    pub fn workspace(&self) -> PathBuf {
        self.home.join("torch_to_the_metal")
    }

    /// A folder for per-test shims, first on PATH.
    pub fn shim_dir(&mut self) -> PathBuf {
        let dir = self.temp.path().join("shims");
        if !dir.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            self.path_front.insert(0, dir.clone());
        }
        dir
    }

    /// Write an executable shell script `name` into the shim folder.
    pub fn shim(&mut self, name: &str, script: &str) -> PathBuf {
        let path = self.shim_dir().join(name);
        write_executable(&path, &format!("#!/bin/sh\n{script}\n"));
        path
    }

    pub fn path_var(&self) -> OsString {
        let mut dirs = self.path_front.clone();
        if self.system_path {
            dirs.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from));
        }
        std::env::join_paths(dirs).unwrap()
    }

    /// `ttm ARGS` in this context: cleared environment, then ours.
    pub fn ttm<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::cargo_bin("ttm").unwrap();
        cmd.env_clear()
            .env("HOME", &self.home)
            .env("PATH", self.path_var())
            .env("LC_ALL", "C")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env("TTM_TEST_FIXTURES", fixtures_dir())
            .current_dir(self.temp.path())
            .args(args);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// insta filters that hide what changes from run to run.
    pub fn filters(&self) -> Vec<(String, String)> {
        vec![
            (
                regex_escape(&self.temp.path().display().to_string()),
                "[TEMP]".to_owned(),
            ),
            (
                regex_escape(&fixtures_dir().display().to_string()),
                "[FIXTURES]".to_owned(),
            ),
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z".to_owned(),
                "[TIMESTAMP]".to_owned(),
            ),
            (
                r"\b\d+(\.\d+)?\s?(ms|s|µs)\b".to_owned(),
                "[TIME]".to_owned(),
            ),
            (
                regex_escape(env!("CARGO_PKG_VERSION")),
                "[VERSION]".to_owned(),
            ),
        ]
    }
}

/// The one set of insta settings for a snapshot of ttm's output: the
/// context's [`TestContext::filters`], less those whose replacement is named
/// in `without` (e.g. `"[TIME]"` where the times are what is shown). Bind
/// them around `insta::assert_snapshot!` at the test, so the snapshot keeps
/// its test's name and source:
///
/// ```ignore
/// snapshot_settings(&ctx, &[]).bind(|| insta::assert_snapshot!("name", text));
/// ```
pub fn snapshot_settings(ctx: &TestContext, without: &[&str]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (from, to) in ctx.filters() {
        if !without.contains(&to.as_str()) {
            settings.add_filter(&from, to);
        }
    }
    settings
}

pub fn write_executable(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

pub fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Run and return (exit code, stdout, stderr).
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
