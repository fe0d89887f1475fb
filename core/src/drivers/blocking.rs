//! The synchronous driver (the seed's `Execute`), semaphore-style: the run
//! executes on the caller's thread and is never interrupted.
//!
//! Timeouts, exactly: the clock is read when the call is admitted and again
//! when the run returns. If the run returned at or after its deadline
//! (`start + timeout_ms`), its result is discarded (a value is dropped),
//! `TIMEOUT` is recorded at the time it returned, its permit is released,
//! and the fallback runs — as if the timeout had fired while the run
//! ignored cancellation. A closed-state success costs two clock reads.
//!
//! With retry, hedging, the rate limiter or a deadline configured, calls go
//! through the call machine ([`Call`]) driven on this thread:
//! [`Command::run`] / [`Command::run_or`] retry, calling the run once per
//! attempt; [`Command::execute`] / [`Command::execute_or`] (a `FnOnce`) make
//! one attempt ([`Call::start_single`]). One thread cannot overlap attempts,
//! so hedging is limited to one attempt here (use the async driver to
//! hedge). A rate-limiter wait or a retry backoff blocks the thread: it
//! reads the call's clock (the command's, or the one given to
//! [`Command::execute_on`]) and sleeps (`std::thread::sleep`, at most
//! 10 ms at a time) until the time is reached — so with a virtual clock,
//! another thread must advance it.
//! A run's timeout works there as above: it is judged when the run returns
//! (the call makes a run that returned at or after its deadline a
//! `TIMEOUT`, and a retryable one).

use crate::call::execution::{Execution, Step};
use crate::call::plan::Plan;
use crate::call::{Action, AttemptId, Call, CallTimer, Input, Settlement};
use crate::clock::Clock;
use crate::command::{Admission, Command, Ticket};
use crate::drivers::common::{after_fallback, classify_run, disarm, panic_message, refusal, settle_error, Results};
use crate::error::{Error, ErrorKind, RunError};
use smallvec::SmallVec;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Duration;

/// The longest a blocked wait sleeps before it reads the clock again.
const MAX_NAP_MS: u64 = 10;

impl Command {
    /// Runs `run` through the command with no fallback. A run that fails
    /// returns [`Error::Failure`] with its own error; see the module docs
    /// for how timeouts behave.
    ///
    /// One closure, one attempt: with `retry_max_attempts` or
    /// `hedge_max_attempts` above 1 this call still makes a single attempt;
    /// [`Command::run`] retries. The rate limiter (a wait blocks the
    /// thread) and `deadline_ms` apply.
    pub fn execute<T, E>(&self, run: impl FnOnce() -> Result<T, RunError<E>>) -> Result<T, Error<E>> {
        self.execute_on(&**self.clock(), run)
    }

    /// [`Command::execute`] with the call's times read from `clock` instead
    /// of the command's own clock: for a host whose time source is chosen
    /// per call (the Python binding hands a test clock written in Python
    /// to the calls that use it, so the command itself never holds one).
    /// The clock is read as the command's would be: when the call is
    /// admitted and when the run (and the fallback) return.
    #[inline]
    pub fn execute_on<T, E>(
        &self,
        clock: &dyn Clock,
        run: impl FnOnce() -> Result<T, RunError<E>>,
    ) -> Result<T, Error<E>> {
        let features = self.v2_features();
        if Command::needs_call_machine(features) {
            return execute_single(self, clock, run, None::<fn(&Error<E>) -> Result<T, E>>);
        }
        execute_plain(self, clock, features, run, None::<fn(&Error<E>) -> Result<T, E>>)
    }

    /// Runs `run` through the command; on failure, timeout, short-circuit,
    /// rejection or rate limiting calls `fallback` with the original error.
    /// One attempt, as [`Command::execute`] explains.
    pub fn execute_or<T, E>(
        &self,
        run: impl FnOnce() -> Result<T, RunError<E>>,
        fallback: impl FnOnce(&Error<E>) -> Result<T, E>,
    ) -> Result<T, Error<E>> {
        self.execute_or_on(&**self.clock(), run, fallback)
    }

    /// [`Command::execute_or`] with the call's times read from `clock`, as
    /// [`Command::execute_on`] explains.
    #[inline]
    pub fn execute_or_on<T, E>(
        &self,
        clock: &dyn Clock,
        run: impl FnOnce() -> Result<T, RunError<E>>,
        fallback: impl FnOnce(&Error<E>) -> Result<T, E>,
    ) -> Result<T, Error<E>> {
        let features = self.v2_features();
        if Command::needs_call_machine(features) {
            return execute_single(self, clock, run, Some(fallback));
        }
        execute_plain(self, clock, features, run, Some(fallback))
    }

    /// Runs the call through the command on this thread with no fallback,
    /// retrying as configured: `run(attempt)` is called once per attempt.
    /// Backoffs and rate-limiter waits block the thread (see the module
    /// docs: a virtual clock must be advanced by another thread); hedging
    /// is limited to one attempt, since one thread cannot overlap attempts.
    /// A run's timeout is checked when it returns, as for
    /// [`Command::execute`].
    ///
    /// ```
    /// use hystrix_core::{Command, Config, Error, Jitter, RunError};
    ///
    /// let config = Config { retry_max_attempts: 3, retry_base_delay_ms: 1, retry_jitter: Jitter::None, ..Config::default() };
    /// let cmd = Command::new(config).unwrap();
    /// let value: Result<u32, Error<&str>> =
    ///     cmd.run(|attempt| if attempt.0 < 3 { Err(RunError::Failure("blip")) } else { Ok(attempt.0) });
    /// assert_eq!(value.unwrap(), 3);
    /// ```
    pub fn run<T, E>(&self, mut run: impl FnMut(AttemptId) -> Result<T, RunError<E>>) -> Result<T, Error<E>> {
        let features = self.v2_features();
        if !Command::needs_call_machine(features) {
            let clock = &**self.clock();
            return execute_plain(self, clock, features, || run(AttemptId(1)), None::<fn(&Error<E>) -> Result<T, E>>);
        }
        drive_blocking(self, &**self.clock(), Plan::unhedged, run, None::<fn(&Error<E>) -> Result<T, E>>)
    }

    /// [`Command::run`] with a fallback: once the attempts are over without
    /// a value, calls `fallback` with the original error (the failing
    /// attempt's own error, or an error of the cause's kind).
    pub fn run_or<T, E>(
        &self,
        mut run: impl FnMut(AttemptId) -> Result<T, RunError<E>>,
        fallback: impl FnOnce(&Error<E>) -> Result<T, E>,
    ) -> Result<T, Error<E>> {
        let features = self.v2_features();
        if !Command::needs_call_machine(features) {
            return execute_plain(self, &**self.clock(), features, || run(AttemptId(1)), Some(fallback));
        }
        drive_blocking(self, &**self.clock(), Plan::unhedged, run, Some(fallback))
    }
}

/// A `FnOnce` run through the call machine, as a call of one attempt.
#[cold]
#[inline(never)]
fn execute_single<T, E, R, F>(cmd: &Command, clock: &dyn Clock, run: R, fallback: Option<F>) -> Result<T, Error<E>>
where
    R: FnOnce() -> Result<T, RunError<E>>,
    F: FnOnce(&Error<E>) -> Result<T, E>,
{
    let mut run = Some(run);
    let once = move |_| run.take().expect("a call of one attempt invokes one run")();
    drive_blocking(cmd, clock, Plan::single_attempt, once, fallback)
}

/// Carries out a call on this thread, to its settlement, reading its times
/// from `clock`; `plan` applies the driver's limits to the command's plan
/// (no hedging: one thread cannot overlap attempts; or one attempt).
fn drive_blocking<T, E, R, F>(
    cmd: &Command,
    clock: &dyn Clock,
    plan: fn(Plan) -> Plan,
    mut run: R,
    mut fallback: Option<F>,
) -> Result<T, Error<E>>
where
    R: FnMut(AttemptId) -> Result<T, RunError<E>>,
    F: FnOnce(&Error<E>) -> Result<T, E>,
{
    // If the clock (or a `Drop`) panics, dropping the call gives back every
    // permit it holds.
    let started_at = clock.now_ms();
    // Made in its place here (not moved out of a `start`).
    let mut slot = None;
    let call = Call::start_in_with(&mut slot, cmd, started_at, fallback.is_some(), plan(cmd.call_plan()));
    let mut results = Results::new(started_at);
    // The call's armed timers and their due times, in arming order (inline
    // room for a retried call's timeout and backoff, and more).
    let mut timers: SmallVec<[(CallTimer, u64); 4]> = SmallVec::new();
    loop {
        let mut settled: Option<Settlement> = None;
        while let Some(action) = call.poll_action() {
            match action {
                Action::SetTimer { timer, at } => {
                    disarm(&mut timers, |(t, _)| *t == timer);
                    timers.push((timer, at));
                }
                Action::ClearTimer { timer } => disarm(&mut timers, |(t, _)| *t == timer),
                Action::InvokeAttempt { attempt } => {
                    let result = catch_unwind(AssertUnwindSafe(|| run(attempt))).map_err(|p| panic_message(&*p));
                    let end = clock.now_ms();
                    // Ended at or after its deadline: the call makes it a
                    // timeout (its value is dropped with the results).
                    let outcome = results.attempt_ended(attempt, result);
                    call.handle(end, Input::AttemptEnded { attempt, outcome });
                }
                // The run has returned already (it ran on this thread).
                Action::AbortAttempt { attempt, .. } => call.handle(clock.now_ms(), Input::AttemptStopped { attempt }),
                Action::InvokeFallback { original } => {
                    let original = results.take_original(cmd, original, || clock.now_ms());
                    let fallback = fallback.take().expect("a fallback is invoked only when there is one");
                    let result = catch_unwind(AssertUnwindSafe(|| fallback(&original))).map_err(|p| panic_message(&*p));
                    let end = clock.now_ms();
                    results.fallback_invoked(original);
                    let ok = results.fallback_ended(result);
                    call.handle(end, Input::FallbackEnded { ok });
                }
                Action::Settle(settlement) => settled = Some(settlement),
            }
        }
        if let Some(settlement) = settled {
            // The call dropped in its place before settling (`take` would
            // move it out first).
            #[allow(unused_assignments)]
            {
                slot = None;
            }
            return results.settle(cmd, settlement, || clock.now_ms());
        }
        // The next timer: the earliest, the first armed among equals.
        let (i, &(timer, at)) =
            timers.iter().enumerate().min_by_key(|(_, (_, at))| *at).expect("a pending call waits for a timer");
        timers.remove(i);
        let now = wait_until(clock, at);
        call.handle(now, Input::TimerFired { timer });
    }
}

/// Blocks the thread until `clock` reads at least `at`; its reading then.
fn wait_until(clock: &dyn Clock, at: u64) -> u64 {
    loop {
        let now = clock.now_ms();
        if now >= at {
            return now;
        }
        std::thread::sleep(Duration::from_millis((at - now).min(MAX_NAP_MS)));
    }
}

/// The fast path for a call whose `features` (one reading of the feature
/// word) need no call machine: [`execute_sync`] admitting against
/// `max_concurrent_requests` without a second look at the features when
/// the adaptive limit is off (the closed path with every v2 key at its
/// default reads the word once to admit).
#[inline(always)]
fn execute_plain<T, E, R, F>(
    cmd: &Command,
    clock: &dyn Clock,
    features: u32,
    run: R,
    fallback: Option<F>,
) -> Result<T, Error<E>>
where
    R: FnOnce() -> Result<T, RunError<E>>,
    F: FnOnce(&Error<E>) -> Result<T, E>,
{
    if Command::adaptive_limit_on(features) {
        return execute_sync::<T, E, R, F, true>(cmd, clock, run, fallback);
    }
    execute_sync::<T, E, R, F, false>(cmd, clock, run, fallback)
}

/// The fast path (every call with no per-call v2 strategy): one attempt,
/// no waits, allocation-free when it succeeds. `ADAPTIVE`: whether the
/// adaptive limit may be on, i.e. admission must read the limit in force
/// (see [`execute_plain`]). The outcome stages are checked at settlement
/// whatever it is.
fn execute_sync<T, E, R, F, const ADAPTIVE: bool>(
    cmd: &Command,
    clock: &dyn Clock,
    run: R,
    fallback: Option<F>,
) -> Result<T, Error<E>>
where
    R: FnOnce() -> Result<T, RunError<E>>,
    F: FnOnce(&Error<E>) -> Result<T, E>,
{
    let start = clock.now_ms();
    let has_fallback = fallback.is_some();
    let (ex, step, original) = match cmd.admit_with::<ADAPTIVE>(start) {
        Admission::Admitted(ticket) => {
            let result = catch_unwind(AssertUnwindSafe(run)).map_err(|p| panic_message(&*p));
            let end = read_clock_holding(cmd, clock, &ticket);
            if ticket.deadline().is_some_and(|d| end >= d) {
                let mut ex = Execution::admitted(ticket, start, has_fallback);
                let step = ex.timer_fired(cmd, end);
                ex.run_stopped(cmd);
                // Too late: whatever it returned is dropped, only now, so a
                // panicking `Drop` cannot skip the bookkeeping above.
                drop(result);
                (ex, step, Error::Timeout(cmd.timeout_context(end.saturating_sub(start))))
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
        // A refusal finishes on its own path, so that its error is made
        // where the fallback reads it (not moved through the tuple above).
        refused => {
            let (ex, step) = Execution::after_admission(cmd, start, has_fallback, refused);
            // The original error is why it was refused (not what the
            // fallback step then decided, e.g. `fallback_rejected`).
            let original = refusal(cmd, ex.cause().unwrap_or(ErrorKind::Rejected));
            return finish(cmd, clock, ex, step, original, fallback);
        }
    };
    finish(cmd, clock, ex, step, original, fallback)
}

/// The end of a call that did not succeed at once: the fallback `step`
/// asks for (with `original`), or the error it settled with.
#[inline(always)]
fn finish<T, E, F>(
    cmd: &Command,
    clock: &dyn Clock,
    mut ex: Execution,
    step: Step,
    original: Error<E>,
    fallback: Option<F>,
) -> Result<T, Error<E>>
where
    F: FnOnce(&Error<E>) -> Result<T, E>,
{
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
            after_fallback(cmd, original, result)
        }
        Step::Done(resolution) => Err(settle_error(cmd, resolution, original)),
        Step::Run { .. } | Step::Nothing => unreachable!("a run outcome or a refusal ends in a fallback or a result"),
    }
}

/// Reads the call's clock while `ticket`'s permit is held: a clock that
/// panics gives the permit (and a probe's slot) back before the panic goes
/// on to the caller (SPEC §3 step 4: permits are never leaked). Free on
/// the happy path (no guard object, only an unwind landing pad).
/// (The ticket is borrowed, not moved through: moving it in and out made
/// the closed path copy it with wide loads that stalled on store
/// forwarding, ~+10 ns a call.)
#[inline]
fn read_clock_holding(cmd: &Command, clock: &dyn Clock, ticket: &Ticket) -> u64 {
    match catch_unwind(AssertUnwindSafe(|| clock.now_ms())) {
        Ok(now) => now,
        Err(panic) => {
            cmd.forget_probe(ticket);
            cmd.release_while_unwinding(ticket);
            resume_unwind(panic)
        }
    }
}
