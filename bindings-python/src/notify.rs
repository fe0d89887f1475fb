//! Calling Python from the core's notices: the listeners users subscribe,
//! and the package's log of every circuit's transitions. Both are treated
//! alike: an `Exception` raised is counted for `listener_panics` and handed
//! to the package's hook (the `hystrix` logger), never propagated; a
//! `KeyboardInterrupt` or `SystemExit` waits for the caller (`pending`).

use crate::pending;
use hystrix_core::{Command, Notice, Topic};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `listener_failed(command, listener, exc)`: how the package reports an
/// `Exception` a listener raised (the `hystrix` logger).
static LISTENER_FAILED: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `log_transition(label, name, from_state, to_state, at_ms)`: how the
/// package logs a circuit's transitions (the `hystrix` logger).
static LOG_TRANSITION: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Registers how listener exceptions are reported: `hook(command, listener, exc)`.
#[pyfunction]
pub(crate) fn _set_listener_error_hook(py: Python<'_>, hook: Py<PyAny>) {
    let _ = LISTENER_FAILED.set(py, hook);
}

/// Registers how every command's transitions are logged:
/// `hook(label, name, from_state, to_state, at_ms)`, called for the
/// commands made from then on, before their other listeners.
#[pyfunction]
pub(crate) fn _set_transition_log(py: Python<'_>, hook: Py<PyAny>) {
    let _ = LOG_TRANSITION.set(py, hook);
}

/// Calls `listener` with `notice` (`(name, event, at_ms)` or `(name,
/// from_state, to_state, at_ms)`, after `label` when given) and deals with
/// what it raised as the module docs say; `errors` counts the exceptions
/// of the command called `command` in errors.
pub(crate) fn deliver(
    py: Python<'_>,
    listener: &Bound<'_, PyAny>,
    label: Option<&str>,
    notice: &Notice<'_>,
    errors: &AtomicU64,
    command: &str,
) {
    let result = match (notice, label) {
        (Notice::Event { command, event, at_ms }, None) => listener.call1((*command, event.as_str(), *at_ms)),
        (Notice::Event { command, event, at_ms }, Some(l)) => listener.call1((l, *command, event.as_str(), *at_ms)),
        (Notice::Transition { command, from, to, at_ms }, None) => {
            listener.call1((*command, from.as_str(), to.as_str(), *at_ms))
        }
        (Notice::Transition { command, from, to, at_ms }, Some(l)) => {
            listener.call1((l, *command, from.as_str(), to.as_str(), *at_ms))
        }
    };
    let Err(e) = result else { return };
    if !e.is_instance_of::<PyException>(py) {
        pending::set(py, e);
        return;
    }
    errors.fetch_add(1, Ordering::Relaxed);
    report_listener_error(py, command, listener, e);
}

/// Subscribes the package's transition log (if registered) to `cmd`, the
/// command called `label` in errors and logs; its exceptions count in
/// `errors` like any listener's. The hook is a module-wide function: the
/// command holds no Python object for it.
pub(crate) fn subscribe_transition_log(py: Python<'_>, cmd: &Command, label: &str, errors: &Arc<AtomicU64>) {
    if LOG_TRANSITION.get(py).is_none() {
        return;
    }
    let errors = errors.clone();
    let label = label.to_string();
    cmd.subscribe(Topic::Transitions, move |n| {
        Python::attach(|py| {
            let Some(hook) = LOG_TRANSITION.get(py) else { return };
            deliver(py, hook.bind(py), Some(&label), n, &errors, &label);
        })
    });
}

/// Hands a listener's exception to the package's hook; to
/// `sys.unraisablehook` if there is none or it fails.
fn report_listener_error(py: Python<'_>, command: &str, listener: &Bound<'_, PyAny>, e: PyErr) {
    let Some(hook) = LISTENER_FAILED.get(py) else {
        e.write_unraisable(py, Some(listener));
        return;
    };
    let value = e.value(py);
    if let Some(tb) = e.traceback(py) {
        // Keep the traceback for the log record.
        let _ = value.setattr(pyo3::intern!(py, "__traceback__"), tb);
    }
    if let Err(hook_err) = hook.bind(py).call1((command, listener, value)) {
        e.write_unraisable(py, Some(listener));
        if hook_err.is_instance_of::<PyException>(py) {
            hook_err.write_unraisable(py, Some(hook.bind(py)));
        } else {
            pending::set(py, hook_err);
        }
    }
}
