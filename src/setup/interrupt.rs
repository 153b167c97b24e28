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

/// Per signal (in [`SIGNALS`] order): how many [`Catch`]es catch it, and
/// whether it does what it does by default (true while none does).
struct PassThrough {
    live: [AtomicUsize; 3],
    pass: [Arc<AtomicBool>; 3],
}

fn pass_through() -> &'static PassThrough {
    static PASS_THROUGH: OnceLock<PassThrough> = OnceLock::new();
    PASS_THROUGH.get_or_init(|| {
        let p = PassThrough {
            live: [
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            ],
            pass: [
                Arc::new(AtomicBool::new(true)),
                Arc::new(AtomicBool::new(true)),
                Arc::new(AtomicBool::new(true)),
            ],
        };
        #[cfg(unix)]
        for (sig, pass) in SIGNALS.iter().zip(&p.pass) {
            // Registered once for the process; it does nothing while a Catch lives.
            let _ = signal_hook::flag::register_conditional_default(*sig, pass.clone());
        }
        p
    })
}

/// SIGINT, SIGTERM and SIGHUP (or, from [`Catch::ctrl_c`], SIGINT only)
/// raise [`Catch::flag`] while this lives.
pub struct Catch {
    pub flag: Arc<AtomicBool>,
    /// Indexes into [`SIGNALS`].
    caught: Vec<usize>,
    #[cfg(unix)]
    registered: Vec<signal_hook::SigId>,
}

impl Catch {
    /// SIGINT, SIGTERM and SIGHUP: setup's steps.
    pub fn install() -> Catch {
        Catch::of(&[0, 1, 2])
    }

    /// SIGINT only: a prompt waiting for a key, where Ctrl-C is an answer
    /// (`kill` still ends ttm at once).
    pub fn ctrl_c() -> Catch {
        Catch::of(&[0])
    }

    fn of(caught: &[usize]) -> Catch {
        let flag = Arc::new(AtomicBool::new(false));
        let p = pass_through();
        #[cfg(unix)]
        let registered = caught
            .iter()
            .filter_map(|i| signal_hook::flag::register(SIGNALS[*i], flag.clone()).ok())
            .collect();
        for i in caught {
            p.live[*i].fetch_add(1, Ordering::SeqCst);
            p.pass[*i].store(false, Ordering::SeqCst);
        }
        Catch {
            flag,
            caught: caught.to_vec(),
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
        let p = pass_through();
        for i in &self.caught {
            if p.live[*i].fetch_sub(1, Ordering::SeqCst) == 1 {
                p.pass[*i].store(true, Ordering::SeqCst);
            }
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

    #[test]
    fn a_prompts_catch_takes_ctrl_c() {
        let prompt = Catch::ctrl_c();
        signal_hook::low_level::raise(signal_hook::consts::SIGINT).unwrap();
        assert!(prompt.interrupted());
    }
}
