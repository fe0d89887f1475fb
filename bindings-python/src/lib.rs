//! `hystrix._hystrix`: the thin native layer of the Python binding. It
//! exposes the core's sans-IO command and its call protocol (`NativeCall`); the Python
//! package (`python/hystrix/`) drives them with threads or asyncio and
//! turns outcomes into Python values and exceptions. Rust never waits here,
//! so no call holds the GIL for long.

mod call;
mod clock;
mod convert;
mod errors;
mod families;
mod fork;
mod listeners;
mod notify;
mod observe;
mod pending;
mod registry;
mod semaphore;
mod stack;

use call::NativeCall;
use clock::PyClock;
use convert::{dict_to_json, json_to_py};
use hystrix_core::{Clock, Command, Config, ConfigError, ListenerId, Topic};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The v2 features that need the call interpreter: more than one attempt,
/// a deadline, or a rate limiter's wait or refusal before the first.
const CALL_FEATURES: u32 = hystrix_core::config::feature::RETRY
    | hystrix_core::config::feature::HEDGE
    | hystrix_core::config::feature::DEADLINE
    | hystrix_core::config::feature::RATE_LIMIT;

/// The Python class raised for invalid configurations (set by the package).
static INVALID_CONFIG: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `InvalidConfigError(key, message, command=...)`; the message names the
/// command when there is one (`command` is what errors call it).
fn config_error(py: Python<'_>, e: ConfigError, command: Option<&str>) -> PyErr {
    let message = match command {
        Some(c) => format!("command {}: {e}", py_repr(py, c)),
        None => e.to_string(),
    };
    match INVALID_CONFIG.get(py) {
        Some(cls) => {
            let kwargs = PyDict::new(py);
            let built = kwargs
                .set_item("command", command)
                .and_then(|()| cls.bind(py).call((e.key().to_string(), message), Some(&kwargs)));
            match built {
                Ok(exc) => PyErr::from_value(exc),
                Err(err) => err,
            }
        }
        None => PyValueError::new_err(message),
    }
}

/// `repr(s)` as Python writes it (so messages quote names as the package does).
fn py_repr(py: Python<'_>, s: &str) -> String {
    pyo3::types::PyString::new(py, s).repr().map(|r| r.to_string()).unwrap_or_else(|_| format!("{s:?}"))
}

fn parse_patch(py: Python<'_>, base: Config, patch: &Bound<'_, PyDict>, command: Option<&str>) -> PyResult<Config> {
    match dict_to_json(patch)? {
        Ok(value) => base.patched(&value).map_err(|e| config_error(py, e, command)),
        Err(msg) => Err(PyTypeError::new_err(msg)),
    }
}

/// A command's shared state: circuit, bulkhead, metrics. Time is passed in.
/// Weakly referenceable, so tests can see it freed (`Command.close()`).
#[pyclass(frozen, weakref, module = "hystrix._hystrix")]
struct NativeCommand {
    cmd: Command,
    clock: Arc<PyClock>,
    /// What errors call the command (its name, or the run's for an anonymous one).
    label: String,
    /// Listener calls that raised, not yet handed to the core's
    /// `listener_panics` (a listener cannot hold the command: that would
    /// be a reference cycle). Handed over at every snapshot.
    listener_errors: Arc<AtomicU64>,
    /// The callables subscribed as listeners, visible to the collector.
    listeners: listeners::SharedListeners,
}

impl NativeCommand {
    /// Wraps the core command `cmd` reading `clock`, called `label` in
    /// errors; subscribes the package's transition log first.
    fn wrap(py: Python<'_>, cmd: Command, clock: Arc<PyClock>, label: String) -> NativeCommand {
        let listener_errors = Arc::new(AtomicU64::new(0));
        notify::subscribe_transition_log(py, &cmd, &label, &listener_errors);
        NativeCommand { cmd, clock, label, listener_errors, listeners: Default::default() }
    }

    /// Counts the listener errors seen so far in the core's `listener_panics`.
    fn hand_over_listener_errors(&self) {
        for _ in 0..self.listener_errors.swap(0, Ordering::Relaxed) {
            self.cmd.note_listener_error();
        }
    }
}

#[pymethods]
impl NativeCommand {
    #[new]
    #[pyo3(signature = (name, config, clock=None, label=None))]
    fn new(
        py: Python<'_>,
        name: &str,
        config: &Bound<'_, PyDict>,
        clock: Option<Py<PyAny>>,
        label: Option<String>,
    ) -> PyResult<Self> {
        let label = label.unwrap_or_else(|| name.to_string());
        // No settings given (the usual case): the defaults, with no patch to parse.
        let config = if config.is_empty() {
            Config::default()
        } else {
            parse_patch(py, Config::default(), config, Some(&label))?
        };
        let py_clock = Arc::new(PyClock::new(label.clone()));
        py_clock.set(clock);
        let cmd = Command::with_clock(name, config, clock::native()).map_err(|e| config_error(py, e, Some(&label)))?;
        Ok(NativeCommand::wrap(py, cmd, py_clock, label))
    }

    /// Reads time from `clock.now()` from now on (`None`: the native monotonic clock).
    fn set_clock(&self, clock: Option<Py<PyAny>>) {
        self.clock.set(clock);
    }

    /// The command's current time in milliseconds (a clock that does not
    /// return whole milliseconds raises a `TypeError`/`ValueError` naming it).
    fn now(&self, py: Python<'_>) -> PyResult<u64> {
        self.clock.read(py)
    }

    /// The command's name.
    #[getter]
    fn name(&self) -> &str {
        self.cmd.name()
    }

    /// What errors call the command.
    #[getter]
    fn label(&self) -> &str {
        &self.label
    }

    /// One numeric setting in force, read without building the config dict
    /// (`max_concurrent_requests`, for the thread pool's size).
    fn setting(&self, key: &str) -> PyResult<u64> {
        let c = self.cmd.config();
        Ok(match key {
            "timeout_ms" => c.timeout_ms,
            "max_concurrent_requests" => c.max_concurrent_requests,
            other => return Err(PyValueError::new_err(format!("no numeric setting {other:?} here"))),
        })
    }

    /// The setting behind an error of `kind` (a SPEC kind name) made now,
    /// and its value in force, as the core chooses them for every binding:
    /// `(setting, value)`, `setting` empty when none is involved.
    /// `elapsed_ms` (time since the call started) lets a timeout name
    /// `deadline_ms` when the call's deadline decided it.
    #[pyo3(signature = (kind, elapsed_ms=0))]
    fn context(&self, kind: &str, elapsed_ms: u64) -> PyResult<(&'static str, u64)> {
        let kind = hystrix_core::ErrorKind::parse(kind)
            .ok_or_else(|| PyValueError::new_err(format!("no error kind {kind:?}")))?;
        let ctx = match kind {
            hystrix_core::ErrorKind::Timeout => self.cmd.timeout_context(elapsed_ms),
            other => self.cmd.context(other),
        };
        Ok((ctx.setting(), ctx.value()))
    }

    /// Checks the settings of a second construction with this name (a
    /// dict of SPEC settings) against the command's: raises
    /// `InvalidConfigError` for invalid ones, `SettingsConflictError`
    /// naming the first differing key and both values; changes nothing.
    fn check_same_settings(&self, py: Python<'_>, config: &Bound<'_, PyDict>) -> PyResult<()> {
        let patch = dict_to_json(config)?.map_err(PyTypeError::new_err)?;
        self.cmd.check_same_settings(&patch).map_err(|e| match e {
            hystrix_core::SettingsError::Invalid(e) => config_error(py, e, Some(&self.label)),
            hystrix_core::SettingsError::Conflict(c) => crate::errors::settings_conflict(py, &c),
        })
    }

    /// Starts a call at `now`: returns `(call, actions)` (see `NativeCall`).
    fn call<'py>(&self, py: Python<'py>, now: u64, has_fallback: bool) -> PyResult<(NativeCall, Bound<'py, PyTuple>)> {
        NativeCall::start(py, &self.cmd, now, has_fallback)
    }

    /// Whether a call starting now needs the call interpreter: retry,
    /// hedging, a deadline or a rate limiter is on (one atomic load).
    #[getter]
    fn strategies(&self) -> bool {
        self.cmd.v2_features() & CALL_FEATURES != 0
    }

    /// The configuration in force, as a dict of SPEC keys.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(self.cmd.config()).map_err(|e| PyValueError::new_err(e.to_string()))?;
        json_to_py(py, &value)
    }

    /// Changes the keys in `patch` (validated as a whole; nothing changes on error).
    fn configure<'py>(&self, py: Python<'py>, patch: &Bound<'_, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let next = parse_patch(py, self.cmd.config(), patch, Some(&self.label))?;
        self.cmd.set_config(next).map_err(|e| config_error(py, e, Some(&self.label)))?;
        pending::check()?;
        self.config(py)
    }

    /// A snapshot at `now` as a dict.
    fn snapshot<'py>(&self, py: Python<'py>, now: u64) -> PyResult<Bound<'py, PyAny>> {
        self.hand_over_listener_errors();
        let snap = self.cmd.snapshot_at(now);
        pending::check()?;
        let value = serde_json::to_value(snap).map_err(|e| PyValueError::new_err(e.to_string()))?;
        json_to_py(py, &value)
    }

    /// The state reported at `now` (`closed`, `open`, `half_open`), as in a snapshot.
    fn state(&self, now: u64) -> PyResult<&'static str> {
        let state = self.cmd.snapshot_at(now).state;
        pending::check()?;
        Ok(state.as_str())
    }

    /// Subscribes `callback`: topic "event" calls `callback(name, event, at_ms)`,
    /// topic "state" calls `callback(name, from_state, to_state, at_ms)`.
    /// An `Exception` it raises is counted in `listener_panics` and reported
    /// to the package's hook (the `hystrix` logger), never propagated; a
    /// `KeyboardInterrupt` or `SystemExit` reaches the caller of the call
    /// that notified it.
    fn subscribe(&self, topic: &str, callback: Py<PyAny>) -> PyResult<u64> {
        let topic = match topic {
            "event" => Topic::Events,
            "state" => Topic::Transitions,
            other => return Err(PyValueError::new_err(format!("topic must be 'event' or 'state', got {other:?}"))),
        };
        let errors = self.listener_errors.clone();
        let label = self.label.clone();
        let store = self.listeners.clone();
        let key = store.insert(callback);
        let id = self.cmd.subscribe(topic, move |n| {
            Python::attach(|py| {
                let Some(f) = store.get(py, key) else { return };
                notify::deliver(py, f.bind(py), None, n, &errors, &label);
            })
        });
        self.listeners.subscribed(key, id);
        Ok(id.raw())
    }

    /// Removes a listener; whether it was subscribed.
    fn unsubscribe(&self, id: u64) -> bool {
        let id = ListenerId::from_raw(id);
        let removed = self.cmd.unsubscribe(id);
        self.listeners.remove(id);
        removed
    }

    /// The collector's view of the listeners: a listener that refers to its
    /// own command must not keep it alive (see `listeners.rs`).
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        self.listeners.traverse(&visit)
    }

    /// Breaks a cycle through the listeners: unsubscribes them all.
    fn __clear__(&self) {
        self.listeners.clear(&self.cmd);
    }
}

/// Validates a configuration dict; returns the full configuration.
#[pyfunction]
fn validate_config<'py>(py: Python<'py>, config: &Bound<'_, PyDict>) -> PyResult<Bound<'py, PyAny>> {
    let c = parse_patch(py, Config::default(), config, None)?;
    let value = serde_json::to_value(c).map_err(|e| PyValueError::new_err(e.to_string()))?;
    json_to_py(py, &value)
}

/// Milliseconds on the process-wide monotonic clock (what `RealClock.now` reads).
#[pyfunction]
fn monotonic_ms() -> u64 {
    clock::monotonic().now_ms()
}

/// Registers the package's `InvalidConfigError(key, message)` class.
#[pyfunction]
fn _set_invalid_config_error(py: Python<'_>, cls: Py<PyAny>) {
    let _ = INVALID_CONFIG.set(py, cls);
}

#[pymodule]
fn _hystrix(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The workspace version this module was built from (`hystrix.__version__`).
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<NativeCommand>()?;
    observe::register(m)?;
    registry::register(m)?;
    m.add_class::<NativeCall>()?;
    m.add_class::<semaphore::SemaphoreCall>()?;
    m.add_function(wrap_pyfunction!(validate_config, m)?)?;
    m.add_function(wrap_pyfunction!(monotonic_ms, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_set_error_factory, m)?)?;
    m.add_function(wrap_pyfunction!(clock::_set_bad_clock_error, m)?)?;
    m.add_function(wrap_pyfunction!(notify::_set_listener_error_hook, m)?)?;
    m.add_function(wrap_pyfunction!(notify::_set_transition_log, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_before_fork, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_after_fork, m)?)?;
    m.add_function(wrap_pyfunction!(_set_invalid_config_error, m)?)?;
    // The action codes of `NativeCall` (see `call.rs`).
    m.add("SET_TIMER", call::SET_TIMER)?;
    m.add("CLEAR_TIMER", call::CLEAR_TIMER)?;
    m.add("INVOKE", call::INVOKE)?;
    m.add("ABORT", call::ABORT)?;
    m.add("FALLBACK", call::FALLBACK)?;
    m.add("SETTLE_RUN", call::SETTLE_RUN)?;
    m.add("SETTLE_FALLBACK", call::SETTLE_FALLBACK)?;
    m.add("SETTLE_ERROR", call::SETTLE_ERROR)?;
    m.add("KIND_BASE", call::KIND_BASE)?;
    // The core's error kinds with their stable codes, for the drift check
    // of the Python exception classes.
    let kinds: Vec<(&str, u32)> = hystrix_core::ErrorKind::ALL.iter().map(|k| (k.as_str(), k.code())).collect();
    m.add("ERROR_KINDS", kinds)?;
    // Every configuration key in SPEC order (`Config::schema_json`): what
    // `hystrix.config_schema()` returns and the drift tests check against.
    m.add("CONFIG_SCHEMA", Config::schema_json())?;
    Ok(())
}
