//! `hystrix_command_execute`: the seed's `Execute`, on the caller's thread.

use crate::command::{command_owned, hystrix_command};
use crate::status::{boundary, hystrix_status, write_out, Fail};
use hystrix_core::{Error, RunError};
use std::ffi::c_void;

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
        let call_run = || {
            let mut value: *mut c_void = std::ptr::null_mut();
            match hystrix_status::from_i32(run(user_data, &mut value)) {
                Some(hystrix_status::HYSTRIX_OK) => Ok(Ptr(value)),
                Some(hystrix_status::HYSTRIX_BAD_REQUEST) => Err(RunError::BadRequest(())),
                _ => Err(RunError::Failure(())),
            }
        };
        let result = match fallback {
            None => command.execute(call_run),
            Some(fallback) => command.execute_or(call_run, |cause: &Error<()>| {
                let mut value: *mut c_void = std::ptr::null_mut();
                match hystrix_status::from_i32(fallback(user_data, hystrix_status::from_kind(cause.kind()), &mut value))
                {
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

/// A value pointer passed through the core (never dereferenced).
struct Ptr(*mut c_void);
