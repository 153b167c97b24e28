//! The plan, as pure data: from the machine's facts, the user's choices and
//! what setup itself sees on disk, the list of steps, each with whether it is
//! already satisfied and the exact commands it would run. Nothing here
//! touches the machine, so every branch is unit-tested with values.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::observe::{FoundPython, Seen, SeenFile};
use super::requirements::{minor_version, render_requirements};
pub use super::shell_profile::{has_block, BLOCK_END, BLOCK_START};

mod environment;
mod packages;
mod record;
mod toolchain;
mod verify;
use super::state::fingerprint;
use super::verdicts::{fails, reconcile};
use crate::checks::{CheckId, CheckResult};
use crate::compat::{self, TorchSet};
use crate::env_kind::EnvKind;
use crate::env_vars;
use crate::install::{self, BREW_DEFAULT_PYTHON, HOMEBREW_INSTALL_URL, INSTALL_HOMEBREW};
use crate::manifest::{self, Environment, Manifest, Packages};
use crate::platform::{EnvFlavor, Facts, Os};
use crate::system::{shell_quote, Cmd};
use crate::workspace::{Workspace, FOLDERS};

const HOUR: Duration = Duration::from_secs(3600);

/// What the user chose (flags, `--from`, the workspace's ttm.toml, Customize).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Options {
    pub workspace: PathBuf,
    pub home: PathBuf,
    pub env: EnvKind,
    pub env_name: String,
    /// The venv's folder (`--env venv`): the one found, else `<workspace>/.venv`.
    pub venv: PathBuf,
    /// The Python version asked for; None: the first python3 on PATH (venv,
    /// none) or the book's 3.10 (conda).
    pub python: Option<String>,
    pub extra: Vec<String>,
    pub notebook: bool,
    pub selftest: bool,
    /// `--from`: the lock file beside the manifest and its checked lines.
    pub locked: Option<Locked>,
    /// --yes: Homebrew's installer runs with NONINTERACTIVE=1.
    pub assume_yes: bool,
    /// `--reinstall`: force-reinstall torch, torchvision and torchaudio.
    pub reinstall: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Locked {
    pub path: PathBuf,
    pub lines: Vec<String>,
    /// The workspace's own lock, which a `--from` setup pinned it to (not
    /// `--from` itself).
    pub pinned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepId {
    XcodeClt,
    Homebrew,
    BrewShellenv,
    BrewPackages,
    SystemPackages,
    Workspace,
    Environment,
    Requirements,
    PipInstall,
    MpsFallback,
    TorchCheck,
    Selftest,
    Lock,
    Manifest,
}

impl StepId {
    pub fn as_str(self) -> &'static str {
        match self {
            StepId::XcodeClt => "xcode-clt",
            StepId::Homebrew => "homebrew",
            StepId::BrewShellenv => "brew-shellenv",
            StepId::BrewPackages => "brew-packages",
            StepId::SystemPackages => "system-packages",
            StepId::Workspace => "workspace",
            StepId::Environment => "environment",
            StepId::Requirements => "requirements",
            StepId::PipInstall => "pip-install",
            StepId::MpsFallback => "mps-fallback",
            StepId::TorchCheck => "torch-check",
            StepId::Selftest => "selftest",
            StepId::Lock => "lock",
            StepId::Manifest => "manifest",
        }
    }
}

/// A program to run, exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedCmd {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    #[serde(skip)]
    pub timeout: Duration,
    /// Runs on the user's terminal (an installer that asks for a password).
    pub interactive: bool,
}

impl PlannedCmd {
    pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> PlannedCmd {
        PlannedCmd {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            timeout: HOUR,
            interactive: false,
        }
    }

    pub fn arg(mut self, a: impl Into<String>) -> PlannedCmd {
        self.args.push(a.into());
        self
    }

    fn env(mut self, k: &str, v: &str) -> PlannedCmd {
        self.env.push((k.into(), v.into()));
        self
    }

    fn timeout(mut self, t: Duration) -> PlannedCmd {
        self.timeout = t;
        self
    }

    pub fn to_cmd(&self) -> Cmd {
        let mut cmd = Cmd::new(&self.program)
            .args(&self.args)
            .timeout(self.timeout);
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        if self.interactive {
            cmd = cmd.interactive();
        }
        cmd
    }

    /// As a user would type it: `NONINTERACTIVE=1 /bin/bash install.sh`.
    pub fn line(&self) -> String {
        self.env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .chain(std::iter::once(self.to_cmd().to_shell_line()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The Python of the environment: a path, or `conda run -n NAME python`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvPython {
    pub program: PathBuf,
    pub pre_args: Vec<String>,
    /// `--env none`: packages go to the user site (`pip install --user`).
    pub user_site: bool,
}

impl EnvPython {
    pub fn cmd(&self, args: &[&str]) -> PlannedCmd {
        let mut all: Vec<&str> = self.pre_args.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        PlannedCmd::new(&self.program, &all)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    Run {
        cmd: PlannedCmd,
        /// A non-zero exit is fine (`xcode-select --install` when a request is pending).
        may_fail: bool,
    },
    /// Poll until the command succeeds (the command line tools' installer dialog).
    WaitFor {
        what: String,
        cmd: PlannedCmd,
        #[serde(skip)]
        timeout: Duration,
    },
    MakeDirs {
        dirs: Vec<PathBuf>,
    },
    /// Append `lines` to `path` inside a marked block, once.
    AppendBlock {
        path: PathBuf,
        lines: Vec<String>,
    },
    /// Write atomically; keep a copy at `record` to notice later edits.
    WriteFile {
        path: PathBuf,
        contents: String,
        record: Option<PathBuf>,
    },
    /// Something ttm will not do for the user (sudo apt-get): fails with the fix.
    Manual {
        message: String,
        fix: String,
    },
    /// The book's linear regression through the environment's python.
    TorchCheck {
        python: EnvPython,
    },
    /// `ttm selftest --json`, this very binary.
    Selftest,
    /// `pip freeze` into the lock file.
    Freeze {
        python: EnvPython,
        path: PathBuf,
    },
}

impl Action {
    /// One line for the plan (`$ …` for programs).
    pub fn describe(&self) -> String {
        match self {
            Action::Run { cmd, .. } => format!("$ {}", cmd.line()),
            Action::WaitFor { what, cmd, .. } => {
                format!("wait for {what} (until `{}` succeeds)", cmd.line())
            }
            Action::MakeDirs { dirs } => format!(
                "$ mkdir -p {}",
                dirs.iter()
                    .map(|d| shell_quote(&d.display().to_string()))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Action::AppendBlock { path, lines } => {
                format!(
                    "add to {} (once, between ttm's markers): {}",
                    path.display(),
                    lines.join("; ")
                )
            }
            Action::WriteFile { path, .. } => format!("write {}", path.display()),
            Action::Manual { message, fix } => format!("{message}: run `{fix}`"),
            Action::TorchCheck { python } => format!(
                "$ {} -c <the book's linear regression, scripts/torch_check.py>",
                python.cmd(&[]).line()
            ),
            Action::Selftest => "$ ttm selftest --json".to_owned(),
            Action::Freeze { python, path } => {
                let mut cmd = python.cmd(&["-m", "pip", "freeze"]);
                if python.user_site {
                    cmd = cmd.arg("--user");
                }
                format!(
                    "$ {} > {}",
                    cmd.line(),
                    shell_quote(&path.display().to_string())
                )
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub id: StepId,
    pub title: String,
    pub satisfied: bool,
    /// Why it is satisfied, or a note on what it will do.
    pub note: Option<String>,
    pub actions: Vec<Action>,
    /// Recorded in `.ttm/state` when it finishes.
    pub fingerprint: String,
    /// Asked before it runs (Homebrew's script).
    pub confirm: Option<String>,
    /// The command that fixes it by hand when it fails.
    pub fix: String,
    /// The doctor's checks this step answers: a failing one makes it run.
    pub checks: Vec<CheckId>,
}

/// Something that stops setup before it starts: a check doctor fails that no
/// step repairs (a Rosetta terminal, a macOS too old for MPS, a full disk).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub message: String,
    pub fix: String,
    /// The doctor's check that fails, when it is one.
    pub check: Option<CheckId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetupPlan {
    pub os: Os,
    pub workspace: PathBuf,
    /// "venv at ~/torch_to_the_metal/.venv (Python 3.11 from /usr/bin/python3)"
    pub environment: String,
    pub python: Option<String>,
    pub packages: Vec<String>,
    /// What the torch check will find, from the facts ("NVIDIA H100 (CUDA)").
    pub gpu: Option<String>,
    /// The torch version pinned for this Mac (compat's table); None: the newest (Linux).
    pub torch: Option<String>,
    pub blockers: Vec<Blocker>,
    pub steps: Vec<Step>,
    /// Files of the user's kept, and the like.
    pub notes: Vec<String>,
    /// The manifest the run ends with.
    #[serde(skip)]
    pub manifest: Manifest,
}

impl SetupPlan {
    pub fn nothing_to_do(&self) -> bool {
        self.steps.iter().all(|s| s.satisfied)
    }
    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

fn step(id: StepId, title: &str, satisfied: bool, actions: Vec<Action>) -> Step {
    Step {
        id,
        title: title.to_owned(),
        satisfied,
        note: None,
        actions,
        fingerprint: String::new(),
        confirm: None,
        fix: "ttm setup (it resumes at this step)".to_owned(),
        checks: Vec::new(),
    }
}

/// The plan: every step in order, satisfied or not, from the machine's
/// facts and the doctor's verdicts over them (`checks::run_all(facts)`).
pub fn plan_setup(
    facts: &Facts,
    verdicts: &[CheckResult],
    opts: &Options,
    seen: &Seen,
) -> SetupPlan {
    let macos = facts.os == Os::Macos;
    let mut blockers = Vec::new();
    let mut notes = Vec::new();
    let mut steps = Vec::new();

    // Homebrew's place: what brew says, else where its installer puts it.
    // On Apple Silicon an Intel Homebrew (/usr/local) is never used: the
    // native one goes to /opt/homebrew beside it.
    let native_prefix = PathBuf::from(if facts.apple_silicon {
        "/opt/homebrew"
    } else {
        "/usr/local"
    });
    let intel_brew = macos
        && facts.apple_silicon
        && facts.homebrew.is_some()
        && fails(verdicts, CheckId::Homebrew);
    let usable_brew = facts.homebrew.as_ref().filter(|_| !intel_brew);
    let brew_prefix = usable_brew
        .map(|b| b.prefix.clone())
        .unwrap_or_else(|| native_prefix.clone());
    let brew = usable_brew
        .map(|b| b.path.clone())
        .unwrap_or_else(|| brew_prefix.join("bin/brew"));

    // The PyTorch set for this Mac (compat's table); elsewhere the newest.
    let torch_set = macos
        .then(|| {
            let mm = facts.os_version.as_deref().and_then(compat::major_minor);
            compat::for_mac(facts.apple_silicon, mm)
        })
        .flatten();

    // The Python a venv (or `none`) is made from.
    let (base_python, base_version, base_missing) =
        choose_base_python(facts, opts, seen, &brew_prefix, torch_set);
    let base = BasePython {
        path: base_python.clone(),
        version: base_version.clone(),
    };
    let brew_place = BrewPlace {
        usable: usable_brew,
        intel: intel_brew,
        prefix: brew_prefix.clone(),
        path: brew.clone(),
    };
    let cx = Cx {
        facts,
        verdicts,
        opts,
        seen,
        ws: Workspace::at(&opts.workspace),
        macos,
    };
    let needs_base = opts.env != EnvKind::Conda;
    // On a Mac a failing Python is replaced whatever the environment: the book installs its own.
    let python_missing =
        base_missing && (needs_base || (macos && fails(verdicts, CheckId::Python)));
    let git_missing =
        facts.git.is_none() && !seen.git_on_path && !(macos && facts.xcode_clt.is_none());

    steps.extend(toolchain::steps(
        &cx,
        &brew_place,
        Missing {
            python: python_missing,
            git: git_missing,
        },
        base.version.as_deref(),
    ));
    // The workspace's folders (logs/ too: every command's output goes there).
    let mut folders: Vec<String> = FOLDERS.iter().map(|f| f.to_string()).collect();
    folders.push("logs".into());
    let missing: Vec<PathBuf> = folders
        .iter()
        .filter(|f| seen.missing_folders.contains(f))
        .map(|f| opts.workspace.join(f))
        .collect();
    let mut s = step(
        StepId::Workspace,
        "Workspace folders (notebooks, data, models, logs)",
        missing.is_empty(),
        vec![Action::MakeDirs { dirs: missing }],
    );
    s.note = Some(opts.workspace.display().to_string());
    s.checks = vec![CheckId::Workspace];
    s.fix = format!(
        "mkdir -p {}",
        shell_quote(&opts.workspace.display().to_string())
    );
    steps.push(s);

    // The environment.
    let conda_python = opts
        .python
        .clone()
        .unwrap_or_else(|| manifest::DEFAULT_PYTHON.to_owned());
    let conda_python = conda_python.as_str();
    let env = match opts.env {
        EnvKind::Venv => environment::venv(&cx, &base, &mut steps),
        EnvKind::Conda => environment::conda(&cx, conda_python, &mut steps, &mut notes),
        EnvKind::None => environment::none(&base, &mut steps),
    };
    let EnvChoice {
        python: env_python,
        line: env_line,
        fingerprint: env_fp,
        recorded: python_recorded,
    } = env;

    // requirements.txt, with this Mac's PyTorch set pinned (compat's table).
    let torch_packages: Vec<String> = match torch_set {
        Some(set) => set.pins(),
        None => manifest::BASE_PACKAGES
            .iter()
            .map(|p| p.to_string())
            .collect(),
    };
    let (requirements_step, installed_req) =
        packages::requirements(&cx, torch_set, &torch_packages, &mut notes, &mut blockers);
    steps.push(requirements_step);

    // pip install
    let pip_step = packages::pip_install(
        &cx,
        &steps,
        &env_python,
        &env_fp,
        &torch_packages,
        installed_req,
    );
    let pip_fp = pip_step.fingerprint.clone();
    steps.push(pip_step);

    // PYTORCH_ENABLE_MPS_FALLBACK=1 in the environment itself.
    if macos {
        steps.push(packages::mps_fallback(&cx));
    }

    steps.push(verify::torch_check(&cx, &env_python, &pip_fp));
    steps.extend(verify::selftest(&cx));
    steps.push(record::lock(&cx, &env_python, &pip_fp));
    let (manifest_step, m) = record::manifest(&cx, &python_recorded, &mut notes);
    steps.push(manifest_step);

    reconcile(verdicts, &mut steps, &mut blockers);

    // A step redone invalidates what was built on it: a venv made anew is
    // empty, so pip, the check and the lock run again whatever the record says.
    for (cause, effects) in [
        (
            StepId::Environment,
            [StepId::PipInstall, StepId::TorchCheck, StepId::Lock],
        ),
        (
            StepId::PipInstall,
            [StepId::TorchCheck, StepId::Lock, StepId::Lock],
        ),
    ] {
        if steps.iter().any(|s| s.id == cause && !s.satisfied) {
            for s in steps.iter_mut().filter(|s| effects.contains(&s.id)) {
                s.satisfied = false;
            }
        }
    }

    let mut packages: Vec<String> = torch_packages.clone();
    if opts.notebook {
        packages.extend(["jupyterlab".to_owned(), "ipykernel".to_owned()]);
    }
    packages.extend(opts.extra.iter().cloned());
    match &opts.locked {
        Some(l) if l.pinned => notes.push(format!(
            "set up with --from, this workspace stays on {}; `ttm setup --upgrade` leaves it",
            l.path.file_name().unwrap_or_default().to_string_lossy(),
        )),
        Some(l) => notes.push(format!(
            "--from: the {} locked versions in {} are installed",
            l.lines.len(),
            l.path.display()
        )),
        None => {}
    }

    SetupPlan {
        os: facts.os,
        workspace: opts.workspace.clone(),
        environment: env_line,
        python: Some(python_recorded),
        packages,
        gpu: describe_gpu(facts),
        torch: torch_set.map(|s| s.torch.to_owned()),
        blockers,
        steps,
        notes,
        manifest: m,
    }
}

/// Which python a venv (or `none`) uses, its version, and whether it must
/// first be installed. On macOS a missing one comes from Homebrew.
fn choose_base_python(
    facts: &Facts,
    opts: &Options,
    seen: &Seen,
    brew_prefix: &Path,
    torch_set: Option<TorchSet>,
) -> (PathBuf, Option<String>, bool) {
    let macos = facts.os == Os::Macos;
    // On a Mac, Apple's stub, an x86_64 Python on Apple Silicon and a Python
    // without wheels of this Mac's torch do not count.
    let usable = |p: &FoundPython| -> bool {
        if !macos {
            return true;
        }
        let minor = compat::major_minor(&p.version).map(|(_, m)| m);
        if torch_set.zip(minor).is_some_and(|(s, m)| !s.has_python(m)) {
            return false;
        }
        match &facts.python {
            Some(fp) if fp.path == p.path => {
                let rosetta_python = facts.apple_silicon && fp.machine != "arm64";
                !(fp.apple_stub || rosetta_python)
            }
            _ => p.path != Path::new("/usr/bin/python3"),
        }
    };
    match &opts.python {
        Some(v) => {
            let want = minor_version(v);
            if let Some(p) = seen
                .python3
                .as_ref()
                .filter(|p| minor_version(&p.version) == want && usable(p))
            {
                return (p.path.clone(), Some(want), false);
            }
            if let Some(p) = &seen.python_versioned {
                if !macos || p.starts_with(brew_prefix) {
                    return (p.clone(), Some(want), false);
                }
            }
            let path = if macos {
                brew_prefix.join(format!("bin/python{want}"))
            } else {
                PathBuf::from(format!("python{want}"))
            };
            (path, Some(want), true)
        }
        None => match seen.python3.as_ref().filter(|p| usable(p)) {
            Some(p) => (p.path.clone(), Some(minor_version(&p.version)), false),
            None if macos => (
                brew_prefix.join(format!("bin/python{BREW_DEFAULT_PYTHON}")),
                Some(BREW_DEFAULT_PYTHON.to_owned()),
                true,
            ),
            None => (PathBuf::from("python3"), None, true),
        },
    }
}

/// The doctor's summary of check `id`.
fn summary(verdicts: &[CheckResult], id: CheckId) -> String {
    super::verdicts::verdict(verdicts, id)
        .map(|r| r.summary.clone())
        .unwrap_or_default()
}

/// "chosen: the book's venv …" for a step's note.
fn env_reason(facts: &Facts) -> String {
    facts
        .env_expected
        .as_ref()
        .map(|e| format!("chosen: {}", e.reason))
        .unwrap_or_default()
}

fn describe_gpu(facts: &Facts) -> Option<String> {
    let g = facts.torch_gpu()?;
    let api = if facts.os == Os::Macos {
        "Metal (MPS)"
    } else if g.vendor.to_lowercase().contains("nvidia") {
        "CUDA"
    } else {
        "no PyTorch GPU backend"
    };
    Some(format!("{} ({api})", g.name))
}

/// The rendered `requirements.txt`; a render that failed (a ttm bug) blocks
/// the plan rather than writing an empty file and installing nothing.
pub(super) fn rendered_or_blocked(
    rendered: crate::error::Result<String>,
    blockers: &mut Vec<Blocker>,
) -> String {
    rendered.unwrap_or_else(|e| {
        blockers.push(Blocker {
            message: format!("requirements.txt: {e}"),
            fix: "report it with the output of ttm doctor --report; meanwhile pip install -r a requirements.txt of your own".into(),
            check: None,
        });
        String::new()
    })
}

/// What every step family reads.
struct Cx<'a> {
    facts: &'a Facts,
    verdicts: &'a [CheckResult],
    opts: &'a Options,
    seen: &'a Seen,
    ws: Workspace,
    macos: bool,
}

/// Where Homebrew is, or where its installer will put it.
struct BrewPlace<'a> {
    /// The Homebrew found, unless it is the Intel one on Apple Silicon.
    usable: Option<&'a crate::platform::Homebrew>,
    /// An Intel Homebrew (/usr/local) on Apple Silicon: never used.
    intel: bool,
    prefix: PathBuf,
    /// Its `brew`.
    path: PathBuf,
}

/// What the toolchain step installs.
struct Missing {
    python: bool,
    git: bool,
}

/// The Python a venv (or `none`) is made from, and its version when known.
struct BasePython {
    path: PathBuf,
    version: Option<String>,
}

/// The environment chosen: its python, the plan's line for it, the
/// fingerprint of what made it, and the Python version ttm.toml records.
struct EnvChoice {
    python: EnvPython,
    line: String,
    fingerprint: String,
    recorded: String,
}

/// How ttm writes a workspace file the user may edit (`requirements.txt`,
/// `ttm.toml`): in place, with a record of what it wrote; or, when the user
/// changed the file, beside it as `<file>.new`, theirs kept.
struct FileWrite {
    /// The user's version is kept.
    kept: bool,
    /// What ttm would write is there already.
    done: bool,
    action: Action,
    /// Where ttm's version goes when the user's is kept.
    beside: Option<PathBuf>,
}

fn write_or_keep(seen: &SeenFile, ws: &Workspace, path: &Path, contents: &str) -> FileWrite {
    let kept = seen.user_changed() && seen.current.as_deref() != Some(contents.as_bytes());
    if kept {
        let beside = with_suffix(path, ".new");
        FileWrite {
            kept,
            done: seen.beside.as_deref() == Some(contents.as_bytes()),
            action: Action::WriteFile {
                path: beside.clone(),
                contents: contents.to_owned(),
                record: None,
            },
            beside: Some(beside),
        }
    } else {
        FileWrite {
            kept,
            done: seen.current.as_deref() == Some(contents.as_bytes()),
            action: Action::WriteFile {
                path: path.to_path_buf(),
                contents: contents.to_owned(),
                record: Some(super::state::written_record(ws, path)),
            },
            beside: None,
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
