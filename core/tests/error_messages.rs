//! Every error hystrix makes names its command and the setting behind it
//! (semantics §3, "Error messages"), in `Display` and in `Error::context`.

#[allow(dead_code)] // this file uses the executor without cancelling
mod support;

use hystrix_core::{Command, Config, Error, ErrorKind, FnClock, RunError, VirtualClock};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use support::Executor;

fn manual(name: &str, config: Config) -> (Arc<AtomicU64>, Command) {
    let now = Arc::new(AtomicU64::new(0));
    let read = now.clone();
    let cmd = Command::with_clock(name, config, Arc::new(FnClock(move || read.load(Ordering::SeqCst)))).unwrap();
    (now, cmd)
}

fn ok() -> Result<u32, RunError<String>> {
    Ok(1)
}

#[test]
fn a_timeout_names_the_command_and_timeout_ms() {
    let (now, cmd) = manual("payments", Config { timeout_ms: 250, ..Config::default() });
    let err = cmd
        .execute(|| {
            now.fetch_add(300, Ordering::SeqCst);
            ok()
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "command 'payments' timed out after 250 ms (timeout_ms)");
    let ctx = err.context().expect("a timeout has a context");
    assert_eq!(
        (ctx.kind(), ctx.command(), ctx.setting(), ctx.value()),
        (ErrorKind::Timeout, "payments", "timeout_ms", 250)
    );
}

#[test]
fn a_short_circuit_names_sleep_window_ms() {
    let config = Config {
        request_volume_threshold: 1,
        sleep_window_ms: 5000,
        health_snapshot_interval_ms: 0,
        ..Config::default()
    };
    let (_now, cmd) = manual("payments", config);
    let _ = cmd.execute(|| Err::<u32, _>(RunError::Failure("down".to_string())));
    let err = cmd.execute(ok).unwrap_err();
    assert_eq!(err.to_string(), "command 'payments': circuit open (sleep_window_ms 5000)");
    assert_eq!(err.context().unwrap().setting(), "sleep_window_ms");
}

#[test]
fn a_bulkhead_rejection_names_max_concurrent_requests() {
    let (_now, cmd) = manual("inventory", Config { max_concurrent_requests: 1, ..Config::default() });
    let inner = cmd.clone();
    let err = cmd.execute(|| inner.execute(ok).map_err(|e| RunError::Failure(e.to_string()))).unwrap_err();
    // The outer run took the one permit; the inner call was rejected.
    match err {
        Error::Failure(f) => {
            assert_eq!(f.to_string(), "command 'inventory' rejected: bulkhead full (max_concurrent_requests 1)")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_rate_limit_refusal_names_rate_limit_for_period() {
    let config = Config { rate_limit_for_period: 2, rate_limit_period_ms: 1000, ..Config::default() };
    let (_now, cmd) = manual("search", config);
    cmd.execute(ok).unwrap();
    cmd.execute(ok).unwrap();
    let err = cmd.execute(ok).unwrap_err();
    assert_eq!(err.to_string(), "command 'search' rate limited (rate_limit_for_period 2)");
}

#[test]
fn fallback_errors_name_the_command_and_their_original() {
    let (now, cmd) = manual("users", Config { timeout_ms: 100, ..Config::default() });
    let err: Error<String> = cmd
        .execute_or(
            || {
                now.fetch_add(100, Ordering::SeqCst);
                Ok(1)
            },
            |_| Err("cache down".to_string()),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "command 'users': the fallback failed: cache down (after: command 'users' timed out after 100 ms (timeout_ms))"
    );
    let config = Config { fallback_max_concurrent_requests: 1, force_open: true, ..Config::default() };
    let (_now, cmd) = manual("users", config);
    let inner = cmd.clone();
    let outer: Result<u32, Error<String>> = cmd.execute_or(ok, |_| {
        let e = inner.execute_or(ok, |_| Ok(2)).unwrap_err();
        Err(e.to_string())
    });
    let Err(Error::FallbackFailure { fallback, .. }) = outer else { panic!("{outer:?}") };
    assert_eq!(
        fallback.to_string(),
        "command 'users': fallback rejected (fallback_max_concurrent_requests 1) (after: command 'users': circuit open (force_open))"
    );
}

#[test]
fn a_deadline_timeout_names_deadline_ms() {
    let clock = VirtualClock::new();
    let config = Config { deadline_ms: 50, timeout_ms: 1000, ..Config::default() };
    let cmd = Command::with_clock("report", config, Arc::new(clock.clone())).unwrap();
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        let k2 = k.clone();
        c.execute_async(&k, async move {
            k2.sleep_until(200).await;
            Ok::<u32, RunError<String>>(1)
        })
        .await
    });
    clock.advance_with(50, || exec.settle());
    let err = out.borrow_mut().take().unwrap().unwrap_err();
    assert_eq!(err.to_string(), "command 'report' timed out after 50 ms (deadline_ms)");
}

#[test]
fn an_anonymous_command_says_so() {
    let cmd = Command::new(Config { force_open: true, ..Config::default() }).unwrap();
    assert_eq!(cmd.execute(ok).unwrap_err().to_string(), "an anonymous command: circuit open (force_open)");
}
