//! Writing to stdout and stderr without panicking. `println!` panics when
//! the reader has gone (`ttm doctor | head -1`: EPIPE, since Rust ignores
//! SIGPIPE); here a closed stdout ends ttm quietly, as it ends `cat` or
//! `git log`: by SIGPIPE's default action (the shell reports 141). A closed
//! stderr is ignored: there is nowhere left to say anything.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether this run was asked for `--json` (set by the printer), for the
/// few errors that end ttm from where no printer is at hand.
static JSON: AtomicBool = AtomicBool::new(false);

pub fn set_json(json: bool) {
    JSON.store(json, Ordering::SeqCst);
}

/// The error document to print on stdout before ending ttm from such a
/// place, when the run is `--json` (`ui::error_doc`, one line).
pub fn fatal_doc(message: &str, fix: &str) -> Option<String> {
    JSON.load(Ordering::SeqCst).then(|| {
        serde_json::to_string(&super::error_doc(message, Some(fix), 2)).unwrap_or_default()
    })
}

/// `text` and a newline on stdout; a reader that went away ends ttm quietly.
pub fn out_line(text: impl std::fmt::Display) {
    out_bytes(format!("{text}\n").as_bytes());
}

/// Bytes on stdout, flushed; a reader that went away ends ttm quietly.
pub fn out_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            stdout_closed();
        }
    }
}

/// `text` and a newline on stderr; errors (a closed stderr) are ignored.
pub fn err_line(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The reader of stdout is gone: end as `cat` does, by SIGPIPE's default
/// action, without a word (there is no one to read it).
fn stdout_closed() -> ! {
    #[cfg(unix)]
    // SAFETY: restores SIGPIPE's default action and raises it in this
    // process; nothing else runs in between that depends on the handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(128 + 13)
}
