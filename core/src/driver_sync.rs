//! The synchronous driver (the seed's `Execute`), semaphore-style: the run
//! executes on the caller's thread and is never interrupted.
//!
//! Timeouts, exactly: the clock is read when the call is admitted and again
//! when the run returns. If the run returned at or after its deadline
//! (`start + timeout_ms`), its result is discarded (a value is dropped),
//! `TIMEOUT` is recorded at the time it returned, its permit is released,
//! and the fallback runs — as if the timeout had fired while the run
//! ignored cancellation. A closed-state success costs two clock reads.

use crate::command::Command;
use crate::error::{Error, ErrorKind, Fault, RunError};
use crate::execution::{Execution, Resolution, RunOutcome, Step};
use std::panic::{catch_unwind, AssertUnwindSafe};

impl Command {
    /// Runs `run` through the command with no fallback. A run that fails
    /// returns [`Error::Failure`] with its own error; see the module docs
    /// for how timeouts behave.
    pub fn execute<T, E>(&self, run: impl FnOnce() -> Result<T, RunError<E>>) -> Result<T, Error<E>> {
        execute_sync(self, run, None::<fn(&Error<E>) -> Result<T, E>>)
    }

    /// Runs `run` through the command; on failure, timeout, short-circuit or
    /// rejection calls `fallback` with the original error.
    pub fn execute_or<T, E>(
        &self,
        run: impl FnOnce() -> Result<T, RunError<E>>,
        fallback: impl FnOnce(&Error<E>) -> Result<T, E>,
    ) -> Result<T, Error<E>> {
        execute_sync(self, run, Some(fallback))
    }
}

fn execute_sync<T, E, R, F>(cmd: &Command, run: R, fallback: Option<F>) -> Result<T, Error<E>>
where
    R: FnOnce() -> Result<T, RunError<E>>,
    F: FnOnce(&Error<E>) -> Result<T, E>,
{
    let clock = cmd.clock();
    let (mut ex, mut step) = Execution::start(cmd, clock.now_ms(), fallback.is_some());
    let original = match step {
        Step::Run { deadline } => {
            let result = catch_unwind(AssertUnwindSafe(run));
            let end = clock.now_ms();
            if deadline.is_some_and(|d| end >= d) {
                step = ex.timer_fired(cmd, end);
                ex.run_stopped(cmd);
                Error::Timeout
            } else {
                let (outcome, error) = match result {
                    Ok(Ok(value)) => {
                        ex.run_finished(cmd, end, RunOutcome::Success);
                        return Ok(value);
                    }
                    Ok(Err(RunError::BadRequest(e))) => (RunOutcome::BadRequest, Error::BadRequest(e)),
                    Ok(Err(RunError::Failure(e))) => (RunOutcome::Failure, Error::Failure(Fault::Error(e))),
                    Err(panic) => (RunOutcome::Failure, Error::Failure(Fault::Panic(panic_message(&*panic)))),
                };
                step = ex.run_finished(cmd, end, outcome);
                error
            }
        }
        Step::Fallback { cause } | Step::Done(Resolution::Error(cause)) => refusal(cause),
        Step::Done(_) | Step::Nothing => unreachable!("admission ends in a run, a fallback or an error"),
    };
    match step {
        Step::Fallback { .. } => {
            let fallback = fallback.expect("a fallback step implies a fallback");
            let result = catch_unwind(AssertUnwindSafe(|| fallback(&original)));
            let ok = matches!(result, Ok(Ok(_)));
            ex.fallback_finished(cmd, clock.now_ms(), ok);
            match result {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(fallback_failure(original, Fault::Error(e))),
                Err(panic) => Err(fallback_failure(original, Fault::Panic(panic_message(&*panic)))),
            }
        }
        Step::Done(resolution) => Err(settle_error(resolution, original)),
        Step::Run { .. } | Step::Nothing => unreachable!("a run outcome ends in a fallback or a result"),
    }
}

/// The error for a refusal at admission.
pub(crate) fn refusal<E>(kind: ErrorKind) -> Error<E> {
    match kind {
        ErrorKind::ShortCircuited => Error::ShortCircuited,
        _ => Error::Rejected,
    }
}

/// The caller's error for a call settled with `resolution`, given the
/// original error (what the run or admission produced).
pub(crate) fn settle_error<E>(resolution: Resolution, original: Error<E>) -> Error<E> {
    match resolution {
        Resolution::Error(ErrorKind::FallbackRejected) => Error::FallbackRejected { original: Box::new(original) },
        _ => original,
    }
}

pub(crate) fn fallback_failure<E>(original: Error<E>, fallback: Fault<E>) -> Error<E> {
    Error::FallbackFailure { original: Box::new(original), fallback }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
