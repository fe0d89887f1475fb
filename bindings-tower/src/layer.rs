//! [`HystrixLayer`]: wraps a tower service so that every call goes through
//! one hystrix command.

use crate::attempts::{EveryAttempt, OneAttempt};
use crate::fallback::{FallbackFn, NoFallback};
use crate::service::HystrixService;
use hystrix_core::{Command, Sleeper};
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
/// `S` is the timer source the driver arms its timers with (a
/// [`Sleeper`] on the command's clock); `M` is [`EveryAttempt`] (the
/// default) or [`OneAttempt`]; `F` is the fallback ([`NoFallback`] unless
/// [`fallback`](HystrixLayer::fallback) gave one).
///
/// Every service the layer makes shares the one command, so they share one
/// circuit, one bulkhead and one set of metrics.
pub struct HystrixLayer<S, M = EveryAttempt, F = NoFallback> {
    command: Command,
    sleeper: Arc<S>,
    mode: M,
    fallback: F,
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

impl<S: Sleeper> HystrixLayer<S> {
    /// A layer running calls through `command`, with its timers armed by
    /// `sleeper` — any runtime's timer, or a
    /// [`VirtualClock`](hystrix_core::VirtualClock) in tests. `sleeper`
    /// must measure time on the command's clock.
    pub fn with_sleeper(command: Command, sleeper: S) -> Self {
        HystrixLayer { command, sleeper: Arc::new(sleeper), mode: EveryAttempt, fallback: NoFallback }
    }
}

impl<S, M, F> HystrixLayer<S, M, F> {
    /// The command every call goes through.
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// The same layer making one attempt per call, so that the request
    /// need not be `Clone` (see [`OneAttempt`]).
    pub fn one_attempt(self) -> HystrixLayer<S, OneAttempt, F> {
        HystrixLayer { command: self.command, sleeper: self.sleeper, mode: OneAttempt, fallback: self.fallback }
    }

    /// The same layer with a fallback: once a call's attempts are over
    /// without a response (failure, timeout, circuit open, bulkhead full,
    /// rate limited), `fallback(&original_error)` is awaited and its
    /// answer returned, subject to the command's fallback settings
    /// (`fallback_enabled`, `fallback_max_concurrent_requests`). Annotate
    /// the argument, e.g. `|cause: &hystrix_core::Error<MyError>| async {
    /// Ok(cached()) }`, so that the closure accepts any borrow.
    pub fn fallback<G>(self, fallback: G) -> HystrixLayer<S, M, FallbackFn<G>> {
        HystrixLayer { command: self.command, sleeper: self.sleeper, mode: self.mode, fallback: FallbackFn(fallback) }
    }
}

impl<S, M: Clone, F: Clone> Clone for HystrixLayer<S, M, F> {
    fn clone(&self) -> Self {
        HystrixLayer {
            command: self.command.clone(),
            sleeper: self.sleeper.clone(),
            mode: self.mode.clone(),
            fallback: self.fallback.clone(),
        }
    }
}

impl<S, M, F> fmt::Debug for HystrixLayer<S, M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HystrixLayer")
            .field("command", &self.command.name())
            .field("mode", &std::any::type_name::<M>())
            .finish_non_exhaustive()
    }
}

impl<Svc, S, M: Clone, F: Clone> Layer<Svc> for HystrixLayer<S, M, F> {
    type Service = HystrixService<Svc, S, M, F>;

    fn layer(&self, inner: Svc) -> Self::Service {
        HystrixService::new(inner, self.command.clone(), self.sleeper.clone(), self.fallback.clone(), self.mode.clone())
    }
}
