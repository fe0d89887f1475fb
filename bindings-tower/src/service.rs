//! [`HystrixService`]: the service [`HystrixLayer`](crate::HystrixLayer)
//! makes; each call is one hystrix call through the command.

use crate::attempts::{EveryAttempt, OneAttempt};
use crate::classify::{AllFailures, Classify};
use crate::error::HystrixError;
use crate::fallback::Fallback;
use hystrix_core::{Command, RunError, Timer};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

/// The response future of a [`HystrixService`]: the whole hystrix call.
/// Dropping it before it completes cancels the call (semantics §18.1): the
/// inner service's futures are dropped, every attempt in flight records
/// `CANCELLED` and the bulkhead permits are given back at once.
pub type ResponseFuture<Resp, E> = Pin<Box<dyn Future<Output = Result<Resp, HystrixError<E>>> + Send>>;

/// A tower service running each call of `Svc` through a hystrix command
/// (made by [`HystrixLayer`](crate::HystrixLayer)).
///
/// - `poll_ready` is the inner service's readiness, unchanged (its error
///   comes back as [`HystrixError::Service`] without reaching the command).
///   Whether a call is admitted — circuit, bulkhead, rate limiter — is
///   decided by the command when the call starts, and a refused call
///   completes at once with [`HystrixError::Refused`] (or the fallback's
///   answer): hystrix sheds load rather than applying backpressure, so a
///   full bulkhead or an open circuit never makes the service un-ready.
/// - `call` hands the service that was polled ready to the call's first
///   attempt (it is called only once the command admits the call, on the
///   future's first poll); each later attempt (retry, hedge) calls a clone
///   of the inner service after waiting for its readiness. So the inner
///   service must be `Clone` (as for `tower::retry`), and with
///   [`EveryAttempt`] the request must be `Clone` too.
/// - The inner service's error is the run's failure (it counts against
///   the circuit), or a bad request if the layer's rule says so; its
///   response is the run's success.
pub struct HystrixService<Svc, S, M = EveryAttempt, F = crate::NoFallback, C = AllFailures> {
    inner: Svc,
    /// What every call's future needs, behind one `Arc` (one count to
    /// bump per call).
    shared: Arc<Shared<S, F, C>>,
    mode: M,
}

/// The command, the timer source, the fallback and the error rule of a
/// service's calls.
struct Shared<S, F, C> {
    command: Command,
    sleeper: Arc<S>,
    fallback: F,
    classify: C,
}

impl<Svc, S, M, F, C> HystrixService<Svc, S, M, F, C> {
    /// Wraps `inner`: its calls go through `command` with timers from
    /// `sleeper`, in `mode`, with `fallback` and the bad-request rule
    /// `classify` (normally done by [`HystrixLayer`](crate::HystrixLayer)).
    pub fn new(inner: Svc, command: Command, sleeper: Arc<S>, mode: M, fallback: F, classify: C) -> Self {
        HystrixService { inner, shared: Arc::new(Shared { command, sleeper, fallback, classify }), mode }
    }

    /// The command every call goes through.
    pub fn command(&self) -> &Command {
        &self.shared.command
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &Svc {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut Svc {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> Svc {
        self.inner
    }

    /// The inner service that was polled ready, leaving a fresh clone in
    /// its place (tower's contract: the ready one serves this call).
    fn take_ready(&mut self) -> Svc
    where
        Svc: Clone,
    {
        let fresh = self.inner.clone();
        std::mem::replace(&mut self.inner, fresh)
    }
}

impl<Svc: Clone, S, M: Clone, F, C> Clone for HystrixService<Svc, S, M, F, C> {
    fn clone(&self) -> Self {
        HystrixService { inner: self.inner.clone(), shared: self.shared.clone(), mode: self.mode.clone() }
    }
}

impl<Svc: fmt::Debug, S, M, F, C> fmt::Debug for HystrixService<Svc, S, M, F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HystrixService")
            .field("inner", &self.inner)
            .field("command", &self.shared.command.name())
            .field("mode", &std::any::type_name::<M>())
            .finish_non_exhaustive()
    }
}

/// The run of one attempt: `svc` (made ready first unless it already is)
/// called with `req`, its error a failure or, if `classify` says so, a bad
/// request.
async fn attempt<Svc, Req, C>(
    mut svc: Svc,
    ready: bool,
    req: Req,
    classify: &C,
) -> Result<Svc::Response, RunError<Svc::Error>>
where
    Svc: Service<Req>,
    C: Classify<Svc::Error>,
{
    let sort = |e: Svc::Error| if classify.is_bad_request(&e) { RunError::BadRequest(e) } else { RunError::Failure(e) };
    if !ready {
        poll_fn(|cx| svc.poll_ready(cx)).await.map_err(sort)?;
    }
    svc.call(req).await.map_err(sort)
}

impl<Svc, Req, S, F, C> Service<Req> for HystrixService<Svc, S, EveryAttempt, F, C>
where
    Svc: Service<Req> + Clone + Send + 'static,
    Svc::Future: Send,
    Svc::Response: Send + 'static,
    Svc::Error: Send + 'static,
    Req: Clone + Send + 'static,
    S: Timer + Send + Sync + 'static,
    S::Sleep: Send,
    F: Fallback<Svc::Response, Svc::Error> + Send + Sync + 'static,
    F::Future: Send,
    C: Classify<Svc::Error> + Send + Sync + 'static,
{
    type Response = Svc::Response;
    type Error = HystrixError<Svc::Error>;
    type Future = ResponseFuture<Svc::Response, Svc::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(HystrixError::Service)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let mut first = Some(self.take_ready());
        let spare = self.inner.clone();
        let shared = self.shared.clone();
        Box::pin(async move {
            let Shared { command, sleeper, fallback, classify } = &*shared;
            // Attempt 1 gets the ready service; later ones a ready clone.
            let run = move |_| match first.take() {
                Some(ready) => attempt(ready, true, req.clone(), classify),
                None => attempt(spare.clone(), false, req.clone(), classify),
            };
            let result = if F::PRESENT {
                command.run_async_or(&**sleeper, run, |cause| fallback.call(cause)).await
            } else {
                command.run_async(&**sleeper, run).await
            };
            result.map_err(HystrixError::from)
        })
    }
}

impl<Svc, Req, S, F, C> Service<Req> for HystrixService<Svc, S, OneAttempt, F, C>
where
    Svc: Service<Req> + Clone + Send + 'static,
    Svc::Future: Send,
    Svc::Response: Send + 'static,
    Svc::Error: Send + 'static,
    Req: Send + 'static,
    S: Timer + Send + Sync + 'static,
    S::Sleep: Send,
    F: Fallback<Svc::Response, Svc::Error> + Send + Sync + 'static,
    F::Future: Send,
    C: Classify<Svc::Error> + Send + Sync + 'static,
{
    type Response = Svc::Response;
    type Error = HystrixError<Svc::Error>;
    type Future = ResponseFuture<Svc::Response, Svc::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(HystrixError::Service)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let ready = self.take_ready();
        let shared = self.shared.clone();
        Box::pin(async move {
            let Shared { command, sleeper, fallback, classify } = &*shared;
            // The run future calls the service at its first poll, i.e. once
            // the command has admitted the call.
            let run = attempt(ready, true, req, classify);
            let result = if F::PRESENT {
                command.execute_async_or(&**sleeper, run, |cause| fallback.call(cause)).await
            } else {
                command.execute_async(&**sleeper, run).await
            };
            result.map_err(HystrixError::from)
        })
    }
}
