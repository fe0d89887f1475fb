//! The synchronous driver (the seed's `Execute`), semaphore-style: the run
//! executes on the caller's thread and is never interrupted.
//!
//! Timeouts, exactly: the clock is read when the call is admitted and again
//! when the run returns. If the run returned at or after its deadline
//! (`start + timeout_ms`), its result is discarded (a value is dropped),
//! `TIMEOUT` is recorded at the time it returned, its permit is released,
//! and the fallback runs — as if the timeout had fired while the run
//! ignored cancellation. A closed-state success costs two clock reads.

use crate::call::execution::{Execution, Step};
use crate::command::{Admission, Command, Ticket};
use crate::driver_common::{after_fallback, classify_run, panic_message, refusal, settle_error};
use crate::error::{Error, ErrorKind, RunError};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

impl Command {
    /// Runs `run` through the command with no fallback. A run that fails
    /// returns [`Error::Failure`] with its own error; see the module docs
    /// for how timeouts behave.
    pub fn execute<T, E>(&self, run: impl FnOnce() -> Result<T, RunError<E>>) -> Result<T, Error<E>> {
        execute_sync(self, run, None::<fn(&Error<E>) -> Result<T, E>>)
    }

    /// Runs `run` through the command; on failure, timeout, short-circuit or
    /// rejection calls `fallback` with the original error.
    pub fn execute_or<T, E>(
        &self,
        run: impl FnOnce() -> Result<T, RunError<E>>,
        fallback: impl FnOnce(&Error<E>) -> Result<T, E>,
    ) -> Result<T, Error<E>> {
        execute_sync(self, run, Some(fallback))
    }
}

fn execute_sync<T, E, R, F>(cmd: &Command, run: R, fallback: Option<F>) -> Result<T, Error<E>>
where
    R: FnOnce() -> Result<T, RunError<E>>,
    F: FnOnce(&Error<E>) -> Result<T, E>,
{
    let clock = cmd.clock();
    let start = clock.now_ms();
    let has_fallback = fallback.is_some();
    let (mut ex, step, original) = match cmd.admit(start) {
        Admission::Admitted(ticket) => {
            let result = catch_unwind(AssertUnwindSafe(run)).map_err(|p| panic_message(&*p));
            let end = read_clock_holding(cmd, &ticket);
            if ticket.deadline.is_some_and(|d| end >= d) {
                let mut ex = Execution::admitted(ticket, start, has_fallback);
                let step = ex.timer_fired(cmd, end);
                ex.run_stopped(cmd);
                // Too late: whatever it returned is dropped, only now, so a
                // panicking `Drop` cannot skip the bookkeeping above.
                drop(result);
                (ex, step, Error::Timeout)
            } else {
                match classify_run(result) {
                    Ok(value) => {
                        // The common case settles without an `Execution`.
                        cmd.settle_success(ticket, end);
                        return Ok(value);
                    }
                    Err((outcome, error)) => {
                        let mut ex = Execution::admitted(ticket, start, has_fallback);
                        let step = ex.run_finished(cmd, end, outcome);
                        (ex, step, error)
                    }
                }
            }
        }
        refused => {
            let (ex, step) = Execution::after_admission(cmd, start, has_fallback, refused);
            // The original error is why it was refused (not what the
            // fallback step then decided, e.g. `fallback_rejected`).
            let original = refusal(ex.cause().unwrap_or(ErrorKind::Rejected));
            (ex, step, original)
        }
    };
    match step {
        Step::Fallback { .. } => {
            let fallback = fallback.expect("a fallback step implies a fallback");
            let result = catch_unwind(AssertUnwindSafe(|| fallback(&original))).map_err(|p| panic_message(&*p));
            let end = match catch_unwind(AssertUnwindSafe(|| clock.now_ms())) {
                Ok(end) => end,
                Err(panic) => {
                    // A clock that panics must not keep the fallback slot.
                    ex.abandon(cmd, 0);
                    resume_unwind(panic)
                }
            };
            ex.fallback_finished(cmd, end, matches!(result, Ok(Ok(_))));
            after_fallback(original, result)
        }
        Step::Done(resolution) => Err(settle_error(resolution, original)),
        Step::Run { .. } | Step::Nothing => unreachable!("a run outcome or a refusal ends in a fallback or a result"),
    }
}

/// Reads the command's clock while `ticket`'s permit is held: a clock that
/// panics gives the permit (and a probe's slot) back before the panic goes
/// on to the caller (SPEC §3 step 4: permits are never leaked). Free on
/// the happy path (no guard object, only an unwind landing pad).
/// (The ticket is borrowed, not moved through: moving it in and out made
/// the closed path copy it with wide loads that stalled on store
/// forwarding, ~+10 ns a call.)
#[inline]
fn read_clock_holding(cmd: &Command, ticket: &Ticket) -> u64 {
    match catch_unwind(AssertUnwindSafe(|| cmd.clock().now_ms())) {
        Ok(now) => now,
        Err(panic) => {
            cmd.forget_probe(ticket);
            cmd.release_while_unwinding(ticket);
            resume_unwind(panic)
        }
    }
}
