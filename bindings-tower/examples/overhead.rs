//! Per-call overhead of the layer, in one process: a bare tower service,
//! the same work through the command directly (`Command::run_async` with
//! tokio's timer), and through `HystrixLayer` (every strategy, and
//! `one_attempt()`) — interleaved rounds, the
//! minimum and median of each, and the ratios. Time is this thread's CPU
//! time (`CLOCK_THREAD_CPUTIME_ID`) on Unix, so a busy machine's
//! preemptions do not count; wall time elsewhere. Run it in release:
//!
//! ```sh
//! cargo run --release -p hystrix-tower --example overhead [ROUNDS]
//! ```

use hystrix_core::{Command, Config, Error, RunError};
use hystrix_tower::{HystrixLayer, TokioSleeper};
use std::hint::black_box;
use std::time::Instant;

/// Nanoseconds of this thread's CPU time (Unix), or wall-clock
/// nanoseconds since the first call elsewhere.
fn now_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid timespec to write; the clock id is a constant.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Nanoseconds per call since `started` (a `now_ns` reading).
fn per_call(started: u64) -> f64 {
    (now_ns() - started) as f64 / CALLS as f64
}
use tower::{service_fn, Layer, Service, ServiceExt};

/// Calls per measurement.
const CALLS: u64 = 20_000;

/// The inner service's work: nothing, so the overhead is all there is.
async fn work(n: u64) -> Result<u64, std::io::Error> {
    Ok(black_box(n))
}

/// Nanoseconds per call of `CALLS` calls of `bare` (no hystrix).
async fn bare() -> f64 {
    let mut svc = service_fn(work);
    let started = now_ns();
    for n in 0..CALLS {
        let svc = svc.ready().await.unwrap();
        black_box(svc.call(n).await.unwrap());
    }
    per_call(started)
}

/// Nanoseconds per call through the command directly.
async fn direct(cmd: &Command, sleeper: &TokioSleeper) -> f64 {
    let started = now_ns();
    for n in 0..CALLS {
        let result: Result<u64, Error<std::io::Error>> =
            cmd.run_async(sleeper, |_| async move { work(n).await.map_err(RunError::Failure) }).await;
        black_box(result.unwrap());
    }
    per_call(started)
}

/// Nanoseconds per call through the layer (every strategy).
async fn layered(cmd: &Command) -> f64 {
    let mut svc = HystrixLayer::new(cmd.clone()).layer(service_fn(work));
    let started = now_ns();
    for n in 0..CALLS {
        let svc = svc.ready().await.unwrap();
        black_box(svc.call(n).await.unwrap());
    }
    per_call(started)
}

/// Nanoseconds per call through the layer making one attempt per call.
async fn layered_one(cmd: &Command) -> f64 {
    let mut svc = HystrixLayer::new(cmd.clone()).one_attempt().layer(service_fn(work));
    let started = now_ns();
    for n in 0..CALLS {
        let svc = svc.ready().await.unwrap();
        black_box(svc.call(n).await.unwrap());
    }
    per_call(started)
}

/// The minimum and the median.
fn summary(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[0], xs[xs.len() / 2])
}

fn main() {
    let rounds: usize = match std::env::args().nth(1) {
        None => 15,
        Some(arg) => arg.parse().unwrap_or_else(|_| panic!("ROUNDS must be a positive integer, got {arg:?}")),
    };
    assert!(rounds > 0, "ROUNDS must be a positive integer, got 0");
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    println!("per-call time over {rounds} interleaved rounds of {CALLS} calls (ns/call)");
    for (label, config) in [
        ("timeout on (1000 ms, default)", Config::default()),
        ("timeout off", Config { timeout_enabled: false, ..Config::default() }),
    ] {
        let cmd = Command::new(config).unwrap();
        let sleeper = TokioSleeper::for_command(&cmd);
        let (mut b, mut d, mut l, mut o) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        rt.block_on(async {
            // Warm-up.
            bare().await;
            direct(&cmd, &sleeper).await;
            layered(&cmd).await;
            layered_one(&cmd).await;
            for _ in 0..rounds {
                b.push(bare().await);
                d.push(direct(&cmd, &sleeper).await);
                l.push(layered(&cmd).await);
                o.push(layered_one(&cmd).await);
            }
        });
        let (b, d, l, o) = (summary(b), summary(d), summary(l), summary(o));
        println!("{label}:");
        let row = |name: &str, (min, med): (f64, f64)| {
            println!(
                "  {name:<26} min {min:7.1}  median {med:7.1}   min: {:6.2}x bare, {:5.2}x direct, {:+6.1} ns over direct",
                min / b.0,
                min / d.0,
                min - d.0
            )
        };
        row("bare tower service", b);
        row("command.run_async", d);
        row("HystrixLayer", l);
        row("HystrixLayer one_attempt", o);
    }
}
