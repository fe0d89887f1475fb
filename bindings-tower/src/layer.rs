//! [`HystrixLayer`]: wraps a tower service so that every call goes through
//! one hystrix command.

use crate::attempts::{EveryAttempt, OneAttempt};
use crate::classify::{AllFailures, BadRequestIf};
use crate::fallback::{FallbackFn, NoFallback};
use crate::service::HystrixService;
use hystrix_core::{Command, Timer};
use std::fmt;
use std::sync::Arc;
use tower_layer::Layer;

/// A [`Layer`] that runs each call of the service it wraps through
/// `command`: the circuit breaker, bulkhead, timeout, rate limiter,
/// deadline, retry with backoff, hedging and (if given) a fallback, as the
/// command is configured. The core's async driver decides everything; the
/// layer only turns a request into the driver's run and its answer into
/// the response.
///
/// `S` is the call's time source (a [`Timer`]: the driver reads every time
/// of a call from it and arms its timers with it); `M` is [`EveryAttempt`] (the
/// default) or [`OneAttempt`]; `F` is the fallback ([`NoFallback`] unless
/// [`fallback`](HystrixLayer::fallback) gave one); `C` sorts the inner
/// service's errors into failures and bad requests ([`AllFailures`] unless
/// [`bad_request_if`](HystrixLayer::bad_request_if) gave a rule).
///
/// Every service the layer makes shares the one command, so they share one
/// circuit, one bulkhead and one set of metrics.
pub struct HystrixLayer<S, M = EveryAttempt, F = NoFallback, C = AllFailures> {
    command: Command,
    sleeper: Arc<S>,
    mode: M,
    fallback: F,
    classify: C,
}

#[cfg(feature = "tokio")]
impl HystrixLayer<crate::TokioSleeper> {
    /// A layer running calls through `command`, with its timers on tokio
    /// ([`TokioSleeper`](crate::TokioSleeper) on the command's clock).
    /// The services it makes must be called inside a tokio runtime with
    /// its time driver enabled.
    pub fn new(command: Command) -> Self {
        let sleeper = crate::TokioSleeper::for_command(&command);
        HystrixLayer::with_sleeper(command, sleeper)
    }
}

impl<S: Timer> HystrixLayer<S> {
    /// A layer running calls through `command`, with the calls' times read
    /// from `sleeper` and their timers armed by it — any runtime's timer
    /// with a clock, or a [`VirtualClock`](hystrix_core::VirtualClock) in
    /// tests.
    pub fn with_sleeper(command: Command, sleeper: S) -> Self {
        HystrixLayer {
            command,
            sleeper: Arc::new(sleeper),
            mode: EveryAttempt,
            fallback: NoFallback,
            classify: AllFailures,
        }
    }
}

impl<S, M, F, C> HystrixLayer<S, M, F, C> {
    /// The command every call goes through.
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// The same layer making one attempt per call, so that the request
    /// need not be `Clone` (see [`OneAttempt`]).
    pub fn one_attempt(self) -> HystrixLayer<S, OneAttempt, F, C> {
        HystrixLayer {
            command: self.command,
            sleeper: self.sleeper,
            mode: OneAttempt,
            fallback: self.fallback,
            classify: self.classify,
        }
    }

    /// The same layer with a fallback: once a call's attempts are over
    /// without a response (failure, timeout, circuit open, bulkhead full,
    /// rate limited), `fallback(&original_error)` is awaited and its
    /// answer returned, subject to the command's fallback settings
    /// (`fallback_enabled`, `fallback_max_concurrent_requests`). Annotate
    /// the argument, e.g. `|cause: &hystrix_core::Error<MyError>| async {
    /// Ok(cached()) }`, so that the closure accepts any borrow.
    pub fn fallback<G>(self, fallback: G) -> HystrixLayer<S, M, FallbackFn<G>, C> {
        HystrixLayer {
            command: self.command,
            sleeper: self.sleeper,
            mode: self.mode,
            fallback: FallbackFn(fallback),
            classify: self.classify,
        }
    }

    /// The same layer treating the inner errors `is_bad` says are the
    /// caller's fault as bad requests (semantics §3): returned as
    /// [`HystrixError::BadRequest`](crate::HystrixError::BadRequest),
    /// counted as `BAD_REQUEST` rather than against the circuit, with no
    /// fallback and no retry — for example a gRPC `InvalidArgument`.
    /// Annotate the argument: `|e: &MyError| e.is_invalid()`.
    pub fn bad_request_if<P>(self, is_bad: P) -> HystrixLayer<S, M, F, BadRequestIf<P>> {
        HystrixLayer {
            command: self.command,
            sleeper: self.sleeper,
            mode: self.mode,
            fallback: self.fallback,
            classify: BadRequestIf(is_bad),
        }
    }
}

impl<S, M: Clone, F: Clone, C: Clone> Clone for HystrixLayer<S, M, F, C> {
    fn clone(&self) -> Self {
        HystrixLayer {
            command: self.command.clone(),
            sleeper: self.sleeper.clone(),
            mode: self.mode.clone(),
            fallback: self.fallback.clone(),
            classify: self.classify.clone(),
        }
    }
}

impl<S, M, F, C> fmt::Debug for HystrixLayer<S, M, F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HystrixLayer")
            .field("command", &self.command.name())
            .field("mode", &std::any::type_name::<M>())
            .finish_non_exhaustive()
    }
}

impl<Svc, S, M: Clone, F: Clone, C: Clone> Layer<Svc> for HystrixLayer<S, M, F, C> {
    type Service = HystrixService<Svc, S, M, F, C>;

    fn layer(&self, inner: Svc) -> Self::Service {
        let (command, sleeper) = (self.command.clone(), self.sleeper.clone());
        HystrixService::new(inner, command, sleeper, self.mode.clone(), self.fallback.clone(), self.classify.clone())
    }
}
