//! The Ansible role and module (`scripts/fleet/`) on a lab of three hosts on
//! this machine: `ansible_connection=local`, each host with its own HOME and
//! PATH, pip pointed at the offline wheels. ansible-core comes from PyPI
//! into a throwaway venv. One manifest, made the way a lab makes it: one
//! machine set up with `ttm setup`, its `ttm.toml` and `requirements.lock`
//! taken for the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{fixtures_dir, output, TestContext};
use crate::tools::pypi_tool;

const ANSIBLE: (&str, &str) = ("ansible-core", "2.17.14");

/// Every file under `root`, with its bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    out
}

/// The machine's real python3's folder (pyenv's shims resolved).
fn python_dir() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    assert!(out.status.success(), "the tests need python3 with venv");
    let exe = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    exe.parent().unwrap().to_path_buf()
}

/// A HOME of its own, the real python3, pip on the offline wheels.
pub(crate) fn offline_env(home: &Path, wheels: &Path) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), home.display().to_string()),
        (
            "PATH".into(),
            format!("{}:/usr/local/bin:/usr/bin:/bin", python_dir().display()),
        ),
        ("PIP_NO_INDEX".into(), "1".into()),
        ("PIP_FIND_LINKS".into(), wheels.display().to_string()),
        ("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into()),
        ("LC_ALL".into(), "C".into()),
        ("NO_COLOR".into(), "1".into()),
    ]
}

pub(crate) fn build_wheels(dir: &Path) -> PathBuf {
    let wheels = dir.join("wheels");
    let status = Command::new("python3")
        .arg(fixtures_dir().join("setup-wheels/build_wheels.py"))
        .arg(&wheels)
        .status()
        .unwrap();
    assert!(status.success());
    wheels
}

struct Lab {
    ctx: TestContext,
    playbook: PathBuf,
    reports: PathBuf,
    hosts: Vec<(String, PathBuf)>,
}

/// `recap["h1"]["changed"]`, from ansible-playbook's PLAY RECAP.
fn recap(stdout: &str) -> BTreeMap<String, BTreeMap<String, u32>> {
    let mut hosts = BTreeMap::new();
    let Some(at) = stdout.find("PLAY RECAP") else {
        return hosts;
    };
    for line in stdout[at..].lines().skip(1) {
        let Some((host, counts)) = line.split_once(" : ") else {
            continue;
        };
        let counts = counts
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.parse().unwrap_or(0)))
            .collect();
        hosts.insert(host.trim().to_owned(), counts);
    }
    hosts
}

impl Lab {
    fn new() -> Lab {
        let ctx = TestContext::new();
        let temp = ctx.temp.path().to_path_buf();
        let wheels = build_wheels(&temp);

        // The course's manifest: one machine set up by hand, its files taken.
        let golden = temp.join("golden");
        let env = |home: &Path| offline_env(home, &wheels);
        std::fs::create_dir_all(&golden).unwrap();
        let mut first = assert_cmd::Command::cargo_bin("ttm").unwrap();
        first
            .env_clear()
            .envs(env(&golden))
            .args(["setup", "--yes", "--no-selftest"]);
        let (code, out, err) = output(&mut first);
        assert_eq!(code, 0, "{out}{err}");
        let manifests = temp.join("manifests");
        let good = manifests.join("course");
        std::fs::create_dir_all(&good).unwrap();
        for f in ["ttm.toml", "requirements.lock"] {
            std::fs::copy(golden.join("torch_to_the_metal").join(f), good.join(f)).unwrap();
        }
        // A host given a broken manifest (a key ttm does not know).
        let bad = manifests.join("broken");
        std::fs::create_dir_all(&bad).unwrap();
        let toml = std::fs::read_to_string(good.join("ttm.toml")).unwrap();
        std::fs::write(bad.join("ttm.toml"), format!("colour = \"blue\"\n{toml}")).unwrap();
        std::fs::copy(
            good.join("requirements.lock"),
            bad.join("requirements.lock"),
        )
        .unwrap();

        let playbook = temp.join("playbook");
        let copy = Command::new("cp")
            .arg("-R")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fleet"))
            .arg(&playbook)
            .status()
            .unwrap();
        assert!(copy.success());

        let ttm = assert_cmd::cargo::cargo_bin("ttm");
        let mut hosts = Vec::new();
        let mut inventory = String::from("macs:\n  hosts:\n");
        for (host, manifest) in [("h1", &good), ("h2", &good), ("h3", &bad)] {
            let home = temp.join("hosts").join(host);
            std::fs::create_dir_all(&home).unwrap();
            // Absolute paths: `~` in a task's path is expanded by the
            // controller for some modules, and these hosts' HOMEs are not its.
            inventory += &format!(
                "    {host}:\n      ttm_manifest_src: {}\n      ttm_bin_dir: {}\n      ttm_stage_dir: {}\n      ttm_environment:\n",
                manifest.join("ttm.toml").display(),
                home.join(".local/bin").display(),
                home.join(".ttm-fleet").display(),
            );
            for (k, v) in env(&home) {
                inventory += &format!("        {k}: \"{v}\"\n");
            }
            hosts.push((host.to_owned(), home));
        }
        inventory += &format!(
            "  vars:\n    ansible_connection: local\n    ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\"\n    ttm_binary_src: {}\n    ttm_selftest: false\n",
            ttm.display()
        );
        std::fs::write(playbook.join("inventory.yml"), inventory).unwrap();
        let reports = temp.join("reports");
        Lab {
            ctx,
            playbook,
            reports,
            hosts,
        }
    }

    fn playbook(&self, extra: &[&str]) -> (i32, String, String) {
        let (package, version) = ANSIBLE;
        let ansible = pypi_tool(package, version, "ansible-playbook");
        let controller = self.ctx.temp.path().join("controller");
        std::fs::create_dir_all(&controller).unwrap();
        let mut cmd = assert_cmd::Command::new(ansible);
        cmd.env_clear()
            .env("HOME", &controller)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LC_ALL", "C.UTF-8")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", controller.join("tmp"))
            .env("ANSIBLE_REMOTE_TEMP", controller.join("remote-tmp"))
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .current_dir(&self.playbook)
            .args(["-i", "inventory.yml", "site.yml", "-e"])
            .arg(format!("ttm_report_dir={}", self.reports.display()))
            .args(extra);
        output(&mut cmd)
    }

    fn homes(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        tree(&self.ctx.temp.path().join("hosts"))
    }
}

#[test]
fn the_role_sets_up_a_lab_then_changes_nothing_and_a_bad_manifest_fails_alone() {
    let lab = Lab::new();

    // Check mode: it says what it would do and writes not one byte.
    let before = lab.homes();
    let (code, out, err) = lab.playbook(&["--check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(lab.homes(), before, "check mode changed a host");
    let first = recap(&out);
    assert!(first["h1"]["changed"] > 0, "{out}");

    // The first run: h1 and h2 set up, h3 fails alone with ttm's own message.
    let (code, out, err) = lab.playbook(&[]);
    assert_ne!(code, 0, "h3's manifest is broken:\n{out}{err}");
    let first = recap(&out);
    eprintln!("first run:\n{}", &out[out.find("PLAY RECAP").unwrap()..]);
    for host in ["h1", "h2"] {
        assert!(first[host]["changed"] > 0, "{host}: {out}");
        assert_eq!(first[host]["failed"], 0, "{host}: {out}");
        let ws = lab
            .hosts
            .iter()
            .find(|(h, _)| h == host)
            .unwrap()
            .1
            .join("torch_to_the_metal");
        assert!(ws.join(".venv/bin/python").exists(), "{host}");
        let lock = std::fs::read_to_string(ws.join("requirements.lock")).unwrap();
        assert!(lock.contains("torch==2.99.0"), "{lock}");
        let doctor: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(lab.reports.join(host).join("doctor.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(doctor["schema"], 1);
    }
    assert_eq!(first["h3"]["failed"], 1, "{out}");
    let setup_task = &out[out.find("TASK [ttm : ttm setup]").unwrap()..];
    let setup_task = &setup_task[..setup_task[1..].find("TASK [").unwrap()];
    for host in ["h1", "h2"] {
        assert!(
            setup_task.contains(&format!("changed: [{host}]")),
            "ttm setup reported its own change on {host}:\n{setup_task}"
        );
    }
    assert!(
        out.contains("unknown field `colour`"),
        "ttm's message names the bad key:\n{out}"
    );

    // The second run of the good hosts: changed=0 failed=0, and the hosts' files identical.
    let before = lab.homes();
    let (code, out, err) = lab.playbook(&["--limit", "h1,h2,localhost"]);
    assert_eq!(code, 0, "{out}{err}");
    eprintln!("second run:\n{}", &out[out.find("PLAY RECAP").unwrap()..]);
    let second = recap(&out);
    for host in ["h1", "h2"] {
        assert_eq!(second[host]["changed"], 0, "{host}: {out}");
        assert_eq!(second[host]["failed"], 0, "{host}: {out}");
    }
    assert!(
        out.contains("of 2 hosts ready"),
        "the summary table:\n{out}"
    );
    let after = lab.homes();
    let moved: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(moved.is_empty(), "the second run changed: {moved:?}");

    // Check mode on a set-up lab: nothing would change.
    let (code, out, err) = lab.playbook(&["--check", "--limit", "h1,h2"]);
    assert_eq!(code, 0, "{out}{err}");
    for host in ["h1", "h2"] {
        assert_eq!(recap(&out)[host]["changed"], 0, "{host}: {out}");
    }
    assert_eq!(lab.homes(), after);
}

/// What a fleet engine reads: `"changed"` at the top, true iff a step ran
/// (with `--dry-run`: would run), and per step.
#[test]
fn setup_json_says_exactly_whether_it_changed_the_machine() {
    let temp = tempfile::tempdir().unwrap();
    let wheels = build_wheels(temp.path());
    let home = temp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let setup = |extra: &[&str]| -> serde_json::Value {
        let mut cmd = assert_cmd::Command::cargo_bin("ttm").unwrap();
        cmd.env_clear()
            .envs(offline_env(&home, &wheels))
            .args(["setup", "--yes", "--no-selftest", "--json"])
            .args(extra);
        let (code, out, err) = output(&mut cmd);
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    let changed_steps = |doc: &serde_json::Value| -> Vec<String> {
        doc["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["changed"] == true)
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let plan = setup(&["--dry-run"]);
    assert_eq!(plan["changed"], true, "{plan}");
    assert!(
        changed_steps(&plan).contains(&"pip-install".to_owned()),
        "{plan}"
    );
    assert!(tree(&home).is_empty(), "--dry-run wrote files");

    let run = setup(&[]);
    assert_eq!(run["changed"], true, "{run}");
    assert_eq!(
        changed_steps(&run),
        changed_steps(&plan),
        "the plan is what ran"
    );

    let again = setup(&[]);
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(changed_steps(&again), Vec::<String>::new());
    let plan = setup(&["--dry-run"]);
    assert_eq!(plan["changed"], false, "{plan}");
}

#[test]
fn the_example_playbook_and_role_pass_the_syntax_check() {
    let (package, version) = ANSIBLE;
    let ansible = pypi_tool(package, version, "ansible-playbook");
    let temp = tempfile::tempdir().unwrap();
    let out = Command::new(ansible)
        .env_clear()
        .env("HOME", temp.path())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_LOCAL_TEMP", temp.path().join("tmp"))
        .args(["-i", "inventory.example.ini", "site.yml", "--syntax-check"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fleet"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
