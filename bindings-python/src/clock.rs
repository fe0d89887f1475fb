//! The clock a native command reads: the process-wide monotonic clock
//! (the default, shared with the Python package's `RealClock`), or a
//! Python object with a `now()` method (e.g. `hystrix.testing.VirtualClock`).

use hystrix_core::{Clock, MonotonicClock};
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{OnceLock, RwLock};

/// The process-wide monotonic clock: one origin for every command.
pub(crate) fn monotonic() -> &'static MonotonicClock {
    static CLOCK: OnceLock<MonotonicClock> = OnceLock::new();
    CLOCK.get_or_init(MonotonicClock::new)
}

/// A clock that is either the native monotonic one or a Python object.
#[derive(Default)]
pub(crate) struct PyClock {
    /// Whether `source` holds a Python clock: the native path takes no lock.
    custom: AtomicBool,
    source: RwLock<Option<Py<PyAny>>>,
}

impl PyClock {
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
}

impl Clock for PyClock {
    fn now_ms(&self) -> u64 {
        if !self.custom.load(Ordering::Acquire) {
            return monotonic().now_ms();
        }
        Python::attach(|py| {
            // Copy the clock out: no lock is held while Python code runs.
            let obj = self.source.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|o| o.clone_ref(py));
            let Some(obj) = obj else { return monotonic().now_ms() };
            match obj.call_method0(py, "now").and_then(|v| v.extract::<u64>(py)) {
                Ok(now) => now,
                Err(e) => {
                    // A broken clock cannot stop a call; it is reported.
                    e.write_unraisable(py, Some(obj.bind(py)));
                    0
                }
            }
        })
    }
}
