//! `make demo`: a command on the real clock that succeeds, fails, times
//! out, trips, short-circuits to its fallback and recovers, printed as a
//! timeline, then its `hystrix.stream` frame and how to watch commands
//! live on the built-in dashboard.

use hystrix_core::observe::StreamOptions;
use hystrix_core::{Command, Config, Error, MonotonicClock, Notice, RunError, Topic};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the pretend dependency does on a given call.
#[derive(Clone, Copy)]
enum Backend {
    Healthy,
    Failing,
    Slow(u64),
}

fn call(cmd: &Command, backend: Backend) -> Result<String, Error<String>> {
    cmd.execute_or(
        move || match backend {
            Backend::Healthy => Ok("fresh data".to_string()),
            Backend::Failing => Err(RunError::Failure("connection refused".to_string())),
            Backend::Slow(ms) => {
                sleep(Duration::from_millis(ms));
                Ok("late data".to_string())
            }
        },
        |cause| Ok(format!("cached data (because: {cause})")),
    )
}

fn main() {
    let config = Config {
        timeout_ms: 100,
        request_volume_threshold: 4,
        error_threshold_percentage: 50,
        sleep_window_ms: 400,
        health_snapshot_interval_ms: 0,
        ..Config::default()
    };
    let clock = Arc::new(MonotonicClock::new());
    let cmd = Command::with_clock("demo", config, clock).expect("a valid configuration");
    cmd.subscribe(Topic::Transitions, |n| {
        if let Notice::Transition { from, to, at_ms, .. } = n {
            println!("t={at_ms:>5} ms   ** circuit {from} -> {to} **");
        }
    });
    println!("hystrix demo: timeout 100 ms, trips at >=50% errors over >=4 calls, sleep window 400 ms\n");
    let script: [(&str, Backend, u64); 10] = [
        ("healthy backend", Backend::Healthy, 0),
        ("healthy backend", Backend::Healthy, 20),
        ("backend fails", Backend::Failing, 20),
        ("backend hangs 150 ms", Backend::Slow(150), 20),
        ("backend fails", Backend::Failing, 20),
        ("healthy again, but the circuit is open", Backend::Healthy, 20),
        ("still inside the sleep window", Backend::Healthy, 100),
        ("after the sleep window: a probe", Backend::Healthy, 450),
        ("closed again", Backend::Healthy, 20),
        ("closed again", Backend::Healthy, 20),
    ];
    for (what, backend, pause_before) in script {
        sleep(Duration::from_millis(pause_before));
        println!("t={:>5} ms   {what}", cmd.now_ms());
        let result = call(&cmd, backend);
        let snap = cmd.snapshot();
        let shown = match &result {
            Ok(v) => format!("ok: {v}"),
            Err(e) => format!("error [{}]: {e}", e.kind()),
        };
        println!(
            "             -> {shown}\n             state={}, health: {} errors of {} ({}%)",
            snap.state, snap.health.errors, snap.health.total, snap.health.error_percentage
        );
    }
    let snap = cmd.snapshot();
    println!("\nfinal snapshot:\n{}", serde_json::to_string_pretty(&snap).expect("serialisable"));
    // The same command as the Hystrix dashboard and Turbine see it.
    let wall_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    println!(
        "\nits hystrix.stream frame (docs/observability.md):\ndata: {}",
        cmd.render_stream_frame(cmd.now_ms(), wall_ms, &StreamOptions::default())
    );
    println!(
        "\nlive dashboard: cargo run -p hystrix-core --example observe_server -- 127.0.0.1:8080\n\
         then open http://127.0.0.1:8080/hystrix (stream: /hystrix.stream, Prometheus: /metrics)"
    );
}
