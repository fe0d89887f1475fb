//! A guard against running out of native stack in nested semaphore calls.
//!
//! A semaphore-isolated run executes inside the native `__call__`, so a run
//! that calls a command again nests native frames as well as Python ones.
//! Python's recursion limit counts only the Python frames: with the limit
//! raised (`sys.setrecursionlimit(100_000)`), deep enough recursion through
//! commands used to overflow the thread's stack and kill the process with
//! SIGSEGV. Each nested call now checks how much of its thread's stack is
//! left and raises `RecursionError` while there is still room to unwind.
//!
//! Linux only (the stack bounds come from `pthread_getattr_np`); elsewhere
//! the check is a no-op.

use pyo3::exceptions::PyRecursionError;
use pyo3::PyResult;
use std::cell::Cell;

/// Room kept free below the check: enough for the Python frames and native
/// code of one more level, for raising the error and for unwinding.
const MARGIN: usize = 256 * 1024;

thread_local! {
    /// The lowest usable address of this thread's stack plus [`MARGIN`];
    /// 0 until first read, 1 when the bounds could not be read (no check).
    static LIMIT: Cell<usize> = const { Cell::new(0) };
}

/// `Err(RecursionError)` when this thread's stack is nearly exhausted.
#[inline]
pub(crate) fn check() -> PyResult<()> {
    let marker = 0u8;
    let here = std::ptr::addr_of!(marker) as usize;
    let limit = LIMIT.with(|l| {
        if l.get() == 0 {
            l.set(stack_limit().unwrap_or(1));
        }
        l.get()
    });
    if here < limit {
        return Err(PyRecursionError::new_err(
            "hystrix: maximum recursion depth exceeded through a semaphore-isolated command \
             (the thread's native stack is nearly exhausted)",
        ));
    }
    Ok(())
}

/// The lowest address of the calling thread's stack, plus [`MARGIN`].
#[cfg(target_os = "linux")]
fn stack_limit() -> Option<usize> {
    // SAFETY: `attr` is initialised by pthread_getattr_np before it is read
    // and destroyed once; the out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        if !ok || addr.is_null() || size <= 2 * MARGIN {
            return None;
        }
        Some(addr as usize + MARGIN)
    }
}

#[cfg(not(target_os = "linux"))]
fn stack_limit() -> Option<usize> {
    None
}
