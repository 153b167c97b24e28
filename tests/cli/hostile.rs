//! Hostile and careless input (issue 12): files from other machines with
//! numbers no chart can draw or bytes no terminal should see, files that are
//! not files, endless output, parallel writers, links out of the workspace,
//! templates that recurse. Each test forces its condition with a fixture or
//! a shim; none depends on the machine it runs on.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::*;

fn bench_fixture(name: &str) -> Value {
    let path = fixtures_dir().join("bench-results").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_json(ctx: &TestContext, name: &str, doc: &Value) -> PathBuf {
    let path = ctx.temp.path().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    path
}

#[test]
fn compare_draws_a_value_near_the_largest_float() {
    // Before: the log axis' bound overflowed to infinity and plotters spun for ever.
    let ctx = TestContext::new();
    let mut doc = bench_fixture("linux-h100.json");
    doc["results"][0]["gflops"] = 3e307.into();
    doc["results"][1]["median_s"] = 1e-310.into();
    let file = write_json(&ctx, "huge.json", &doc);
    let plot = ctx.temp.path().join("o.svg");
    let (code, out, err) = output(&mut ctx.ttm([
        "bench",
        "compare",
        file.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("CPU · Burn candle"), "{out}");
    assert!(
        out.lines()
            .filter(|l| l.contains(" · "))
            .all(|l| l.chars().count() < 130),
        "{out}"
    );
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("3.00e307"), "the bar says its real number");
}

#[test]
fn compare_refuses_numbers_that_are_not_times() {
    let ctx = TestContext::new();
    let mut doc = bench_fixture("linux-h100.json");
    doc["results"][0]["median_s"] = (-1.0).into();
    let negative = write_json(&ctx, "neg.json", &doc);
    let text = serde_json::to_string(&bench_fixture("linux-h100.json")).unwrap();
    let infinite = ctx.temp.path().join("inf.json");
    std::fs::write(
        &infinite,
        text.replacen("\"gflops\":403.2258064516129", "\"gflops\":1e999", 1),
    )
    .unwrap();
    for (file, needle) in [
        (negative, "results[0].median_s is -1, not a time in seconds"),
        (infinite, "is out of range (not a finite number)"),
    ] {
        let (code, out, err) = output(&mut ctx.ttm(["bench", "compare", file.to_str().unwrap()]));
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(needle), "{err}");
        assert!(
            err.contains(file.to_str().unwrap()),
            "names the file: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

/// A user template `name` with these files (beside a one-line template.toml).
fn user_template(ctx: &TestContext, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = ctx.workspace().join("templates").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("template.toml"), "description = \"hostile\"\n").unwrap();
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap();
    }
    dir
}

#[test]
fn a_template_that_recurses_is_refused_before_rendering() {
    // Before: Tera overflowed the stack and ttm aborted (exit 134).
    let ctx = TestContext::new();
    let dir = user_template(
        &ctx,
        "selfinc",
        &[("main.py", "{% include \"main.py\" %}\n")],
    );
    user_template(
        &ctx,
        "macro",
        &[
            (
                "main.py",
                "{% import \"macros.txt\" as m %}{{ m::f(n=1) }}\n",
            ),
            (
                "macros.txt",
                "{% macro f(n) %}{{ self::f(n=n) }}{% endmacro f %}\n",
            ),
        ],
    );
    for (template, needle) in [
        ("selfinc", "main.py → main.py"),
        ("macro", "macros.txt: macro f → macros.txt: macro f"),
    ] {
        let (code, out, err) =
            output(&mut ctx.ttm(["scaffold", "new", "p1", "--template", template]));
        assert_eq!(code, 2, "{template}: {out}{err}");
        assert!(err.contains("recursion"), "{err}");
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let (_, _, err) = output(&mut ctx.ttm(["scaffold", "new", "p1", "--template", "selfinc"]));
    assert!(
        err.contains(dir.join("main.py").to_str().unwrap()),
        "names the file: {err}"
    );
    assert!(!ctx.workspace().join("notebooks/p1").exists());
}

#[test]
fn a_template_cannot_read_the_environment_or_loop_for_ever() {
    let ctx = TestContext::new().env("SECRET", "hunter2");
    user_template(
        &ctx,
        "envt",
        &[("main.py", "secret = \"{{ get_env(name=\"SECRET\") }}\"\n")],
    );
    user_template(
        &ctx,
        "rng",
        &[(
            "main.py",
            "{% for i in range(end=200000000) %}{% endfor %}\n",
        )],
    );
    for (template, needle) in [("envt", "get_env is turned off"), ("rng", "at most 10000")] {
        let (code, out, err) =
            output(&mut ctx.ttm(["scaffold", "new", "p1", "--template", template]));
        assert_eq!(code, 2, "{template}: {out}{err}");
        assert!(err.contains(needle), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    assert!(!ctx.workspace().join("notebooks/p1").exists());
}

#[test]
fn define_values_are_typed_ranged_and_rendered_as_python() {
    let ctx = TestContext::new();
    for (define, needle) in [
        (
            "batch_size=0",
            "-d batch_size=0: expected a value from 1 to 1000000",
        ),
        (
            "epochs=-5",
            "-d epochs=-5: expected a value from 1 to 100000",
        ),
        ("title=x\nimport os", "control character"),
    ] {
        let (code, out, err) = output(&mut ctx.ttm([
            "scaffold",
            "new",
            "p1",
            "--template",
            "training",
            "-d",
            define,
        ]));
        assert_eq!(code, 2, "{define}: {out}{err}");
        assert!(err.contains(needle), "{err}");
    }
    let (code, _, err) = output(&mut ctx.ttm([
        "scaffold",
        "new",
        "p1",
        "--template",
        "training",
        "-d",
        r#"title=x""" + __import__("os").system("echo pwned") + """\"#,
    ]));
    assert_eq!(code, 0, "{err}");
    let main = ctx.workspace().join("notebooks/p1/main.py");
    let text = std::fs::read_to_string(&main).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(r#""""x\"\"\" + __import__(\"os\")"#),
        "{first}"
    );
    // The docstring stays one string: Python reads the module's doc back whole.
    let doc = std::process::Command::new("python3")
        .args(["-c", "import ast, sys; print(ast.get_docstring(ast.parse(open(sys.argv[1]).read())).splitlines()[0])"])
        .arg(&main)
        .output()
        .unwrap();
    assert!(
        doc.status.success(),
        "{}",
        String::from_utf8_lossy(&doc.stderr)
    );
    assert!(
        String::from_utf8_lossy(&doc.stdout)
            .starts_with(r#"x""" + __import__("os").system("echo pwned") + """\"#),
        "{}",
        String::from_utf8_lossy(&doc.stdout)
    );
}

#[test]
fn parallel_scaffolds_lose_no_chapter() {
    // Before: all 20 succeeded and ttm.toml recorded one or two of them.
    let ctx = TestContext::new();
    let results: Vec<(i32, String, String)> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..20)
            .map(|i| {
                let ctx = &ctx;
                scope.spawn(move || output(&mut ctx.ttm(["scaffold", "new", &format!("p{i}")])))
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut won = Vec::new();
    for (i, (code, out, err)) in results.into_iter().enumerate() {
        // Before the lock, losers were told to `rm -r` the winner's staging
        // folder: nobody is told to delete anything here.
        assert!(
            !err.contains("rm ") && !out.contains("rm "),
            "p{i}: {out}{err}"
        );
        assert!(!err.contains("ttm-partial"), "p{i}: {err}");
        match code {
            0 => won.push(format!("p{i}")),
            2 => {
                // The pid is named once the holder has written it; a loser
                // that comes in between those two moments is told without it.
                assert!(
                    err.contains("error: workspace ") && err.contains("another ttm"),
                    "{err}"
                );
                assert!(err.contains("is writing in it"), "{err}");
                assert!(
                    err.contains("wait for it to finish, then run this again"),
                    "{err}"
                );
                assert_eq!(err.lines().count(), 1, "{err}");
            }
            other => panic!("p{i}: {other}: {out}{err}"),
        }
    }
    assert!(!won.is_empty());
    let manifest = std::fs::read_to_string(ctx.workspace().join("ttm.toml")).unwrap();
    let recorded = manifest.matches("[chapters.").count();
    assert_eq!(
        recorded,
        won.len(),
        "every winner recorded: {won:?}\n{manifest}"
    );
    for name in &won {
        assert!(
            manifest.contains(&format!("[chapters.{name}]")),
            "{name}: {manifest}"
        );
    }
    assert!(
        !ctx.workspace().join(".ttm/lock").exists(),
        "released: the lock file is gone"
    );
}

#[test]
fn a_held_lock_stops_setup_and_scaffold_naming_the_holder() {
    let ctx = TestContext::new();
    let ws = torch_to_the_metal::workspace::Workspace::at(ctx.workspace());
    let held =
        torch_to_the_metal::workspace_lock::WorkspaceLock::acquire(&ws, "ttm setup --yes").unwrap();
    for args in [vec!["scaffold", "new", "p1"], vec!["setup", "--yes"]] {
        let (code, out, err) = output(&mut ctx.ttm(&args));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains(&format!(
                "another ttm (pid {}, `ttm setup --yes`) is writing in it",
                std::process::id()
            )),
            "{err}"
        );
    }
    drop(held);
    let (code, _, err) = output(&mut ctx.ttm(["scaffold", "new", "p1"]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn setup_refuses_links_out_of_the_workspace() {
    // Before: setup wrote its state and logs through the links, outside the workspace.
    let ctx = TestContext::new();
    let ws = ctx.workspace();
    let outside = ctx.temp.path().join("outside");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    for name in [".ttm", "logs", "templates"] {
        std::os::unix::fs::symlink(&outside, ws.join(name)).unwrap();
        for args in [
            vec!["setup", "--yes", "--no-selftest"],
            vec!["scaffold", "new", "p1"],
        ] {
            let (code, out, err) = output(&mut ctx.ttm(&args));
            assert_eq!(code, 2, "{name} {args:?}: {out}{err}");
            assert!(err.contains(&format!("{name} is a symbolic link")), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        std::fs::remove_file(ws.join(name)).unwrap();
    }
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written outside"
    );
}

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn files_that_are_not_files_are_refused_at_once() {
    // Before: a FIFO ttm.toml hung scaffold; /dev/zero was read until memory ran out;
    // a folder was exit 1.
    let ctx = TestContext::new();
    let ws = ctx.workspace();
    std::fs::create_dir_all(&ws).unwrap();
    mkfifo(&ws.join("ttm.toml"));
    let (code, out, err) = output(&mut ctx.ttm(["scaffold", "new", "p1"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("ttm.toml: is not a regular file"), "{err}");
    std::fs::remove_file(ws.join("ttm.toml")).unwrap();
    let folder = ctx.temp.path().join("a-folder");
    std::fs::create_dir_all(&folder).unwrap();
    for (args, needle) in [
        (
            vec!["bench", "compare", "/dev/zero"],
            "/dev/zero: is not a regular file",
        ),
        (
            vec!["setup", "--yes", "--dry-run", "--from", "/dev/zero"],
            "/dev/zero: is not a regular file",
        ),
        (
            vec!["bench", "compare", folder.to_str().unwrap()],
            "a-folder: is a folder",
        ),
        (
            vec![
                "setup",
                "--yes",
                "--dry-run",
                "--from",
                folder.to_str().unwrap(),
            ],
            "a-folder: is a folder",
        ),
    ] {
        let (code, out, err) = output(&mut ctx.ttm(&args));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // The setup state as a FIFO: setup does not wait on it either.
    std::fs::create_dir_all(ws.join(".ttm")).unwrap();
    mkfifo(&ws.join(".ttm/state"));
    let (code, _, err) = output(&mut ctx.ttm(["setup", "--yes", "--dry-run"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("state: is not a regular file"), "{err}");
}

#[test]
fn bench_and_selftest_sizes_are_capped() {
    // Before: --size was allowed all of MemAvailable and had no upper bound;
    // --steps had none either.
    let mut ctx = TestContext::new();
    ctx.shim(
        "sysctl",
        r#"case "$*" in "-n hw.memsize") echo 1000000000 ;; *) exit 1 ;; esac"#,
    );
    // 8000² × 3 × 4 B = 768 MB: less than the 1 GB there is, more than half of it.
    let (code, out, err) =
        output(&mut ctx.ttm(["bench", "--device", "cpu", "--size", "8000", "--runs", "1"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(
            "ttm uses at most half of the 1.0 GB available here; choose --size 6454 or less"
        ),
        "{err}"
    );
    ctx.shim(
        "sysctl",
        r#"case "$*" in "-n hw.memsize") echo 1000000000000000 ;; *) exit 1 ;; esac"#,
    );
    let (code, out, err) =
        output(&mut ctx.ttm(["bench", "--device", "cpu", "--size", "70000", "--runs", "1"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("--size 70000 is above ttm's limit of 65536"),
        "{err}"
    );
    let (code, out, err) =
        output(&mut ctx.ttm(["selftest", "--device", "cpu", "--steps", "10000000"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("--steps 10000000 is above the limit of 100000"),
        "{err}"
    );
}

#[test]
fn save_and_plot_never_replace_a_file_without_force() {
    // Before: both were replaced silently.
    let ctx = TestContext::new();
    let save = ctx.temp.path().join("s.json");
    let plot = ctx.temp.path().join("p.svg");
    std::fs::write(&save, "keep").unwrap();
    std::fs::write(&plot, "keep").unwrap();
    let bench = |extra: &[&str]| {
        let mut args = vec!["bench", "--device", "cpu", "--size", "8", "--runs", "1"];
        args.extend_from_slice(extra);
        output(&mut ctx.ttm(&args))
    };
    let (s, p) = (save.to_str().unwrap(), plot.to_str().unwrap());
    for (extra, named) in [(vec!["--save", s], s), (vec!["--plot", p], p)] {
        let (code, out, err) = bench(&extra);
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.contains(&format!(
                "{named}: the file exists; pass --force to replace it"
            )),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let fixture = fixtures_dir().join("bench-results/mac-m1.json");
    let (code, _, err) =
        output(&mut ctx.ttm(["bench", "compare", fixture.to_str().unwrap(), "--plot", p]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --force"), "{err}");
    assert_eq!(std::fs::read_to_string(&save).unwrap(), "keep");
    assert_eq!(std::fs::read_to_string(&plot).unwrap(), "keep");
    let (code, _, err) = bench(&["--save", s, "--plot", p, "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&save)
        .unwrap()
        .contains("\"generator\": \"ttm bench\""));
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
}

#[test]
fn json_errors_are_one_document_on_stdout() {
    // Before: stdout was empty and the error plain text on stderr.
    let ctx = TestContext::new();
    for (args, code, needle) in [
        (
            vec!["--json", "bench", "compare", "/nonexistent.json"],
            2,
            "no such file",
        ),
        (
            vec!["--json", "bench", "--size", "0"],
            2,
            "--size must be at least 1",
        ),
        (
            vec!["scaffold", "new", "BAD", "--json"],
            2,
            "invalid name \"BAD\"",
        ),
        (
            vec!["--json", "doctor", "--bogus"],
            2,
            "unexpected argument '--bogus' found",
        ),
        (
            vec!["--json", "selftest", "--steps", "abc"],
            2,
            "invalid value 'abc' for '--steps <STEPS>'",
        ),
    ] {
        let (got, out, err) = output(&mut ctx.ttm(&args));
        assert_eq!(got, code, "{args:?}: {out}{err}");
        let doc: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {out}"));
        assert_eq!(doc["schema"], 1, "{out}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{args:?}: {message}");
        assert_eq!(doc["error"]["code"], code, "{out}");
        assert!(doc["error"].get("fix").is_some(), "{out}");
        assert!(err.contains(needle), "the usual line on stderr too: {err}");
    }
    // Help is not an error.
    let (code, out, _) = output(&mut ctx.ttm(["--json", "--help"]));
    assert_eq!(code, 0);
    assert!(out.contains("Usage"), "{out}");
}

#[test]
fn control_characters_from_a_compare_file_are_escaped() {
    // Before: ESC, BEL and a newline reached the terminal raw, and the SVG was not XML.
    let ctx = TestContext::new();
    let mut doc = bench_fixture("linux-h100.json");
    doc["machine"]["os_version"] = "Ubuntu\u{1b}[31mRED\u{7}\nline2 <&>\u{202e}".into();
    let file = write_json(&ctx, "ctrl.json", &doc);
    let plot = ctx.temp.path().join("ctrl.svg");
    let (code, out, err) = output(&mut ctx.ttm([
        "bench",
        "compare",
        file.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    assert!(
        out.contains(r"Ubuntu\u{1b}[31mRED\u{7}\u{a}line2 <&>\u{202e}, NVIDIA H100"),
        "{out}"
    );
    assert!(!out.contains('\u{202e}'), "{out}");
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        !svg.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r'),
        "XML allows no other control characters"
    );
    assert!(svg.contains(r"\u{1b}"), "spelled out in the SVG too");
}

#[test]
fn a_probe_that_prints_without_end_is_stopped_by_its_timeout() {
    // Before: `yes` as python3 was buffered whole (3 GB in 3 s, then an abort).
    let mut ctx = TestContext::new().env("TTM_PROBE_TIMEOUT", "1");
    let yes = ["/usr/bin/yes", "/bin/yes"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("yes(1)");
    ctx.shim("python3", &format!("exec {yes}"));
    // Only the shims on PATH: no other python3 is found instead.
    let ctx = ctx.isolated();
    let (code, out, err) = output(&mut ctx.ttm(["doctor", "--json"]));
    assert_eq!(code, 1, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let python = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "python")
        .unwrap()
        .to_string();
    assert!(
        python.contains("timed out after 1s and was stopped"),
        "{python}"
    );
}

#[test]
fn a_closed_stdout_ends_ttm_quietly() {
    // Before: `ttm … | head -1` panicked ("failed printing to stdout: Broken pipe", exit 101).
    let ctx = TestContext::fixture("apple-silicon-ready");
    let fixture = fixtures_dir().join("bench-results/mac-m1.json");
    for args in [
        vec!["doctor"],
        vec!["doctor", "--json"],
        vec!["scaffold", "list"],
        vec!["completions", "bash"],
        vec!["bench", "compare", fixture.to_str().unwrap()],
        vec!["--help"],
    ] {
        let mut child = std_ttm(&ctx, &args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -0`: the reader is gone before ttm writes its first line.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
    }
}

/// `ttm ARGS` as a plain `std::process::Command`, in the context's environment
/// (for tests that spawn, signal or pipe).
fn std_ttm(ctx: &TestContext, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ttm"));
    cmd.env_clear()
        .env("HOME", &ctx.home)
        .env("PATH", ctx.path_var())
        .env("LC_ALL", "C")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("TTM_TEST_FIXTURES", fixtures_dir())
        .current_dir(ctx.temp.path())
        .args(args);
    for (k, v) in &ctx.extra_env {
        cmd.env(k, v);
    }
    cmd
}

#[test]
fn a_full_disk_while_making_the_venv_says_to_free_space() {
    // Before: the venv step's own fix, `sudo apt-get install -y python3-venv`.
    // On a full disk venv prints only that ensurepip failed (its own output
    // is swallowed), as here; df then says the disk is full.
    let (mut ctx, log) = crate::setup::recording_context();
    let python3 = ctx.shim_dir().join("python3");
    let script = std::fs::read_to_string(&python3).unwrap().replace(
        "  -m) echo",
        "  -m) touch \"$TTM_TEST_LOG.full\"; \
         echo \"Error: Command '['$5/bin/python3', '-m', 'ensurepip', '--upgrade', \
         '--default-pip']' returned non-zero exit status 1.\"; exit 1; echo",
    );
    write_executable(&python3, &script);
    ctx.shim(
        "df",
        r#"echo "Filesystem 1024-blocks Used Available Capacity Mounted on"
if [ -f "$TTM_TEST_LOG.full" ]; then free=0; else free=90000000; fi
echo "/dev/sda1 100000000 1000 $free 1% /""#,
    );
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(log.with_extension("log.full").exists(), "the venv shim ran");
    assert!(err.contains("step `environment`"), "{err}");
    assert!(
        err.contains("fix: the disk of the workspace is full (0 MB free): free some disk space"),
        "{err}"
    );
    assert!(!err.contains("python3-venv"), "{err}");
    // Where the program said so itself, the same fix.
    std::fs::remove_file(log.with_extension("log.full")).unwrap();
    let script = std::fs::read_to_string(&python3).unwrap().replace(
        "returned non-zero exit status 1.",
        "returned non-zero exit status 1. [Errno 28] No space left on device",
    );
    write_executable(&python3, &script);
    let (code, _, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("fix: free some disk space"), "{err}");
}

#[test]
fn a_linked_templates_folder_is_refused_by_every_reader() {
    // Before: `scaffold list` (and `new --dry-run`) read templates through the link.
    let ctx = TestContext::new();
    let outside = ctx.temp.path().join("elsewhere");
    std::fs::create_dir_all(outside.join("evil")).unwrap();
    std::fs::write(outside.join("evil/template.toml"), "description = \"x\"\n").unwrap();
    std::fs::create_dir_all(ctx.workspace()).unwrap();
    std::os::unix::fs::symlink(&outside, ctx.workspace().join("templates")).unwrap();
    for args in [
        vec!["scaffold", "list"],
        vec!["scaffold", "list", "--json"],
        vec!["scaffold", "new", "p1", "--dry-run"],
        vec!["scaffold", "new", "p1", "--template", "evil", "--dry-run"],
    ] {
        let (code, out, err) = output(&mut ctx.ttm(&args));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("templates is a symbolic link"),
            "{args:?}: {err}"
        );
        assert!(!out.contains("evil") && !err.contains("evil"), "{out}{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn one_broken_template_does_not_hide_the_others() {
    // Before: `scaffold list` exited 2 on the first broken template.
    let ctx = TestContext::new();
    user_template(&ctx, "mine", &[("main.py", "print('ok')\n")]);
    let bad = user_template(&ctx, "broken", &[("main.py", "{% if %}\n")]);
    let badmeta = user_template(&ctx, "badmeta", &[]);
    std::fs::write(badmeta.join("template.toml"), "colour = 1\n").unwrap();
    let (code, out, err) = output(&mut ctx.ttm(["scaffold", "list"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("  mine "), "{out}");
    assert!(out.contains("  chapter "), "{out}");
    let line = out.lines().find(|l| l.starts_with("  broken ")).unwrap();
    assert!(
        line.contains("broken: ") && line.contains("syntax error"),
        "{line}"
    );
    assert!(
        line.contains(bad.join("main.py").to_str().unwrap()),
        "{line}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("badmeta") && l.contains("colour")),
        "{out}"
    );
    let (code, out, _) = output(&mut ctx.ttm(["scaffold", "list", "--json"]));
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = doc["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"mine") && !names.contains(&"broken"),
        "{names:?}"
    );
    let broken = doc["broken"].as_array().unwrap();
    assert_eq!(broken.len(), 2, "{out}");
    assert_eq!(broken[1]["name"], "broken");
    assert!(
        broken[1]["error"]
            .as_str()
            .unwrap()
            .contains("syntax error"),
        "{out}"
    );
    for t in ["broken", "badmeta"] {
        let (code, _, err) = output(&mut ctx.ttm(["scaffold", "new", "p1", "--template", t]));
        assert_eq!(code, 2, "{t}: {err}");
    }
}

#[test]
fn a_template_whose_output_is_huge_is_refused_and_writes_nothing() {
    // Before: a loop within the range cap wrote 200 MB into main.py.
    let ctx = TestContext::new();
    user_template(
        &ctx,
        "huge",
        &[(
            "main.py",
            "{% for i in range(end=10000) %}{% for j in range(end=2000) %}xxxxxxxxxx{% endfor %}{% endfor %}\n",
        )],
    );
    // Three files of 12 MB each: each under the cap, together over it.
    let twelve =
        "{% for i in range(end=10000) %}{% for j in range(end=1200) %}x{% endfor %}{% endfor %}\n";
    user_template(
        &ctx,
        "many",
        &[("a.txt", twelve), ("b.txt", twelve), ("c.txt", twelve)],
    );
    for (template, needle) in [
        ("huge", "main.py: renders to more than 16 MiB"),
        ("many", "together render to more than 32 MiB"),
    ] {
        let (code, out, err) =
            output(&mut ctx.ttm(["scaffold", "new", "p1", "--template", template]));
        assert_eq!(code, 2, "{template}: {out}{err}");
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!ctx.workspace().join("notebooks/p1").exists());
        assert!(!ctx.workspace().join("ttm.toml").exists());
    }
}

#[test]
fn scaffold_keeps_a_ttm_toml_the_user_edited() {
    // Before: scaffold rewrote it (the user's comments dropped).
    let ctx = TestContext::new();
    let ws = ctx.workspace();
    let (code, _, err) = output(&mut ctx.ttm(["scaffold", "new", "p1"]));
    assert_eq!(code, 0, "{err}");
    let mine = format!(
        "# my notes: keep this\n{}",
        std::fs::read_to_string(ws.join("ttm.toml")).unwrap()
    );
    std::fs::write(ws.join("ttm.toml"), &mine).unwrap();
    for (name, chapters) in [("p2", vec!["p1", "p2"]), ("p3", vec!["p1", "p2", "p3"])] {
        let (code, out, err) = output(&mut ctx.ttm(["scaffold", "new", name]));
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains(
                "ttm.toml: you changed it, so yours is kept; ttm's version is ttm.toml.new"
            ),
            "{out}"
        );
        assert!(out.contains("ttm.toml.new"), "{out}");
        assert_eq!(std::fs::read_to_string(ws.join("ttm.toml")).unwrap(), mine);
        let new = std::fs::read_to_string(ws.join("ttm.toml.new")).unwrap();
        for c in chapters {
            assert!(new.contains(&format!("[chapters.{c}]")), "{c}: {new}");
        }
        let (code, out, _) = output(&mut ctx.ttm([
            "scaffold",
            "new",
            &format!("{name}x"),
            "--json",
            "--dry-run",
        ]));
        assert_eq!(code, 0);
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["manifest"]["kept"], true, "{out}");
        assert_eq!(doc["manifest"]["new"], "ttm.toml.new", "{out}");
    }
}

#[test]
fn the_choices_survive_a_lost_or_broken_state() {
    // Before: without .ttm/state the next `setup --yes` wrote ttm.toml and
    // requirements.txt with the defaults (pandas and --no-selftest dropped).
    let (ctx, log) = crate::setup::recording_context();
    std::fs::write(log.with_extension("log.pip-ok"), "").unwrap();
    let (code, out, err) = output(&mut ctx.ttm([
        "setup",
        "--yes",
        "--no-selftest",
        "--packages",
        "pandas",
        "--env-name",
        "book",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let ws = ctx.workspace();
    let manifest = std::fs::read_to_string(ws.join("ttm.toml")).unwrap();
    let requirements = std::fs::read_to_string(ws.join("requirements.txt")).unwrap();
    assert!(manifest.contains("selftest = false") && manifest.contains("\"pandas\""));
    for (what, state) in [
        ("missing", None),
        ("unreadable", Some("steps = [[[ not toml")),
    ] {
        match state {
            None => std::fs::remove_file(ws.join(".ttm/state")).unwrap(),
            Some(text) => std::fs::write(ws.join(".ttm/state"), text).unwrap(),
        }
        let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes"]));
        assert_eq!(code, 0, "{what}: {out}{err}");
        assert_eq!(
            std::fs::read_to_string(ws.join("ttm.toml")).unwrap(),
            manifest,
            "{what}"
        );
        assert_eq!(
            std::fs::read_to_string(ws.join("requirements.txt")).unwrap(),
            requirements,
            "{what}"
        );
        assert!(!ws.join("ttm.toml.new").exists(), "{what}");
        assert!(!out.contains("Self-test"), "{what}: {out}");
        assert!(
            err.contains(&format!(
                ".ttm/state is {what}: the choices recorded in ttm.toml are kept"
            )),
            "{what}: {err}"
        );
    }
    // With the state back, no such line.
    let (code, _, err) = output(&mut ctx.ttm(["setup", "--yes"]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(".ttm/state"), "{err}");
}

#[test]
fn a_workspace_set_up_from_a_lock_stays_on_it() {
    // Before: plain `ttm setup` after `--from` installed from the unpinned
    // requirements.txt (past the lock) and wrote a new lock.
    let (ctx, log) = crate::setup::recording_context();
    std::fs::write(log.with_extension("log.pip-ok"), "").unwrap();
    let venv_python = ctx.temp.path().join("shims/venv-python");
    let script = std::fs::read_to_string(&venv_python)
        .unwrap()
        .replace(r#"echo "venv-python $1 $2 $3""#, r#"echo "venv-python $*""#);
    write_executable(&venv_python, &script);
    let old = ctx.temp.path().join("old-mac");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(
        old.join("ttm.toml"),
        "schema = 1\nttm_version = \"0.1.0\"\n[environment]\nkind = \"venv\"\nname = \"book\"\npython = \"3.11\"\n[packages]\nextra = []\nnotebook = false\nselftest = false\n",
    )
    .unwrap();
    std::fs::write(old.join("requirements.lock"), "torch==2.99.0\n").unwrap();
    let from = old.join("ttm.toml").display().to_string();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--from", &from]));
    assert_eq!(code, 0, "{out}{err}");
    let ws = ctx.workspace();
    let lock = std::fs::read(ws.join("requirements.lock")).unwrap();
    let pips = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains("-m pip install"))
            .map(str::to_owned)
            .collect()
    };
    let first = std::fs::read_to_string(&log).unwrap();
    assert!(
        pips(&first)[0].ends_with(&format!("-r {}", old.join("requirements.lock").display())),
        "{first}"
    );
    // The user adds a package to requirements.txt: plain setup stays on the lock.
    let mut req = std::fs::read_to_string(ws.join("requirements.txt")).unwrap();
    req.push_str("pandas\n");
    std::fs::write(ws.join("requirements.txt"), &req).unwrap();
    std::fs::write(&log, "").unwrap();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes"]));
    assert_eq!(code, 0, "{out}{err}");
    let second = std::fs::read_to_string(&log).unwrap();
    for line in pips(&second) {
        assert!(
            line.ends_with(&format!("-r {}", ws.join("requirements.lock").display())),
            "{second}"
        );
    }
    assert!(
        out.contains("ttm setup --upgrade"),
        "says how to leave the lock: {out}"
    );
    assert_eq!(std::fs::read(ws.join("requirements.lock")).unwrap(), lock);
    // Asked for: --upgrade installs from requirements.txt and writes a new lock.
    std::fs::write(&log, "").unwrap();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--upgrade"]));
    assert_eq!(code, 0, "{out}{err}");
    let third = std::fs::read_to_string(&log).unwrap();
    assert!(
        pips(&third)
            .last()
            .unwrap()
            .ends_with(&format!("-r {}", ws.join("requirements.txt").display())),
        "{third}"
    );
    // And from then on the workspace follows requirements.txt.
    std::fs::write(&log, "").unwrap();
    let (code, out, _) = output(&mut ctx.ttm(["setup", "--yes"]));
    assert_eq!(code, 0);
    assert!(!out.contains("--upgrade"), "{out}");
    assert!(pips(&std::fs::read_to_string(&log).unwrap()).is_empty());
}

#[test]
fn a_hung_uname_does_not_hold_up_python_and_each_interpreter_is_asked_once() {
    // Before: the Python probe asked `uname -s` first (is /usr/bin/python3
    // Apple's stub?) and waited for it; and one interpreter reached through
    // two PATH entries (/usr/bin and a /bin linked to it) was asked twice.
    assert!(
        std::path::Path::new("/usr/bin/python3").exists(),
        "the test needs /usr/bin/python3 (as CI has)"
    );
    let mut ctx = TestContext::new().env("TTM_PROBE_TIMEOUT", "2");
    let log = ctx.temp.path().join("calls.log");
    let ctx_log = log.display().to_string();
    ctx.shim(
        "uname",
        &format!("echo \"uname $*\" >> {ctx_log}; exec sleep 30"),
    );
    // A python3 that fails, in a folder also reached through a link to it.
    let py = ctx.temp.path().join("py");
    std::fs::create_dir_all(&py).unwrap();
    write_executable(
        &py.join("python3"),
        &format!("#!/bin/sh\necho \"python3\" >> {ctx_log}\nexit 1\n"),
    );
    let linked = ctx.temp.path().join("py-link");
    std::os::unix::fs::symlink(&py, &linked).unwrap();
    ctx.path_front.push(py);
    ctx.path_front.push(linked);
    let started = std::time::Instant::now();
    let (_, out, err) = output(&mut ctx.ttm(["doctor", "--json"]));
    let took = started.elapsed();
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.lines().filter(|l| *l == "python3").count(),
        1,
        "one interpreter, asked once: {calls}"
    );
    assert!(
        !calls.lines().any(|l| l == "uname -s"),
        "the Python and git probes do not ask uname: {calls}"
    );
    // The hung uname is the OS probe's alone: the doctor takes one timeout.
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    assert_eq!(doc["facts"]["os"], "other", "{out}");
}

#[test]
fn writes_keep_the_mode_and_refuse_links_in_the_workspace() {
    use std::os::unix::fs::PermissionsExt;
    let ctx = TestContext::new();
    let ws = ctx.workspace();
    let (code, _, err) = output(&mut ctx.ttm(["scaffold", "new", "p1"]));
    assert_eq!(code, 0, "{err}");
    // A ttm.toml of mode 600 stays 600.
    std::fs::set_permissions(ws.join("ttm.toml"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, _, err) = output(&mut ctx.ttm(["scaffold", "new", "p2"]));
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(ws.join("ttm.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    // ttm.toml moved out and linked back: refused, the file outside untouched.
    let outside = ctx.temp.path().join("ttm.toml");
    std::fs::rename(ws.join("ttm.toml"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, ws.join("ttm.toml")).unwrap();
    let before = std::fs::read(&outside).unwrap();
    for args in [
        vec!["scaffold", "new", "p3"],
        vec!["setup", "--yes", "--no-selftest"],
    ] {
        let (code, out, err) = output(&mut ctx.ttm(&args));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("ttm.toml is a symbolic link"),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(std::fs::read(&outside).unwrap(), before);
        assert!(std::fs::symlink_metadata(ws.join("ttm.toml"))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert!(!ws.join("notebooks/p3").exists());
    // So is a linked log, requirements.txt or state file, for setup.
    std::fs::remove_file(ws.join("ttm.toml")).unwrap();
    std::fs::create_dir_all(ws.join("logs")).unwrap();
    for name in ["requirements.txt", ".ttm/state", "logs/pip-install.log"] {
        let target = ctx.temp.path().join("target");
        std::fs::write(&target, "mine\n").unwrap();
        std::os::unix::fs::symlink(&target, ws.join(name)).unwrap();
        let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(
            err.contains(&format!("{name} is a symbolic link")),
            "{name}: {err}"
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine\n");
        std::fs::remove_file(ws.join(name)).unwrap();
    }
}

#[test]
fn a_folder_for_a_lock_is_bad_input() {
    let ctx = TestContext::new();
    let old = ctx.temp.path().join("old");
    std::fs::create_dir_all(old.join("requirements.lock")).unwrap();
    std::fs::write(
        old.join("ttm.toml"),
        "schema = 1\nttm_version = \"0.1.0\"\n[environment]\nkind = \"venv\"\nname = \"b\"\npython = \"3.11\"\n",
    )
    .unwrap();
    let from = old.join("ttm.toml").display().to_string();
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--dry-run", "--from", &from]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("requirements.lock: is a folder"), "{err}");
}

/// Whether `pid` runs (a zombie that no one reaped does not).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        // SAFETY: signal 0 only asks whether the process exists.
        Err(_) => (unsafe { libc::kill(pid, 0) }) == 0,
    }
}

#[test]
fn a_pip_left_by_a_killed_setup_is_stopped_before_the_next_one_starts() {
    // Before: after SIGKILL of setup its pip kept writing into the venv while
    // the rerun started a second pip beside it.
    let (ctx, log) = crate::setup::recording_context();
    let venv_python = ctx.temp.path().join("shims/venv-python");
    // The first pip hangs (its pid written down); a later one notes whether
    // the first is still there beside it.
    let script = std::fs::read_to_string(&venv_python).unwrap().replace(
        r#"touch "$TTM_TEST_LOG.pip-ok""#,
        r#"touch "$TTM_TEST_LOG.pip-ok"; echo $$ > "$TTM_TEST_LOG.pid"; exec sleep 120"#,
    );
    let script = script.replace(
        r#"    touch "$TTM_TEST_LOG.installed""#,
        r#"    first=$(cat "$TTM_TEST_LOG.pid")
    if kill -0 "$first" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$first/stat" 2>/dev/null; then
      echo overlap >> "$TTM_TEST_LOG.overlap"
    fi
    touch "$TTM_TEST_LOG.installed""#,
    );
    write_executable(&venv_python, &script);
    let mut child = std_ttm(&ctx, &["setup", "--yes", "--no-selftest"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = log.with_extension("log.pid");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&pid_file).map_or(true, |t| t.trim().is_empty()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "pip never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let orphan: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    child.kill().unwrap(); // SIGKILL: no clean-up at all
    child.wait().unwrap();
    assert!(alive(orphan), "the orphan runs on after SIGKILL");
    let (code, out, err) = output(&mut ctx.ttm(["setup", "--yes", "--no-selftest"]));
    let stopped = !alive(orphan);
    if !stopped {
        // SAFETY: ends the process this test's shim started.
        unsafe { libc::kill(orphan, libc::SIGKILL) };
    }
    assert_eq!(code, 0, "{out}{err}");
    assert!(stopped, "the orphan {orphan} was stopped");
    assert!(
        err.contains(&format!("stopped pid {orphan}")) && err.contains("left running by a ttm"),
        "{err}"
    );
    assert!(
        !log.with_extension("log.overlap").exists(),
        "the second pip ran while the first still did"
    );
    let pips = std::fs::read_to_string(&log)
        .unwrap()
        .matches("-m pip install")
        .count();
    assert_eq!(pips, 2, "the killed one, then one more");
    assert!(!ctx.workspace().join(".ttm/child").exists());
}

#[test]
fn a_template_that_grows_without_end_or_loops_for_ages_is_stopped() {
    // Before: a string doubled in a loop (never written out, so no output
    // bound sees it) took all the memory and ttm aborted (exit 134); three
    // nested loops of 10000 ran for hours.
    let ctx = TestContext::new().env("TTM_RENDER_TIMEOUT", "2");
    user_template(
        &ctx,
        "grow",
        &[(
            "main.py",
            "{% set_global s = \"xxxxxxxx\" %}{% for i in range(end=40) %}{% set_global s = s ~ s %}{% endfor %}{{ s | length }}\n",
        )],
    );
    user_template(
        &ctx,
        "slow",
        &[(
            "main.py",
            "{% for i in range(end=10000) %}{% for j in range(end=10000) %}{% for k in range(end=10000) %}{% endfor %}{% endfor %}{% endfor %}\n",
        )],
    );
    for (template, needle) in [
        ("grow", "more than 256 MiB of memory"),
        ("slow", "took more than 2 s to render"),
    ] {
        let started = std::time::Instant::now();
        let (code, out, err) =
            output(&mut ctx.ttm(["scaffold", "new", "p1", "--template", template]));
        assert_eq!(code, 2, "{template}: {out}{err}");
        assert!(err.contains(needle), "{template}: {err}");
        assert!(
            err.contains("templates/") && err.contains(template),
            "names it: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        assert!(!ctx.workspace().join("notebooks/p1").exists());
        assert!(!ctx.workspace().join("ttm.toml").exists());
        // With --json, the error document on stdout too.
        let (code, out, _) =
            output(&mut ctx.ttm(["scaffold", "new", "p1", "--template", template, "--json"]));
        assert_eq!(code, 2);
        let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert!(
            doc["error"]["message"].as_str().unwrap().contains(needle),
            "{out}"
        );
        assert_eq!(doc["error"]["code"], 2);
    }
}
