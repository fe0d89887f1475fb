//! A load-independent cross-check of the closed path's cost: makes `N`
//! closed-path calls of one kind, so that `perf stat -e instructions:u`
//! (or `valgrind --tool=callgrind`) of `N` calls minus that of `0` calls is
//! the instructions `N` calls take, whatever else the machine is doing.
//! Builds at any commit since the async driver (it uses only
//! `Command::execute` and `Command::execute_async`).
//!
//! `cargo run --release -p hystrix-core --example closed_count -- sync|async|floor N`

use hystrix_core::{Clock, Command, Config, MonotonicClock, RunError, Sleeper};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// A sleeper whose timers never fire.
struct NeverSleeper;

impl Sleeper for NeverSleeper {
    type Sleep = std::future::Pending<()>;
    fn sleep_until(&self, _deadline_ms: u64) -> Self::Sleep {
        std::future::pending()
    }
}

fn noop_waker() -> Waker {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: every function of the vtable ignores its (null) data pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

fn block_on<F: Future>(fut: F, cx: &mut Context<'_>) -> F::Output {
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return v;
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map(String::as_str).unwrap_or("sync");
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let cmd = Command::new(Config::default()).unwrap();
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut ok = 0u64;
    match kind {
        "sync" => {
            for _ in 0..n {
                ok += u64::from(cmd.execute(|| Ok::<_, RunError<()>>(black_box(41u64) + 1)).is_ok());
            }
        }
        "async" => {
            for _ in 0..n {
                let fut = cmd.execute_async(&NeverSleeper, async { Ok::<_, RunError<()>>(black_box(41u64) + 1) });
                ok += u64::from(block_on(fut, &mut cx).is_ok());
            }
        }
        "floor" => {
            let clock = MonotonicClock::new();
            let permits = AtomicU64::new(0);
            for _ in 0..n {
                let start = clock.now_ms();
                permits.fetch_add(1, Ordering::AcqRel);
                let end = clock.now_ms();
                permits.fetch_sub(1, Ordering::AcqRel);
                ok += u64::from(black_box(end.wrapping_sub(start)) < u64::MAX);
            }
        }
        other => panic!("unknown kind {other}: sync, async or floor"),
    }
    assert_eq!(ok, n);
    println!("{kind}: {n} calls");
}
