//! The Rust leg of `scripts/soak.sh`: `CALLS` calls through one command at
//! default settings on the real clock (a quarter failing into a fallback, a
//! sixteenth failing with none), then `CYCLES` create/call/drop cycles,
//! printing the process's resident set (`VmRSS`) after a warm-up, halfway
//! and at the end of each phase as `soak <phase> <point> <rss_kb>`; the
//! script judges the growth.
//!
//! `cargo run --release -p hystrix-core --example soak -- CALLS CYCLES`

use hystrix_core::{Command, Config, RunError};
use std::time::Instant;

/// The resident set in KiB, from /proc/self/status (0 where there is none).
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Runs `n` steps, reporting the resident set after the first tenth (the
/// warm-up), halfway and at the end.
fn phase(name: &str, n: u64, mut step: impl FnMut(u64)) {
    let start = Instant::now();
    let warm = n / 10;
    for i in 0..n {
        if i == warm {
            println!("soak {name} start {}", rss_kb());
        } else if i == warm + (n - warm) / 2 {
            println!("soak {name} middle {}", rss_kb());
        }
        step(i);
    }
    println!("soak {name} end {}", rss_kb());
    println!("soak {name} took {:.1} s for {n}", start.elapsed().as_secs_f64());
}

/// One call: success, failure into a fallback, or failure with none.
fn call(cmd: &Command, i: u64) {
    match i % 16 {
        0 => {
            let _ = cmd.execute(|| Err::<u64, _>(RunError::Failure(())));
        }
        1..=4 => {
            let _ = cmd.execute_or(|| Err::<u64, _>(RunError::Failure(())), |_| Ok(0));
        }
        _ => {
            let _ = cmd.execute(|| Ok::<_, RunError<()>>(i));
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let (Some(Ok(calls)), Some(Ok(cycles))) = (args.next(), args.next()) else {
        eprintln!("usage: soak CALLS CYCLES (two whole numbers)");
        std::process::exit(2);
    };
    let cmd = Command::new(Config::default()).expect("default settings are valid");
    phase("calls", calls, |i| call(&cmd, i));
    drop(cmd);
    phase("cycles", cycles, |i| {
        let cmd = Command::new(Config::default()).expect("default settings are valid");
        call(&cmd, i);
    });
}
