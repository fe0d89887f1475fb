//! Time for native commands. Every core command of the package holds the
//! process-wide monotonic clock ([`native`]); the core never holds a Python
//! object to read time from. A command given a Python clock (an object with
//! a `now()` method, e.g. `hystrix.testing.VirtualClock`) keeps it here, in
//! its [`PyClock`]: the call interpreters (`_sync.py`, `_threads.py`,
//! `_asyncio.py`) read it in Python and pass `now` with every input, and
//! the native semaphore path hands it to the one call that uses it
//! (`Command::execute_on`).
//!
//! A Python clock must return whole milliseconds: an `int` (not a `bool`)
//! from 0 to 2^64 − 1. The core's `Clock` trait cannot fail, so a bad read
//! during a semaphore call answers the last good time (time never goes
//! back) and leaves the error pending on this thread; the semaphore path
//! raises it when the call returns (see `crate::pending`).

use hystrix_core::{Clock, MonotonicClock};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// The process-wide monotonic clock: one origin for every command.
pub(crate) fn monotonic() -> &'static MonotonicClock {
    static CLOCK: OnceLock<MonotonicClock> = OnceLock::new();
    CLOCK.get_or_init(MonotonicClock::new)
}

/// The process-wide monotonic clock as a core command's own clock (what
/// every command of the package holds).
pub(crate) fn native() -> Arc<dyn Clock> {
    static SHARED: OnceLock<Arc<dyn Clock>> = OnceLock::new();
    SHARED.get_or_init(|| Arc::new(*monotonic())).clone()
}

/// `hystrix._errors._bad_clock(command, clock, value)`, registered by the package.
static BAD_CLOCK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Registers the builder of the error for a clock that returned a bad value.
#[pyfunction]
pub(crate) fn _set_bad_clock_error(py: Python<'_>, builder: Py<PyAny>) {
    let _ = BAD_CLOCK.set(py, builder);
}

thread_local! {
    /// A time already read (and checked) by the caller for the core's next
    /// read on this thread: a semaphore call reads its start time before
    /// entering the core, so a bad clock refuses the call before admission.
    static PRIMED: Cell<Option<u64>> = const { Cell::new(None) };
}

/// A command's clock as its Python side sees it: the native monotonic one
/// or a Python object. Handed to a semaphore call as that call's clock
/// only while it is a Python one.
pub(crate) struct PyClock {
    /// Whether `source` holds a Python clock: the native path takes no lock.
    custom: AtomicBool,
    source: RwLock<Option<Py<PyAny>>>,
    /// The latest good reading (what a bad read inside the core answers).
    last: AtomicU64,
    /// The command named in errors.
    label: String,
}

impl PyClock {
    /// A clock for the command called `label` in errors (the native clock until `set`).
    pub(crate) fn new(label: String) -> PyClock {
        PyClock { custom: AtomicBool::new(false), source: RwLock::new(None), last: AtomicU64::new(0), label }
    }

    /// Uses `clock.now()` from now on (`None`: the native monotonic clock).
    pub(crate) fn set(&self, clock: Option<Py<PyAny>>) {
        let custom = clock.is_some();
        let old = {
            let mut source = self.source.write().unwrap_or_else(|p| p.into_inner());
            self.custom.store(custom, Ordering::Release);
            std::mem::replace(&mut *source, clock)
        };
        // The old clock is dropped (possibly running Python code) after the
        // lock is released.
        drop(old);
    }

    /// Whether a Python clock is in use.
    #[inline]
    pub(crate) fn is_custom(&self) -> bool {
        self.custom.load(Ordering::Acquire)
    }

    /// Reads the clock, raising what a bad clock raised, or a clear
    /// `TypeError`/`ValueError` for a value that is not whole milliseconds.
    pub(crate) fn read(&self, py: Python<'_>) -> PyResult<u64> {
        if !self.is_custom() {
            return Ok(monotonic().now_ms());
        }
        // Copy the clock out: no lock is held while Python code runs.
        let obj = self.source.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|o| o.clone_ref(py));
        let Some(obj) = obj else { return Ok(monotonic().now_ms()) };
        let value = obj.call_method0(py, pyo3::intern!(py, "now"))?.into_bound(py);
        let good = value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>();
        match good.then(|| value.extract::<u64>().ok()).flatten() {
            Some(now) => {
                self.last.fetch_max(now, Ordering::Relaxed);
                Ok(now)
            }
            None => Err(self.bad_value(py, obj.bind(py), &value)),
        }
    }

    fn bad_value(&self, py: Python<'_>, clock: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyErr {
        let Some(builder) = BAD_CLOCK.get(py) else {
            return pyo3::exceptions::PyTypeError::new_err("a clock must return whole milliseconds as an int");
        };
        match builder.bind(py).call1((self.label.as_str(), clock, value)) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    }

    /// Hands `now` (just read with [`PyClock::read`]) to the core's next read on this thread.
    pub(crate) fn prime(now: u64) {
        PRIMED.with(|p| p.set(Some(now)));
    }

    /// Drops a primed time the core did not take.
    pub(crate) fn unprime() {
        PRIMED.with(|p| p.set(None));
    }
}

impl Clock for PyClock {
    fn now_ms(&self) -> u64 {
        if !self.is_custom() {
            return monotonic().now_ms();
        }
        if let Some(now) = PRIMED.with(Cell::take) {
            return now;
        }
        Python::attach(|py| match self.read(py) {
            Ok(now) => now,
            Err(e) => {
                crate::pending::set(py, e);
                self.last.load(Ordering::Relaxed)
            }
        })
    }
}
