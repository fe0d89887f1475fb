//! The layer without tokio: `with_sleeper` takes any `Timer`, here the
//! core's `VirtualClock`, and the futures are polled by hand (no runtime).

mod support;

use hystrix_core::{Command, Config, ErrorKind, EventType, Jitter, VirtualClock};
use hystrix_tower::HystrixLayer;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};
use support::{Boom, Counter, DropFlag};
use tower::{service_fn, Layer, Service};

fn poll<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let waker = support::noop_waker();
    std::pin::Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

#[test]
fn a_timeout_fires_when_the_virtual_clock_reaches_it() {
    let clock = VirtualClock::new();
    let cmd = Command::with_clock("virtual", Config { timeout_ms: 100, ..Config::default() }, Arc::new(clock.clone()))
        .unwrap();
    let dropped = DropFlag::default();
    let flag = dropped.clone();
    let mut svc = HystrixLayer::with_sleeper(cmd.clone(), clock.clone()).layer(service_fn(move |_: ()| {
        let guard = flag.guard();
        async move {
            let _guard = guard;
            std::future::pending::<Result<u32, Boom>>().await
        }
    }));
    assert!(poll(&mut std::future::poll_fn(|cx| svc.poll_ready(cx))).is_ready());
    let mut call = svc.call(());
    assert!(poll(&mut call).is_pending());
    clock.advance(99);
    assert!(poll(&mut call).is_pending(), "not before timeout_ms");
    clock.advance(1);
    match poll(&mut call) {
        Poll::Ready(Err(err)) => assert_eq!(err.kind(), ErrorKind::Timeout),
        other => panic!("expected a timeout, got {:?}", other.map(|r| r.map_err(|e| e.kind()))),
    }
    assert!(dropped.dropped());
    assert_eq!(cmd.snapshot().rolling.get(EventType::Timeout), 1);
}

#[test]
fn retry_backs_off_on_the_virtual_clock() {
    let clock = VirtualClock::new();
    let config = Config { retry_max_attempts: 3, retry_jitter: Jitter::None, ..Config::default() };
    let cmd = Command::with_clock("virtual", config, Arc::new(clock.clone())).unwrap();
    let calls = Counter::default();
    let seen = calls.clone();
    let mut svc = HystrixLayer::with_sleeper(cmd, clock.clone()).layer(service_fn(move |_: ()| {
        let n = seen.bump();
        std::future::ready(if n < 3 { Err(Boom("blip")) } else { Ok(n) })
    }));
    let mut call = svc.call(());
    assert!(poll(&mut call).is_pending());
    assert_eq!(calls.get(), 1);
    clock.advance(100);
    assert!(poll(&mut call).is_pending());
    assert_eq!(calls.get(), 2);
    clock.advance(200);
    assert!(matches!(poll(&mut call), Poll::Ready(Ok(3))));
}
