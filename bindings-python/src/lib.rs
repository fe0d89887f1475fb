//! `hystrix._hystrix`: the thin native layer of the Python binding. It
//! exposes the core's sans-IO command and per-call execution; the Python
//! package (`python/hystrix/`) drives them with threads or asyncio and
//! turns outcomes into Python values and exceptions. Rust never waits here,
//! so no call holds the GIL for long.

mod clock;
mod convert;
mod errors;
mod semaphore;

use clock::PyClock;
use convert::{dict_to_json, json_to_py};
use hystrix_core::{
    Clock, Command, Config, ConfigError, Execution, ListenerId, Notice, Resolution, RunOutcome, Step, Topic,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use std::sync::{Arc, Mutex};

/// Step kinds returned to Python as `(kind, argument)`.
const STEP_RUN: u8 = 0;
const STEP_FALLBACK: u8 = 1;
const STEP_DONE: u8 = 2;
const STEP_NOTHING: u8 = 3;

/// The Python class raised for invalid configurations (set by the package).
static INVALID_CONFIG: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn config_error(py: Python<'_>, e: ConfigError) -> PyErr {
    match INVALID_CONFIG.get(py) {
        Some(cls) => match cls.bind(py).call1((e.key().to_string(), e.to_string())) {
            Ok(exc) => PyErr::from_value(exc),
            Err(err) => err,
        },
        None => PyValueError::new_err(e.to_string()),
    }
}

fn parse_patch(py: Python<'_>, base: Config, patch: &Bound<'_, PyDict>) -> PyResult<Config> {
    match dict_to_json(patch)? {
        Ok(value) => base.patched(&value).map_err(|e| config_error(py, e)),
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
    fn with<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Command, &mut Execution) -> T + Send) -> T {
        py.detach(|| f(&self.cmd, &mut self.ex.lock().unwrap_or_else(|p| p.into_inner())))
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
        let step = self.with(py, |cmd, ex| ex.run_finished(cmd, now, outcome));
        step_tuple(py, step)
    }

    /// The run's timeout fired at `now`.
    fn timer_fired<'py>(&self, py: Python<'py>, now: u64) -> PyResult<Bound<'py, PyTuple>> {
        let step = self.with(py, |cmd, ex| ex.timer_fired(cmd, now));
        step_tuple(py, step)
    }

    /// The run really stopped after a timeout: release its permit.
    fn run_stopped(&self, py: Python<'_>) {
        self.with(py, |cmd, ex| ex.run_stopped(cmd));
    }

    /// The fallback settled.
    fn fallback_finished<'py>(&self, py: Python<'py>, now: u64, ok: bool) -> PyResult<Bound<'py, PyTuple>> {
        let step = self.with(py, |cmd, ex| ex.fallback_finished(cmd, now, ok));
        step_tuple(py, step)
    }

    /// The caller gave up: release everything without recording an outcome.
    fn abandon(&self, py: Python<'_>, now: u64) {
        self.with(py, |cmd, ex| ex.abandon(cmd, now));
    }

    /// The events this call recorded, in order.
    fn events(&self, py: Python<'_>) -> Vec<&'static str> {
        self.with(py, |_, ex| ex.events().map(|e| e.as_str()).collect())
    }

    /// Whether the run still holds its bulkhead permit.
    #[getter]
    fn holds_permit(&self, py: Python<'_>) -> bool {
        self.with(py, |_, ex| ex.holds_permit())
    }

    /// Whether the call has settled.
    #[getter]
    fn is_done(&self, py: Python<'_>) -> bool {
        self.with(py, |_, ex| ex.is_done())
    }

    /// Why the fallback was wanted (`failure`, `timeout`, `short_circuited`,
    /// `rejected`), once it was.
    #[getter]
    fn cause(&self, py: Python<'_>) -> Option<&'static str> {
        self.with(py, |_, ex| ex.cause().map(|k| k.as_str()))
    }
}

/// A command's shared state: circuit, bulkhead, metrics. Time is passed in.
#[pyclass(frozen, module = "hystrix._hystrix")]
struct NativeCommand {
    cmd: Command,
    clock: Arc<PyClock>,
}

#[pymethods]
impl NativeCommand {
    #[new]
    #[pyo3(signature = (name, config, clock=None))]
    fn new(py: Python<'_>, name: &str, config: &Bound<'_, PyDict>, clock: Option<Py<PyAny>>) -> PyResult<Self> {
        let config = parse_patch(py, Config::default(), config)?;
        let py_clock = Arc::new(PyClock::default());
        py_clock.set(clock);
        let cmd = Command::with_clock(name, config, py_clock.clone()).map_err(|e| config_error(py, e))?;
        Ok(NativeCommand { cmd, clock: py_clock })
    }

    /// Reads time from `clock.now()` from now on (`None`: the native monotonic clock).
    fn set_clock(&self, clock: Option<Py<PyAny>>) {
        self.clock.set(clock);
    }

    /// The command's current time in milliseconds.
    fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The command's name.
    #[getter]
    fn name(&self) -> &str {
        self.cmd.name()
    }

    /// Starts a call at `now`: returns `(execution, step)`.
    fn start<'py>(
        &self,
        py: Python<'py>,
        now: u64,
        has_fallback: bool,
    ) -> PyResult<(NativeExecution, Bound<'py, PyTuple>)> {
        let (ex, step) = Execution::start(&self.cmd, now, has_fallback);
        Ok((NativeExecution { cmd: self.cmd.clone(), ex: Mutex::new(ex) }, step_tuple(py, step)?))
    }

    /// The configuration in force, as a dict of SPEC keys.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(self.cmd.config()).map_err(|e| PyValueError::new_err(e.to_string()))?;
        json_to_py(py, &value)
    }

    /// Changes the keys in `patch` (validated as a whole; nothing changes on error).
    fn configure<'py>(&self, py: Python<'py>, patch: &Bound<'_, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let next = parse_patch(py, self.cmd.config(), patch)?;
        self.cmd.set_config(next).map_err(|e| config_error(py, e))?;
        self.config(py)
    }

    /// A snapshot at `now` as a dict.
    fn snapshot<'py>(&self, py: Python<'py>, now: u64) -> PyResult<Bound<'py, PyAny>> {
        let value =
            serde_json::to_value(self.cmd.snapshot_at(now)).map_err(|e| PyValueError::new_err(e.to_string()))?;
        json_to_py(py, &value)
    }

    /// Subscribes `callback`: topic "event" calls `callback(name, event, at_ms)`,
    /// topic "state" calls `callback(name, from_state, to_state, at_ms)`.
    /// Exceptions it raises are reported as unraisable, never propagated.
    fn subscribe(&self, topic: &str, callback: Py<PyAny>) -> PyResult<u64> {
        let topic = match topic {
            "event" => Topic::Events,
            "state" => Topic::Transitions,
            other => return Err(PyValueError::new_err(format!("topic must be 'event' or 'state', got {other:?}"))),
        };
        let id = self.cmd.subscribe(topic, move |n| {
            Python::attach(|py| {
                let f = callback.bind(py);
                let result = match n {
                    Notice::Event { command, event, at_ms } => f.call1((*command, event.as_str(), *at_ms)),
                    Notice::Transition { command, from, to, at_ms } => {
                        f.call1((*command, from.as_str(), to.as_str(), *at_ms))
                    }
                };
                if let Err(e) = result {
                    e.write_unraisable(py, Some(f));
                }
            })
        });
        Ok(id.raw())
    }

    /// Removes a listener; whether it was subscribed.
    fn unsubscribe(&self, id: u64) -> bool {
        self.cmd.unsubscribe(ListenerId::from_raw(id))
    }
}

/// Validates a configuration dict; returns the full configuration.
#[pyfunction]
fn validate_config<'py>(py: Python<'py>, config: &Bound<'_, PyDict>) -> PyResult<Bound<'py, PyAny>> {
    let c = parse_patch(py, Config::default(), config)?;
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
    m.add_function(wrap_pyfunction!(errors::_set_error_classes, m)?)?;
    m.add_function(wrap_pyfunction!(_set_invalid_config_error, m)?)?;
    m.add("STEP_RUN", STEP_RUN)?;
    m.add("STEP_FALLBACK", STEP_FALLBACK)?;
    m.add("STEP_DONE", STEP_DONE)?;
    m.add("STEP_NOTHING", STEP_NOTHING)?;
    Ok(())
}
