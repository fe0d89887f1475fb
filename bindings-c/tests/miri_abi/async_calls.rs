//! `hystrix_command_queue` / `hystrix_complete`: runs completed now or
//! later, timeouts fired by a virtual clock, fallbacks, cancellation, the
//! call's events and `free_user_data` exactly once.

use crate::support::*;
use hystrix::clock::hystrix_clock_advance;
use hystrix::command::hystrix_event::{self, *};
use hystrix::execute_async::*;
use hystrix::status::hystrix_status;
use std::ffi::c_void;
use std::ptr;

/// One queued call: a log of its callbacks ("R" run, "C" cancel, "F"
/// fallback, "D" done, "X" freed) and what they were given.
#[derive(Default)]
struct Call {
    log: String,
    /// Complete the run from inside `run` with this status.
    complete_run_now: Option<hystrix_status>,
    run_handle: u64,
    fallback_handle: u64,
    cause: Option<hystrix_status>,
    done: Option<(hystrix_status, usize)>,
    /// The call handle (`out_call`), written before any callback runs.
    call: u64,
    /// What `hystrix_call_events` said from inside `done`.
    events_in_done: Vec<hystrix_event>,
}

fn call_of<'a>(user_data: *mut c_void) -> &'a mut Call {
    // SAFETY: every test passes a `Call` it keeps alive until `X`.
    unsafe { from_ud::<Call>(user_data) }
}

extern "C" fn run(user_data: *mut c_void, completion: u64) {
    let c = call_of(user_data);
    c.log.push('R');
    c.run_handle = completion;
    if let Some(status) = c.complete_run_now {
        // Completing from inside the run: the library is re-entered.
        assert_eq!(
            hystrix_complete(completion, status as i32, ptr::without_provenance_mut::<c_void>(0x11)),
            HYSTRIX_OK
        );
    }
}

extern "C" fn cancel(user_data: *mut c_void, completion: u64) {
    let c = call_of(user_data);
    assert_eq!(completion, c.run_handle, "cancel names the run");
    c.log.push('C');
}

extern "C" fn fallback(user_data: *mut c_void, cause: hystrix_status, completion: u64) {
    let c = call_of(user_data);
    c.log.push('F');
    c.cause = Some(cause);
    c.fallback_handle = completion;
}

extern "C" fn done(user_data: *mut c_void, status: hystrix_status, value: *mut c_void) {
    let c = call_of(user_data);
    c.log.push('D');
    c.done = Some((status, value.addr()));
    if c.call != 0 {
        let mut events = [HYSTRIX_EVENT_SUCCESS; 4];
        let mut count = 0;
        assert_eq!(hystrix_call_events(c.call, events.as_mut_ptr(), events.len(), &mut count), HYSTRIX_OK);
        c.events_in_done = events[..count.min(events.len())].to_vec();
    }
}

extern "C" fn freed(user_data: *mut c_void) {
    call_of(user_data).log.push('X');
}

/// Queues `c` (with a fallback if `with_fallback`; a call handle if `handle`).
fn queue(f: &Fixture, c: *mut c_void, with_fallback: bool, handle: bool) -> hystrix_status {
    let fb: hystrix_async_fallback_fn = if with_fallback { Some(fallback) } else { None };
    let out_call = if handle { ptr::addr_of_mut!(call_of(c).call) } else { ptr::null_mut() };
    hystrix_command_queue(f.cmd, Some(run), Some(cancel), fb, Some(done), c, Some(freed), out_call)
}

fn config(timeout_ms: u64) -> hystrix::config::hystrix_config {
    let mut cfg = default_config();
    cfg.timeout_ms = timeout_ms;
    cfg
}

#[test]
fn a_run_completed_inside_its_callback_settles_before_queue_returns() {
    let f = Fixture::new("async-now", &config(100));
    let mut c = Call { complete_run_now: Some(HYSTRIX_OK), ..Call::default() };
    let p = ud(&mut c);
    expect(queue(&f, p, true, false), HYSTRIX_OK, "");
    assert_eq!(c.log, "RDX");
    assert_eq!(c.done, Some((HYSTRIX_OK, 0x11)));
    expect(hystrix_complete(c.run_handle, HYSTRIX_OK as i32, ptr::null_mut()), HYSTRIX_INVALID_STATE, "unknown");
}

#[test]
fn a_later_completion_disarms_the_timeout() {
    let f = Fixture::new("async-later", &config(100));
    let mut c = Call::default();
    let p = ud(&mut c);
    expect(queue(&f, p, false, false), HYSTRIX_OK, "");
    assert_eq!(call_of(p).log, "R");
    expect(hystrix_clock_advance(f.clock, 40), HYSTRIX_OK, "");
    let handle = call_of(p).run_handle;
    let mut attempt = 0u32;
    expect(hystrix_completion_attempt(handle, &mut attempt), HYSTRIX_OK, "");
    assert_eq!(attempt, 1);
    expect(hystrix_complete(handle, HYSTRIX_OK as i32, ptr::without_provenance_mut::<c_void>(0x22)), HYSTRIX_OK, "");
    expect(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK, "");
    assert_eq!(c.log, "RDX");
    assert_eq!(c.done, Some((HYSTRIX_OK, 0x22)));
}

#[test]
fn a_timeout_cancels_the_run_falls_back_and_a_late_completion_is_refused() {
    let f = Fixture::new("async-timeout", &config(100));
    let mut c = Call::default();
    let p = ud(&mut c);
    expect(queue(&f, p, true, false), HYSTRIX_OK, "");
    expect(hystrix_clock_advance(f.clock, 99), HYSTRIX_OK, "");
    assert_eq!(call_of(p).log, "R");
    expect(hystrix_clock_advance(f.clock, 1), HYSTRIX_OK, "");
    assert_eq!(call_of(p).log, "RCF");
    assert_eq!(call_of(p).cause, Some(HYSTRIX_TIMEOUT));
    let (run_handle, fallback_handle) = (call_of(p).run_handle, call_of(p).fallback_handle);
    expect(hystrix_completion_attempt(fallback_handle, &mut 0), HYSTRIX_INVALID_ARGUMENT, "fallback");
    expect(
        hystrix_complete(fallback_handle, HYSTRIX_OK as i32, ptr::without_provenance_mut::<c_void>(0x33)),
        HYSTRIX_OK,
        "",
    );
    assert_eq!(call_of(p).done, Some((HYSTRIX_OK, 0x33)));
    assert_eq!(call_of(p).log, "RCFD", "not freed while the run holds its handle");
    expect(hystrix_complete(run_handle, HYSTRIX_OK as i32, ptr::null_mut()), HYSTRIX_TIMEOUT, "timed out");
    assert_eq!(c.log, "RCFDX");
    expect(hystrix_complete(run_handle, HYSTRIX_OK as i32, ptr::null_mut()), HYSTRIX_INVALID_STATE, "");
}

#[test]
fn a_cancelled_call_settles_at_once_and_its_events_are_readable_in_done() {
    let f = Fixture::new("async-cancel", &config(100));
    let mut c = Call::default();
    let p = ud(&mut c);
    expect(queue(&f, p, true, true), HYSTRIX_OK, "");
    let handle = call_of(p).call;
    assert_ne!(handle, 0);
    // Too small an array: the count says how many there are.
    let mut count = 99;
    expect(hystrix_call_events(handle, ptr::null_mut(), 0, &mut count), HYSTRIX_OK, "");
    assert_eq!(count, 0, "no event before the run ends");
    expect(hystrix_call_events(handle, ptr::null_mut(), 1, &mut count), HYSTRIX_NULL_ARGUMENT, "out_events");
    expect(hystrix_call_cancel(handle), HYSTRIX_OK, "");
    assert_eq!(call_of(p).log, "RCD", "no fallback after a cancel");
    assert_eq!(call_of(p).done, Some((HYSTRIX_CANCELLED, 0)));
    assert_eq!(call_of(p).events_in_done, vec![HYSTRIX_EVENT_CANCELLED]);
    expect(hystrix_call_cancel(handle), HYSTRIX_INVALID_STATE, "already settled");
    expect(hystrix_call_events(handle, ptr::null_mut(), 0, &mut count), HYSTRIX_INVALID_STATE, "over");
    let run_handle = call_of(p).run_handle;
    expect(hystrix_complete(run_handle, HYSTRIX_OK as i32, ptr::null_mut()), HYSTRIX_CANCELLED, "cancelled");
    assert_eq!(c.log, "RCDX");
}

#[test]
fn handles_of_the_wrong_kind_are_refused() {
    let f = Fixture::new("async-handles", &config(100));
    let mut c = Call::default();
    let p = ud(&mut c);
    expect(queue(&f, p, false, true), HYSTRIX_OK, "");
    let (call, run_handle) = (call_of(p).call, call_of(p).run_handle);
    expect(hystrix_call_cancel(run_handle), HYSTRIX_INVALID_ARGUMENT, "not a call handle");
    expect(hystrix_call_cancel(0), HYSTRIX_INVALID_ARGUMENT, "not a call handle");
    expect(hystrix_complete(call, HYSTRIX_OK as i32, ptr::null_mut()), HYSTRIX_INVALID_STATE, "unknown");
    expect(hystrix_complete(u64::MAX, HYSTRIX_OK as i32, ptr::null_mut()), HYSTRIX_INVALID_STATE, "unknown");
    expect(hystrix_complete(run_handle, HYSTRIX_FAILURE as i32, ptr::null_mut()), HYSTRIX_OK, "");
    assert_eq!(c.log, "RDX");
    assert_eq!(c.done, Some((HYSTRIX_FAILURE, 0)));
}

#[test]
fn a_rejected_call_runs_nothing_but_done_and_free() {
    let mut cfg = config(100);
    cfg.max_concurrent_requests = 1;
    let f = Fixture::new("async-reject", &cfg);
    let mut first = Call::default();
    let p1 = ud(&mut first);
    expect(queue(&f, p1, false, false), HYSTRIX_OK, "");
    let mut second = Call::default();
    let p2 = ud(&mut second);
    expect(queue(&f, p2, true, false), HYSTRIX_OK, "");
    assert_eq!(call_of(p2).log, "F");
    assert_eq!(call_of(p2).cause, Some(HYSTRIX_REJECTED));
    let fb = call_of(p2).fallback_handle;
    expect(hystrix_complete(fb, HYSTRIX_FAILURE as i32, ptr::null_mut()), HYSTRIX_OK, "");
    assert_eq!(second.log, "FDX");
    assert_eq!(second.done, Some((HYSTRIX_FALLBACK_FAILURE, 0)));
    let h = call_of(p1).run_handle;
    expect(hystrix_complete(h, HYSTRIX_OK as i32, ptr::null_mut()), HYSTRIX_OK, "");
    assert_eq!(first.log, "RDX");
}
