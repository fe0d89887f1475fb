//! `fork()` safety: a thread that works on a call (`NativeCall` inputs)
//! may hold the call's lock. A fork at that
//! instant would copy them locked into the child, whose first call would
//! then deadlock. The package's `os.register_at_fork` hooks call
//! `_before_fork` (waits, GIL released, until no other thread is inside
//! the core; newcomers wait) and `_after_fork` (lets them in again, in the
//! parent and the child).

use pyo3::prelude::*;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static FORKING: AtomicBool = AtomicBool::new(false);
static INSIDE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// How deep this thread is inside (a listener may call back in).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Held while a thread works on a call without the GIL.
pub(crate) struct Inside(());

/// Enters the core, waiting while a fork is under way.
pub(crate) fn enter() -> Inside {
    if DEPTH.with(Cell::get) == 0 {
        loop {
            while FORKING.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            INSIDE.fetch_add(1, Ordering::SeqCst);
            if !FORKING.load(Ordering::SeqCst) {
                break;
            }
            INSIDE.fetch_sub(1, Ordering::SeqCst);
        }
    } else {
        INSIDE.fetch_add(1, Ordering::SeqCst);
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    Inside(())
}

/// Enters the core without waiting (for a thread holding the GIL, which
/// must not wait for a fork: a thread inside may need the GIL to leave);
/// `None` while a fork is under way.
pub(crate) fn try_enter() -> Option<Inside> {
    if DEPTH.with(Cell::get) == 0 {
        if FORKING.load(Ordering::SeqCst) {
            return None;
        }
        INSIDE.fetch_add(1, Ordering::SeqCst);
        if FORKING.load(Ordering::SeqCst) {
            INSIDE.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
    } else {
        INSIDE.fetch_add(1, Ordering::SeqCst);
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    Some(Inside(()))
}

impl Drop for Inside {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
        INSIDE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Before `fork()`: waits until no other thread is inside the core.
#[pyfunction]
pub(crate) fn _before_fork(py: Python<'_>) {
    py.detach(|| {
        FORKING.store(true, Ordering::SeqCst);
        let mine = DEPTH.with(Cell::get);
        while INSIDE.load(Ordering::SeqCst) > mine {
            std::thread::yield_now();
        }
    });
}

/// After `fork()`, in the parent and in the child.
#[pyfunction]
pub(crate) fn _after_fork() {
    FORKING.store(false, Ordering::SeqCst);
}
