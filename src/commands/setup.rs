//! `ttm setup`: the main job, in the order rustup-init installs:
//!
//! 1. validate the flags, `--from ttm.toml` and the `requirements.lock` beside
//!    it, the workspace's own `ttm.toml` and the workspace path (bad input:
//!    exit 2, nothing changed);
//! 2. pre-check that someone can answer: a terminal, or `--yes` (else exit 2 at once);
//! 3. detect the machine (the doctor's facts) and what setup sees on disk;
//! 4. plan: every step, satisfied or not, with its exact commands, and show it;
//!    `--dry-run` stops here;
//! 5. Proceed / Customize / Cancel (`--yes` proceeds);
//! 6. apply, in this order: Xcode command line tools, Homebrew and its shellenv
//!    line in `~/.zprofile` (macOS), Python and git (Homebrew on macOS; the apt
//!    command to run on Linux), the workspace folders, the environment (conda,
//!    venv or none), `requirements.txt`, `pip install -r`,
//!    `PYTORCH_ENABLE_MPS_FALLBACK=1` in the environment (macOS), the PyTorch
//!    check, ttm's self-test, `requirements.lock`, `ttm.toml`;
//! 7. the closing message: how to use the environment, or the step that
//!    failed, the last lines of its log, the log's path and the fix (exit 1).

use std::path::Path;

use serde_json::{json, Value};

use super::{Context, Status};
use crate::checks;
use crate::cli::SetupArgs;
use crate::env_kind::EnvKind;
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest};
use crate::platform::{self, Facts, Os};
use crate::setup::apply::{Applied, Applier};
use crate::setup::download;
use crate::setup::interrupt::Catch;
use crate::setup::observe::observe;
use crate::setup::plan::{plan_setup, Locked, Options, SetupPlan, StepId};
use crate::setup::requirements::{
    check_env_name, check_python_version, check_requirement, env_name_problem, parse_lock,
    parse_packages, python_version_problem,
};
use crate::setup::state;
use crate::ui::tilde::tilde;
use crate::ui::Prompter;
use crate::workspace::Workspace;
use crate::workspace_lock::WorkspaceLock;

pub fn run(ctx: &Context, args: &SetupArgs) -> Result<Status> {
    // 1. Validate everything given before touching anything.
    let ws = ctx.workspace()?;
    ws.check_usable()?;
    let choices = validate(ctx, args, &ws)?;
    if let Some(lost) = choices.state_lost {
        ctx.out.warn(format!(
            ".ttm/state is {lost}: the choices recorded in ttm.toml are kept"
        ));
    }

    // 2. Someone must answer the questions, unless there are none to ask.
    let prompter = ctx.prompter();
    if !args.dry_run {
        prompter.require_answers("setup")?;
    }
    // One writer at a time; held until setup returns, dropped by the kernel on any exit.
    let _lock = match args.dry_run {
        true => None,
        false => Some(WorkspaceLock::acquire(&ws, "ttm setup")?),
    };
    if !args.dry_run {
        crate::workspace_lock::refuse_linked_files(&ws, &crate::workspace_lock::SETUP_WRITES)?;
        // A program a killed setup left running (pip still writing into the
        // venv) is stopped before this run starts one.
        let record = ws.state_dir().join("child");
        if let Some(line) = crate::child_record::stop_left_over(&ctx.sys, &record)? {
            ctx.out.warn(line);
        }
    }

    // 3. The machine.
    let spinner = ctx.out.spinner("Looking at this machine");
    let facts = platform::detect(&ctx.sys, &ws);
    let verdicts = checks::run_all(&facts);
    spinner.finish_and_clear();
    let mut opts = choices.into_options(ctx, &ws, &facts)?;

    // 4 and 5. Plan, show, ask; Customize goes round again.
    let plan = loop {
        let seen = observe(&ctx.sys, &facts, &opts)?;
        let plan = plan_setup(&facts, &verdicts, &opts, &seen);
        show_plan(ctx, &facts, &opts, &plan, args.dry_run);
        if args.dry_run {
            ctx.out.line("Dry run: nothing was changed.");
            let status = if plan.blockers.is_empty() {
                "planned"
            } else {
                "blocked"
            };
            print_json(ctx, &plan, None, status, true);
            return Ok(Status::Success);
        }
        if !plan.blockers.is_empty() {
            print_json(ctx, &plan, None, "blocked", false);
            let b = &plan.blockers[0];
            return Err(Error::Failed {
                message: format!("cannot set up: {}", b.message),
                fix: Some(b.fix.clone()),
            });
        }
        if plan.nothing_to_do() {
            ctx.out
                .line(ctx.out.green("Nothing to do: every step is already done."));
            print_json(ctx, &plan, None, "nothing-to-do", false);
            return Ok(Status::Success);
        }
        match prompter.select(
            "Proceed with this plan?",
            &["Proceed", "Customize", "Cancel"],
            0,
        )? {
            0 => break plan,
            1 => customize(ctx, &prompter, &facts, &mut opts)?,
            _ => return Err(Error::Cancelled),
        }
    };

    // 6. Apply.
    ctx.out.line("");
    let catch = Catch::install();
    let applier = Applier {
        sys: &ctx.sys,
        out: &ctx.out,
        prompter: &prompter,
        ws: Workspace::at(&opts.workspace),
        interrupted: catch.flag.clone(),
    };
    // `--from` pins the workspace to its lock (before any step: a run that
    // stops early stays pinned); `--upgrade` unpins it once it is done.
    let pinned = state::pinned_path(&ws);
    if let Some(l) = opts.locked.as_ref().filter(|l| !l.pinned) {
        ctx.sys
            .create_dir_all(&ws.state_dir())
            .map_err(|e| Error::io("cannot create", ws.state_dir(), e))?;
        ctx.sys
            .write_atomic(&pinned, format!("{}\n", l.path.display()).as_bytes())?;
    }
    let applied = applier.apply(&plan)?;
    if args.upgrade && applied.failure.is_none() {
        let _ = ctx.sys.remove_file(&pinned);
    }

    // 7. Say how it ended.
    match &applied.failure {
        None => {
            print_json(ctx, &plan, Some(&applied), "done", false);
            closing_message(ctx, &opts, &applied);
            Ok(Status::Success)
        }
        Some(f) => {
            print_json(ctx, &plan, Some(&applied), "failed", false);
            let mut message = format!(
                "step `{}` ({}) failed: {}",
                f.step.as_str(),
                f.title,
                f.reason
            );
            if !f.tail.is_empty() {
                message.push_str("\n  last lines:");
                for l in f.tail.lines() {
                    message.push_str("\n    ");
                    message.push_str(l);
                }
            }
            if let Some(log) = &f.log {
                message.push_str(&format!("\n  log: {}", log.display()));
            }
            message.push_str("\n  run `ttm setup` again to resume from this step");
            Err(Error::Failed {
                message,
                fix: Some(f.fix.clone()),
            })
        }
    }
}

/// What `ttm setup`, run with no flags, would do about the doctor's
/// problems: the checks a step of its plan answers, and the checks whose
/// failure blocks the plan (it runs nothing until they are fixed). None when it
/// could not plan (a bad ttm.toml: setup itself says why).
pub fn would_fix(
    ctx: &Context,
    ws: &Workspace,
    facts: &Facts,
    verdicts: &[checks::CheckResult],
) -> Option<(Vec<checks::CheckId>, Vec<checks::CheckId>)> {
    let choices = validate(ctx, &SetupArgs::default(), ws).ok()?;
    let opts = choices.into_options(ctx, ws, facts).ok()?;
    let seen = observe(&ctx.sys, facts, &opts).ok()?;
    let plan = plan_setup(facts, verdicts, &opts, &seen);
    let fixed = verdicts
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                checks::CheckStatus::Warn | checks::CheckStatus::Fail
            )
        })
        .filter(|r| {
            plan.steps
                .iter()
                .any(|s| !s.satisfied && s.checks.contains(&r.id))
        })
        .map(|r| r.id)
        .collect();
    let mut blockers: Vec<checks::CheckId> = plan.blockers.iter().filter_map(|b| b.check).collect();
    if blockers.is_empty() && !plan.blockers.is_empty() {
        // Setup's own blockers name no check: then it fixes nothing yet.
        return Some((Vec::new(), Vec::new()));
    }
    blockers.dedup();
    Some((fixed, blockers))
}

/// The lock a `ttm setup --from` pinned the workspace to (`.ttm/pinned`):
/// the workspace's `requirements.lock`, or before that was written (the
/// `--from` run stopped early) the lock it named.
fn pinned_lock(ctx: &Context, ws: &Workspace) -> Result<Option<Locked>> {
    let Some(marker) = ctx.sys.read_optional(&state::pinned_path(ws))? else {
        return Ok(None);
    };
    let named = std::path::PathBuf::from(String::from_utf8_lossy(&marker).trim());
    let Some((path, bytes)) = [ws.lock(), named]
        .into_iter()
        .find_map(|p| Some((p.clone(), ctx.sys.read_optional(&p).ok()??)))
    else {
        return Err(Error::BadFile {
            path: ws.lock(),
            message: "is gone, and this workspace was set up with --from to stay on it: \
                      run ttm setup --from again, or ttm setup --upgrade"
                .into(),
        });
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::BadFile {
        path: path.clone(),
        message: "is not UTF-8 text".into(),
    })?;
    Ok(Some(Locked {
        lines: parse_lock(&text, &path)?,
        path,
        pinned: true,
    }))
}

/// The flags and files, checked; the environment kind waits for the facts.
struct Choices {
    env: Option<EnvKind>,
    env_name: String,
    /// The name came from --env-name or a manifest.
    named: bool,
    python: Option<String>,
    extra: Vec<String>,
    notebook: bool,
    selftest: bool,
    locked: Option<Locked>,
    reinstall: bool,
    /// `.ttm/state` is "missing" or "unreadable" and ttm.toml's choices were kept.
    state_lost: Option<&'static str>,
}

fn validate(ctx: &Context, args: &SetupArgs, ws: &Workspace) -> Result<Choices> {
    if let Some(name) = &args.env_name {
        check_env_name(name)?;
    }
    if let Some(v) = &args.python {
        check_python_version(v)?;
    }
    let packages = args.packages.as_deref().map(parse_packages).transpose()?;

    // Defaults: --from's manifest, else the workspace's own, else the book's.
    let mut state_lost = None;
    let (base, locked) = match &args.from {
        Some(p) => {
            let path = ctx.sys.resolve_path(p)?;
            let m = Manifest::load(&ctx.sys, &path)?.ok_or_else(|| {
                Error::bad_input(format!(
                    "--from {}: no such file; give the path of a ttm.toml",
                    path.display()
                ))
            })?;
            let lock_path = path
                .parent()
                .unwrap_or(Path::new("."))
                .join("requirements.lock");
            let locked = match ctx.sys.read_optional(&lock_path)? {
                Some(bytes) => {
                    let text = String::from_utf8(bytes).map_err(|_| Error::BadFile {
                        path: lock_path.clone(),
                        message: "is not UTF-8 text".into(),
                    })?;
                    Some(Locked {
                        lines: parse_lock(&text, &lock_path)?,
                        path: lock_path,
                        pinned: false,
                    })
                }
                None => {
                    ctx.out.warn(format!("no requirements.lock beside {}: the newest versions of its packages are installed", path.display()));
                    None
                }
            };
            (Some((m, path)), locked)
        }
        None => {
            // The workspace's ttm.toml is read (and must be valid) always, but
            // its choices count only when setup wrote it or the user edited
            // it: `ttm scaffold` writes one with plain defaults for its chapters.
            let m = manifest::chosen(&ctx.sys, ws)?;
            if m.is_some() {
                state_lost = crate::setup::state::State::inspect(&ctx.sys, ws)?.lost();
            }
            let locked = match args.upgrade {
                true => None,
                false => pinned_lock(ctx, ws)?,
            };
            (m.map(|m| (m, ws.manifest())), locked)
        }
    };
    if let Some((m, path)) = &base {
        let bad = |message: String| Error::BadFile {
            path: path.clone(),
            message,
        };
        check_env_name(&m.environment.name).map_err(|e| bad(format!("environment.name: {e}")))?;
        check_python_version(&m.environment.python)
            .map_err(|e| bad(format!("environment.python: {e}")))?;
        for p in &m.packages.extra {
            check_requirement(p)
                .map_err(|why| bad(format!("packages.extra: {p:?} is not a package: {why}")))?;
        }
    }
    let m = base.map(|(m, _)| m);
    Ok(Choices {
        env: args.env.or(m.as_ref().map(|m| m.environment.kind)),
        named: args.env_name.is_some() || m.is_some(),
        env_name: args
            .env_name
            .clone()
            .or(m.as_ref().map(|m| m.environment.name.clone()))
            .unwrap_or_else(|| manifest::DEFAULT_ENV_NAME.to_owned()),
        python: args
            .python
            .clone()
            .or(m.as_ref().map(|m| m.environment.python.clone())),
        extra: packages
            .or(m.as_ref().map(|m| m.packages.extra.clone()))
            .unwrap_or_default(),
        notebook: m.as_ref().map(|m| m.packages.notebook).unwrap_or(true),
        selftest: !args.no_selftest && m.as_ref().map(|m| m.packages.selftest).unwrap_or(true),
        locked,
        reinstall: args.reinstall,
        state_lost,
    })
}

impl Choices {
    fn into_options(self, ctx: &Context, ws: &Workspace, facts: &Facts) -> Result<Options> {
        // Without a choice, the environment the doctor chose (found, activated, or the default).
        let expected = facts.env_expected.as_ref();
        let found = expected.map(|e| e.kind).filter(|k| *k != EnvKind::None);
        let env = match self.env {
            Some(EnvKind::Conda) if facts.conda.is_none() => {
                let mac = facts.os == Os::Macos;
                return Err(Error::NotInstalled {
                    message: "--env conda: conda is not installed; install Miniforge and run this again, or pass --env venv".into(),
                    fix: crate::install::install_miniforge(mac).to_owned(),
                });
            }
            Some(kind) => kind,
            None => match found {
                Some(EnvKind::Conda) if facts.conda.is_none() => EnvKind::Venv,
                Some(kind) => kind,
                None if facts.conda.is_some() => EnvKind::Conda,
                None => EnvKind::Venv,
            },
        };
        let venv = expected
            .filter(|e| e.kind == EnvKind::Venv)
            .and_then(|e| e.prefix.clone())
            .unwrap_or_else(|| platform::workspace_venv(ws));
        // A conda env found by the doctor (activated, say) keeps its name.
        let env_name = match expected {
            Some(e) if env == EnvKind::Conda && e.kind == EnvKind::Conda && !self.named => {
                e.name.clone()
            }
            _ => self.env_name,
        };
        Ok(Options {
            workspace: ws.root().to_path_buf(),
            home: ctx.sys.home()?,
            env,
            env_name,
            venv,
            python: self.python,
            extra: self.extra,
            notebook: self.notebook,
            selftest: self.selftest,
            locked: self.locked,
            assume_yes: ctx.global.yes,
            reinstall: self.reinstall,
        })
    }
}

fn customize(ctx: &Context, prompter: &Prompter, facts: &Facts, opts: &mut Options) -> Result<()> {
    let sys = &ctx.sys;
    let ws = prompter.input("Workspace", &opts.workspace.display().to_string(), |s| {
        let p = sys
            .resolve_path(Path::new(s.trim()))
            .map_err(|e| e.to_string())?;
        Workspace::at(p).check_usable().map_err(|e| e.to_string())
    })?;
    let before = opts.workspace.clone();
    opts.workspace = sys.resolve_path(Path::new(ws.trim()))?;
    if opts.venv.starts_with(&before) && opts.workspace != before {
        opts.venv = platform::workspace_venv(&Workspace::at(&opts.workspace));
    }

    // Only what can be chosen here: no conda where there is none.
    let mut kinds = Vec::new();
    let mut items = Vec::new();
    if facts.conda.is_some() {
        kinds.push(EnvKind::Conda);
        items.push("conda");
    }
    kinds.extend([EnvKind::Venv, EnvKind::None]);
    items.extend([
        "venv (in the workspace: .venv, or the book's venv)",
        "none (pip install --user)",
    ]);
    let current = kinds
        .iter()
        .position(|k| *k == opts.env)
        .or_else(|| kinds.iter().position(|k| *k == EnvKind::Venv))
        .unwrap_or(0);
    opts.env = kinds[prompter.select("Environment", &items, current)?];

    // A venv's name is the label its activation puts in the shell prompt.
    let label = match opts.env {
        EnvKind::Venv => "Environment name (the venv's prompt label)",
        _ => "Environment name",
    };
    opts.env_name = prompter
        .input(label, &opts.env_name, |s| {
            env_name_problem(s.trim()).map_or(Ok(()), Err)
        })?
        .trim()
        .to_owned();

    let current = opts.python.clone().unwrap_or_else(|| "auto".into());
    let v = prompter.input(
        "Python version (auto: the first python3 on PATH)",
        &current,
        |s| {
            let s = s.trim();
            if s == "auto" {
                Ok(())
            } else {
                python_version_problem(s).map_or(Ok(()), Err)
            }
        },
    )?;
    opts.python = (v.trim() != "auto").then(|| v.trim().to_owned());

    let current = if opts.extra.is_empty() {
        "none".to_owned()
    } else {
        opts.extra.join(" ")
    };
    let p = prompter.input(
        "Extra packages, space-separated (none: no extras)",
        &current,
        |s| {
            if s.trim() == "none" {
                Ok(())
            } else {
                parse_packages(s).map(|_| ()).map_err(|e| e.to_string())
            }
        },
    )?;
    opts.extra = if p.trim() == "none" {
        Vec::new()
    } else {
        parse_packages(&p)?
    };

    opts.notebook = prompter.confirm("Notebook tooling (JupyterLab)?", opts.notebook)?;
    opts.selftest = prompter.confirm("Run ttm's self-test at the end?", opts.selftest)?;
    Ok(())
}

/// The plan: a summary first (what gets installed, about how much is
/// downloaded), then the steps. Each step's commands show with `--dry-run`
/// or `-v`; ttm's own internals (the self-test's `--json`) only with `-v`.
/// Paths under HOME read `~/…`.
fn show_plan(ctx: &Context, facts: &Facts, opts: &Options, plan: &SetupPlan, dry_run: bool) {
    let out = &ctx.out;
    let verbose = out.verbosity >= crate::ui::Verbosity::Verbose;
    let home = Some(opts.home.as_path());
    // Wrapped (under its own text) only on a terminal, at its width and at
    // most 100 columns: piped, a line with a path would break at a place
    // that depends on where HOME or the checkout is. The commands shown with
    // --dry-run are never broken, so that each can be pasted.
    let width = ctx
        .sys
        .stdout_is_terminal()
        .then(|| crate::ui::wrap::terminal_width(&ctx.sys))
        .flatten()
        .map(|w| w.min(100));
    let wrapped = |text: String, indent: usize| {
        out.line(crate::ui::wrap::hanging(&tilde(&text, home), indent, width))
    };
    let line = |text: String| wrapped(text, 15);
    let command = |text: String| out.line(tilde(&text, home));
    out.line(out.bold("ttm setup: the plan"));
    out.line("");
    let machine = match facts.os {
        Os::Macos => format!("macOS {}", facts.os_version.as_deref().unwrap_or("?")),
        Os::Linux => facts.os_version.clone().unwrap_or_else(|| "Linux".into()),
        Os::Other => "unknown system (treated as Linux)".into(),
    };
    let arch = facts
        .arch
        .as_deref()
        .map(|a| format!(", {a}"))
        .unwrap_or_default();
    let chip = facts
        .chip
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    line(format!("  machine      {machine}{arch}{chip}"));
    let installs = installs(plan);
    if !installs.is_empty() {
        line(format!("  installs     {}", installs.join(", ")));
    }
    let pip_runs = plan.step(StepId::PipInstall).is_some_and(|s| !s.satisfied);
    if pip_runs {
        if let Some(d) = download::estimate(facts) {
            line(format!("  download     {d}"));
        }
    }
    line(format!("  workspace    {}", plan.workspace.display()));
    line(format!("  environment  {}", plan.environment));
    line(format!("  packages     {}", plan.packages.join(" ")));
    line(format!(
        "  self-test    {}",
        if opts.selftest { "on" } else { "off" }
    ));
    if let Some(g) = &plan.gpu {
        line(format!("  GPU          {g}"));
    }
    out.line("");
    // What stops setup comes before anything it would do.
    for b in &plan.blockers {
        command(format!(
            "  {} {}\n    fix: {}",
            out.red("blocked:"),
            b.message,
            b.fix
        ));
    }
    if !plan.blockers.is_empty() {
        out.line("  Nothing below runs until that is fixed.");
        out.line("");
    }
    let commands = dry_run || verbose;
    for step in &plan.steps {
        let mark = if step.satisfied {
            out.green("[ok]   ")
        } else {
            out.yellow("[to do]")
        };
        let note = step
            .note
            .as_deref()
            .map(|n| out.dim(format!(" - {n}")))
            .unwrap_or_default();
        wrapped(format!("  {mark} {}{note}", step.title), 10);
        let internal = step.id == StepId::Selftest;
        if !step.satisfied && commands && (verbose || !internal) {
            for a in &step.actions {
                command(format!("            {}", a.describe()));
            }
        }
    }
    for n in &plan.notes {
        wrapped(format!("  note: {n}"), 8);
    }
    if !commands && !plan.nothing_to_do() {
        out.line(out.dim("  (each step's commands: ttm setup --dry-run)"));
    }
    out.line("");
}

/// What the plan installs, in a few words each: "Xcode command line tools,
/// Homebrew, python@3.12, a venv, PyTorch 2.11.0 and 2 more packages".
fn installs(plan: &SetupPlan) -> Vec<String> {
    let todo = |id: StepId| plan.step(id).filter(|s| !s.satisfied);
    let mut v = Vec::new();
    if todo(StepId::XcodeClt).is_some() {
        v.push("Xcode command line tools".to_owned());
    }
    if todo(StepId::Homebrew).is_some() {
        v.push("Homebrew".to_owned());
    }
    for id in [StepId::BrewPackages, StepId::SystemPackages] {
        if todo(id).is_some() {
            v.push("Python and git".to_owned());
        }
    }
    if todo(StepId::Environment).is_some() {
        v.push(match plan.environment.split_whitespace().next() {
            Some("conda") => "a conda environment".to_owned(),
            Some("venv") => "a venv".to_owned(),
            _ => "the environment".to_owned(),
        });
    }
    if todo(StepId::PipInstall).is_some() {
        let torch = plan
            .torch
            .as_deref()
            .map(|t| format!("PyTorch {t}"))
            .unwrap_or_else(|| "PyTorch (the newest)".to_owned());
        let base = ["torch", "torchvision", "torchaudio", "numpy<2"];
        let others = plan
            .packages
            .iter()
            .filter(|p| !base.iter().any(|b| p.starts_with(b)))
            .count();
        v.push(match others {
            0 => torch,
            1 => format!("{torch} and 1 more package"),
            n => format!("{torch} and {n} more packages"),
        });
    }
    v
}

fn closing_message(ctx: &Context, opts: &Options, applied: &Applied) {
    let out = &ctx.out;
    out.line("");
    let check = applied.torch_check.as_ref().map(|v| {
        format!(
            " PyTorch {} computes on {}.",
            v["torch"].as_str().unwrap_or("?"),
            v["device"].as_str().unwrap_or("?")
        )
    });
    out.line(format!(
        "{}{}",
        out.green("Setup is done."),
        check.unwrap_or_default()
    ));
    let activate = match opts.env {
        EnvKind::Venv => format!("source {}", shell_path(&opts.venv.join("bin/activate"))),
        EnvKind::Conda => format!("conda activate {}", opts.env_name),
        EnvKind::None => "(no environment to activate)".into(),
    };
    let (ttm, not_on_path) = way_back_to_ttm(&ctx.sys);
    out.line("Next:");
    out.line(format!("  {activate}"));
    out.line(format!("  cd {}", shell_path(&opts.workspace)));
    out.line(format!("  {ttm} scaffold new chapter-4"));
    if let Some(note) = not_on_path {
        out.line(note);
    }
}

/// How to run this ttm again: `ttm` when PATH finds this very binary, else
/// its path, with a line on putting it on PATH (or installing it, when this
/// is a build under `target/` run by `cargo run`).
fn way_back_to_ttm(sys: &crate::system::System) -> (String, Option<String>) {
    let Some(exe) = sys.current_exe() else {
        return ("ttm".into(), None);
    };
    if sys
        .which("ttm")
        .is_some_and(|found| sys.same_file(&found, &exe))
    {
        return ("ttm".into(), None);
    }
    let built_here = exe.components().any(|c| c.as_os_str() == "target")
        && exe
            .parent()
            .is_some_and(|d| d.ends_with("release") || d.ends_with("debug"));
    let note = if built_here {
        "  (ttm is not installed: `cargo install --path .` puts it in ~/.cargo/bin, on PATH)"
            .to_owned()
    } else {
        let dir = exe.parent().map(shell_path).unwrap_or_default();
        format!("  (ttm is not on PATH: export PATH={dir}:\"$PATH\", or open a new terminal if its installer added it)")
    };
    (shell_path(&exe), Some(note))
}

fn shell_path(p: &Path) -> String {
    crate::system::shell_quote(&p.display().to_string())
}

fn print_json(
    ctx: &Context,
    plan: &SetupPlan,
    applied: Option<&Applied>,
    status: &str,
    dry_run: bool,
) {
    if !ctx.out.json {
        return;
    }
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| {
            let report = applied.and_then(|a| a.steps.iter().find(|r| r.id == s.id));
            // A step changed the machine when it ran (a failed one may have
            // changed part of it); with --dry-run, when it would run (never
            // in a blocked plan: nothing runs).
            let changed = match report {
                Some(r) => matches!(r.result, "done" | "failed"),
                None => dry_run && !s.satisfied && plan.blockers.is_empty(),
            };
            json!({
                "id": s.id,
                "title": s.title,
                "satisfied": s.satisfied,
                "checks": s.checks,
                "note": s.note,
                "commands": s.actions.iter().map(|a| a.describe()).collect::<Vec<_>>(),
                "result": report.map(|r| r.result).unwrap_or(if s.satisfied { "satisfied" } else { "not-run" }),
                "log": report.and_then(|r| r.log.clone()),
                "seconds": report.map(|r| r.seconds),
                "changed": changed,
            })
        })
        .collect();
    let changed = steps.iter().any(|s| s["changed"] == true);
    let doc = json!({
        "schema": 1,
        "changed": changed,
        "status": status,
        "dry_run": dry_run,
        "workspace": plan.workspace,
        "environment": plan.environment,
        "python": plan.python,
        "packages": plan.packages,
        "gpu": plan.gpu,
        "torch": plan.torch,
        "notes": plan.notes,
        "blockers": plan.blockers,
        "steps": steps,
        "torch_check": applied.and_then(|a| a.torch_check.clone()),
        "selftest": applied.and_then(|a| a.selftest.clone()),
        "failure": applied.and_then(|a| a.failure.clone()),
    });
    ctx.out.json_doc(&doc);
}
