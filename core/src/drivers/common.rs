//! What the sync and async drivers share: turning a run's or a fallback's
//! result (with panics caught as messages) into events and the caller's
//! error values.

use crate::call::execution::{Resolution, RunOutcome};
use crate::call::{AttemptId, Original, Settlement};
use crate::command::Command;
use crate::error::{Error, ErrorKind, Fault, RunError};
use smallvec::SmallVec;

/// A run's result: its value, or the outcome to record and the original
/// error to hand the fallback (or the caller).
pub(crate) fn classify_run<T, E>(result: Result<Result<T, RunError<E>>, String>) -> Result<T, (RunOutcome, Error<E>)> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(RunError::BadRequest(e))) => Err((RunOutcome::BadRequest, Error::BadRequest(e))),
        Ok(Err(RunError::Failure(e))) => Err((RunOutcome::Failure, Error::Failure(Fault::Error(e)))),
        Err(msg) => Err((RunOutcome::Failure, Error::Failure(Fault::Panic(msg)))),
    }
}

/// The caller's result once the fallback settled. Inlined, with the
/// failure out of line: on the common path (the fallback answered) the
/// original error is dropped where it was made, not moved into a call.
#[inline(always)]
pub(crate) fn after_fallback<T, E>(
    cmd: &Command,
    original: Error<E>,
    result: Result<Result<T, E>, String>,
) -> Result<T, Error<E>> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(fallback_failure(cmd, original, Fault::Error(e))),
        Err(msg) => Err(fallback_failure(cmd, original, Fault::Panic(msg))),
    }
}

/// The error of a fallback that failed with `fallback` after `original`.
#[cold]
#[inline(never)]
fn fallback_failure<E>(cmd: &Command, original: Error<E>, fallback: Fault<E>) -> Error<E> {
    Error::FallbackFailure { original: Box::new(original), fallback, context: cmd.context(ErrorKind::FallbackFailure) }
}

/// The error for a refusal at admission.
pub(crate) fn refusal<E>(cmd: &Command, kind: ErrorKind) -> Error<E> {
    match kind {
        ErrorKind::ShortCircuited => Error::ShortCircuited(cmd.context(kind)),
        _ => Error::Rejected(cmd.context(ErrorKind::Rejected)),
    }
}

/// The error of a kind the host makes (an [`Original::Kind`]).
fn kind_error<E>(cmd: &Command, kind: ErrorKind, elapsed_ms: u64) -> Error<E> {
    match kind {
        ErrorKind::Timeout => Error::Timeout(cmd.timeout_context(elapsed_ms)),
        ErrorKind::RateLimited => Error::RateLimited(cmd.context(kind)),
        other => refusal(cmd, other),
    }
}

/// Takes the entry of one timer out of a driver's armed timers, if it is
/// there. A call names each timer once, and a driver removes a timer's
/// entry before arming it again, so there is at most one: the first match
/// is the only one (a lookup and a removal, not a pass over every entry).
#[inline]
pub(crate) fn disarm<A: smallvec::Array>(timers: &mut SmallVec<A>, is_it: impl Fn(&A::Item) -> bool) {
    if let Some(i) = timers.iter().position(is_it) {
        timers.remove(i);
    }
}

/// What the drivers over a [`Call`](crate::Call) keep of its attempts and
/// fallback, to hand the caller the values and errors a settlement names.
pub(crate) struct Results<T, E> {
    /// Values of attempts that ended with one (the winner's is taken).
    values: SmallVec<[(AttemptId, T); 1]>,
    /// Errors of attempts that failed (or panicked), for `Original::Attempt`
    /// (inline room for a retried call's first two).
    errors: SmallVec<[(AttemptId, Error<E>); 2]>,
    /// The original error the fallback was invoked with.
    original: Option<Error<E>>,
    /// The fallback's result, once it ended.
    fallback: Option<Result<Result<T, E>, String>>,
    /// When the call started (a timeout at or past `deadline_ms` from here
    /// names `deadline_ms`).
    started_at: u64,
}

impl<T, E> Results<T, E> {
    pub(crate) fn new(started_at: u64) -> Self {
        Results { values: SmallVec::new(), errors: SmallVec::new(), original: None, fallback: None, started_at }
    }

    /// Keeps what an attempt's run ended with; the outcome to feed in.
    pub(crate) fn attempt_ended(
        &mut self,
        attempt: AttemptId,
        result: Result<Result<T, RunError<E>>, String>,
    ) -> RunOutcome {
        match classify_run(result) {
            Ok(value) => {
                self.values.push((attempt, value));
                RunOutcome::Success
            }
            Err((outcome, error)) => {
                self.errors.push((attempt, error));
                outcome
            }
        }
    }

    /// The original error `original` names, taken out of the results
    /// (`now` reads the call's clock: an error of a kind says how long the
    /// call took).
    pub(crate) fn take_original(&mut self, cmd: &Command, original: Original, now: impl Fn() -> u64) -> Error<E> {
        match original {
            Original::Attempt(id) => match self.errors.iter().position(|(a, _)| *a == id) {
                Some(i) => self.errors.swap_remove(i).1,
                // Only failed attempts are named; kept for safety.
                None => Error::Failure(Fault::Panic("the attempt's error is gone".to_string())),
            },
            Original::Kind(kind) => kind_error(cmd, kind, now().saturating_sub(self.started_at)),
        }
    }

    /// Keeps the error the fallback was invoked with.
    pub(crate) fn fallback_invoked(&mut self, original: Error<E>) {
        self.original = Some(original);
    }

    /// Keeps the fallback's result; whether it is a value.
    pub(crate) fn fallback_ended(&mut self, result: Result<Result<T, E>, String>) -> bool {
        let ok = matches!(result, Ok(Ok(_)));
        self.fallback = Some(result);
        ok
    }

    /// The caller's result for the call's settlement (`now` as in
    /// [`Results::take_original`]).
    pub(crate) fn settle(
        mut self,
        cmd: &Command,
        settlement: Settlement,
        now: impl Fn() -> u64,
    ) -> Result<T, Error<E>> {
        match settlement {
            Settlement::Attempt(id) => {
                let i = self.values.iter().position(|(a, _)| *a == id).expect("the winner's value is kept");
                Ok(self.values.swap_remove(i).1)
            }
            Settlement::Fallback | Settlement::Error { kind: ErrorKind::FallbackFailure, .. } => {
                let original = self.original.take().expect("a fallback ran with its original error");
                after_fallback(cmd, original, self.fallback.take().expect("the fallback ended"))
            }
            Settlement::Error { kind: ErrorKind::FallbackRejected, original } => {
                let original = original.expect("a refused fallback has an original error");
                let original = Box::new(self.take_original(cmd, original, now));
                Err(Error::FallbackRejected { original, context: cmd.context(ErrorKind::FallbackRejected) })
            }
            Settlement::Error { original: Some(original), .. } => Err(self.take_original(cmd, original, now)),
            Settlement::Error { original: None, .. } => {
                unreachable!("the drivers never cancel a call: dropping the call is cancellation")
            }
        }
    }
}

/// The caller's error for a call settled with `resolution` without a
/// fallback value, given the original error.
pub(crate) fn settle_error<E>(cmd: &Command, resolution: Resolution, original: Error<E>) -> Error<E> {
    match resolution {
        Resolution::Error(ErrorKind::FallbackRejected) => {
            Error::FallbackRejected { original: Box::new(original), context: cmd.context(ErrorKind::FallbackRejected) }
        }
        _ => original,
    }
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
