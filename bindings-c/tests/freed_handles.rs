//! A freed command or clock handle passed to any function is refused with
//! `HYSTRIX_INVALID_ARGUMENT`, as the header promises, and that check is
//! defined behaviour: the handle's memory stays the library's (its magic
//! number cleared) until `hystrix_shutdown`. Before, every function but the
//! free functions read the freed memory to check the magic number: under
//! Miri, each call below was a use after free (`scripts/miri.sh` runs this
//! file). One test in a binary of its own: no other test frees or makes
//! handles meanwhile, so the reuse order is known.

#[path = "miri_abi/support.rs"]
#[allow(dead_code)]
mod support;

use hystrix::clock::*;
use hystrix::command::*;
use hystrix::execute_async::hystrix_command_queue;
use hystrix::execute_sync::hystrix_command_execute;
use hystrix::shutdown::hystrix_shutdown;
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::ptr;
use support::*;

extern "C" fn never_transition(_: *mut c_void, _: *const std::ffi::c_char, _: hystrix_state, _: hystrix_state, _: u64) {
    panic!("must not run")
}
extern "C" fn never_timer(_: *mut c_void) {
    panic!("must not run")
}

const NOT_CMD: &str = "not a live hystrix_command";
const NOT_CLOCK: &str = "not a live hystrix_clock";

/// Every function taking a command handle refuses `cmd` (freed).
fn refused_everywhere(cmd: *mut hystrix_command) {
    let mut out = ptr::null_mut();
    expect(
        hystrix_command_execute(cmd, Some(never::run), None, ptr::null_mut(), &mut out),
        HYSTRIX_INVALID_ARGUMENT,
        NOT_CMD,
    );
    assert!(out.is_null(), "no output on error");
    expect(
        hystrix_command_queue(
            cmd,
            Some(never::run_async),
            None,
            None,
            Some(never::done),
            ptr::null_mut(),
            None,
            ptr::null_mut(),
        ),
        HYSTRIX_INVALID_ARGUMENT,
        NOT_CMD,
    );
    let cfg = default_config();
    expect(hystrix_command_configure(cmd, &cfg), HYSTRIX_INVALID_ARGUMENT, NOT_CMD);
    let json = c("{}");
    expect(hystrix_command_configure_json(cmd, json.as_ptr()), HYSTRIX_INVALID_ARGUMENT, NOT_CMD);
    let mut snap = MaybeUninit::<hystrix_snapshot>::uninit();
    expect(hystrix_command_snapshot(cmd, snap.as_mut_ptr()), HYSTRIX_INVALID_ARGUMENT, NOT_CMD);
    let mut text = ptr::null_mut();
    expect(hystrix_command_snapshot_json(cmd, &mut text), HYSTRIX_INVALID_ARGUMENT, NOT_CMD);
    assert!(text.is_null());
    let mut id = 7u64;
    expect(
        hystrix_command_on_event(cmd, Some(never::event), ptr::null_mut(), None, &mut id),
        HYSTRIX_INVALID_ARGUMENT,
        NOT_CMD,
    );
    assert_eq!(id, 7);
    expect(
        hystrix_command_on_state_change(cmd, Some(never_transition), ptr::null_mut(), None, &mut id),
        HYSTRIX_INVALID_ARGUMENT,
        NOT_CMD,
    );
    expect(hystrix_command_unsubscribe(cmd, 1), HYSTRIX_INVALID_ARGUMENT, NOT_CMD);
    let mut config = MaybeUninit::<hystrix::config::hystrix_config>::uninit();
    let size = std::mem::size_of::<hystrix::config::hystrix_config>();
    expect(hystrix_command_config_sized(cmd, config.as_mut_ptr(), size), HYSTRIX_INVALID_ARGUMENT, NOT_CMD);
    let (mut rolling, mut cumulative) = ([0u64; 32], [0u64; 32]);
    expect(
        hystrix_command_event_counts(cmd, rolling.as_mut_ptr(), cumulative.as_mut_ptr(), 32),
        HYSTRIX_INVALID_ARGUMENT,
        NOT_CMD,
    );
    let (mut limit, mut budget) = (3u64, 4i64);
    expect(hystrix_command_limit_budget(cmd, &mut limit, &mut budget), HYSTRIX_INVALID_ARGUMENT, NOT_CMD);
    assert_eq!((limit, budget), (3, 4), "no output on error");
    expect(hystrix_command_free(cmd), HYSTRIX_INVALID_ARGUMENT, NOT_CMD);
}

/// Every function taking a clock handle refuses `clock` (freed).
fn clock_refused_everywhere(clock: *mut hystrix_clock) {
    expect(hystrix_clock_advance(clock, 1), HYSTRIX_INVALID_ARGUMENT, NOT_CLOCK);
    let mut now = 9u64;
    expect(hystrix_clock_now(clock, &mut now), HYSTRIX_INVALID_ARGUMENT, NOT_CLOCK);
    assert_eq!(now, 9);
    let (mut has, mut at) = (false, 0u64);
    expect(hystrix_clock_next_deadline(clock, &mut has, &mut at), HYSTRIX_INVALID_ARGUMENT, NOT_CLOCK);
    let mut id = 0u64;
    expect(
        hystrix_clock_schedule(clock, 5, Some(never_timer), ptr::null_mut(), &mut id),
        HYSTRIX_INVALID_ARGUMENT,
        NOT_CLOCK,
    );
    expect(hystrix_clock_fire_due(clock), HYSTRIX_INVALID_ARGUMENT, NOT_CLOCK);
    expect(hystrix_clock_cancel(clock, 1), HYSTRIX_INVALID_ARGUMENT, NOT_CLOCK);
    let mut cmd = ptr::null_mut();
    expect(hystrix_command_new(ptr::null(), ptr::null(), clock, &mut cmd), HYSTRIX_INVALID_ARGUMENT, NOT_CLOCK);
    assert!(cmd.is_null());
    expect(hystrix_clock_free(clock), HYSTRIX_INVALID_ARGUMENT, NOT_CLOCK);
}

#[test]
fn a_freed_handle_is_refused_by_every_function_until_its_memory_is_reused() {
    let mut clock = ptr::null_mut();
    expect(hystrix_clock_new_virtual(&mut clock), HYSTRIX_OK, "");
    let mut cmd = ptr::null_mut();
    expect(hystrix_command_new(ptr::null(), ptr::null(), clock, &mut cmd), HYSTRIX_OK, "");
    expect(hystrix_command_free(cmd), HYSTRIX_OK, "");
    expect(hystrix_clock_free(clock), HYSTRIX_OK, "");
    refused_everywhere(cmd);
    clock_refused_everywhere(clock);

    // Its memory waits while 64 more commands are freed: the next 64
    // commands made are new memory, so `cmd` stays refused.
    let mut made = Vec::new();
    for _ in 0..64 {
        let mut c = ptr::null_mut();
        expect(hystrix_command_new(ptr::null(), ptr::null(), ptr::null(), &mut c), HYSTRIX_OK, "");
        assert_ne!(c, cmd, "reused before 64 more were freed");
        made.push(c);
    }
    refused_everywhere(cmd);
    for c in made.drain(..) {
        expect(hystrix_command_free(c), HYSTRIX_OK, "");
    }
    // 65 wait now: the next command takes the oldest, `cmd`'s memory, and
    // the old pointer names it (documented).
    let mut reused = ptr::null_mut();
    expect(hystrix_command_new(ptr::null(), ptr::null(), ptr::null(), &mut reused), HYSTRIX_OK, "");
    assert_eq!(reused, cmd, "the oldest freed handle's memory is reused first");
    let mut snap = MaybeUninit::<hystrix_snapshot>::uninit();
    expect(hystrix_command_snapshot(cmd, snap.as_mut_ptr()), HYSTRIX_OK, "");
    expect(hystrix_command_free(reused), HYSTRIX_OK, "");

    // Shutdown gives the kept memory back (valgrind/LSan see no leak).
    expect(hystrix_shutdown(), HYSTRIX_OK, "");
}
