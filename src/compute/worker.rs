//! The one long-lived thread all Burn work runs on.
//!
//! Burn 0.21 keeps one memory pool per OS thread and never frees it, so work
//! spread over threads would pile up pools; here every job goes to the same
//! thread. The worker also turns the two ways a GPU stack fails badly into
//! results: a panic (no libcuda, no Vulkan adapter) is caught and its message
//! kept, and a job given a time bound that hangs is abandoned: the caller
//! gets an error and later jobs go to a fresh worker thread.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Mutex, Once};
use std::time::Duration;

const WORKER_NAME: &str = "ttm-compute";

type Job = Box<dyn FnOnce() + Send>;

/// Why a job gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job panicked; the panic's message.
    Panicked(String),
    /// The job did not finish within its bound; it was abandoned.
    TimedOut(Duration),
    /// The worker thread could not be started.
    NoThread(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Panicked(m) => write!(f, "{m}"),
            JobError::TimedOut(d) => write!(f, "did not finish within {} s", d.as_secs()),
            JobError::NoThread(m) => write!(f, "cannot start the compute thread: {m}"),
        }
    }
}

static WORKER: Mutex<Option<Sender<Job>>> = Mutex::new(None);
/// Panic messages recorded since the last job's reply, oldest first.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// While above zero, panics on every thread are recorded, not printed: GPU
/// runtimes start their own threads (CubeCL's device server), and a missing
/// driver panics there first.
static QUIET: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

/// Run `f` (which waits on the worker) with every thread's panics recorded
/// instead of printed: for probing backends, where panics are expected.
pub fn with_quiet_panics<T>(f: impl FnOnce() -> T) -> T {
    install_quiet_panic_hook();
    struct Loud;
    impl Drop for Loud {
        fn drop(&mut self) {
            QUIET.fetch_sub(1, Ordering::SeqCst);
        }
    }
    QUIET.fetch_add(1, Ordering::SeqCst);
    let _loud = Loud;
    f()
}

/// Run `job` on the compute thread and wait for it, at most `bound` if given.
pub fn run_on_worker<T, F>(bound: Option<Duration>, job: F) -> Result<T, JobError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    install_quiet_panic_hook();
    let (reply_tx, reply_rx) = mpsc::channel::<Result<T, String>>();
    let wrapped: Job = Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(job)).map_err(panic_message);
        let _ = reply_tx.send(result);
    });
    let sender = worker_sender()?;
    if sender.send(wrapped).is_err() {
        // The thread is gone (it cannot be, short of an abort); start afresh once.
        forget_worker();
        return Err(JobError::NoThread("the compute thread stopped".into()));
    }
    let reply = match bound {
        Some(limit) => match reply_rx.recv_timeout(limit) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => {
                // The thread is stuck inside the job: leave it, use a new one.
                forget_worker();
                return Err(JobError::TimedOut(limit));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(JobError::Panicked("the compute thread stopped".into()))
            }
        },
        None => reply_rx
            .recv()
            .map_err(|_| JobError::Panicked("the compute thread stopped".into()))?,
    };
    reply.map_err(JobError::Panicked)
}

fn worker_sender() -> Result<Sender<Job>, JobError> {
    let mut guard = WORKER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(tx) = guard.as_ref() {
        return Ok(tx.clone());
    }
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name(WORKER_NAME.into())
        .spawn(move || {
            for job in rx {
                job();
            }
        })
        .map_err(|e| JobError::NoThread(e.to_string()))?;
    *guard = Some(tx.clone());
    Ok(tx)
}

fn forget_worker() {
    *WORKER.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Panics on the compute thread are results, not crashes: keep their message
/// for the caller and print nothing. Other threads keep the default report.
fn install_quiet_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let quiet = QUIET.load(Ordering::SeqCst) > 0
                || std::thread::current().name() == Some(WORKER_NAME);
            if quiet {
                let message = payload_text(info.payload()).unwrap_or_else(|| "panic".into());
                let located = match info.location() {
                    Some(l) => format!("{message} (at {}:{})", l.file(), l.line()),
                    None => message,
                };
                PANICS
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(located);
            } else {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

/// Every panic recorded for this job, the first (the root cause) first:
/// "Unable to … load \"cuda\" …; called `unwrap()` on … RecvError".
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    let recorded: Vec<String> =
        std::mem::take(&mut *PANICS.lock().unwrap_or_else(|p| p.into_inner()));
    if recorded.is_empty() {
        payload_text(payload.as_ref()).unwrap_or_else(|| "panic without a message".into())
    } else {
        recorded.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hung-job test replaces the worker; the others must not see that happen.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn jobs_run_on_one_thread_and_return_values() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let a = run_on_worker(None, || std::thread::current().id()).unwrap();
        let b = run_on_worker(None, || std::thread::current().id()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, std::thread::current().id());
        assert_eq!(run_on_worker(None, || 6 * 7).unwrap(), 42);
    }

    #[test]
    fn a_panic_is_a_result_with_its_message() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let err = run_on_worker(None, || -> u32 { panic!("no adapter here") }).unwrap_err();
        match err {
            JobError::Panicked(m) => assert!(m.contains("no adapter here"), "{m}"),
            other => panic!("{other:?}"),
        }
        // The worker survives it.
        assert_eq!(run_on_worker(None, || 1).unwrap(), 1);
    }

    #[test]
    fn a_hung_job_is_abandoned_and_work_goes_on() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let err = run_on_worker(Some(Duration::from_millis(200)), || {
            std::thread::sleep(Duration::from_secs(3));
        })
        .unwrap_err();
        assert_eq!(err, JobError::TimedOut(Duration::from_millis(200)));
        assert_eq!(
            run_on_worker(Some(Duration::from_secs(5)), || 2).unwrap(),
            2
        );
    }
}
