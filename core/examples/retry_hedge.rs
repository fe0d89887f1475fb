//! Retry and hedging on a real clock, through the general async driver
//! (`Command::run_async`) on a single-threaded Tokio runtime.
//!
//! 1. A flaky upstream fails for a 40 ms blip: without retry the calls made
//!    during it fail; with retry (jittered exponential backoff, a retry
//!    budget) they ride it out.
//! 2. An upstream with a slow tail (1 call in 10 takes 50 ms instead of
//!    3 ms): hedging after 8 ms cuts p99.
//!
//! Run with `cargo run -p hystrix-core --example retry_hedge` (about 1.5 s;
//! `make test` and `make demo` run it). Exits 1 if retry did not help or
//! hedging did not cut p99.

use hystrix_core::{Clock, Command, Config, Error, EventType, Jitter, RunError, Sleeper};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The command's clock and the driver's timers: Tokio's time, in
/// milliseconds since `origin`.
#[derive(Clone, Copy)]
struct TokioTime {
    origin: Instant,
}

impl Clock for TokioTime {
    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }
}

impl Sleeper for TokioTime {
    type Sleep = tokio::time::Sleep;
    fn sleep_until(&self, deadline_ms: u64) -> tokio::time::Sleep {
        tokio::time::sleep_until(self.origin + Duration::from_millis(deadline_ms))
    }
}

fn command(name: &str, time: TokioTime, config: Config) -> Command {
    Command::with_clock(name, config, Arc::new(time)).expect("a valid config")
}

/// 40 calls, 5 ms apart, to an upstream that fails for 40 ms from the
/// first one: how many succeed.
async fn blip(cmd: &Command, time: TokioTime) -> usize {
    let blip_ends = time.now_ms() + 40;
    let mut ok = 0;
    for _ in 0..40 {
        let result: Result<&str, Error<&str>> = cmd
            .run_async(&time, |_attempt| async move {
                if time.now_ms() < blip_ends {
                    Err(RunError::Failure("upstream blip"))
                } else {
                    Ok("fresh")
                }
            })
            .await;
        ok += usize::from(result.is_ok());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    ok
}

/// 100 calls to an upstream whose attempts take 3 ms, or 50 ms one time in
/// ten (a fixed pseudo-random sequence); the callers' latencies, sorted.
async fn tail(cmd: &Command, time: TokioTime) -> Vec<f64> {
    let rng = Rc::new(Cell::new(0x2545_f491_4f6c_dd1d_u64));
    let mut latencies = vec![];
    for _ in 0..100 {
        let started = Instant::now();
        let result: Result<u32, Error<&str>> = cmd
            .run_async(&time, |attempt| {
                // SplitMix64: one draw per attempt.
                let state = rng.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
                rng.set(state);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                let ms = if (z >> 32) % 10 == 0 { 50 } else { 3 };
                async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(attempt.0)
                }
            })
            .await;
        result.expect("the upstream never fails");
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    runtime.block_on(async {
        let time = TokioTime { origin: Instant::now() };

        // 1. Retry rides out a blip.
        let plain = command("blip-plain", time, Config::default());
        let retrying = command(
            "blip-retry",
            time,
            Config {
                retry_max_attempts: 5,
                retry_base_delay_ms: 10,
                retry_multiplier_permille: 2000,
                retry_max_delay_ms: 80,
                retry_jitter: Jitter::Equal,
                retry_budget_percent: 20,
                retry_budget_min_per_sec: 5,
                ..Config::default()
            },
        );
        let ok_plain = blip(&plain, time).await;
        let ok_retry = blip(&retrying, time).await;
        let counts = retrying.snapshot().rolling;
        println!("a 40 ms blip, 40 calls 5 ms apart:");
        println!("  no retry:   {ok_plain:2}/40 succeeded");
        println!(
            "  with retry: {ok_retry:2}/40 succeeded ({} retries, {} refused by the budget; budget left {})",
            counts.get(EventType::Retry),
            counts.get(EventType::RetryBudgetExhausted),
            retrying.snapshot().budget
        );

        // 2. Hedging cuts the tail.
        let unhedged = command("tail-plain", time, Config::default());
        let hedged =
            command("tail-hedged", time, Config { hedge_max_attempts: 2, hedge_delay_ms: 8, ..Config::default() });
        let plain = tail(&unhedged, time).await;
        let fast = tail(&hedged, time).await;
        println!("a slow tail (1 attempt in 10 takes 50 ms instead of 3), 100 calls:");
        println!(
            "  no hedging:          p50 {:5.1} ms, p99 {:5.1} ms",
            percentile(&plain, 50.0),
            percentile(&plain, 99.0)
        );
        println!(
            "  hedging after 8 ms:  p50 {:5.1} ms, p99 {:5.1} ms ({} hedges)",
            percentile(&fast, 50.0),
            percentile(&fast, 99.0),
            hedged.snapshot().rolling.get(EventType::Hedge)
        );
        // What the example shows, checked (`make test` runs it): retry
        // rides out the blip, hedging cuts the tail.
        let mut problems = Vec::new();
        // (A machine so loaded that no call fell in the blip proves nothing
        // either way: then retry must only not be worse.)
        if ok_retry < ok_plain || (ok_plain < 40 && ok_retry == ok_plain) {
            problems.push(format!("retry did not help: {ok_retry} against {ok_plain}"));
        }
        if percentile(&fast, 99.0) >= percentile(&plain, 99.0) {
            problems.push("hedging did not cut p99".to_string());
        }
        if !problems.is_empty() {
            eprintln!("retry_hedge: {}", problems.join("; "));
            std::process::exit(1);
        }
    });
}
