//! `SemaphoreCall`: semaphore isolation done natively — the whole call
//! (admission, the run on the caller's thread, the fallback, recording) in
//! one crossing into Rust, through the core's own sync driver.

use crate::clock::PyClock;
use crate::errors::{error_object, raise_for, Source};
use hystrix_core::{Clock, Command, Error, ErrorKind, RunError};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::Arc;

/// A command's run and fallback, callable: `call(*args, **kwargs)`. Takes
/// part in garbage collection (a run that is a bound method of an object
/// holding the command forms a cycle): it reports what it holds, and the
/// collector breaks such a cycle at the other objects (e.g. the instance's
/// `__dict__`). Frozen, so a call takes no borrow flag.
#[pyclass(frozen, module = "hystrix._hystrix")]
pub(crate) struct SemaphoreCall {
    pub(crate) cmd: Command,
    pub(crate) run: Option<Py<PyAny>>,
    pub(crate) fallback: Option<Py<PyAny>>,
    pub(crate) is_bad_request: Option<Py<PyAny>>,
    /// The package's call interpreter for this command (`_sync.py`), used
    /// instead while retry, hedging, a deadline or a rate limiter is on:
    /// the core's single-attempt driver here knows none of them.
    pub(crate) general: Option<Py<PyAny>>,
    /// The command's clock as Python sees it: a Python one is read (and
    /// checked) before the call, then handed to the call as its clock.
    clock: Arc<PyClock>,
    /// What errors call the command.
    label: String,
    /// One `CircuitOpenError` handed to every fallback of a short-circuited
    /// call, so the open path creates no exception object; its traceback,
    /// cause and context are cleared before reuse. Once a fallback fails
    /// (the caller may then hold the error) sharing stops for good.
    short_circuited: pyo3::sync::PyOnceLock<Py<PyAny>>,
    sharing_stopped: std::sync::atomic::AtomicBool,
}

impl SemaphoreCall {
    fn source(&self) -> Source<'_> {
        Source { label: &self.label }
    }

    /// The exception a fallback receives for `cause`.
    fn cause_object<'py>(&self, py: Python<'py>, cause: &Error<PyErr>) -> PyResult<Bound<'py, PyAny>> {
        if cause.kind() != ErrorKind::ShortCircuited {
            return error_object(py, cause, &self.source());
        }
        if self.sharing_stopped.load(std::sync::atomic::Ordering::Relaxed) {
            return error_object(py, cause, &self.source());
        }
        let shared = self
            .short_circuited
            .get_or_try_init(py, || error_object(py, cause, &self.source()).map(Bound::unbind))?
            .bind(py);
        // Only a fallback that raised it leaves anything to clear; the C call
        // is far cheaper than a getattr on this hot path.
        // SAFETY: `shared` is a live exception object and the GIL is held;
        // the new reference returned is released at once.
        let raised = unsafe {
            let tb = pyo3::ffi::PyException_GetTraceback(shared.as_ptr());
            if !tb.is_null() {
                pyo3::ffi::Py_DecRef(tb);
            }
            !tb.is_null()
        };
        if raised {
            shared.setattr(pyo3::intern!(py, "__traceback__"), py.None())?;
            shared.setattr(pyo3::intern!(py, "__cause__"), py.None())?;
            shared.setattr(pyo3::intern!(py, "__context__"), py.None())?;
        }
        Ok(shared.clone())
    }

    /// A run's exception: a bad request if the predicate says so — or if it
    /// is not an `Exception` at all (KeyboardInterrupt, SystemExit): those
    /// are not the dependency's fault, skip the fallback and propagate.
    fn classify(&self, py: Python<'_>, e: PyErr) -> RunError<PyErr> {
        if !e.is_instance_of::<PyException>(py) {
            return RunError::BadRequest(e);
        }
        let Some(pred) = &self.is_bad_request else { return RunError::Failure(e) };
        match pred.call1(py, (e.value(py),)).and_then(|v| v.is_truthy(py)) {
            Ok(true) => RunError::BadRequest(e),
            Ok(false) => RunError::Failure(e),
            // A KeyboardInterrupt (any non-`Exception`) raised while
            // classifying is the caller's to see, not a classifier bug:
            // it propagates (as a bad request: no fallback).
            Err(pred_err) if !pred_err.is_instance_of::<PyException>(py) => RunError::BadRequest(pred_err),
            Err(pred_err) => {
                pred_err.write_unraisable(py, Some(pred.bind(py)));
                RunError::Failure(e)
            }
        }
    }
}

#[pymethods]
impl SemaphoreCall {
    #[new]
    #[pyo3(signature = (command, run, fallback, is_bad_request, general=None))]
    fn new(
        command: &Bound<'_, crate::NativeCommand>,
        run: Py<PyAny>,
        fallback: Option<Py<PyAny>>,
        is_bad_request: Py<PyAny>,
        general: Option<Py<PyAny>>,
    ) -> Self {
        let native = command.get();
        SemaphoreCall {
            cmd: native.cmd.clone(),
            run: Some(run),
            fallback,
            is_bad_request: Some(is_bad_request),
            general,
            clock: native.clock.clone(),
            label: native.label.clone(),
            short_circuited: pyo3::sync::PyOnceLock::new(),
            sharing_stopped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        for obj in [&self.run, &self.fallback, &self.is_bad_request, &self.general].into_iter().flatten() {
            visit.call(obj)?;
        }
        Ok(())
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let Some(run) = &self.run else {
            return Err(pyo3::exceptions::PyRuntimeError::new_err("this command was garbage-collected"));
        };
        if self.cmd.v2_features() & crate::CALL_FEATURES != 0 {
            if let Some(general) = &self.general {
                return general.call(py, args, kwargs);
            }
        }
        // Runs nest native frames here: refuse before the stack runs out.
        crate::stack::check()?;
        let run = run.bind(py);
        // A Python clock is read (and checked) before the call: a bad one
        // refuses it before admission, nothing recorded. It is this call's
        // clock (the command's own is the native one), and its first read
        // takes this value.
        let custom_clock = self.clock.is_custom();
        let clock: &dyn Clock = if custom_clock {
            PyClock::prime(self.clock.read(py)?);
            &*self.clock
        } else {
            &**self.cmd.clock()
        };
        let call_run = || run.call(args, kwargs).map(Bound::unbind).map_err(|e| self.classify(py, e));
        let result = match &self.fallback {
            None => self.cmd.execute_on(clock, call_run),
            Some(fallback) => self.cmd.execute_or_on(clock, call_run, |cause: &Error<PyErr>| {
                let original = self.cause_object(py, cause)?;
                let fallback = fallback.bind(py);
                // Up to two arguments go as a Rust tuple: no vector to build.
                match args.len() {
                    0 => return fallback.call((original,), kwargs).map(Bound::unbind),
                    1 => return fallback.call((original, args.get_item(0)?), kwargs).map(Bound::unbind),
                    2 => {
                        let (a, b) = (args.get_item(0)?, args.get_item(1)?);
                        return fallback.call((original, a, b), kwargs).map(Bound::unbind);
                    }
                    _ => {}
                }
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(original);
                all.extend(args.iter());
                fallback.call(PyTuple::new(py, all)?, kwargs).map(Bound::unbind)
            }),
        };
        if custom_clock {
            PyClock::unprime();
        }
        if let Err(Error::FallbackFailure { .. }) = &result {
            self.sharing_stopped.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        // A clock that failed during the call, or a listener's
        // KeyboardInterrupt: the call has settled (permits given back); the
        // caller gets that error instead of its result.
        crate::pending::check()?;
        result.map_err(|e| raise_for(py, e, &self.source()))
    }
}
