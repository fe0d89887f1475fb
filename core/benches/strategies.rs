//! What the SPEC v2 strategies cost per call, against the crates that do
//! the same job in Rust (issue 13, "Benchmarks"). One criterion binary;
//! after criterion's groups it runs every comparison again **interleaved**
//! in this one process — each round times every contender of a comparison
//! back to back, alternating their order — and prints min / median / max
//! ns per call over the rounds and the hystrix ÷ peer ratio of each round
//! (the machine is shared and loaded: only ratios from the same round mean
//! anything). `HYSTRIX_BENCH_ROUNDS` sets the rounds (default 9, `0` skips
//! the interleaved part), `HYSTRIX_BENCH_SLOT_MS` the time per contender
//! per round (default 150).
//!
//! Comparisons (criterion group / contender):
//! - `retry`: 3 attempts, the first two fail, 0 ms backoff (no jitter), the
//!   command on a [`VirtualClock`] that is never advanced (every timer of
//!   0 ms is due at once, timeouts never fire). `hystrix_call` drives a
//!   sans-IO [`Call`] with the tiny host loop [`drive`] below (runs end at
//!   once; due timers fire earliest first), `hystrix_call_in` the same with
//!   the call made in the host's slot ([`Call::start_in`]); `hystrix_run_async` is
//!   [`Command::run_async`] with the clock as its `Sleeper`, polled by a
//!   no-op-waker `block_on`; `hystrix_run` is the blocking
//!   [`Command::run`]. `tower_retry` is `tower::retry::Retry` with a policy
//!   that retries an error twice (its backoff future is `ready(())`) around
//!   a `service_fn` that fails attempts 1 and 2 and succeeds at 3, polled
//!   by the same `block_on`. Hystrix also times each attempt out, takes a
//!   bulkhead permit per attempt and records every attempt in its circuit's
//!   window; tower's retry does none of that. The circuit is kept closed
//!   (`error_threshold_percentage: 100`; 2 failures in 3 is 66 %).
//!   `spec_floor` is the least work SPEC v2 asks of this call
//!   ([`RetryFloor`]: twelve atomic read-modify-writes and the timers'
//!   bookkeeping), the bound any implementation of the SPEC is held to.
//!   `spec_floor_windowed` ([`WindowedRetryFloor`], its own file) adds what
//!   SPEC §4, §5, §9 and §11 ask of every attempt beyond those atomics: the
//!   rolling window's bucket, the circuit's admission and trip rule on the
//!   health snapshot, the settings read live or per call, and the call's
//!   own bookkeeping.
//! - `rate_limiter`: admission only. `hystrix_start_limited` is
//!   `Call::start` (then dropped) on a real-clock command with only
//!   `rate_limit_for_period` on, at a rate no call ever reaches
//!   (10¹² per second); `hystrix_start_unlimited` the same without the
//!   limiter (the difference is the limiter's own cost); `governor_check`
//!   is `governor::RateLimiter::direct(..).check()` with a quota of 10⁹
//!   per second (its quanta clock, one read per check, like the hystrix
//!   contenders' `cmd.now_ms()`). `hystrix_limiter` is the limiter's stage
//!   alone, as `Call::start` runs it (the feature word, the four keys, the
//!   GCRA step; `bench_internals::rate_admit`), with one `cmd.now_ms()`:
//!   the work `governor_check` does. A `Call::start` also admits the first
//!   attempt (circuit, bulkhead permit, timeout timer) and dropping the
//!   call gives the permit back: governor does none of that.
//! - `hedging`: `hedge_max_attempts: 2` with a hedge delay of 60 s and a
//!   run that succeeds at once (the hedge is armed, then cleared, never
//!   fired) against the same command without hedging, both through the
//!   [`drive`] loop (`call_*`) and through `run_async` on a virtual clock
//!   (`async_*`).
//! - `v2_off`: every v2 key at its default: `Command::execute` against the
//!   v2 drivers `Command::run` and `run_async` (which fall back to the
//!   single-attempt fast paths).
//!
//! The closed path before and after the v2 work is compared with the
//! `closed_path` bench of both commits (see BENCHMARKS.md, session 5).

use criterion::{black_box, Criterion};
use governor::{Quota, RateLimiter};
use hystrix_core::{
    Action, AttemptId, Call, CallTimer, CircuitState, Command, Config, Error, Input, RunError, RunOutcome, Settlement,
    VirtualClock,
};
use std::future::{ready, Future, Ready};
use std::num::NonZeroU32;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::retry::Policy;
use tower::{Service, ServiceBuilder, ServiceExt};

#[path = "strategies/windowed_floor.rs"]
mod windowed_floor;
use windowed_floor::WindowedRetryFloor;

/// The operation every contender wraps.
const X: u64 = 41;

/// Polls `fut` to completion with a no-op waker, busy-polling if it is ever
/// pending (none of the futures here ever is).
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

/// The smallest correct host of a [`Call`] on a virtual time starting at
/// `now`: an attempt's run ends the moment it is invoked with
/// `outcome(attempt)`, a fallback returns at once, and when the call waits,
/// its earliest timer (the first armed among equals) fires at its due time.
#[inline]
fn drive(call: &mut Call, mut now: u64, outcome: impl Fn(AttemptId) -> RunOutcome) -> Settlement {
    // The call's armed timers, in arming order (a handful at most here).
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

// ----- retry -----

#[path = "strategies/retry_config.rs"]
mod retry_config;
use retry_config::retry_config;

/// Attempts 1 and 2 fail, 3 succeeds.
fn flaky_outcome(attempt: AttemptId) -> RunOutcome {
    if black_box(attempt.0) < 3 {
        RunOutcome::Failure
    } else {
        RunOutcome::Success
    }
}

fn flaky_run(attempt: AttemptId) -> Result<u64, RunError<()>> {
    if black_box(attempt.0) < 3 {
        Err(RunError::Failure(()))
    } else {
        Ok(black_box(X) + 1)
    }
}

/// Retries an error twice, with no backoff. Its request carries the
/// attempt number (the service fails the first two).
#[derive(Clone, Copy)]
struct RetryTwice {
    left: u32,
}

impl<Res, E> Policy<(u64, u32), Res, E> for RetryTwice {
    type Future = Ready<()>;

    fn retry(&mut self, req: &mut (u64, u32), result: &mut Result<Res, E>) -> Option<Self::Future> {
        if result.is_ok() || self.left == 0 {
            return None;
        }
        self.left -= 1;
        req.1 += 1;
        Some(ready(()))
    }

    fn clone_request(&mut self, req: &(u64, u32)) -> Option<(u64, u32)> {
        Some(*req)
    }
}

#[derive(Debug)]
struct Blip;

fn tower_retry_service(
) -> impl Service<(u64, u32), Response = u64, Error = Blip, Future = impl Future<Output = Result<u64, Blip>>> + Clone {
    ServiceBuilder::new().retry(RetryTwice { left: 2 }).service_fn(|(x, attempt): (u64, u32)| async move {
        if black_box(attempt) < 3 {
            Err(Blip)
        } else {
            Ok(black_box(x) + 1)
        }
    })
}

/// The contenders of one comparison, each timing `iters` calls.
type Timed<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

/// A contender's timing loop, monomorphised (no dynamic call per call).
fn timed<'a, R>(mut f: impl FnMut() -> R + 'a) -> Timed<'a> {
    Box::new(move |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        start.elapsed()
    })
}

struct Retry {
    cmd_call: Command,
    cmd_async: Command,
    cmd_run: Command,
    clock: VirtualClock,
}

impl Retry {
    fn new() -> Retry {
        let clock = VirtualClock::new();
        let cmd = |name| Command::with_clock(name, retry_config(), Arc::new(clock.clone())).unwrap();
        Retry { cmd_call: cmd("retry-call"), cmd_async: cmd("retry-async"), cmd_run: cmd("retry-run"), clock }
    }

    fn call(&self) -> Settlement {
        drive(&mut Call::start(&self.cmd_call, 0, false), 0, flaky_outcome)
    }

    /// [`Retry::call`] with the call made in `slot` ([`Call::start_in`]).
    fn call_in(&self, slot: &mut Option<Call>) -> Settlement {
        drive(Call::start_in(slot, &self.cmd_call, 0, false), 0, flaky_outcome)
    }

    fn run_async(&self) -> Result<u64, Error<()>> {
        block_on(self.cmd_async.run_async(&self.clock, |a| ready(flaky_run(a))))
    }

    fn run(&self) -> Result<u64, Error<()>> {
        self.cmd_run.run(flaky_run)
    }

    fn check(&self) {
        assert_eq!(self.call(), Settlement::Attempt(AttemptId(3)));
        assert_eq!(self.call_in(&mut None), Settlement::Attempt(AttemptId(3)));
        assert_eq!(self.run_async().ok(), Some(X + 1));
        assert_eq!(self.run().ok(), Some(X + 1));
    }

    fn check_closed(&self) {
        for cmd in [&self.cmd_call, &self.cmd_async, &self.cmd_run] {
            assert_eq!(cmd.snapshot().state, CircuitState::Closed);
        }
        self.check();
    }
}

/// The least work SPEC v2 asks of the retried call, in the spirit of the
/// `closed_path` bench's `spec_floor` (not a library, a lower bound):
/// per attempt a bulkhead permit taken and given back (a compare-and-swap,
/// a subtraction) and its outcome counted (an add); the two `RETRY`
/// markers counted (an add each); every timer (a timeout per attempt, a
/// 0 ms backoff per retry) armed and cleared in a host array. Nothing
/// else: no circuit, no window buckets, no latency, no listeners, no call
/// state to keep across inputs. Twelve atomic read-modify-writes.
struct RetryFloor {
    permits: AtomicU64,
    /// Success, failure and retry counts.
    counts: [AtomicU64; 3],
}

impl RetryFloor {
    const LIMIT: u64 = 10;

    fn new() -> RetryFloor {
        RetryFloor { permits: AtomicU64::new(0), counts: Default::default() }
    }

    #[inline]
    fn call(&self) -> Option<u64> {
        let mut timers = [(0u32, 0u64); 4];
        let mut armed = 0;
        for attempt in 1..=3u32 {
            let mut held = self.permits.load(Ordering::Relaxed);
            loop {
                if held >= Self::LIMIT {
                    return None;
                }
                match self.permits.compare_exchange_weak(held, held + 1, Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) => break,
                    Err(seen) => held = seen,
                }
            }
            timers[armed] = (attempt, 1000);
            armed += 1;
            let ok = black_box(attempt) >= 3;
            armed -= 1; // the timeout cleared
            self.permits.fetch_sub(1, Ordering::Release);
            self.counts[usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
            if ok {
                return Some(black_box(X) + 1);
            }
            self.counts[2].fetch_add(1, Ordering::Relaxed);
            timers[armed] = (10 + attempt, 0); // the backoff, due at once
            armed += 1;
            black_box(&timers);
            armed -= 1; // ... and fired
        }
        None
    }
}

fn tower_retry_call<S>(svc: &mut S) -> Result<u64, Blip>
where
    S: Service<(u64, u32), Response = u64, Error = Blip>,
{
    block_on(async { svc.ready().await?.call((X, 1)).await })
}

fn retry_group(c: &mut Criterion) {
    let r = Retry::new();
    r.check();
    let mut tower = tower_retry_service();
    assert_eq!(tower_retry_call(&mut tower).ok(), Some(X + 1));

    let mut g = c.benchmark_group("retry");
    g.bench_function("hystrix_call", |b| b.iter(|| r.call()));
    let mut slot = None;
    g.bench_function("hystrix_call_in", |b| b.iter(|| r.call_in(&mut slot)));
    g.bench_function("hystrix_run_async", |b| b.iter(|| r.run_async()));
    g.bench_function("hystrix_run", |b| b.iter(|| r.run()));
    g.bench_function("tower_retry", |b| b.iter(|| tower_retry_call(&mut tower)));
    let floor = RetryFloor::new();
    g.bench_function("spec_floor", |b| b.iter(|| floor.call()));
    let windowed = WindowedRetryFloor::new();
    g.bench_function("spec_floor_windowed", |b| b.iter(|| windowed.call(black_box(0))));
    g.finish();
    r.check_closed();
}

// ----- rate limiter -----

/// Calls admitted per second, far above anything one thread can reach.
const HUGE_RATE: u64 = 1_000_000_000_000;

struct Admission {
    limited: Command,
    unlimited: Command,
    governor: governor::DefaultDirectRateLimiter,
}

impl Admission {
    fn new() -> Admission {
        let limited = Command::new(Config { rate_limit_for_period: HUGE_RATE, ..Config::default() }).unwrap();
        let unlimited = Command::new(Config::default()).unwrap();
        let per_sec = NonZeroU32::new(1_000_000_000).unwrap();
        let governor = RateLimiter::direct(Quota::per_second(per_sec));
        Admission { limited, unlimited, governor }
    }

    #[inline]
    fn start(cmd: &Command) -> bool {
        let call = Call::start(cmd, cmd.now_ms(), false);
        black_box(&call);
        call.attempts_started() == 1
    }

    fn governor(&self) -> bool {
        self.governor.check().is_ok()
    }

    /// The rate limiter's stage alone, as `Call::start` runs it.
    #[inline]
    fn limiter(&self) -> bool {
        hystrix_core::bench_internals::rate_admit(&self.limited, self.limited.now_ms())
    }

    fn check(&self) {
        for _ in 0..1000 {
            assert!(Admission::start(&self.limited));
            assert!(Admission::start(&self.unlimited));
            assert!(self.governor());
            assert!(self.limiter());
        }
        for cmd in [&self.limited, &self.unlimited] {
            let snap = cmd.snapshot();
            assert_eq!(snap.rolling.get(hystrix_core::EventType::RateLimited), 0);
            assert_eq!(snap.rolling.get(hystrix_core::EventType::SemaphoreRejected), 0);
        }
    }
}

fn rate_limiter_group(c: &mut Criterion) {
    let a = Admission::new();
    a.check();
    let mut g = c.benchmark_group("rate_limiter");
    g.bench_function("hystrix_start_limited", |b| b.iter(|| Admission::start(&a.limited)));
    g.bench_function("hystrix_start_unlimited", |b| b.iter(|| Admission::start(&a.unlimited)));
    g.bench_function("hystrix_limiter", |b| b.iter(|| a.limiter()));
    g.bench_function("governor_check", |b| b.iter(|| a.governor()));
    g.finish();
    a.check();
}

// ----- hedging -----

struct Hedging {
    clock: VirtualClock,
    hedged: Command,
    plain: Command,
}

impl Hedging {
    fn new() -> Hedging {
        let clock = VirtualClock::new();
        let cmd = |name, config| Command::with_clock(name, config, Arc::new(clock.clone())).unwrap();
        let hedged = cmd("hedged", Config { hedge_max_attempts: 2, hedge_delay_ms: 60_000, ..Config::default() });
        let plain = cmd("plain", Config::default());
        Hedging { clock, hedged, plain }
    }

    fn call(cmd: &Command) -> Settlement {
        drive(&mut Call::start(cmd, 0, false), 0, |_| RunOutcome::Success)
    }

    fn run_async(&self, cmd: &Command) -> Result<u64, Error<()>> {
        block_on(cmd.run_async(&self.clock, |_| ready(Ok::<_, RunError<()>>(black_box(X) + 1))))
    }

    fn check(&self) {
        for cmd in [&self.hedged, &self.plain] {
            assert_eq!(Hedging::call(cmd), Settlement::Attempt(AttemptId(1)));
            assert_eq!(self.run_async(cmd).ok(), Some(X + 1));
            assert_eq!(cmd.snapshot().rolling.get(hystrix_core::EventType::Hedge), 0);
        }
        assert_eq!(self.clock.next_deadline(), None);
    }
}

fn hedging_group(c: &mut Criterion) {
    let h = Hedging::new();
    h.check();
    let mut g = c.benchmark_group("hedging");
    g.bench_function("call_hedged", |b| b.iter(|| Hedging::call(&h.hedged)));
    g.bench_function("call_plain", |b| b.iter(|| Hedging::call(&h.plain)));
    g.bench_function("async_hedged", |b| b.iter(|| h.run_async(&h.hedged)));
    g.bench_function("async_plain", |b| b.iter(|| h.run_async(&h.plain)));
    g.finish();
    h.check();
}

// ----- every v2 key at its default -----

fn v2_off_execute(cmd: &Command) -> Result<u64, Error<()>> {
    cmd.execute(|| Ok::<_, RunError<()>>(black_box(X) + 1))
}

fn v2_off_run(cmd: &Command) -> Result<u64, Error<()>> {
    cmd.run(|_| Ok::<_, RunError<()>>(black_box(X) + 1))
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

fn v2_off_execute_async(cmd: &Command) -> Result<u64, Error<()>> {
    block_on(cmd.execute_async(&NeverFires(cmd.clock().clone()), async { Ok::<_, RunError<()>>(black_box(X) + 1) }))
}

fn v2_off_run_async(cmd: &Command) -> Result<u64, Error<()>> {
    block_on(cmd.run_async(&NeverFires(cmd.clock().clone()), |_| ready(Ok::<_, RunError<()>>(black_box(X) + 1))))
}

fn v2_off_group(c: &mut Criterion) {
    let cmd = Command::new(Config::default()).unwrap();
    assert_eq!(v2_off_run(&cmd).ok(), Some(X + 1));
    assert_eq!(v2_off_run_async(&cmd).ok(), Some(X + 1));
    let mut g = c.benchmark_group("v2_off");
    g.bench_function("execute", |b| b.iter(|| v2_off_execute(&cmd)));
    g.bench_function("run", |b| b.iter(|| v2_off_run(&cmd)));
    g.bench_function("execute_async", |b| b.iter(|| v2_off_execute_async(&cmd)));
    g.bench_function("run_async", |b| b.iter(|| v2_off_run_async(&cmd)));
    g.finish();
}

// ----- the interleaved comparisons -----

/// A ratio to print: numerator, denominator, and the target (≤) if any.
type RatioSpec = (&'static str, &'static str, Option<f64>);

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 { v[v.len() / 2] } else { (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0 };
    (v[0], median, v[v.len() - 1])
}

/// Runs `contenders` interleaved for `rounds` rounds of about `slot` each
/// and prints ns per call and `ratios` (per round: from adjacent slots).
fn interleaved(
    title: &str,
    rounds: usize,
    slot: Duration,
    contenders: &mut [(&'static str, Timed<'_>)],
    ratios: &[RatioSpec],
) {
    // Calls per slot, from a short calibration of each contender.
    let iters: Vec<u64> = contenders
        .iter_mut()
        .map(|(_, f)| {
            let mut n = 16u64;
            loop {
                let t = f(n);
                if t >= slot / 8 {
                    break ((n as f64) * slot.as_secs_f64() / t.as_secs_f64()).max(1.0) as u64;
                }
                n *= 2;
            }
        })
        .collect();
    let k = contenders.len();
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); k];
    for round in 0..rounds {
        for j in 0..k {
            let i = if round % 2 == 0 { j } else { k - 1 - j };
            let t = (contenders[i].1)(iters[i]);
            ns[i].push(t.as_nanos() as f64 / iters[i] as f64);
        }
    }
    println!("\n== {title}: ns per call over {rounds} interleaved rounds (min / median / max)");
    for (i, (name, _)) in contenders.iter().enumerate() {
        let (lo, med, hi) = stats(ns[i].clone());
        println!("  {name:<26} {lo:>9.1} {med:>9.1} {hi:>9.1}");
    }
    let index = |name: &str| contenders.iter().position(|(n, _)| *n == name).expect("a contender");
    for &(num, den, target) in ratios {
        let (a, b) = (index(num), index(den));
        let per_round: Vec<f64> = ns[a].iter().zip(&ns[b]).map(|(x, y)| x / y).collect();
        let (lo, med, hi) = stats(per_round);
        let verdict = match target {
            Some(t) if med <= t => format!("   target ≤ {t}: met"),
            Some(t) => format!("   target ≤ {t}: MISSED"),
            None => String::new(),
        };
        println!("  {num} ÷ {den}: median {med:.3} (rounds {lo:.3}–{hi:.3}){verdict}");
    }
}

fn interleaved_all(rounds: usize, slot: Duration, only: &[String]) {
    let wanted = |title: &str| only.is_empty() || only.iter().any(|f| title.contains(f.as_str()));

    if wanted("retry") {
        let r = Retry::new();
        r.check();
        let mut tower = tower_retry_service();
        let floor = RetryFloor::new();
        assert_eq!(floor.call(), Some(X + 1));
        let windowed = WindowedRetryFloor::new();
        assert_eq!(windowed.call(0), Some(X + 1));
        interleaved(
            "retry (3 attempts, 2 failures, 0 ms backoff)",
            rounds,
            slot,
            &mut [
                ("hystrix_call", timed(|| r.call())),
                ("hystrix_call_in", {
                    let (r, mut slot) = (&r, None);
                    timed(move || r.call_in(&mut slot))
                }),
                ("hystrix_run_async", timed(|| r.run_async())),
                ("hystrix_run", timed(|| r.run())),
                ("tower_retry", timed(move || tower_retry_call(&mut tower))),
                ("spec_floor", timed(|| floor.call())),
                ("spec_floor_windowed", timed(|| windowed.call(black_box(0)))),
            ],
            &[
                ("spec_floor", "tower_retry", None),
                ("spec_floor_windowed", "tower_retry", None),
                ("spec_floor_windowed", "spec_floor", None),
                ("hystrix_call", "spec_floor", None),
                ("hystrix_call", "spec_floor_windowed", None),
                ("hystrix_call_in", "hystrix_call", None),
                ("hystrix_call_in", "spec_floor", None),
                ("hystrix_call_in", "spec_floor_windowed", None),
                ("hystrix_call", "tower_retry", Some(0.5)),
                ("hystrix_run_async", "tower_retry", Some(0.5)),
                ("hystrix_run", "tower_retry", Some(0.5)),
            ],
        );
        r.check_closed();
    }

    if wanted("rate_limiter") {
        let a = Admission::new();
        a.check();
        interleaved(
            "rate_limiter (admission)",
            rounds,
            slot,
            &mut [
                ("hystrix_start_limited", timed(|| Admission::start(&a.limited))),
                ("hystrix_start_unlimited", timed(|| Admission::start(&a.unlimited))),
                ("hystrix_limiter", timed(|| a.limiter())),
                ("governor_check", timed(|| a.governor())),
            ],
            &[
                ("hystrix_limiter", "governor_check", Some(1.5)),
                ("hystrix_start_limited", "governor_check", None),
                ("hystrix_start_unlimited", "governor_check", None),
                ("hystrix_start_limited", "hystrix_start_unlimited", None),
            ],
        );
        a.check();
    }

    if wanted("hedging") {
        let h = Hedging::new();
        h.check();
        interleaved(
            "hedging (armed, never fired)",
            rounds,
            slot,
            &mut [
                ("call_hedged", timed(|| Hedging::call(&h.hedged))),
                ("call_plain", timed(|| Hedging::call(&h.plain))),
                ("async_hedged", timed(|| h.run_async(&h.hedged))),
                ("async_plain", timed(|| h.run_async(&h.plain))),
            ],
            &[("call_hedged", "call_plain", None), ("async_hedged", "async_plain", None)],
        );
        h.check();
    }

    if wanted("v2_off") {
        let cmd = Command::new(Config::default()).unwrap();
        interleaved(
            "v2_off (every v2 key at its default)",
            rounds,
            slot,
            &mut [
                ("execute", timed(|| v2_off_execute(&cmd))),
                ("run", timed(|| v2_off_run(&cmd))),
                ("execute_async", timed(|| v2_off_execute_async(&cmd))),
                ("run_async", timed(|| v2_off_run_async(&cmd))),
            ],
            &[("run", "execute", None), ("run_async", "execute_async", None)],
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let test_mode = args.iter().any(|a| a == "--test" || a == "--list");
    // Positional arguments are criterion's filter; the interleaved part
    // runs the comparisons whose group name contains one of them.
    let mut only = Vec::new();
    let mut skip_value = false;
    for a in &args {
        if skip_value {
            skip_value = false;
        } else if a.starts_with("--") {
            skip_value = !a.contains('=')
                && !matches!(
                    a.as_str(),
                    "--bench" | "--test" | "--list" | "--verbose" | "--quiet" | "--noplot" | "--exact" | "--nocapture"
                );
        } else {
            only.extend(a.split('|').map(|f| f.split('/').next().unwrap_or(f).trim_start_matches('^').to_string()));
        }
    }

    let mut c = Criterion::default().configure_from_args();
    retry_group(&mut c);
    rate_limiter_group(&mut c);
    hedging_group(&mut c);
    v2_off_group(&mut c);
    c.final_summary();

    let env = |key: &str, default: u64| std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let rounds = if test_mode { 0 } else { env("HYSTRIX_BENCH_ROUNDS", 9) as usize };
    if rounds > 0 {
        interleaved_all(rounds, Duration::from_millis(env("HYSTRIX_BENCH_SLOT_MS", 150)), &only);
    }
}
