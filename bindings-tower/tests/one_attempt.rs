//! `one_attempt()`: requests that are not `Clone` go through the command
//! too, one attempt per call even with retry configured.

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{Config, ErrorKind, EventType, Jitter};
use hystrix_tower::HystrixLayer;
use std::time::Duration;
use support::{command, count, Boom, Counter};
use tower::{service_fn, Layer, ServiceExt};

/// A request that cannot be cloned (like an HTTP request with a streaming body).
struct Body(String);

#[tokio::test(start_paused = true)]
async fn a_request_that_is_not_clone_makes_one_attempt() {
    let cmd = command(Config { retry_max_attempts: 3, retry_jitter: Jitter::None, ..Config::default() });
    let calls = Counter::default();
    let seen = calls.clone();
    let svc = HystrixLayer::new(cmd.clone()).one_attempt().layer(service_fn(move |body: Body| {
        seen.bump();
        async move {
            if body.0 == "bad" {
                Err(Boom("bad body"))
            } else {
                Ok(body.0.len())
            }
        }
    }));
    assert_eq!(svc.clone().oneshot(Body("four".into())).await.unwrap(), 4);
    let err = svc.clone().oneshot(Body("bad".into())).await.unwrap_err();
    assert_eq!(err.service_error(), Some(&Boom("bad body")));
    assert_eq!(calls.get(), 2, "no retry: one attempt per call");
    assert_eq!(count(&cmd, EventType::Retry), 0);
}

#[tokio::test(start_paused = true)]
async fn one_attempt_keeps_the_timeout_and_fallback() {
    let cmd = command(Config { timeout_ms: 20, ..Config::default() });
    let svc = HystrixLayer::new(cmd.clone())
        .one_attempt()
        .fallback(|cause: &hystrix_core::Error<Boom>| std::future::ready(Ok::<_, Boom>(cause.kind())))
        .layer(service_fn(|_: Body| async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok::<_, Boom>(ErrorKind::Failure)
        }));
    assert_eq!(svc.oneshot(Body(String::new())).await.unwrap(), ErrorKind::Timeout);
    assert_eq!(count(&cmd, EventType::FallbackSuccess), 1);
}
