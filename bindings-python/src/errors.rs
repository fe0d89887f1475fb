//! The package's exception classes, registered by `hystrix/_command.py`,
//! and the mapping from the core's `Error` to Python exceptions.

use hystrix_core::{Error, ErrorKind, Fault};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

/// `{kind: exception class}` as registered by the package.
static CLASSES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

/// Registers the package's exception classes by SPEC kind.
#[pyfunction]
pub(crate) fn _set_error_classes(py: Python<'_>, classes: Py<PyDict>) {
    let _ = CLASSES.set(py, classes);
}

fn class<'py>(py: Python<'py>, kind: ErrorKind) -> PyResult<Bound<'py, PyAny>> {
    CLASSES.get(py).and_then(|d| d.bind(py).get_item(kind.as_str()).ok().flatten()).ok_or_else(|| {
        PyRuntimeError::new_err(format!("hystrix exception class for {} is not registered", kind.as_str()))
    })
}

fn fault_object<'py>(py: Python<'py>, fault: &Fault<PyErr>) -> Bound<'py, PyAny> {
    match fault {
        Fault::Error(e) => e.value(py).clone().into_any(),
        Fault::Panic(msg) => PyRuntimeError::new_err(msg.clone()).value(py).clone().into_any(),
    }
}

/// The exception object for an original error (what a fallback receives).
pub(crate) fn error_object<'py>(py: Python<'py>, e: &Error<PyErr>) -> PyResult<Bound<'py, PyAny>> {
    match e {
        Error::Failure(fault) => Ok(fault_object(py, fault)),
        Error::BadRequest(err) => Ok(err.value(py).clone().into_any()),
        other => class(py, other.kind())?.call1((other.kind().description(),)),
    }
}

/// The `PyErr` the caller gets for a settled error.
pub(crate) fn raise_for(py: Python<'_>, e: Error<PyErr>) -> PyErr {
    let built = match e {
        Error::Failure(Fault::Error(err)) | Error::BadRequest(err) => return err,
        Error::FallbackRejected { original } => error_object(py, &original).and_then(|orig| {
            let exc = class(py, ErrorKind::FallbackRejected)?.call1((orig.clone(),))?;
            exc.setattr("__cause__", orig)?;
            Ok(exc)
        }),
        // KeyboardInterrupt, SystemExit…: not a fallback failure; propagate as is.
        Error::FallbackFailure { fallback: Fault::Error(err), .. }
            if !err.is_instance_of::<pyo3::exceptions::PyException>(py) =>
        {
            return err;
        }
        Error::FallbackFailure { original, fallback } => error_object(py, &original).and_then(|orig| {
            let fb = fault_object(py, &fallback);
            let exc = class(py, ErrorKind::FallbackFailure)?.call1((orig, fb.clone()))?;
            exc.setattr("__cause__", fb)?;
            Ok(exc)
        }),
        other => error_object(py, &other),
    };
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}
