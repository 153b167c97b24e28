//! Ctrl-C during `ttm setup`. The programs setup runs live in their own
//! process groups (so a timeout can stop them with their children), which
//! also means the terminal's SIGINT reaches only ttm. Without this, ttm
//! would die and leave pip installing in the background, racing the next
//! run. While a [`Catch`] lives, SIGINT and SIGTERM only raise a flag; the
//! running program is stopped through [`crate::system::Cmd::cancel_on`],
//! the step is not recorded as finished, and the next run redoes it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

#[cfg(unix)]
extern "C" fn raise_flag(_signal: libc::c_int) {
    // An atomic store: safe inside a signal handler.
    if let Some(flag) = FLAG.get() {
        flag.store(true, Ordering::SeqCst);
    }
}

/// The handlers installed; the previous ones come back on drop.
pub struct Catch {
    pub flag: Arc<AtomicBool>,
    #[cfg(unix)]
    previous: Vec<(libc::c_int, libc::sighandler_t)>,
}

impl Catch {
    pub fn install() -> Catch {
        let flag = FLAG
            .get_or_init(|| Arc::new(AtomicBool::new(false)))
            .clone();
        flag.store(false, Ordering::SeqCst);
        #[cfg(unix)]
        {
            let handler = raise_flag as extern "C" fn(libc::c_int) as libc::sighandler_t;
            let previous = [libc::SIGINT, libc::SIGTERM]
                .into_iter()
                // SAFETY: installs a handler that only stores to an atomic.
                .map(|sig| (sig, unsafe { libc::signal(sig, handler) }))
                .collect();
            Catch { flag, previous }
        }
        #[cfg(not(unix))]
        Catch { flag }
    }

    pub fn interrupted(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

impl Drop for Catch {
    fn drop(&mut self) {
        #[cfg(unix)]
        for (sig, previous) in &self.previous {
            // SAFETY: puts back the handler that was there before.
            unsafe {
                libc::signal(*sig, *previous);
            }
        }
    }
}
