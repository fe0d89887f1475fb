//! One command per name (semantics §2): a second construction with other
//! settings is an error naming the command, the key and both values;
//! the same settings share the command; `configure` changes them.

use hystrix_core::{Command, Config, ErrorKind, Registry, SettingsError, VirtualClock};
use serde_json::json;
use std::sync::Arc;

fn registry() -> Registry {
    Registry::new(Arc::new(VirtualClock::new()))
}

#[test]
fn other_settings_for_an_existing_name_are_refused_and_change_nothing() {
    let reg = registry();
    let first = reg.get_or_create_with("s", &Config { timeout_ms: 100, ..Config::default() }).unwrap();
    let err = reg.get_or_create_with("s", &Config { timeout_ms: 5000, ..Config::default() }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SettingsConflict);
    assert_eq!(err.kind().code(), 11);
    assert_eq!(
        err.to_string(),
        "command 's' already exists with timeout_ms=100; got timeout_ms=5000 — use configure() to change settings"
    );
    let SettingsError::Conflict(c) = err else { panic!("not a conflict") };
    assert_eq!((c.command(), c.key(), c.existing(), c.given()), ("s", "timeout_ms", "100", "5000"));
    assert_eq!(first.config().timeout_ms, 100, "the first command keeps its settings");
}

#[test]
fn the_same_settings_share_the_command() {
    let reg = registry();
    let config = Config { timeout_ms: 100, ..Config::default() };
    let a = reg.get_or_create_with("s", &config).unwrap();
    let b = reg.get_or_create_with("s", &config).unwrap();
    let _ = a.execute(|| Ok::<u32, hystrix_core::RunError<()>>(1));
    assert_eq!(b.snapshot().cumulative.get(hystrix_core::EventType::Success), 1, "one circuit, one set of metrics");
    // No settings at all: shares it too.
    assert_eq!(reg.get_or_create("s").config().timeout_ms, 100);
}

#[test]
fn configure_changes_settings_and_later_constructions_compare_with_them() {
    let reg = registry();
    let _ = reg.get_or_create_with("s", &Config { timeout_ms: 100, ..Config::default() }).unwrap();
    reg.configure("s", Config { timeout_ms: 5000, ..Config::default() }).unwrap();
    let b = reg.get_or_create_with("s", &Config { timeout_ms: 5000, ..Config::default() }).unwrap();
    assert_eq!(b.config().timeout_ms, 5000);
    // A name configured before its first construction has those settings.
    reg.configure("t", Config { sleep_window_ms: 100, ..Config::default() }).unwrap();
    let err = reg.get_or_create_with("t", &Config::default()).unwrap_err();
    assert!(err.to_string().contains("sleep_window_ms=100; got sleep_window_ms=5000"), "{err}");
}

#[test]
fn a_json_check_compares_only_the_keys_given() {
    let cmd = Command::new(Config { timeout_ms: 100, retry_jitter: hystrix_core::Jitter::Full, ..Config::default() })
        .unwrap();
    cmd.check_same_settings(&json!({"timeout_ms": 100})).unwrap();
    cmd.check_same_settings(&json!({})).unwrap();
    let err = cmd.check_same_settings(&json!({"max_concurrent_requests": 10, "timeout_ms": 7})).unwrap_err();
    assert!(
        err.to_string().starts_with("an anonymous command already exists with timeout_ms=100; got timeout_ms=7"),
        "{err}"
    );
    let named = cmd.check_same_settings(&json!({"retry_jitter": "none"})).unwrap_err();
    assert!(named.to_string().contains("retry_jitter=\"full\"; got retry_jitter=\"none\""), "{named}");
    let invalid = cmd.check_same_settings(&json!({"timeout_ms": 0})).unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::InvalidConfig);
    assert_eq!(cmd.config().timeout_ms, 100, "a check never changes anything");
}
