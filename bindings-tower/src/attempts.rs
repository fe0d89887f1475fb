//! How many times a call may reach the inner service: the two modes of the
//! layer, as types (they differ in what they need of the request).

/// Every strategy of the command applies (the default): a call may make
/// several attempts — retries with backoff, hedges — each sending a clone
/// of the request to a clone of the inner service. Needs `Req: Clone` and
/// an inner service that is `Clone`, as `tower::retry` does.
#[derive(Clone, Copy, Debug, Default)]
pub struct EveryAttempt;

/// One attempt per call, for requests that cannot be cloned (such as an
/// `http::Request` with a streaming body): the circuit, bulkhead, timeout,
/// rate limiter, deadline and fallback apply; a command configured with
/// `retry_max_attempts` or `hedge_max_attempts` above 1 still makes a
/// single attempt (no `RETRY`, no `HEDGE` event), as
/// [`Command::execute_async`](hystrix_core::Command::execute_async) does.
#[derive(Clone, Copy, Debug, Default)]
pub struct OneAttempt;
