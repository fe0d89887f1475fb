//! Per-call overhead of hystrix-core against failsafe and tower, one criterion
//! binary, one harness, one trivial operation (`black_box(x) + 1`, `Ok`) for
//! every contender. Only ratios within a group are meaningful.
//!
//! Clock reads: one closed-path `Command::execute` that succeeds reads the
//! command's clock exactly TWICE — `clock.now_ms()` at admission
//! (`Execution::start`) and once more when the run returns (to check the
//! deadline and stamp the outcome); `Execution`, the window and the latency
//! windows only take `now` as an argument. With `Command::new` each read is a
//! `dyn Clock` call into `MonotonicClock::now_ms`, i.e. one `rdtsc` and a
//! multiplication on x86-64 with an invariant TSC (one `clock_gettime`
//! elsewhere). `execute_async` on the closed
//! path also reads twice (`cmd.now_ms()` before and after the run); its
//! abandon guard does not read on a settled call. The `execute_or` open path
//! reads twice too (admission, then when the fallback returns). For
//! comparison, failsafe reads `Instant::now` only inside its policies: the
//! consecutive-failures policy never on success, the default policy
//! (success rate over a time window OR consecutive failures) twice on
//! success, and a tripped breaker once per rejected call.
//!
//! Groups (function names are the contenders):
//! - `closed_path`: sync call, circuit closed, default configs.
//!   `spec_floor` is not a library: it is the least work SPEC v1 asks of a
//!   closed-path success — the command's clock read twice through
//!   `dyn Clock` (the start, for the deadline; the end, for the deadline
//!   check, the outcome's bucket and the latency) and a bulkhead permit
//!   taken and given back (two atomic read-modify-writes) — and nothing
//!   else: no counts, no latency histogram, no circuit. No implementation of
//!   the SPEC can be faster than it on this machine.
//! - `open_path`: circuit open. `hystrix_forced_fallback` uses
//!   `force_open: true` + `execute_or`; `hystrix_tripped_*` trip a real
//!   circuit with one failure (volume threshold 1, snapshot interval 0, a
//!   sleep window of ~24 days); `failsafe_tripped` trips a
//!   consecutive-failures(1) breaker with a one-hour backoff and maps the
//!   `Rejected` error to the fallback value. `spec_floor` is the least
//!   work SPEC v1 asks of a short-circuit with a fallback: a clock read at
//!   admission (the sleep window), the `SHORT_CIRCUITED` count, a fallback
//!   permit taken and given back, the `FALLBACK_SUCCESS` count, and a clock
//!   read when the fallback returns (its events' time): two reads, four
//!   read-modify-writes.
//! - `two_threads`: two threads share one command / breaker, each doing
//!   `iters` calls after a barrier; reported time is the slower thread's
//!   wall time divided by the total number of calls (`2 * iters`), i.e. the
//!   inverse of aggregate throughput. Per-thread latency is twice that.
//! - `async`: futures polled to completion by the same tiny busy-polling,
//!   no-op-waker `block_on` (none of them ever returns `Pending` here).
//!   `hystrix_async` uses a bench-local `Timer`: the command's clock, timers that never fire.
//!   `tower_limit` is `ConcurrencyLimit(10)` around a `service_fn`, without
//!   any runtime. `tower_limit_timeout` adds `Timeout(1 s)`: tower's
//!   `Timeout::call` calls `tokio::time::sleep`, which panics without a
//!   Tokio runtime context, so that contender runs inside `rt.enter()` of a
//!   current-thread runtime with timers enabled — the runtime is never
//!   driven; the futures are still polled by the same `block_on`, and since
//!   the inner future is ready at once the `Sleep` is built and dropped but
//!   never polled (i.e. never registered with the timer wheel).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use failsafe::backoff;
use failsafe::failure_policy::consecutive_failures;
use failsafe::CircuitBreaker;
use hystrix_core::{Clock, Command, Config, Error, MonotonicClock, RunError};
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Barrier;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::{Service, ServiceBuilder, ServiceExt};

/// The operation every contender wraps.
const X: u64 = 41;
/// What the open-path fallbacks return.
const FALLBACK: u64 = 7;

/// Polls `fut` to completion with a no-op waker, busy-polling if it is ever
/// pending. (`futures::task::noop_waker_ref` rather than `Waker::noop`, which
/// is newer than the workspace's `rust-version`.)
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::hint::spin_loop();
    }
}

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

fn hystrix_call(cmd: &Command) -> Result<u64, Error<()>> {
    cmd.execute(|| Ok::<_, RunError<()>>(black_box(X) + 1))
}

fn failsafe_call(breaker: &impl CircuitBreaker) -> Result<u64, failsafe::Error<()>> {
    breaker.call(|| Ok::<_, ()>(black_box(X) + 1))
}

fn failsafe_consecutive() -> impl CircuitBreaker + Clone + Send + Sync {
    failsafe::Config::new().failure_policy(consecutive_failures(3, backoff::constant(Duration::from_secs(10)))).build()
}

fn failsafe_default() -> impl CircuitBreaker + Clone + Send + Sync {
    failsafe::Config::new().build()
}

/// A command whose circuit really tripped (not forced) and stays open.
fn tripped_command() -> Command {
    let cmd = Command::new(Config {
        request_volume_threshold: 1,
        health_snapshot_interval_ms: 0,
        sleep_window_ms: i32::MAX as u64,
        ..Config::default()
    })
    .unwrap();
    let _ = cmd.execute(|| Err::<u64, _>(RunError::Failure(())));
    assert_eq!(cmd.snapshot().state, hystrix_core::CircuitState::Open);
    cmd
}

/// Runs `call(shared)` `iters` times on each of two threads; returns the
/// slower thread's time divided by two (wall time per call over `2 * iters`).
fn two_threads<S: Sync>(iters: u64, shared: &S, call: impl Fn(&S) + Sync) -> Duration {
    let barrier = Barrier::new(2);
    let slowest = std::thread::scope(|s| {
        let run = || {
            barrier.wait();
            let start = Instant::now();
            for _ in 0..iters {
                call(shared);
            }
            start.elapsed()
        };
        let a = s.spawn(run);
        let b = s.spawn(run);
        a.join().unwrap().max(b.join().unwrap())
    });
    slowest / 2
}

/// The counters the SPEC-floor contenders touch, each on its own line.
#[repr(align(64))]
#[derive(Default)]
struct Padded(AtomicU64);

/// The least work SPEC v1 asks of a call (see the module docs).
struct SpecFloor {
    clock: Arc<dyn Clock>,
    permits: Padded,
    short_circuited: Padded,
    fallback_success: Padded,
}

impl SpecFloor {
    fn new() -> SpecFloor {
        SpecFloor {
            clock: Arc::new(MonotonicClock::new()),
            permits: Padded::default(),
            short_circuited: Padded::default(),
            fallback_success: Padded::default(),
        }
    }

    /// A closed-path success: two clock reads and a permit.
    fn closed(&self) -> u64 {
        let start = self.clock.now_ms();
        self.permits.0.fetch_add(1, Ordering::AcqRel);
        let value = black_box(X) + 1;
        let end = self.clock.now_ms();
        self.permits.0.fetch_sub(1, Ordering::AcqRel);
        black_box(end.wrapping_sub(start));
        value
    }

    /// A short-circuit to a fallback: two clock reads, two counts, a permit.
    fn open(&self) -> u64 {
        black_box(self.clock.now_ms());
        self.short_circuited.0.fetch_add(1, Ordering::Relaxed);
        self.permits.0.fetch_add(1, Ordering::AcqRel);
        let value = black_box(FALLBACK);
        black_box(self.clock.now_ms());
        self.fallback_success.0.fetch_add(1, Ordering::Relaxed);
        self.permits.0.fetch_sub(1, Ordering::AcqRel);
        value
    }
}

fn closed_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("closed_path");

    let cmd = Command::new(Config::default()).unwrap();
    assert_eq!(hystrix_call(&cmd).ok(), Some(X + 1));
    g.bench_function("hystrix_sync", |b| b.iter(|| hystrix_call(&cmd)));

    let breaker = failsafe_consecutive();
    assert_eq!(failsafe_call(&breaker).ok(), Some(X + 1));
    g.bench_function("failsafe_consecutive", |b| b.iter(|| failsafe_call(&breaker)));

    let breaker = failsafe_default();
    assert_eq!(failsafe_call(&breaker).ok(), Some(X + 1));
    g.bench_function("failsafe_default", |b| b.iter(|| failsafe_call(&breaker)));

    let floor = SpecFloor::new();
    assert_eq!(floor.closed(), X + 1);
    g.bench_function("spec_floor", |b| b.iter(|| floor.closed()));

    g.finish();
}

fn open_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("open_path");

    let forced = Command::new(Config { force_open: true, ..Config::default() }).unwrap();
    let forced_call = || forced.execute_or(|| Ok::<_, RunError<()>>(black_box(X) + 1), |_| Ok(black_box(FALLBACK)));
    assert_eq!(forced_call().ok(), Some(FALLBACK));
    g.bench_function("hystrix_forced_fallback", |b| b.iter(forced_call));

    let tripped = tripped_command();
    let tripped_call = || tripped.execute_or(|| Ok::<_, RunError<()>>(black_box(X) + 1), |_| Ok(black_box(FALLBACK)));
    assert_eq!(tripped_call().ok(), Some(FALLBACK));
    g.bench_function("hystrix_tripped_fallback", |b| b.iter(tripped_call));

    let tripped = tripped_command();
    assert!(matches!(hystrix_call(&tripped), Err(Error::ShortCircuited(_))));
    g.bench_function("hystrix_tripped_error", |b| b.iter(|| hystrix_call(&tripped)));

    let breaker = failsafe::Config::new()
        .failure_policy(consecutive_failures(1, backoff::constant(Duration::from_secs(3600))))
        .build();
    let _ = breaker.call(|| Err::<u64, _>(()));
    assert!(matches!(failsafe_call(&breaker), Err(failsafe::Error::Rejected)));
    g.bench_function("failsafe_tripped", |b| b.iter(|| failsafe_call(&breaker).unwrap_or(black_box(FALLBACK))));

    let floor = SpecFloor::new();
    assert_eq!(floor.open(), FALLBACK);
    g.bench_function("spec_floor", |b| b.iter(|| floor.open()));

    g.finish();
}

fn two_threads_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("two_threads");

    let cmd = Command::new(Config::default()).unwrap();
    g.bench_function("hystrix_sync", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &cmd, |cmd| {
                black_box(hystrix_call(cmd)).unwrap();
            })
        })
    });
    // Nothing may have been rejected or short-circuited along the way.
    let snap = cmd.snapshot();
    assert_eq!(snap.state, hystrix_core::CircuitState::Closed);
    assert_eq!(snap.rolling.get(hystrix_core::EventType::SemaphoreRejected), 0);

    let breaker = failsafe_consecutive();
    g.bench_function("failsafe_consecutive", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &breaker, |br| {
                black_box(failsafe_call(br)).unwrap();
            })
        })
    });

    let breaker = failsafe_default();
    g.bench_function("failsafe_default", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &breaker, |br| {
                black_box(failsafe_call(br)).unwrap();
            })
        })
    });

    g.finish();
}

fn async_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("async");

    let cmd = Command::new(Config::default()).unwrap();
    let never = NeverFires(cmd.clock().clone());
    let hystrix_async = || block_on(cmd.execute_async(&never, async { Ok::<_, RunError<()>>(black_box(X) + 1) }));
    assert_eq!(hystrix_async().ok(), Some(X + 1));
    g.bench_function("hystrix_async", |b| b.iter(hystrix_async));

    let mut limit = ServiceBuilder::new()
        .concurrency_limit(10)
        .service_fn(|x: u64| async move { Ok::<_, Infallible>(black_box(x) + 1) });
    let mut limit_call = || block_on(async { limit.ready().await?.call(X).await });
    assert_eq!(limit_call(), Ok(X + 1));
    g.bench_function("tower_limit", |b| b.iter(&mut limit_call));

    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let _in_runtime = rt.enter();
    let mut limit_timeout = ServiceBuilder::new()
        .concurrency_limit(10)
        .timeout(Duration::from_secs(1))
        .service_fn(|x: u64| async move { Ok::<_, Infallible>(black_box(x) + 1) });
    let mut limit_timeout_call = || block_on(async { limit_timeout.ready().await?.call(X).await });
    assert_eq!(limit_timeout_call().ok(), Some(X + 1));
    g.bench_function("tower_limit_timeout", |b| b.iter(&mut limit_timeout_call));

    g.finish();
}

criterion_group!(benches, closed_path, open_path, two_threads_group, async_group);
criterion_main!(benches);
