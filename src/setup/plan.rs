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
    let ws = Workspace::at(&opts.workspace);
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
    let needs_base = opts.env != EnvKind::Conda;
    // On a Mac a failing Python is replaced whatever the environment: the book installs its own.
    let python_missing =
        base_missing && (needs_base || (macos && fails(verdicts, CheckId::Python)));
    let git_missing =
        facts.git.is_none() && !seen.git_on_path && !(macos && facts.xcode_clt.is_none());

    if macos {
        let clt = facts.xcode_clt.is_some();
        let mut s = step(
            StepId::XcodeClt,
            "Xcode command line tools (compilers, git)",
            clt,
            vec![
                Action::Run {
                    cmd: PlannedCmd::new("xcode-select", &["--install"]),
                    may_fail: true,
                },
                Action::WaitFor {
                    what: "the installer you see on screen to finish".into(),
                    cmd: PlannedCmd::new("xcode-select", &["-p"]).timeout(Duration::from_secs(20)),
                    timeout: Duration::from_secs(45 * 60),
                },
            ],
        );
        s.fix = "xcode-select --install, finish the installer, then ttm setup".into();
        s.checks = vec![CheckId::XcodeClt];
        if facts.is_xcrun_stub("git") || facts.xcode_clt.is_none() {
            // git comes with the tools (Apple's /usr/bin/git works once they exist).
            s.checks.push(CheckId::Git);
        }
        if let Some(p) = &facts.xcode_clt {
            s.note = Some(format!("installed at {}", p.display()));
        }
        steps.push(s);

        let have_brew = usable_brew.is_some() || seen.brew_in_prefix;
        let script = ws.state_dir().join("homebrew-install.sh");
        let mut install = PlannedCmd::new("/bin/bash", &[&script.display().to_string()]);
        if intel_brew {
            // Its installer picks the prefix from `uname -m`: run it as arm64.
            install = PlannedCmd::new("/usr/bin/arch", &["-arm64", "/bin/bash"])
                .arg(script.display().to_string());
        }
        if opts.assume_yes {
            install = install.env("NONINTERACTIVE", "1");
        } else {
            install.interactive = true;
        }
        let mut s = step(
            StepId::Homebrew,
            "Homebrew",
            have_brew,
            vec![
                Action::Run {
                    cmd: PlannedCmd::new("curl", &["-fsSL", HOMEBREW_INSTALL_URL, "-o"])
                        .arg(script.display().to_string())
                        .timeout(Duration::from_secs(300)),
                    may_fail: false,
                },
                Action::Run {
                    cmd: install,
                    may_fail: false,
                },
            ],
        );
        s.note = Some(match (&facts.homebrew, intel_brew) {
            (Some(b), true) => format!(
                "the Intel Homebrew in {} stays as it is and is not used; the native one goes to /opt/homebrew",
                b.prefix.display()
            ),
            (Some(b), false) => format!(
                "{} at {}",
                b.version.as_deref().unwrap_or("installed"),
                b.prefix.display()
            ),
            (None, _) => format!("the official install script, {HOMEBREW_INSTALL_URL}"),
        });
        s.checks = vec![CheckId::Homebrew];
        s.confirm = Some(format!(
            "Install Homebrew with its official script from {HOMEBREW_INSTALL_URL}?"
        ));
        s.fix = INSTALL_HOMEBREW.to_owned();
        steps.push(s);

        let eval_line = format!(
            "eval \"$({} shellenv)\"",
            brew_prefix.join("bin/brew").display()
        );
        let zprofile = opts.home.join(".zprofile");
        let mut s = step(
            StepId::BrewShellenv,
            "Homebrew on PATH in new terminals (~/.zprofile)",
            has_block(seen.zprofile.as_deref(), &eval_line),
            vec![Action::AppendBlock {
                path: zprofile,
                lines: vec![eval_line],
            }],
        );
        s.fix = "echo 'eval \"$(/opt/homebrew/bin/brew shellenv)\"' >> ~/.zprofile".into();
        steps.push(s);

        let mut formulae: Vec<String> = Vec::new();
        if python_missing {
            formulae.push(install::brew_python_formula(
                base_version.as_deref().unwrap_or(BREW_DEFAULT_PYTHON),
            ));
        }
        if git_missing {
            formulae.push("git".into());
        }
        let mut cmd = PlannedCmd::new(&brew, &["install"]);
        cmd.args.extend(formulae.iter().cloned());
        let mut s = step(
            StepId::BrewPackages,
            "Python and git from Homebrew",
            formulae.is_empty(),
            vec![Action::Run {
                cmd,
                may_fail: false,
            }],
        );
        s.note = Some(if formulae.is_empty() {
            "nothing missing".into()
        } else {
            format!("missing: {}", formulae.join(", "))
        });
        s.fix = format!("brew install {}", formulae.join(" "));
        s.checks = vec![CheckId::Python, CheckId::Git];
        steps.push(s);
    } else {
        let mut apt: Vec<String> = Vec::new();
        if python_missing {
            match &opts.python {
                Some(v) => apt.extend([
                    format!("python{}", minor_version(v)),
                    format!("python{}-venv", minor_version(v)),
                ]),
                None => apt.extend(["python3".into(), "python3-venv".into()]),
            }
        }
        if git_missing {
            apt.push("git".into());
        }
        let fix = install::apt_get_install(&apt.join(" "));
        let missing: Vec<&str> = [(python_missing, "python"), (git_missing, "git")]
            .iter()
            .filter(|(m, _)| *m)
            .map(|(_, n)| *n)
            .collect();
        let mut s = step(
            StepId::SystemPackages,
            "Python and git",
            apt.is_empty(),
            vec![Action::Manual {
                message: format!(
                    "{} missing; ttm does not run sudo for you",
                    missing.join(" and ")
                ),
                fix: fix.clone(),
            }],
        );
        s.note = Some(if apt.is_empty() {
            "both found".into()
        } else {
            format!("missing: {}", missing.join(", "))
        });
        s.fix = fix;
        s.checks = vec![CheckId::Python, CheckId::Git];
        steps.push(s);
    }

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
    let (env_python, env_line, env_fp, python_recorded) = match opts.env {
        EnvKind::Venv => {
            let venv = opts.venv.clone();
            let py = EnvPython {
                program: venv.join("bin/python"),
                pre_args: vec![],
                user_site: false,
            };
            let version = base_version
                .clone()
                .unwrap_or_else(|| BREW_DEFAULT_PYTHON.to_owned());
            let fp = fingerprint(&[
                "venv",
                &venv.display().to_string(),
                &minor_version(&version),
            ]);
            // The doctor's verdict on this very venv: a good one found (the
            // book's) is used as it is; a broken or x86_64 one is made again.
            let this_env = facts.env.as_ref().is_some_and(|e| e.prefix == venv);
            let env_ok = this_env && !fails(verdicts, CheckId::Env);
            let env_bad = this_env && fails(verdicts, CheckId::Env);
            let mut cmd = PlannedCmd::new(&base_python, &["-m", "venv"]);
            if env_bad {
                cmd = cmd.arg("--clear");
            }
            let cmd = cmd
                .arg("--prompt")
                .arg(opts.env_name.clone())
                .arg(venv.display().to_string())
                .timeout(Duration::from_secs(600));
            let done = seen.venv_python_exists
                && !env_bad
                && (env_ok || seen.state.done(StepId::Environment.as_str(), &fp));
            let mut s = step(
                StepId::Environment,
                "Python environment (venv)",
                done,
                vec![Action::Run {
                    cmd,
                    may_fail: false,
                }],
            );
            s.fingerprint = fp.clone();
            s.checks = vec![CheckId::Env];
            s.note = Some(match facts.env.as_ref().filter(|_| env_ok) {
                Some(e) => format!(
                    "{} exists (Python {}), {}",
                    venv.display(),
                    e.python_version.as_deref().unwrap_or("?"),
                    env_reason(facts)
                ),
                None if env_bad => format!(
                    "{} is made again from {} (doctor: {})",
                    venv.display(),
                    base_python.display(),
                    summary(verdicts, CheckId::Env)
                ),
                None => format!("{} (Python {})", venv.display(), minor_version(&version)),
            });
            s.fix = if macos {
                format!("{} -m venv {}", base_python.display(), venv.display())
            } else {
                format!(
                    "sudo apt-get install -y python3-venv, or: rm -rf {}; then ttm setup",
                    shell_quote(&venv.display().to_string())
                )
            };
            steps.push(s);
            let line = format!(
                "venv at {} (Python {} from {})",
                venv.display(),
                minor_version(&version),
                base_python.display()
            );
            (py, line, fp, minor_version(&version))
        }
        EnvKind::Conda => {
            let conda = facts.conda.as_ref();
            let conda_bin = conda
                .map(|c| c.path.clone())
                .unwrap_or_else(|| PathBuf::from("conda"));
            let existing = conda.and_then(|c| {
                c.envs
                    .iter()
                    .filter(|p| Some(p.as_path()) != c.base_prefix.as_deref())
                    .find(|p| p.file_name().is_some_and(|n| n == opts.env_name.as_str()))
                    .cloned()
            });
            // The doctor's verdict on this env: x86_64, or a python that
            // does not run, and it is removed and made again.
            let env_bad = existing.is_some()
                && facts.env.as_ref().is_some_and(|e| {
                    e.flavor == EnvFlavor::Conda && Some(&e.prefix) == existing.as_ref()
                })
                && fails(verdicts, CheckId::Env);
            let prefix = existing.clone().or_else(|| {
                conda
                    .and_then(|c| c.base_prefix.as_ref())
                    .map(|b| b.join("envs").join(&opts.env_name))
            });
            let py = match &prefix {
                Some(p) => EnvPython {
                    program: p.join("bin/python"),
                    pre_args: vec![],
                    user_site: false,
                },
                None => EnvPython {
                    program: conda_bin.clone(),
                    pre_args: ["run", "--no-capture-output", "-n", &opts.env_name, "python"]
                        .map(String::from)
                        .to_vec(),
                    user_site: false,
                },
            };
            let mut cmd = PlannedCmd::new(&conda_bin, &["create", "-n", &opts.env_name])
                .arg(format!("python={conda_python}"))
                .arg("-y")
                .timeout(HOUR);
            let wrong_platform =
                facts.apple_silicon && conda.and_then(|c| c.platform.as_deref()) == Some("osx-64");
            let mut actions = Vec::new();
            if env_bad {
                actions.push(Action::Run {
                    cmd: PlannedCmd::new(
                        &conda_bin,
                        &["env", "remove", "-n", &opts.env_name, "-y"],
                    )
                    .timeout(Duration::from_secs(600)),
                    may_fail: false,
                });
            }
            if wrong_platform {
                cmd = cmd.env("CONDA_SUBDIR", "osx-arm64");
                notes.push("conda is the Intel (osx-64) one: the environment is created with CONDA_SUBDIR=osx-arm64 (and keeps it) so PyTorch can use the GPU".into());
            }
            actions.push(Action::Run {
                cmd,
                may_fail: false,
            });
            if wrong_platform {
                let var = "CONDA_SUBDIR=osx-arm64";
                actions.push(Action::Run {
                    cmd: PlannedCmd::new(
                        &conda_bin,
                        &["env", "config", "vars", "set", var, "-n", &opts.env_name],
                    )
                    .timeout(Duration::from_secs(300)),
                    may_fail: false,
                });
            }
            let fp = fingerprint(&["conda", &opts.env_name, &minor_version(&conda_python)]);
            let mut s = step(
                StepId::Environment,
                "Python environment (conda)",
                existing.is_some() && !env_bad,
                actions,
            );
            s.fingerprint = fp.clone();
            s.checks = vec![CheckId::Env, CheckId::Conda];
            s.note = Some(match &existing {
                Some(p) if env_bad => format!(
                    "{} at {} is removed and made again (doctor: {})",
                    opts.env_name,
                    p.display(),
                    summary(verdicts, CheckId::Env)
                ),
                Some(p) => format!(
                    "{} exists at {}, {}",
                    opts.env_name,
                    p.display(),
                    env_reason(facts)
                ),
                None => format!("{} with Python {conda_python}", opts.env_name),
            });
            if env_bad {
                s.confirm = Some(format!(
                    "Remove the conda environment {} ({}) and make it again?",
                    opts.env_name,
                    summary(verdicts, CheckId::Env)
                ));
            }
            s.fix = format!("conda create -n {} python={conda_python}", opts.env_name);
            steps.push(s);
            let line = format!(
                "conda environment {} (Python {conda_python})",
                opts.env_name
            );
            (py, line, fp, conda_python.clone())
        }
        EnvKind::None => {
            let py = EnvPython {
                program: base_python.clone(),
                pre_args: vec![],
                user_site: true,
            };
            let version = base_version
                .clone()
                .unwrap_or_else(|| BREW_DEFAULT_PYTHON.to_owned());
            let fp = fingerprint(&["none", &base_python.display().to_string()]);
            let mut s = step(
                StepId::Environment,
                "Python environment (none: your user site-packages)",
                true,
                vec![],
            );
            s.fingerprint = fp.clone();
            s.note = Some(format!(
                "packages go to {}'s user site (pip install --user)",
                base_python.display()
            ));
            steps.push(s);
            let line = format!(
                "no environment: {} with pip install --user",
                base_python.display()
            );
            (py, line, fp, minor_version(&version))
        }
    };

    // requirements.txt, with this Mac's PyTorch set pinned (compat's table).
    let torch_packages: Vec<String> = match torch_set {
        Some(set) => set.pins(),
        None => manifest::BASE_PACKAGES
            .iter()
            .map(|p| p.to_string())
            .collect(),
    };
    if let Some(set) = torch_set {
        let macos = facts.os_version.as_deref().unwrap_or("?");
        notes.push(if facts.apple_silicon {
            format!("PyTorch: {set}, the newest whose MPS works on macOS {macos} (MPS needs macOS {} for it)", compat::show(set.mps_macos))
        } else {
            format!("PyTorch: {set}, the last release for Intel Macs (Python {})", set.python_range())
        });
    }
    let rendered = rendered_or_blocked(
        render_requirements(&torch_packages, &opts.extra, opts.notebook),
        &mut blockers,
    );
    let req_path = ws.requirements();
    let req = write_or_keep(&seen.requirements, &ws, &req_path, &rendered);
    let kept = req.kept;
    if let Some(beside) = &req.beside {
        notes.push(format!(
            "requirements.txt: you changed it, so yours is kept and installed; ttm's version goes to {}",
            beside.display()
        ));
    }
    let installed_req = if kept {
        seen.requirements.current.clone().unwrap_or_default()
    } else {
        rendered.clone().into_bytes()
    };
    let mut s = step(
        StepId::Requirements,
        "requirements.txt",
        req.done,
        vec![req.action],
    );
    s.note = Some(if kept {
        "yours, kept".into()
    } else if torch_set.is_some() {
        "from ttm's template, PyTorch pinned for this Mac".into()
    } else {
        "from ttm's template".into()
    });
    steps.push(s);

    // pip install
    let (install_from, install_bytes): (PathBuf, Vec<u8>) = match &opts.locked {
        Some(l) => (l.path.clone(), l.lines.join("\n").into_bytes()),
        None => (req_path.clone(), installed_req),
    };
    let pip_fp = fingerprint(&[env_fp.as_bytes(), &install_bytes[..]]);
    // A torch that does not import (or one doctor fails) is not "already
    // satisfied" for pip: only a forced reinstall repairs it.
    let torch_installed = facts
        .torch
        .as_ref()
        .is_some_and(|t| t.version.is_some() || facts.torch_broken());
    // A new environment gets a fresh torch anyway.
    let env_kept = steps
        .iter()
        .any(|s| s.id == StepId::Environment && s.satisfied);
    let reinstall =
        opts.reinstall || (env_kept && torch_installed && fails(verdicts, CheckId::Torch));
    let mut actions = Vec::new();
    if reinstall {
        let mut force = env_python
            .cmd(&["-m", "pip", "install", "--force-reinstall", "--no-deps"])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .timeout(2 * HOUR);
        for p in torch_packages.iter().filter(|p| !p.starts_with("numpy")) {
            force = force.arg(p.clone());
        }
        if env_python.user_site {
            force = force.arg("--user");
        }
        actions.push(Action::Run {
            cmd: force,
            may_fail: false,
        });
    }
    let mut pip = env_python
        .cmd(&["-m", "pip", "install", "-r"])
        .arg(install_from.display().to_string())
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .timeout(2 * HOUR);
    if env_python.user_site {
        pip = pip.arg("--user");
    }
    let mut s = step(
        StepId::PipInstall,
        if opts.locked.is_some() {
            "Install the locked packages (pip)"
        } else {
            "Install the packages (pip)"
        },
        seen.state.done(StepId::PipInstall.as_str(), &pip_fp) && !reinstall,
        {
            actions.push(Action::Run {
                cmd: pip,
                may_fail: false,
            });
            actions
        },
    );
    s.fingerprint = pip_fp.clone();
    s.checks = vec![CheckId::Torch];
    s.note = Some(if reinstall {
        format!(
            "from {}; torch, torchvision and torchaudio are reinstalled first ({})",
            install_from.display(),
            if opts.reinstall {
                "--reinstall"
            } else {
                "doctor's torch check fails"
            }
        )
    } else {
        format!("from {}", install_from.display())
    });
    s.fix = "check the network and the log, then ttm setup (it resumes here)".into();
    steps.push(s);

    // PYTORCH_ENABLE_MPS_FALLBACK=1 in the environment itself.
    if macos {
        let var = env_vars::PYTORCH_ENABLE_MPS_FALLBACK;
        let export = format!("export {var}=1");
        let (done, action, fix) = match opts.env {
            EnvKind::Conda => (
                seen.conda_env_state
                    .as_deref()
                    .is_some_and(|t| t.contains(var)),
                Action::Run {
                    cmd: PlannedCmd::new(
                        facts
                            .conda
                            .as_ref()
                            .map(|c| c.path.clone())
                            .unwrap_or_else(|| "conda".into()),
                        &[
                            "env",
                            "config",
                            "vars",
                            "set",
                            &format!("{var}=1"),
                            "-n",
                            &opts.env_name,
                        ],
                    )
                    .timeout(Duration::from_secs(300)),
                    may_fail: false,
                },
                format!("conda env config vars set {var}=1 -n {}", opts.env_name),
            ),
            EnvKind::Venv => {
                let activate = opts.venv.join("bin/activate");
                (
                    has_block(seen.venv_activate.as_deref(), &export),
                    Action::AppendBlock {
                        path: activate.clone(),
                        lines: vec![export.clone()],
                    },
                    format!("echo '{export}' >> {}", activate.display()),
                )
            }
            EnvKind::None => (
                has_block(seen.zprofile.as_deref(), &export),
                Action::AppendBlock {
                    path: opts.home.join(".zprofile"),
                    lines: vec![export.clone()],
                },
                format!("echo '{export}' >> ~/.zprofile"),
            ),
        };
        let mut s = step(
            StepId::MpsFallback,
            "PYTORCH_ENABLE_MPS_FALLBACK=1 in the environment",
            done,
            vec![action],
        );
        s.note = Some("operators MPS lacks run on the CPU instead of failing".into());
        s.fix = fix;
        steps.push(s);
    }

    let check_fp = fingerprint(&["torch-check", &pip_fp]);
    let mut s = step(
        StepId::TorchCheck,
        "PyTorch check: the book's linear regression",
        seen.state.done(StepId::TorchCheck.as_str(), &check_fp),
        vec![Action::TorchCheck {
            python: env_python.clone(),
        }],
    );
    s.fingerprint = check_fp;
    s.fix = "ttm doctor".into();
    s.checks = vec![CheckId::Torch];
    steps.push(s);

    if opts.selftest {
        let fp = fingerprint(&["selftest", env!("CARGO_PKG_VERSION")]);
        let mut s = step(
            StepId::Selftest,
            "ttm's own self-test (Burn, no Python)",
            seen.state.done(StepId::Selftest.as_str(), &fp),
            vec![Action::Selftest],
        );
        s.fingerprint = fp;
        s.fix = "ttm selftest --verbose".into();
        steps.push(s);
    }

    let lock_fp = fingerprint(&["lock", &pip_fp]);
    let mut s = step(
        StepId::Lock,
        "requirements.lock (pip freeze)",
        seen.lock_exists && seen.state.done(StepId::Lock.as_str(), &lock_fp),
        vec![Action::Freeze {
            python: env_python.clone(),
            path: ws.lock(),
        }],
    );
    s.fingerprint = lock_fp;
    steps.push(s);

    // ttm.toml
    let mut m = Manifest::new(Environment {
        kind: opts.env,
        name: opts.env_name.clone(),
        python: python_recorded.clone(),
    });
    m.packages = Packages {
        extra: opts.extra.clone(),
        notebook: opts.notebook,
        selftest: opts.selftest,
    };
    m.chapters = seen.chapters.clone();
    let text = m.to_toml();
    let mpath = ws.manifest();
    let manifest_write = write_or_keep(&seen.manifest, &ws, &mpath, &text);
    let mkept = manifest_write.kept;
    if let Some(beside) = &manifest_write.beside {
        notes.push(format!(
            "ttm.toml: you changed it, so yours is kept; ttm's version goes to {}",
            beside.display()
        ));
    }
    let mut s = step(
        StepId::Manifest,
        "ttm.toml (reproduce it with ttm setup --from ttm.toml)",
        manifest_write.done,
        vec![manifest_write.action],
    );
    s.note = Some(if mkept {
        "yours, kept".into()
    } else {
        "the manifest".into()
    });
    steps.push(s);

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
    if let Some(l) = &opts.locked {
        notes.push(format!(
            "--from: the {} locked versions in {} are installed",
            l.lines.len(),
            l.path.display()
        ));
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
