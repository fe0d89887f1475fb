//! The command's timeout stops a slow inner call on tokio's timer: the
//! caller gets a timeout, the inner future is dropped and its permit given
//! back. Tokio's clock is paused, so the times are exact.

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{Config, ErrorKind, EventType};
use hystrix_tower::{HystrixError, HystrixLayer};
use std::time::Duration;
use support::{command, count, Boom, DropFlag};
use tower::{service_fn, Layer, ServiceExt};

#[tokio::test(start_paused = true)]
async fn a_slow_call_times_out_at_timeout_ms_and_its_future_is_dropped() {
    let cmd = command(Config { timeout_ms: 100, ..Config::default() });
    let dropped = DropFlag::default();
    let flag = dropped.clone();
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(move |_: ()| {
        let guard = flag.guard();
        async move {
            let _guard = guard;
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<_, Boom>("late")
        }
    }));

    let started = tokio::time::Instant::now();
    let err = svc.oneshot(()).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_millis(100), "timed out at timeout_ms exactly");
    assert!(matches!(err, HystrixError::Refused(ref c) if c.kind() == ErrorKind::Timeout), "{err:?}");
    assert_eq!(err.context().unwrap().setting(), "timeout_ms");
    assert!(dropped.dropped(), "the inner future is dropped at the timeout");
    assert_eq!(count(&cmd, EventType::Timeout), 1);
    assert_eq!(cmd.snapshot().concurrent, 0, "the permit is given back");
}

#[tokio::test(start_paused = true)]
async fn a_call_within_its_timeout_is_not_timed_out() {
    let cmd = command(Config { timeout_ms: 100, ..Config::default() });
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(|_: ()| async {
        tokio::time::sleep(Duration::from_millis(99)).await;
        Ok::<_, Boom>("in time")
    }));
    assert_eq!(svc.oneshot(()).await.unwrap(), "in time");
    assert_eq!(count(&cmd, EventType::Timeout), 0);
}

#[tokio::test]
async fn on_real_time_with_the_default_clock() {
    // The command reads its default (real) clock and tokio runs on real
    // time: the timeout still fires at about timeout_ms.
    let cmd = hystrix_core::Command::new(Config { timeout_ms: 50, ..Config::default() }).unwrap();
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(|_: ()| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok::<_, Boom>("late")
    }));
    let started = std::time::Instant::now();
    let err = svc.oneshot(()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(took >= Duration::from_millis(50) && took < Duration::from_millis(1000), "{took:?}");
}
