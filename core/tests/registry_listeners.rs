//! Named commands and listeners.

use hystrix_core::{
    CircuitState, Command, Config, EventType, Execution, FnClock, Notice, Registry, RunError, Step, Topic,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

fn fixed_clock() -> Arc<FnClock<fn() -> u64>> {
    Arc::new(FnClock(|| 0))
}

#[test]
fn configure_before_and_after_creation() {
    let reg = Registry::new(fixed_clock());
    reg.configure("users", Config { timeout_ms: 250, ..Config::default() }).unwrap();
    let a = reg.get_or_create("users");
    assert_eq!(a.config().timeout_ms, 250);
    assert_eq!(a.name(), "users");
    reg.configure("users", Config { timeout_ms: 300, ..Config::default() }).unwrap();
    assert_eq!(a.config().timeout_ms, 300, "applied live");
    let bad = reg.configure("users", Config { timeout_ms: 0, ..Config::default() });
    assert_eq!(bad.unwrap_err().key(), "timeout_ms");
    assert_eq!(a.config().timeout_ms, 300, "nothing changed on error");
    reg.get_or_create("accounts");
    assert_eq!(reg.names(), vec!["accounts".to_string(), "users".to_string()]);
    let mut unordered = reg.names_unordered();
    unordered.sort();
    assert_eq!(unordered, reg.names(), "the same names, in no particular order");
    assert!(reg.get("users").is_some());
}

#[test]
fn removing_a_name_frees_its_command() {
    let reg = Registry::new(fixed_clock());
    let sentinel = Arc::new(());
    for i in 0..1000 {
        let cmd = reg.get_or_create(&format!("dynamic-{i}"));
        let held = sentinel.clone();
        cmd.subscribe(Topic::Events, move |_| {
            let _ = &held;
        });
    }
    assert_eq!(Arc::strong_count(&sentinel), 1001);
    for i in 0..1000 {
        assert!(reg.remove(&format!("dynamic-{i}")));
    }
    assert!(reg.is_empty());
    assert!(!reg.remove("dynamic-0"));
    assert_eq!(Arc::strong_count(&sentinel), 1, "every command and listener was freed");
}

#[test]
fn listeners_see_events_and_transitions_and_may_panic() {
    let now = Arc::new(AtomicU64::new(0));
    let read = now.clone();
    let cfg = Config { request_volume_threshold: 1, health_snapshot_interval_ms: 0, ..Config::default() };
    let cmd = Command::with_clock("watched", cfg, Arc::new(FnClock(move || read.load(Ordering::SeqCst)))).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let inner = cmd.clone();
    let events = cmd.subscribe(Topic::Events, move |n| {
        if let Notice::Event { event, command, .. } = n {
            log.lock().unwrap().push(format!("{command}:{event}"));
            // Calling back into the command from a listener must not deadlock.
            let _ = inner.snapshot_at(0);
        }
    });
    let log = seen.clone();
    cmd.subscribe(Topic::Transitions, move |n| {
        if let Notice::Transition { from, to, at_ms, .. } = n {
            log.lock().unwrap().push(format!("{from}->{to}@{at_ms}"));
        }
    });
    cmd.subscribe(Topic::Events, |_| panic!("a broken listener"));
    let _ = cmd.execute(|| Err::<(), _>(RunError::Failure(())));
    now.store(7, Ordering::SeqCst);
    let _ = cmd.execute(|| Ok::<_, RunError<()>>(()));
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "watched:FAILURE",
            "closed->open@0",
            "watched:FALLBACK_MISSING",
            "watched:SHORT_CIRCUITED",
            "watched:FALLBACK_MISSING"
        ]
    );
    let s = cmd.snapshot_at(7);
    assert_eq!(s.listener_panics, 4, "one per event");
    assert_eq!(s.state, CircuitState::Open);
    assert!(cmd.unsubscribe(events));
    assert!(!cmd.unsubscribe(events));
    let before = seen.lock().unwrap().len();
    let _ = cmd.execute(|| Ok::<_, RunError<()>>(()));
    assert_eq!(seen.lock().unwrap().len(), before);
    assert_eq!(cmd.snapshot_at(7).cumulative.get(EventType::ShortCircuited), 2);
}

#[test]
fn sans_io_execution_reports_steps_and_late_results() {
    let cmd = Command::with_clock("sans-io", Config { timeout_ms: 10, ..Config::default() }, fixed_clock()).unwrap();
    let (mut ex, step) = Execution::start(&cmd, 0, true);
    assert_eq!(step, Step::Run { deadline: Some(10) });
    assert!(ex.holds_permit());
    assert_eq!(ex.timer_fired(&cmd, 10), Step::Fallback { cause: hystrix_core::ErrorKind::Timeout });
    assert!(ex.timed_out() && ex.holds_permit(), "the permit is held until the run stops");
    assert_eq!(ex.timer_fired(&cmd, 10), Step::Nothing, "a repeated timer changes nothing");
    assert_eq!(ex.run_finished(&cmd, 15, hystrix_core::RunOutcome::Success), Step::Nothing);
    assert!(!ex.holds_permit());
    assert_eq!(cmd.snapshot_at(15).concurrent, 0);
    assert_eq!(ex.fallback_finished(&cmd, 16, true), Step::Done(hystrix_core::Resolution::Fallback));
    assert_eq!(ex.events().collect::<Vec<_>>(), vec![EventType::Timeout, EventType::FallbackSuccess]);
    assert_eq!(cmd.snapshot_at(16).rolling.get(EventType::Success), 0, "the late result was discarded");
}

#[test]
fn host_listener_errors_count_with_the_rust_panics() {
    let cmd = Command::with_clock("hosted", Config::default(), fixed_clock()).unwrap();
    assert_eq!(cmd.snapshot_at(0).listener_panics, 0);
    cmd.note_listener_error();
    cmd.note_listener_error();
    assert_eq!(cmd.snapshot_at(0).listener_panics, 2);
}
