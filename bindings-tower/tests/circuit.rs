//! Failures through the layer trip the command's circuit; then calls are
//! refused without reaching the inner service, until the sleep window
//! lets a probe through.

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{CircuitState, Config, ErrorKind, EventType};
use hystrix_tower::{HystrixError, HystrixLayer};
use std::time::Duration;
use support::{command, count, Boom, Counter};
use tower::{service_fn, ServiceBuilder, ServiceExt};

#[tokio::test(start_paused = true)]
async fn failures_trip_the_circuit_and_then_calls_never_reach_the_service() {
    let config = Config {
        request_volume_threshold: 3,
        error_threshold_percentage: 50,
        health_snapshot_interval_ms: 0,
        sleep_window_ms: 1000,
        ..Config::default()
    };
    let cmd = command(config);
    let calls = Counter::default();
    let healthy = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (seen, up) = (calls.clone(), healthy.clone());
    let svc = ServiceBuilder::new().layer(HystrixLayer::new(cmd.clone())).service(service_fn(move |_: ()| {
        seen.bump();
        let ok = up.load(std::sync::atomic::Ordering::SeqCst);
        async move {
            if ok {
                Ok("fine")
            } else {
                Err(Boom("down"))
            }
        }
    }));

    for _ in 0..3 {
        let err = svc.clone().oneshot(()).await.unwrap_err();
        assert!(matches!(err, HystrixError::Service(Boom("down"))), "{err:?}");
    }
    assert_eq!(cmd.snapshot().state, CircuitState::Open);
    assert_eq!(calls.get(), 3);

    for _ in 0..5 {
        let err = svc.clone().oneshot(()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ShortCircuited);
        let context = err.context().expect("a refusal names its command");
        assert_eq!(context.command(), "backend");
        assert_eq!(context.setting(), "sleep_window_ms");
        assert!(err.to_string().contains("backend"), "{err}");
    }
    assert_eq!(calls.get(), 3, "short-circuited calls never reach the inner service");
    assert_eq!(count(&cmd, EventType::ShortCircuited), 5);

    // After the sleep window one probe reaches the service and closes it.
    healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(svc.clone().oneshot(()).await.unwrap(), "fine");
    assert_eq!(calls.get(), 4);
    assert_eq!(cmd.snapshot().state, CircuitState::Closed);
}
