//! The sync driver: semaphore-style timeouts, panics, fallback errors, and
//! two threads through one command.

use hystrix_core::{Command, Config, Error, ErrorKind, EventType, Fault, FnClock, RunError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn manual_clock() -> (Arc<AtomicU64>, Arc<FnClock<impl Fn() -> u64 + Send + Sync>>) {
    let now = Arc::new(AtomicU64::new(0));
    let read = now.clone();
    (now, Arc::new(FnClock(move || read.load(Ordering::SeqCst))))
}

#[test]
fn a_run_that_returns_at_its_deadline_is_a_timeout() {
    let (now, clock) = manual_clock();
    let cmd = Command::with_clock("sync", Config { timeout_ms: 100, ..Config::default() }, clock).unwrap();
    let value = cmd.execute_or(
        || {
            now.fetch_add(100, Ordering::SeqCst);
            Ok::<_, RunError<String>>("late")
        },
        |cause| {
            assert_eq!(cause.kind(), ErrorKind::Timeout);
            Ok("fallback")
        },
    );
    assert_eq!(value.unwrap(), "fallback");
    let in_time = cmd.execute(|| {
        now.fetch_add(99, Ordering::SeqCst);
        Ok::<_, RunError<String>>("in time")
    });
    assert_eq!(in_time.unwrap(), "in time");
    let s = cmd.snapshot();
    assert_eq!((s.rolling.get(EventType::Timeout), s.rolling.get(EventType::Success)), (1, 1));
    assert_eq!(s.concurrent, 0);
    assert_eq!(s.latency_run.p100, 100);
}

#[test]
fn panics_count_as_failures_and_fallback_failures() {
    let (_now, clock) = manual_clock();
    let cmd = Command::with_clock("sync", Config::default(), clock).unwrap();
    let r: Result<(), Error<String>> = cmd.execute_or(|| panic!("run exploded"), |_| panic!("fallback exploded"));
    match r {
        Err(Error::FallbackFailure { original, fallback: Fault::Panic(fb), .. }) => {
            assert!(matches!(*original, Error::Failure(Fault::Panic(ref m)) if m == "run exploded"));
            assert_eq!(fb, "fallback exploded");
        }
        other => panic!("unexpected {other:?}"),
    }
    let s = cmd.snapshot();
    assert_eq!(s.rolling.get(EventType::Failure), 1);
    assert_eq!(s.rolling.get(EventType::FallbackFailure), 1);
    assert_eq!((s.concurrent, s.fallback_concurrent), (0, 0));
    // The command is still usable.
    assert_eq!(cmd.execute(|| Ok::<_, RunError<String>>(1)).unwrap(), 1);
}

#[test]
fn refusals_without_fallback_and_error_codes() {
    let (_now, clock) = manual_clock();
    let cmd = Command::with_clock("sync", Config { force_open: true, ..Config::default() }, clock).unwrap();
    let r = cmd.execute(|| Ok::<_, RunError<String>>(()));
    let err = r.unwrap_err();
    assert!(matches!(err, Error::ShortCircuited(_)));
    assert_eq!((err.code(), err.kind().as_str()), (3, "short_circuited"));
    assert_eq!(err.to_string(), "command 'sync': circuit open (force_open)");
    let codes: Vec<u32> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(codes, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for k in ErrorKind::ALL {
        assert_eq!(ErrorKind::parse(k.as_str()), Some(k));
    }
}

#[test]
fn two_threads_share_one_command_without_losing_counts() {
    // The real clock judges a synchronous run a timeout once it took
    // timeout_ms: a thread kept off the CPU mid-run on a loaded machine must
    // not turn one of these instant runs into a timeout (the default is 1 s).
    let cfg = Config { max_concurrent_requests: 2, timeout_ms: 60_000, ..Config::default() };
    let cmd = Command::new(cfg).unwrap();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let cmd = cmd.clone();
            std::thread::spawn(move || {
                for i in 0..20_000u32 {
                    let v = cmd.execute(|| Ok::<_, RunError<()>>(i)).unwrap();
                    assert_eq!(v, i);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = cmd.snapshot();
    assert_eq!(s.cumulative.get(EventType::Success), 40_000);
    assert_eq!(s.cumulative.total(), 40_000);
    assert_eq!(s.concurrent, 0);
    assert!(s.rolling_max_concurrent <= 2);
}

#[test]
fn a_rejected_fallback_keeps_the_short_circuit_as_its_original() {
    let (_now, clock) = manual_clock();
    let cfg = Config { force_open: true, fallback_max_concurrent_requests: 1, ..Config::default() };
    let cmd = Command::with_clock("sync", cfg, clock).unwrap();
    let inner = cmd.clone();
    // While the first call's fallback runs, a second call finds the fallback limit full.
    let outer: Result<u8, Error<String>> = cmd.execute_or(
        || Ok(0),
        move |_| {
            let nested: Result<u8, Error<String>> = inner.execute_or(|| Ok(0), |_| Ok(2));
            match nested {
                Err(Error::FallbackRejected { original, .. }) => {
                    assert!(matches!(*original, Error::ShortCircuited(_)), "original was {original:?}")
                }
                other => panic!("expected FallbackRejected, got {other:?}"),
            }
            Ok(1)
        },
    );
    assert_eq!(outer.unwrap(), 1);
}

/// The hot path skips the trip rule while the cached health snapshot is
/// known not to trip; a reconfiguration must end that at once, even while
/// the same snapshot is still cached.
#[test]
fn new_thresholds_apply_to_a_still_cached_snapshot() {
    let (now, clock) = manual_clock();
    let cfg = Config { request_volume_threshold: 5, health_snapshot_interval_ms: 100, ..Config::default() };
    let cmd = Command::with_clock("gate", cfg, clock).unwrap();
    let fail = || Err::<u32, _>(RunError::Failure("boom".to_string()));
    for _ in 0..2 {
        assert!(matches!(cmd.execute(fail), Err(Error::Failure(_))));
    }
    // Refreshed at 100: 2 errors of 2, under the volume threshold.
    now.store(100, Ordering::SeqCst);
    assert_eq!(cmd.execute(|| Ok::<_, RunError<String>>(1)).unwrap(), 1);
    now.store(150, Ordering::SeqCst);
    assert_eq!(cmd.execute(|| Ok::<_, RunError<String>>(2)).unwrap(), 2);
    cmd.configure_json(&serde_json::json!({ "request_volume_threshold": 2 })).unwrap();
    // Same cached snapshot (2 of 2 errors), new threshold: it trips now.
    assert!(matches!(cmd.execute(|| Ok::<_, RunError<String>>(3)), Err(Error::ShortCircuited(_))));
    assert_eq!(cmd.snapshot().state, hystrix_core::CircuitState::Open);
}

/// A late run's value is dropped only after the call's bookkeeping: a
/// panicking `Drop` must not leak the permit, lose the `TIMEOUT` or leave a
/// probe undecided (the circuit would stay half-open for good).
#[test]
fn a_late_value_whose_drop_panics_still_settles_the_call() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("drop panicked");
        }
    }
    let (now, clock) = manual_clock();
    let cfg = Config {
        timeout_ms: 100,
        request_volume_threshold: 1,
        sleep_window_ms: 10,
        health_snapshot_interval_ms: 0,
        ..Config::default()
    };
    let cmd = Command::with_clock("drop", cfg, clock).unwrap();
    assert!(cmd.execute(|| Err::<u32, _>(RunError::Failure("x".to_string()))).is_err());
    assert_eq!(cmd.snapshot().state, hystrix_core::CircuitState::Open);
    now.fetch_add(10, Ordering::SeqCst); // the next call is a probe
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cmd.execute(|| {
            now.fetch_add(100, Ordering::SeqCst); // returns at its deadline
            Ok::<_, RunError<String>>(PanicsOnDrop)
        })
    }));
    std::panic::set_hook(hook);
    assert!(outcome.is_err(), "the value's own panic reaches the caller");
    let s = cmd.snapshot();
    assert_eq!(s.concurrent, 0);
    assert_eq!(s.rolling.get(EventType::Timeout), 1);
    assert_eq!(s.state, hystrix_core::CircuitState::Open, "the timed-out probe reopened the circuit");
}

#[test]
fn a_deadline_past_the_end_of_time_never_times_a_call_out() {
    // At the very end of `u64` time the deadline cannot be represented; an
    // instant success there is a success, not a TIMEOUT (issue: the
    // deadline used to saturate at u64::MAX, which the run's end reached).
    for start in [u64::MAX, u64::MAX - 10] {
        let (now, clock) = manual_clock();
        now.store(start, Ordering::SeqCst);
        let cmd = Command::with_clock("end", Config { timeout_ms: 1000, ..Config::default() }, clock).unwrap();
        assert_eq!(cmd.execute(|| Ok::<_, RunError<()>>(7)).unwrap(), 7, "start {start}");
        let snap = cmd.snapshot();
        assert_eq!(snap.cumulative.get(EventType::Success), 1);
        assert_eq!(snap.cumulative.get(EventType::Timeout), 0);
    }
}

/// A clock that panics once a permit is held: the panic reaches the caller,
/// and the permit (a probe's slot too) is given back (issue: it leaked, and a
/// bulkhead of one then rejected every later call).
#[test]
fn a_clock_that_panics_after_admission_gives_the_permit_back() {
    use std::sync::atomic::AtomicBool;
    let (now, _) = manual_clock();
    let armed = Arc::new(AtomicBool::new(false));
    let (read, trap) = (now.clone(), armed.clone());
    let clock = Arc::new(FnClock(move || {
        if trap.swap(false, Ordering::SeqCst) {
            panic!("clock broke");
        }
        read.load(Ordering::SeqCst)
    }));
    let cmd = Command::with_clock(
        "clock",
        Config { max_concurrent_requests: 1, request_volume_threshold: 1, sleep_window_ms: 10, ..Config::default() },
        clock,
    )
    .unwrap();
    // The run arms the trap: the read after it panics.
    let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cmd.execute(|| {
            armed.store(true, Ordering::SeqCst);
            Ok::<_, RunError<()>>(1)
        })
    }));
    assert!(hit.is_err(), "the clock's panic reaches the caller");
    assert_eq!(cmd.snapshot_at(0).concurrent, 0);
    assert_eq!(cmd.execute(|| Ok::<_, RunError<()>>(2)).unwrap(), 2, "the bulkhead of one admits again");
    // Half-open: a probe whose clock panics frees its slot.
    let _ = cmd.execute(|| Err::<(), _>(RunError::Failure(())));
    now.store(10, Ordering::SeqCst);
    let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cmd.execute(|| {
            armed.store(true, Ordering::SeqCst);
            Ok::<_, RunError<()>>(3)
        })
    }));
    assert!(hit.is_err());
    assert_eq!(cmd.execute(|| Ok::<_, RunError<()>>(4)).unwrap(), 4, "the freed probe slot admits the next probe");
    // A fallback whose end cannot be timed gives its slot back too.
    let fallback_cmd = Command::with_clock(
        "fb",
        Config { fallback_max_concurrent_requests: 1, ..Config::default() },
        Arc::new(FnClock({
            let armed = armed.clone();
            move || {
                if armed.swap(false, Ordering::SeqCst) {
                    panic!("clock broke");
                }
                0
            }
        })),
    )
    .unwrap();
    let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fallback_cmd.execute_or(
            || Err::<u32, _>(RunError::Failure(())),
            |_| {
                armed.store(true, Ordering::SeqCst);
                Ok(5)
            },
        )
    }));
    assert!(hit.is_err());
    assert_eq!(fallback_cmd.snapshot_at(0).fallback_concurrent, 0);
}

/// Runs `f` with the panic hook silenced (a panic here is expected).
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    r
}

#[test]
fn a_refused_call_whose_fallback_panics_gives_the_fallback_slot_back() {
    let cmd =
        Command::new(Config { force_open: true, fallback_max_concurrent_requests: 1, ..Config::default() }).unwrap();
    let r: Result<u32, Error<String>> = quietly(|| cmd.execute_or(|| Ok(1), |_| panic!("fallback broke"))).unwrap();
    match r {
        Err(Error::FallbackFailure { original, fallback: Fault::Panic(msg), context }) => {
            assert_eq!(original.to_string(), "an anonymous command: circuit open (force_open)");
            assert_eq!(msg, "fallback broke");
            assert_eq!(context.setting(), "");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(cmd.snapshot_at(0).fallback_concurrent, 0);
    let r: Result<u32, Error<String>> = cmd.execute_or(|| Ok(1), |_| Ok(9));
    assert_eq!(r.unwrap(), 9, "the slot of one admits the next fallback");
}

#[test]
fn a_refused_call_whose_clock_panics_after_its_fallback_gives_the_slot_back() {
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clock = {
        let armed = armed.clone();
        Arc::new(FnClock(move || {
            if armed.swap(false, Ordering::SeqCst) {
                panic!("clock broke");
            }
            0
        }))
    };
    let cfg = Config { force_open: true, fallback_max_concurrent_requests: 1, ..Config::default() };
    let cmd = Command::with_clock("refused", cfg, clock).unwrap();
    let hit = quietly(|| {
        cmd.execute_or(
            || Ok::<u32, RunError<String>>(1),
            |_| {
                armed.store(true, Ordering::SeqCst);
                Ok(5)
            },
        )
    });
    assert!(hit.is_err(), "the clock's panic reaches the caller");
    assert_eq!(cmd.snapshot_at(0).fallback_concurrent, 0);
    let r: Result<u32, Error<String>> = cmd.execute_or(|| Ok(1), |_| Ok(9));
    assert_eq!(r.unwrap(), 9);
}
