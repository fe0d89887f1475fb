//! `NativeCall`: the core's call protocol ([`hystrix_core::Call`]) for the
//! Python interpreters of the package (`_sync.py`, `_threads.py`,
//! `_asyncio.py`). Every input returns the actions it caused, drained, as
//! one flat tuple of integers in groups of three — `(code, x, y)` — so a
//! call that succeeds at once costs two crossings (start, attempt ended).
//!
//! | code | action            | x                         | y                      |
//! |------|-------------------|---------------------------|------------------------|
//! | 0    | `SetTimer`        | timer                     | due time (ms)          |
//! | 1    | `ClearTimer`      | timer                     | 0                      |
//! | 2    | `InvokeAttempt`   | attempt (from 1)          | 0                      |
//! | 3    | `AbortAttempt`    | attempt                   | reason (error code)    |
//! | 4    | `InvokeFallback`  | original (see below)      | 0                      |
//! | 5    | `Settle` (run)    | the winning attempt       | 0                      |
//! | 6    | `Settle` (fallback)| 0                        | 0                      |
//! | 7    | `Settle` (error)  | error kind code           | original (see below)   |
//!
//! An original error is `k` (1 ≤ k < 2³²) for the error attempt `k`'s run
//! raised, `2³² + code` for an error of that kind the host makes, `0` for
//! none. Error codes are the core's stable ones (`ERROR_KINDS`).

use crate::{fork, pending};
use hystrix_core::{Action, AttemptId, Call, CallTimer, Input, Original, RunOutcome, Settlement};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::sync::Mutex;

pub(crate) const SET_TIMER: u64 = 0;
pub(crate) const CLEAR_TIMER: u64 = 1;
pub(crate) const INVOKE: u64 = 2;
pub(crate) const ABORT: u64 = 3;
pub(crate) const FALLBACK: u64 = 4;
pub(crate) const SETTLE_RUN: u64 = 5;
pub(crate) const SETTLE_FALLBACK: u64 = 6;
pub(crate) const SETTLE_ERROR: u64 = 7;
/// Added to an error code to say "an error of this kind" in an original.
pub(crate) const KIND_BASE: u64 = 1 << 32;

fn original(o: Option<Original>) -> u64 {
    match o {
        None => 0,
        Some(Original::Attempt(a)) => u64::from(a.0),
        Some(Original::Kind(k)) => KIND_BASE + u64::from(k.code()),
    }
}

/// Drains every action of `call` into `out`, three integers each.
fn drain(call: &mut Call, out: &mut Vec<u64>) {
    while let Some(action) = call.poll_action() {
        let (code, x, y) = match action {
            Action::SetTimer { timer, at } => (SET_TIMER, timer.0, at),
            Action::ClearTimer { timer } => (CLEAR_TIMER, timer.0, 0),
            Action::InvokeAttempt { attempt } => (INVOKE, u64::from(attempt.0), 0),
            Action::AbortAttempt { attempt, reason } => (ABORT, u64::from(attempt.0), u64::from(reason.code())),
            Action::InvokeFallback { original: o } => (FALLBACK, original(Some(o)), 0),
            Action::Settle(Settlement::Attempt(a)) => (SETTLE_RUN, u64::from(a.0), 0),
            Action::Settle(Settlement::Fallback) => (SETTLE_FALLBACK, 0, 0),
            Action::Settle(Settlement::Error { kind, original: o }) => {
                (SETTLE_ERROR, u64::from(kind.code()), original(o))
            }
        };
        out.extend_from_slice(&[code, x, y]);
    }
}

fn attempt_id(attempt: u64) -> AttemptId {
    AttemptId(u32::try_from(attempt).unwrap_or(u32::MAX))
}

/// One call through a command (see `hystrix_core::Call`): inputs in,
/// actions out. Released (every permit and slot it holds given back,
/// nothing recorded) by `release()` or when it is dropped.
#[pyclass(frozen, module = "hystrix._hystrix")]
pub(crate) struct NativeCall {
    call: Mutex<Option<Call>>,
}

impl NativeCall {
    /// Starts a call at `now`, with the GIL held: the call is not shared
    /// yet, so no other thread can wait for it (listeners run no lock held,
    /// as on the native semaphore path).
    pub(crate) fn start<'py>(
        py: Python<'py>,
        cmd: &hystrix_core::Command,
        now: u64,
        has_fallback: bool,
    ) -> PyResult<(NativeCall, Bound<'py, PyTuple>)> {
        let mut call = Call::start(cmd, now, has_fallback);
        let mut out = Vec::with_capacity(6);
        drain(&mut call, &mut out);
        let native = NativeCall { call: Mutex::new(Some(call)) };
        // A listener's KeyboardInterrupt: `native` is released as it drops.
        pending::check()?;
        Ok((native, PyTuple::new(py, out)?))
    }

    /// Feeds `input` at `now`; the actions it caused. The common case takes
    /// the call's lock at once and keeps the GIL (one crossing, no thread
    /// switch), counted as inside the core for `fork()` (see `fork`). If another thread holds the lock (it may be inside the core
    /// running a listener that needs the GIL), the GIL is released while
    /// waiting for it, so the two can never deadlock. A `KeyboardInterrupt`
    /// or `SystemExit` a listener raised meanwhile is raised here, after the
    /// input was applied; a call not settled yet is then released at once
    /// (the caller will not go on with it).
    fn feed<'py>(&self, py: Python<'py>, now: u64, input: Input) -> PyResult<Bound<'py, PyTuple>> {
        let apply = |guard: &mut Option<Call>| {
            let mut out = Vec::new();
            if let Some(call) = guard.as_mut() {
                call.handle(now, input);
                drain(call, &mut out);
            }
            out
        };
        let fast = fork::try_enter().and_then(|inside| match self.call.try_lock() {
            Ok(mut guard) => Some((apply(&mut guard), inside)),
            Err(std::sync::TryLockError::Poisoned(p)) => Some((apply(&mut p.into_inner()), inside)),
            Err(std::sync::TryLockError::WouldBlock) => None,
        });
        let out = match fast {
            Some((out, _inside)) => out,
            // Contended, or a fork under way: wait with the GIL released.
            None => py.detach(|| {
                let _inside = fork::enter();
                apply(&mut self.call.lock().unwrap_or_else(|p| p.into_inner()))
            }),
        };
        if let Some(interrupt) = pending::take() {
            py.detach(|| {
                let _inside = fork::enter();
                let mut guard = self.call.lock().unwrap_or_else(|p| p.into_inner());
                if guard.as_ref().is_some_and(|c| !c.is_settled()) {
                    drop(guard.take());
                }
            });
            return Err(interrupt);
        }
        PyTuple::new(py, out)
    }

    fn read<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Call) -> T + Send, absent: T) -> T {
        py.detach(|| {
            let guard = self.call.lock().unwrap_or_else(|p| p.into_inner());
            guard.as_ref().map_or(absent, f)
        })
    }
}

#[pymethods]
impl NativeCall {
    /// Attempt `attempt`'s run ended at `now`: outcome 0 = success,
    /// 1 = failure, 2 = bad request.
    fn ended<'py>(&self, py: Python<'py>, now: u64, attempt: u64, outcome: u8) -> PyResult<Bound<'py, PyTuple>> {
        let outcome = match outcome {
            0 => RunOutcome::Success,
            2 => RunOutcome::BadRequest,
            _ => RunOutcome::Failure,
        };
        self.feed(py, now, Input::AttemptEnded { attempt: attempt_id(attempt), outcome })
    }

    /// An aborted attempt's run has really stopped: its permit comes back.
    fn stopped<'py>(&self, py: Python<'py>, attempt: u64) -> PyResult<Bound<'py, PyTuple>> {
        self.feed(py, 0, Input::AttemptStopped { attempt: attempt_id(attempt) })
    }

    /// The fallback ended at `now`, with a value (`ok`) or an error.
    fn fallback_ended<'py>(&self, py: Python<'py>, now: u64, ok: bool) -> PyResult<Bound<'py, PyTuple>> {
        self.feed(py, now, Input::FallbackEnded { ok })
    }

    /// Timer `timer` is due at `now`.
    fn fired<'py>(&self, py: Python<'py>, now: u64, timer: u64) -> PyResult<Bound<'py, PyTuple>> {
        self.feed(py, now, Input::TimerFired { timer: CallTimer(timer) })
    }

    /// The caller cancelled the call at `now` (semantics §18).
    fn cancel<'py>(&self, py: Python<'py>, now: u64) -> PyResult<Bound<'py, PyTuple>> {
        self.feed(py, now, Input::Cancel)
    }

    /// Gives back everything the call holds at once, recording nothing
    /// (the caller was interrupted; its runs have stopped). Idempotent.
    fn release(&self, py: Python<'_>) {
        let call = py.detach(|| {
            let _inside = fork::enter();
            self.call.lock().unwrap_or_else(|p| p.into_inner()).take()
        });
        drop(call);
    }

    /// The events this call recorded, in order.
    fn events(&self, py: Python<'_>) -> Vec<&'static str> {
        self.read(py, |c| c.events().map(|e| e.as_str()).collect(), Vec::new())
    }

    /// Whether the caller has been settled (a released call counts as settled).
    #[getter]
    fn is_settled(&self, py: Python<'_>) -> bool {
        self.read(py, Call::is_settled, true)
    }

    /// Whether the call is over and holds nothing (a released call is).
    #[getter]
    fn is_finished(&self, py: Python<'_>) -> bool {
        self.read(py, Call::is_finished, true)
    }
}
