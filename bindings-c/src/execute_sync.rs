//! `hystrix_command_execute`: the seed's `Execute`, on the caller's thread.

use crate::command::{command_owned, hystrix_command};
use crate::status::{boundary, hystrix_status, write_out, Fail};
use hystrix_core::{AttemptId, Error, RunError};
use std::cell::Cell;
use std::ffi::c_void;

thread_local! {
    /// The attempt of the run `hystrix_command_execute` is calling on this
    /// thread; 0 when none.
    static CURRENT_ATTEMPT: Cell<u32> = const { Cell::new(0) };
}

/// A synchronous run: returns a `hystrix_status` value — `HYSTRIX_OK` after
/// writing its result to `*out_value`, `HYSTRIX_BAD_REQUEST` for the
/// caller's own fault (no fallback, not counted in health), anything else
/// for a failure.
pub type hystrix_run_fn = Option<extern "C" fn(user_data: *mut c_void, out_value: *mut *mut c_void) -> i32>;

/// A synchronous fallback: told why (`cause`: `HYSTRIX_FAILURE`,
/// `HYSTRIX_TIMEOUT`, `HYSTRIX_SHORT_CIRCUITED` or `HYSTRIX_REJECTED`);
/// returns `HYSTRIX_OK` after writing its result to `*out_value`, anything
/// else for a failure.
pub type hystrix_fallback_fn =
    Option<extern "C" fn(user_data: *mut c_void, cause: hystrix_status, out_value: *mut *mut c_void) -> i32>;

/// Runs `run(user_data, &value)` through the command on the calling thread
/// (semaphore isolation), falling back to `fallback` (may be NULL) on
/// failure, timeout, short-circuit or rejection. On `HYSTRIX_OK` writes the
/// run's or the fallback's value to `*out_value`; otherwise the status says
/// why (`HYSTRIX_FAILURE`, `HYSTRIX_TIMEOUT`, `HYSTRIX_SHORT_CIRCUITED`,
/// `HYSTRIX_REJECTED`, `HYSTRIX_BAD_REQUEST`, `HYSTRIX_FALLBACK_REJECTED`,
/// `HYSTRIX_FALLBACK_FAILURE`) and `*out_value` is untouched.
///
/// Timeouts: the run is never interrupted. If it returns at or after its
/// deadline, its value is discarded (it stays the program's to free: the
/// value written to the run's `out_value` is not passed on), `TIMEOUT` is
/// recorded and the fallback runs.
///
/// Retries (`retry_max_attempts` above 1): `run` is called again, on this
/// thread, for each retried attempt; `hystrix_current_attempt` tells the
/// run which attempt it is. Backoffs and rate-limiter waits block this
/// thread until the command's clock reaches their time: on a virtual clock
/// (`hystrix_clock_new_virtual`, or a `hystrix_clock_new_fn` clock that
/// only moves when the program moves it) another thread must advance it,
/// or the call waits for ever (as Rust's `Command::run` and Python's
/// semaphore isolation do). A 0 ms backoff never waits. Hedging needs
/// overlapping runs, so here a hedging call makes one attempt
/// (`hystrix_command_queue` hedges).
#[no_mangle]
pub extern "C" fn hystrix_command_execute(
    cmd: *const hystrix_command,
    run: hystrix_run_fn,
    fallback: hystrix_fallback_fn,
    user_data: *mut c_void,
    out_value: *mut *mut c_void,
) -> hystrix_status {
    boundary("hystrix_command_execute", || {
        // The execution's own reference: the run or a listener may free the
        // handle while the execution is in flight (see hystrix_command_free).
        let command = command_owned(cmd)?;
        let Some(run) = run else { return Err(Fail::null("run")) };
        if out_value.is_null() {
            return Err(Fail::null("out_value"));
        }
        let call_run = |attempt: AttemptId| {
            let mut value: *mut c_void = std::ptr::null_mut();
            let outer = CURRENT_ATTEMPT.replace(attempt.0);
            let status = run(user_data, &mut value);
            CURRENT_ATTEMPT.set(outer);
            match hystrix_status::from_i32(status) {
                Some(hystrix_status::HYSTRIX_OK) => Ok(Ptr(value)),
                Some(hystrix_status::HYSTRIX_BAD_REQUEST) => Err(RunError::BadRequest(())),
                _ => Err(RunError::Failure(())),
            }
        };
        let result = match fallback {
            None => command.run(call_run),
            Some(fallback) => command.run_or(call_run, |cause: &Error<()>| {
                let mut value: *mut c_void = std::ptr::null_mut();
                // No run of this call is executing: the fallback (even one
                // inside another call's run) is told so.
                let outer = CURRENT_ATTEMPT.replace(0);
                let status = fallback(user_data, hystrix_status::from_kind(cause.kind()), &mut value);
                CURRENT_ATTEMPT.set(outer);
                match hystrix_status::from_i32(status) {
                    Some(hystrix_status::HYSTRIX_OK) => Ok(Ptr(value)),
                    _ => Err(()),
                }
            }),
        };
        match result {
            Ok(Ptr(v)) => {
                write_out(out_value, v);
                Ok(())
            }
            Err(e) => Err(Fail::new(hystrix_status::from_kind(e.kind()), crate::status::describe(&command, &e))),
        }
    })
}

/// Writes to `*out_attempt` which attempt of its call (1 for the first)
/// the run `hystrix_command_execute` is calling on this thread is: for a
/// run to tell a retry from the first try. Returns `HYSTRIX_OK`;
/// `HYSTRIX_INVALID_STATE` when no such run is executing on this thread
/// (outside a run, or in a `hystrix_command_execute` fallback);
/// `HYSTRIX_NULL_ARGUMENT` if `out_attempt` is NULL. `*out_attempt` is
/// written only on success. Runs nest: a run that executes another command
/// sees its own attempt again once that call returns. Anything else a run
/// calls on its thread (say a callback of a `hystrix_command_queue` call,
/// or a timer a `hystrix_clock_advance` inside the run fires) is answered
/// with the attempt of the run it is inside.
/// Async runs ask `hystrix_completion_attempt` instead.
#[no_mangle]
pub extern "C" fn hystrix_current_attempt(out_attempt: *mut u32) -> hystrix_status {
    boundary("hystrix_current_attempt", || {
        if out_attempt.is_null() {
            return Err(Fail::null("out_attempt"));
        }
        match CURRENT_ATTEMPT.get() {
            0 => Err(Fail::state("no run of hystrix_command_execute is executing on this thread".to_string())),
            attempt => {
                write_out(out_attempt, attempt);
                Ok(())
            }
        }
    })
}

/// A value pointer passed through the core (never dereferenced).
struct Ptr(*mut c_void);
