//! The layer's optional fallback: what answers in place of the inner
//! service when a call's attempts end without a response.

use hystrix_core::Error;
use std::future::Future;

/// A fallback for calls whose response is `Resp` and whose inner error is
/// `E`. Implemented by [`NoFallback`] and by [`FallbackFn`] (what
/// [`HystrixLayer::fallback`](crate::HystrixLayer::fallback) makes from a
/// closure).
pub trait Fallback<Resp, E>: Clone {
    /// Whether there is a fallback at all: without one, a call that ends
    /// without a response returns its error (the command's no-fallback
    /// path, semantics §3 step 5).
    const PRESENT: bool;
    /// The fallback's future.
    type Future: Future<Output = Result<Resp, E>>;
    /// Starts the fallback for a call that failed with `cause` (the
    /// original error: the last attempt's own error, or a refusal or
    /// timeout). Only called when [`Fallback::PRESENT`].
    fn call(&self, cause: &Error<E>) -> Self::Future;
}

/// No fallback: a call's error is returned as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFallback;

impl<Resp, E> Fallback<Resp, E> for NoFallback {
    const PRESENT: bool = false;
    type Future = std::future::Pending<Result<Resp, E>>;

    fn call(&self, _cause: &Error<E>) -> Self::Future {
        unreachable!("the driver only invokes a fallback the call has")
    }
}

/// A fallback made from a function of the original error returning a
/// future of the response (see
/// [`HystrixLayer::fallback`](crate::HystrixLayer::fallback)).
#[derive(Clone, Copy, Debug)]
pub struct FallbackFn<F>(pub F);

impl<F, Fut, Resp, E> Fallback<Resp, E> for FallbackFn<F>
where
    F: Fn(&Error<E>) -> Fut + Clone,
    Fut: Future<Output = Result<Resp, E>>,
{
    const PRESENT: bool = true;
    type Future = Fut;

    fn call(&self, cause: &Error<E>) -> Fut {
        (self.0)(cause)
    }
}
