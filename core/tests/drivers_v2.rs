//! The Rust drivers with SPEC v2 strategies: the general async driver
//! (`run_async`) over the call machine — retry, hedging, rate limiting,
//! caller cancellation — and the one-attempt and blocking paths.

mod support;

use hystrix_core::{
    Clock, Command, Config, Error, ErrorKind, EventType, Fault, Jitter, MonotonicClock, Notice, RunError, Snapshot,
    Topic, VirtualClock,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use support::Executor;

fn command(clock: &VirtualClock, config: Config) -> Command {
    Command::with_clock("v2", config, Arc::new(clock.clone())).unwrap()
}

fn snap(cmd: &Command, clock: &VirtualClock) -> Snapshot {
    cmd.snapshot_at(clock.now_ms())
}

/// Every event the command records, with its time.
fn recorder(cmd: &Command) -> Arc<Mutex<Vec<(EventType, u64)>>> {
    let seen = Arc::new(Mutex::new(vec![]));
    let s = seen.clone();
    cmd.subscribe(Topic::Events, move |n| {
        if let Notice::Event { event, at_ms, .. } = n {
            s.lock().unwrap().push((*event, *at_ms));
        }
    });
    seen
}

/// SPEC §11.3's example: 3 attempts, base 100, ×2, no jitter.
fn retrying() -> Config {
    Config {
        retry_max_attempts: 3,
        retry_base_delay_ms: 100,
        retry_multiplier_permille: 2000,
        retry_jitter: Jitter::None,
        health_snapshot_interval_ms: 0,
        ..Config::default()
    }
}

/// Sets a flag when dropped: shows a run future was cancelled.
struct DropFlag(Rc<Cell<bool>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn retry_follows_the_spec_example() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let events = recorder(&cmd);
    let exec = Executor::default();
    let starts = Rc::new(RefCell::new(vec![]));
    let cause = Rc::new(RefCell::new(None));
    let (c, k, st, ca) = (cmd.clone(), clock.clone(), starts.clone(), cause.clone());
    let out = exec.spawn(async move {
        let k2 = k.clone();
        c.run_async_or(
            &k,
            move |attempt| {
                st.borrow_mut().push(k2.now_ms());
                async move { Err::<u32, _>(RunError::Failure(format!("fail {}", attempt.0))) }
            },
            move |e: &Error<String>| {
                *ca.borrow_mut() = Some(format!("{e:?}"));
                async { Ok(7) }
            },
        )
        .await
    });
    assert_eq!(*starts.borrow(), [0]);
    clock.advance_with(100, || exec.settle());
    assert_eq!(*starts.borrow(), [0, 100]);
    assert!(out.borrow().is_none());
    clock.advance_with(199, || exec.settle());
    assert!(out.borrow().is_none());
    clock.advance_with(1, || exec.settle());
    assert_eq!(*starts.borrow(), [0, 100, 300]);
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 7);
    // The fallback saw the last attempt's own error.
    assert_eq!(cause.borrow().as_deref(), Some(r#"Failure(Error("fail 3"))"#));
    use EventType::*;
    let want = [(Failure, 0), (Retry, 0), (Failure, 100), (Retry, 100), (Failure, 300), (FallbackSuccess, 300)];
    assert_eq!(*events.lock().unwrap(), want);
    let s = snap(&cmd, &clock);
    assert_eq!((s.concurrent, s.fallback_concurrent), (0, 0));
}

#[test]
fn retry_without_fallback_returns_the_last_error_and_a_panic_is_a_failure() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        c.run_async(&k, |attempt| async move {
            match attempt.0 {
                1 => panic!("boom"),
                2 => Err(RunError::Failure("second")),
                _ => Ok(attempt.0),
            }
        })
        .await
    });
    clock.advance_with(300, || exec.settle());
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 3);
    let s = snap(&cmd, &clock);
    assert_eq!((s.rolling.get(EventType::Failure), s.rolling.get(EventType::Success)), (2, 1));

    // All three fail: the caller gets the third one's error.
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        c.run_async(&k, |attempt| async move { Err::<u32, _>(RunError::Failure(attempt.0)) }).await
    });
    clock.advance_with(300, || exec.settle());
    assert!(matches!(out.borrow_mut().take().unwrap(), Err(Error::Failure(Fault::Error(3)))));
}

#[test]
fn hedging_follows_the_spec_example() {
    let clock = VirtualClock::new();
    let config =
        Config { hedge_max_attempts: 2, hedge_delay_ms: 100, health_snapshot_interval_ms: 0, ..Config::default() };
    let cmd = command(&clock, config);
    let events = recorder(&cmd);
    let exec = Executor::default();
    let primary_dropped = Rc::new(Cell::new(false));
    let (c, k, d) = (cmd.clone(), clock.clone(), primary_dropped.clone());
    let out = exec.spawn(async move {
        let k2 = k.clone();
        c.run_async(&k, move |attempt| {
            let (k, d) = (k2.clone(), d.clone());
            async move {
                let _flag = (attempt.0 == 1).then(|| DropFlag(d));
                let done_at = if attempt.0 == 1 { 300 } else { 150 };
                k.sleep_until(done_at).await;
                Ok::<_, RunError<String>>(attempt.0)
            }
        })
        .await
    });
    clock.advance_with(100, || exec.settle());
    assert_eq!(snap(&cmd, &clock).concurrent, 2, "the hedge runs beside the primary");
    clock.advance_with(49, || exec.settle());
    assert!(out.borrow().is_none());
    clock.advance_with(1, || exec.settle());
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 2, "the hedge's value");
    assert!(primary_dropped.get(), "the primary's future was dropped");
    use EventType::*;
    assert_eq!(*events.lock().unwrap(), [(Hedge, 100), (Success, 150), (Cancelled, 150)]);
    let s = snap(&cmd, &clock);
    assert_eq!(s.concurrent, 0);
    clock.advance_with(1000, || exec.settle());
    assert_eq!(events.lock().unwrap().len(), 3, "nothing more is recorded");
}

fn rate_limited(timeout_ms: u64) -> Config {
    Config {
        rate_limit_for_period: 1,
        rate_limit_period_ms: 1000,
        rate_limit_timeout_ms: timeout_ms,
        health_snapshot_interval_ms: 0,
        ..Config::default()
    }
}

#[test]
fn a_rate_limited_call_is_refused() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, rate_limited(0));
    let exec = Executor::default();
    let runs = Rc::new(Cell::new(0));
    let call = |fallback: bool| {
        let (c, k, r) = (cmd.clone(), clock.clone(), runs.clone());
        exec.spawn(async move {
            let run = move |_| {
                r.set(r.get() + 1);
                async { Ok::<u32, RunError<String>>(1) }
            };
            if fallback {
                c.run_async_or(&k, run, |e: &Error<String>| {
                    let kind = e.kind();
                    async move { Ok(if kind == ErrorKind::RateLimited { 42 } else { 0 }) }
                })
                .await
            } else {
                c.run_async(&k, run).await
            }
        })
    };
    assert_eq!(call(false).borrow_mut().take().unwrap().unwrap(), 1);
    let refused = call(false).borrow_mut().take().unwrap();
    assert!(matches!(refused, Err(Error::RateLimited(_))), "{refused:?}");
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::RateLimited);
    assert_eq!(call(true).borrow_mut().take().unwrap().unwrap(), 42, "the fallback sees rate_limited");
    assert_eq!(runs.get(), 1);
    let s = snap(&cmd, &clock);
    assert_eq!((s.rolling.get(EventType::RateLimited), s.rolling.get(EventType::FallbackSuccess)), (2, 1));
    // `execute_async` goes through the rate limiter too.
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move { c.execute_async(&k, async { Ok::<u32, RunError<String>>(1) }).await });
    assert!(matches!(out.borrow_mut().take().unwrap(), Err(Error::RateLimited(_))));
}

#[test]
fn a_rate_limited_call_waits_for_its_turn() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, rate_limited(1000));
    let exec = Executor::default();
    let starts = Rc::new(RefCell::new(vec![]));
    let call = || {
        let (c, k, st) = (cmd.clone(), clock.clone(), starts.clone());
        exec.spawn(async move {
            let k2 = k.clone();
            c.execute_async(&k, async move {
                st.borrow_mut().push(k2.now_ms());
                Ok::<u32, RunError<String>>(1)
            })
            .await
        })
    };
    let first = call();
    let second = call();
    assert_eq!(first.borrow_mut().take().unwrap().unwrap(), 1);
    assert!(second.borrow().is_none(), "waiting for its turn");
    assert_eq!(snap(&cmd, &clock).concurrent, 0, "a wait holds no permit");
    clock.advance_with(999, || exec.settle());
    assert!(second.borrow().is_none());
    clock.advance_with(1, || exec.settle());
    assert_eq!(second.borrow_mut().take().unwrap().unwrap(), 1);
    assert_eq!(*starts.borrow(), [0, 1000]);
}

#[test]
fn dropping_the_future_mid_backoff_releases_everything_and_records_nothing() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let events = recorder(&cmd);
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let runs = Rc::new(Cell::new(0));
    let r = runs.clone();
    let out = exec.spawn(async move {
        c.run_async(&k, move |_| {
            r.set(r.get() + 1);
            async { Err::<u32, _>(RunError::Failure("down")) }
        })
        .await
    });
    clock.advance_with(50, || exec.settle());
    assert_eq!(clock.next_deadline(), Some(100), "the backoff timer is armed");
    exec.cancel(0);
    assert_eq!(clock.next_deadline(), None, "its timer went with it");
    clock.advance_with(1000, || exec.settle());
    assert!(out.borrow().is_none());
    assert_eq!(runs.get(), 1);
    assert_eq!(*events.lock().unwrap(), [(EventType::Failure, 0), (EventType::Retry, 0)]);
    let s = snap(&cmd, &clock);
    assert_eq!((s.concurrent, s.fallback_concurrent), (0, 0));
}

#[test]
fn dropping_the_future_while_hedging_drops_every_run() {
    let clock = VirtualClock::new();
    let config = Config { hedge_max_attempts: 3, hedge_delay_ms: 10, ..Config::default() };
    let cmd = command(&clock, config);
    let events = recorder(&cmd);
    let exec = Executor::default();
    let dropped = Rc::new(Cell::new(0));
    let (c, k, d) = (cmd.clone(), clock.clone(), dropped.clone());
    exec.spawn(async move {
        let k2 = k.clone();
        c.run_async(&k, move |_| {
            let (k, d) = (k2.clone(), d.clone());
            async move {
                struct Count(Rc<Cell<u32>>);
                impl Drop for Count {
                    fn drop(&mut self) {
                        self.0.set(self.0.get() + 1);
                    }
                }
                let _count = Count(d);
                k.sleep_until(500).await;
                Ok::<u32, RunError<String>>(1)
            }
        })
        .await
    });
    clock.advance_with(20, || exec.settle());
    assert_eq!(snap(&cmd, &clock).concurrent, 3);
    exec.cancel(0);
    assert_eq!(dropped.get(), 3);
    assert_eq!(snap(&cmd, &clock).concurrent, 0);
    clock.advance_with(1000, || exec.settle());
    // Semantics §18.1: dropping the future cancels the call, so each of the
    // three outstanding attempts records CANCELLED, in start order.
    use EventType::*;
    assert_eq!(
        events.lock().unwrap().iter().map(|e| e.0).collect::<Vec<_>>(),
        [Hedge, Hedge, Cancelled, Cancelled, Cancelled]
    );
}

#[test]
fn execute_async_with_retry_makes_exactly_one_attempt() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        c.execute_async_or(&k, async { Err::<u32, _>(RunError::Failure("down")) }, |e: &Error<&str>| {
            let failed = matches!(e, Error::Failure(Fault::Error("down")));
            async move { Ok(if failed { 9 } else { 0 }) }
        })
        .await
    });
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 9, "settled at once, no backoff");
    clock.advance_with(1000, || exec.settle());
    let s = snap(&cmd, &clock);
    assert_eq!((s.rolling.get(EventType::Failure), s.rolling.get(EventType::Retry)), (1, 0));
    assert_eq!(s.rolling.get(EventType::FallbackSuccess), 1);
    // A timeout through the one-attempt call drops the run and times out.
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        let k2 = k.clone();
        c.execute_async(&k, async move {
            k2.sleep_until(u64::MAX).await;
            Ok::<u32, RunError<String>>(1)
        })
        .await
    });
    clock.advance_with(cmd.config().timeout_ms, || exec.settle());
    assert!(matches!(out.borrow_mut().take().unwrap(), Err(Error::Timeout(_))));
    let s = snap(&cmd, &clock);
    assert_eq!((s.rolling.get(EventType::Timeout), s.rolling.get(EventType::Retry), s.concurrent), (1, 0, 0));
}

#[test]
fn a_deadline_caps_execute_async() {
    let clock = VirtualClock::new();
    let config = Config { deadline_ms: 50, timeout_ms: 1000, ..Config::default() };
    let cmd = command(&clock, config);
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
    assert!(matches!(out.borrow_mut().take().unwrap(), Err(Error::Timeout(_))));
}

#[test]
fn blocking_execute_with_retry_makes_one_attempt_and_rate_limits() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, Config { rate_limit_for_period: 1, ..retrying() });
    let mut runs = 0;
    let r: Result<u32, Error<&str>> = cmd.execute(|| {
        runs += 1;
        Err(RunError::Failure("down"))
    });
    assert!(matches!(r, Err(Error::Failure(Fault::Error("down")))));
    assert_eq!(runs, 1);
    let r: Result<u32, Error<&str>> =
        cmd.execute_or(|| Ok(1), |e| Ok(if e.kind() == ErrorKind::RateLimited { 5 } else { 0 }));
    assert_eq!(r.unwrap(), 5);
    let s = snap(&cmd, &clock);
    assert_eq!((s.rolling.get(EventType::Retry), s.rolling.get(EventType::RateLimited)), (0, 1));
}

#[test]
fn blocking_run_retries_on_a_real_clock() {
    let config = Config {
        retry_max_attempts: 4,
        retry_base_delay_ms: 1,
        retry_multiplier_permille: 2000,
        retry_max_delay_ms: 5,
        retry_jitter: Jitter::None,
        ..Config::default()
    };
    let clock = Arc::new(MonotonicClock::new());
    let cmd = Command::with_clock("blocking", config, clock.clone()).unwrap();
    let events = recorder(&cmd);
    let mut starts = vec![];
    let r: Result<u32, Error<String>> = cmd.run(|attempt| {
        starts.push(clock.now_ms());
        if attempt.0 < 4 {
            Err(RunError::Failure(format!("blip {}", attempt.0)))
        } else {
            Ok(attempt.0)
        }
    });
    assert_eq!(r.unwrap(), 4);
    // Backoffs 1, 2 and 4 ms between the attempts.
    assert_eq!(starts.len(), 4);
    for (w, delay) in starts.windows(2).zip([1, 2, 4]) {
        assert!(w[1] >= w[0] + delay, "{starts:?}");
    }
    let kinds: Vec<_> = events.lock().unwrap().iter().map(|e| e.0).collect();
    use EventType::*;
    assert_eq!(kinds, [Failure, Retry, Failure, Retry, Failure, Retry, Success]);

    // Every attempt fails: the fallback gets the last one's error.
    let r = cmd.run_or(
        |attempt| Err::<u32, _>(RunError::Failure(format!("blip {}", attempt.0))),
        |e| match e {
            Error::Failure(Fault::Error(msg)) => Ok(msg.len() as u32 * 100 + u32::from(msg == "blip 4")),
            _ => Ok(0),
        },
    );
    assert_eq!(r.unwrap(), 601);
    assert_eq!(cmd.snapshot().concurrent, 0);
}

#[test]
fn blocking_run_waits_on_a_virtual_clock_advanced_by_another_thread() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let k = clock.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let ticker = std::thread::spawn(move || {
        while !s.load(std::sync::atomic::Ordering::SeqCst) {
            k.advance(10);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
    let mut starts = vec![];
    let r: Result<u32, Error<&str>> = cmd.run(|attempt| {
        starts.push(clock.now_ms());
        if attempt.0 < 3 {
            Err(RunError::Failure("blip"))
        } else {
            Ok(3)
        }
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    ticker.join().unwrap();
    assert_eq!(r.unwrap(), 3);
    assert!(starts[1] >= starts[0] + 100 && starts[2] >= starts[1] + 200, "{starts:?}");
}

#[test]
fn blocking_run_with_hedging_makes_one_attempt() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, Config { hedge_max_attempts: 3, hedge_delay_ms: 0, ..Config::default() });
    let mut runs = 0;
    let r: Result<u32, Error<&str>> = cmd.run(|_| {
        runs += 1;
        Err(RunError::Failure("down"))
    });
    assert!(matches!(r, Err(Error::Failure(_))));
    assert_eq!(runs, 1);
    assert_eq!(snap(&cmd, &clock).rolling.get(EventType::Hedge), 0);
}

#[test]
fn blocking_run_judges_a_timeout_when_the_run_returns_and_retries_it() {
    let clock = VirtualClock::new();
    let config = Config {
        timeout_ms: 50,
        retry_max_attempts: 2,
        retry_base_delay_ms: 0,
        retry_jitter: Jitter::None,
        ..Config::default()
    };
    let cmd = command(&clock, config);
    let events = recorder(&cmd);
    let r: Result<u32, Error<&str>> = cmd.run(|attempt| {
        if attempt.0 == 1 {
            clock.advance(60); // too slow: its value is discarded
            Ok(1)
        } else {
            Ok(2)
        }
    });
    assert_eq!(r.unwrap(), 2);
    use EventType::*;
    assert_eq!(*events.lock().unwrap(), [(Timeout, 60), (Retry, 60), (Success, 60)]);
    assert_eq!(snap(&cmd, &clock).concurrent, 0);
}

/// Semantics §14.2 and §9.7 with `hedge_delay_ms` 0: the hedge timer is due
/// at the primary's start but fires only once that reaction has settled, so
/// a primary that is ready at once wins alone — no hedge, no extra permit
/// (found by review: the driver used to poll timers before a fresh run).
#[test]
fn a_zero_delay_hedge_waits_for_the_primarys_immediate_outcome() {
    let clock = VirtualClock::new();
    let config = Config { hedge_max_attempts: 3, hedge_delay_ms: 0, ..Config::default() };
    let cmd = command(&clock, config);
    let events = recorder(&cmd);
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move { c.run_async(&k, |a| async move { Ok::<u32, RunError<String>>(a.0) }).await });
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 1);
    assert_eq!(*events.lock().unwrap(), [(EventType::Success, 0)]);
    // A primary that fails at once: its FAILURE comes before the hedge
    // (hedge_on_failure re-arms the timer now), then the hedges follow.
    let events = recorder(&cmd);
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        c.run_async(&k, |a| async move {
            if a.0 < 3 {
                Err(RunError::Failure("down".to_string()))
            } else {
                Ok::<u32, RunError<String>>(a.0)
            }
        })
        .await
    });
    assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 3);
    use EventType::*;
    assert_eq!(
        events.lock().unwrap().iter().map(|e| e.0).collect::<Vec<_>>(),
        [Failure, Hedge, Failure, Hedge, Success]
    );
}

/// Semantics §18.1: dropping an `execute_async` future while its run is in
/// flight is the caller's cancellation — `CANCELLED`, the permit back.
#[test]
fn dropping_an_execute_async_future_mid_run_records_cancelled() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, Config::default());
    let events = recorder(&cmd);
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    exec.spawn(async move {
        let k2 = k.clone();
        c.execute_async(&k, async move {
            k2.sleep_until(500).await;
            Ok::<u32, RunError<String>>(1)
        })
        .await
    });
    clock.advance_with(20, || exec.settle());
    assert_eq!(snap(&cmd, &clock).concurrent, 1);
    exec.cancel(0);
    assert_eq!(snap(&cmd, &clock).concurrent, 0);
    assert_eq!(*events.lock().unwrap(), [(EventType::Cancelled, 20)]);
}

/// A `VirtualClock` as a `Timer` that counts the sleeps the driver makes,
/// and whose next reading can be set to lag its sleeps by `lag` ms, once
/// (a host whose timer fires a hair before its clock reads the deadline).
#[derive(Clone)]
struct ProbeTimer {
    clock: VirtualClock,
    sleeps: Rc<Cell<u32>>,
    lag: Rc<Cell<u64>>,
}

impl ProbeTimer {
    fn new(clock: &VirtualClock) -> ProbeTimer {
        ProbeTimer { clock: clock.clone(), sleeps: Rc::new(Cell::new(0)), lag: Rc::new(Cell::new(0)) }
    }
}

impl hystrix_core::Timer for ProbeTimer {
    type Sleep = hystrix_core::virtual_clock::VirtualSleep;
    fn now_ms(&self) -> u64 {
        self.clock.now_ms() - self.lag.replace(0)
    }
    fn sleep_until(&self, deadline_ms: u64) -> Self::Sleep {
        self.sleeps.set(self.sleeps.get() + 1);
        self.clock.sleep_until(deadline_ms)
    }
}

#[test]
fn the_async_driver_makes_a_sleep_only_for_a_timer_it_waits_for() {
    let clock = VirtualClock::new();
    let cmd =
        command(&clock, Config { retry_max_attempts: 3, retry_base_delay_ms: 0, retry_max_delay_ms: 0, ..retrying() });
    let timer = ProbeTimer::new(&clock);
    let exec = Executor::default();
    // Three timeouts armed and cleared, two backoffs due at once: no sleep.
    let (c, t) = (cmd.clone(), timer.clone());
    let out = exec.spawn(async move {
        c.run_async(&t, |attempt| async move {
            if attempt.0 < 3 {
                Err(RunError::Failure("down"))
            } else {
                Ok(attempt.0)
            }
        })
        .await
    });
    assert_eq!(out.borrow_mut().take().map(|r| r.ok()), Some(Some(3)));
    assert_eq!(timer.sleeps.get(), 0);
    // Runs that never end: the call waits for each attempt's timeout (the
    // default 1000 ms, retried at once), so each of those timers gets its
    // sleep, which wakes the call when due.
    let (c, t) = (cmd.clone(), timer.clone());
    let out = exec.spawn(async move {
        c.run_async(&t, |_| async {
            std::future::pending::<()>().await;
            Ok::<u32, RunError<&str>>(0)
        })
        .await
    });
    for attempt in 1..=3 {
        assert_eq!(timer.sleeps.get(), attempt, "attempt {attempt}'s timeout");
        assert!(out.borrow().is_none());
        clock.advance_with(999, || exec.settle());
        assert!(out.borrow().is_none());
        clock.advance_with(1, || exec.settle());
    }
    assert_eq!(timer.sleeps.get(), 3);
    assert!(matches!(out.borrow_mut().take(), Some(Err(Error::Timeout(_)))), "the third attempt timed out at 3000 ms");
}

#[test]
fn sleeps_ready_before_the_reading_fire_in_arming_order() {
    // (From a review: the driver's choice among sleeps that are ready while
    // the reading says nothing is due was untested.) The hedge timer and
    // the attempt's timeout are both due at 100; the hedge timer was armed
    // first, so it fires first (semantics §1.3).
    let clock = VirtualClock::new();
    let config =
        Config { hedge_max_attempts: 2, hedge_delay_ms: 100, health_snapshot_interval_ms: 0, ..Config::default() };
    let cmd = command(&clock, Config { timeout_ms: 100, ..config });
    let events = recorder(&cmd);
    let timer = ProbeTimer::new(&clock);
    let exec = Executor::default();
    let (c, t) = (cmd.clone(), timer.clone());
    let _out = exec.spawn(async move {
        c.run_async(&t, |_| async {
            std::future::pending::<()>().await;
            Ok::<u32, RunError<&str>>(0)
        })
        .await
    });
    clock.advance(100); // both sleeps are ready; the task runs after
    timer.lag.set(1);
    exec.settle();
    let seen: Vec<EventType> = events.lock().unwrap().iter().map(|e| e.0).collect();
    let hedge = seen.iter().position(|e| *e == EventType::Hedge).expect("the hedge fired");
    let timeout = seen.iter().position(|e| *e == EventType::Timeout);
    assert!(!matches!(timeout, Some(t) if t < hedge), "{seen:?}");
}

/// A future ready at once that holds its guard until it is dropped (an
/// `async` block lets go of its locals when it returns; this does not).
struct Holding<T> {
    result: Option<T>,
    _guard: DropFlag,
}

impl<T: Unpin> std::future::Future for Holding<T> {
    type Output = T;
    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<T> {
        std::task::Poll::Ready(self.result.take().expect("polled once"))
    }
}

/// A retried attempt's future is dropped when the attempt ends, not kept
/// (the driver reuses its place for the next attempt, not its life): what
/// it holds is let go during the backoff.
#[test]
fn an_ended_attempts_future_is_dropped_before_the_backoff() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let exec = Executor::default();
    let dropped: Rc<RefCell<Vec<Rc<Cell<bool>>>>> = Rc::new(RefCell::new(vec![]));
    let (c, k, d) = (cmd.clone(), clock.clone(), dropped.clone());
    let out = exec.spawn(async move {
        c.run_async(&k, move |attempt| {
            let flag = Rc::new(Cell::new(false));
            d.borrow_mut().push(flag.clone());
            let result = if attempt.0 < 3 { Err(RunError::Failure(())) } else { Ok(attempt.0) };
            Holding { result: Some(result), _guard: DropFlag(flag) }
        })
        .await
    });
    let flags = |d: &Rc<RefCell<Vec<Rc<Cell<bool>>>>>| d.borrow().iter().map(|f| f.get()).collect::<Vec<_>>();
    assert_eq!(flags(&dropped), [true], "attempt 1 ended at 0: its future is gone while the backoff runs");
    clock.advance_with(100, || exec.settle());
    assert_eq!(flags(&dropped), [true, true]);
    clock.advance_with(200, || exec.settle());
    assert_eq!(flags(&dropped), [true, true, true]);
    assert_eq!(out.borrow_mut().take().unwrap().ok(), Some(3));
}
