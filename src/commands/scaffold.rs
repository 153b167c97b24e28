//! `ttm scaffold new NAME` and `ttm scaffold list`: read the flags, drive
//! `crate::scaffold` (plan, then write), and say what happened.

use std::path::Path;

use serde_json::{json, Value};

use super::{Context, Status};
use crate::args::ScaffoldNewOptions;
use crate::cli::{ScaffoldCommand, ScaffoldNewArgs};
use crate::env_kind::EnvKind;
use crate::error::Result;
use crate::scaffold::{self, template, ChapterPlan};
use crate::ui::tilde::tilde;
use crate::workspace_lock::WorkspaceLock;

pub fn run(ctx: &Context, cmd: &ScaffoldCommand) -> Result<Status> {
    match cmd {
        ScaffoldCommand::New(args) => new(ctx, args),
        ScaffoldCommand::List => list(ctx),
    }
}

fn new(ctx: &Context, args: &ScaffoldNewArgs) -> Result<Status> {
    let options = ScaffoldNewOptions::from_args(args);
    let ws = ctx.workspace()?;
    // One writer at a time: taken before ttm.toml is read, so no update is lost.
    let lock = match options.dry_run {
        true => None,
        false => Some(WorkspaceLock::acquire(
            &ws,
            &format!("ttm scaffold new {}", args.name),
        )?),
    };
    if lock.is_some() {
        crate::workspace_lock::refuse_linked_files(&ws, &crate::workspace_lock::SCAFFOLD_WRITES)?;
    }
    let mut plan = scaffold::plan_project(&ctx.sys, &ctx.prompter(), &ws, &options.project)?;
    if let Some(lock) = &lock {
        // The lock made the workspace folder (if new): the write still reports it.
        plan.new_folders
            .splice(0..0, lock.created_workspace_folders());
        scaffold::write_plan(&ctx.sys, &ws, &plan)?;
    }
    report_new(ctx, ws.root(), &plan, options.dry_run);
    Ok(Status::Success)
}

fn report_new(ctx: &Context, root: &Path, plan: &ChapterPlan, dry_run: bool) {
    let out = &ctx.out;
    let relative = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let created_workspace = plan.new_folders.iter().any(|f| f == root);
    if out.json {
        let files: Vec<Value> = plan
            .files
            .iter()
            .map(|f| json!({"path": f.dest.display().to_string(), "bytes": f.contents.len()}))
            .collect();
        out.json_doc(&json!({
            "schema": 1,
            "name": plan.name,
            "template": plan.template.name,
            "workspace": root.display().to_string(),
            "dry_run": dry_run,
            "created_workspace": created_workspace,
            "new_folders": plan.new_folders.iter().map(|f| relative(f)).filter(|f| !f.is_empty()).collect::<Vec<_>>(),
            "project_folders": plan.project_folders().iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "files": files,
            "manifest": {
                "path": "ttm.toml",
                "created": !plan.manifest_exists,
                "kept": plan.manifest_kept,
                "new": plan.manifest_kept.then_some("ttm.toml.new"),
            },
            "variables": plan.variables,
        }));
        return;
    }
    let verb = if dry_run { "Would create" } else { "Created" };
    out.line(format!(
        "{verb} {} from the template {} in {}",
        out.bold(&plan.name),
        plan.template.name,
        root.display()
    ));
    if created_workspace {
        out.line(format!(
            "  {} (a new workspace with notebooks/, data/, models/)",
            root.display()
        ));
    }
    for folder in plan.project_folders() {
        out.line(format!("  {}/", folder.display()));
        for file in plan.files.iter().filter(|f| f.dest.starts_with(&folder)) {
            let inside = file.dest.strip_prefix(&folder).unwrap_or(&file.dest);
            out.line(format!("    {}", inside.display()));
        }
    }
    let manifest = if plan.manifest_kept {
        "ttm.toml: you changed it, so yours is kept; ttm's version is ttm.toml.new"
    } else if plan.manifest_exists {
        "ttm.toml (the chapter recorded)"
    } else {
        "ttm.toml (new, the chapter recorded)"
    };
    out.line(format!("  {manifest}"));
    if dry_run {
        out.line(out.dim("Dry run: nothing was written."));
        return;
    }
    let folder = Path::new("notebooks").join(&plan.name);
    let main = folder.join("main.py");
    let notebook = folder.join(format!("{}.ipynb", plan.name));
    let has = |p: &Path| plan.files.iter().any(|f| f.dest == p);
    if !has(&main) && !has(&notebook) {
        return;
    }
    let home = ctx.sys.home().ok();
    out.line("Next:");
    out.line(format!(
        "  cd {}",
        tilde(
            &crate::system::shell_quote(&root.display().to_string()),
            home.as_deref()
        )
    ));
    match activate_line(ctx, root) {
        Activate::Run(line) => out.line(format!("  {line}")),
        Activate::Nothing => {}
        Activate::SetupFirst => {
            out.line("  ttm setup    # once: makes the environment with PyTorch; then run the activate line it prints")
        }
    }
    if has(&main) {
        out.line(format!("  python {}", main.display()));
    }
    if has(&notebook) {
        out.line(format!("  jupyter lab {}", notebook.display()));
    }
}

enum Activate {
    /// The command that enters the environment.
    Run(String),
    /// `--env none`: PyTorch is in the user's site, nothing to enter.
    Nothing,
    /// No environment yet: `ttm setup` makes it.
    SetupFirst,
}

/// How to enter the workspace's environment, from inside the workspace:
/// the one setup recorded in ttm.toml, else a venv that is there.
fn activate_line(ctx: &Context, root: &Path) -> Activate {
    let ws = crate::workspace::Workspace::at(root);
    let venv = crate::platform::workspace_venv(&ws);
    let source = || {
        let rel = venv
            .strip_prefix(root)
            .unwrap_or(&venv)
            .join("bin/activate");
        format!(
            "source {}",
            crate::system::shell_quote(&rel.display().to_string())
        )
    };
    match crate::manifest::chosen(&ctx.sys, &ws).ok().flatten() {
        Some(m) => match m.environment.kind {
            EnvKind::Conda => Activate::Run(format!("conda activate {}", m.environment.name)),
            EnvKind::Venv => Activate::Run(source()),
            EnvKind::None => Activate::Nothing,
        },
        None if venv.join("bin/activate").is_file() => Activate::Run(source()),
        None => Activate::SetupFirst,
    }
}

fn list(ctx: &Context) -> Result<Status> {
    let ws = ctx.workspace()?;
    let (templates, broken) = template::load_all(&ctx.sys, &ws)?;
    let out = &ctx.out;
    for (ignored, why) in template::ignored_user_folders(&ctx.sys, &ws)? {
        out.warn(format!(
            "{} is not a template: {why}",
            ws.templates().join(&ignored).display(),
        ));
    }
    if out.json {
        let rows: Vec<Value> = templates
            .iter()
            .map(|t| {
                let user_dir = (t.source != template::Source::BuiltIn)
                    .then(|| ws.templates().join(&t.name).display().to_string());
                json!({
                    "name": t.name,
                    "description": t.metadata.description,
                    "source": t.source.as_str(),
                    "default": t.name == template::DEFAULT_TEMPLATE,
                    "path": user_dir,
                    "overridden_files": t.overridden_files(),
                    "variables": t.metadata.variables.keys().collect::<Vec<_>>(),
                })
            })
            .collect();
        let broken: Vec<Value> = broken
            .iter()
            .map(|(name, e)| json!({"name": name, "error": e.to_string()}))
            .collect();
        out.json_doc(&json!({
            "schema": 1,
            "templates_folder": ws.templates().display().to_string(),
            "templates": rows,
            "broken": broken,
        }));
        return Ok(Status::Success);
    }
    let width = templates
        .iter()
        .map(|t| t.name.len())
        .chain(broken.iter().map(|(n, _)| n.len()))
        .max()
        .unwrap_or(0);
    // Lines break under their text at the terminal's width, at most 100.
    let line_width = crate::ui::wrap::terminal_width(&ctx.sys)
        .unwrap_or(100)
        .clamp(40, 100);
    out.result("Templates for `ttm scaffold new NAME --template T`:");
    for t in &templates {
        let description = if t.metadata.description.is_empty() {
            out.dim(format!(
                "no description: add one to {}",
                template::METADATA_FILE
            ))
        } else {
            t.metadata.description.clone()
        };
        let mut notes = Vec::new();
        if t.name == template::DEFAULT_TEMPLATE {
            notes.push("default".to_owned());
        }
        match t.source {
            template::Source::BuiltIn => {}
            template::Source::User => notes.push("yours".into()),
            template::Source::Overridden => notes.push(format!(
                "built-in, your {} over it",
                t.overridden_files().join(", ")
            )),
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        out.result(crate::ui::wrap::hanging(
            &format!("  {:width$}  {description}{}", t.name, out.dim(notes)),
            width + 4,
            Some(line_width),
        ));
        // Its own -d variables, with the value each takes without one.
        let vars = &t.metadata.variables;
        let shown: Vec<String> = vars
            .iter()
            .map(|(k, v)| format!("-d {k}={}", v.default.as_deref().unwrap_or("…")))
            .collect();
        let col = shown.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        for ((_, v), flag) in vars.iter().zip(&shown) {
            let required = if v.default.is_none() {
                " (required)"
            } else {
                ""
            };
            out.result(crate::ui::wrap::hanging(
                &format!(
                    "  {:width$}    {flag:col$}  {}{required}",
                    "", v.description
                ),
                width + col + 8,
                Some(line_width),
            ));
        }
    }
    for (name, e) in &broken {
        out.result(format!(
            "  {name:width$}  {}",
            out.red(format!("broken: {e}"))
        ));
    }
    out.result("Every template also takes (-d key=value):");
    let builtin: Vec<&(&str, &str)> = scaffold::vars::BUILT_IN_VARIABLES
        .iter()
        .filter(|(k, _)| !matches!(*k, "name" | "template"))
        .collect();
    let col = builtin.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, what) in builtin {
        out.result(crate::ui::wrap::hanging(
            &format!("  {k:col$}  {what}"),
            col + 4,
            Some(line_width),
        ));
    }
    out.line(crate::ui::wrap::hanging(
        &format!(
            "Your own templates go in {}/NAME/; a folder named like a built-in one replaces its files.",
            ws.templates().display()
        ),
        2,
        Some(line_width),
    ));
    Ok(Status::Success)
}
