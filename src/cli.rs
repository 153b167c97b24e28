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

const COMPLETIONS_HELP: &str = "\
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
    /// Accept the defaults and never prompt
    #[arg(short = 'y', long, global = true)]
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
    Doctor(DoctorArgs),
    /// Install what is missing: Homebrew, Python, git, the workspace, the environment, PyTorch
    #[command(after_help = SETUP_EXAMPLES)]
    Setup(SetupArgs),
    /// Prove the GPU computes: a Burn training run and a matmul check, no Python needed
    Selftest(SelftestArgs),
    /// The book's benchmark done right: warm-up, synchronisation, medians, Burn and PyTorch
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(BenchArgs),
    /// Create a chapter project from a template
    #[command(subcommand, after_help = SCAFFOLD_EXAMPLES)]
    Scaffold(ScaffoldCommand),
    /// Print shell completions (--help: how to install them)
    #[command(after_long_help = COMPLETIONS_HELP)]
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
    New(ScaffoldNewArgs),
    /// List the templates, built-in and your own
    List,
}

#[derive(Debug, Clone, Args)]
pub struct ScaffoldNewArgs {
    /// The project's name, e.g. chapter-4
    pub name: String,
    /// The template to use
    #[arg(long, short = 't', default_value = "chapter")]
    pub template: String,
    /// Set a template variable
    #[arg(short = 'd', long = "define", value_name = "KEY=VALUE")]
    pub define: Vec<String>,
    /// List what would be written and write nothing
    #[arg(long)]
    pub dry_run: bool,
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
}
