//! The async driver on a virtual clock: values, timeouts that drop the run,
//! fallbacks, panics, bad requests, abandonment.

mod support;

use hystrix_core::{
    Command, Config, Error, ErrorKind, EventType, Fault, RunError, Sleeper, Snapshot, Timer, VirtualClock,
};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use support::Executor;

fn command(clock: &VirtualClock, config: Config) -> Command {
    Command::with_clock("async", config, Arc::new(clock.clone())).unwrap()
}

fn quick() -> Config {
    Config { timeout_ms: 100, health_snapshot_interval_ms: 0, ..Config::default() }
}

/// Sets a flag when dropped: shows the run future was cancelled.
struct DropFlag(Rc<Cell<bool>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// A call's time source whose reading is `read`, its timers firing on
/// `timers` (which a test may leave behind: late timers).
struct Split<F> {
    read: F,
    timers: VirtualClock,
}

impl<F: Fn() -> u64> Timer for Split<F> {
    type Sleep = hystrix_core::virtual_clock::VirtualSleep;
    fn now_ms(&self) -> u64 {
        (self.read)()
    }
    fn sleep_until(&self, deadline_ms: u64) -> Self::Sleep {
        Sleeper::sleep_until(&self.timers, deadline_ms)
    }
}

fn snap(cmd: &Command, clock: &VirtualClock) -> Snapshot {
    cmd.snapshot_at(clock.now_ms())
}

#[test]
fn a_slow_success_returns_the_run_value() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, quick());
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        c.execute_async(&k, async {
            k.sleep_until(40).await;
            Ok::<_, RunError<String>>(5)
        })
        .await
    });
    assert!(out.borrow().is_none());
    assert_eq!(snap(&cmd, &clock).concurrent, 1);
    clock.advance_with(40, || exec.settle());
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 5);
    let s = snap(&cmd, &clock);
    assert_eq!((s.concurrent, s.rolling.get(EventType::Success)), (0, 1));
    assert_eq!(s.latency_run.p100, 40);
}

#[test]
fn a_timeout_drops_the_run_and_falls_back() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, quick());
    let exec = Executor::default();
    let dropped = Rc::new(Cell::new(false));
    let (c, k, d) = (cmd.clone(), clock.clone(), dropped.clone());
    let out = exec.spawn(async move {
        c.execute_async_or(
            &k,
            async {
                let _flag = DropFlag(d);
                k.sleep_until(500).await;
                Ok::<u32, RunError<String>>(1)
            },
            |cause: &Error<String>| {
                let kind = cause.kind();
                async move { Ok(if kind == ErrorKind::Timeout { 99 } else { 0 }) }
            },
        )
        .await
    });
    clock.advance_with(99, || exec.settle());
    assert!(!dropped.get() && out.borrow().is_none());
    clock.advance_with(1, || exec.settle());
    assert!(dropped.get(), "the run future is dropped at the deadline");
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 99);
    let s = snap(&cmd, &clock);
    assert_eq!(s.concurrent, 0, "permit released when the run is dropped");
    assert_eq!(s.rolling.get(EventType::Timeout), 1);
    assert_eq!(s.rolling.get(EventType::FallbackSuccess), 1);
    assert_eq!(clock.next_deadline(), None, "the run's own timer was disarmed");
}

#[test]
fn a_timeout_without_fallback_is_a_timeout_error() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, quick());
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move { c.execute_async(&k, std::future::pending::<Result<(), RunError<()>>>()).await });
    clock.advance_with(100, || exec.settle());
    assert!(matches!(out.borrow_mut().take().unwrap(), Err(Error::Timeout(_))));
    assert_eq!(snap(&cmd, &clock).rolling.get(EventType::FallbackMissing), 1);
}

#[test]
fn failures_panics_and_bad_requests() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, quick());
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        let failed = c.execute_async(&k, async { Err::<(), _>(RunError::Failure("down")) }).await;
        let panicked = c
            .execute_async_or(&k, async { panic!("boom") }, |cause: &Error<&str>| {
                let text = cause.to_string();
                async move { Ok::<String, &str>(text) }
            })
            .await;
        let bad = c
            .execute_async_or(&k, async { Err::<String, _>(RunError::BadRequest("no id")) }, |_: &Error<&str>| async {
                Ok::<String, &str>("never".into())
            })
            .await;
        let fb_fail = c
            .execute_async_or(&k, async { Err::<(), _>(RunError::Failure("a")) }, |_: &Error<&str>| async {
                Err::<(), &str>("b")
            })
            .await;
        (failed, panicked, bad, fb_fail)
    });
    let (failed, panicked, bad, fb_fail) = out.borrow_mut().take().unwrap();
    assert!(matches!(failed, Err(Error::Failure(Fault::Error("down")))));
    assert_eq!(panicked.unwrap(), "the run failed: panicked: boom");
    assert!(matches!(bad, Err(Error::BadRequest("no id"))));
    match fb_fail {
        Err(Error::FallbackFailure { original, fallback: Fault::Error("b"), .. }) => {
            assert!(matches!(*original, Error::Failure(Fault::Error("a"))))
        }
        other => panic!("unexpected {other:?}"),
    }
    let s = snap(&cmd, &clock);
    assert_eq!(s.rolling.get(EventType::Failure), 3);
    assert_eq!(s.rolling.get(EventType::BadRequest), 1);
    assert_eq!(s.rolling.get(EventType::FallbackFailure), 1);
    assert_eq!(s.health.total, 3);
}

#[test]
fn dropping_the_call_releases_its_permit_and_probe_slot() {
    let clock = VirtualClock::new();
    let cmd =
        command(&clock, Config { request_volume_threshold: 1, sleep_window_ms: 50, timeout_enabled: false, ..quick() });
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    exec.spawn(async move { c.execute_async(&k, async { Err::<(), _>(RunError::Failure(())) }).await });
    assert_eq!(snap(&cmd, &clock).state.as_str(), "open");
    clock.advance(50);
    let (c, k) = (cmd.clone(), clock.clone());
    exec.spawn(async move { c.execute_async(&k, std::future::pending::<Result<(), RunError<()>>>()).await });
    assert_eq!(snap(&cmd, &clock).concurrent, 1);
    assert_eq!(snap(&cmd, &clock).state.as_str(), "half_open");
    exec.cancel(1);
    assert_eq!(snap(&cmd, &clock).concurrent, 0);
    // The abandoned probe decided nothing; its slot is free for a new probe.
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move { c.execute_async(&k, async { Ok::<_, RunError<()>>(3) }).await });
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 3);
    assert_eq!(snap(&cmd, &clock).state.as_str(), "closed");
}

#[test]
fn a_full_fallback_limit_is_fallback_rejected() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, Config { fallback_max_concurrent_requests: 1, ..quick() });
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let slow = exec.spawn(async move {
        c.execute_async_or(&k, async { Err::<u8, _>(RunError::Failure(1)) }, |_: &Error<i32>| {
            let k2 = k.clone();
            async move {
                k2.sleep_until(30).await;
                Ok(1)
            }
        })
        .await
    });
    assert_eq!(snap(&cmd, &clock).fallback_concurrent, 1);
    let (c, k) = (cmd.clone(), clock.clone());
    let refused = exec.spawn(async move {
        c.execute_async_or(&k, async { Err::<u8, _>(RunError::Failure(2)) }, |_: &Error<i32>| async { Ok(2) }).await
    });
    match refused.borrow_mut().take().unwrap() {
        Err(Error::FallbackRejected { original, .. }) => assert!(matches!(*original, Error::Failure(Fault::Error(2)))),
        other => panic!("unexpected {other:?}"),
    }
    clock.advance_with(30, || exec.settle());
    assert_eq!(slow.borrow_mut().take().unwrap().unwrap(), 1);
    assert_eq!(snap(&cmd, &clock).fallback_concurrent, 0);
}

/// A clock that panics once the run is in flight: the panic reaches
/// whoever polls the call, and the permit is given back (the abandon guard
/// used to read the clock again while unwinding, which aborts the process).
#[test]
fn a_clock_that_panics_mid_call_gives_the_permit_back() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let armed = Arc::new(AtomicBool::new(false));
    let trap = armed.clone();
    // Broken from the run on until the test mends it: every read panics.
    let sleeper = Split {
        read: move || {
            if trap.load(Ordering::SeqCst) {
                panic!("clock broke");
            }
            0
        },
        timers: VirtualClock::new(),
    };
    let cmd = Command::new(Config { max_concurrent_requests: 1, ..Config::default() }).unwrap();
    let call = cmd.execute_async(&sleeper, async {
        armed.store(true, Ordering::SeqCst);
        Ok::<_, RunError<()>>(1)
    });
    let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| futures::executor::block_on(call)));
    assert!(hit.is_err(), "the clock's panic reaches the caller");
    armed.store(false, Ordering::SeqCst);
    assert_eq!(cmd.snapshot_at(0).concurrent, 0);
    let again = futures::executor::block_on(cmd.execute_async(&sleeper, async { Ok::<_, RunError<()>>(2) }));
    assert_eq!(again.unwrap(), 2);
}

/// The run's end read at or past its deadline is a timeout, even when the
/// timer has not fired yet (a late timer): the value is discarded, as the
/// sync driver does (issue: the async path returned it as a success).
#[test]
fn a_run_read_as_ending_at_its_deadline_times_out_though_the_timer_is_late() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let now = Arc::new(AtomicU64::new(0));
    let read = now.clone();
    // The timers' clock is never advanced: they stay late.
    let late_timers = Split { read: move || read.load(Ordering::SeqCst), timers: VirtualClock::new() };
    let cmd = Command::new(Config { timeout_ms: 100, ..Config::default() }).unwrap();
    let run = async {
        now.store(100, Ordering::SeqCst);
        Ok::<_, RunError<()>>("late value")
    };
    let out = futures::executor::block_on(cmd.execute_async_or(&late_timers, run, |cause| {
        assert_eq!(cause.kind(), ErrorKind::Timeout);
        std::future::ready(Ok("fallback"))
    }));
    assert_eq!(out.unwrap(), "fallback");
    let snap = cmd.snapshot_at(100);
    assert_eq!((snap.cumulative.get(EventType::Success), snap.cumulative.get(EventType::Timeout)), (0, 1));
    assert_eq!(snap.concurrent, 0);
}
