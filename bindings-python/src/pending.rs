//! An error raised by Python code the core called (a clock, a listener)
//! that must reach the caller but could not cross the core: it waits here,
//! per thread, until the native entry point that entered the core returns
//! and raises it. Only clock errors and non-`Exception`s from listeners
//! (`KeyboardInterrupt`, `SystemExit`) are kept; an interrupt wins over a
//! clock error.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many threads hold a pending error: the common case checks this one
/// atomic and never touches the thread-local.
static ANY: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static PENDING: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Keeps `err` for the caller on this thread.
pub(crate) fn set(py: Python<'_>, err: PyErr) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        match &*p {
            None => {
                ANY.fetch_add(1, Ordering::Relaxed);
                *p = Some(err);
            }
            Some(old) if old.is_instance_of::<PyException>(py) && !err.is_instance_of::<PyException>(py) => {
                *p = Some(err);
            }
            Some(_) => {}
        }
    });
}

/// Takes the error pending on this thread, if any.
#[inline]
pub(crate) fn take() -> Option<PyErr> {
    if ANY.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let err = PENDING.with(|p| p.borrow_mut().take());
    if err.is_some() {
        ANY.fetch_sub(1, Ordering::Relaxed);
    }
    err
}

/// `Err` with the pending error, if any.
#[inline]
pub(crate) fn check() -> PyResult<()> {
    match take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
