//! The registry as the npm package and the Python module use it
//! (`Registry::enter`, `configure_patch`, `remove_command`): the host makes
//! each command, the registry decides names, settings and removal.

use hystrix_core::{Command, Config, Entered, ErrorKind, Given, Registry, SettingsError, TimePassedIn, NO_SETTINGS};
use serde_json::json;
use std::cell::Cell;
use std::sync::Arc;

fn make(name: &str, config: Config) -> Result<Command, hystrix_core::ConfigError> {
    Command::with_clock(name, config, Arc::new(TimePassedIn))
}

#[test]
fn the_first_entry_makes_the_command_and_later_ones_share_it() {
    let reg = Registry::hosted();
    let made = Cell::new(0);
    let counting = |n: &str, c: Config| {
        made.set(made.get() + 1);
        make(n, c)
    };
    let patch = json!({"timeout_ms": 250});
    let first = reg.enter("a", &patch, counting).unwrap();
    assert!(first.created());
    assert_eq!(first.command().config().timeout_ms, 250);
    let again = reg.enter("a", NO_SETTINGS, |_, _| panic!("must not make a second command")).unwrap();
    assert!(!again.created());
    assert!(again.command().same_as(first.command()));
    let same = reg.enter("a", &patch, |_, _| panic!("shared")).unwrap();
    assert!(same.command().same_as(first.command()));
    assert_eq!(made.get(), 1);
    assert_eq!(reg.names(), ["a"]);
}

#[test]
fn other_settings_for_an_existing_name_conflict_and_make_nothing() {
    let reg = Registry::hosted();
    let given = [("timeout_ms", Given::Number(100.0, "100"))];
    reg.enter("s", &given[..], make).unwrap();
    let other = [("timeout_ms", Given::Number(5000.0, "5000"))];
    let err = reg.enter("s", &other[..], |_, _| panic!("no second command")).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::SettingsConflict);
    assert_eq!(
        err.to_string(),
        "command 's' already exists with timeout_ms=100; got timeout_ms=5000 — use configure() to change settings"
    );
    assert_eq!(reg.get("s").unwrap().config().timeout_ms, 100);
}

#[test]
fn invalid_settings_are_refused_naming_the_key_and_register_nothing() {
    let reg = Registry::hosted();
    let bad = json!({"max_concurrent_requests": 0});
    let err = reg.enter("bad", &bad, make).err().unwrap();
    let SettingsError::Invalid(e) = err else { panic!("not invalid: {err}") };
    assert_eq!(e.key(), "max_concurrent_requests");
    assert!(reg.is_empty());
    let unknown = json!({"timeout": 1});
    let err = reg.enter("bad", &unknown, make).err().unwrap();
    assert!(err.to_string().contains("timeout"), "{err}");
    assert!(reg.is_empty());
}

#[test]
fn configure_before_first_use_is_what_the_command_is_made_with() {
    let reg = Registry::hosted();
    let patch = json!({"error_threshold_percentage": 10});
    assert_eq!(reg.configure_patch("c", &patch).unwrap().error_threshold_percentage, 10);
    assert!(reg.is_empty(), "configuring makes no command");
    // A construction giving another value for a configured key conflicts.
    let other = json!({"error_threshold_percentage": 20});
    let err = reg.enter("c", &other, make).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::SettingsConflict);
    let entered = reg.enter("c", NO_SETTINGS, make).unwrap();
    assert!(entered.created());
    assert_eq!(entered.command().config().error_threshold_percentage, 10);
}

#[test]
fn configure_after_first_use_applies_live_and_is_remembered() {
    let reg = Registry::hosted();
    let cmd = match reg.enter("live", NO_SETTINGS, make).unwrap() {
        Entered::Created(c) => c,
        Entered::Existing(_) => panic!("new name"),
    };
    let patch = json!({"timeout_ms": 42});
    reg.configure_patch("live", &patch).unwrap();
    assert_eq!(cmd.config().timeout_ms, 42, "applied to the existing command");
    // The new settings are the name's: giving them again shares.
    assert!(reg.enter("live", &patch, make).unwrap().command().same_as(&cmd));
    // An invalid change changes nothing.
    let bad = json!({"timeout_ms": -1});
    assert!(reg.configure_patch("live", &bad).is_err());
    assert_eq!(cmd.config().timeout_ms, 42);
}

#[test]
fn remove_command_removes_only_the_command_registered_under_the_name() {
    let reg = Registry::hosted();
    let old = reg.enter("n", NO_SETTINGS, make).unwrap().command().clone();
    assert!(reg.remove("n"));
    let new = reg.enter("n", NO_SETTINGS, make).unwrap().command().clone();
    assert!(!new.same_as(&old));
    assert!(!reg.remove_command("n", &old), "a stale command does not remove its successor");
    assert_eq!(reg.names(), ["n"]);
    assert!(reg.remove_command("n", &new));
    assert!(reg.is_empty());
    // Its configuration went with it: the name starts from the defaults.
    let patch = json!({"timeout_ms": 7});
    reg.configure_patch("n", &patch).unwrap();
    let c = reg.enter("n", NO_SETTINGS, make).unwrap().command().clone();
    assert!(reg.remove_command("n", &c));
    assert_eq!(reg.enter("n", NO_SETTINGS, make).unwrap().command().config(), Config::default());
}

#[test]
fn commands_lists_every_named_command_sorted() {
    let reg = Registry::hosted();
    for n in ["b", "a", "c"] {
        reg.enter(n, NO_SETTINGS, make).unwrap();
    }
    let names: Vec<String> = reg.commands().iter().map(|c| c.name().to_string()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "must pass `now`")]
fn time_passed_in_refuses_to_be_read_in_debug_builds() {
    let cmd = make("t", Config::default()).unwrap();
    let _ = cmd.snapshot();
}
