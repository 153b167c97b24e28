//! `ttm setup` end to end: bad input refused with nothing changed, the plan,
//! a real venv with a real (offline) pip install twice over, resuming after
//! a failed step, the order of the commands run (recording shims), and the
//! Proceed / Customize / Cancel menu driven through a pty.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

/// Every file under `root` with its bytes (symlinks: their target).
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if meta.file_type().is_symlink() {
                out.insert(
                    rel,
                    std::fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                );
            } else if meta.is_dir() {
                out.insert(rel, b"<dir>".to_vec());
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn assert_same_tree(before: &BTreeMap<PathBuf, Vec<u8>>, after: &BTreeMap<PathBuf, Vec<u8>>) {
    let changed: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(changed.is_empty(), "files changed: {changed:?}");
}

/// Build the offline wheels (the stand-in torch and friends) into the temp dir.
pub(crate) fn build_wheels(ctx: &TestContext, extra: &[&str]) -> PathBuf {
    let out = ctx.temp.path().join("wheels");
    let status = std::process::Command::new("python3")
        .arg(fixtures_dir().join("setup-wheels/build_wheels.py"))
        .arg(&out)
        .args(extra)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// The folder of the Python the tests themselves find (through pyenv's shims
/// too), so the real-venv tests use the same interpreter on any machine.
fn real_python_dir() -> PathBuf {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    assert!(out.status.success(), "the tests need python3 with venv");
    let exe = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    exe.parent().unwrap().to_path_buf()
}

/// pip reads these itself: no index, only the test's wheels. The machine's
/// real python3 first on PATH.
pub(crate) fn offline(mut ctx: TestContext, wheels: &Path) -> TestContext {
    let dir = real_python_dir();
    if !ctx.path_front.contains(&dir) {
        ctx.path_front.push(dir);
    }
    ctx.env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", wheels)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
}

#[test]
fn no_terminal_and_no_yes_exits_2_at_once() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm(["setup"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(out.is_empty(), "{out}");
    // It refused before it asked anything or ran anything.
    assert!(!err.contains("Proceed"), "{err}");
    assert!(!ctx.workspace().exists());
}

#[test]
fn bad_inputs_exit_2_and_change_nothing() {
    let ctx = TestContext::new();
    let file = ctx.home.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let manifests = ctx.temp.path().join("m");
    for (name, toml, lock) in [
        ("not-toml", "this is [ not toml", None),
        ("unknown-key", "schema = 1\nttm_version = \"0.1.0\"\ncolour = 1\n[environment]\nkind = \"venv\"\nname = \"t\"\npython = \"3.11\"\n", None),
        ("broken-lock", "schema = 1\nttm_version = \"0.1.0\"\n[environment]\nkind = \"venv\"\nname = \"t\"\npython = \"3.11\"\n", Some("torch==2.5.1\nnumpy>=2\n")),
    ] {
        let dir = manifests.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ttm.toml"), toml).unwrap();
        if let Some(lock) = lock {
            std::fs::write(dir.join("requirements.lock"), lock).unwrap();
        }
    }
    let m = |n: &str| manifests.join(n).join("ttm.toml").display().to_string();
    let inside = file.join("ws").display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--env".into(), "pixi".into()], "pixi"),
        (
            vec!["--python".into(), "three".into()],
            "not a Python version",
        ),
        (
            vec!["--python".into(), "2.7".into()],
            "not a Python version",
        ),
        (
            vec!["--workspace".into(), inside, "--dry-run".into()],
            "is a file",
        ),
        (
            vec!["--from".into(), m("not-toml")],
            "not a valid ttm manifest",
        ),
        (vec!["--from".into(), m("unknown-key")], "colour"),
        (vec!["--from".into(), m("broken-lock")], "line 2"),
        (
            vec!["--packages".into(), "numpy ;rm -rf ~".into()],
            "not a package",
        ),
        (
            vec!["--packages".into(), "numpy$(reboot)".into()],
            "not a package",
        ),
        (
            vec!["--env-name".into(), "my env".into()],
            "not an environment name",
        ),
    ];
    let before = tree(ctx.temp.path());
    for (args, needle) in cases {
        let mut all = vec!["setup".to_owned(), "--yes".to_owned()];
        all.extend(args.iter().cloned());
        let (code, out, err) = output(&mut ctx.ttm(&all));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            err.lines().next().unwrap_or("").contains("error:"),
            "{args:?}: {err}"
        );
        assert_same_tree(&before, &tree(ctx.temp.path()));
    }
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let ctx = TestContext::new();
    let before = tree(ctx.temp.path());
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--dry-run", "--packages", "pandas>=2"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[to do] Python environment (venv)"), "{out}");
    assert!(out.contains("-m venv --prompt torch_metal"), "{out}");
    assert!(out.contains("-m pip install -r"), "{out}");
    assert!(out.contains("pandas>=2"), "{out}");
    assert!(out.contains("Dry run: nothing was changed."), "{out}");
    let (code, out, _) = output(&mut ctx.ttm(["setup", "--dry-run", "--json"]));
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["status"], "planned");
    let ids: Vec<&str> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "system-packages",
            "workspace",
            "environment",
            "requirements",
            "pip-install",
            "torch-check",
            "selftest",
            "lock",
            "manifest"
        ]
    );
    assert_same_tree(&before, &tree(ctx.temp.path()));
}

#[test]
fn a_real_venv_offline_then_nothing_to_do_and_every_file_identical() {
    let ctx = TestContext::new();
    let wheels = build_wheels(&ctx, &["pandas", "numpy"]);
    let ctx = offline(ctx, &wheels);
    let (code, out, err) =
        output(&mut ctx.ttm(["setup", "--yes", "--no-selftest", "--packages", "pandas"]));
    assert_eq!(code, 0, "{out}\n{err}");
    let ws = ctx.workspace();
    assert!(out.contains("torch 2.99.0+fake on cpu: weight"), "{out}");
    assert!(out.contains("Setup is done."), "{out}");
    for f in [
        "notebooks",
        "data",
        "models",
        "logs/pip-install.log",
        ".venv/bin/python",
        ".ttm/state",
    ] {
        assert!(ws.join(f).exists(), "{f}");
    }
    let lock = std::fs::read_to_string(ws.join("requirements.lock")).unwrap();
    assert!(
        lock.contains("torch==2.99.0\n") && lock.contains("pandas==2.99.0\n"),
        "{lock}"
    );
    let req = std::fs::read_to_string(ws.join("requirements.txt")).unwrap();
    assert!(
        req.contains("\ntorch\ntorchvision\ntorchaudio\n") && req.ends_with("pandas\n"),
        "{req}"
    );
    let manifest = std::fs::read_to_string(ws.join("ttm.toml")).unwrap();
    assert!(
        manifest.contains("kind = \"venv\"") && manifest.contains("\"pandas\""),
        "{manifest}"
    );

    // Again: nothing to do, and not one byte changes anywhere under HOME.
    let before = tree(&ctx.home);
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Nothing to do"), "{out}");
    assert!(!out.contains("[to do]"), "{out}");
    assert_same_tree(&before, &tree(&ctx.home));

    // And --json says so in one document.
    let (code, out, _) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest", "--json"]));
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["status"], "nothing-to-do");
    assert_same_tree(&before, &tree(&ctx.home));

    // The user edits requirements.txt: theirs is kept and installed, ttm's goes beside it.
    std::fs::write(ws.join("requirements.txt"), "torch\nnumpy\n").unwrap();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("you changed it, so yours is kept"), "{out}");
    assert_eq!(
        std::fs::read_to_string(ws.join("requirements.txt")).unwrap(),
        "torch\nnumpy\n"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("requirements.txt.new")).unwrap(),
        req
    );
    assert!(std::fs::read_to_string(ws.join("requirements.lock"))
        .unwrap()
        .contains("numpy==2.99.0"));
}

#[test]
fn from_a_manifest_installs_the_locked_versions() {
    let ctx = TestContext::new();
    let wheels = build_wheels(&ctx, &[]);
    let ctx = offline(ctx, &wheels);
    let old = ctx.temp.path().join("old-mac");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(
        old.join("ttm.toml"),
        "schema = 1\nttm_version = \"0.1.0\"\n[environment]\nkind = \"venv\"\nname = \"book\"\npython = \"3.11\"\n[packages]\nextra = []\nnotebook = false\nselftest = false\n",
    )
    .unwrap();
    std::fs::write(
        old.join("requirements.lock"),
        "# frozen\ntorch==2.99.0\ntorchvision==2.99.0\n",
    )
    .unwrap();
    let from = old.join("ttm.toml").display().to_string();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--json", "--from", &from]));
    assert_eq!(code, 0, "{out}\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["status"], "done");
    assert_eq!(doc["torch_check"]["device"], "cpu");
    assert_eq!(doc["torch_check"]["torch"], "2.99.0+fake");
    let pip = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "pip-install")
        .unwrap();
    assert_eq!(pip["title"], "Install the locked packages (pip)");
    assert_eq!(pip["result"], "done");
    assert!(doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["id"] != "selftest"));
    let log = std::fs::read_to_string(ctx.workspace().join("logs/pip-install.log")).unwrap();
    assert!(
        log.contains(&format!("-r {}", old.join("requirements.lock").display())),
        "{log}"
    );
    let lock = std::fs::read_to_string(ctx.workspace().join("requirements.lock")).unwrap();
    assert!(
        lock.contains("torchvision==2.99.0") && !lock.contains("torchaudio"),
        "{lock}"
    );
    let manifest = std::fs::read_to_string(ctx.workspace().join("ttm.toml")).unwrap();
    assert!(
        manifest.contains("name = \"book\"") && manifest.contains("notebook = false"),
        "{manifest}"
    );
}

#[test]
fn a_failed_pip_install_is_resumed_from_that_step() {
    let ctx = TestContext::new();
    let empty = ctx.temp.path().join("no-wheels");
    std::fs::create_dir_all(&empty).unwrap();
    let first = offline(TestContext::new(), &empty);
    // Same HOME for both runs: reuse the first context, then point pip at real wheels.
    let (code, out, err) = output(&mut first.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("step `pip-install`"), "{err}");
    assert!(err.contains("last lines:"), "{err}");
    assert!(
        err.contains("log: ") && err.contains("logs/pip-install.log"),
        "{err}"
    );
    assert!(err.contains("fix: "), "{err}");
    let ws = first.workspace();
    let state = std::fs::read_to_string(ws.join(".ttm/state")).unwrap();
    assert!(
        state.contains("environment") && !state.contains("pip-install"),
        "{state}"
    );
    assert!(!ws.join("requirements.lock").exists());

    let wheels = build_wheels(&ctx, &[]);
    let again = offline(
        TestContext {
            temp: first.temp,
            home: first.home,
            ..TestContext::new()
        },
        &wheels,
    );
    let (code, out, err) = output(&mut again.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("[ok]    Python environment (venv)"), "{out}");
    let env_log = std::fs::read_to_string(ws.join("logs/environment.log")).unwrap();
    assert_eq!(
        env_log.matches("==> ").count(),
        1,
        "the venv was made once: {env_log}"
    );
    let pip_log = std::fs::read_to_string(ws.join("logs/pip-install.log")).unwrap();
    assert_eq!(pip_log.matches("==> ").count(), 2, "{pip_log}");
    assert!(ws.join("requirements.lock").exists());
}

/// Shims: `python3` makes a "venv" whose python records its argv and fails
/// `pip install` the first time.
pub(crate) fn recording_context() -> (TestContext, PathBuf) {
    let mut ctx = TestContext::new();
    let log = ctx.temp.path().join("commands.log");
    let shims = ctx.shim_dir();
    write_executable(
        &shims.join("venv-python"),
        r##"#!/bin/sh
# The doctor's probes: a Linux venv python, with torch once pip installed it.
case "$*" in
  *"# ttm:python-info"*)
    echo '{"ok": true, "version": "3.11.9", "machine": "x86_64", "prefix": "/v", "base_prefix": "/usr", "conda": false}'; exit 0 ;;
  *"# ttm:torch-probe"*)
    if [ -f "$TTM_TEST_LOG.installed" ]; then
      echo '{"ok": true, "installed": true, "version": "2.99.0", "mps_built": false, "mps_available": false, "cuda_built": false, "cuda_available": false, "cuda_version": null}'
    else
      echo '{"ok": false, "installed": false, "error": "ModuleNotFoundError: No module named '"'torch'"'"}'
    fi
    exit 0 ;;
esac
echo "venv-python $1 $2 $3" >> "$TTM_TEST_LOG"
case "$1 $2 $3" in
  "-m pip install")
    if [ ! -f "$TTM_TEST_LOG.pip-ok" ]; then
      touch "$TTM_TEST_LOG.pip-ok"
      echo "Collecting torch"
      echo "ERROR: Could not install packages due to an OSError: network is down" >&2
      exit 1
    fi
    touch "$TTM_TEST_LOG.installed"
    echo "Successfully installed torch-2.99.0"; exit 0 ;;
  "-m pip freeze") echo "torch==2.99.0"; exit 0 ;;
  "-I -B -c") echo '{"ok": true, "torch": "2.99.0", "device": "cpu", "weight": 2.9, "bias": 2.1, "first_loss": 9.0, "final_loss": 0.01}'; exit 0 ;;
esac
exit 3
"##,
    );
    ctx.shim(
        "python3",
        r##"case "$*" in
  *"# ttm:python-info"*)
    echo '{"ok": true, "version": "3.11.9", "machine": "x86_64", "executable": "/usr/bin/python3.11", "prefix": "/usr", "base_prefix": "/usr", "platform": "Linux-6.8.0-x86_64-with-glibc2.36", "conda": false}'
    exit 0 ;;
esac
case "$1" in
  -I) echo "python3 $1 $2" >> "$TTM_TEST_LOG"; echo 3.11.9; exit 0 ;;
  -m) echo "python3 $*" >> "$TTM_TEST_LOG"
      for a; do last=$a; done
      mkdir -p "$last/bin" && cp "$(dirname "$0")/venv-python" "$last/bin/python"; exit 0 ;;
esac
exit 3"##,
    );
    ctx.shim("git", "echo git version 2.47.1");
    // Nothing here may reach the network, whatever python runs.
    let ctx = ctx.env("TTM_TEST_LOG", &log).env("PIP_NO_INDEX", "1");
    (ctx, log)
}

#[test]
fn linux_without_git_gives_the_apt_command_and_changes_nothing() {
    let (mut ctx, _) = recording_context();
    std::fs::remove_file(ctx.shim_dir().join("git")).unwrap();
    // Only the shims on PATH: uname too, or the OS is unknown (a blocker).
    ctx.shim(
        "uname",
        r#"case "$1" in -s) echo Linux ;; -m) echo x86_64 ;; *) echo "Linux 6.8.0-45-generic x86_64" ;; esac"#,
    );
    let ctx = ctx.isolated();
    let before = tree(&ctx.home);
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("[to do] Python and git - missing: git"),
        "{out}"
    );
    assert!(err.contains("fix: sudo apt-get install -y git"), "{err}");
    assert_same_tree(&before, &tree(&ctx.home));
}

#[test]
fn commands_run_in_the_planned_order_and_a_failed_step_resumes() {
    let (ctx, log) = recording_context();
    let ws = ctx.workspace().display().to_string();
    let read = || std::fs::read_to_string(&log).unwrap().replace(&ws, "[WS]");
    let (code, _, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("network is down"), "{err}");
    assert_eq!(
        read(),
        "python3 -m venv --prompt torch_metal [WS]/.venv\n\
         venv-python -m pip install\n"
    );
    std::fs::write(&log, "").unwrap();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        read(),
        "venv-python -m pip install\n\
         venv-python -I -B -c\n\
         venv-python -m pip freeze\n"
    );
    let pip_log = std::fs::read_to_string(ctx.workspace().join("logs/pip-install.log")).unwrap();
    assert!(
        pip_log.contains("$ PIP_DISABLE_PIP_VERSION_CHECK=1 "),
        "{pip_log}"
    );
    assert!(pip_log.contains("-m pip install -r "), "{pip_log}");
    std::fs::write(&log, "").unwrap();
    let (code, out, _) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0);
    assert!(out.contains("Nothing to do"), "{out}");
    assert_eq!(read(), "");
}

#[test]
fn the_selftest_failing_is_a_failed_step() {
    let (ctx, _) = recording_context();
    let _ = std::fs::write(ctx.temp.path().join("commands.log.pip-ok"), "");
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    if code == 0 {
        // `ttm selftest` is built and passed here: then it is recorded as done.
        assert_eq!(doc["selftest"]["ready"], true);
        return;
    }
    assert_eq!(code, 1, "{err}");
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["failure"]["step"], "selftest");
    assert!(err.contains("step `selftest`"), "{err}");
    assert!(!ctx.workspace().join("ttm.toml").exists());
}

/// A pty session: the real dialoguer prompts.
struct Pty {
    buf: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Pty {
    fn spawn(ctx: &TestContext, args: &[&str]) -> Pty {
        use portable_pty::{native_pty_system, CommandBuilder, PtySize};
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 50,
                cols: 200,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(assert_cmd::cargo::cargo_bin("ttm"));
        cmd.args(args);
        cmd.env_clear();
        cmd.env("HOME", &ctx.home);
        cmd.env("PATH", ctx.path_var());
        cmd.env("LC_ALL", "C");
        cmd.env("NO_COLOR", "1");
        cmd.env("TERM", "xterm");
        for (k, v) in &ctx.extra_env {
            cmd.env(k, v);
        }
        cmd.cwd(ctx.temp.path());
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let buf = Arc::new(Mutex::new(Vec::new()));
        let b = buf.clone();
        std::thread::spawn(move || {
            let _keep = pair.master;
            let mut chunk = [0u8; 4096];
            while let Ok(n) = reader.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                b.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        Pty { buf, writer, child }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    /// Wait until the output holds `needle` `times` times.
    fn expect(&self, needle: &str, times: usize) {
        let started = Instant::now();
        while self.text().matches(needle).count() < times {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no {needle:?} in:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, keys: &str) {
        std::thread::sleep(Duration::from_millis(400));
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn exit_code(&mut self) -> u32 {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "still running:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

const DOWN: &str = "\x1b[B";

#[test]
fn pty_cancel_changes_nothing() {
    let (ctx, _) = recording_context();
    let before = tree(&ctx.home);
    let mut pty = Pty::spawn(&ctx, &["setup", "--no-selftest"]);
    pty.expect("Proceed with this plan?", 1);
    pty.expect("Cancel", 1);
    pty.send(DOWN);
    pty.expect("❯ Customize", 1);
    pty.send(DOWN);
    pty.expect("❯ Cancel", 1);
    pty.send("\r");
    assert_eq!(pty.exit_code(), 2);
    // The reader may still be catching up with the last output.
    pty.expect("Cancelled. Nothing was changed.", 1);
    assert!(!pty.text().contains("error:"), "{}", pty.text());
    assert_same_tree(&before, &tree(&ctx.home));
}

const CTRL_C: &str = "\x03";

/// The cursor is visible again after the last time a prompt hid it.
fn cursor_shown(text: &str) -> bool {
    match text.rfind("\x1b[?25l") {
        None => true,
        Some(i) => text[i..].contains("\x1b[?25h"),
    }
}

/// The prompts of Proceed / Customize, in the order they come, each with
/// what it says first.
const PROMPTS: [&str; 8] = [
    "? Proceed with this plan?",
    "? Workspace",
    "? Environment ›",
    "? Environment name",
    "? Python version",
    "? Extra packages",
    "? Notebook tooling",
    "? Run ttm's self-test",
];

#[test]
fn pty_ctrl_c_at_every_prompt_shows_the_cursor_says_cancelled_and_exits_130() {
    for (k, prompt) in PROMPTS.iter().enumerate() {
        let (ctx, _) = recording_context();
        let before = tree(&ctx.home);
        let mut pty = Pty::spawn(&ctx, &["setup", "--no-selftest"]);
        pty.expect("Proceed with this plan?", 1);
        pty.expect("Cancel", 1);
        if k > 0 {
            pty.send(DOWN);
            pty.expect("❯ Customize", 1);
            pty.send("\r");
            for earlier in &PROMPTS[1..k] {
                pty.expect(earlier, 1);
                pty.send("\r");
            }
        }
        pty.expect(prompt, 1);
        pty.send(CTRL_C);
        assert_eq!(pty.exit_code(), 130, "at {prompt:?}:\n{}", pty.text());
        pty.expect("Cancelled", 1);
        let text = pty.text();
        assert!(!text.contains("error:"), "at {prompt:?}:\n{text}");
        assert!(
            cursor_shown(&text),
            "cursor left hidden at {prompt:?}:\n{text:?}"
        );
        assert_same_tree(&before, &tree(&ctx.home));
    }
}

#[test]
fn pty_the_plan_fits_100_columns_on_a_wide_terminal() {
    // A fresh Mac: the longest plan (Homebrew's installer URL, every step to do).
    let ctx = TestContext::fixture("fresh-mac").isolated();
    let mut pty = Pty::spawn(&ctx, &["setup", "--no-selftest"]);
    pty.expect("Proceed with this plan?", 1);
    let text = pty.text();
    let start = text.find("ttm setup: the plan").unwrap();
    let plan = &text[start..text.find("Proceed with this plan?").unwrap()];
    assert!(plan.contains("[to do] Homebrew"), "{plan}");
    for l in plan.lines() {
        let l = l.trim_end_matches('\r');
        assert!(
            l.chars().count() <= 100,
            "{} columns: {l}\n{plan}",
            l.chars().count()
        );
    }
    pty.send(CTRL_C);
    assert_eq!(pty.exit_code(), 130, "{}", pty.text());
}

#[test]
fn pty_customize_without_conda_offers_no_conda_and_asks_again_on_bad_answers() {
    let (ctx, log) = recording_context();
    let mut pty = Pty::spawn(&ctx, &["setup", "--no-selftest"]);
    pty.expect("Proceed with this plan?", 1);
    pty.expect("Cancel", 1);
    pty.send(DOWN);
    pty.expect("❯ Customize", 1);
    pty.send("\r");
    pty.expect("Workspace", 1);
    pty.send("\r");
    pty.expect("none (pip install --user)", 1);
    let menu = pty.text();
    let menu = &menu[menu.rfind("Environment").unwrap()..];
    assert!(
        !menu.contains("conda"),
        "conda offered without conda:\n{menu}"
    );
    pty.send("\r");
    pty.expect("Environment name", 1);
    pty.send("bad name!\r");
    pty.expect("is not an environment name", 1);
    pty.send("\r");
    pty.expect("Python version", 1);
    pty.send("3.99\r");
    pty.expect("PyTorch has no wheels for Python 3.99", 1);
    // Asked again: the default (auto) this time.
    pty.send("\r");
    pty.expect("Extra packages", 1);
    pty.send("\r");
    pty.expect("Notebook tooling", 1);
    pty.send("\r");
    pty.expect("self-test at the end", 1);
    pty.send("\r");
    pty.expect("Proceed with this plan?", 2);
    pty.send(DOWN);
    pty.send(DOWN);
    pty.expect("❯ Cancel", 1);
    pty.send("\r");
    assert_eq!(pty.exit_code(), 2, "{}", pty.text());
    pty.expect("Cancelled. Nothing was changed.", 1);
    let text = pty.text();
    assert!(
        !text.contains("--env-name"),
        "a flag named inside a prompt:\n{text}"
    );
    assert!(
        !text.contains("3.99 from") && !text.contains("python3.99"),
        "{text}"
    );
    assert!(!text.contains("keeping the current choice"), "{text}");
    assert!(!text.contains("error:"), "{text}");
    assert!(
        !log.exists()
            || !std::fs::read_to_string(&log)
                .unwrap()
                .contains("pip install")
    );
}

#[test]
fn pty_customize_one_value_then_proceed() {
    let (ctx, log) = recording_context();
    std::fs::write(ctx.temp.path().join("commands.log.pip-ok"), "").unwrap();
    let mut pty = Pty::spawn(&ctx, &["setup", "--no-selftest"]);
    pty.expect("Proceed with this plan?", 1);
    pty.expect("Cancel", 1);
    pty.send(DOWN);
    pty.expect("❯ Customize", 1);
    pty.send("\r"); // Customize
    pty.expect("Workspace", 1);
    pty.send("\r");
    pty.expect("Environment", 1);
    pty.send("\r");
    pty.expect("Environment name", 1);
    pty.send("book\r");
    pty.expect("Python version", 1);
    pty.send("\r");
    pty.expect("Extra packages", 1);
    pty.send("\r");
    pty.expect("Notebook tooling", 1);
    pty.send("\r");
    pty.expect("self-test at the end", 1);
    pty.send("\r");
    pty.expect("ttm setup: the plan", 2);
    pty.expect("Proceed with this plan?", 3);
    pty.send("\r"); // Proceed
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    let commands = std::fs::read_to_string(&log).unwrap();
    assert!(commands.contains("-m venv --prompt book "), "{commands}");
    let manifest = std::fs::read_to_string(ctx.workspace().join("ttm.toml")).unwrap();
    assert!(manifest.contains("name = \"book\""), "{manifest}");
}

#[test]
fn the_plan_as_shown() {
    let (ctx, _) = recording_context();
    let (code, out, err) =
        output(&mut ctx.ttm(["setup", "--dry-run", "--packages", "pandas>=2.1"]));
    assert_eq!(code, 0, "{err}");
    // The machine line is this machine's (the doctor's detection).
    let mut filters = ctx.filters();
    filters.push((
        r"machine +.*".to_owned(),
        "machine      [MACHINE]".to_owned(),
    ));
    insta::with_settings!({ filters => filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect::<Vec<_>>() }, {
        insta::assert_snapshot!(out);
    });
}

/// Copy a fixture profile into the test's temp dir (so shims can be added
/// or replaced) and put only its `bin/` on PATH.
fn copy_profile(ctx: &mut TestContext, profile: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), &target).unwrap();
            }
        }
    }
    let root = ctx.temp.path().join("machine");
    copy(&fixtures_dir().join(profile), &root);
    ctx.path_front.push(root.join("bin"));
    ctx.system_path = false;
    root
}

/// Replace `path` by a recording shim, keeping the original as `<path>.orig`
/// for the doctor's probes (`# ttm:` scripts and `info --json`).
fn wrap(path: &Path, body: &str) {
    let orig = PathBuf::from(format!("{}.orig", path.display()));
    std::fs::rename(path, &orig).unwrap();
    write_executable(
        path,
        &format!("#!/bin/sh\n{body}\nexec \"$0.orig\" \"$@\"\n"),
    );
}

#[test]
fn a_ready_apple_silicon_mac_with_conda_gets_the_rest_in_order() {
    let mut ctx = TestContext::new();
    let root = copy_profile(&mut ctx, "apple-silicon-ready");
    let log = ctx.temp.path().join("commands.log");
    let env = root.join("miniforge3/envs/torch_metal");
    wrap(
        &env.join("bin/python"),
        r##"case "$*" in *"# ttm:"*) ;; *)
  echo "env-python $1 $2 $3" >> "$TTM_TEST_LOG"
  case "$1 $2 $3" in
    "-m pip install") echo "Successfully installed torch-2.5.1"; exit 0 ;;
    "-m pip freeze") echo "torch==2.5.1"; exit 0 ;;
    "-I -B -c") echo '{"ok": true, "torch": "2.5.1", "device": "mps", "weight": 2.93, "bias": 2.04, "first_loss": 9.0, "final_loss": 0.011}'; exit 0 ;;
  esac
  exit 3 ;;
esac"##,
    );
    wrap(
        &root.join("bin/conda"),
        r##"case "$1 $2 $3" in
  "env config vars")
    echo "conda $*" >> "$TTM_TEST_LOG"
    here="${0%/*}"
    printf '{"env_vars": {"PYTORCH_ENABLE_MPS_FALLBACK": "1"}}\n' > "$here/../miniforge3/envs/torch_metal/conda-meta/state"
    exit 0 ;;
  "create -n torch_metal") echo "conda $*" >> "$TTM_TEST_LOG"; exit 0 ;;
esac"##,
    );
    std::fs::create_dir_all(env.join("conda-meta")).unwrap();
    std::fs::write(
        ctx.home.join(".zprofile"),
        "eval \"$(/opt/homebrew/bin/brew shellenv)\"\n",
    )
    .unwrap();
    let ctx = ctx.env("TTM_TEST_LOG", &log);
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("conda environment torch_metal (Python 3.10)"),
        "{out}"
    );
    for ok in [
        "Xcode command line tools",
        "Homebrew",
        "Homebrew on PATH",
        "Python and git from Homebrew",
        "Python environment (conda)",
    ] {
        assert!(out.contains(&format!("[ok]    {ok}")), "{ok}: {out}");
    }
    assert!(
        out.contains("torch 2.5.1 on mps: weight 2.930, bias 2.040"),
        "{out}"
    );
    let commands = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        commands,
        "env-python -m pip install\n\
         conda env config vars set PYTORCH_ENABLE_MPS_FALLBACK=1 -n torch_metal\n\
         env-python -I -B -c\n\
         env-python -m pip freeze\n"
    );
    assert_eq!(
        std::fs::read_to_string(ctx.home.join(".zprofile")).unwrap(),
        "eval \"$(/opt/homebrew/bin/brew shellenv)\"\n",
        "the user's own shellenv line counts: nothing added"
    );
    std::fs::write(&log, "").unwrap();
    let before = tree(&ctx.home);
    let (code, out, _) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0);
    assert!(out.contains("Nothing to do"), "{out}");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "");
    assert_same_tree(&before, &tree(&ctx.home));
}

#[test]
fn a_fresh_mac_gets_the_command_line_tools_then_homebrew() {
    let mut ctx = TestContext::new();
    let root = copy_profile(&mut ctx, "fresh-mac");
    let log = ctx.temp.path().join("commands.log");
    write_executable(
        &root.join("bin/xcode-select"),
        r##"#!/bin/sh
here="${0%/*}"
case "$1" in
  --install) echo "xcode-select $*" >> "$TTM_TEST_LOG"; : > "$here/../clt-installed"; exit 0 ;;
  -p) if [ -f "$here/../clt-installed" ]; then echo /Library/Developer/CommandLineTools; exit 0; fi
      echo "xcode-select: error: unable to get active developer directory" >&2; exit 2 ;;
esac
exit 1
"##,
    );
    write_executable(
        &root.join("bin/curl"),
        r##"#!/bin/sh
echo "curl $*" >> "$TTM_TEST_LOG"
for a; do last=$a; done
printf 'echo "install.sh ran with NONINTERACTIVE=$NONINTERACTIVE" >> "$TTM_TEST_LOG"\n' > "$last"
"##,
    );
    let ctx = ctx.env("TTM_TEST_LOG", &log);
    let (code, out, _) = output(&mut ctx.ttm(["setup", "--dry-run"]));
    assert_eq!(code, 0);
    assert!(out.contains("machine      macOS 14.5, arm64"), "{out}");
    assert!(
        out.contains("$ /opt/homebrew/bin/brew install python@3.12"),
        "{out}"
    );
    assert!(
        out.contains("$ /opt/homebrew/bin/python3.12 -m venv --prompt torch_metal"),
        "{out}"
    );

    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes"]));
    // Homebrew's real installer would have made /opt/homebrew/bin/brew; the
    // stand-in does not, so setup stops at the next step, saying so.
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("step `brew-packages`"), "{err}");
    let ws = ctx.workspace().display().to_string();
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().replace(&ws, "[WS]"),
        "xcode-select --install\n\
         curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh -o [WS]/.ttm/homebrew-install.sh\n\
         install.sh ran with NONINTERACTIVE=1\n"
    );
    let zprofile = std::fs::read_to_string(ctx.home.join(".zprofile")).unwrap();
    assert_eq!(
        zprofile,
        "# >>> ttm >>>\neval \"$(/opt/homebrew/bin/brew shellenv)\"\n# <<< ttm <<<\n"
    );
}

#[test]
fn a_manifest_written_by_scaffold_does_not_choose_the_python() {
    let (ctx, _) = recording_context();
    let (code, _, err) = output(&mut ctx.ttm(["scaffold", "new", "chapter-4", "--yes"]));
    assert_eq!(code, 0, "{err}");
    let manifest = std::fs::read_to_string(ctx.workspace().join("ttm.toml")).unwrap();
    assert!(manifest.contains("python = \"3.10\""), "{manifest}");
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--dry-run"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("(Python 3.11 from "),
        "the first python3, not the book's 3.10: {out}"
    );
    // ...and setup keeps the chapter when it writes the manifest.
    std::fs::write(ctx.temp.path().join("commands.log.pip-ok"), "").unwrap();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0, "{out}{err}");
    let manifest = std::fs::read_to_string(ctx.workspace().join("ttm.toml")).unwrap();
    assert!(
        manifest.contains("[chapters.chapter-4]") && manifest.contains("python = \"3.11\""),
        "{manifest}"
    );
    assert!(!ctx.workspace().join("ttm.toml.new").exists());
}

#[test]
fn ctrl_c_during_pip_stops_pip_and_the_next_run_resumes() {
    signal_during_pip_stops_pip_and_the_next_run_resumes(libc::SIGINT);
}

/// The terminal closed (or ssh dropped) mid-pip: the same clean stop as Ctrl-C.
/// Before, SIGHUP ended ttm with no clean-up and left pip running.
#[test]
fn sighup_during_pip_stops_pip_and_the_next_run_resumes() {
    signal_during_pip_stops_pip_and_the_next_run_resumes(libc::SIGHUP);
}

fn signal_during_pip_stops_pip_and_the_next_run_resumes(signal: i32) {
    let (mut ctx, log) = recording_context();
    // This pip hangs the first time, writing its pid so the test can check it is stopped.
    let venv_python = ctx.shim_dir().join("venv-python");
    let script = std::fs::read_to_string(&venv_python).unwrap().replace(
        r#"touch "$TTM_TEST_LOG.pip-ok""#,
        r#"touch "$TTM_TEST_LOG.pip-ok"; echo $$ > "$TTM_TEST_LOG.pid"; exec sleep 60"#,
    );
    write_executable(&venv_python, &script);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ttm"));
    cmd.env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", ctx.path_var())
        .env("LC_ALL", "C")
        .env("NO_COLOR", "1")
        .env("TTM_TEST_LOG", &log)
        .env("PIP_NO_INDEX", "1")
        .current_dir(ctx.temp.path())
        .args(["setup", "--yes", "--no-selftest"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pip_pid = PathBuf::from(format!("{}.pid", log.display()));
    let started = Instant::now();
    while !pip_pid.exists() || std::fs::read_to_string(&pip_pid).unwrap().trim().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "pip never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pip: i32 = std::fs::read_to_string(&pip_pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signals a child process this test started.
    unsafe { libc::kill(child.id() as i32, signal) };
    // What happened, not how long it took: ttm says it was interrupted,
    // exits 1, and pip's stand-in is gone.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("interrupted during step `pip-install`"),
        "{err}"
    );
    // pip (here: its stand-in) is gone, not left running in the background.
    // SAFETY: signal 0 only asks whether the process exists.
    assert_ne!(unsafe { libc::kill(pip, 0) }, 0, "pip {pip} still runs");
    let state = std::fs::read_to_string(ctx.workspace().join(".ttm/state")).unwrap();
    assert!(
        state.contains("environment") && !state.contains("pip-install"),
        "{state}"
    );

    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("[ok]    Python environment (venv)"), "{out}");
}

#[test]
fn reinstall_forces_torch_again_after_nothing_to_do() {
    let (ctx, log) = recording_context();
    std::fs::write(ctx.temp.path().join("commands.log.pip-ok"), "").unwrap();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 0);
    assert!(out.contains("Nothing to do"), "{out}");
    std::fs::write(&log, "").unwrap();
    // -v: the plan shows each step's commands.
    let (code, out, err) =
        output(&mut ctx.ttm(["setup", "--yes", "--no-selftest", "--reinstall", "-v"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("-m pip install --force-reinstall --no-deps torch torchvision torchaudio"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "venv-python -m pip install\n\
         venv-python -m pip install\n\
         venv-python -I -B -c\n\
         venv-python -m pip freeze\n"
    );
}

#[test]
fn a_broken_workspace_manifest_stops_setup_instead_of_losing_its_chapters() {
    let ctx = TestContext::new();
    let ws = ctx.workspace();
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(
        ws.join("ttm.toml"),
        "schema = 1\nttm_version = \"0.1.0\"\n[environment]\nkind = \"venv\"\nname = \"book\"\npython = \"3.11\"\n[chapters.ch01]\ntemplate = 3\n",
    )
    .unwrap();
    let other = ctx.temp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("ttm.toml"),
        "schema = 1\nttm_version = \"0.1.0\"\n[environment]\nkind = \"venv\"\nname = \"book\"\npython = \"3.11\"\n",
    )
    .unwrap();
    let from = other.join("ttm.toml").display().to_string();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--dry-run", "--from", &from]));
    assert_eq!(code, 2, "{out}\n{err}");
    // One line that names the file and the fix.
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    let wanted = ws.join("ttm.toml").display().to_string();
    assert!(line.contains(&wanted), "{err}");
    assert!(
        line.contains("chapters") && line.contains("fix the file"),
        "{err}"
    );
}

#[test]
fn the_plan_screen_sums_up_first_and_keeps_internals_for_verbose() {
    let ctx = TestContext::fixture("fresh-mac").isolated();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--dry-run"]));
    assert_eq!(code, 0, "{err}");
    let installs = out
        .find("  installs     Xcode command line tools, Homebrew")
        .expect(&out);
    let download = out
        .find("  download     about 85 MB for PyTorch")
        .expect(&out);
    let first_step = out.find("[to do]").unwrap();
    assert!(installs < download && download < first_step, "{out}");
    assert!(
        out.contains("  workspace    ~/torch_to_the_metal\n"),
        "{out}"
    );
    let home = ctx.home.display().to_string();
    assert!(
        !out.contains(&format!("{home}/torch_to_the_metal")),
        "{out}"
    );
    assert!(!out.contains("selftest --json"), "{out}");
    let (_, out, _) = output(&mut ctx.ttm(["setup", "--dry-run", "-v"]));
    assert!(out.contains("$ ttm selftest --json"), "{out}");
}

#[test]
fn env_conda_without_conda_names_the_installer_for_this_system() {
    // Linux: Miniforge's own installer, found from the shims (uname says Linux).
    let mut ctx = TestContext::new();
    let root = copy_profile(&mut ctx, "ubuntu-nvidia");
    std::fs::remove_file(root.join("bin/conda")).unwrap();
    std::fs::remove_dir_all(root.join("miniforge3")).unwrap();
    let before = tree(&ctx.home);
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--env", "conda", "--dry-run"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--env conda: conda is not installed"), "{err}");
    assert!(
        err.contains("fix: curl -fsSLo Miniforge3.sh https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-$(uname)-$(uname -m).sh && bash Miniforge3.sh -b"),
        "{err}"
    );
    assert!(!err.contains("brew"), "no Homebrew on Linux: {err}");
    assert_same_tree(&before, &tree(&ctx.home));
    let (code, out, _) = output(&mut ctx.ttm(["--json", "setup", "--env", "conda", "--dry-run"]));
    assert_eq!(code, 2);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        doc["error"]["fix"]
            .as_str()
            .unwrap()
            .contains("Miniforge3.sh -b"),
        "{doc}"
    );

    // A Mac: Homebrew's cask.
    let ctx = TestContext::fixture("fresh-mac").isolated();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--env", "conda", "--dry-run"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("fix: brew install miniforge"), "{err}");
}
