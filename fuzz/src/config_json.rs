//! The `config_json` target: any text through `Config::from_json`.
//!
//! Invariants:
//! - it never panics;
//! - an accepted configuration passes `validate()`, re-serialises with
//!   every SPEC key, parses back to the same value, holds exactly the value
//!   the text gave each key present (`1e3` is 1000) and the default for
//!   every key absent, and a command accepts it;
//! - a refused one names `config` (not JSON, not an object), else the
//!   first unknown key by name, else a SPEC key: one whose value, patched
//!   alone onto the defaults, is refused too (the error is that key's own),
//!   or a key a cross-key rule names (`CROSS_KEY_NAMED`); no key earlier in
//!   SPEC order is refused alone (the first offending key is named);
//! - `Command::configure_json` with the same object agrees (same value or
//!   the same key named) and leaves the configuration unchanged on error.

use hystrix_core::{Command, Config, FnClock};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Checks one input (see the module docs).
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = Config::from_json(text);
    let value: Option<Value> = serde_json::from_str(text).ok();
    let object = value.as_ref().and_then(Value::as_object);
    match &parsed {
        Ok(config) => accepted(config, object.expect("an accepted configuration is a JSON object")),
        Err(e) => refused(e.key(), object),
    }
    if let Some(value) = &value {
        agrees_with_configure(value, &parsed);
    }
}

fn accepted(config: &Config, object: &Map<String, Value>) {
    config.validate().expect("an accepted configuration is valid");
    let json = config.to_json();
    let back = Config::from_json(&json).expect("a re-serialised configuration parses");
    assert_eq!(&back, config, "re-serialised configuration differs: {json}");
    let full: Value = serde_json::from_str(&json).unwrap();
    let full = full.as_object().expect("to_json writes an object");
    assert_eq!(full.len(), Config::keys().count(), "to_json writes every key: {json}");
    let defaults: Value = serde_json::from_str(&Config::default().to_json()).unwrap();
    for key in Config::keys() {
        let got = &full[key];
        match object.get(key) {
            Some(given) => assert!(same_value(given, got), "{key}: given {given}, got {got}"),
            None => assert_eq!(got, &defaults[key], "{key} left out must take its default"),
        }
    }
    Command::with_clock("fuzz", *config, Arc::new(FnClock(|| 0))).expect("a command accepts a valid configuration");
}

/// A JSON value as given against the value kept (an integer or a boolean).
fn same_value(given: &Value, kept: &Value) -> bool {
    match (given, kept) {
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => {
            let b = b.as_u64().expect("integer keys serialise as integers");
            a.as_u64() == Some(b) || a.as_f64() == Some(b as f64) && b <= hystrix_core::config::MAX_SETTING
        }
        _ => false,
    }
}

/// The keys a cross-key rule names (SPEC §2 and §8.1): such a key may be
/// named although its value alone is accepted.
const CROSS_KEY_NAMED: [&str; 5] = [
    "rolling_window_ms",
    "retry_budget_window_ms",
    "hedge_max_attempts",
    "adaptive_max_limit",
    "adaptive_initial_limit",
];

fn refused(key: &str, object: Option<&Map<String, Value>>) {
    let Some(object) = object else {
        assert_eq!(key, "config", "text that is not a JSON object names `config`");
        return;
    };
    let is_spec = |k: &str| Config::keys().any(|s| s == k);
    if let Some(unknown) = object.keys().filter(|k| !is_spec(k)).min() {
        assert_eq!(key, unknown, "the first unknown key by name is named");
        return;
    }
    assert!(is_spec(key), "a refused configuration names a SPEC key or `config`, got {key:?}");
    // Every key before the one named, patched alone, is accepted (or only
    // breaks a cross-key rule).
    let alone = |k: &str| {
        let mut one = Map::new();
        one.insert(k.to_string(), object[k].clone());
        Config::from_value(&Value::Object(one))
    };
    for earlier in Config::keys().take_while(|k| *k != key).filter(|k| object.contains_key(*k)) {
        if let Err(e) = alone(earlier) {
            assert!(
                e.key() != earlier || CROSS_KEY_NAMED.contains(&earlier),
                "{earlier} is refused alone ({e}) and comes before {key} in SPEC order"
            );
        }
    }
    if !CROSS_KEY_NAMED.contains(&key) {
        let e = alone(key).expect_err("the key named is refused on its own");
        assert_eq!(e.key(), key);
    }
}

fn agrees_with_configure(value: &Value, parsed: &Result<Config, hystrix_core::ConfigError>) {
    let cmd = Command::with_clock("fuzz", Config::default(), Arc::new(FnClock(|| 0))).unwrap();
    match (cmd.configure_json(value), parsed) {
        (Ok(a), Ok(b)) => {
            assert_eq!(&a, b);
            assert_eq!(cmd.config(), a);
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.key(), b.key());
            assert_eq!(cmd.config(), Config::default(), "a refused patch changes nothing");
        }
        (a, b) => panic!("configure_json {a:?} but from_json {b:?}"),
    }
}
