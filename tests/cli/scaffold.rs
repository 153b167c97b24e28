//! `ttm scaffold` end to end: the generated tree (snapshots), the notebook's
//! format, main.py under a stub torch, user templates, and the promise that
//! bad input and failures leave the workspace exactly as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

const NAME_RULE: &str = "a name is 1 to 64 characters: lower-case letters a-z, digits, '-' and '_', starting with a letter or digit (e.g. chapter-4)";

/// A context whose `git` says the user is Ada Lovelace and whose `date` says
/// it is 2026-11-25, so the output is the same every day.
fn scaffold_context() -> TestContext {
    let mut ctx = TestContext::new();
    ctx.shim(
        "git",
        r#"if [ "$1 $2" = "config user.name" ]; then echo "Ada Lovelace"; else exit 1; fi"#,
    );
    ctx.shim("date", r#"[ "$1" = "+%F" ] && echo 2026-11-25"#);
    ctx
}

/// Every file and folder under `root`, with contents: the workspace, byte for byte.
fn snapshot_tree(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut tree = BTreeMap::new();
    if !root.exists() {
        return tree;
    }
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                tree.insert(format!("{rel}/"), None);
                pending.push(path);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                tree.insert(rel, Some(format!("-> {}", target.display()).into_bytes()));
            } else {
                tree.insert(rel, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    tree
}

/// The generated files as one text: a listing, then each file's contents.
fn tree_text(root: &Path, skip: &[&str]) -> String {
    let tree = snapshot_tree(root);
    let mut text = String::new();
    for path in tree.keys() {
        text.push_str(path);
        text.push('\n');
    }
    for (path, contents) in &tree {
        if let Some(bytes) = contents {
            if skip.iter().any(|s| path.ends_with(s)) {
                continue;
            }
            text.push_str(&format!(
                "\n===== {path} =====\n{}",
                String::from_utf8_lossy(bytes)
            ));
        }
    }
    text
}

fn run(ctx: &TestContext, args: &[&str]) -> (i32, String, String) {
    output(&mut ctx.ttm(args))
}

#[test]
fn new_chapter_makes_the_book_layout() {
    let ctx = scaffold_context();
    let (code, out, err) = run(&ctx, &["scaffold", "new", "chapter-4"]);
    assert_eq!(code, 0, "{err}");
    snapshot_settings(&ctx, &[]).bind(|| insta::assert_snapshot!("new_chapter_stdout", &out));
    let ws = ctx.workspace();
    assert!(ws.join("data/chapter-4").is_dir());
    assert!(ws.join("models/chapter-4").is_dir());
    snapshot_settings(&ctx, &[]).bind(|| {
        insta::assert_snapshot!(
            "new_chapter_tree",
            &tree_text(&ws, &[".ttm/written/ttm.toml"])
        )
    });
}

#[test]
fn new_training_project_from_the_second_template() {
    let ctx = scaffold_context();
    let (code, _, err) = run(
        &ctx,
        &[
            "scaffold",
            "new",
            "ch7-mlp",
            "--template",
            "training",
            "-d",
            "epochs=3",
            "-d",
            "device=cpu",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let ws = ctx.workspace();
    snapshot_settings(&ctx, &[]).bind(|| {
        insta::assert_snapshot!(
            "new_training_tree",
            &tree_text(&ws, &[".ttm/written/ttm.toml", ".ipynb"])
        )
    });
    let main = std::fs::read_to_string(ws.join("notebooks/ch7-mlp/main.py")).unwrap();
    assert!(main.contains("EPOCHS = 3\n"));
    assert!(main.contains("DEVICE = \"cpu\""));
}

#[test]
fn the_notebook_is_nbformat_4_5_with_the_manifest_python() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(
        ws.join("ttm.toml"),
        "schema = 1\nttm_version = \"0.0.9\"\n\n[environment]\nkind = \"conda\"\nname = \"torch_metal\"\npython = \"3.12\"\n",
    )
    .unwrap();
    for (name, template) in [("chapter-5", "chapter"), ("ch6-train", "training")] {
        let (code, _, err) = run(&ctx, &["scaffold", "new", name, "--template", template]);
        assert_eq!(code, 0, "{err}");
        let path = ws.join(format!("notebooks/{name}/{name}.ipynb"));
        let nb: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        check_nbformat_4_5(&nb);
        // The code cells, one after another, are valid Python.
        let code: String = nb["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["cell_type"] == "code")
            .flat_map(|c| {
                c["source"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap().to_owned())
                    .chain(["\n".to_owned()])
            })
            .collect();
        let cells_py = ctx.temp.path().join(format!("{name}-cells.py"));
        std::fs::write(&cells_py, code).unwrap();
        py_compile(&cells_py);
        assert_eq!(nb["metadata"]["language_info"]["version"], "3.12");
        assert_eq!(nb["metadata"]["kernelspec"]["name"], "python3");
        let readme =
            std::fs::read_to_string(ws.join(format!("notebooks/{name}/README.md"))).unwrap();
        assert!(readme.contains("Python 3.12"), "{readme}");
    }
    // Written by hand (ttm never wrote it): kept, the chapters recorded in
    // ttm's version beside it.
    let manifest = std::fs::read_to_string(ws.join("ttm.toml")).unwrap();
    assert!(!manifest.contains("[chapters."), "{manifest}");
    let manifest = std::fs::read_to_string(ws.join("ttm.toml.new")).unwrap();
    assert!(manifest.contains("kind = \"conda\""), "{manifest}");
    assert!(
        manifest.contains("[chapters.chapter-5]\ntemplate = \"chapter\"\ncreated = \"2026-11-25\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("[chapters.ch6-train]\ntemplate = \"training\""),
        "{manifest}"
    );
}

/// The keys nbformat 4.5's schema requires, with their types.
fn check_nbformat_4_5(nb: &serde_json::Value) {
    assert_eq!(nb["nbformat"], 4);
    assert_eq!(nb["nbformat_minor"], 5);
    assert!(nb["metadata"].is_object());
    assert!(nb["metadata"]["kernelspec"]["display_name"].is_string());
    assert!(nb["metadata"]["language_info"]["name"].is_string());
    let cells = nb["cells"].as_array().unwrap();
    assert!(cells.len() >= 4);
    let mut ids = std::collections::HashSet::new();
    for cell in cells {
        let id = cell["id"].as_str().unwrap();
        assert!(
            (1..=64).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{id}"
        );
        assert!(ids.insert(id.to_owned()), "duplicate id {id}");
        assert!(cell["metadata"].is_object());
        let source = cell["source"].as_array().unwrap();
        for (i, line) in source.iter().enumerate() {
            let line = line.as_str().unwrap();
            assert_eq!(line.ends_with('\n'), i + 1 < source.len(), "{line:?}");
        }
        match cell["cell_type"].as_str().unwrap() {
            "code" => {
                assert!(cell["execution_count"].is_null());
                assert_eq!(cell["outputs"], serde_json::json!([]));
            }
            "markdown" => {
                assert!(cell.get("outputs").is_none());
                assert!(cell.get("execution_count").is_none());
            }
            other => panic!("cell type {other}"),
        }
    }
}

/// The stub torch package: `torch`, `torch.nn`, `torch.optim`, `torch.utils.data`.
fn write_stub_torch(dir: &Path) {
    let torch = dir.join("torch");
    std::fs::create_dir_all(torch.join("utils/data")).unwrap();
    let init = format!(
        "{}\nfrom . import nn, optim, utils  # noqa: E402\n",
        include_str!("stub_torch/torch_stub.py")
    );
    std::fs::write(torch.join("__init__.py"), init).unwrap();
    std::fs::write(torch.join("nn.py"), include_str!("stub_torch/nn.py")).unwrap();
    std::fs::write(torch.join("optim.py"), include_str!("stub_torch/optim.py")).unwrap();
    std::fs::write(
        torch.join("utils/__init__.py"),
        "from . import data  # noqa\n",
    )
    .unwrap();
    std::fs::write(
        torch.join("utils/data/__init__.py"),
        include_str!("stub_torch/data.py"),
    )
    .unwrap();
}

/// Run `python3 main.py` from an unrelated folder with the stub torch.
fn run_main(ctx: &TestContext, main: &Path, devices: &[(&str, &str)]) -> String {
    let stub = ctx.temp.path().join("stub");
    if !stub.exists() {
        write_stub_torch(&stub);
    }
    let elsewhere = ctx.temp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(main)
        .current_dir(&elsewhere)
        .env("PYTHONPATH", &stub)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("STUB_TORCH_MPS")
        .env_remove("STUB_TORCH_CUDA");
    for (k, v) in devices {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn py_compile(path: &Path) {
    let out = std::process::Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn chapter_main_py_picks_mps_then_cuda_then_cpu_and_writes_in_the_workspace() {
    let ctx = scaffold_context();
    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-3"]);
    assert_eq!(code, 0, "{err}");
    let ws = ctx.workspace();
    let main = ws.join("notebooks/chapter-3/main.py");
    py_compile(&main);

    let out = run_main(
        &ctx,
        &main,
        &[("STUB_TORCH_MPS", "1"), ("STUB_TORCH_CUDA", "1")],
    );
    assert!(out.contains("device: mps\n"), "{out}");
    assert!(
        out.contains("data: wrote 100 points to data/chapter-3/points.csv"),
        "{out}"
    );
    assert!(
        out.contains("model: saved to models/chapter-3/linear.pt"),
        "{out}"
    );
    let points = std::fs::read_to_string(ws.join("data/chapter-3/points.csv")).unwrap();
    assert_eq!(points.lines().count(), 101);
    assert!(ws.join("models/chapter-3/linear.pt").is_file());

    let out = run_main(&ctx, &main, &[("STUB_TORCH_CUDA", "1")]);
    assert!(out.contains("device: cuda\n"), "{out}");
    assert!(
        out.contains("data: read 100 points from data/chapter-3/points.csv"),
        "{out}"
    );
    assert!(!out.contains("wrote"), "{out}");
    let out = run_main(&ctx, &main, &[]);
    assert!(out.contains("device: cpu\n"), "{out}");
    assert_eq!(
        std::fs::read_to_string(ws.join("data/chapter-3/points.csv")).unwrap(),
        points
    );
    assert!(!ctx.temp.path().join("elsewhere/data").exists());
}

#[test]
fn chapter_4_is_about_tensors_as_in_the_book_and_uses_data_and_models() {
    let ctx = scaffold_context();
    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-4"]);
    assert_eq!(code, 0, "{err}");
    let ws = ctx.workspace();
    let main = ws.join("notebooks/chapter-4/main.py");
    py_compile(&main);
    let text = std::fs::read_to_string(&main).unwrap();
    for needle in [
        "torch.zeros(",
        "torch.arange(",
        "reshape(",
        "a @ a",
        "requires_grad=True",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    assert!(!text.contains("nn.Linear"), "not chapter 3's fit:\n{text}");

    let out = run_main(&ctx, &main, &[("STUB_TORCH_CUDA", "1")]);
    assert!(out.contains("device: cuda\n"), "{out}");
    assert!(
        out.contains("a: shape (2, 2), dtype float32, device cuda"),
        "{out}"
    );
    assert!(
        out.contains("data: saved a, grid to data/chapter-4/tensors.pt and read them back"),
        "{out}"
    );
    assert!(
        out.contains("model: saved to models/chapter-4/weights.pt"),
        "{out}"
    );
    assert!(ws.join("data/chapter-4/tensors.pt").is_file());
    assert!(ws.join("models/chapter-4/weights.pt").is_file());

    // The notebook: tensors too, with the workspace's folders.
    let nb: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.join("notebooks/chapter-4/chapter-4.ipynb")).unwrap(),
    )
    .unwrap();
    let code: String = nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| {
            c["source"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "DATA / \"tensors.pt\"",
        "MODELS / \"weights.pt\"",
        "torch.arange(",
    ] {
        assert!(code.contains(needle), "{needle}:\n{code}");
    }
    let cells_py = ctx.temp.path().join("chapter-4-cells.py");
    std::fs::write(&cells_py, &code).unwrap();
    py_compile(&cells_py);
    let readme = std::fs::read_to_string(ws.join("notebooks/chapter-4/README.md")).unwrap();
    assert!(readme.contains("tensors"), "{readme}");

    // Another chapter starts from the fit, and -d topic picks one.
    let (code, _, err) = run(
        &ctx,
        &["scaffold", "new", "chapter-7", "-d", "topic=tensors"],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(ws.join("notebooks/chapter-7/main.py")).unwrap();
    assert!(text.contains("torch.arange("), "{text}");
    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-8", "-d", "topic=gan"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("-d topic=gan: the topic is one of fit, tensors"),
        "{err}"
    );
}

#[test]
fn training_main_py_trains_checkpoints_and_resumes() {
    let ctx = scaffold_context();
    let (code, _, err) = run(
        &ctx,
        &[
            "scaffold",
            "new",
            "ch7",
            "-t",
            "training",
            "-d",
            "epochs=2",
            "-d",
            "batch_size=64",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let ws = ctx.workspace();
    let main = ws.join("notebooks/ch7/main.py");
    py_compile(&main);
    let out = run_main(&ctx, &main, &[("STUB_TORCH_CUDA", "1")]);
    assert!(out.contains("device: cuda\n"), "{out}");
    assert!(
        out.contains("data: wrote example data to data/ch7/train.csv"),
        "{out}"
    );
    assert!(
        out.contains("data: read 400 rows from data/ch7/train.csv"),
        "{out}"
    );
    assert!(out.contains("epoch 2/2:"), "{out}");
    assert!(ws.join("models/ch7/checkpoint.pt").is_file());
    assert!(ws.join("data/ch7/README.md").is_file());
    let out = run_main(&ctx, &main, &[]);
    assert!(
        out.contains("resuming after epoch 2 from models/ch7/checkpoint.pt"),
        "{out}"
    );
    assert!(!out.contains("epoch 1/2"), "{out}");
}

fn write_file(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_user_template_overrides_a_built_in_file_and_adds_templates() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    write_file(
        &ws.join("templates/chapter/README.md"),
        "# {{ title }}, my way\nBy {{ author }} on {{ date }}.\n",
    );
    write_file(
        &ws.join("templates/paper/template.toml"),
        "description = \"Reproduce a paper\"\nrequired = [\"paper\"]\n[variables.paper]\ndescription = \"the paper's title\"\n",
    );
    write_file(
        &ws.join("templates/paper/NOTES.md"),
        "Notes on {{ paper }} ({{ name }})\n",
    );
    write_file(&ws.join("templates/paper/models/.keep"), "");
    let logo: &[u8] = &[0x89, b'P', b'N', b'G', 0xff, 0xfe, b'{', b'{'];
    std::fs::write(ws.join("templates/paper/logo.png"), logo).unwrap();
    write_file(
        &ws.join("templates/paper/.git/HEAD"),
        "ref: refs/heads/main\n",
    );
    write_file(&ws.join("templates/My Template/README.md"), "x\n");

    let (code, out, err) = run(&ctx, &["scaffold", "list"]);
    assert_eq!(code, 0, "{err}");
    snapshot_settings(&ctx, &[]).bind(|| insta::assert_snapshot!("list_with_user_templates", &out));
    assert!(err.contains("My Template is not a template"), "{err}");

    let (code, out, _) = run(&ctx, &["--json", "scaffold", "list"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], 1);
    let names: Vec<&str> = doc["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["chapter", "paper", "training"]);
    assert_eq!(
        doc["templates"][0]["overridden_files"],
        serde_json::json!(["README.md"])
    );
    assert_eq!(doc["templates"][1]["source"], "user");

    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-9"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(ws.join("notebooks/chapter-9/README.md")).unwrap(),
        "# Chapter 9, my way\nBy Ada Lovelace on 2026-11-25.\n"
    );
    // No autoescaping: what -d gives is what the file gets.
    let (code, _, err) = run(
        &ctx,
        &[
            "scaffold",
            "new",
            "chapter-10",
            "-d",
            "title=Tensors & <Shapes> \"quoted\"",
            "-d",
            "author=O'Neil",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(ws.join("notebooks/chapter-10/README.md")).unwrap(),
        "# Tensors & <Shapes> \"quoted\", my way\nBy O'Neil on 2026-11-25.\n"
    );
    assert!(
        std::fs::read_to_string(ws.join("notebooks/chapter-9/main.py"))
            .unwrap()
            .contains("pick_device")
    );

    // A required variable: refused without a terminal, given with -d.
    let before = snapshot_tree(&ws);
    let (code, _, err) = run(&ctx, &["scaffold", "new", "attention", "-t", "paper"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("needs a value for paper (the paper's title)"),
        "{err}"
    );
    assert!(err.contains("pass -d paper=VALUE"), "{err}");
    let (code, _, err) = run(
        &ctx,
        &["--yes", "scaffold", "new", "attention", "-t", "paper"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--yes has no answer"), "{err}");
    assert_eq!(snapshot_tree(&ws), before);
    let (code, _, err) = run(
        &ctx,
        &[
            "scaffold",
            "new",
            "attention",
            "-t",
            "paper",
            "-d",
            "paper=Attention Is All You Need",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(ws.join("notebooks/attention/NOTES.md")).unwrap(),
        "Notes on Attention Is All You Need (attention)\n"
    );
    assert!(ws.join("models/attention/.keep").is_file());
    assert_eq!(
        std::fs::read(ws.join("notebooks/attention/logo.png")).unwrap(),
        logo
    );
    assert!(!ws.join("notebooks/attention/.git").exists());
    assert!(ws.join("data/attention").is_dir());
}

/// Run `args`, expect exit 2 and a message containing `expected`, and the
/// workspace unchanged byte for byte.
fn assert_refused(ctx: &TestContext, args: &[&str], expected: &str) -> String {
    let ws = ctx.workspace();
    let before = snapshot_tree(&ws);
    let (code, out, err) = run(ctx, args);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?}: {out}");
    assert!(err.contains(expected), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert_eq!(snapshot_tree(&ws), before, "{args:?} changed the workspace");
    err
}

#[test]
fn bad_names_are_refused_with_the_rule_and_nothing_changes() {
    let ctx = scaffold_context();
    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-1"]);
    assert_eq!(code, 0, "{err}");
    let long = "a".repeat(65);
    for name in [
        "../x",
        "/abs",
        ".hidden",
        "",
        long.as_str(),
        "a/b",
        "CON",
        "nul",
        "com7",
        "chapter 4",
        "kapitel-ü",
        "第四章",
        "Chapter-4",
        "_x",
        "a.b",
    ] {
        assert_refused(&ctx, &["scaffold", "new", name], NAME_RULE);
        assert_refused(&ctx, &["scaffold", "new", name, "--dry-run"], NAME_RULE);
    }
    assert_refused(&ctx, &["scaffold", "new", "--", "-x"], "starts with a dash");
    let err = assert_refused(&ctx, &["scaffold", "new", "Chapter-4"], "try chapter-4");
    assert!(
        err.starts_with("error: invalid name \"Chapter-4\""),
        "{err}"
    );
    assert_refused(&ctx, &["scaffold", "new", "CON"], "Windows reserves it");
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch2", "--template", "nope"],
        "unknown template \"nope\": the templates are chapter, training",
    );
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch2", "--template", "../chapter"],
        "unknown template",
    );
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch2", "-d", "author"],
        "has no '='",
    );
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch2", "-d", "colour=red"],
        "has no variable \"colour\"",
    );
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch2", "-d", "device=gpu"],
        "one of auto, mps, cuda, cpu",
    );
    assert_refused(
        &ctx,
        &[
            "scaffold",
            "new",
            "ch2",
            "-t",
            "training",
            "-d",
            "epochs=many",
        ],
        "expected a whole number",
    );
    assert_refused(
        &ctx,
        &["scaffold", "new", "chapter-1"],
        "the name chapter-1 is taken",
    );
}

#[test]
fn a_name_taken_in_another_case_or_folder_is_refused() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    std::fs::create_dir_all(ws.join("notebooks/Chapter-4")).unwrap();
    std::fs::create_dir_all(ws.join("models/ch5")).unwrap();
    assert_refused(
        &ctx,
        &["scaffold", "new", "chapter-4"],
        "notebooks/Chapter-4 exists (names are compared ignoring case)",
    );
    assert_refused(&ctx, &["scaffold", "new", "ch5"], "models/ch5 exists");
}

#[test]
fn a_broken_manifest_is_named_and_nothing_is_written() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    write_file(&ws.join("ttm.toml"), "schema = 1\n[environment\n");
    let err = assert_refused(
        &ctx,
        &["scaffold", "new", "chapter-4"],
        "ttm.toml: not a valid ttm manifest",
    );
    assert!(
        err.contains(&ws.join("ttm.toml").display().to_string()),
        "{err}"
    );
}

#[test]
fn a_layout_folder_linking_out_of_the_workspace_is_not_followed() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    let outside = ctx.temp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&ws).unwrap();
    std::os::unix::fs::symlink(&outside, ws.join("models")).unwrap();
    assert_refused(
        &ctx,
        &["scaffold", "new", "chapter-4"],
        "models is a symbolic link to",
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    std::fs::remove_file(ws.join("models")).unwrap();
    write_file(&ws.join("data"), "a file\n");
    assert_refused(
        &ctx,
        &["scaffold", "new", "chapter-4"],
        "data is a file, not a folder",
    );
}

#[test]
fn template_errors_name_the_file_and_write_nothing() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    write_file(&ws.join("templates/broken/main.py"), "print('ok')\n");
    write_file(&ws.join("templates/broken/README.md"), "# {{ title }\n");
    write_file(&ws.join("templates/undefined/README.md"), "# {{ title }}\n");
    write_file(
        &ws.join("templates/undefined/notes/later.md"),
        "{{ name }} by {{ reviewer }}\n",
    );
    write_file(
        &ws.join("templates/badmeta/template.toml"),
        "description = 3\n",
    );

    let file = ws.join("templates/broken/README.md").display().to_string();
    let err = assert_refused(&ctx, &["scaffold", "new", "ch1", "-t", "broken"], &file);
    assert!(err.contains("syntax error at line 1, column 12"), "{err}");
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch1", "-t", "broken", "--dry-run"],
        &file,
    );

    let file = ws
        .join("templates/undefined/notes/later.md")
        .display()
        .to_string();
    let err = assert_refused(&ctx, &["scaffold", "new", "ch1", "-t", "undefined"], &file);
    assert!(
        err.contains("the variable `reviewer`, which is not defined"),
        "{err}"
    );

    let file = ws
        .join("templates/badmeta/template.toml")
        .display()
        .to_string();
    assert_refused(&ctx, &["scaffold", "new", "ch1", "-t", "badmeta"], &file);

    // An override of a built-in file is rendered just the same.
    write_file(&ws.join("templates/chapter/main.py"), "{% if %}\n");
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch1"],
        &ws.join("templates/chapter/main.py").display().to_string(),
    );
}

#[test]
fn a_template_symlink_is_refused() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    write_file(&ws.join("templates/leaky/README.md"), "hi\n");
    let secret = ctx.home.join("secret.txt");
    std::fs::write(&secret, "secret\n").unwrap();
    std::os::unix::fs::symlink(&secret, ws.join("templates/leaky/secret.txt")).unwrap();
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch1", "-t", "leaky"],
        "is a symbolic link",
    );
    std::os::unix::fs::symlink(ws.join("templates/leaky"), ws.join("templates/linked")).unwrap();
    assert_refused(
        &ctx,
        &["scaffold", "new", "ch1", "-t", "linked"],
        "templates/linked: is a symbolic link",
    );
    std::fs::remove_file(ws.join("templates/leaky/secret.txt")).unwrap();
    let (code, out, err) = run(&ctx, &["scaffold", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("  leaky "), "{out}");
    assert!(!out.contains("linked"), "{out}");
    assert!(
        err.contains("templates/linked is not a template: it is a symbolic link"),
        "{err}"
    );
}

/// A failure after some files are written leaves nothing behind: here a
/// staging folder left from an interrupted run blocks the last of the three
/// folders, after notebooks/ and data/ were staged (works even as root).
#[test]
fn a_failure_while_staging_leaves_nothing_behind() {
    let ctx = scaffold_context();
    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-1"]);
    assert_eq!(code, 0, "{err}");
    let ws = ctx.workspace();
    std::fs::create_dir_all(ws.join("models/.chapter-2.ttm-partial")).unwrap();
    let before = snapshot_tree(&ws);
    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-2"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("is left from an interrupted `ttm scaffold new chapter-2`"),
        "{err}"
    );
    assert!(err.contains("fix: rm -r"), "{err}");
    assert_eq!(snapshot_tree(&ws), before);
}

/// The last step, recording the chapter, fails after `ttm.toml` itself was
/// rewritten: the projects already moved into place are removed again and
/// `ttm.toml` is put back as it was.
#[test]
fn a_failure_recording_the_chapter_undoes_everything() {
    let ctx = scaffold_context();
    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-1"]);
    assert_eq!(code, 0, "{err}");
    let ws = ctx.workspace();
    let record = ws.join(".ttm/written/ttm.toml");
    std::fs::remove_file(&record).unwrap();
    std::fs::create_dir_all(record.join("in-the-way")).unwrap();
    let before = snapshot_tree(&ws);
    let (code, _, err) = run(&ctx, &["scaffold", "new", "chapter-2"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ttm.toml"), "{err}");
    assert_eq!(snapshot_tree(&ws), before);
}

/// Folders the failed run created (here `notebooks` and `data`, beside a
/// `models` holding a leftover staging folder) are removed again.
#[test]
fn folders_made_by_a_failed_run_are_removed() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    std::fs::create_dir_all(ws.join("models/.ch1.ttm-partial")).unwrap();
    let (code, _, err) = run(&ctx, &["scaffold", "new", "ch1"]);
    assert_eq!(code, 1, "{err}");
    let left: Vec<String> = snapshot_tree(&ws).into_keys().collect();
    assert_eq!(left, ["models/", "models/.ch1.ttm-partial/"]);
}

/// A destination the kernel refuses to create fails the write, and leaves
/// the workspace as it was. Permissions would not do (CI runs as root, which
/// ignores them); a path past PATH_MAX (4096 bytes) fails for everyone: the
/// workspace and its folders fit, the staging folder
/// `notebooks/.chapter-3.ttm-partial` does not.
#[test]
fn a_destination_that_cannot_be_created_leaves_nothing_behind() {
    const LENGTH: usize = 4070;
    let ctx = scaffold_context();
    let mut ws = ctx.temp.path().join("ws");
    while ws.as_os_str().len() < LENGTH {
        let room = LENGTH - ws.as_os_str().len() - 1;
        ws.push("w".repeat(room.clamp(1, 200)));
    }
    assert_eq!(ws.as_os_str().len(), LENGTH);
    for folder in ["notebooks", "data", "models"] {
        std::fs::create_dir_all(ws.join(folder)).unwrap();
    }
    let before = snapshot_tree(&ws);
    let (code, _, err) = run(
        &ctx,
        &[
            "--workspace",
            ws.to_str().unwrap(),
            "scaffold",
            "new",
            "chapter-3",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot create"), "{err}");
    assert_eq!(snapshot_tree(&ws), before);
}

#[test]
fn dry_run_lists_and_writes_nothing() {
    let ctx = scaffold_context();
    let ws = ctx.workspace();
    let (code, out, err) = run(&ctx, &["scaffold", "new", "chapter-4", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    snapshot_settings(&ctx, &[]).bind(|| insta::assert_snapshot!("dry_run_stdout", &out));
    assert!(!ws.exists());

    let (code, out, _) = run(
        &ctx,
        &[
            "--json",
            "scaffold",
            "new",
            "chapter-4",
            "--dry-run",
            "-d",
            "author=",
        ],
    );
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["created_workspace"], true);
    assert_eq!(doc["variables"]["author"], "");
    assert_eq!(doc["variables"]["title"], "Chapter 4");
    let files: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "notebooks/chapter-4/README.md",
            "notebooks/chapter-4/chapter-4.ipynb",
            "notebooks/chapter-4/main.py"
        ]
    );
    assert!(!ws.exists());
}

#[test]
fn without_git_the_author_is_empty() {
    let mut ctx = TestContext::new();
    ctx.system_path = false;
    ctx.shim("date", "echo 2026-11-25");
    let (code, _, err) = run(&ctx, &["scaffold", "new", "ch1"]);
    assert_eq!(code, 0, "{err}");
    let readme = std::fs::read_to_string(ctx.workspace().join("notebooks/ch1/README.md")).unwrap();
    assert!(
        readme.contains("created 2026-11-25 with `ttm scaffold new ch1`"),
        "{readme}"
    );
}

#[test]
fn json_for_a_real_run() {
    let ctx = scaffold_context();
    let (code, out, err) = run(
        &ctx,
        &["--json", "scaffold", "new", "ch2", "-t", "training"],
    );
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["manifest"]["created"], true);
    assert_eq!(
        doc["project_folders"],
        serde_json::json!(["notebooks/ch2", "data/ch2", "models/ch2"])
    );
    for f in doc["files"].as_array().unwrap() {
        let path = PathBuf::from(f["path"].as_str().unwrap());
        let len = std::fs::metadata(ctx.workspace().join(path)).unwrap().len();
        assert_eq!(f["bytes"].as_u64().unwrap(), len);
    }
}

/// At a terminal, a missing required variable is asked for (dialoguer on a
/// real pseudo-terminal), and the answer is used.
#[test]
fn a_missing_required_variable_is_asked_for_at_a_terminal() {
    use portable_pty::{native_pty_system, CommandBuilder, PtySize};
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    let ctx = scaffold_context();
    let ws = ctx.workspace();
    write_file(
        &ws.join("templates/paper/template.toml"),
        "description = \"Reproduce a paper\"\n[variables.paper]\ndescription = \"the paper's title\"\n",
    );
    write_file(
        &ws.join("templates/paper/NOTES.md"),
        "Notes on {{ paper }}\n",
    );

    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(assert_cmd::cargo::cargo_bin("ttm"));
    cmd.args(["scaffold", "new", "attention", "-t", "paper"]);
    cmd.env_clear();
    cmd.env("HOME", &ctx.home);
    cmd.env("PATH", ctx.path_var());
    cmd.env("LC_ALL", "C");
    cmd.env("NO_COLOR", "1");
    cmd.env("TERM", "xterm-256color");
    cmd.cwd(ctx.temp.path());
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);

    let seen = Arc::new(Mutex::new(String::new()));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let sink = Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    // A bounded number of looks (not a clock), so a prompt that never comes fails.
    let wait_for = |text: &str| {
        for _ in 0..1000 {
            if seen.lock().unwrap().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {text:?} in {:?}", seen.lock().unwrap());
    };
    wait_for("paper (the paper's title)");
    let mut writer = pair.master.take_writer().unwrap();
    writer.write_all(b"Attention Is All You Need\r").unwrap();
    writer.flush().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{}", seen.lock().unwrap());
    assert_eq!(
        std::fs::read_to_string(ws.join("notebooks/attention/NOTES.md")).unwrap(),
        "Notes on Attention Is All You Need\n"
    );
}
