//! Per-call overhead of the layer, in one process: a bare tower service,
//! the same work through the command directly (`Command::run_async` with
//! tokio's timer), and through `HystrixLayer` — interleaved rounds, the
//! median of each, and the ratios. Run it in release:
//!
//! ```sh
//! cargo run --release -p hystrix-tower --example overhead [ROUNDS]
//! ```

use hystrix_core::{Command, Config, Error, RunError};
use hystrix_tower::{HystrixLayer, TokioSleeper};
use std::hint::black_box;
use std::time::Instant;
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
    let started = Instant::now();
    for n in 0..CALLS {
        let svc = svc.ready().await.unwrap();
        black_box(svc.call(n).await.unwrap());
    }
    started.elapsed().as_nanos() as f64 / CALLS as f64
}

/// Nanoseconds per call through the command directly.
async fn direct(cmd: &Command, sleeper: &TokioSleeper) -> f64 {
    let started = Instant::now();
    for n in 0..CALLS {
        let result: Result<u64, Error<std::io::Error>> =
            cmd.run_async(sleeper, |_| async move { work(n).await.map_err(RunError::Failure) }).await;
        black_box(result.unwrap());
    }
    started.elapsed().as_nanos() as f64 / CALLS as f64
}

/// Nanoseconds per call through the layer.
async fn layered(cmd: &Command) -> f64 {
    let mut svc = HystrixLayer::new(cmd.clone()).layer(service_fn(work));
    let started = Instant::now();
    for n in 0..CALLS {
        let svc = svc.ready().await.unwrap();
        black_box(svc.call(n).await.unwrap());
    }
    started.elapsed().as_nanos() as f64 / CALLS as f64
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let rounds: usize = match std::env::args().nth(1) {
        None => 15,
        Some(arg) => arg.parse().unwrap_or_else(|_| panic!("ROUNDS must be a positive integer, got {arg:?}")),
    };
    assert!(rounds > 0, "ROUNDS must be a positive integer, got 0");
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    println!("per-call time, median of {rounds} interleaved rounds of {CALLS} calls (ns/call)");
    for (label, config) in [
        ("timeout on (1000 ms, default)", Config::default()),
        ("timeout off", Config { timeout_enabled: false, ..Config::default() }),
    ] {
        let cmd = Command::new(config).unwrap();
        let sleeper = TokioSleeper::for_command(&cmd);
        let (mut b, mut d, mut l) = (Vec::new(), Vec::new(), Vec::new());
        rt.block_on(async {
            // Warm-up.
            bare().await;
            direct(&cmd, &sleeper).await;
            layered(&cmd).await;
            for _ in 0..rounds {
                b.push(bare().await);
                d.push(direct(&cmd, &sleeper).await);
                l.push(layered(&cmd).await);
            }
        });
        let (b, d, l) = (median(b), median(d), median(l));
        println!("{label}:");
        println!("  bare tower service      {b:8.1}");
        println!("  command.run_async       {d:8.1}   ({:.2}x bare)", d / b);
        println!(
            "  HystrixLayer            {l:8.1}   ({:.2}x bare, {:.2}x direct, +{:.1} ns over direct)",
            l / b,
            l / d,
            l - d
        );
    }
}
