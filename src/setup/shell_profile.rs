//! The lines setup adds to a shell profile (`~/.zprofile`, a venv's
//! `bin/activate`): inside one marked block, appended only when absent, the
//! file followed through a symlink rather than replaced (rustup's
//! `shell.rs` does the same).

use std::path::Path;

use crate::error::Result;
use crate::system::System;

pub const BLOCK_START: &str = "# >>> ttm >>>";
pub const BLOCK_END: &str = "# <<< ttm <<<";

/// Does `text` hold ttm's block already (or the very line, added by hand)?
pub fn has_block(text: Option<&str>, line: &str) -> bool {
    text.is_some_and(|t| {
        (t.contains(BLOCK_START) && t.contains(line)) || t.lines().any(|l| l.trim() == line)
    })
}

/// Append `lines` to the file at `path` in ttm's block, unless they are there.
pub fn append_block(sys: &System, path: &Path, lines: &[String]) -> Result<()> {
    // Follow a symlinked dotfile instead of replacing the link.
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let old = sys
        .read_optional(&target)?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if lines.iter().all(|l| has_block(Some(&old), l)) {
        return Ok(());
    }
    let mut text = old;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(BLOCK_START);
    text.push('\n');
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str(BLOCK_END);
    text.push('\n');
    sys.write_atomic(&target, text.as_bytes())
}
