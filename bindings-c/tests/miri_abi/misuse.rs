//! Misuse: NULL arguments, pointers that are not live handles, unknown
//! values. Each returns its status with a message, writes no output and
//! takes no ownership.
//!
//! A freed handle is passed only to the free functions, which promise to
//! refuse it without reading it. The other functions' check reads the
//! handle's magic number: for a freed one that is a use after free (Miri
//! reports it), so they get live memory that holds no handle instead.

use crate::support::*;
use hystrix::clock::*;
use hystrix::command::*;
use hystrix::config::hystrix_config_validate;
use hystrix::execute_async::hystrix_command_queue;
use hystrix::execute_sync::hystrix_command_execute;
use hystrix::status::hystrix_status_name;
use std::ffi::c_void;
use std::mem::{align_of, size_of, MaybeUninit};
use std::ptr;

/// Zeroed memory the size and alignment of a `T`: live, but no handle.
fn not_a_handle<T>() -> Vec<u64> {
    assert!(align_of::<T>() <= align_of::<u64>());
    vec![0u64; size_of::<T>().div_ceil(8)]
}

#[test]
fn null_arguments_are_refused_and_outputs_untouched() {
    let f = Fixture::new("misuse-null", &default_config());
    let sentinel = ptr::without_provenance_mut::<c_void>(0x77);
    let mut out = sentinel;
    expect(
        hystrix_command_execute(ptr::null(), Some(never::run), None, ptr::null_mut(), &mut out),
        HYSTRIX_NULL_ARGUMENT,
        "cmd is NULL",
    );
    expect(hystrix_command_execute(f.cmd, None, None, ptr::null_mut(), &mut out), HYSTRIX_NULL_ARGUMENT, "run is NULL");
    expect(
        hystrix_command_execute(f.cmd, Some(never::run), None, ptr::null_mut(), ptr::null_mut()),
        HYSTRIX_NULL_ARGUMENT,
        "out_value is NULL",
    );
    assert_eq!(out, sentinel);
    let mut frees = 0u32;
    let fp = ud(&mut frees);
    let q = |cmd, run, done| hystrix_command_queue(cmd, run, None, None, done, fp, Some(count_free), ptr::null_mut());
    expect(q(ptr::null(), Some(never::run_async), Some(never::done)), HYSTRIX_NULL_ARGUMENT, "cmd is NULL");
    expect(q(f.cmd, None, Some(never::done)), HYSTRIX_NULL_ARGUMENT, "run is NULL");
    expect(q(f.cmd, Some(never::run_async), None), HYSTRIX_NULL_ARGUMENT, "done is NULL");
    expect(
        hystrix_command_on_event(ptr::null(), Some(never::event), fp, Some(count_free), ptr::null_mut()),
        HYSTRIX_NULL_ARGUMENT,
        "cmd is NULL",
    );
    assert_eq!(frees, 0, "no ownership taken on error");
    let mut cmd = sentinel.cast::<hystrix_command>();
    expect(
        hystrix_command_new(ptr::null(), ptr::null(), ptr::null(), ptr::null_mut()),
        HYSTRIX_NULL_ARGUMENT,
        "out is NULL",
    );
    expect(hystrix_command_named(ptr::null(), &mut cmd), HYSTRIX_NULL_ARGUMENT, "name is NULL");
    expect(hystrix_command_configure(f.cmd, ptr::null()), HYSTRIX_NULL_ARGUMENT, "config is NULL");
    expect(hystrix_config_validate(ptr::null()), HYSTRIX_NULL_ARGUMENT, "config is NULL");
    expect(hystrix_command_snapshot(f.cmd, ptr::null_mut()), HYSTRIX_NULL_ARGUMENT, "out is NULL");
    expect(hystrix_command_snapshot_json(f.cmd, ptr::null_mut()), HYSTRIX_NULL_ARGUMENT, "out is NULL");
    assert_eq!(cmd, sentinel.cast());
    expect(hystrix_clock_new_virtual(ptr::null_mut()), HYSTRIX_NULL_ARGUMENT, "out is NULL");
    expect(hystrix_clock_advance(ptr::null(), 1), HYSTRIX_NULL_ARGUMENT, "clock is NULL");
    expect(
        hystrix_clock_schedule(f.clock, 1, None, ptr::null_mut(), ptr::null_mut()),
        HYSTRIX_NULL_ARGUMENT,
        "callback is NULL",
    );
    let mut has = true;
    expect(hystrix_clock_next_deadline(f.clock, &mut has, ptr::null_mut()), HYSTRIX_NULL_ARGUMENT, "deadline is NULL");
    assert!(has);
    // Freeing NULL is allowed.
    expect(hystrix_command_free(ptr::null_mut()), HYSTRIX_OK, "");
    expect(hystrix_clock_free(ptr::null_mut()), HYSTRIX_OK, "");
}

#[test]
fn memory_that_holds_no_handle_is_refused() {
    let mut fake_cmd = not_a_handle::<hystrix_command>();
    let cmd = fake_cmd.as_mut_ptr().cast::<hystrix_command>();
    let mut out = ptr::null_mut();
    expect(
        hystrix_command_execute(cmd, Some(never::run), None, ptr::null_mut(), &mut out),
        HYSTRIX_INVALID_ARGUMENT,
        "not a live hystrix_command",
    );
    expect(hystrix_command_free(cmd), HYSTRIX_INVALID_ARGUMENT, "not a live hystrix_command");
    let mut snap = MaybeUninit::<hystrix_snapshot>::uninit();
    expect(hystrix_command_snapshot(cmd, snap.as_mut_ptr()), HYSTRIX_INVALID_ARGUMENT, "not a live hystrix_command");
    let mut fake_clock = not_a_handle::<hystrix_clock>();
    let clock = fake_clock.as_mut_ptr().cast::<hystrix_clock>();
    expect(hystrix_clock_advance(clock, 1), HYSTRIX_INVALID_ARGUMENT, "not a live hystrix_clock");
    expect(hystrix_clock_free(clock), HYSTRIX_INVALID_ARGUMENT, "not a live hystrix_clock");
    let mut made = ptr::null_mut();
    expect(
        hystrix_command_new(ptr::null(), ptr::null(), clock, &mut made),
        HYSTRIX_INVALID_ARGUMENT,
        "not a live hystrix_clock",
    );
    assert!(made.is_null());
    assert!(fake_cmd.iter().chain(&fake_clock).all(|w| *w == 0), "nothing written");
}

#[test]
fn unknown_values_are_named_or_refused() {
    // SAFETY: static NUL-terminated strings.
    let name = |s: i32| text(hystrix_status_name(s));
    assert_eq!(name(HYSTRIX_SHORT_CIRCUITED as i32), "short_circuited");
    assert_eq!(name(HYSTRIX_PANIC as i32), "panic");
    assert_eq!(name(-1), "unknown");
    assert_eq!(name(12), "unknown");
    assert_eq!(text(hystrix::version::hystrix_version()), env!("CARGO_PKG_VERSION"));
    let not_utf8 = [b'a', 0xff, 0];
    let mut cmd = ptr::null_mut();
    expect(
        hystrix_command_new(ptr::null(), not_utf8.as_ptr().cast(), ptr::null(), &mut cmd),
        HYSTRIX_INVALID_ARGUMENT,
        "UTF-8",
    );
    assert!(cmd.is_null());
}

/// The header promises a second free is refused: the library looks the
/// pointer up before reading it (under Miri, reading the freed handle's
/// magic number was a use after free).
#[test]
fn a_second_free_is_refused_without_reading_freed_memory() {
    let mut clock = ptr::null_mut();
    expect(hystrix_clock_new_virtual(&mut clock), HYSTRIX_OK, "");
    let mut cmd = ptr::null_mut();
    expect(hystrix_command_new(ptr::null(), ptr::null(), clock, &mut cmd), HYSTRIX_OK, "");
    // A handle of the other kind is refused and stays live.
    expect(hystrix_clock_free(cmd.cast()), HYSTRIX_INVALID_ARGUMENT, "not a live hystrix_clock");
    expect(hystrix_command_free(clock.cast()), HYSTRIX_INVALID_ARGUMENT, "not a live hystrix_command");
    expect(hystrix_command_free(cmd), HYSTRIX_OK, "");
    expect(hystrix_command_free(cmd), HYSTRIX_INVALID_ARGUMENT, "not a live hystrix_command");
    expect(hystrix_clock_free(clock), HYSTRIX_OK, "");
    expect(hystrix_clock_free(clock), HYSTRIX_INVALID_ARGUMENT, "not a live hystrix_clock");
}
