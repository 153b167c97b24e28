//! Doctor and setup agree (issue 10): on every fixture machine, every check
//! doctor fails is a step setup will run or a blocker, and no step that
//! answers a failing check is shown as done. Then the cases that made the
//! rule: Intel parts on Apple Silicon, a Rosetta terminal, an Intel Mac,
//! macOS 13 with a torch that needs 14, the book's venv, a conda-forge
//! Python, a torch that does not import.

use serde_json::Value;

use crate::common::*;
use crate::doctor::{check, check_contract, profile, snapshot, status, summary, PROFILES};

fn doctor_json(ctx: &TestContext) -> Value {
    let (code, out, _) = output(&mut ctx.ttm(["doctor", "--json"]));
    check_contract(code, &out)
}

fn plan_json(ctx: &TestContext) -> Value {
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--dry-run", "--json"]));
    assert_eq!(code, 0, "{out}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn steps(plan: &Value) -> &Vec<Value> {
    plan["steps"].as_array().unwrap()
}

fn step<'a>(plan: &'a Value, id: &str) -> &'a Value {
    steps(plan)
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {plan:#}"))
}

fn commands(step: &Value) -> String {
    step["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn answers(step: &Value, id: &str) -> bool {
    step["checks"].as_array().unwrap().iter().any(|c| c == id)
}

#[test]
fn on_every_fixture_each_failing_check_is_a_step_or_a_blocker() {
    for (name, _) in PROFILES {
        let ctx = profile(name);
        let doctor = doctor_json(&ctx);
        let plan = plan_json(&ctx);
        let blockers = plan["blockers"].as_array().unwrap();
        assert_eq!(
            plan["status"],
            if blockers.is_empty() {
                "planned"
            } else {
                "blocked"
            },
            "{name}"
        );
        for c in doctor["checks"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            if c["status"] != "fail" {
                continue;
            }
            let blocked = blockers.iter().any(|b| b["check"] == id);
            let repaired = steps(&plan)
                .iter()
                .any(|s| s["satisfied"] == false && answers(s, id));
            assert!(
                blocked || repaired,
                "{name}: doctor fails `{id}` ({}) but setup neither repairs nor blocks it:\n{plan:#}",
                c["summary"]
            );
            for s in steps(&plan).iter().filter(|s| answers(s, id)) {
                assert_eq!(
                    s["satisfied"], false,
                    "{name}: step {} is [ok] while doctor fails `{id}`",
                    s["id"]
                );
            }
        }
    }
}

#[test]
fn the_plan_on_every_fixture_mac() {
    for (name, _) in PROFILES {
        let ctx = profile(name);
        let (code, out, err) = output(&mut ctx.ttm(["setup", "--dry-run"]));
        assert_eq!(code, 0, "{name}: {out}\n{err}");
        snapshot(&ctx, &format!("setup_plan_{name}"), &out);
    }
}

#[test]
fn intel_parts_on_apple_silicon_are_never_reused() {
    for name in ["apple-silicon-intel-parts", "apple-silicon-rosetta"] {
        let ctx = profile(name);
        let doctor = doctor_json(&ctx);
        for id in ["homebrew", "python", "conda", "env"] {
            assert_eq!(status(&doctor, id), "fail", "{name} {id}");
        }
        let plan = plan_json(&ctx);
        for s in steps(&plan) {
            let text = commands(s);
            assert!(
                !text.contains("/usr/local"),
                "{name}: {} uses the Intel prefix: {text}",
                s["id"]
            );
        }
        let brew = step(&plan, "homebrew");
        assert_eq!(brew["satisfied"], false, "{name}");
        assert!(
            commands(brew).contains("/usr/bin/arch -arm64 /bin/bash"),
            "{brew}"
        );
        assert!(commands(step(&plan, "brew-packages"))
            .contains("/opt/homebrew/bin/brew install python@3.12"));
        let env = step(&plan, "environment");
        assert_eq!(env["satisfied"], false, "{name}: the x86_64 env is reused");
        let env_commands = commands(env);
        assert!(
            env_commands.contains("env remove -n torch_metal")
                && env_commands.contains("CONDA_SUBDIR=osx-arm64 ")
                && env_commands.contains("create -n torch_metal python=3.10"),
            "{env_commands}"
        );
        assert_eq!(plan["torch"], "2.11.0", "{name}");
    }
    // Without Rosetta the native path is planned, not blocked.
    let plan = plan_json(&profile("apple-silicon-intel-parts"));
    assert_eq!(plan["status"], "planned", "{plan:#}");

    // A Rosetta terminal blocks, and says so before any step.
    let ctx = profile("apple-silicon-rosetta");
    let plan = plan_json(&ctx);
    assert_eq!(plan["status"], "blocked");
    assert_eq!(plan["blockers"][0]["check"], "rosetta");
    assert_eq!(
        plan["changed"], false,
        "a blocked plan would change nothing"
    );
    let (_, out, _) = output(&mut ctx.ttm(["setup", "--dry-run"]));
    let blocked = out.find("blocked:").expect("a blocker");
    let first_step = out.find("[to do]").expect("steps");
    assert!(blocked < first_step, "{out}");
    assert!(out[..first_step].contains("Rosetta"), "{out}");
}

#[test]
fn an_intel_mac_gets_torch_2_2_2_with_numpy_below_2_and_one_gpu_name() {
    let ctx = profile("intel-mac");
    let plan = plan_json(&ctx);
    let packages: Vec<&str> = plan["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in [
        "torch==2.2.2",
        "torchvision==0.17.2",
        "torchaudio==2.2.2",
        "numpy<2",
    ] {
        assert!(packages.contains(&p), "{p}: {packages:?}");
    }
    assert!(plan["notes"]
        .to_string()
        .contains("the last release for Intel Macs"));
    let doctor = doctor_json(&ctx);
    assert!(summary(&doctor, "gpu").starts_with("AMD Radeon Pro 5500M"));
    assert_eq!(plan["gpu"], "AMD Radeon Pro 5500M (Metal (MPS))");
    // Its .venv is found and used.
    assert_eq!(step(&plan, "environment")["satisfied"], true);
}

#[test]
fn macos_13_with_a_torch_that_needs_14_both_commands_say_so() {
    let ctx = profile("macos-13");
    let doctor = doctor_json(&ctx);
    assert_eq!(status(&doctor, "torch"), "fail");
    assert!(
        summary(&doctor, "torch").contains("needs macOS 14.0 for MPS; this Mac has macOS 13.7.4"),
        "{}",
        summary(&doctor, "torch")
    );
    let torch = check(&doctor, "torch");
    assert_eq!(torch["fix"], "ttm setup");
    let detail = torch["detail"].as_str().unwrap();
    assert!(
        detail.contains("update macOS") && detail.contains("torch==2.8.0"),
        "{detail}"
    );
    assert_eq!(status(&doctor, "macos-version"), "warn");
    assert!(summary(&doctor, "macos-version").contains("needs macOS 14.0"));

    let plan = plan_json(&ctx);
    assert_eq!(plan["torch"], "2.8.0");
    assert!(
        plan["notes"].to_string().contains("macOS 13.7.4"),
        "{plan:#}"
    );
    let pip = step(&plan, "pip-install");
    assert_eq!(pip["satisfied"], false);
    assert!(commands(pip).contains("--force-reinstall --no-deps torch==2.8.0"));

    // Older than any MPS: doctor fails it, and setup is blocked by it.
    let mut ctx = profile("macos-13");
    ctx.shim(
        "sw_vers",
        r#"case "$1" in -productVersion) echo 12.2.1 ;; -buildVersion) echo 21D62 ;; *) printf 'ProductName:\tmacOS\nProductVersion:\t12.2.1\nBuildVersion:\t21D62\n' ;; esac"#,
    );
    let doctor = doctor_json(&ctx);
    assert_eq!(status(&doctor, "macos-version"), "fail");
    let plan = plan_json(&ctx);
    assert_eq!(plan["status"], "blocked");
    assert_eq!(plan["blockers"][0]["check"], "macos-version");
}

#[test]
fn the_books_venv_and_a_conda_forge_env_are_found_and_ok() {
    let ctx = profile("apple-silicon-book-venv");
    let doctor = doctor_json(&ctx);
    assert_eq!(status(&doctor, "env"), "ok");
    assert_eq!(status(&doctor, "torch"), "ok");
    let expected = &doctor["facts"]["env_expected"];
    assert_eq!(expected["name"], "venv");
    assert!(
        expected["reason"]
            .as_str()
            .unwrap()
            .contains("the book's venv"),
        "{expected}"
    );
    let plan = plan_json(&ctx);
    let env = step(&plan, "environment");
    assert_eq!(env["satisfied"], true, "{env}");
    let venv = ctx.workspace().join("venv");
    assert!(commands(step(&plan, "pip-install"))
        .contains(&format!("{}/bin/python -m pip install", venv.display())));

    let ctx = profile("apple-silicon-conda-forge");
    let doctor = doctor_json(&ctx);
    assert_eq!(status(&doctor, "env"), "ok", "{doctor:#}");
    assert!(summary(&doctor, "env").contains("Python 3.10.15, arm64"));
    assert_eq!(doctor["ready"], true);
    assert_eq!(step(&plan_json(&ctx), "environment")["satisfied"], true);
}

#[test]
fn an_activated_venv_is_chosen() {
    let ctx = profile("apple-silicon-book-venv");
    let elsewhere = ctx.temp.path().join("proj/.venv");
    std::fs::create_dir_all(elsewhere.join("bin")).unwrap();
    std::fs::rename(
        ctx.workspace().join("venv/bin/python"),
        elsewhere.join("bin/python"),
    )
    .unwrap();
    let ctx = ctx.env("VIRTUAL_ENV", &elsewhere);
    let doctor = doctor_json(&ctx);
    assert_eq!(status(&doctor, "env"), "ok");
    assert!(doctor["facts"]["env_expected"]["reason"]
        .as_str()
        .unwrap()
        .contains("VIRTUAL_ENV"));
}

#[test]
fn a_torch_that_does_not_import_fails_and_setup_reinstalls_it() {
    // Wide: the summary on one line, as the assertions read it.
    let ctx = profile("broken-torch").env("COLUMNS", "400");
    let (code, out, err) = output(&mut ctx.ttm(["doctor"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "✗ PyTorch             PyTorch is installed but does not import: ImportError: dlopen("
        ),
        "{out}"
    );
    assert!(out.contains("Library not loaded: @rpath/libtorch_cpu.dylib"));
    assert!(out.contains("fix: ttm setup --reinstall"), "{out}");
    for script_text in ["# ttm:", "import json", "print(json"] {
        assert!(!out.contains(script_text), "{out}");
    }
    assert!(
        out.contains("\nNot ready: 1 problem\n`ttm setup` fixes 1 of these"),
        "{out}"
    );
    let (_, verbose, _) = output(&mut ctx.ttm(["doctor", "-v"]));
    assert!(
        verbose.contains("<the torch-probe probe>` exited with status 1"),
        "{verbose}"
    );

    let plan = plan_json(&ctx);
    let pip = step(&plan, "pip-install");
    assert_eq!(pip["satisfied"], false);
    assert!(commands(pip).contains("-m pip install --force-reinstall --no-deps torch==2.11.0"));
    assert_eq!(step(&plan, "torch-check")["satisfied"], false);
}

#[test]
fn a_probe_that_fails_says_which_in_one_line() {
    let ctx = profile("apple-silicon-book-venv");
    write_executable(
        &ctx.workspace().join("venv/bin/python"),
        "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho 'ValueError: failed to parse CPython sys.version' >&2\nexit 1\n",
    );
    let doctor = doctor_json(&ctx);
    assert_eq!(status(&doctor, "env"), "fail");
    let env = check(&doctor, "env");
    let detail = env["detail"].as_str().unwrap();
    let first = detail.lines().next().unwrap();
    assert!(
        first.contains("<the python-info probe>` exited with status 1: ValueError: failed to parse CPython sys.version"),
        "{detail}"
    );
    assert!(
        !doctor.to_string().contains("import json"),
        "no script text"
    );
}

#[test]
fn an_activated_conda_env_is_chosen_by_both_commands() {
    let root = fixtures_dir().join("ubuntu-nvidia/miniforge3");
    let ctx = profile("ubuntu-nvidia").env("CONDA_PREFIX", root.join("envs/torch_metal"));
    let doctor = doctor_json(&ctx);
    let expected = &doctor["facts"]["env_expected"];
    assert_eq!(expected["kind"], "conda");
    assert!(
        expected["reason"]
            .as_str()
            .unwrap()
            .contains("CONDA_PREFIX"),
        "{expected}"
    );
    assert_eq!(status(&doctor, "env"), "ok");
    let plan = plan_json(&ctx);
    assert_eq!(
        plan["environment"],
        "conda environment torch_metal (Python 3.10)"
    );
    assert_eq!(step(&plan, "environment")["satisfied"], true);

    // conda's base is not a project environment.
    let ctx = profile("ubuntu-nvidia").env("CONDA_PREFIX", &root);
    let doctor = doctor_json(&ctx);
    assert!(!doctor["facts"]["env_expected"]["reason"]
        .as_str()
        .unwrap()
        .contains("CONDA_PREFIX"));
}
