//! Every environment variable ttm reads, in one place (as uv's `env_vars.rs`).
//! `System` snapshots them at start; nothing else reads the environment.
//! Each one here is read through `System`; one that only a library or a
//! program reads for itself (`CUDA_PATH`, which CubeCL reads) is not listed.

/// The workspace, when `--workspace` is not given.
pub const TTM_WORKSPACE: &str = "TTM_WORKSPACE";
/// Seconds a user's template may take to render (default 30).
pub const TTM_RENDER_TIMEOUT: &str = "TTM_RENDER_TIMEOUT";
/// Seconds each probe of `ttm doctor` may take (default 10).
pub const TTM_PROBE_TIMEOUT: &str = "TTM_PROBE_TIMEOUT";
/// CubeCL's autotune effort on a GPU: minimal, balanced (default), extensive, full.
pub const TTM_AUTOTUNE: &str = "TTM_AUTOTUNE";
/// Home directory: the default workspace and the shell profile live under it.
pub const HOME: &str = "HOME";
/// Where programs are looked up; the only search path ttm uses.
pub const PATH: &str = "PATH";
/// Any non-empty value turns colour off (https://no-color.org).
pub const NO_COLOR: &str = "NO_COLOR";
/// The terminal's width for wrapped output (else the terminal's own size).
pub const COLUMNS: &str = "COLUMNS";
/// `dumb` turns colour off.
pub const TERM: &str = "TERM";
/// The login shell; `--user` sets the account's.
pub const SHELL: &str = "SHELL";
/// Set to the account's name by `--user` (programs we run read them, not us).
pub const USER: &str = "USER";
/// Set with USER by `--user`.
pub const LOGNAME: &str = "LOGNAME";
/// Folders of the account that started ttm; dropped by `--user`, whose
/// account has its own under its HOME.
pub const ROOTS_OWN_FOLDERS: [&str; 5] = [
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
];
/// OpenBLAS's forced kernel family, reported by bench and selftest (OpenBLAS reads it itself).
pub const OPENBLAS_CORETYPE: &str = "OPENBLAS_CORETYPE";
/// An active conda installation's conda executable.
pub const CONDA_EXE: &str = "CONDA_EXE";
/// The activated conda environment's prefix (`conda activate NAME`).
pub const CONDA_PREFIX: &str = "CONDA_PREFIX";
/// The activated venv (`source venv/bin/activate`).
pub const VIRTUAL_ENV: &str = "VIRTUAL_ENV";
/// PyTorch's MPS fallback: run missing MPS operators on the CPU; reported by `doctor --report`.
pub const PYTORCH_ENABLE_MPS_FALLBACK: &str = "PYTORCH_ENABLE_MPS_FALLBACK";
/// Prefix of PyTorch's MPS settings reported by `doctor --report`.
pub const PYTORCH_MPS_PREFIX: &str = "PYTORCH_MPS_";
