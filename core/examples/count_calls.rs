//! A load-independent cross-check of the benches: makes `N` calls of one
//! kind, so that the instructions of `2N` calls minus those of `N` calls
//! (`valgrind --tool=callgrind`, or `perf stat -e instructions:u` where the
//! VM exposes the counter) are what `N` calls take, whatever else the
//! machine is doing.
//!
//! Kinds: `sync`, `async` (the closed path, every v2 key at its default:
//! `Command::execute`, `execute_async`; `sync0` / `async0` the same on a
//! clock that always reads 0, so only the code is counted), `floor` (the `closed_path` bench's `spec_floor`),
//! `floor_windowed` (the `strategies` bench's `spec_floor_windowed`, the same file),
//! and the `strategies` bench's hystrix contenders through the sans-IO
//! `Call`: `retry` (3 attempts, 2 failures, 0 ms backoff; `retry_in` the same
//! through `Call::start_in`), `rate_limited` /
//! `rate_unlimited` (`Call::start` with and without the rate limiter),
//! `hedged` / `unhedged` (a hedge armed and never fired), and `governor`
//! (the bench's `governor_check`); with `--features bench-internals`,
//! `limiter` (the bench's `hystrix_limiter`: the rate limiter's stage alone).
//!
//! `cargo run --release -p hystrix-core --example count_calls -- KIND N`

use hystrix_core::{
    Action, AttemptId, Call, CallTimer, Clock, Command, Config, FnClock, Input, MonotonicClock, RunError, RunOutcome,
    Settlement,
};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// The command's clock, with timers that never fire: the async closed path
/// never times out.
struct NeverFires(std::sync::Arc<dyn hystrix_core::Clock>);

impl hystrix_core::Timer for NeverFires {
    type Sleep = std::future::Pending<()>;
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
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

/// The `strategies` bench's host loop: runs end at once with `outcome`,
/// the earliest due timer fires when the call waits.
fn drive(call: &mut Call, mut now: u64, outcome: impl Fn(AttemptId) -> RunOutcome) -> Settlement {
    let mut timers = [(CallTimer(0), 0u64); 8];
    let mut armed = 0;
    loop {
        let mut settled = None;
        while let Some(action) = call.poll_action() {
            match action {
                Action::SetTimer { timer, at } => {
                    timers[armed] = (timer, at);
                    armed += 1;
                }
                Action::ClearTimer { timer } => {
                    if let Some(i) = timers[..armed].iter().position(|(t, _)| *t == timer) {
                        timers.copy_within(i + 1..armed, i);
                        armed -= 1;
                    }
                }
                Action::InvokeAttempt { attempt } => {
                    call.handle(now, Input::AttemptEnded { attempt, outcome: outcome(attempt) })
                }
                Action::AbortAttempt { attempt, .. } => call.handle(now, Input::AttemptStopped { attempt }),
                Action::InvokeFallback { .. } => call.handle(now, Input::FallbackEnded { ok: true }),
                Action::Settle(s) => settled = Some(s),
            }
        }
        if let Some(s) = settled {
            return s;
        }
        let i = (0..armed).min_by_key(|&i| timers[i].1).expect("a pending call waits for a timer");
        let (timer, at) = timers[i];
        timers.copy_within(i + 1..armed, i);
        armed -= 1;
        now = now.max(at);
        call.handle(now, Input::TimerFired { timer });
    }
}

/// The operation the `strategies` bench's floors wrap.
const X: u64 = 41;

#[path = "../benches/strategies/windowed_floor.rs"]
mod windowed_floor;

#[path = "../benches/strategies/retry_config.rs"]
mod retry_config;
use retry_config::retry_config;

fn at_zero(config: Config) -> Command {
    Command::with_clock("count", config, Arc::new(FnClock(|| 0))).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map(String::as_str).unwrap_or("sync");
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    // `sync0` / `async0`: `sync` / `async` on a clock that always reads 0
    // (no clock cost in the count, so builds compare code only).
    let (kind, cmd) = match kind {
        "sync0" => ("sync", at_zero(Config::default())),
        "async0" => ("async", at_zero(Config::default())),
        _ => (kind, Command::new(Config::default()).unwrap()),
    };
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
            let never = NeverFires(cmd.clock().clone());
            for _ in 0..n {
                let fut = cmd.execute_async(&never, async { Ok::<_, RunError<()>>(black_box(41u64) + 1) });
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
        "floor_windowed" => {
            let floor = windowed_floor::WindowedRetryFloor::new();
            for _ in 0..n {
                ok += u64::from(floor.call(black_box(0)) == Some(X + 1));
            }
        }
        "retry" => {
            let cmd = at_zero(retry_config());
            let flaky = |a: AttemptId| if black_box(a.0) < 3 { RunOutcome::Failure } else { RunOutcome::Success };
            for _ in 0..n {
                ok += u64::from(drive(&mut Call::start(&cmd, 0, false), 0, flaky) == Settlement::Attempt(AttemptId(3)));
            }
        }
        "retry_in" => {
            let cmd = at_zero(retry_config());
            let flaky = |a: AttemptId| if black_box(a.0) < 3 { RunOutcome::Failure } else { RunOutcome::Success };
            let mut slot = None;
            for _ in 0..n {
                let call = Call::start_in(&mut slot, &cmd, 0, false);
                ok += u64::from(drive(call, 0, flaky) == Settlement::Attempt(AttemptId(3)));
            }
        }
        "rate_limited" | "rate_unlimited" => {
            let rate = if kind == "rate_limited" { 1_000_000_000_000 } else { 0 };
            let cmd = Command::new(Config { rate_limit_for_period: rate, ..Config::default() }).unwrap();
            for _ in 0..n {
                let call = Call::start(&cmd, cmd.now_ms(), false);
                ok += u64::from(black_box(&call).attempts_started() == 1);
            }
        }
        "hedged" | "unhedged" => {
            let hedges = if kind == "hedged" { 2 } else { 1 };
            let cmd = at_zero(Config { hedge_max_attempts: hedges, hedge_delay_ms: 60_000, ..Config::default() });
            for _ in 0..n {
                let settled = drive(&mut Call::start(&cmd, 0, false), 0, |_| RunOutcome::Success);
                ok += u64::from(settled == Settlement::Attempt(AttemptId(1)));
            }
        }
        // The limiter's stage alone (`--features bench-internals`).
        #[cfg(feature = "bench-internals")]
        "limiter" => {
            let cmd = Command::new(Config { rate_limit_for_period: 1_000_000_000_000, ..Config::default() }).unwrap();
            for _ in 0..n {
                ok += u64::from(hystrix_core::bench_internals::rate_admit(&cmd, cmd.now_ms()));
            }
        }
        "governor" => {
            let per_sec = std::num::NonZeroU32::new(1_000_000_000).unwrap();
            let limiter = governor::RateLimiter::direct(governor::Quota::per_second(per_sec));
            for _ in 0..n {
                ok += u64::from(limiter.check().is_ok());
            }
        }
        other => {
            panic!("unknown kind {other}: sync, async, floor, floor_windowed, retry, retry_in, rate_limited, rate_unlimited, hedged, unhedged, governor")
        }
    }
    assert_eq!(ok, n);
    println!("{kind}: {n} calls");
}
