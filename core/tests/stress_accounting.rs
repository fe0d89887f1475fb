//! Exact accounting under contention: threads drive calls through one
//! command with random outcomes, timeouts, snapshots and window reshapes,
//! on a shared clock whose rolling window wraps every few hundred calls.
//! Every event a call records must land in the cumulative counts exactly
//! once (and they never go down between snapshots), `concurrent` must never
//! read above the bulkhead's limit, and every permit must come back.
//!
//! Sized for `make test` (about a second); `HYSTRIX_STRESS_SCALE=N`
//! multiplies the number of calls for longer soaks.

use hystrix_core::{Command, Config, EventType, Execution, FnClock, RunOutcome, Step};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};

/// A small deterministic generator per thread (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn scale() -> u64 {
    std::env::var("HYSTRIX_STRESS_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
}

const LIMIT: u64 = 3;

fn config(window_ms: u64) -> Config {
    Config {
        max_concurrent_requests: LIMIT,
        fallback_max_concurrent_requests: 2,
        timeout_ms: 3,
        rolling_window_ms: window_ms,
        rolling_window_buckets: 4,
        request_volume_threshold: 5,
        sleep_window_ms: 2,
        half_open_max_calls: 2,
        health_snapshot_interval_ms: 1,
        ..Config::default()
    }
}

/// One call with a random outcome; returns the events it recorded.
fn one_call(cmd: &Command, now: &AtomicU64, rng: &mut Rng) -> u64 {
    let t = |rng: &mut Rng| {
        // The shared clock moves on now and then: the 4-bucket window of
        // 4-8 ms wraps every few hundred calls.
        if rng.below(8) == 0 {
            now.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            now.load(Ordering::Relaxed)
        }
    };
    let has_fallback = rng.below(2) == 0;
    let start = t(rng);
    let (mut ex, mut step) = Execution::start(cmd, start, has_fallback);
    if let Step::Run { .. } = step {
        step = match rng.below(10) {
            0 => {
                let s = ex.timer_fired(cmd, t(rng));
                ex.run_stopped(cmd);
                s
            }
            1 => ex.run_finished(cmd, t(rng), RunOutcome::BadRequest),
            2..=4 => ex.run_finished(cmd, t(rng), RunOutcome::Failure),
            _ => ex.run_finished(cmd, t(rng), RunOutcome::Success),
        };
    }
    if let Step::Fallback { .. } = step {
        step = ex.fallback_finished(cmd, t(rng), rng.below(3) != 0);
    }
    assert!(matches!(step, Step::Done(_)), "every call settles: {step:?}");
    assert!(ex.is_done() && !ex.holds_permit());
    ex.events().count() as u64
}

fn run(threads: usize, calls_per_thread: u64, reshape: bool) {
    let now = Arc::new(AtomicU64::new(0));
    let read = now.clone();
    let clock = Arc::new(FnClock(move || read.load(Ordering::Relaxed)));
    let cmd = Command::with_clock("stress", config(4), clock).unwrap();
    let start = Arc::new(Barrier::new(threads + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            let (cmd, now, start) = (cmd.clone(), now.clone(), start.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
                start.wait();
                (0..calls_per_thread).map(|_| one_call(&cmd, &now, &mut rng)).sum::<u64>()
            })
        })
        .collect();
    // The observer: snapshots (which refresh health and may trip) and, if
    // asked, window reshapes between 4 and 8 ms, while the calls run.
    let observer = {
        let (cmd, now, start, stop) = (cmd.clone(), now.clone(), start.clone(), stop.clone());
        std::thread::spawn(move || {
            start.wait();
            let mut worst = 0;
            let mut flip = false;
            let (mut last_total, mut dips) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                let snap = cmd.snapshot_at(now.load(Ordering::Relaxed));
                worst = worst.max(snap.concurrent);
                // Cumulative counts only ever grow, snapshot to snapshot,
                // through bucket recycles and reshapes.
                let total = snap.cumulative.total();
                if total < last_total {
                    dips += 1;
                }
                last_total = last_total.max(total);
                if reshape {
                    flip = !flip;
                    cmd.set_config(config(if flip { 8 } else { 4 })).unwrap();
                }
                std::thread::yield_now();
            }
            (worst, dips)
        })
    };
    let recorded: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    stop.store(true, Ordering::Relaxed);
    let (worst, dips) = observer.join().unwrap();
    assert_eq!(dips, 0, "the cumulative total went down {dips} times between snapshots");
    let snap = cmd.snapshot_at(now.load(Ordering::Relaxed));
    let counted = snap.cumulative.total();
    assert_eq!(
        counted,
        recorded,
        "{threads} threads{}: {recorded} events recorded, {counted} in the cumulative counts",
        if reshape { " with reshapes" } else { "" }
    );
    assert!(worst <= LIMIT as u32, "concurrent read {worst} with a limit of {LIMIT}");
    assert_eq!((snap.concurrent, snap.fallback_concurrent), (0, 0), "every permit came back");
    let calls = threads as u64 * calls_per_thread;
    let executions: u64 = EventType::ALL.iter().filter(|e| e.is_execution()).map(|&e| snap.cumulative.get(e)).sum();
    assert_eq!(executions, calls, "exactly one execution event per call");
}

#[test]
fn every_event_is_counted_once_at_2_threads() {
    run(2, 100_000 * scale(), false);
}

#[test]
fn every_event_is_counted_once_at_8_threads() {
    run(8, 25_000 * scale(), false);
}

#[test]
fn every_event_is_counted_once_at_32_threads() {
    run(32, 5_000 * scale(), false);
}

#[test]
fn every_event_is_counted_once_through_reshapes() {
    run(8, 25_000 * scale(), true);
}

/// Snapshots taken back to back while another thread calls and reshapes
/// (reusing windows) never see the cumulative total go down: a reshape's
/// drain into the base and a recycle's move into the retired counts are
/// never seen half done.
#[test]
fn cumulative_counts_never_go_down_between_snapshots() {
    let a = Config {
        circuit_breaker_enabled: false,
        rolling_window_ms: 10,
        rolling_window_buckets: 10,
        ..Config::default()
    };
    let b = Config { rolling_window_ms: 20, ..a };
    let now = Arc::new(AtomicU64::new(0));
    let read = now.clone();
    let cmd = Command::with_clock("monotonic", a, Arc::new(FnClock(move || read.load(Ordering::Relaxed)))).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (cmd, stop, now) = (cmd.clone(), stop.clone(), now.clone());
        std::thread::spawn(move || {
            let mut flip = false;
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..50 {
                    cmd.execute(|| Ok::<_, hystrix_core::RunError<()>>(())).unwrap();
                    now.fetch_add(1, Ordering::Relaxed); // a recycle every call or so
                }
                flip = !flip;
                cmd.set_config(if flip { b } else { a }).unwrap();
            }
        })
    };
    let (mut last, mut dips) = (0, 0);
    let end = std::time::Instant::now() + std::time::Duration::from_millis(1000 * scale());
    while std::time::Instant::now() < end {
        let total = cmd.snapshot_at(now.load(Ordering::Relaxed)).cumulative.total();
        if total < last {
            dips += 1;
        }
        last = last.max(total);
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(last > 0);
    assert_eq!(dips, 0, "the cumulative total went down {dips} times");
}
