//! The command line, as the interface contract in DESIGN.md states it.
//!
//! Flags are parsed here and only here; each command validates its own
//! values further (sizes, names, versions) and reports bad ones as
//! `Error::BadInput`, exit code 2.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// ttm: torch to the metal.
///
/// Sets up a Mac (or a Linux box with an NVIDIA GPU) for PyTorch, as the book's
/// chapter 3 does by hand, and proves it works.
#[derive(Debug, Parser)]
#[command(
    name = "ttm",
    version,
    about,
    propagate_version = true,
    max_term_width = 100,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// None: bare `ttm`, which prints [`START_HERE`].
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What bare `ttm` prints: the three commands a newcomer runs, in order.
pub const START_HERE: &str = "\
ttm sets up this machine for PyTorch, the way the book's chapter 3 does by hand.

Start here:
  ttm doctor     what this machine has, what it lacks, and the fix for each
  ttm setup      installs what is missing (it shows its plan and asks first)
  ttm selftest   proves the GPU computes

Then: ttm scaffold new chapter-4 (a chapter's project), ttm bench (the book's benchmark).
Every command and flag: ttm --help";

const EXAMPLES: &str = "\
Examples:
  ttm doctor                      is this machine ready? (ttm doctor -v: the details)
  ttm setup                       install what is missing, after showing the plan
  ttm setup --dry-run             only show the plan
  ttm selftest                    prove the GPU computes (no Python needed)
  ttm scaffold new chapter-4      a chapter's notebook, main.py, data/ and models/
  ttm bench --save mac.json       the book's benchmark, saved to compare machines";

const SETUP_EXAMPLES: &str = "\
Examples:
  ttm setup                                  show the plan, ask, then install
  ttm setup --dry-run                        only show the plan (ttm setup --dry-run -v: every command)
  ttm setup --env venv --python 3.12         a venv with Python 3.12 instead of conda
  ttm setup --packages \"pandas matplotlib\"   extra packages beside PyTorch
  ttm setup --yes                            no questions (scripts, CI)
  ttm setup --from ttm.toml                  the environment another machine recorded";

const BENCH_EXAMPLES: &str = "\
Examples:
  ttm bench                                  every device, the book's 5000×5000 matmul
  ttm bench --size 1024 --runs 3             a quicker run
  ttm bench --torch                          PyTorch side by side (after ttm setup)
  ttm bench --save m1.json --plot m1.svg     keep the results and draw them
  ttm bench compare m1.json h100.json        machines side by side, in the book's table";

const SCAFFOLD_EXAMPLES: &str = "\
Examples:
  ttm scaffold new chapter-4                 notebooks/chapter-4, data/chapter-4, models/chapter-4
  ttm scaffold new mnist -t training -d epochs=5
  ttm scaffold list                          the templates and their -d variables";

const SCAFFOLD_NEW_EXAMPLES: &str = "\
Examples:
  ttm scaffold new chapter-4                 the book's chapter 4 (tensors), ready to run
  ttm scaffold new chapter-4 --dry-run       only list what would be written
  ttm scaffold new mnist -t training -d epochs=5 -d device=cpu
  ttm scaffold list                          the templates and their -d variables";

const SCAFFOLD_LIST_EXAMPLES: &str = "\
Examples:
  ttm scaffold list                          every template, with its -d variables and defaults
  ttm scaffold list --json                   the same, as JSON";

const DOCTOR_EXAMPLES: &str = "\
Examples:
  ttm doctor                                 one line per check, and the fix for each failure
  ttm doctor -v                              the details of every check
  ttm doctor --report > report.md            a Markdown report for a bug tracker (HOME redacted)
  ttm doctor --json                          the checks as JSON, for scripts";

const SELFTEST_EXAMPLES: &str = "\
Examples:
  ttm selftest                               the best device here (Metal, CUDA, else the CPU)
  ttm selftest --all                         every device and backend this build has
  ttm selftest --device cpu --size 512       a quick check on the CPU";

const BENCH_COMPARE_EXAMPLES: &str = "\
Examples:
  ttm bench compare m1.json h100.json        machines side by side, in the book's table
  ttm bench compare *.json --plot all.svg    and drawn as one chart";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  ttm completions zsh > ~/.zfunc/_ttm        zsh (ttm completions --help: every shell's steps)
  ttm completions bash > ~/.local/share/bash-completion/completions/ttm";

const COMPLETIONS_HELP: &str = "\
Examples:
  ttm completions zsh > ~/.zfunc/_ttm
  ttm completions fish > ~/.config/fish/completions/ttm.fish

Install them for your shell, then open a new terminal:

  zsh (the macOS default):
    mkdir -p ~/.zfunc && ttm completions zsh > ~/.zfunc/_ttm
    then in ~/.zshrc, before `compinit` (or at the end, with it):
      fpath+=~/.zfunc
      autoload -Uz compinit && compinit

  bash:
    mkdir -p ~/.local/share/bash-completion/completions
    ttm completions bash > ~/.local/share/bash-completion/completions/ttm
    (needs the bash-completion package: brew install bash-completion@2, or
    sudo apt-get install bash-completion)

  fish:
    mkdir -p ~/.config/fish/completions
    ttm completions fish > ~/.config/fish/completions/ttm.fish

  elvish:
    ttm completions elvish >> ~/.config/elvish/rc.elv

  PowerShell:
    ttm completions powershell >> $PROFILE";

/// Flags every command takes.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The workspace [default: ~/torch_to_the_metal, or $TTM_WORKSPACE]
    #[arg(long, global = true, value_name = "PATH")]
    pub workspace: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Say more (details of each check, commands as they run)
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Say only what went wrong
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour the output (NO_COLOR and a non-terminal turn it off under auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    // Accepted everywhere (`ttm -y setup`), shown only on the commands that
    // ask: setup and scaffold new declare their own `yes`, with the same id,
    // so clap keeps one value wherever it is written.
    /// Accept the defaults and never prompt
    #[arg(short = 'y', long, global = true, hide = true)]
    pub yes: bool,
    /// Started as root (MDM, Ansible's become): do everything as this user, in their HOME
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check whether this machine is ready for the book, and say how to fix what is not
    #[command(after_help = DOCTOR_EXAMPLES)]
    Doctor(DoctorArgs),
    /// Install what is missing: Homebrew, Python, git, the workspace, the environment, PyTorch
    #[command(after_help = SETUP_EXAMPLES)]
    Setup(SetupArgs),
    /// Prove the GPU computes: a Burn training run and a matmul check, no Python needed
    #[command(after_help = SELFTEST_EXAMPLES)]
    Selftest(SelftestArgs),
    /// The book's benchmark done right: warm-up, synchronisation, medians, Burn and PyTorch
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(BenchArgs),
    /// Create a chapter project from a template
    #[command(subcommand, after_help = SCAFFOLD_EXAMPLES)]
    Scaffold(ScaffoldCommand),
    /// Print shell completions (--help: how to install them)
    #[command(after_help = COMPLETIONS_EXAMPLES, after_long_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Print a Markdown report to paste into a bug report (with --json: in its "report" key)
    #[arg(long)]
    pub report: bool,
    /// With --report: keep HOME's path and the user name (redacted by default)
    #[arg(long, requires = "report")]
    pub no_redact: bool,
}

pub use crate::env_kind::EnvKind;

#[derive(Debug, Clone, Default, Args)]
pub struct SetupArgs {
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The kind of Python environment [default: conda if present, else venv]
    #[arg(long, value_enum)]
    pub env: Option<EnvKind>,
    /// The environment's name [default: torch_metal]
    #[arg(long, value_name = "NAME")]
    pub env_name: Option<String>,
    /// The Python version of a conda environment, e.g. 3.11
    #[arg(long, value_name = "VER")]
    pub python: Option<String>,
    /// Extra packages, space-separated, beside torch, torchvision and torchaudio
    #[arg(long, value_name = "\"a b\"")]
    pub packages: Option<String>,
    /// Skip the built-in self-test at the end
    #[arg(long)]
    pub no_selftest: bool,
    /// Reproduce the environment a manifest (and the requirements.lock beside it) describes
    #[arg(long, value_name = "ttm.toml")]
    pub from: Option<PathBuf>,
    /// Reinstall torch, torchvision and torchaudio even where pip thinks they are there
    #[arg(long)]
    pub reinstall: bool,
    /// Leave the lock of a workspace set up with --from: install from requirements.txt and
    /// write a new requirements.lock
    #[arg(long, conflicts_with = "from")]
    pub upgrade: bool,
    /// Accept the plan and the defaults; never prompt
    #[arg(short = 'y', long, help_heading = "Global options")]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    Auto,
    Cpu,
    Metal,
    Cuda,
    Vulkan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    Auto,
    Candle,
    Cubecl,
    Ndarray,
}

#[derive(Debug, Clone, Args)]
pub struct SelftestArgs {
    /// The device to test
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// The Burn backend to test it with
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Test every available (device, backend) pair
    #[arg(long, conflicts_with_all = ["device", "backend"])]
    pub all: bool,
    /// Seed of the generator for the data and the initial parameters
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Training steps
    #[arg(long, default_value_t = 200)]
    pub steps: u32,
    /// Matrix size N of the N×N matmul check
    #[arg(long, default_value_t = 2048)]
    pub size: usize,
}

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub compare: Option<BenchCommand>,
    /// The device to benchmark [default: every available one]
    #[arg(long, value_enum)]
    pub device: Option<DeviceChoice>,
    /// The Burn backend to benchmark [default: every one on each device]
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Matrix size N of the matmul workload
    #[arg(long, default_value_t = 5000)]
    pub size: usize,
    /// Timed runs of each workload, after the warm-up
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Run the same workloads through the project environment's PyTorch, side by side
    #[arg(long)]
    pub torch: bool,
    /// Save the results as JSON
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Draw the results as an SVG bar chart
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Replace the --save and --plot files if they exist
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum BenchCommand {
    /// Compare saved results across machines, in the book's table layout
    #[command(after_help = BENCH_COMPARE_EXAMPLES)]
    Compare(BenchCompareArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BenchCompareArgs {
    /// Files saved with `ttm bench --save`
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Draw the comparison as an SVG bar chart
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Replace the --plot file if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ScaffoldCommand {
    /// Create notebooks/NAME, data/NAME and models/NAME from a template
    #[command(after_help = SCAFFOLD_NEW_EXAMPLES)]
    New(ScaffoldNewArgs),
    /// List the templates, built-in and your own
    #[command(after_help = SCAFFOLD_LIST_EXAMPLES)]
    List,
}

#[derive(Debug, Clone, Args)]
pub struct ScaffoldNewArgs {
    /// The project's name, e.g. chapter-4
    pub name: String,
    /// The template: chapter, training, or one of yours (ttm scaffold list)
    #[arg(long, short = 't', default_value = "chapter", value_name = "TEMPLATE",
          value_parser = TemplateNames::built_in(), hide_possible_values = true)]
    pub template: String,
    /// Set a template variable
    #[arg(short = 'd', long = "define", value_name = "KEY=VALUE")]
    pub define: Vec<String>,
    /// List what would be written and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Never prompt: a required variable not given with -d is an error
    #[arg(short = 'y', long, help_heading = "Global options")]
    pub yes: bool,
}

/// The values `--template` completes to: the built-in templates, and the
/// user's own where `ttm completions` found them. Any name parses (a
/// template made after the completions were installed still works); only
/// the shell's list comes from here.
#[derive(Debug, Clone)]
pub struct TemplateNames(pub Vec<(&'static str, String)>);

impl TemplateNames {
    /// The built-in templates, as the parser that `ttm --help` and the
    /// completions see unless `ttm completions` adds the user's.
    pub fn built_in() -> TemplateNames {
        TemplateNames(
            crate::scaffold::template::built_in_names()
                .into_iter()
                .map(|n| (n, String::new()))
                .collect(),
        )
    }
}

impl clap::builder::TypedValueParser for TemplateNames {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|(name, help)| {
            let value = clap::builder::PossibleValue::new(*name);
            if help.is_empty() {
                value
            } else {
                value.help(help.clone())
            }
        })))
    }
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Parse argv (from the process snapshot, never from `std::env` directly).
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn help_of(args: &[&str]) -> String {
        let mut argv = vec!["ttm"];
        argv.extend(args);
        argv.push("--help");
        match Cli::try_parse_from(argv) {
            Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => e.to_string(),
            other => panic!("no help for {args:?}: {other:?}"),
        }
    }

    #[test]
    fn yes_is_offered_only_where_something_asks_and_accepted_everywhere() {
        for path in [&["setup"][..], &["scaffold", "new"]] {
            let help = help_of(path);
            assert!(help.contains("-y, --yes"), "{path:?}:\n{help}");
        }
        for path in [
            &["doctor"][..],
            &["selftest"],
            &["bench"],
            &["bench", "compare"],
            &["scaffold", "list"],
            &["completions"],
            &[],
        ] {
            let help = help_of(path);
            assert!(!help.contains("--yes"), "{path:?}:\n{help}");
        }
        // One value, wherever it is written.
        for argv in [
            &["ttm", "-y", "setup"][..],
            &["ttm", "setup", "-y"],
            &["ttm", "setup", "--yes"],
            &["ttm", "--yes", "scaffold", "new", "x"],
            &["ttm", "scaffold", "new", "x", "-y"],
            &["ttm", "doctor", "-y"],
        ] {
            let cli = Cli::try_parse_from(argv).unwrap();
            assert!(cli.global.yes, "{argv:?}");
        }
        assert!(!Cli::try_parse_from(["ttm", "setup"]).unwrap().global.yes);
    }

    #[test]
    fn every_command_has_examples() {
        fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<String>) {
            let text =
                |s: Option<&clap::builder::StyledStr>| s.map(|s| s.to_string()).unwrap_or_default();
            for help in [text(cmd.get_after_help()), text(cmd.get_after_long_help())] {
                if !help.is_empty() && !help.contains("Examples:") {
                    out.push(format!("{path:?}: after-help without examples"));
                }
            }
            if !text(cmd.get_after_help()).contains("Examples:") {
                out.push(format!("{path:?}: no Examples"));
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                path.push(sub.get_name().to_owned());
                walk(sub, path, out);
                path.pop();
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), &mut Vec::new(), &mut missing);
        assert!(missing.is_empty(), "{missing:#?}");
        for path in [
            &["doctor"][..],
            &["selftest"],
            &["scaffold", "new"],
            &["completions"],
        ] {
            assert!(help_of(path).contains("Examples:"), "{path:?}");
        }
    }

    #[test]
    fn template_completes_to_template_names_but_any_name_parses() {
        let cmd = Cli::command();
        let new = cmd
            .find_subcommand("scaffold")
            .and_then(|s| s.find_subcommand("new"))
            .unwrap();
        let arg = new
            .get_arguments()
            .find(|a| a.get_id() == "template")
            .unwrap();
        let names: Vec<String> = arg
            .get_value_parser()
            .possible_values()
            .unwrap()
            .map(|v| v.get_name().to_owned())
            .collect();
        assert_eq!(names, ["chapter", "training"]);
        let cli = Cli::try_parse_from(["ttm", "scaffold", "new", "x", "-t", "my-own"]).unwrap();
        match cli.command {
            Some(Command::Scaffold(ScaffoldCommand::New(a))) => assert_eq!(a.template, "my-own"),
            other => panic!("{other:?}"),
        }
    }
}
