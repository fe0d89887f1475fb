//! SPEC v2 strategies configured in the command apply through the layer:
//! retry calls the inner service once per attempt (a clone of the service
//! with a clone of the request), with the command's backoff on tokio's
//! timer; hedging races a second attempt.

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{Config, ErrorKind, EventType, Jitter};
use hystrix_tower::HystrixLayer;
use std::time::Duration;
use support::{command, count, Boom, Counter, DropFlag};
use tower::{service_fn, Layer, ServiceExt};

#[tokio::test(start_paused = true)]
async fn retry_calls_the_inner_service_three_times() {
    let cmd = command(Config {
        retry_max_attempts: 3,
        retry_base_delay_ms: 100,
        retry_multiplier_permille: 2000,
        retry_jitter: Jitter::None,
        ..Config::default()
    });
    let calls = Counter::default();
    let seen = calls.clone();
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(move |req: String| {
        let n = seen.bump();
        async move {
            if n < 3 {
                Err(Boom("blip"))
            } else {
                Ok(format!("{req} on attempt {n}"))
            }
        }
    }));
    let started = tokio::time::Instant::now();
    assert_eq!(svc.oneshot("hello".to_string()).await.unwrap(), "hello on attempt 3");
    assert_eq!(calls.get(), 3);
    assert_eq!(started.elapsed(), Duration::from_millis(300), "backoff 100 ms then 200 ms");
    assert_eq!(count(&cmd, EventType::Retry), 2);
    assert_eq!(count(&cmd, EventType::Success), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_exhausted_return_the_last_error() {
    let cmd = command(Config { retry_max_attempts: 3, retry_jitter: Jitter::None, ..Config::default() });
    let calls = Counter::default();
    let seen = calls.clone();
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(move |_: ()| {
        let n = seen.bump();
        async move { Err::<(), _>(Boom(if n == 3 { "third" } else { "earlier" })) }
    }));
    let err = svc.oneshot(()).await.unwrap_err();
    assert_eq!(err.service_error(), Some(&Boom("third")));
    assert_eq!(calls.get(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_hedge_wins_and_the_slow_attempt_is_dropped() {
    let cmd = command(Config { hedge_max_attempts: 2, hedge_delay_ms: 50, timeout_ms: 1000, ..Config::default() });
    let calls = Counter::default();
    let first_dropped = DropFlag::default();
    let (seen, flag) = (calls.clone(), first_dropped.clone());
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(move |_: ()| {
        let n = seen.bump();
        let guard = (n == 1).then(|| flag.guard());
        async move {
            let _guard = guard;
            let wait = if n == 1 { 500 } else { 10 };
            tokio::time::sleep(Duration::from_millis(wait)).await;
            Ok::<_, Boom>(n)
        }
    }));
    let started = tokio::time::Instant::now();
    assert_eq!(svc.oneshot(()).await.unwrap(), 2, "the hedge answered");
    assert_eq!(started.elapsed(), Duration::from_millis(60));
    assert!(first_dropped.dropped(), "the losing attempt's future is dropped");
    assert_eq!(count(&cmd, EventType::Hedge), 1);
    assert_eq!(cmd.snapshot().concurrent, 0);
}

#[tokio::test(start_paused = true)]
async fn the_rate_limiter_refuses_past_its_limit() {
    let cmd = command(Config { rate_limit_for_period: 2, rate_limit_period_ms: 1000, ..Config::default() });
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(|_: ()| async { Ok::<_, Boom>(()) }));
    svc.clone().oneshot(()).await.unwrap();
    svc.clone().oneshot(()).await.unwrap();
    let err = svc.clone().oneshot(()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(count(&cmd, EventType::RateLimited), 1);
}

/// Fails its first two calls; counts readiness polls and calls, shared by
/// every clone.
#[derive(Clone, Default)]
struct Readied {
    polls: Counter,
    calls: Counter,
}

impl tower::Service<()> for Readied {
    type Response = usize;
    type Error = Boom;
    type Future = std::future::Ready<Result<usize, Boom>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Boom>> {
        self.polls.bump();
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: ()) -> Self::Future {
        let n = self.calls.bump();
        std::future::ready(if n < 3 { Err(Boom("blip")) } else { Ok(n) })
    }
}

#[tokio::test(start_paused = true)]
async fn each_retry_waits_for_the_readiness_of_a_clone() {
    let cmd = command(Config { retry_max_attempts: 3, retry_jitter: Jitter::None, ..Config::default() });
    let inner = Readied::default();
    let svc = HystrixLayer::new(cmd).layer(inner.clone());
    assert_eq!(svc.oneshot(()).await.unwrap(), 3);
    assert_eq!(inner.calls.get(), 3);
    // One readiness poll by the caller (oneshot) for the first attempt,
    // then one per retry, by the layer, on a clone.
    assert_eq!(inner.polls.get(), 3);
}
