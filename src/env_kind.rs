//! The kind of Python environment a workspace uses.
//!
//! It lives apart from the command line because more than the flag parser
//! needs it: platform detection, the setup plan and the manifest (which
//! persists it as `"conda"`, `"venv"` or `"none"`) all speak of it, and none of
//! them should depend on `cli`.

/// Where the book's packages are installed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum EnvKind {
    // No doc comments on the variants: clap would print them in `--help`.
    Conda,
    Venv,
    None,
}

impl EnvKind {
    /// The name the manifest and `--env` use: "conda", "venv", "none".
    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Conda => "conda",
            EnvKind::Venv => "venv",
            EnvKind::None => "none",
        }
    }
}
