//! Listeners: events and transitions delivered with the command's name, a
//! listener that re-enters the library (unsubscribes itself, executes the
//! command again), and `free_user_data` run once, never during a call.

use crate::support::*;
use hystrix::command::hystrix_event::{self, *};
use hystrix::command::hystrix_state::{self, *};
use hystrix::command::*;
use hystrix::execute_sync::hystrix_command_execute;
use std::ffi::{c_char, c_void};
use std::ptr;

/// What a listener saw.
#[derive(Default)]
struct Seen {
    cmd: *const hystrix_command,
    id: u64,
    events: Vec<hystrix_event>,
    names: Vec<String>,
    transitions: Vec<(hystrix_state, hystrix_state, u64)>,
    /// Unsubscribe itself at the first event.
    remove_self: bool,
    unsubscribe_status: Option<hystrix::status::hystrix_status>,
    /// Calls of the listener in progress (nested when it re-enters).
    depth: u32,
    frees: u32,
    freed_during_call: bool,
    /// Execute the command again (once) from inside the listener.
    reenter: bool,
}

fn seen<'a>(user_data: *mut c_void) -> &'a mut Seen {
    // SAFETY: every test passes a `Seen` it keeps alive.
    unsafe { from_ud::<Seen>(user_data) }
}

extern "C" fn on_event(user_data: *mut c_void, command: *const c_char, event: hystrix_event, _at_ms: u64) {
    // No reference to the `Seen` is held across calls into the library: a
    // listener that re-enters it may be called again, nested.
    let (cmd, id, remove_self, reenter) = {
        let s = seen(user_data);
        s.depth += 1;
        s.events.push(event);
        s.names.push(text(command));
        let todo = (s.cmd, s.id, s.remove_self, s.reenter);
        (s.remove_self, s.reenter) = (false, false);
        todo
    };
    if remove_self {
        let status = hystrix_command_unsubscribe(cmd, id);
        seen(user_data).unsubscribe_status = Some(status);
    }
    if reenter {
        let mut out = ptr::null_mut();
        let status = hystrix_command_execute(cmd, Some(run_ok), None, ptr::null_mut(), &mut out);
        assert_eq!(status, HYSTRIX_OK);
    }
    seen(user_data).depth -= 1;
}

extern "C" fn on_transition(
    user_data: *mut c_void,
    _command: *const c_char,
    from: hystrix_state,
    to: hystrix_state,
    at_ms: u64,
) {
    seen(user_data).transitions.push((from, to, at_ms));
}

extern "C" fn free_seen(user_data: *mut c_void) {
    let s = seen(user_data);
    s.frees += 1;
    s.freed_during_call |= s.depth > 0;
}

extern "C" fn run_ok(_: *mut c_void, out: *mut *mut c_void) -> i32 {
    // SAFETY: a writable slot from the library.
    unsafe { *out = ptr::null_mut() };
    HYSTRIX_OK as i32
}

extern "C" fn run_fail(_: *mut c_void, _: *mut *mut c_void) -> i32 {
    HYSTRIX_FAILURE as i32
}

fn execute(cmd: *const hystrix_command, ok: bool) -> hystrix::status::hystrix_status {
    let mut out = ptr::null_mut();
    hystrix_command_execute(cmd, Some(if ok { run_ok } else { run_fail }), None, ptr::null_mut(), &mut out)
}

#[test]
fn events_arrive_with_the_name_and_stop_after_unsubscribe() {
    let f = Fixture::new("listen", &default_config());
    let mut s = Seen::default();
    let p = ud(&mut s);
    let mut id = 0;
    expect(hystrix_command_on_event(f.cmd, Some(on_event), p, Some(free_seen), &mut id), HYSTRIX_OK, "");
    expect(execute(f.cmd, true), HYSTRIX_OK, "");
    expect(execute(f.cmd, false), HYSTRIX_FAILURE, "");
    assert_eq!(seen(p).events, vec![HYSTRIX_EVENT_SUCCESS, HYSTRIX_EVENT_FAILURE, HYSTRIX_EVENT_FALLBACK_MISSING]);
    assert!(seen(p).names.iter().all(|n| n == "listen"));
    expect(hystrix_command_unsubscribe(f.cmd, id), HYSTRIX_OK, "");
    assert_eq!(seen(p).frees, 1);
    expect(hystrix_command_unsubscribe(f.cmd, id), HYSTRIX_INVALID_STATE, "not subscribed");
    expect(execute(f.cmd, true), HYSTRIX_OK, "");
    assert_eq!(s.events.len(), 3);
    assert_eq!(s.frees, 1);
}

#[test]
fn a_listener_that_unsubscribes_itself_is_finalized_after_it_returns() {
    let f = Fixture::new("self-remover", &default_config());
    let mut s = Seen { cmd: f.cmd, remove_self: true, ..Seen::default() };
    let p = ud(&mut s);
    let id = ptr::addr_of_mut!(seen(p).id);
    expect(hystrix_command_on_event(f.cmd, Some(on_event), p, Some(free_seen), id), HYSTRIX_OK, "");
    expect(execute(f.cmd, false), HYSTRIX_FAILURE, "");
    let s = seen(p);
    assert_eq!(s.unsubscribe_status, Some(HYSTRIX_OK));
    assert_eq!(s.events, vec![HYSTRIX_EVENT_FAILURE], "nothing after it removed itself");
    assert_eq!((s.frees, s.freed_during_call), (1, false));
}

#[test]
fn a_listener_may_execute_its_command_again() {
    let f = Fixture::new("reenter", &default_config());
    let mut s = Seen { cmd: f.cmd, reenter: true, ..Seen::default() };
    let p = ud(&mut s);
    expect(hystrix_command_on_event(f.cmd, Some(on_event), p, Some(free_seen), ptr::null_mut()), HYSTRIX_OK, "");
    expect(execute(f.cmd, true), HYSTRIX_OK, "");
    assert_eq!(seen(p).events, vec![HYSTRIX_EVENT_SUCCESS, HYSTRIX_EVENT_SUCCESS]);
    let mut counts = [0u64; HYSTRIX_EVENT_TYPE_COUNT];
    let status = hystrix_command_event_counts(f.cmd, ptr::null_mut(), counts.as_mut_ptr(), counts.len());
    expect(status, HYSTRIX_OK, "");
    assert_eq!(counts[HYSTRIX_EVENT_SUCCESS as usize], 2);
    drop(f); // frees the command: the listener goes with it
    assert_eq!((s.frees, s.freed_during_call), (1, false));
}

#[test]
fn transitions_are_delivered_and_a_null_callback_takes_no_ownership() {
    let mut cfg = default_config();
    cfg.request_volume_threshold = 1;
    cfg.error_threshold_percentage = 50;
    cfg.health_snapshot_interval_ms = 0;
    let f = Fixture::new("transitions", &cfg);
    let mut s = Seen::default();
    let p = ud(&mut s);
    expect(
        hystrix_command_on_state_change(f.cmd, Some(on_transition), p, Some(free_seen), ptr::null_mut()),
        HYSTRIX_OK,
        "",
    );
    expect(
        hystrix_command_on_state_change(f.cmd, None, p, Some(free_seen), ptr::null_mut()),
        HYSTRIX_NULL_ARGUMENT,
        "callback",
    );
    expect(
        hystrix_command_on_event(f.cmd, None, p, Some(free_seen), ptr::null_mut()),
        HYSTRIX_NULL_ARGUMENT,
        "callback",
    );
    assert_eq!(seen(p).frees, 0, "refused subscriptions do not own user_data");
    expect(execute(f.cmd, false), HYSTRIX_FAILURE, "");
    expect(execute(f.cmd, true), HYSTRIX_SHORT_CIRCUITED, "");
    assert_eq!(seen(p).transitions, vec![(HYSTRIX_STATE_CLOSED, HYSTRIX_STATE_OPEN, 0)]);
    drop(f);
    assert_eq!(s.frees, 1);
}

#[test]
fn snapshots_as_json_and_counts() {
    let f = Fixture::new("snap-json", &default_config());
    expect(execute(f.cmd, true), HYSTRIX_OK, "");
    let mut json = ptr::null_mut();
    expect(hystrix_command_snapshot_json(f.cmd, &mut json), HYSTRIX_OK, "");
    let text = text(json);
    assert!(text.starts_with('{') && text.contains("snap-json"), "{text}");
    expect(hystrix_string_free(json), HYSTRIX_OK, "");
    expect(hystrix_string_free(ptr::null_mut()), HYSTRIX_OK, "");
    let (mut limit, mut budget) = (0u64, -7i64);
    expect(hystrix_command_limit_budget(f.cmd, &mut limit, &mut budget), HYSTRIX_OK, "");
    assert_eq!((limit, budget), (10, 0));
    // More entries than the library knows: the extra ones are zeroed.
    let mut rolling = [u64::MAX; HYSTRIX_EVENT_TYPE_COUNT + 2];
    let status = hystrix_command_event_counts(f.cmd, rolling.as_mut_ptr(), ptr::null_mut(), rolling.len());
    expect(status, HYSTRIX_OK, "");
    assert_eq!(rolling[HYSTRIX_EVENT_SUCCESS as usize], 1);
    assert_eq!(&rolling[HYSTRIX_EVENT_TYPE_COUNT..], &[0, 0]);
}
