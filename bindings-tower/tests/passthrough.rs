//! A call that the command admits reaches the inner service once, and its
//! response or error comes back unchanged; readiness is the inner
//! service's.

#![cfg(feature = "tokio")] // tokio's timer and paused clock

mod support;

use hystrix_core::{Config, ErrorKind, EventType};
use hystrix_tower::{HystrixError, HystrixLayer};
use std::task::{Context, Poll};
use support::{command, count, Boom, Counter};
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};

#[tokio::test(start_paused = true)]
async fn a_success_passes_through_once() {
    let cmd = command(Config::default());
    let calls = Counter::default();
    let seen = calls.clone();
    let mut svc = ServiceBuilder::new().layer(HystrixLayer::new(cmd.clone())).service(service_fn(move |n: u32| {
        seen.bump();
        async move { Ok::<_, Boom>(n * 2) }
    }));
    assert_eq!(svc.ready().await.unwrap().call(21).await.unwrap(), 42);
    assert_eq!(calls.get(), 1);
    assert_eq!(count(&cmd, EventType::Success), 1);
    assert_eq!(cmd.snapshot().concurrent, 0, "the permit is given back");
}

#[tokio::test(start_paused = true)]
async fn an_inner_error_is_the_service_error_and_a_failure() {
    let cmd = command(Config::default());
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(|_: ()| async { Err::<u32, _>(Boom("down")) }));
    let err = svc.oneshot(()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failure);
    assert_eq!(err.service_error(), Some(&Boom("down")));
    assert!(err.context().is_none());
    assert_eq!(count(&cmd, EventType::Failure), 1);

    // Error + source(), and into tower's BoxError.
    let source = std::error::Error::source(&err).expect("the inner error is the source");
    assert_eq!(source.downcast_ref::<Boom>(), Some(&Boom("down")));
    let boxed: tower::BoxError = err.into();
    let back = boxed.downcast_ref::<HystrixError<Boom>>().expect("a HystrixError in the box");
    assert_eq!(back.service_error(), Some(&Boom("down")));
}

#[tokio::test(start_paused = true)]
async fn an_inner_box_error_boxes_with_into_box_error() {
    let cmd = command(Config::default());
    let svc = HystrixLayer::new(cmd)
        .layer(service_fn(|_: ()| async { Err::<u32, tower::BoxError>(Box::new(Boom("boxed"))) }));
    let err = svc.oneshot(()).await.unwrap_err();
    let boxed = err.into_box_error();
    let back = boxed.downcast_ref::<HystrixError<hystrix_tower::BoxedError>>().expect("a HystrixError in the box");
    let inner = back.service_error().expect("the service's error");
    assert_eq!(inner.0.downcast_ref::<Boom>(), Some(&Boom("boxed")));
    assert_eq!(boxed.to_string(), "the inner service failed");
}

/// Ready only after `pending` polls; counts its calls.
#[derive(Clone, Debug)]
struct Slow {
    pending: usize,
}

impl Service<u32> for Slow {
    type Response = u32;
    type Error = Boom;
    type Future = std::future::Ready<Result<u32, Boom>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        if self.pending == usize::MAX {
            return Poll::Ready(Err(Boom("not ready")));
        }
        if self.pending > 0 {
            self.pending -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, n: u32) -> Self::Future {
        std::future::ready(Ok(n))
    }
}

#[tokio::test(start_paused = true)]
async fn poll_ready_is_the_inner_services_readiness() {
    let cmd = command(Config::default());
    let mut svc = HystrixLayer::new(cmd.clone()).layer(Slow { pending: 2 });
    let waker = support::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(svc.poll_ready(&mut cx).is_pending());
    assert!(svc.poll_ready(&mut cx).is_pending());
    assert!(matches!(svc.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    assert_eq!(svc.call(5).await.unwrap(), 5);

    // A readiness error is the service's, and never reaches the command.
    let mut broken = HystrixLayer::new(cmd.clone()).layer(Slow { pending: usize::MAX });
    let err = broken.ready().await.unwrap_err();
    assert_eq!(err.service_error(), Some(&Boom("not ready")));
    assert_eq!(count(&cmd, EventType::Failure), 0);
    assert_eq!(count(&cmd, EventType::Success), 1);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_inner_future_is_a_failure_not_a_crash() {
    let cmd = command(Config::default());
    let svc = HystrixLayer::new(cmd.clone()).layer(service_fn(|n: u32| async move {
        if n == 0 {
            panic!("inner service bug");
        }
        Ok::<_, Boom>(n)
    }));
    let err = svc.clone().oneshot(0).await.unwrap_err();
    assert!(matches!(err, HystrixError::Panicked(ref m) if m.contains("inner service bug")), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Failure);
    assert_eq!(count(&cmd, EventType::Failure), 1);
    assert_eq!(cmd.snapshot().concurrent, 0);
    assert_eq!(svc.oneshot(1).await.unwrap(), 1, "the service still works");
}
