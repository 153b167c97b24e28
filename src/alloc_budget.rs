//! A bound on memory while a user's template renders. Tera cannot be told
//! how much a render may allocate, and a template can grow a value without
//! end and never print it (`{% set_global s = s ~ s %}` in a loop doubles it
//! each time), which no bound on the output sees: the machine's memory runs
//! out and ttm aborts, or the kernel's OOM killer ends it. So the binary's
//! allocator ([`Counting`], installed in `main.rs`) counts the bytes live
//! while a [`Budget`] is armed, and past its limit ttm stops at once with
//! the one line the budget was given (nothing has been written yet: the
//! render is all in memory, before the writer), exit 2.
//!
//! Disarmed (all of ttm but a render) the allocator costs one relaxed
//! atomic load per allocation. Without the allocator installed (the unit
//! tests), a budget does nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

static ARMED: AtomicBool = AtomicBool::new(false);
static USED: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// The line to print past the limit (leaked, set before arming) and its length.
static MESSAGE: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static MESSAGE_LEN: AtomicUsize = AtomicUsize::new(0);
/// With `--json`: the error document for stdout (leaked), and its length.
static DOC: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static DOC_LEN: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting while a [`Budget`] is armed.
pub struct Counting;

// SAFETY: every call is passed on to `System` unchanged; the counting around
// it only reads and writes atomics, and allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        refund(layout.size());
        // SAFETY: the caller's pointer and layout, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            charge(new_size - layout.size());
        } else {
            refund(layout.size() - new_size);
        }
        // SAFETY: the caller's pointer, layout and size, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn charge(bytes: usize) {
    if !ARMED.load(Ordering::Relaxed) {
        return;
    }
    let used = USED
        .fetch_add(bytes, Ordering::Relaxed)
        .saturating_add(bytes);
    if used > LIMIT.load(Ordering::Relaxed) {
        over_budget();
    }
}

fn refund(bytes: usize) {
    if ARMED.load(Ordering::Relaxed) {
        // Memory from before the budget may be freed under it: never below 0.
        let _ = USED.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
            Some(u.saturating_sub(bytes))
        });
    }
}

/// Past the limit, inside the allocator: nothing may allocate here, so the
/// line is written with write(2) and the process ends with _exit(2).
fn over_budget() -> ! {
    ARMED.store(false, Ordering::SeqCst);
    let ptr = MESSAGE.load(Ordering::SeqCst);
    let len = MESSAGE_LEN.load(Ordering::SeqCst);
    let doc = DOC.load(Ordering::SeqCst);
    let doc_len = DOC_LEN.load(Ordering::SeqCst);
    #[cfg(unix)]
    // SAFETY: the texts were leaked by `Budget::arm` and are never freed;
    // write(2) and _exit(2) are async-signal-safe and allocate nothing.
    unsafe {
        if !doc.is_null() {
            libc::write(1, doc as *const libc::c_void, doc_len);
        }
        if !ptr.is_null() {
            libc::write(2, ptr as *const libc::c_void, len);
        }
        libc::_exit(2);
    }
    #[cfg(not(unix))]
    {
        let _ = (ptr, len, doc, doc_len);
        std::process::abort()
    }
}

/// While this lives, more than `limit` bytes live at once end ttm with
/// `message` (one line; with `--json` also the error document, `doc`, on
/// stdout) and exit 2.
pub struct Budget(());

impl Budget {
    pub fn arm(limit: usize, message: &str, doc: Option<String>) -> Budget {
        let line: &'static mut str = format!("error: {message}\n").leak();
        MESSAGE_LEN.store(line.len(), Ordering::SeqCst);
        MESSAGE.store(line.as_mut_ptr(), Ordering::SeqCst);
        match doc {
            Some(doc) => {
                let doc: &'static mut str = format!("{doc}\n").leak();
                DOC_LEN.store(doc.len(), Ordering::SeqCst);
                DOC.store(doc.as_mut_ptr(), Ordering::SeqCst);
            }
            None => DOC.store(std::ptr::null_mut(), Ordering::SeqCst),
        }
        USED.store(0, Ordering::SeqCst);
        LIMIT.store(limit, Ordering::SeqCst);
        ARMED.store(true, Ordering::SeqCst);
        Budget(())
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        ARMED.store(false, Ordering::SeqCst);
        LIMIT.store(usize::MAX, Ordering::SeqCst);
    }
}
