//! A call reads every time from the time source it is given, never from
//! the command's own clock (issue 9, "one time source"): the async drivers
//! from their `Timer`, the blocking `execute_on` from its clock. A command
//! with no clock of its own (`TimePassedIn`) works with them, and a command
//! whose clock disagrees with the timer cannot mix the two times in one
//! call (before, admission read the command's clock while timers fired on
//! the sleeper's: a deadline 1,000,000 ms away on the timer).

mod support;

use hystrix_core::{
    Command, Config, Error, ErrorKind, EventType, FnClock, Jitter, RunError, TimePassedIn, VirtualClock,
};
use std::sync::Arc;
use support::Executor;

fn config() -> Config {
    Config { timeout_ms: 100, health_snapshot_interval_ms: 0, ..Config::default() }
}

fn retrying() -> Config {
    Config { retry_max_attempts: 3, retry_jitter: Jitter::None, retry_base_delay_ms: 50, ..config() }
}

/// A command whose clock is not the timer's: it reads a million.
fn far_clock(config: Config) -> Command {
    Command::with_clock("far", config, Arc::new(FnClock(|| 1_000_000))).unwrap()
}

fn no_clock(config: Config) -> Command {
    Command::with_clock("passed-in", config, Arc::new(TimePassedIn)).unwrap()
}

/// A run that never ends times out at the timer's 100 ms, and the
/// latency recorded is the timer's 100 ms.
fn times_out_on_the_timer(cmd: &Command, general: bool) {
    let clock = VirtualClock::new();
    clock.advance(7);
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        let never = std::future::pending::<Result<u32, RunError<String>>>();
        if general {
            c.run_async(&k, |_| std::future::pending::<Result<u32, RunError<String>>>()).await
        } else {
            c.execute_async(&k, never).await
        }
    });
    assert_eq!(clock.next_deadline(), Some(107), "the deadline is armed on the timer's time");
    clock.advance_with(99, || exec.settle());
    assert!(out.borrow().is_none(), "not due yet on the timer");
    clock.advance_with(1, || exec.settle());
    let err = out.borrow_mut().take().expect("settled at the timer's deadline").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let s = cmd.snapshot_at(clock.now_ms());
    assert_eq!((s.concurrent, s.rolling.get(EventType::Timeout)), (0, 1));
    assert_eq!(s.latency_total.p100, 100, "latency measured on the timer");
}

#[test]
fn execute_async_takes_every_time_from_its_timer() {
    assert_eq!(far_clock(config()).now_ms(), 1_000_000, "the command's own clock is far from the timer's");
    times_out_on_the_timer(&far_clock(config()), false);
    times_out_on_the_timer(&no_clock(config()), false);
}

#[test]
fn run_async_takes_every_time_from_its_timer() {
    times_out_on_the_timer(&far_clock(config()), true);
    times_out_on_the_timer(&no_clock(config()), true);
    // The general driver proper (retry configured): same.
    times_out_on_the_timer(&far_clock(Config { retry_max_attempts: 2, retry_on_timeout: false, ..config() }), true);
}

#[test]
fn backoff_runs_on_the_timer_of_a_command_with_no_clock() {
    let cmd = no_clock(retrying());
    let clock = VirtualClock::new();
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move {
        c.run_async(&k, |attempt| async move {
            if attempt.0 < 3 {
                Err(RunError::Failure("blip"))
            } else {
                Ok(attempt.0)
            }
        })
        .await
    });
    exec.settle();
    assert_eq!(clock.next_deadline(), Some(50), "first backoff on the timer");
    clock.advance_with(50, || exec.settle());
    assert_eq!(clock.next_deadline(), Some(150), "second backoff, doubled");
    clock.advance_with(100, || exec.settle());
    let result: Result<u32, Error<&str>> = out.borrow_mut().take().unwrap();
    assert_eq!(result.unwrap(), 3);
    let s = cmd.snapshot_at(clock.now_ms());
    assert_eq!((s.rolling.get(EventType::Retry), s.rolling.get(EventType::Success)), (2, 1));
}

#[test]
fn a_dropped_call_of_a_command_with_no_clock_is_cancelled_at_the_timer_time() {
    for general in [false, true] {
        let cmd = no_clock(Config { retry_max_attempts: if general { 2 } else { 1 }, ..config() });
        let clock = VirtualClock::new();
        let exec = Executor::default();
        let (c, k) = (cmd.clone(), clock.clone());
        let _out = exec
            .spawn(async move { c.run_async(&k, |_| std::future::pending::<Result<u32, RunError<String>>>()).await });
        clock.advance_with(30, || exec.settle());
        exec.cancel(0);
        let s = cmd.snapshot_at(clock.now_ms());
        assert_eq!((s.concurrent, s.rolling.get(EventType::Cancelled)), (0, 1), "general driver: {general}");
        // The timer the call armed fires later into nothing.
        clock.advance_with(200, || exec.settle());
        assert_eq!(cmd.snapshot_at(clock.now_ms()).rolling.get(EventType::Timeout), 0);
    }
}

/// The blocking driver with a clock given per call (`execute_on`): the
/// call's times are that clock's, not the command's own.
#[test]
fn execute_on_reads_only_the_clock_it_is_given() {
    for cmd in [far_clock(config()), no_clock(config())] {
        let clock = VirtualClock::new();
        clock.advance(5);
        let slow = cmd.execute_on(&clock, || {
            clock.advance(100);
            Ok::<_, RunError<()>>(1)
        });
        assert_eq!(slow.unwrap_err().kind(), ErrorKind::Timeout, "judged on the given clock");
        let fell_back = cmd.execute_or_on(
            &clock,
            || {
                clock.advance(30);
                Err(RunError::Failure(()))
            },
            |cause| {
                assert_eq!(cause.kind(), ErrorKind::Failure);
                clock.advance(2);
                Ok(7)
            },
        );
        assert_eq!(fell_back.unwrap(), 7);
        let s = cmd.snapshot_at(clock.now_ms());
        assert_eq!((s.rolling.get(EventType::Timeout), s.rolling.get(EventType::Failure)), (1, 1));
        assert_eq!(s.latency_run.p100, 100, "run latency on the given clock");
        assert_eq!(s.concurrent, 0);
    }
}

/// The fallback paths read the timer too: the fallback's end (its latency)
/// and the time named by the original error (a timeout past `deadline_ms`).
#[test]
fn fallback_paths_read_only_the_timer() {
    for general in [false, true] {
        for cmd in [far_clock(config()), no_clock(config())] {
            let clock = VirtualClock::new();
            let exec = Executor::default();
            let (c, k) = (cmd.clone(), clock.clone());
            let out = exec.spawn(async move {
                let fallback = |cause: &Error<String>| {
                    assert_eq!(cause.kind(), ErrorKind::Failure);
                    std::future::ready(Ok(7))
                };
                let fails = || std::future::ready(Err::<u32, _>(RunError::Failure("down".to_string())));
                if general {
                    c.run_async_or(&k, |_| fails(), fallback).await
                } else {
                    c.execute_async_or(&k, fails(), fallback).await
                }
            });
            exec.settle();
            assert_eq!(out.borrow_mut().take().unwrap().unwrap(), 7, "general driver: {general}");
            let s = cmd.snapshot_at(clock.now_ms());
            assert_eq!(s.rolling.get(EventType::FallbackSuccess), 1);
            assert_eq!(s.latency_total.p100, 0, "total latency on the timer (0 ms)");
        }
    }
    // A call stopped by its deadline: the original error names
    // `deadline_ms` and the time the call took, on the timer.
    for cmd in [far_clock(Config { deadline_ms: 50, ..config() }), no_clock(Config { deadline_ms: 50, ..config() })] {
        let clock = VirtualClock::new();
        let exec = Executor::default();
        let (c, k) = (cmd.clone(), clock.clone());
        let out = exec.spawn(async move {
            c.run_async_or(
                &k,
                |_| std::future::pending::<Result<String, RunError<String>>>(),
                |cause: &Error<String>| std::future::ready(Ok(cause.to_string())),
            )
            .await
        });
        clock.advance_with(50, || exec.settle());
        let text = out.borrow_mut().take().expect("settled at the deadline").unwrap();
        assert!(text.contains("50 ms") && text.contains("deadline_ms"), "{text}");
    }
}

/// `execute_on` through the call machine (a deadline configured): the
/// per-call clock decides there too.
#[test]
fn execute_on_through_the_call_machine_reads_only_its_clock() {
    for cmd in
        [far_clock(Config { deadline_ms: 1_000, ..config() }), no_clock(Config { deadline_ms: 1_000, ..config() })]
    {
        let clock = VirtualClock::new();
        let slow = cmd.execute_on(&clock, || {
            clock.advance(100);
            Ok::<_, RunError<()>>(1)
        });
        assert_eq!(slow.unwrap_err().kind(), ErrorKind::Timeout, "judged on the given clock");
        let s = cmd.snapshot_at(clock.now_ms());
        assert_eq!((s.rolling.get(EventType::Timeout), s.concurrent), (1, 0));
        assert_eq!(s.latency_run.p100, 100);
    }
}
