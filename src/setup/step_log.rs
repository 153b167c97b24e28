//! A step's log, `<workspace>/logs/<step>.log`: each command's header
//! (time, title, command line), then what it printed. A failure shows the
//! log's last lines, so a log that cannot be written is an error of its
//! own, never an empty tail.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Append the header of a command to its log; returns the log's length
/// after it (where this command's output starts).
pub fn log_header(log: &Path, title: &str, line: &str) -> Result<u64> {
    let header = format!("==> {} {title}\n$ {line}\n", utc_now());
    append(log, header.as_bytes())?;
    std::fs::metadata(log)
        .map(|m| m.len())
        .map_err(|e| cannot_write(log, e))
}

/// Append a program's output to its log.
pub fn append(log: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| cannot_write(log, e))
}

/// The log from `start` on (this command's output), if it can be read.
pub fn read_from(log: &Path, start: u64) -> Option<String> {
    let bytes = std::fs::read(log).ok()?;
    let from = (start as usize).min(bytes.len());
    Some(String::from_utf8_lossy(&bytes[from..]).into_owned())
}

fn cannot_write(log: &Path, e: std::io::Error) -> Error {
    Error::Failed {
        message: format!("cannot write the log {}: {e}", log.display()),
        fix: Some(format!(
            "make {} a writable folder, then ttm setup",
            log.parent().unwrap_or(log).display()
        )),
    }
}

fn utc_now() -> String {
    crate::calendar::utc_timestamp(crate::calendar::unix_now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_that_cannot_be_written_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        // `logs` is a file, so nothing can be written under it.
        let logs = dir.path().join("logs");
        std::fs::write(&logs, "not a folder").unwrap();
        let log = logs.join("pip-install.log");
        let err = log_header(&log, "Install PyTorch", "pip install torch").unwrap_err();
        assert!(
            err.to_string().contains(&log.display().to_string()),
            "{err}"
        );
        assert!(err.fix().unwrap().contains("writable"), "{err:?}");
        assert!(append(&log, b"output").is_err());
    }

    #[test]
    fn the_header_comes_first_and_the_output_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("step.log");
        let start = log_header(&log, "Title", "cmd --flag").unwrap();
        append(&log, b"line 1\nline 2\n").unwrap();
        assert_eq!(read_from(&log, start).unwrap(), "line 1\nline 2\n");
        assert!(read_from(&log, 0).unwrap().contains("$ cmd --flag\n"));
    }
}
