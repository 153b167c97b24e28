//! Writing to stdout and stderr without panicking. `println!` panics when
//! the reader has gone (`ttm doctor | head -1`: EPIPE, since Rust ignores
//! SIGPIPE); here a closed stdout ends ttm quietly, as it ends `cat` or
//! `git log`: by SIGPIPE's default action (the shell reports 141). A closed
//! stderr is ignored: there is nowhere left to say anything.

use std::io::Write;

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
