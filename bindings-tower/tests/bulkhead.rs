//! The bulkhead: with `max_concurrent_requests` calls in flight the next
//! one is rejected at once, without reaching the inner service.

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{Config, ErrorKind, EventType};
use hystrix_tower::HystrixLayer;
use std::sync::Arc;
use support::{command, count, Boom, Counter};
use tokio::sync::Notify;
use tower::{service_fn, Layer, ServiceExt};

#[tokio::test(start_paused = true)]
async fn the_call_past_max_concurrent_requests_is_rejected() {
    let cmd = command(Config { max_concurrent_requests: 2, timeout_enabled: false, ..Config::default() });
    let release = Arc::new(Notify::new());
    let calls = Counter::default();
    let (gate, seen) = (release.clone(), calls.clone());
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(move |n: u32| {
        seen.bump();
        let gate = gate.clone();
        async move {
            gate.notified().await;
            Ok::<_, Boom>(n)
        }
    }));

    let first = tokio::spawn(svc.clone().oneshot(1));
    let second = tokio::spawn(svc.clone().oneshot(2));
    while calls.get() < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(cmd.snapshot().concurrent, 2);

    let err = svc.clone().oneshot(3).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.context().unwrap().setting(), "max_concurrent_requests");
    assert_eq!(calls.get(), 2, "the rejected call never reaches the inner service");
    assert_eq!(count(&cmd, EventType::SemaphoreRejected), 1);

    release.notify_waiters();
    assert_eq!(first.await.unwrap().unwrap(), 1);
    assert_eq!(second.await.unwrap().unwrap(), 2);
    assert_eq!(cmd.snapshot().concurrent, 0);
    // With the permits back, a call goes through again.
    let late = svc.oneshot(4);
    let notify = async {
        while calls.get() < 3 {
            tokio::task::yield_now().await;
        }
        release.notify_waiters();
    };
    let (late, ()) = tokio::join!(late, notify);
    assert_eq!(late.unwrap(), 4);
}
