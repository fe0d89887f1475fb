//! The async driver: a run future raced against a timer from a
//! caller-supplied [`Sleeper`], with no runtime of its own, no spawned
//! tasks and no `Send` bound. At the deadline the run future is dropped —
//! that is its cancellation — and its permit released at once. Dropping
//! the whole `execute_async` future abandons the call (permits released,
//! nothing recorded). Panics in the run or fallback count as failures.

use crate::call::execution::{Execution, Resolution, RunOutcome, Step};
use crate::clock::Sleeper;
use crate::command::Command;
use crate::driver_common::{after_fallback, classify_run, panic_message, refusal, settle_error};
use crate::error::{Error, ErrorKind, RunError};
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

/// Abandons the execution if the future is dropped before it settles.
struct Abandon<'a> {
    cmd: &'a Command,
    ex: Execution,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        // The run future is dropped with this frame: whatever it held is free.
        // No clock is read here: this also runs while a panicking clock
        // unwinds (a second panic would abort), and abandoning records
        // nothing, so it needs no time.
        if !self.ex.is_done() || self.ex.holds_permit() {
            self.ex.abandon(self.cmd, self.ex.start_ms());
            self.ex.run_stopped(self.cmd);
        }
    }
}

/// Polls `fut`, turning a panic into `Err(message)`.
fn poll_caught<F: Future>(fut: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<Result<F::Output, String>> {
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(panic) => Poll::Ready(Err(panic_message(&*panic))),
    }
}

impl Command {
    /// Runs the future `run` through the command with no fallback, timing it
    /// out with `sleeper` (whose clock must be this command's clock).
    pub async fn execute_async<T, E, S, R>(&self, sleeper: &S, run: R) -> Result<T, Error<E>>
    where
        S: Sleeper,
        R: Future<Output = Result<T, RunError<E>>>,
    {
        drive(self, sleeper, run, None::<fn(&Error<E>) -> std::future::Ready<Result<T, E>>>).await
    }

    /// Runs the future `run` through the command; on failure, timeout,
    /// short-circuit or rejection awaits `fallback(&original_error)`.
    pub async fn execute_async_or<T, E, S, R, F, FF>(&self, sleeper: &S, run: R, fallback: F) -> Result<T, Error<E>>
    where
        S: Sleeper,
        R: Future<Output = Result<T, RunError<E>>>,
        F: FnOnce(&Error<E>) -> FF,
        FF: Future<Output = Result<T, E>>,
    {
        drive(self, sleeper, run, Some(fallback)).await
    }
}

async fn drive<T, E, S, R, F, FF>(cmd: &Command, sleeper: &S, run: R, fallback: Option<F>) -> Result<T, Error<E>>
where
    S: Sleeper,
    R: Future<Output = Result<T, RunError<E>>>,
    F: FnOnce(&Error<E>) -> FF,
    FF: Future<Output = Result<T, E>>,
{
    let (ex, mut step) = Execution::start(cmd, cmd.now_ms(), fallback.is_some());
    let mut guard = Abandon { cmd, ex };
    let original = match step {
        Step::Run { deadline } => {
            // The timer is armed before the run is first polled (SPEC §1).
            let mut sleep = pin!(deadline.map(|d| sleeper.sleep_until(d)));
            let mut run = pin!(Some(run));
            let finished = poll_fn(|cx| {
                if let Some(s) = sleep.as_mut().as_pin_mut() {
                    if s.poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                }
                let fut = run.as_mut().as_pin_mut().expect("the run is live until it settles");
                poll_caught(fut, cx).map(Some)
            })
            .await;
            let now = cmd.now_ms();
            match finished {
                None => {
                    step = guard.ex.timer_fired(cmd, now);
                    run.set(None);
                    guard.ex.run_stopped(cmd);
                    Error::Timeout
                }
                Some(result) => {
                    run.set(None);
                    match classify_run(result) {
                        Ok(value) => {
                            step = guard.ex.run_finished(cmd, now, RunOutcome::Success);
                            if step == Step::Done(Resolution::Run) {
                                return Ok(value);
                            }
                            // Read at or past its deadline: timed out.
                            Error::Timeout
                        }
                        Err((outcome, error)) => {
                            step = guard.ex.run_finished(cmd, now, outcome);
                            if guard.ex.timed_out() {
                                Error::Timeout
                            } else {
                                error
                            }
                        }
                    }
                }
            }
        }
        // Refused at admission: the original error is why (not what the
        // fallback step then decided, e.g. `fallback_rejected`).
        Step::Fallback { .. } | Step::Done(Resolution::Error(_)) => {
            refusal(guard.ex.cause().unwrap_or(ErrorKind::Rejected))
        }
        Step::Done(_) | Step::Nothing => unreachable!("admission ends in a run, a fallback or an error"),
    };
    match step {
        Step::Fallback { .. } => {
            let fallback = fallback.expect("a fallback step implies a fallback");
            let started = catch_unwind(AssertUnwindSafe(|| fallback(&original)));
            let result = match started {
                Ok(fut) => {
                    let mut fut = pin!(fut);
                    poll_fn(|cx| poll_caught(fut.as_mut(), cx)).await
                }
                Err(panic) => Err(panic_message(&*panic)),
            };
            guard.ex.fallback_finished(cmd, cmd.now_ms(), matches!(result, Ok(Ok(_))));
            after_fallback(original, result)
        }
        Step::Done(resolution) => Err(settle_error(resolution, original)),
        Step::Run { .. } | Step::Nothing => unreachable!("a run outcome ends in a fallback or a result"),
    }
}
