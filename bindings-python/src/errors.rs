//! The mapping from the core's `Error` to Python exceptions, built by the
//! package's `hystrix._errors._new_error` (registered at import) so both the
//! Python drivers and this native layer word every error alike: naming the
//! command and the setting involved.

use hystrix_core::{Context, Error, Fault, SettingsConflict};
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// `_new_error(kind, command, setting, value, original, fallback_error)`, registered by the package.
static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Registers the package's error factory.
#[pyfunction]
pub(crate) fn _set_error_factory(py: Python<'_>, factory: Py<PyAny>) {
    let _ = FACTORY.set(py, factory);
}

/// The command an error is about: what messages call it.
pub(crate) struct Source<'a> {
    pub(crate) label: &'a str,
}

fn factory(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    Ok(FACTORY.get(py).ok_or_else(|| PyRuntimeError::new_err("hystrix: the error factory is not registered"))?.bind(py))
}

fn build<'py>(
    py: Python<'py>,
    ctx: &Context,
    src: &Source<'_>,
    original: Option<Bound<'py, PyAny>>,
    fallback_error: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (setting, value) =
        if ctx.setting().is_empty() { (None, None) } else { (Some(ctx.setting()), Some(ctx.value())) };
    factory(py)?.call1((ctx.kind().as_str(), src.label, setting, value, original, fallback_error))
}

/// The `SettingsConflictError` for a second construction with other settings.
pub(crate) fn settings_conflict(py: Python<'_>, c: &SettingsConflict) -> PyErr {
    let built = factory(py).and_then(|f| {
        f.call1((
            "settings_conflict",
            c.command(),
            c.key(),
            (c.existing(), c.given()),
            None::<Py<PyAny>>,
            None::<Py<PyAny>>,
        ))
    });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

fn fault_object<'py>(py: Python<'py>, fault: &Fault<PyErr>) -> Bound<'py, PyAny> {
    match fault {
        Fault::Error(e) => e.value(py).clone().into_any(),
        Fault::Panic(msg) => PyRuntimeError::new_err(msg.clone()).value(py).clone().into_any(),
    }
}

/// The exception object for an original error (what a fallback receives).
pub(crate) fn error_object<'py>(py: Python<'py>, e: &Error<PyErr>, src: &Source<'_>) -> PyResult<Bound<'py, PyAny>> {
    match e {
        Error::Failure(fault) => Ok(fault_object(py, fault)),
        Error::BadRequest(err) => Ok(err.value(py).clone().into_any()),
        Error::InvalidConfig(e) => Err(PyRuntimeError::new_err(e.to_string())),
        other => match other.context() {
            Some(ctx) => build(py, ctx, src, None, None),
            None => Err(PyRuntimeError::new_err(format!("hystrix: no context for {}", other.kind()))),
        },
    }
}

/// The `PyErr` the caller gets for a settled error.
pub(crate) fn raise_for(py: Python<'_>, e: Error<PyErr>, src: &Source<'_>) -> PyErr {
    let built = match e {
        Error::Failure(Fault::Error(err)) | Error::BadRequest(err) => return err,
        Error::FallbackRejected { original, context, .. } => error_object(py, &original, src).and_then(|orig| {
            let exc = build(py, &context, src, Some(orig.clone()), None)?;
            exc.setattr("__cause__", orig)?;
            Ok(exc)
        }),
        // KeyboardInterrupt, SystemExit…: not a fallback failure; propagate as is.
        Error::FallbackFailure { fallback: Fault::Error(err), .. } if !err.is_instance_of::<PyException>(py) => {
            return err;
        }
        Error::FallbackFailure { original, fallback, context, .. } => {
            error_object(py, &original, src).and_then(|orig| {
                let fb = fault_object(py, &fallback);
                let exc = build(py, &context, src, Some(orig), Some(fb.clone()))?;
                exc.setattr("__cause__", fb)?;
                Ok(exc)
            })
        }
        other => error_object(py, &other, src),
    };
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}
