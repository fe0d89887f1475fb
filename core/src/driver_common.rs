//! What the sync and async drivers share: turning a run's or a fallback's
//! result (with panics caught as messages) into events and the caller's
//! error values.

use crate::call::execution::{Resolution, RunOutcome};
use crate::error::{Error, ErrorKind, Fault, RunError};

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

/// The caller's result once the fallback settled.
pub(crate) fn after_fallback<T, E>(original: Error<E>, result: Result<Result<T, E>, String>) -> Result<T, Error<E>> {
    let fallback = match result {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(e)) => Fault::Error(e),
        Err(msg) => Fault::Panic(msg),
    };
    Err(Error::FallbackFailure { original: Box::new(original), fallback })
}

/// The error for a refusal at admission.
pub(crate) fn refusal<E>(kind: ErrorKind) -> Error<E> {
    match kind {
        ErrorKind::ShortCircuited => Error::ShortCircuited,
        _ => Error::Rejected,
    }
}

/// The caller's error for a call settled with `resolution` without a
/// fallback value, given the original error.
pub(crate) fn settle_error<E>(resolution: Resolution, original: Error<E>) -> Error<E> {
    match resolution {
        Resolution::Error(ErrorKind::FallbackRejected) => Error::FallbackRejected { original: Box::new(original) },
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
