//! `ttm doctor` end to end: every fixture machine (snapshots of the human
//! output and the JSON), the real machine the tests run on, and the faults a
//! probe can meet (hung, failing, non-UTF-8, garbage), HOME unset, PATH empty,
//! a workspace that is a file.

use std::path::Path;
use std::time::Duration;

use crate::common::*;

const IDS: [&str; 14] = [
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
    "disk",
];

pub fn snapshot(ctx: &TestContext, name: &str, text: &str) {
    // The harness's version filter would also hit "clang-1500.1.0.2.5" in a
    // recorded collect_env; here only "ttm <version>" is the version.
    let mut filters: Vec<(String, String)> = ctx
        .filters()
        .into_iter()
        .filter(|(_, to)| to != "[VERSION]")
        .collect();
    filters.push((
        format!("ttm {}", regex_escape(env!("CARGO_PKG_VERSION"))),
        "ttm [VERSION]".to_owned(),
    ));
    let filters: Vec<(&str, &str)> = filters
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    insta::with_settings!({ filters => filters, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Parse `doctor --json` and check the contract: schema, all 14 ids in order,
/// known statuses, `ready` agreeing with the exit code.
pub fn check_contract(code: i32, out: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["schema"], 1);
    let checks = v["checks"].as_array().expect("checks");
    let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, IDS);
    for c in checks {
        assert!(
            ["ok", "warn", "fail", "skip"].contains(&c["status"].as_str().unwrap()),
            "{c}"
        );
        assert!(!c["summary"].as_str().unwrap().is_empty());
        for key in ["detail", "fix"] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        if c["status"] == "fail" {
            assert!(c["fix"].is_string(), "a failure without a fix: {c}");
        }
    }
    let any_fail = checks.iter().any(|c| c["status"] == "fail");
    assert_eq!(v["ready"], !any_fail);
    assert_eq!(code, if any_fail { 1 } else { 0 });
    v
}

/// One check of `doctor --json`, by id.
pub fn check<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

pub fn status<'a>(v: &'a serde_json::Value, id: &str) -> &'a str {
    check(v, id)["status"].as_str().unwrap()
}

pub fn summary<'a>(v: &'a serde_json::Value, id: &str) -> &'a str {
    check(v, id)["summary"].as_str().unwrap()
}

fn make_workspace(ctx: &TestContext) {
    for d in ["notebooks", "data", "models"] {
        std::fs::create_dir_all(ctx.workspace().join(d)).unwrap();
    }
}

/// A profile whose venv lives in the workspace: a wrapper at
/// `<workspace>/<folder>/bin/python` that runs the fixture's `venv/bin/python`.
fn with_workspace_venv(name: &str, folder: &str) -> TestContext {
    let ctx = TestContext::fixture(name).isolated();
    make_workspace(&ctx);
    let bin = ctx.workspace().join(folder).join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let target = fixtures_dir().join(name).join("venv/bin/python");
    write_executable(
        &bin.join("python"),
        &format!("#!/bin/sh\nexec '{}' \"$@\"\n", target.display()),
    );
    ctx
}

fn intel_mac() -> TestContext {
    with_workspace_venv("intel-mac", ".venv")
}

/// A fixture machine as the tests present it (with its workspace venv, if any).
pub fn profile(name: &str) -> TestContext {
    match name {
        "intel-mac" | "macos-13" | "broken-torch" => with_workspace_venv(name, ".venv"),
        "apple-silicon-book-venv" => with_workspace_venv(name, "venv"),
        "apple-silicon-ready" | "apple-silicon-conda-forge" => {
            let ctx = TestContext::fixture(name).isolated();
            make_workspace(&ctx);
            ctx
        }
        _ => TestContext::fixture(name).isolated(),
    }
}

/// Every fixture machine, and doctor's exit code on it.
pub const PROFILES: [(&str, i32); 10] = [
    ("apple-silicon-ready", 0),
    ("fresh-mac", 1),
    ("apple-silicon-rosetta", 1),
    ("intel-mac", 0),
    ("ubuntu-nvidia", 0),
    ("apple-silicon-intel-parts", 1),
    ("apple-silicon-conda-forge", 0),
    ("apple-silicon-book-venv", 0),
    ("macos-13", 1),
    ("broken-torch", 1),
];

#[test]
fn every_fixture_human_and_json() {
    for (name, expected) in PROFILES {
        let ctx = profile(name);
        let (code, out, err) = output(&mut ctx.ttm(["doctor"]));
        assert_eq!(code, expected, "{name}: {out}\n{err}");
        assert!(err.is_empty(), "{name}: stderr {err}");
        snapshot(&ctx, &format!("doctor_{name}"), &out);

        let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
        check_contract(code, &out);
        snapshot(&ctx, &format!("doctor_json_{name}"), &out);

        // Wide: the details hold fixture paths, whose length depends on the checkout.
        let (_, out, _) = output(ctx.ttm(["doctor", "-v"]).env("COLUMNS", "1000"));
        snapshot(&ctx, &format!("doctor_verbose_{name}"), &out);
    }
}

#[test]
fn the_verdicts_each_profile_must_reach() {
    let json = |ctx: &TestContext| {
        let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
        check_contract(code, &out)
    };
    let v = json(&profile("apple-silicon-ready"));
    assert_eq!(v["facts"]["apple_silicon"], true);
    assert!(IDS.iter().all(|id| status(&v, id) == "ok"), "{v:#}");

    let v = json(&profile("fresh-mac"));
    for id in ["xcode-clt", "homebrew", "git", "python"] {
        assert_eq!(status(&v, id), "fail", "{id}");
    }
    assert_eq!(
        v["facts"]["xcrun_stubs"],
        serde_json::json!(["git", "python3"])
    );

    let v = json(&profile("apple-silicon-rosetta"));
    assert_eq!(v["facts"]["rosetta"], true);
    assert_eq!(v["facts"]["arch"], "arm64");
    assert_eq!(v["facts"]["process_arch"], "x86_64");
    for id in ["rosetta", "homebrew", "python", "conda", "env", "torch"] {
        assert_eq!(status(&v, id), "fail", "{id}");
    }
    assert!(summary(&v, "python").contains("x86_64"));
    assert!(summary(&v, "conda").contains("osx-64"));

    let v = json(&profile("intel-mac"));
    assert_eq!(v["facts"]["apple_silicon"], false);
    assert_eq!(v["facts"]["rosetta"], serde_json::Value::Null);
    assert_eq!(status(&v, "rosetta"), "skip");
    assert_eq!(status(&v, "arch"), "warn");
    assert_eq!(status(&v, "torch"), "warn");
    assert_eq!(status(&v, "disk"), "warn");
    assert_eq!(v["facts"]["env"]["flavor"], "venv");

    let v = json(&profile("ubuntu-nvidia"));
    for id in ["rosetta", "macos-version", "xcode-clt", "homebrew"] {
        assert_eq!(status(&v, id), "skip", "{id}");
    }
    assert_eq!(v["facts"]["gpus"][0]["name"], "NVIDIA H100 80GB HBM3");
    assert_eq!(v["facts"]["torch"]["cuda_available"], true);
}

#[test]
fn this_real_machine() {
    let ctx = TestContext::new();
    let (code, out, err) = output(&mut ctx.ttm(["doctor", "--json"]));
    let v = check_contract(code, &out);
    assert!(err.is_empty(), "{err}");
    assert_eq!(v["facts"]["os"], "linux");
    assert!(v["facts"]["os_version"].is_string());
    assert_eq!(status(&v, "homebrew"), "skip");
    assert_eq!(status(&v, "os"), "ok");
    let (code2, out, _) = output(&mut ctx.ttm(["doctor"]));
    assert_eq!(code, code2);
    assert!(
        out.lines()
            .any(|l| l.starts_with("Ready") || l.starts_with("Not ready: ")),
        "{out}"
    );
}

/// A shim that notes it started (`<dir>/<name>.started`), waits until every
/// one of `others` has started too (bounded: 30s), notes that it saw them
/// (`<name>.saw-all`) and its pid, then hangs. Probes run in sequence would
/// never see each other: each is stopped at the timeout before the next starts.
fn hang_after_meeting(dir: &Path, name: &str, others: &[&str]) -> String {
    let d = dir.display();
    let all: Vec<String> = others
        .iter()
        .map(|o| format!("[ -e {d}/{o}.started ]"))
        .collect();
    format!(
        ": > {d}/{name}.started\n\
         i=0\n\
         while [ $i -lt 600 ]; do\n\
         if {all}; then : > {d}/{name}.saw-all; break; fi\n\
         i=$((i+1)); /bin/sleep 0.05\n\
         done\n\
         echo $$ > {d}/{name}.pid\n\
         exec /bin/sleep 30",
        all = all.join(" && ")
    )
}

/// Whether the process `pid` is gone (after a short grace for the reaper).
fn gone(pid: &str) -> bool {
    (0..100).any(|_| {
        let alive = std::process::Command::new("/bin/sh")
            .args(["-c", &format!("kill -0 {pid} 2>/dev/null")])
            .status()
            .is_ok_and(|s| s.success());
        if alive {
            std::thread::sleep(Duration::from_millis(50));
        }
        !alive
    })
}

#[test]
fn hung_probes_are_stopped_in_parallel() {
    let mut ctx = profile("apple-silicon-ready");
    let marks = ctx.temp.path().join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    let names = ["conda", "system_profiler", "df"];
    for p in names {
        ctx.shim(p, &hang_after_meeting(&marks, p, &names));
    }
    let ctx = ctx.env("TTM_PROBE_TIMEOUT", "2");
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
    let v = check_contract(code, &out);
    for p in names {
        // Each met the other two: they ran at the same time.
        assert!(marks.join(format!("{p}.saw-all")).exists(), "{p} ran alone");
        // And each was stopped, not left hanging.
        let pid = std::fs::read_to_string(marks.join(format!("{p}.pid"))).unwrap();
        assert!(gone(pid.trim()), "{p} ({}) still runs", pid.trim());
    }
    for id in ["conda", "gpu", "disk"] {
        assert_eq!(status(&v, id), "warn", "{id}");
        assert!(
            summary(&v, id).contains("timed out after 2s"),
            "{}",
            summary(&v, id)
        );
    }
}

#[test]
fn a_hung_uname_does_not_delay_the_other_probes() {
    let mut ctx = profile("apple-silicon-ready");
    let marks = ctx.temp.path().join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    ctx.shim("uname", &hang_after_meeting(&marks, "uname", &["conda"]));
    ctx.shim("conda", &hang_after_meeting(&marks, "conda", &["uname"]));
    let ctx = ctx.env("TTM_PROBE_TIMEOUT", "2");
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
    let v = check_contract(code, &out);
    // conda was asked while uname hung, not after it was stopped.
    assert!(
        marks.join("conda.saw-all").exists(),
        "conda waited for uname"
    );
    assert_eq!(status(&v, "os"), "fail");
    assert!(v["facts"]["problems"]
        .to_string()
        .contains("uname -srm` timed out after 2s"));
    assert_eq!(status(&v, "conda"), "warn");
}

#[test]
fn failing_and_garbled_probes_are_warnings() {
    let mut ctx = profile("apple-silicon-ready");
    ctx.shim("brew", "echo 'Error: brew is broken' >&2; exit 1");
    ctx.shim("sw_vers", r"printf '\377\376\375\n'");
    ctx.shim("conda", "echo 'this is not JSON'");
    ctx.shim("system_profiler", r#"echo '{"SPDisplaysDataType": 42}'"#);
    let (code, out, err) = output(&mut ctx.ttm(["doctor", "--json"]));
    let v = check_contract(code, &out);
    assert!(err.is_empty(), "{err}");
    assert_eq!(status(&v, "homebrew"), "warn");
    assert!(summary(&v, "homebrew").contains("exited with status 1: Error: brew is broken"));
    assert_eq!(status(&v, "os"), "warn");
    assert!(v["facts"]["problems"].to_string().contains("not UTF-8"));
    assert_eq!(status(&v, "conda"), "warn");
    assert!(summary(&v, "conda").contains("unreadable JSON"));
    assert_eq!(status(&v, "gpu"), "warn");
}

#[test]
fn home_unset() {
    let ctx = profile("ubuntu-nvidia");
    let (code, out, err) = output(ctx.ttm(["doctor"]).env_remove("HOME"));
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty());
    assert_eq!(
        err.trim(),
        "error: HOME is not set: set it, or pass --workspace PATH"
    );

    let ws = ctx.temp.path().join("ws");
    let (code, out, _) = output(
        ctx.ttm(["doctor", "--json", "--workspace"])
            .arg(&ws)
            .env_remove("HOME"),
    );
    check_contract(code, &out);
}

#[test]
fn empty_path() {
    let ctx = TestContext::new().isolated();
    let (code, out, err) = output(&mut ctx.ttm(["doctor"]));
    assert_eq!(code, 1);
    assert!(err.is_empty(), "{err}");
    assert!(
        out.contains("✗ Operating system    could not tell which OS this is"),
        "{out}"
    );
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
    let v = check_contract(code, &out);
    assert!(v["facts"]["problems"][0]
        .as_str()
        .unwrap()
        .contains("uname: not found on PATH"));
}

#[test]
fn a_workspace_that_is_a_file() {
    let ctx = profile("ubuntu-nvidia");
    let file = ctx.temp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let (code, out, _) = output(
        ctx.ttm(["doctor", "--workspace"])
            .arg(&file)
            .env("COLUMNS", "1000"),
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("✗ Workspace           cannot be used: workspace"),
        "{out}"
    );
    assert!(out.contains("is a file, not a folder"), "{out}");
}

#[test]
fn a_bad_probe_timeout_is_bad_input() {
    let ctx = profile("ubuntu-nvidia").env("TTM_PROBE_TIMEOUT", "soon");
    let (code, out, err) = output(&mut ctx.ttm(["doctor"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("TTM_PROBE_TIMEOUT=\"soon\" is not a number of seconds"),
        "{err}"
    );
}

#[test]
fn quiet_shows_only_problems() {
    let ctx = profile("fresh-mac");
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "-q"]));
    assert_eq!(code, 1);
    assert!(!out.contains('✓'), "{out}");
    assert!(out.contains("✗ Command Line Tools"), "{out}");
    assert!(
        out.contains("\nNot ready: 6 problems, 1 warning\n`ttm setup` fixes 7 of these"),
        "{out}"
    );
}

/// A fix line is a command to paste: it starts with a program and holds no
/// prose ("then", "(see …)", a second way in parentheses).
fn pasteable(fix: &str) -> bool {
    let first = fix.split_whitespace().next().unwrap_or("");
    let programs = [
        "ttm",
        "xcode-select",
        "/bin/bash",
        "brew",
        "curl",
        "sudo",
        "export",
        "arch",
        "conda",
        "rm",
        "mkdir",
        "softwareupdate",
    ];
    (programs.contains(&first) || first.starts_with('/'))
        && !fix.contains("   (")
        && !fix.contains("then")
        && !fix.contains("(see ")
        && !fix.contains(", or ")
}

#[test]
fn every_fix_line_is_a_command_and_each_is_shown_once() {
    for (name, _) in PROFILES {
        let ctx = profile(name);
        let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
        let doc = check_contract(code, &out);
        for c in doc["checks"].as_array().unwrap() {
            if let Some(fix) = c["fix"].as_str() {
                assert!(pasteable(fix), "{name} {}: {fix:?}", c["id"]);
            }
        }
        let (_, out, _) = output(&mut ctx.ttm(["doctor"]));
        let fixes: Vec<&str> = out.lines().filter(|l| l.starts_with("    fix: ")).collect();
        let mut unique = fixes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            fixes.len(),
            unique.len(),
            "{name}: a fix shown twice:\n{out}"
        );
        assert!(
            !out.contains("xcode-clt") && !out.contains("✗ env "),
            "{name}: an id shown:\n{out}"
        );
    }
}

#[test]
fn mac_only_rows_are_hidden_off_a_mac_unless_verbose() {
    let ctx = profile("ubuntu-nvidia");
    let (_, out, _) = output(&mut ctx.ttm(["doctor"]));
    assert!(!out.contains("not a Mac"), "{out}");
    let (_, out, _) = output(&mut ctx.ttm(["doctor", "-v"]));
    assert_eq!(out.matches("not a Mac").count(), 4, "{out}");
}

#[test]
fn the_layout_at_80_and_120_columns() {
    for name in ["fresh-mac", "apple-silicon-rosetta"] {
        for cols in ["80", "120"] {
            let ctx = profile(name).env("COLUMNS", cols);
            let (_, out, _) = output(&mut ctx.ttm(["doctor"]));
            let width: usize = cols.parse().unwrap();
            for l in out.lines().filter(|l| !l.starts_with("    fix: ")) {
                assert!(l.chars().count() <= width, "{name} at {cols}: {l:?}");
            }
            snapshot(&ctx, &format!("doctor_{name}_{cols}_columns"), &out);
        }
    }
}

#[test]
fn the_report_names_no_user_unless_asked() {
    let ctx = profile("fresh-mac");
    let home = ctx.temp.path().join("Users").join("ada");
    std::fs::create_dir_all(&home).unwrap();
    let ctx = ctx.env("HOME", &home);
    let (_, out, _) = output(&mut ctx.ttm(["doctor", "--report"]));
    let home = home.display().to_string();
    assert!(!out.contains(&home), "{out}");
    assert!(!out.contains("ada"), "{out}");
    assert!(out.contains("~/torch_to_the_metal"), "{out}");
    let (_, out, _) = output(&mut ctx.ttm(["doctor", "--report", "--no-redact"]));
    assert!(out.contains(&format!("{home}/torch_to_the_metal")), "{out}");
}

#[test]
fn report_has_collect_env_and_mps() {
    let ctx = intel_mac()
        .env("PYTORCH_MPS_HIGH_WATERMARK_RATIO", "0.0")
        .env("PYTORCH_ENABLE_MPS_FALLBACK", "1");
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "--report"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("# ttm doctor report"));
    assert!(
        out.contains("PyTorch version: 2.2.2"),
        "collect_env output is in the report"
    );
    assert!(out.contains("- torch.backends.mps.is_available(): False"));
    assert!(out.contains("- PYTORCH_MPS_HIGH_WATERMARK_RATIO=0.0"));
    assert!(out.contains("- PYTORCH_ENABLE_MPS_FALLBACK=1"));
    snapshot(&ctx, "doctor_report_intel-mac", &out);

    // No torch: the report says why there is no collect_env, and still prints.
    let ctx = profile("fresh-mac");
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "--report"]));
    assert_eq!(code, 1);
    assert!(out.contains("not run: PyTorch does not import"), "{out}");
    // With --json (before or after the command): the JSON document, the
    // report in its `report` key. Before, `ttm --json doctor --report`
    // ignored --report, and `doctor --report --json` was refused.
    let (_, text, _) = output(&mut ctx.ttm(["doctor", "--report"]));
    for args in [
        ["doctor", "--report", "--json"],
        ["--json", "doctor", "--report"],
    ] {
        let (code, out, err) = output(&mut ctx.ttm(args));
        assert_eq!(code, 1, "{args:?}: {err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["ready"], false);
        assert_eq!(doc["report"].as_str().unwrap().trim_end(), text.trim_end());
    }
    let (_, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(doc.get("report").is_none(), "{out}");
}

#[test]
fn the_manifest_names_the_environment() {
    let ctx = profile("apple-silicon-ready");
    std::fs::write(
        ctx.workspace().join("ttm.toml"),
        "schema = 1\nttm_version = \"0.1.0\"\n\n[environment]\nkind = \"venv\"\nname = \".venv\"\npython = \"3.10\"\n",
    )
    .unwrap();
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
    let v = check_contract(code, &out);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "env"), "fail");
    assert!(
        summary(&v, "env").contains("the venv"),
        "{}",
        summary(&v, "env")
    );
    assert_eq!(v["facts"]["env_expected"]["from_manifest"], true);

    // An unreadable manifest: the defaults are used, and env says why.
    std::fs::write(ctx.workspace().join("ttm.toml"), "this is = = not toml").unwrap();
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
    let v = check_contract(code, &out);
    assert_eq!(status(&v, "env"), "ok");
    let env = check(&v, "env");
    assert!(
        env["detail"].as_str().unwrap().contains("manifest:"),
        "{env}"
    );
}
