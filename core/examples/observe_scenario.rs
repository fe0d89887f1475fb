//! The Rust side of the cross-language observe check
//! (`tests/observe/hosts.test.mjs`): the scenario of
//! `tests/observe/scenario/README.md` on a virtual clock, then the
//! Prometheus exposition, a line `#--stream--`, and one `hystrix.stream`
//! tick with `currentTime` 1700000000000. The C, Node and Python programs
//! next to that README print the same bytes.
//!
//! ```sh
//! cargo run -p hystrix-core --example observe_scenario
//! ```
use hystrix_core::observe::StreamOptions;
use hystrix_core::{Config, Registry, RunError, VirtualClock};
use std::sync::Arc;

fn main() {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    reg.configure("beta", Config { request_volume_threshold: 2, health_snapshot_interval_ms: 0, ..Config::default() })
        .expect("a valid configuration");
    let (alpha, beta) = (reg.get_or_create("alpha"), reg.get_or_create("beta"));
    let takes = |ms: u64, ok: bool| {
        let clock = clock.clone();
        move || {
            clock.advance(ms);
            if ok {
                Ok(1u32)
            } else {
                Err(RunError::Failure(()))
            }
        }
    };
    let _ = alpha.execute(takes(5, true));
    let _ = alpha.execute(takes(40, true));
    let _ = alpha.execute_or(takes(2, false), |_| Ok(0));
    clock.advance(100);
    let _ = beta.execute(takes(1, false));
    let _ = beta.execute(takes(1, false));
    let _ = beta.execute_or(takes(1, true), |_| Ok(0));
    clock.advance(1_000);
    let now = reg.now_ms();
    print!(
        "{}#--stream--\n{}",
        reg.render_prometheus_at(now),
        reg.render_stream_frames(now, 1_700_000_000_000, &StreamOptions::default())
    );
}
