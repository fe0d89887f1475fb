//! Dropping a call's response future cancels the call (semantics §18.1):
//! the inner service's future is dropped, `CANCELLED` is recorded and the
//! bulkhead permit is free for the next call at once.

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{Config, EventType, Jitter};
use hystrix_tower::HystrixLayer;
use std::time::Duration;
use support::{command, count, Boom, Counter, DropFlag};
use tower::{service_fn, Layer, ServiceExt};

/// An inner service whose first call never answers (holding a drop guard)
/// and whose later calls answer at once.
fn hanging_first(
    calls: Counter,
    dropped: DropFlag,
) -> impl tower::Service<(), Response = u32, Error = Boom, Future: Send> + Clone {
    service_fn(move |_: ()| {
        let n = calls.bump();
        let guard = dropped.guard();
        async move {
            let _guard = guard;
            if n == 1 {
                std::future::pending::<()>().await;
            }
            Ok(n as u32)
        }
    })
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_cancels_the_call_and_frees_its_permit() {
    let cmd = command(Config { max_concurrent_requests: 1, timeout_ms: 60_000, ..Config::default() });
    let (calls, dropped) = (Counter::default(), DropFlag::default());
    let svc = HystrixLayer::new(cmd.clone()).layer(hanging_first(calls.clone(), dropped.clone()));

    let call = svc.clone().oneshot(());
    // Polled until the inner call is in flight, then dropped by the timeout.
    assert!(tokio::time::timeout(Duration::from_millis(10), call).await.is_err());
    assert_eq!(calls.get(), 1);
    assert!(dropped.dropped(), "the inner service's future is dropped with the call");
    assert_eq!(count(&cmd, EventType::Cancelled), 1);
    assert_eq!(cmd.snapshot().concurrent, 0, "the permit is given back");

    // The one permit is free: the next call is admitted, not rejected.
    assert_eq!(svc.oneshot(()).await.unwrap(), 2);
    assert_eq!(count(&cmd, EventType::SemaphoreRejected), 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_with_one_attempt_cancels_too() {
    let cmd = command(Config { max_concurrent_requests: 1, timeout_ms: 60_000, ..Config::default() });
    let (calls, dropped) = (Counter::default(), DropFlag::default());
    let svc = HystrixLayer::new(cmd.clone()).one_attempt().layer(hanging_first(calls.clone(), dropped.clone()));
    assert!(tokio::time::timeout(Duration::from_millis(10), svc.clone().oneshot(())).await.is_err());
    assert!(dropped.dropped());
    assert_eq!(count(&cmd, EventType::Cancelled), 1);
    assert_eq!(cmd.snapshot().concurrent, 0);
    assert_eq!(svc.oneshot(()).await.unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_during_a_retry_backoff_makes_no_more_attempts() {
    let cmd = command(Config {
        retry_max_attempts: 3,
        retry_base_delay_ms: 1000,
        retry_jitter: Jitter::None,
        ..Config::default()
    });
    let calls = Counter::default();
    let seen = calls.clone();
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(move |_: ()| {
        seen.bump();
        async { Err::<(), _>(Boom("blip")) }
    }));
    // The first attempt fails at once; the call then backs off for 1 s.
    assert!(tokio::time::timeout(Duration::from_millis(500), svc.oneshot(())).await.is_err());
    assert_eq!(calls.get(), 1);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(calls.get(), 1, "no retry after the caller dropped the call");
    assert_eq!(cmd.snapshot().concurrent, 0);
}
