//! The one error taxonomy (SPEC §3): kinds with stable codes, and the error
//! values that carry the host's own errors back to the caller.

pub use crate::error_context::{Context, CONTEXT_SETTINGS, CONTEXT_SETTINGS_JOINED};
pub use crate::settings_conflict::{SettingsConflict, SettingsError};
use std::fmt;

/// The closed set of error kinds, each with a stable numeric code that every
/// binding exposes unchanged (C status values, JS `.code`, Python `.code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The run failed; carries the run's own error.
    Failure = 1,
    /// The run was still going when its timeout fired.
    Timeout = 2,
    /// The circuit refused the call.
    ShortCircuited = 3,
    /// The bulkhead refused the call.
    Rejected = 4,
    /// The run failed with an error the caller marked as its own fault.
    BadRequest = 5,
    /// Too many fallbacks were in flight.
    FallbackRejected = 6,
    /// The fallback failed; carries both the original and the fallback's error.
    FallbackFailure = 7,
    /// A configuration broke a rule; names the key.
    InvalidConfig = 8,
    /// The caller cancelled the call before it settled (SPEC §18). Never an
    /// original error: no fallback sees it.
    Cancelled = 9,
    /// The rate limiter refused the call (SPEC §13, §16); an original
    /// error, so a fallback sees it.
    RateLimited = 10,
    /// A command of that name already exists with a different value for a
    /// setting the new construction gave (semantics §2, "One command per
    /// name"); names the command, the key and both values.
    SettingsConflict = 11,
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Failure,
        ErrorKind::Timeout,
        ErrorKind::ShortCircuited,
        ErrorKind::Rejected,
        ErrorKind::BadRequest,
        ErrorKind::FallbackRejected,
        ErrorKind::FallbackFailure,
        ErrorKind::InvalidConfig,
        ErrorKind::Cancelled,
        ErrorKind::RateLimited,
        ErrorKind::SettingsConflict,
    ];

    /// The stable numeric code (1..=11).
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The SPEC name, e.g. `"short_circuited"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Failure => "failure",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ShortCircuited => "short_circuited",
            ErrorKind::Rejected => "rejected",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::FallbackRejected => "fallback_rejected",
            ErrorKind::FallbackFailure => "fallback_failure",
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::SettingsConflict => "settings_conflict",
        }
    }

    /// Parses a SPEC name.
    pub fn parse(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A short human description.
    pub const fn description(self) -> &'static str {
        match self {
            ErrorKind::Failure => "the run failed",
            ErrorKind::Timeout => "the run timed out",
            ErrorKind::ShortCircuited => "the circuit is open",
            ErrorKind::Rejected => "the bulkhead is full",
            ErrorKind::BadRequest => "the run refused a bad request",
            ErrorKind::FallbackRejected => "too many fallbacks in flight",
            ErrorKind::FallbackFailure => "the fallback failed",
            ErrorKind::InvalidConfig => "invalid configuration",
            ErrorKind::Cancelled => "the caller cancelled the call",
            ErrorKind::RateLimited => "the rate limiter refused the call",
            ErrorKind::SettingsConflict => "a command of that name exists with other settings",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configuration that broke a rule of SPEC §2, naming the offending key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    key: String,
    reason: String,
}

impl ConfigError {
    /// An error about `key` (a SPEC key, or `"config"` for the whole value).
    pub fn new(key: &str, reason: String) -> ConfigError {
        ConfigError { key: key.to_string(), reason }
    }

    /// The offending key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What was wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid config: {} {}", self.key, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// What a host callback (run or fallback) failed with: its own error value,
/// or a panic caught by the driver.
#[derive(Debug)]
pub enum Fault<E> {
    /// The callback's own error value.
    Error(E),
    /// The callback panicked; the panic message, if it was a string.
    Panic(String),
}

impl<E: fmt::Display> fmt::Display for Fault<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Error(e) => e.fmt(f),
            Fault::Panic(msg) => write!(f, "panicked: {msg}"),
        }
    }
}

/// How a run reports failure to the async and sync drivers: a plain failure
/// (counted in health, falls back) or a bad request (the caller's own fault:
/// not counted, no fallback). `?` on any `E` gives a `Failure`.
#[derive(Debug)]
pub enum RunError<E> {
    /// The run failed.
    Failure(E),
    /// The run refused a bad request.
    BadRequest(E),
}

impl<E> From<E> for RunError<E> {
    fn from(e: E) -> Self {
        RunError::Failure(e)
    }
}

/// The error a caller gets from a command, carrying the host's own values.
/// Every error hystrix makes itself carries a [`Context`]: the command's
/// name and the setting that decided it, so its message names both.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The run failed (and no fallback answered): the run's own error.
    Failure(Fault<E>),
    /// The run timed out (and no fallback answered); the context names
    /// `timeout_ms` and its value.
    Timeout(Context),
    /// The circuit was open (and no fallback answered); the context names
    /// `sleep_window_ms` (or `force_open`).
    ShortCircuited(Context),
    /// The bulkhead was full (and no fallback answered); the context names
    /// `max_concurrent_requests` (or `limit`, the adaptive limit in force).
    Rejected(Context),
    /// The run refused a bad request; no fallback was tried.
    BadRequest(E),
    /// The rate limiter refused the call (and no fallback answered); the
    /// context names `rate_limit_for_period`.
    RateLimited(Context),
    /// The fallback was refused by its own concurrency limit.
    FallbackRejected {
        /// Why the fallback was wanted.
        original: Box<Error<E>>,
        /// The command and `fallback_max_concurrent_requests`.
        context: Context,
    },
    /// The fallback failed too.
    FallbackFailure {
        /// Why the fallback was wanted.
        original: Box<Error<E>>,
        /// What the fallback failed with.
        fallback: Fault<E>,
        /// The command (no setting).
        context: Context,
    },
    /// The configuration was refused.
    InvalidConfig(ConfigError),
}

impl<E> Error<E> {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Failure(_) => ErrorKind::Failure,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::ShortCircuited(_) => ErrorKind::ShortCircuited,
            Error::Rejected(_) => ErrorKind::Rejected,
            Error::BadRequest(_) => ErrorKind::BadRequest,
            Error::RateLimited(_) => ErrorKind::RateLimited,
            Error::FallbackRejected { .. } => ErrorKind::FallbackRejected,
            Error::FallbackFailure { .. } => ErrorKind::FallbackFailure,
            Error::InvalidConfig(_) => ErrorKind::InvalidConfig,
        }
    }

    /// The stable numeric code of this error's kind.
    pub fn code(&self) -> u32 {
        self.kind().code()
    }

    /// The command and setting behind an error hystrix made (`None` for the
    /// run's own failure or bad request, and for a refused configuration).
    pub fn context(&self) -> Option<&Context> {
        match self {
            Error::Timeout(c) | Error::ShortCircuited(c) | Error::Rejected(c) | Error::RateLimited(c) => Some(c),
            Error::FallbackRejected { context, .. } | Error::FallbackFailure { context, .. } => Some(context),
            Error::Failure(_) | Error::BadRequest(_) | Error::InvalidConfig(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Failure(fault) => write!(f, "{}: {fault}", self.kind().description()),
            Error::BadRequest(e) => write!(f, "{}: {e}", self.kind().description()),
            Error::FallbackRejected { original, context } => write!(f, "{context} (after: {original})"),
            Error::FallbackFailure { original, fallback, context } => {
                write!(f, "{context}: {fallback} (after: {original})")
            }
            Error::InvalidConfig(e) => e.fmt(f),
            Error::Timeout(c) | Error::ShortCircuited(c) | Error::Rejected(c) | Error::RateLimited(c) => c.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for Error<E> {}

impl<E> From<ConfigError> for Error<E> {
    fn from(e: ConfigError) -> Self {
        Error::InvalidConfig(e)
    }
}
