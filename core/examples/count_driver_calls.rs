//! `count_calls` for the drivers' retried call: makes `N` calls of the
//! `strategies` bench's retry (3 attempts, the first two fail, 0 ms
//! backoff) through `Command::run_async` (`async`) or `Command::run`
//! (`blocking`) on a `VirtualClock`, so that the instructions of `2N`
//! calls minus those of `N` calls are what `N` calls take. A binary of its
//! own: with link-time optimisation, the drivers' code in `count_calls`
//! would change how the closed path is inlined there (its counts moved by
//! ~30 instructions when they shared a binary; so did moving that
//! binary's helpers into a shared module, which is why the few helpers
//! below are this file's own).
//!
//! `cargo run --release -p hystrix-core --example count_driver_calls -- KIND N`

use hystrix_core::{AttemptId, Command, RunError, VirtualClock};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// A waker that does nothing (the futures polled here never need one).
fn noop_waker() -> Waker {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: every function of the vtable ignores its (null) data pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// Polls `fut` until it is ready.
fn block_on<F: Future>(fut: F, cx: &mut Context<'_>) -> F::Output {
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return v;
        }
    }
}

#[path = "../benches/strategies/retry_config.rs"]
mod retry_config;
use retry_config::retry_config;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map(String::as_str).unwrap_or("async");
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let clock = VirtualClock::new();
    let config = retry_config();
    let cmd = Command::with_clock("count", config, Arc::new(clock.clone())).unwrap();
    let flaky = |a: AttemptId| if black_box(a.0) < 3 { Err(RunError::Failure(())) } else { Ok(black_box(41u64) + 1) };
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut ok = 0u64;
    for _ in 0..n {
        let r = match kind {
            "async" => block_on(cmd.run_async(&clock, |a| std::future::ready(flaky(a))), &mut cx),
            "blocking" => cmd.run(flaky),
            other => panic!("unknown kind {other}: async, blocking"),
        };
        ok += u64::from(r.is_ok());
    }
    assert_eq!(ok, n);
    println!("{kind}: {n} calls");
}
