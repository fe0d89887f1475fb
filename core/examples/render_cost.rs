//! What rendering costs as the number of commands grows (issue 12's
//! benchmark): the `hystrix.stream` tick and the Prometheus exposition of a
//! registry of 1, 100 and 10,000 named commands, each with some traffic
//! (successes, failures, fallbacks, latency samples), on a virtual clock.
//! Prints, per size, the median time per render, the time per command and
//! the bytes produced. Not a test: numbers vary with the machine.
//!
//! ```sh
//! cargo run --release -p hystrix-core --example render_cost
//! ```

use hystrix_core::observe::StreamOptions;
use hystrix_core::{Registry, RunError, VirtualClock};
use std::sync::Arc;
use std::time::Instant;

fn registry(n: usize) -> (Registry, Arc<VirtualClock>) {
    let clock = Arc::new(VirtualClock::new());
    let registry = Registry::new(clock.clone());
    for i in 0..n {
        let cmd = registry.get_or_create(&format!("command-{i:05}"));
        for k in 0..20u64 {
            clock.advance(1);
            let _ = cmd.execute_or(|| if k % 5 == 0 { Err(RunError::Failure("down")) } else { Ok(k) }, |_| Ok(0));
        }
    }
    (registry, clock)
}

/// The median of `rounds` timings of `f`, in microseconds, and its output size.
fn time(rounds: usize, mut f: impl FnMut() -> String) -> (f64, usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed().as_secs_f64() * 1e6);
        bytes = out.len();
    }
    times.sort_by(|a, b| a.total_cmp(b));
    (times[rounds / 2], bytes)
}

fn main() {
    println!("| commands | render | median per render | per command | bytes |");
    println!("|---:|---|---:|---:|---:|");
    for n in [1usize, 100, 10_000] {
        let (registry, clock) = registry(n);
        let rounds = if n >= 10_000 { 5 } else { 50 };
        let now = clock.now_ms();
        let (stream_us, stream_bytes) =
            time(rounds, || registry.render_stream_frames(now, 1_796_000_000_000, &StreamOptions::default()));
        let (prom_us, prom_bytes) = time(rounds, || registry.render_prometheus_at(now));
        for (what, us, bytes) in [("stream tick", stream_us, stream_bytes), ("Prometheus", prom_us, prom_bytes)] {
            println!("| {n} | {what} | {:.1} µs | {:.2} µs | {bytes} |", us, us / n as f64);
        }
    }
}
