//! Which inner errors are the caller's fault: a bad request is returned as
//! it is, counted as `BAD_REQUEST` (not against the circuit) and never
//! falls back or retries (semantics §3).

/// Sorts the inner service's errors into failures and bad requests.
pub trait Classify<E>: Clone {
    /// Whether `error` is the caller's fault (a bad request) rather than a
    /// failure of the service.
    fn is_bad_request(&self, error: &E) -> bool;
}

/// Every inner error is a failure (the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllFailures;

impl<E> Classify<E> for AllFailures {
    fn is_bad_request(&self, _error: &E) -> bool {
        false
    }
}

/// Bad requests are the errors this function says are (see
/// [`HystrixLayer::bad_request_if`](crate::HystrixLayer::bad_request_if)).
#[derive(Clone, Copy, Debug)]
pub struct BadRequestIf<P>(pub P);

impl<P, E> Classify<E> for BadRequestIf<P>
where
    P: Fn(&E) -> bool + Clone,
{
    fn is_bad_request(&self, error: &E) -> bool {
        (self.0)(error)
    }
}
