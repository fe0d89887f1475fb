//! `bad_request_if`: inner errors that are the caller's fault come back as
//! `BadRequest`, are not counted against the circuit, and neither fall
//! back nor retry (semantics §3).

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{CircuitState, Config, Error, ErrorKind, EventType, Jitter};
use hystrix_tower::{HystrixError, HystrixLayer};
use support::{command, count, Boom, Counter};
use tower::{service_fn, Layer, ServiceExt};

#[tokio::test(start_paused = true)]
async fn bad_requests_do_not_trip_fall_back_or_retry() {
    let cmd = command(Config {
        request_volume_threshold: 3,
        error_threshold_percentage: 50,
        health_snapshot_interval_ms: 0,
        retry_max_attempts: 3,
        retry_jitter: Jitter::None,
        ..Config::default()
    });
    let (calls, fallbacks) = (Counter::default(), Counter::default());
    let (seen, fell) = (calls.clone(), fallbacks.clone());
    let svc = HystrixLayer::new(cmd.clone())
        .bad_request_if(|e: &Boom| e.0 == "invalid")
        .fallback(move |_: &Error<Boom>| {
            fell.bump();
            std::future::ready(Ok::<_, Boom>("fallback"))
        })
        .layer(service_fn(move |body: &'static str| {
            seen.bump();
            std::future::ready(if body == "bad" { Err(Boom("invalid")) } else { Err(Boom("down")) })
        }));

    for _ in 0..5 {
        let err = svc.clone().oneshot("bad").await.unwrap_err();
        assert!(matches!(err, HystrixError::BadRequest(Boom("invalid"))), "{err:?}");
        assert_eq!(err.kind(), ErrorKind::BadRequest);
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(source.downcast_ref::<Boom>(), Some(&Boom("invalid")));
    }
    assert_eq!(calls.get(), 5, "no retry of a bad request");
    assert_eq!(fallbacks.get(), 0, "no fallback for a bad request");
    assert_eq!(count(&cmd, EventType::BadRequest), 5);
    assert_eq!(cmd.snapshot().state, CircuitState::Closed, "bad requests are not counted in health");

    // Other errors are still failures: retried, then the fallback answers.
    assert_eq!(svc.clone().oneshot("good").await.unwrap(), "fallback");
    assert_eq!(calls.get(), 8);
    assert_eq!(fallbacks.get(), 1);
}

#[tokio::test(start_paused = true)]
async fn without_a_rule_every_inner_error_is_a_failure() {
    let cmd = command(Config::default());
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(|_: ()| async { Err::<(), _>(Boom("invalid")) }));
    let err = svc.oneshot(()).await.unwrap_err();
    assert!(matches!(err, HystrixError::Service(Boom("invalid"))));
    assert_eq!(count(&cmd, EventType::BadRequest), 0);
    assert_eq!(count(&cmd, EventType::Failure), 1);
}
