//! A fallback given to the layer answers in place of the inner service,
//! seeing the original error; a failing fallback's error carries both.

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{Config, Error, ErrorKind, EventType};
use hystrix_tower::{HystrixError, HystrixLayer};
use std::time::Duration;
use support::{command, count, Boom};
use tower::{service_fn, Layer, ServiceExt};

#[tokio::test(start_paused = true)]
async fn the_fallback_answers_a_failure_and_a_timeout() {
    let cmd = command(Config { timeout_ms: 100, ..Config::default() });
    let layer = HystrixLayer::new(cmd.clone())
        .fallback(|cause: &Error<Boom>| std::future::ready(Ok::<_, Boom>(format!("fallback after {}", cause.kind()))));
    let failing = layer.layer(service_fn(|_: ()| async { Err::<String, _>(Boom("down")) }));
    assert_eq!(failing.oneshot(()).await.unwrap(), "fallback after failure");

    let slow = layer.layer(service_fn(|_: ()| async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok::<_, Boom>("late".to_string())
    }));
    assert_eq!(slow.oneshot(()).await.unwrap(), "fallback after timeout");
    assert_eq!(count(&cmd, EventType::FallbackSuccess), 2);

    // A success never reaches the fallback.
    let fine = layer.layer(service_fn(|_: ()| async { Ok::<_, Boom>("fine".to_string()) }));
    assert_eq!(fine.oneshot(()).await.unwrap(), "fine");
    assert_eq!(count(&cmd, EventType::FallbackSuccess), 2);
}

#[tokio::test(start_paused = true)]
async fn a_failing_fallback_gives_both_errors() {
    let cmd = command(Config::default());
    let layer =
        HystrixLayer::new(cmd.clone()).fallback(|_: &Error<Boom>| async { Err::<u32, _>(Boom("fallback too")) });
    let err = layer.layer(service_fn(|_: ()| async { Err::<u32, _>(Boom("down")) })).oneshot(()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FallbackFailure);
    let HystrixError::Fallback(core) = &err else { panic!("a fallback error: {err:?}") };
    let Error::FallbackFailure { original, fallback, .. } = &**core else { panic!("{core:?}") };
    assert!(matches!(**original, Error::Failure(hystrix_core::Fault::Error(Boom("down")))));
    assert!(matches!(fallback, hystrix_core::Fault::Error(Boom("fallback too"))));
    assert_eq!(count(&cmd, EventType::FallbackFailure), 1);

    // map_service_error reaches the errors inside too.
    let mapped = err.map_service_error(|b| b.0.len());
    let HystrixError::Fallback(core) = mapped else { panic!() };
    let Error::FallbackFailure { original, .. } = *core else { panic!() };
    assert!(matches!(*original, Error::Failure(hystrix_core::Fault::Error(4))));
}

#[tokio::test(start_paused = true)]
async fn a_short_circuited_call_falls_back_without_reaching_the_service() {
    let cmd = command(Config { force_open: true, ..Config::default() });
    let reached = support::Counter::default();
    let seen = reached.clone();
    let svc = HystrixLayer::new(cmd.clone())
        .fallback(|cause: &Error<Boom>| std::future::ready(Ok::<_, Boom>(cause.kind())))
        .layer(service_fn(move |_: ()| {
            seen.bump();
            async { Ok::<_, Boom>(ErrorKind::Failure) }
        }));
    assert_eq!(svc.oneshot(()).await.unwrap(), ErrorKind::ShortCircuited);
    assert_eq!(reached.get(), 0);
}
