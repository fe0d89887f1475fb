//! `hystrix._hystrix`: the thin native layer of the Python binding. It
//! exposes the core's sans-IO command and per-call execution; the Python
//! package (`python/hystrix/`) drives them with threads or asyncio and
//! turns outcomes into Python values and exceptions. Rust never waits here,
//! so no call holds the GIL for long.

mod clock;
mod convert;
mod errors;
mod fork;
mod pending;
mod semaphore;

use clock::PyClock;
use convert::{dict_to_json, json_to_py};
use hystrix_core::{
    Clock, Command, Config, ConfigError, Execution, ListenerId, Notice, Resolution, RunOutcome, Step, Topic,
};
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Step kinds returned to Python as `(kind, argument)`.
const STEP_RUN: u8 = 0;
const STEP_FALLBACK: u8 = 1;
const STEP_DONE: u8 = 2;
const STEP_NOTHING: u8 = 3;

/// The Python class raised for invalid configurations (set by the package).
static INVALID_CONFIG: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `listener_failed(command, listener, exc)`: how the package reports an
/// `Exception` a listener raised (the `hystrix` logger).
static LISTENER_FAILED: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

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

fn step_tuple<'py>(py: Python<'py>, step: Step) -> PyResult<Bound<'py, PyTuple>> {
    match step {
        Step::Run { deadline } => (STEP_RUN, deadline).into_pyobject(py),
        Step::Fallback { cause } => {
            (STEP_FALLBACK, Some(cause.as_str())).into_pyobject(py).map(|t| t.into_any().cast_into().expect("tuple"))
        }
        Step::Done(r) => {
            let what = match r {
                Resolution::Run => "run",
                Resolution::Fallback => "fallback",
                Resolution::Error(kind) => kind.as_str(),
            };
            (STEP_DONE, Some(what)).into_pyobject(py).map(|t| t.into_any().cast_into().expect("tuple"))
        }
        Step::Nothing => (STEP_NOTHING, None::<u64>).into_pyobject(py),
    }
}

/// One call through a command (see `hystrix_core::Execution`).
#[pyclass(frozen, module = "hystrix._hystrix")]
struct NativeExecution {
    cmd: Command,
    ex: Mutex<Execution>,
}

impl NativeExecution {
    /// Runs `f` on the execution with the GIL released while the lock is
    /// taken and the core runs: a listener (which needs the GIL) on one
    /// thread can then never deadlock with another thread waiting here.
    /// No `fork()` happens meanwhile (see `fork`). A `KeyboardInterrupt`
    /// or `SystemExit` a listener raised meanwhile is raised here, after
    /// the step was applied; a call left waiting for its fallback is then
    /// abandoned at once (its fallback slot given back).
    fn with<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Command, &mut Execution) -> T + Send) -> PyResult<T> {
        let out = py.detach(|| {
            let _inside = fork::enter();
            f(&self.cmd, &mut self.ex.lock().unwrap_or_else(|p| p.into_inner()))
        });
        if let Some(interrupt) = pending::take() {
            // The caller will not go on with this call: release its fallback
            // slot now (a run's permit stays until the run stops).
            py.detach(|| {
                let _inside = fork::enter();
                let mut ex = self.ex.lock().unwrap_or_else(|p| p.into_inner());
                if !ex.is_done() {
                    ex.abandon(&self.cmd, 0);
                }
            });
            return Err(interrupt);
        }
        Ok(out)
    }
}

impl Drop for NativeExecution {
    /// Nobody can report on this call any more: release what it still holds
    /// (nothing is recorded, so the time given is irrelevant).
    fn drop(&mut self) {
        let ex = self.ex.get_mut().unwrap_or_else(|p| p.into_inner());
        if !ex.is_done() || ex.holds_permit() {
            ex.abandon(&self.cmd, 0);
            ex.run_stopped(&self.cmd);
        }
    }
}

#[pymethods]
impl NativeExecution {
    /// The run ended: outcome 0 = success, 1 = failure, 2 = bad request.
    fn run_finished<'py>(&self, py: Python<'py>, now: u64, outcome: u8) -> PyResult<Bound<'py, PyTuple>> {
        let outcome = match outcome {
            0 => RunOutcome::Success,
            2 => RunOutcome::BadRequest,
            _ => RunOutcome::Failure,
        };
        let step = self.with(py, |cmd, ex| ex.run_finished(cmd, now, outcome))?;
        step_tuple(py, step)
    }

    /// The run's timeout fired at `now`.
    fn timer_fired<'py>(&self, py: Python<'py>, now: u64) -> PyResult<Bound<'py, PyTuple>> {
        let step = self.with(py, |cmd, ex| ex.timer_fired(cmd, now))?;
        step_tuple(py, step)
    }

    /// The run really stopped after a timeout: release its permit.
    fn run_stopped(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |cmd, ex| ex.run_stopped(cmd))
    }

    /// The fallback settled.
    fn fallback_finished<'py>(&self, py: Python<'py>, now: u64, ok: bool) -> PyResult<Bound<'py, PyTuple>> {
        let step = self.with(py, |cmd, ex| ex.fallback_finished(cmd, now, ok))?;
        step_tuple(py, step)
    }

    /// The caller gave up: release everything without recording an outcome.
    fn abandon(&self, py: Python<'_>, now: u64) -> PyResult<()> {
        self.with(py, |cmd, ex| ex.abandon(cmd, now))
    }

    /// The caller cancelled the call at `now` (semantics §18): a run in
    /// flight records CANCELLED and keeps its permit until `run_stopped`;
    /// a fallback in flight runs on. Whether the call had not settled.
    fn cancel(&self, py: Python<'_>, now: u64) -> PyResult<bool> {
        self.with(py, |cmd, ex| ex.cancel(cmd, now))
    }

    /// The events this call recorded, in order.
    fn events(&self, py: Python<'_>) -> PyResult<Vec<&'static str>> {
        self.with(py, |_, ex| ex.events().map(|e| e.as_str()).collect())
    }

    /// Whether the run still holds its bulkhead permit.
    #[getter]
    fn holds_permit(&self, py: Python<'_>) -> PyResult<bool> {
        self.with(py, |_, ex| ex.holds_permit())
    }

    /// Whether the call has settled.
    #[getter]
    fn is_done(&self, py: Python<'_>) -> PyResult<bool> {
        self.with(py, |_, ex| ex.is_done())
    }

    /// Why the fallback was wanted (`failure`, `timeout`, `short_circuited`,
    /// `rejected`), once it was.
    #[getter]
    fn cause(&self, py: Python<'_>) -> PyResult<Option<&'static str>> {
        self.with(py, |_, ex| ex.cause().map(|k| k.as_str()))
    }
}

/// A command's shared state: circuit, bulkhead, metrics. Time is passed in.
#[pyclass(frozen, module = "hystrix._hystrix")]
struct NativeCommand {
    cmd: Command,
    clock: Arc<PyClock>,
    /// What errors call the command (its name, or the run's for an anonymous one).
    label: String,
    /// Listener calls that raised, not yet handed to the core's
    /// `listener_panics` (a listener cannot hold the command: that would
    /// be a reference cycle). Handed over at every snapshot.
    listener_errors: Arc<AtomicU64>,
}

impl NativeCommand {
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
        let config = parse_patch(py, Config::default(), config, Some(&label))?;
        let py_clock = Arc::new(PyClock::new(label.clone()));
        py_clock.set(clock);
        let cmd = Command::with_clock(name, config, py_clock.clone()).map_err(|e| config_error(py, e, Some(&label)))?;
        Ok(NativeCommand { cmd, clock: py_clock, label, listener_errors: Arc::new(AtomicU64::new(0)) })
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
    /// (`timeout_ms`, `max_concurrent_requests`, `fallback_max_concurrent_requests`).
    fn setting(&self, key: &str) -> PyResult<u64> {
        let c = self.cmd.config();
        Ok(match key {
            "timeout_ms" => c.timeout_ms,
            "max_concurrent_requests" => c.max_concurrent_requests,
            "fallback_max_concurrent_requests" => c.fallback_max_concurrent_requests,
            other => return Err(PyValueError::new_err(format!("no numeric setting {other:?} here"))),
        })
    }

    /// Starts a call at `now`: returns `(execution, step)`.
    fn start<'py>(
        &self,
        py: Python<'py>,
        now: u64,
        has_fallback: bool,
    ) -> PyResult<(NativeExecution, Bound<'py, PyTuple>)> {
        let (ex, step) = Execution::start(&self.cmd, now, has_fallback);
        let ex = NativeExecution { cmd: self.cmd.clone(), ex: Mutex::new(ex) };
        // An interrupt from a listener: `ex` is released as it drops.
        pending::check()?;
        Ok((ex, step_tuple(py, step)?))
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
        let id = self.cmd.subscribe(topic, move |n| {
            Python::attach(|py| {
                let f = callback.bind(py);
                let result = match n {
                    Notice::Event { command, event, at_ms } => f.call1((*command, event.as_str(), *at_ms)),
                    Notice::Transition { command, from, to, at_ms } => {
                        f.call1((*command, from.as_str(), to.as_str(), *at_ms))
                    }
                };
                let Err(e) = result else { return };
                if !e.is_instance_of::<PyException>(py) {
                    pending::set(py, e);
                    return;
                }
                errors.fetch_add(1, Ordering::Relaxed);
                report_listener_error(py, &label, f, e);
            })
        });
        Ok(id.raw())
    }

    /// Removes a listener; whether it was subscribed.
    fn unsubscribe(&self, id: u64) -> bool {
        self.cmd.unsubscribe(ListenerId::from_raw(id))
    }
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

/// Registers how listener exceptions are reported: `hook(command, listener, exc)`.
#[pyfunction]
fn _set_listener_error_hook(py: Python<'_>, hook: Py<PyAny>) {
    let _ = LISTENER_FAILED.set(py, hook);
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
    m.add_class::<NativeCommand>()?;
    m.add_class::<NativeExecution>()?;
    m.add_class::<semaphore::SemaphoreCall>()?;
    m.add_function(wrap_pyfunction!(validate_config, m)?)?;
    m.add_function(wrap_pyfunction!(monotonic_ms, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_set_error_factory, m)?)?;
    m.add_function(wrap_pyfunction!(clock::_set_bad_clock_error, m)?)?;
    m.add_function(wrap_pyfunction!(_set_listener_error_hook, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_before_fork, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_after_fork, m)?)?;
    m.add_function(wrap_pyfunction!(_set_invalid_config_error, m)?)?;
    m.add("STEP_RUN", STEP_RUN)?;
    m.add("STEP_FALLBACK", STEP_FALLBACK)?;
    m.add("STEP_DONE", STEP_DONE)?;
    m.add("STEP_NOTHING", STEP_NOTHING)?;
    // The core's error kinds with their stable codes, for the drift check
    // of the Python exception classes.
    let kinds: Vec<(&str, u32)> = hystrix_core::ErrorKind::ALL.iter().map(|k| (k.as_str(), k.code())).collect();
    m.add("ERROR_KINDS", kinds)?;
    // Every configuration key in SPEC order (`Config::schema_json`): what
    // `hystrix.config_schema()` returns and the drift tests check against.
    m.add("CONFIG_SCHEMA", Config::schema_json())?;
    Ok(())
}
