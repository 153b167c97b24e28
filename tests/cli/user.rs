//! `--user NAME`: started as root (CI is root), everything is done as that
//! account, in its HOME, and not one file it owns is left to root. Run by a
//! user that is not root, the switch is refused with exit 2.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::common::{output, TestContext};
use crate::setup::{build_wheels, offline};

/// `nobody`, as the user database has it: (uid, gid, home).
fn nobody() -> (u32, u32, PathBuf) {
    let out = std::process::Command::new("getent")
        .args(["passwd", "nobody"])
        .output()
        .unwrap();
    assert!(out.status.success(), "this machine has no `nobody` account");
    let line = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = line.trim().split(':').collect();
    (
        fields[2].parse().unwrap(),
        fields[3].parse().unwrap(),
        PathBuf::from(fields[5]),
    )
}

fn running_as_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// Hand the whole temporary folder to `uid` (as `chown -R`).
fn chown_tree(root: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(root, Some(uid), Some(gid)).unwrap();
    if root.is_dir() && !root.is_symlink() {
        for entry in std::fs::read_dir(root).unwrap() {
            chown_tree(&entry.unwrap().path(), uid, gid);
        }
    }
}

/// Every path under `root` whose owner is not `uid`.
fn not_owned_by(root: &Path, uid: u32) -> Vec<PathBuf> {
    let mut wrong = Vec::new();
    let meta = std::fs::symlink_metadata(root).unwrap();
    if meta.uid() != uid {
        wrong.push(root.to_path_buf());
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(root).unwrap() {
            wrong.extend(not_owned_by(&entry.unwrap().path(), uid));
        }
    }
    wrong
}

#[test]
fn an_unknown_user_is_one_line_and_exit_2() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm(["--user", "ttm-no-such-user", "doctor"]));
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err.trim(),
        "error: --user ttm-no-such-user: there is no user named \"ttm-no-such-user\" on this machine; check it with `id ttm-no-such-user`"
    );
}

#[test]
fn only_root_may_switch_to_another_user() {
    let ctx = TestContext::new();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ttm"));
    cmd.env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", ctx.path_var())
        .env("NO_COLOR", "1")
        .current_dir("/")
        .args(["--user", "root", "doctor"]);
    if running_as_root() {
        // Become nobody first, so the refusal is what a plain user meets.
        let (uid, gid, _) = nobody();
        cmd.gid(gid).uid(uid);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--user root needs root") && err.contains("without --user"),
        "{err}"
    );
}

#[test]
fn as_root_setup_for_a_user_leaves_every_file_theirs() {
    assert!(
        running_as_root(),
        "this test switches users, so it needs root (CI runs as root); run it with sudo"
    );
    let (uid, gid, their_home) = nobody();
    let ctx = TestContext::new();
    let wheels = build_wheels(&ctx, &[]);
    let ctx = offline(ctx, &wheels);
    // The Python nobody can run: the system's, not one under /root.
    let mut ctx = ctx;
    ctx.path_front.clear();
    chown_tree(ctx.temp.path(), uid, gid);
    let ws = ctx.temp.path().join("lab-ws");

    // doctor sees the machine as nobody does: their HOME, not the caller's.
    let (code, out, err) = output(&mut ctx.ttm(["--user", "nobody", "doctor", "--json"]));
    assert!(code == 0 || code == 1, "{out}\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let default_ws = doc["facts"]["workspace"]["root"]
        .as_str()
        .unwrap_or_default();
    assert!(
        Path::new(default_ws).starts_with(&their_home),
        "{default_ws} is not under {}",
        their_home.display()
    );

    let args = [
        "--user",
        "nobody",
        "--workspace",
        ws.to_str().unwrap(),
        "setup",
        "--yes",
        "--env",
        "venv",
        "--no-selftest",
    ];
    let (code, out, err) = output(&mut ctx.ttm(args));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Setup is done."), "{out}");
    for f in [
        ".venv/bin/python",
        "ttm.toml",
        "requirements.lock",
        ".ttm/state",
    ] {
        assert!(ws.join(f).exists(), "{f} missing:\n{out}");
    }
    let wrong = not_owned_by(ctx.temp.path(), uid);
    assert!(
        wrong.is_empty(),
        "{} paths not owned by nobody, first {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );

    // Again, as nobody: nothing to do.
    let (code, out, err) = output(&mut ctx.ttm(args));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Nothing to do"), "{out}");
}
