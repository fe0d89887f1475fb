//! Clocks: virtual time and timers the program schedules; cancelling an
//! id the program was not given (a library timer's, another clock's, one
//! already fired) is refused and changes nothing (issue item 12); function
//! clocks driven by the caller.

use crate::support::*;
use hystrix::clock::*;
use hystrix::execute_async::{hystrix_command_queue, hystrix_complete};
use std::ffi::c_void;
use std::ptr;

/// Timer callbacks append their tag here.
#[derive(Default)]
struct Fired {
    tags: Vec<u64>,
    /// Set: the callback advances this clock by 5 ms (re-entering).
    advance: Option<*mut hystrix_clock>,
}

struct Tagged {
    fired: *mut Fired,
    tag: u64,
}

extern "C" fn on_timer(user_data: *mut c_void) {
    // SAFETY: every test passes a live `Tagged` whose `fired` is live.
    let t = unsafe { from_ud::<Tagged>(user_data) };
    // SAFETY: as above.
    let fired = unsafe { &mut *t.fired };
    fired.tags.push(t.tag);
    if let Some(clock) = fired.advance.take() {
        assert_eq!(hystrix_clock_advance(clock, 5), HYSTRIX_OK);
    }
}

fn now(clock: *const hystrix_clock) -> u64 {
    let mut t = u64::MAX;
    expect(hystrix_clock_now(clock, &mut t), HYSTRIX_OK, "");
    t
}

fn deadline(clock: *const hystrix_clock) -> Option<u64> {
    let (mut has, mut at) = (false, 99);
    expect(hystrix_clock_next_deadline(clock, &mut has, &mut at), HYSTRIX_OK, "");
    has.then_some(at)
}

#[test]
fn scheduled_timers_fire_in_order_and_a_cancelled_one_never_fires() {
    let mut clock = ptr::null_mut();
    expect(hystrix_clock_new_virtual(&mut clock), HYSTRIX_OK, "");
    let mut fired = Fired::default();
    let fp: *mut Fired = &mut fired;
    let mut timers: Vec<Tagged> = (0..4).map(|tag| Tagged { fired: fp, tag }).collect();
    let tp = timers.as_mut_ptr();
    let mut ids = [0u64; 4];
    for (i, due) in [30u64, 10, 20, 10].into_iter().enumerate() {
        // SAFETY: `i` < 4.
        let user = unsafe { tp.add(i) }.cast();
        expect(hystrix_clock_schedule(clock, due, Some(on_timer), user, &mut ids[i]), HYSTRIX_OK, "");
    }
    assert_eq!(deadline(clock), Some(10));
    expect(hystrix_clock_cancel(clock, ids[2]), HYSTRIX_OK, "");
    expect(hystrix_clock_cancel(clock, ids[2]), HYSTRIX_INVALID_STATE, "not armed");
    // The first timer advances the clock from inside its callback.
    // SAFETY: `fp` is live; no other reference to `fired` is in use.
    unsafe { (*fp).advance = Some(clock) };
    expect(hystrix_clock_advance(clock, 25), HYSTRIX_OK, "");
    // SAFETY: as above.
    assert_eq!(unsafe { &(*fp).tags }, &vec![1, 3]);
    assert_eq!(now(clock), 25);
    expect(hystrix_clock_advance(clock, 5), HYSTRIX_OK, "");
    // SAFETY: as above.
    assert_eq!(unsafe { &(*fp).tags }, &vec![1, 3, 0]);
    expect(hystrix_clock_cancel(clock, ids[0]), HYSTRIX_INVALID_STATE, "not armed");
    assert_eq!(deadline(clock), None);
    expect(hystrix_clock_free(clock), HYSTRIX_OK, "");
}

extern "C" fn record_run(user_data: *mut c_void, completion: u64) {
    // SAFETY: the test passes a `u64` slot.
    unsafe { *from_ud::<u64>(user_data) = completion };
}
extern "C" fn ignore_done(_: *mut c_void, _: hystrix::status::hystrix_status, _: *mut c_void) {}

#[test]
fn ids_the_program_was_not_given_cannot_cancel_anything() {
    let mut cfg = default_config();
    cfg.timeout_ms = 50;
    let f = Fixture::new("clock-foreign", &cfg);
    let mut other = ptr::null_mut();
    expect(hystrix_clock_new_virtual(&mut other), HYSTRIX_OK, "");
    // A library timer (the run's timeout) on f.clock, and one timer of the
    // program's on the other clock.
    let mut completion = 0u64;
    let cp = ud(&mut completion);
    let status =
        hystrix_command_queue(f.cmd, Some(record_run), None, None, Some(ignore_done), cp, None, ptr::null_mut());
    expect(status, HYSTRIX_OK, "");
    let mut fired = Fired::default();
    let mut t = Tagged { fired: &mut fired, tag: 7 };
    let mut other_id = 0;
    expect(hystrix_clock_schedule(other, 10, Some(on_timer), ud(&mut t), &mut other_id), HYSTRIX_OK, "");
    assert_eq!(deadline(f.clock), Some(50));
    for id in [0, 1, 2, 3, other_id, u64::MAX, completion] {
        expect(hystrix_clock_cancel(f.clock, id), HYSTRIX_INVALID_STATE, "not armed");
    }
    assert_eq!(deadline(f.clock), Some(50), "the run's timeout is still armed");
    assert_eq!(deadline(other), Some(10), "the other clock's timer is still armed");
    expect(hystrix_clock_advance(f.clock, 50), HYSTRIX_OK, "");
    expect(hystrix_complete(completion, 0, ptr::null_mut()), HYSTRIX_TIMEOUT, "timed out");
    expect(hystrix_clock_advance(other, 10), HYSTRIX_OK, "");
    assert_eq!(fired.tags, vec![7]);
    expect(hystrix_clock_free(other), HYSTRIX_OK, "");
}

extern "C" fn read_time(user_data: *mut c_void) -> u64 {
    // SAFETY: the test passes a `u64`.
    unsafe { *from_ud::<u64>(user_data) }
}

#[test]
fn a_function_clock_fires_due_timers_when_the_caller_says() {
    let mut time = 1000u64;
    let tp = ud(&mut time);
    let mut clock = ptr::null_mut();
    // The finalizer gets the clock's user data: count on a separate counter.
    extern "C" fn free_time(user_data: *mut c_void) {
        // SAFETY: the test's `u64` time, which it still owns.
        unsafe { *from_ud::<u64>(user_data) = 0 };
    }
    let status = hystrix_clock_new_fn(
        Some(read_time),
        tp,
        Some(free_time),
        hystrix_timer_mode::HYSTRIX_TIMERS_CALLER as i32,
        &mut clock,
    );
    expect(status, HYSTRIX_OK, "");
    assert_eq!(now(clock), 1000);
    let mut fired = Fired::default();
    let mut t = Tagged { fired: &mut fired, tag: 1 };
    expect(hystrix_clock_schedule(clock, 1010, Some(on_timer), ud(&mut t), ptr::null_mut()), HYSTRIX_OK, "");
    expect(hystrix_clock_fire_due(clock), HYSTRIX_OK, "");
    // SAFETY: `t.fired` is live.
    assert!(unsafe { &(*t.fired).tags }.is_empty());
    // SAFETY: `tp` points at `time`.
    unsafe { *tp.cast::<u64>() = 1010 };
    expect(hystrix_clock_fire_due(clock), HYSTRIX_OK, "");
    // SAFETY: as above.
    assert_eq!(unsafe { &(*t.fired).tags }, &vec![1]);
    expect(hystrix_clock_advance(clock, 1), HYSTRIX_INVALID_ARGUMENT, "virtual clock");
    expect(hystrix_clock_free(clock), HYSTRIX_OK, "");
    assert_eq!(time, 0, "the finalizer ran once the clock was gone");
    expect(hystrix_clock_new_monotonic(7, &mut clock), HYSTRIX_INVALID_ARGUMENT, "timer mode 7");
}

extern "C" fn free_the_clock(user_data: *mut c_void) {
    // SAFETY: the test passes its clock handle as user data.
    let clock = user_data.cast::<hystrix_clock>();
    assert_eq!(hystrix_clock_free(clock), HYSTRIX_OK);
}

/// A timer callback that frees the clock whose advance fired it: the
/// advance goes on with the clock's state (held by reference while it runs),
/// firing the later timer, and reads nothing of the freed handle (before,
/// it read the handle again on every turn: a crash once its body was gone).
#[test]
fn a_clock_freed_by_a_timer_its_own_advance_fires_finishes_the_advance() {
    let mut clock = ptr::null_mut();
    expect(hystrix_clock_new_virtual(&mut clock), HYSTRIX_OK, "");
    let mut fired = Fired::default();
    let mut later = Tagged { fired: &mut fired, tag: 2 };
    let mut id = 0;
    expect(hystrix_clock_schedule(clock, 5, Some(free_the_clock), clock.cast(), &mut id), HYSTRIX_OK, "");
    expect(hystrix_clock_schedule(clock, 7, Some(on_timer), ud(&mut later), &mut id), HYSTRIX_OK, "");
    expect(hystrix_clock_advance(clock, 10), HYSTRIX_OK, "");
    assert_eq!(fired.tags, [2], "the later timer fired after the clock was freed");
}
