//! `hystrix_command_execute`: a C run and fallback on the caller's thread,
//! their values handed back through `out_value` only on success.

use crate::support::*;
use hystrix::command::{hystrix_command_snapshot, hystrix_event, hystrix_snapshot};
use hystrix::execute_sync::hystrix_command_execute;
use hystrix::status::hystrix_status;
use std::ffi::c_void;
use std::ptr;

/// What the callbacks of one test saw and answer.
struct Script {
    /// What the run returns.
    run_status: i32,
    /// What the fallback returns.
    fallback_status: i32,
    runs: u32,
    fallbacks: u32,
    cause: Option<hystrix_status>,
    run_value: u64,
    fallback_value: u64,
}

impl Script {
    fn new(run_status: i32, fallback_status: i32) -> Script {
        Script { run_status, fallback_status, runs: 0, fallbacks: 0, cause: None, run_value: 1, fallback_value: 2 }
    }
}

extern "C" fn run(user_data: *mut c_void, out_value: *mut *mut c_void) -> i32 {
    // SAFETY: every test passes a `Script`.
    let s = unsafe { from_ud::<Script>(user_data) };
    s.runs += 1;
    // SAFETY: the library gives a writable slot.
    unsafe { *out_value = ptr::addr_of_mut!(s.run_value).cast() };
    s.run_status
}

extern "C" fn fallback(user_data: *mut c_void, cause: hystrix_status, out_value: *mut *mut c_void) -> i32 {
    // SAFETY: every test passes a `Script`.
    let s = unsafe { from_ud::<Script>(user_data) };
    s.fallbacks += 1;
    s.cause = Some(cause);
    // SAFETY: the library gives a writable slot.
    unsafe { *out_value = ptr::addr_of_mut!(s.fallback_value).cast() };
    s.fallback_status
}

fn snapshot(f: &Fixture) -> hystrix_snapshot {
    let mut snap = std::mem::MaybeUninit::uninit();
    expect(hystrix_command_snapshot(f.cmd, snap.as_mut_ptr()), HYSTRIX_OK, "");
    // SAFETY: written on HYSTRIX_OK.
    unsafe { snap.assume_init() }
}

#[test]
fn a_successful_run_hands_back_its_value() {
    let f = Fixture::new("sync-ok", &default_config());
    let mut s = Script::new(HYSTRIX_OK as i32, HYSTRIX_OK as i32);
    let p = ud(&mut s);
    let mut out: *mut c_void = ptr::null_mut();
    expect(hystrix_command_execute(f.cmd, Some(run), Some(fallback), p, &mut out), HYSTRIX_OK, "");
    // SAFETY: the value is the run's pointer into `s`.
    assert_eq!(unsafe { *out.cast::<u64>() }, 1);
    assert_eq!((s.runs, s.fallbacks), (1, 0));
    let snap = snapshot(&f);
    assert_eq!(snap.cumulative[hystrix_event::HYSTRIX_EVENT_SUCCESS as usize], 1);
}

#[test]
fn a_failed_run_falls_back_and_the_fallback_value_is_handed_back() {
    let f = Fixture::new("sync-fallback", &default_config());
    let mut s = Script::new(HYSTRIX_FAILURE as i32, HYSTRIX_OK as i32);
    let p = ud(&mut s);
    let mut out: *mut c_void = ptr::null_mut();
    expect(hystrix_command_execute(f.cmd, Some(run), Some(fallback), p, &mut out), HYSTRIX_OK, "");
    // SAFETY: the fallback's pointer into `s`.
    assert_eq!(unsafe { *out.cast::<u64>() }, 2);
    assert_eq!((s.runs, s.fallbacks, s.cause), (1, 1, Some(HYSTRIX_FAILURE)));
    let snap = snapshot(&f);
    assert_eq!(snap.cumulative[hystrix_event::HYSTRIX_EVENT_FAILURE as usize], 1);
    assert_eq!(snap.cumulative[hystrix_event::HYSTRIX_EVENT_FALLBACK_SUCCESS as usize], 1);
}

#[test]
fn failures_leave_out_value_untouched_and_say_why() {
    let f = Fixture::new("sync-fail", &default_config());
    let sentinel = ptr::without_provenance_mut::<c_void>(0x5151);
    // No fallback: the run's failure. An unknown status from the run is a failure too.
    for run_status in [HYSTRIX_FAILURE as i32, 12345, -1] {
        let mut s = Script::new(run_status, HYSTRIX_OK as i32);
        let mut out = sentinel;
        expect(hystrix_command_execute(f.cmd, Some(run), None, ud(&mut s), &mut out), HYSTRIX_FAILURE, "sync-fail");
        assert_eq!(out, sentinel);
    }
    // The fallback fails too.
    let mut s = Script::new(HYSTRIX_FAILURE as i32, HYSTRIX_FAILURE as i32);
    let mut out = sentinel;
    let status = hystrix_command_execute(f.cmd, Some(run), Some(fallback), ud(&mut s), &mut out);
    expect(status, HYSTRIX_FALLBACK_FAILURE, "");
    assert_eq!((out, s.fallbacks), (sentinel, 1));
    // A bad request: no fallback.
    let mut s = Script::new(HYSTRIX_BAD_REQUEST as i32, HYSTRIX_OK as i32);
    let status = hystrix_command_execute(f.cmd, Some(run), Some(fallback), ud(&mut s), &mut out);
    expect(status, HYSTRIX_BAD_REQUEST, "");
    assert_eq!((out, s.runs, s.fallbacks), (sentinel, 1, 0));
}

#[test]
fn an_open_circuit_short_circuits_to_the_fallback_without_running() {
    let mut cfg = default_config();
    cfg.force_open = 1;
    let f = Fixture::new("sync-open", &cfg);
    let mut s = Script::new(HYSTRIX_OK as i32, HYSTRIX_OK as i32);
    let p = ud(&mut s);
    let mut out: *mut c_void = ptr::null_mut();
    expect(hystrix_command_execute(f.cmd, Some(run), Some(fallback), p, &mut out), HYSTRIX_OK, "");
    assert_eq!((s.runs, s.fallbacks, s.cause), (0, 1, Some(HYSTRIX_SHORT_CIRCUITED)));
    let mut out2 = ptr::null_mut();
    expect(hystrix_command_execute(f.cmd, Some(run), None, p, &mut out2), HYSTRIX_SHORT_CIRCUITED, "");
    assert!(out2.is_null());
}

/// A run that frees its own command's handle: the call finishes normally.
extern "C" fn run_freeing_the_handle(user_data: *mut c_void, out_value: *mut *mut c_void) -> i32 {
    // SAFETY: the test passes its handle slot.
    let cmd = unsafe { from_ud::<*mut hystrix::command::hystrix_command>(user_data) };
    assert_eq!(hystrix::command::hystrix_command_free(*cmd), HYSTRIX_OK);
    *cmd = ptr::null_mut();
    // SAFETY: the library gives a writable slot.
    unsafe { *out_value = ptr::null_mut() };
    HYSTRIX_OK as i32
}

#[test]
fn a_run_may_free_the_handle_it_runs_through() {
    let mut cmd = ptr::null_mut();
    expect(hystrix::command::hystrix_command_new(ptr::null(), ptr::null(), ptr::null(), &mut cmd), HYSTRIX_OK, "");
    let slot = ud(&mut cmd);
    // SAFETY: `slot` points at `cmd`.
    let handle = unsafe { *slot.cast::<*mut hystrix::command::hystrix_command>() };
    let mut out = ptr::without_provenance_mut::<c_void>(1);
    let status = hystrix_command_execute(handle, Some(run_freeing_the_handle), None, slot, &mut out);
    expect(status, HYSTRIX_OK, "");
    assert!(out.is_null());
    // SAFETY: as above.
    assert!(unsafe { *slot.cast::<*mut hystrix::command::hystrix_command>() }.is_null());
}
