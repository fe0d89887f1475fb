//! The async drivers, with no runtime of their own, no spawned tasks and
//! no `Send` bound; time and timers come from a caller-supplied [`Timer`]:
//! every time of a call is that timer's (never the command's own clock).
//!
//! - [`Command::run_async`] / [`Command::run_async_or`], the general driver:
//!   it carries out a [`Call`]'s actions, so every strategy of the command
//!   applies (retry with backoff, hedging, the rate limiter, the deadline).
//!   The run is a function of the attempt, called once per attempt.
//! - [`Command::execute_async`] / [`Command::execute_async_or`]: one run
//!   future raced against its timeout. A future can be awaited once, so
//!   these make one attempt: with retry or hedging configured, the call is
//!   limited to one attempt ([`Call::start_single`]); the rate limiter and
//!   the deadline still apply.
//!
//! A run future is dropped at its timeout (or when another attempt wins) —
//! that is its cancellation — and its permit released at once. Dropping the
//! future a driver returns is the caller's cancellation (semantics §18.1):
//! each attempt still in flight records `CANCELLED` (a probe's slot is freed
//! without deciding), the run futures die with it, every permit is given
//! back at once; a fallback dropped that way gave no outcome and records
//! nothing.
//! Panics in a run or a fallback count as failures.

use crate::call::execution::{Execution, Resolution, RunOutcome, Step};
use crate::call::{Action, AttemptId, Call, CallTimer, Input, Settlement};
use crate::clock::Timer;
use crate::command::Command;
use crate::drivers::common::{after_fallback, classify_run, disarm, panic_message, refusal, settle_error, Results};
use crate::drivers::future_box::FutureBox;
use crate::error::{Error, ErrorKind, RunError};
use smallvec::SmallVec;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

/// Abandons the execution if the future is dropped before it settles.
struct Abandon<'a, S: Timer> {
    cmd: &'a Command,
    ex: Execution,
    /// The call's time source.
    time: &'a S,
}

impl<S: Timer> Drop for Abandon<'_, S> {
    #[inline(always)]
    fn drop(&mut self) {
        // Settled, permit given back: the common case, nothing to do (and
        // no call: this check is inlined where the driver's future drops).
        if self.ex.is_done() && !self.ex.holds_permit() {
            return;
        }
        self.abandon();
    }
}

impl<S: Timer> Abandon<'_, S> {
    /// A call dropped before it settled, or settled holding its permit.
    #[cold]
    #[inline(never)]
    fn abandon(&mut self) {
        // The run future is dropped with this frame: whatever it held is free.
        // Dropped while the run is in flight, the call is cancelled by its
        // caller (semantics §18.1): `CANCELLED` at the timer's time. Not
        // while a panic unwinds (a panicking clock would abort), nor if the
        // clock panics now; a fallback dropped with the future gave no
        // outcome and records nothing.
        if self.ex.is_running() && !std::thread::panicking() {
            let time = self.time;
            if let Ok(now) = catch_unwind(AssertUnwindSafe(|| time.now_ms())) {
                self.ex.cancel(self.cmd, now);
            }
        }
        if !self.ex.is_done() || self.ex.holds_permit() {
            self.ex.abandon(self.cmd, self.ex.start_ms());
            self.ex.run_stopped(self.cmd);
        }
    }
}

/// Polls `fut`, turning a panic into `Err(message)`.
pub(crate) fn poll_caught<F: Future>(fut: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<Result<F::Output, String>> {
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(panic) => Poll::Ready(Err(panic_message(&*panic))),
    }
}

/// No fallback, as a type.
type NoFallback<T, E> = fn(&Error<E>) -> std::future::Ready<Result<T, E>>;

impl Command {
    /// Runs the future `run` through the command with no fallback, timing it
    /// out on `time`: the call's times (admission, the deadline, the
    /// outcome) are read from `time`, not from the command's own clock.
    ///
    /// One future, one attempt: with `retry_max_attempts` or
    /// `hedge_max_attempts` above 1 this call still makes a single attempt
    /// (no `RETRY`, no `HEDGE`) — retry and hedging need
    /// [`Command::run_async`], which can make a run future per attempt. The
    /// rate limiter (a wait sleeps on `time`) and `deadline_ms` apply.
    pub async fn execute_async<T, E, S, R>(&self, time: &S, run: R) -> Result<T, Error<E>>
    where
        S: Timer,
        R: Future<Output = Result<T, RunError<E>>>,
    {
        drive(self, time, run, None::<NoFallback<T, E>>).await
    }

    /// Runs the future `run` through the command; on failure, timeout,
    /// short-circuit, rejection or rate limiting awaits
    /// `fallback(&original_error)`. One attempt, as
    /// [`Command::execute_async`] explains; retry and hedging need
    /// [`Command::run_async_or`].
    pub async fn execute_async_or<T, E, S, R, F, FF>(&self, time: &S, run: R, fallback: F) -> Result<T, Error<E>>
    where
        S: Timer,
        R: Future<Output = Result<T, RunError<E>>>,
        F: FnOnce(&Error<E>) -> FF,
        FF: Future<Output = Result<T, E>>,
    {
        drive(self, time, run, Some(fallback)).await
    }

    /// Runs the call through the command with no fallback, every strategy
    /// applying: `run(attempt)` makes the run future of each attempt (once
    /// per attempt: a retry, a hedge), and the driver carries out the
    /// call's actions — every time read from `time` and every timer armed
    /// on it, the earliest due first and, at the same instant, the first
    /// armed; several run futures
    /// at once while hedging; an attempt that times out or loses to another
    /// is dropped, which is its cancellation.
    ///
    /// Dropping the returned future is the caller's cancellation (semantics
    /// §18.1): every attempt still in flight records `CANCELLED`, the run
    /// futures are dropped with it and every permit is given back at once
    /// (no latency is recorded).
    ///
    /// ```
    /// use hystrix_core::{Command, Config, Error, Jitter, RunError, VirtualClock};
    /// use std::future::Future;
    /// use std::sync::Arc;
    ///
    /// let clock = VirtualClock::new();
    /// let config = Config { retry_max_attempts: 3, retry_jitter: Jitter::None, ..Config::default() };
    /// let cmd = Command::with_clock("flaky", config, Arc::new(clock.clone())).unwrap();
    /// let call = cmd.run_async(&clock, |attempt| async move {
    ///     if attempt.0 < 3 { Err(RunError::Failure("blip")) } else { Ok(attempt.0) }
    /// });
    /// let mut call = std::pin::pin!(call);
    /// let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    /// assert!(call.as_mut().poll(&mut cx).is_pending()); // backing off
    /// clock.advance(100); // retry 1
    /// assert!(call.as_mut().poll(&mut cx).is_pending());
    /// clock.advance(200); // retry 2 succeeds
    /// let result: Result<u32, Error<&str>> = match call.as_mut().poll(&mut cx) {
    ///     std::task::Poll::Ready(r) => r,
    ///     std::task::Poll::Pending => unreachable!(),
    /// };
    /// assert_eq!(result.unwrap(), 3);
    /// ```
    pub async fn run_async<T, E, S, R>(&self, time: &S, mut run: impl FnMut(AttemptId) -> R) -> Result<T, Error<E>>
    where
        S: Timer,
        R: Future<Output = Result<T, RunError<E>>>,
    {
        if !self.per_call_strategies() {
            // One attempt and no waits: the single-attempt path, as
            // `Command::run` does (the run is made at its first poll, i.e.
            // once admitted).
            return drive(self, time, async move { run(AttemptId(1)).await }, None::<NoFallback<T, E>>).await;
        }
        drive_call(self, Call::start, time, run, None::<NoFallback<T, E>>).await
    }

    /// [`Command::run_async`] with a fallback: once the call's attempts are
    /// over without a value (failure, timeout, short-circuit, rejection,
    /// rate limiting), awaits `fallback(&original_error)` — the failing
    /// attempt's own error, or an error of the cause's kind.
    pub async fn run_async_or<T, E, S, R, F, FF>(
        &self,
        time: &S,
        mut run: impl FnMut(AttemptId) -> R,
        fallback: F,
    ) -> Result<T, Error<E>>
    where
        S: Timer,
        R: Future<Output = Result<T, RunError<E>>>,
        F: FnOnce(&Error<E>) -> FF,
        FF: Future<Output = Result<T, E>>,
    {
        if !self.per_call_strategies() {
            return drive(self, time, async move { run(AttemptId(1)).await }, Some(fallback)).await;
        }
        drive_call(self, Call::start, time, run, Some(fallback)).await
    }
}

/// A timer the driver armed: the call's name for it, when it is due, and
/// the timer's future, made when the call first has to wait for it.
type Armed<Sleep> = (CallTimer, u64, Option<Pin<Box<Sleep>>>);

/// An attempt the driver runs: its id, its run's future and whether that
/// was polled yet.
type Running<R> = (AttemptId, FutureBox<R>, bool);

/// The general driver's call and its time source. Dropped before it
/// settled — the caller dropped the driver's future — it is cancelled first
/// (semantics §18.1: `CANCELLED` per outstanding attempt, at the timer's
/// time), then gives every permit back (its runs were dropped with the
/// future, so they have stopped). Nothing is recorded while a panic
/// unwinds, nor if the clock panics.
struct CancelOnDrop<'a, S: Timer>(Call, &'a S);

impl<S: Timer> std::ops::Deref for CancelOnDrop<'_, S> {
    type Target = Call;
    fn deref(&self) -> &Call {
        &self.0
    }
}

impl<S: Timer> std::ops::DerefMut for CancelOnDrop<'_, S> {
    fn deref_mut(&mut self) -> &mut Call {
        &mut self.0
    }
}

impl<S: Timer> Drop for CancelOnDrop<'_, S> {
    fn drop(&mut self) {
        if self.0.is_settled() || std::thread::panicking() {
            return;
        }
        let time = self.1;
        if let Ok(now) = catch_unwind(AssertUnwindSafe(|| time.now_ms())) {
            self.0.handle(now, Input::Cancel);
            while self.0.poll_action().is_some() {}
        }
    }
}

/// One run future through the general driver, as a call of one attempt.
async fn drive_single<T, E, S, R, F, FF>(cmd: &Command, time: &S, run: R, fallback: Option<F>) -> Result<T, Error<E>>
where
    S: Timer,
    R: Future<Output = Result<T, RunError<E>>>,
    F: FnOnce(&Error<E>) -> FF,
    FF: Future<Output = Result<T, E>>,
{
    let mut run = Some(run);
    let once = move |_| run.take().expect("a call of one attempt invokes one run");
    drive_call(cmd, Call::start_single, time, once, fallback).await
}

/// The general driver: carries out `start`'s call to its settlement.
async fn drive_call<T, E, S, R, Run, F, FF>(
    cmd: &Command,
    start: fn(&Command, u64, bool) -> Call,
    time: &S,
    run: Run,
    fallback: Option<F>,
) -> Result<T, Error<E>>
where
    S: Timer,
    R: Future<Output = Result<T, RunError<E>>>,
    Run: FnMut(AttemptId) -> R,
    F: FnOnce(&Error<E>) -> FF,
    FF: Future<Output = Result<T, E>>,
{
    let started_at = time.now_ms();
    // The call is made in its place in the driver (fields are evaluated in
    // the order written: `fallback` is looked at before it moves in).
    let mut d = CallDriver {
        runs: SmallVec::new(),
        spare: None,
        fallback_run: None,
        timers: SmallVec::new(),
        call: CancelOnDrop(start(cmd, started_at, fallback.is_some()), time),
        results: Results::new(started_at),
        settled: None,
        time,
        run,
        fallback,
    };
    let settlement = poll_fn(|cx| d.poll(cx)).await;
    let CallDriver { results, .. } = d;
    results.settle(cmd, settlement, || time.now_ms())
}

/// A call in the general driver. Fields drop in order: the run futures,
/// the fallback's and the sleeps go before the call gives their permits
/// back (when the caller drops the driver's future mid-call).
struct CallDriver<'a, T, E, S: Timer, R, Run, F, FF> {
    /// Running attempts, in start order, and whether each was polled yet.
    /// (Inline room for a retried call's one running attempt and a hedged
    /// call's two, and for the timers of either: no allocation for these.)
    runs: SmallVec<[Running<R>; 2]>,
    /// The place of the last attempt's future once it ended (its future
    /// dropped then): the next attempt's goes there, not into a new
    /// allocation.
    spare: Option<FutureBox<R>>,
    fallback_run: Option<Pin<Box<FF>>>,
    /// The call's armed timers with their due times, in arming order.
    timers: SmallVec<[Armed<S::Sleep>; 4]>,
    call: CancelOnDrop<'a, S>,
    results: Results<T, E>,
    settled: Option<Settlement>,
    time: &'a S,
    run: Run,
    fallback: Option<F>,
}

impl<T, E, S, R, Run, F, FF> CallDriver<'_, T, E, S, R, Run, F, FF>
where
    S: Timer,
    R: Future<Output = Result<T, RunError<E>>>,
    Run: FnMut(AttemptId) -> R,
    F: FnOnce(&Error<E>) -> FF,
    FF: Future<Output = Result<T, E>>,
{
    fn input(&mut self, input: Input) {
        let now = self.time.now_ms();
        self.call.handle(now, input);
    }

    /// Carries out the call's actions, in order.
    fn carry_out(&mut self) {
        while let Some(action) = self.call.poll_action() {
            match action {
                Action::SetTimer { timer, at } => {
                    // Armed now (a timer fed early is armed again: last).
                    // Its sleep is made only if the call has to wait: a
                    // timer cleared or due before then never needs one.
                    disarm(&mut self.timers, |(t, ..)| *t == timer);
                    self.timers.push((timer, at, None));
                }
                Action::ClearTimer { timer } => disarm(&mut self.timers, |(t, ..)| *t == timer),
                Action::InvokeAttempt { attempt } => match catch_unwind(AssertUnwindSafe(|| (self.run)(attempt))) {
                    Ok(fut) => {
                        let place = match self.spare.take() {
                            Some(mut place) => {
                                place.refill(fut);
                                place
                            }
                            None => FutureBox::new(fut),
                        };
                        self.runs.push((attempt, place, false));
                    }
                    Err(panic) => {
                        let outcome = self.results.attempt_ended(attempt, Err(panic_message(&*panic)));
                        self.input(Input::AttemptEnded { attempt, outcome });
                    }
                },
                Action::AbortAttempt { attempt, .. } => {
                    // Dropping its future stops the run at once.
                    self.runs.retain(|(a, ..)| *a != attempt);
                    self.input(Input::AttemptStopped { attempt });
                }
                Action::InvokeFallback { original } => {
                    let time = self.time;
                    let original = self.results.take_original(self.call.command(), original, || time.now_ms());
                    let fallback = self.fallback.take().expect("a fallback is invoked only when there is one");
                    let started = catch_unwind(AssertUnwindSafe(|| fallback(&original)));
                    self.results.fallback_invoked(original);
                    match started {
                        Ok(fut) => self.fallback_run = Some(Box::pin(fut)),
                        Err(panic) => {
                            self.results.fallback_ended(Err(panic_message(&*panic)));
                            self.input(Input::FallbackEnded { ok: false });
                        }
                    }
                }
                Action::Settle(settlement) => self.settled = Some(settlement),
            }
        }
    }

    /// Moves the call on until it settles or everything it waits for is
    /// pending.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Settlement> {
        loop {
            self.carry_out();
            if let Some(settlement) = self.settled {
                return Poll::Ready(settlement);
            }
            // A run invoked in this reaction is polled once before any
            // timer: one that is ready at once ends within the reaction, as
            // semantics §9.7 wants (a 0 ms hedge timer must not start a
            // hedge before the primary's immediate outcome is handled).
            // Then the timers: of those due, the earliest, then the first
            // armed (§1); then the runs.
            let mut ended = self.runs.iter_mut().enumerate().find_map(|(i, (_, fut, polled))| {
                if *polled {
                    return None;
                }
                *polled = true;
                match poll_caught(fut.as_pin(), cx) {
                    Poll::Ready(result) => Some((i, result)),
                    Poll::Pending => None,
                }
            });
            if ended.is_none() {
                if let Some(timer) = self.due_timer(cx) {
                    self.input(Input::TimerFired { timer });
                    continue;
                }
                ended =
                    self.runs.iter_mut().enumerate().find_map(|(i, (_, fut, _))| match poll_caught(fut.as_pin(), cx) {
                        Poll::Ready(result) => Some((i, result)),
                        Poll::Pending => None,
                    });
            }
            if let Some((i, result)) = ended {
                // Its future dropped now, as it ends; its place kept.
                let (attempt, mut place, _) = self.runs.remove(i);
                place.clear();
                self.spare = Some(place);
                let outcome = self.results.attempt_ended(attempt, result);
                self.input(Input::AttemptEnded { attempt, outcome });
                continue;
            }
            if let Some(fut) = &mut self.fallback_run {
                if let Poll::Ready(result) = poll_caught(fut.as_mut(), cx) {
                    self.fallback_run = None;
                    let ok = self.results.fallback_ended(result);
                    self.input(Input::FallbackEnded { ok });
                    continue;
                }
            }
            return Poll::Pending;
        }
    }

    /// The timer to fire next, removed from the armed ones: of those due by
    /// the timer's clock, the earliest, then the first armed. Polls the
    /// others so they wake the task when due.
    fn due_timer(&mut self, cx: &mut Context<'_>) -> Option<CallTimer> {
        let now = self.time.now_ms();
        let due = self.timers.iter().enumerate().filter(|(_, t)| t.1 <= now).min_by_key(|(i, t)| (t.1, *i));
        let i = match due {
            Some((i, _)) => i,
            None => {
                // Not due by the clock: poll the sleeps (made now if they
                // were not yet) so they wake the task when due; one that is
                // ready anyway fires, the earliest first.
                let time = self.time;
                let mut ready: Option<(usize, u64)> = None;
                for (i, (_, at, sleep)) in self.timers.iter_mut().enumerate() {
                    let sleep = sleep.get_or_insert_with(|| Box::pin(time.sleep_until(*at)));
                    let earlier = match ready {
                        None => true,
                        Some((_, first)) => *at < first,
                    };
                    if sleep.as_mut().poll(cx).is_ready() && earlier {
                        ready = Some((i, *at));
                    }
                }
                ready?.0
            }
        };
        Some(self.timers.remove(i).0)
    }
}

async fn drive<T, E, S, R, F, FF>(cmd: &Command, time: &S, run: R, fallback: Option<F>) -> Result<T, Error<E>>
where
    S: Timer,
    R: Future<Output = Result<T, RunError<E>>>,
    F: FnOnce(&Error<E>) -> FF,
    FF: Future<Output = Result<T, E>>,
{
    // One reading of the feature word picks the path and, as in the sync
    // fast path, how admission reads the bulkhead's limit.
    let features = cmd.v2_features();
    if Command::needs_call_machine(features) {
        // Boxed, so the common path's future stays as small as it was.
        return Box::pin(drive_single(cmd, time, run, fallback)).await;
    }
    let now = time.now_ms();
    let admission =
        if Command::adaptive_limit_on(features) { cmd.admit_with::<true>(now) } else { cmd.admit_with::<false>(now) };
    let (ex, mut step) = Execution::after_admission(cmd, now, fallback.is_some(), admission);
    let mut guard = Abandon { cmd, ex, time };
    let original = match step {
        Step::Run { deadline } => {
            // The timer is armed before the run is first polled (SPEC §1).
            let mut sleep = pin!(deadline.map(|d| time.sleep_until(d)));
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
            let now = time.now_ms();
            match finished {
                None => {
                    step = guard.ex.timer_fired(cmd, now);
                    run.set(None);
                    guard.ex.run_stopped(cmd);
                    Error::Timeout(cmd.context(ErrorKind::Timeout))
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
                            Error::Timeout(cmd.context(ErrorKind::Timeout))
                        }
                        Err((outcome, error)) => {
                            step = guard.ex.run_finished(cmd, now, outcome);
                            if guard.ex.timed_out() {
                                Error::Timeout(cmd.context(ErrorKind::Timeout))
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
            refusal(cmd, guard.ex.cause().unwrap_or(ErrorKind::Rejected))
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
            guard.ex.fallback_finished(cmd, time.now_ms(), matches!(result, Ok(Ok(_))));
            after_fallback(cmd, original, result)
        }
        Step::Done(resolution) => Err(settle_error(cmd, resolution, original)),
        Step::Run { .. } | Step::Nothing => unreachable!("a run outcome ends in a fallback or a result"),
    }
}
