//! The error of a [`HystrixService`](crate::HystrixService) call: the inner
//! service's own error, or what hystrix decided instead.

use hystrix_core::{Context, ErrorKind, Fault};
use std::fmt;

/// Why a call through a [`HystrixService`](crate::HystrixService) gave no
/// response (and no fallback answered in its place).
///
/// With an inner error type that implements [`std::error::Error`] (`+ Send +
/// Sync + 'static`), this converts into [`tower::BoxError`] with `?` or
/// `.into()`, and [`source`](std::error::Error::source) is the inner error.
/// An inner service whose error already is a `BoxError` (such as one
/// behind other tower layers) gets a `HystrixError<BoxError>`: its
/// [`into_box_error`](HystrixError::into_box_error) makes the `BoxError`.
///
/// [`tower::BoxError`]: https://docs.rs/tower/latest/tower/type.BoxError.html
#[derive(Debug)]
#[non_exhaustive]
pub enum HystrixError<E> {
    /// The inner service failed with this error (the call's last attempt,
    /// or its readiness before a retry), counted as a failure by the
    /// command.
    Service(E),
    /// The inner service failed with an error the layer's
    /// [`bad_request_if`](crate::HystrixLayer::bad_request_if) rule calls
    /// the caller's fault: not counted against the circuit, no fallback,
    /// no retry.
    BadRequest(E),
    /// The inner service's future panicked; the driver caught it and
    /// counted a failure. The panic message, if it was a string.
    Panicked(String),
    /// Hystrix refused the call or stopped it: [`Context::kind`] says which
    /// — [`ErrorKind::Timeout`], [`ErrorKind::ShortCircuited`] (circuit
    /// open), [`ErrorKind::Rejected`] (bulkhead full) or
    /// [`ErrorKind::RateLimited`] — and the context names the command and
    /// the setting that decided it.
    Refused(Context),
    /// A fallback was wanted and did not answer: refused by its own limit
    /// (`fallback_rejected`) or failed (`fallback_failure`). The core's
    /// error carries the original cause and the fallback's own error.
    Fallback(Box<hystrix_core::Error<E>>),
}

impl<E> HystrixError<E> {
    /// The stable hystrix kind of this error (`Failure` for the inner
    /// service's error or panic).
    pub fn kind(&self) -> ErrorKind {
        match self {
            HystrixError::Service(_) | HystrixError::Panicked(_) => ErrorKind::Failure,
            HystrixError::BadRequest(_) => ErrorKind::BadRequest,
            HystrixError::Refused(context) => context.kind(),
            HystrixError::Fallback(error) => error.kind(),
        }
    }

    /// The inner service's error (a failure or a bad request), if that is
    /// what this is.
    pub fn service_error(&self) -> Option<&E> {
        match self {
            HystrixError::Service(e) | HystrixError::BadRequest(e) => Some(e),
            _ => None,
        }
    }

    /// The inner service's error (a failure or a bad request), if that is
    /// what this is; otherwise the error itself back.
    pub fn into_service_error(self) -> Result<E, Self> {
        match self {
            HystrixError::Service(e) | HystrixError::BadRequest(e) => Ok(e),
            other => Err(other),
        }
    }

    /// The command and setting behind a refusal or a timeout (`None` for
    /// the inner service's own error or panic).
    pub fn context(&self) -> Option<&Context> {
        match self {
            HystrixError::Refused(context) => Some(context),
            HystrixError::Fallback(error) => error.context(),
            HystrixError::Service(_) | HystrixError::BadRequest(_) | HystrixError::Panicked(_) => None,
        }
    }

    /// The same error with the inner service's error (wherever it appears,
    /// including inside a fallback's error) passed through `f`.
    pub fn map_service_error<E2>(self, mut f: impl FnMut(E) -> E2) -> HystrixError<E2> {
        match self {
            HystrixError::Service(e) => HystrixError::Service(f(e)),
            HystrixError::BadRequest(e) => HystrixError::BadRequest(f(e)),
            HystrixError::Panicked(message) => HystrixError::Panicked(message),
            HystrixError::Refused(context) => HystrixError::Refused(context),
            HystrixError::Fallback(error) => HystrixError::Fallback(Box::new(map_core(*error, &mut f))),
        }
    }
}

/// A core error with every host error in it passed through `f`.
fn map_core<E, E2>(error: hystrix_core::Error<E>, f: &mut impl FnMut(E) -> E2) -> hystrix_core::Error<E2> {
    use hystrix_core::Error as Core;
    let fault = |fault: Fault<E>, f: &mut dyn FnMut(E) -> E2| match fault {
        Fault::Error(e) => Fault::Error(f(e)),
        Fault::Panic(message) => Fault::Panic(message),
    };
    match error {
        Core::Failure(inner) => Core::Failure(fault(inner, f)),
        Core::BadRequest(e) => Core::BadRequest(f(e)),
        Core::Timeout(c) => Core::Timeout(c),
        Core::ShortCircuited(c) => Core::ShortCircuited(c),
        Core::Rejected(c) => Core::Rejected(c),
        Core::RateLimited(c) => Core::RateLimited(c),
        Core::FallbackRejected { original, context } => {
            Core::FallbackRejected { original: Box::new(map_core(*original, f)), context }
        }
        Core::FallbackFailure { original, fallback, context } => {
            Core::FallbackFailure { original: Box::new(map_core(*original, f)), fallback: fault(fallback, f), context }
        }
        Core::InvalidConfig(e) => Core::InvalidConfig(e),
        // `hystrix_core::Error` is non-exhaustive; every variant of this
        // core version is above.
        #[allow(unreachable_patterns)]
        other => unreachable!("hystrix-core error variant unknown to hystrix-tower: {:?}", other.kind()),
    }
}

/// Type-erased error of a tower service: what a `HystrixError<BoxError>`
/// holds once boxed (see [`HystrixError::into_box_error`]).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An inner service's [`BoxError`] as an error type of its own, so that a
/// `HystrixError` holding one implements [`std::error::Error`]: displays as
/// the boxed error, whose own source is its source.
#[derive(Debug)]
pub struct BoxedError(pub BoxError);

impl fmt::Display for BoxedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BoxedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl HystrixError<BoxError> {
    /// This error as a [`BoxError`] (for an inner service whose error is a
    /// `BoxError` already, where `.into()` does not apply): a boxed
    /// `HystrixError<BoxedError>`, so `downcast_ref::<HystrixError<BoxedError>>()`
    /// gets it back.
    pub fn into_box_error(self) -> BoxError {
        Box::new(self.map_service_error(BoxedError))
    }
}

impl<E> From<hystrix_core::Error<E>> for HystrixError<E> {
    /// Sorts a command's error: the run's own error or panic, a refusal or
    /// timeout, a bad request, or a fallback's refusal or failure.
    fn from(error: hystrix_core::Error<E>) -> Self {
        use hystrix_core::Error as Core;
        match error {
            Core::Failure(Fault::Error(e)) => HystrixError::Service(e),
            Core::BadRequest(e) => HystrixError::BadRequest(e),
            Core::Failure(Fault::Panic(message)) => HystrixError::Panicked(message),
            Core::Timeout(c) | Core::ShortCircuited(c) | Core::Rejected(c) | Core::RateLimited(c) => {
                HystrixError::Refused(c)
            }
            other => HystrixError::Fallback(Box::new(other)),
        }
    }
}

impl<E: fmt::Display> fmt::Display for HystrixError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The inner error is the `source`, not repeated here.
            HystrixError::Service(_) => f.write_str("the inner service failed"),
            HystrixError::BadRequest(_) => f.write_str("the inner service refused a bad request"),
            HystrixError::Panicked(message) => write!(f, "the inner service panicked: {message}"),
            HystrixError::Refused(context) => context.fmt(f),
            HystrixError::Fallback(error) => error.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for HystrixError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HystrixError::Service(e) | HystrixError::BadRequest(e) => Some(e),
            _ => None,
        }
    }
}
