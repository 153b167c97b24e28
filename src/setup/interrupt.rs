//! Ctrl-C during `ttm setup`. The programs setup runs live in their own
//! process groups (so a timeout can stop them with their children), which
//! also means the terminal's SIGINT reaches only ttm. Without this, ttm
//! would die and leave pip installing in the background, racing the next
//! run. While a [`Catch`] lives, SIGINT, SIGTERM and SIGHUP only raise a flag; the
//! running program is stopped through [`crate::system::Cmd::cancel_on`],
//! the step is not recorded as finished, and the next run redoes it.
//!
//! The handlers are `signal-hook`'s: a flag registered per [`Catch`] and
//! unregistered when it drops. signal-hook keeps its own handler installed
//! after that, and it would swallow the signal, so a second action, set up
//! once, runs the default action (the process ends) whenever no `Catch`
//! lives: outside setup's steps a Ctrl-C stops ttm as it always did.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

#[cfg(unix)]
const SIGNALS: [std::ffi::c_int; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    // The terminal closed or the ssh session dropped: the same clean stop.
    signal_hook::consts::SIGHUP,
];

/// How many [`Catch`]es live.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// True while no [`Catch`] lives: a signal then does what it does by default.
fn pass_through() -> &'static Arc<AtomicBool> {
    static PASS_THROUGH: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    PASS_THROUGH.get_or_init(|| {
        let pass = Arc::new(AtomicBool::new(true));
        #[cfg(unix)]
        for sig in SIGNALS {
            // Registered once for the process; it does nothing while a Catch lives.
            let _ = signal_hook::flag::register_conditional_default(sig, pass.clone());
        }
        pass
    })
}

/// SIGINT, SIGTERM and SIGHUP raise [`Catch::flag`] while this lives.
pub struct Catch {
    pub flag: Arc<AtomicBool>,
    #[cfg(unix)]
    registered: Vec<signal_hook::SigId>,
}

impl Catch {
    pub fn install() -> Catch {
        let flag = Arc::new(AtomicBool::new(false));
        let pass = pass_through();
        #[cfg(unix)]
        let registered = SIGNALS
            .into_iter()
            .filter_map(|sig| signal_hook::flag::register(sig, flag.clone()).ok())
            .collect();
        LIVE.fetch_add(1, Ordering::SeqCst);
        pass.store(false, Ordering::SeqCst);
        Catch {
            flag,
            #[cfg(unix)]
            registered,
        }
    }

    pub fn interrupted(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

impl Drop for Catch {
    fn drop(&mut self) {
        #[cfg(unix)]
        for id in self.registered.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        if LIVE.fetch_sub(1, Ordering::SeqCst) == 1 {
            pass_through().store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_signal_while_caught_raises_the_flag_and_nothing_else() {
        let catch = Catch::install();
        assert!(!catch.interrupted());
        signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
        assert!(catch.interrupted());
        // Still alive: the default action (the end of the process) did not run.
        let again = Catch::install();
        assert!(!again.interrupted(), "a new Catch starts clear");
        drop(catch);
        signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
        assert!(again.interrupted(), "one Catch still lives: still caught");
    }
}
