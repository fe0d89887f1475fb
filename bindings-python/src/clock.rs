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
        let mut source = self.source.write().unwrap_or_else(|p| p.into_inner());
        self.custom.store(clock.is_some(), Ordering::Release);
        *source = clock;
    }
}

impl Clock for PyClock {
    fn now_ms(&self) -> u64 {
        if !self.custom.load(Ordering::Acquire) {
            return monotonic().now_ms();
        }
        let source = self.source.read().unwrap_or_else(|p| p.into_inner());
        match &*source {
            None => monotonic().now_ms(),
            Some(obj) => Python::attach(|py| match obj.call_method0(py, "now").and_then(|v| v.extract::<u64>(py)) {
                Ok(now) => now,
                Err(e) => {
                    // A broken clock cannot stop a call; it is reported.
                    e.write_unraisable(py, Some(obj.bind(py)));
                    0
                }
            }),
        }
    }
}
