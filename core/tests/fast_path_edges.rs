//! Edges of the drivers' fast paths (the closed path with no per-call
//! strategy), found in review of the session-7 optimisation: a retry budget
//! or adaptive limit turned on while a fast-path run runs still takes that
//! run's success (semantics §12, §15.1), and a deadline at the very end of
//! `u64` time still fires (semantics §1 rule 4).

use hystrix_core::{Command, Config, ErrorKind, RunError, VirtualClock};
use serde_json::json;
use std::future::Future;
use std::sync::Arc;

fn command(config: Config) -> (VirtualClock, Command) {
    let clock = VirtualClock::new();
    let cmd = Command::with_clock("edges", config, Arc::new(clock.clone())).unwrap();
    (clock, cmd)
}

#[test]
fn a_budget_turned_on_during_the_run_takes_its_success_deposit() {
    let (_clock, cmd) = command(Config::default());
    let inside = cmd.clone();
    let r = cmd.execute(|| {
        inside.configure_json(&json!({"retry_budget_percent": 50})).unwrap();
        Ok::<u32, RunError<()>>(1)
    });
    assert_eq!(r.unwrap(), 1);
    let after_first = cmd.snapshot().budget;
    cmd.execute(|| Ok::<u32, RunError<()>>(1)).unwrap();
    let after_second = cmd.snapshot().budget;
    assert_eq!(after_second - after_first, 50, "a success deposits retry_budget_percent units");
    // The first success deposited too: the reserve plus two deposits.
    let reserve = {
        let (_c, fresh) = command(Config { retry_budget_percent: 50, ..Config::default() });
        fresh.snapshot().budget
    };
    assert_eq!(after_second, reserve + 100, "the success of the run that turned the budget on deposited");
}

#[test]
fn an_adaptive_limit_turned_on_during_the_run_takes_its_sample() {
    let (_clock, cmd) = command(Config::default());
    let inside = cmd.clone();
    let r = cmd.execute(|| {
        inside
            .configure_json(&json!({
                "concurrency_limit_mode": "aimd",
                "adaptive_initial_limit": 1,
                "adaptive_min_limit": 1,
                "adaptive_window_ms": 0,
                "adaptive_window_min_samples": 1
            }))
            .unwrap();
        Ok::<u32, RunError<()>>(1)
    });
    assert_eq!(r.unwrap(), 1);
    // AIMD: one success at full use of the limit (1 in flight, limit 1)
    // closes the one-sample window and adds 1.
    assert_eq!(cmd.snapshot().limit, 2, "the run admitted in mode fixed gave its sample (semantics §15.1)");
}

#[test]
fn a_deadline_exactly_at_the_end_of_time_fires() {
    let (clock, cmd) = command(Config { timeout_ms: 100, ..Config::default() });
    clock.advance(u64::MAX - 100);
    let k = clock.clone();
    let r = cmd.execute(|| {
        k.advance(100);
        Ok::<u32, RunError<()>>(1)
    });
    assert_eq!(clock.now_ms(), u64::MAX);
    assert_eq!(r.map_err(|e| e.kind()), Err(ErrorKind::Timeout), "ended at its deadline: a TIMEOUT");
}

#[test]
fn a_deadline_past_the_end_of_time_is_never_reached() {
    let (clock, cmd) = command(Config { timeout_ms: 100, ..Config::default() });
    clock.advance(u64::MAX - 50);
    let k = clock.clone();
    let r = cmd.execute(|| {
        k.advance(50);
        Ok::<u32, RunError<()>>(1)
    });
    assert_eq!(r.unwrap(), 1, "no deadline is armed past u64 time");
}

/// The async fast path admits against the adaptive limit in force when one
/// is on (it reads the feature word once to choose how admission reads the
/// limit): with a limit of 1 and `max_concurrent_requests` 10, a second call
/// in flight is rejected.
#[test]
fn the_async_fast_path_admits_against_the_adaptive_limit() {
    let config = Config { max_concurrent_requests: 10, health_snapshot_interval_ms: 0, ..Config::default() };
    let (clock, cmd) = command(config);
    cmd.configure_json(&json!({
        "concurrency_limit_mode": "aimd",
        "adaptive_initial_limit": 1,
        "adaptive_min_limit": 1
    }))
    .unwrap();
    assert_eq!(cmd.snapshot_at(0).limit, 1);
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    for general in [false, true] {
        let first = cmd.execute_async(&clock, std::future::pending::<Result<u32, RunError<()>>>());
        let mut first = std::pin::pin!(first);
        assert!(first.as_mut().poll(&mut cx).is_pending(), "the first call holds the one permit");
        let second = if general {
            futures::executor::block_on(cmd.run_async(&clock, |_| std::future::ready(Ok::<u32, RunError<()>>(2))))
        } else {
            futures::executor::block_on(cmd.execute_async(&clock, std::future::ready(Ok::<u32, RunError<()>>(2))))
        };
        assert_eq!(second.unwrap_err().kind(), ErrorKind::Rejected, "run_async: {general}");
    }
}
