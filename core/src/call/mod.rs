//! One call as a sans-IO state machine that **owns** its command: the
//! protocol every host drives (semantics §3, §9.7, §18).
//!
//! The host feeds [`Call::handle`] inputs stamped with its clock's time and
//! drains what to do next from [`Call::poll_action`] (invoke an attempt's
//! run, abort one, invoke the fallback, settle the caller) and the one
//! deadline to arm from [`Call::poll_timeout`]. The host never decides a
//! rule of the call itself: it only runs code, converts values and keeps a
//! timer. Later strategies (retry, hedging, rate-limit waits) produce more
//! of the same actions and deadlines, so hosts need no change for them.
//!
//! A full drive loop, with a [`TimerQueue`](crate::TimerQueue) standing in
//! for the host's timers and a run that takes 30 ms against a 20 ms timeout:
//!
//! ```
//! use hystrix_core::{
//!     Action, AttemptId, Call, Command, Config, ErrorKind, FnClock, Input, Original, RunOutcome, Settlement,
//!     TimerQueue,
//! };
//! use std::sync::Arc;
//!
//! #[derive(Debug)]
//! enum Timer {
//!     Deadline,
//!     RunEnds(AttemptId),
//! }
//!
//! let cmd = Command::with_clock("svc", Config { timeout_ms: 20, ..Config::default() }, Arc::new(FnClock(|| 0)))
//!     .unwrap();
//! let mut timers = TimerQueue::new();
//! let mut now = 0;
//! let mut call = Call::start(&cmd, now, /* has_fallback */ true);
//! let mut armed = None; // (deadline, timer id) of the call's own timer
//! let mut fallback_cause = None;
//! let settlement = loop {
//!     // 1. Do what the call asks, in order.
//!     let mut settled = None;
//!     while let Some(action) = call.poll_action() {
//!         match action {
//!             Action::InvokeAttempt { attempt } => {
//!                 timers.arm(now + 30, Timer::RunEnds(attempt)); // start the run
//!             }
//!             Action::AbortAttempt { attempt, .. } => {
//!                 // Signal the run to stop; this one stops at once.
//!                 call.handle(now, Input::AttemptStopped { attempt });
//!             }
//!             Action::InvokeFallback { original } => {
//!                 fallback_cause = Some(original);
//!                 call.handle(now, Input::FallbackEnded { ok: true }); // an instant fallback
//!             }
//!             Action::Settle(s) => settled = Some(s),
//!         }
//!     }
//!     if let Some(s) = settled {
//!         break s;
//!     }
//!     // 2. Keep the host timer in step with the call's one deadline.
//!     if armed.map(|(due, _)| due) != call.poll_timeout() {
//!         if let Some((_, id)) = armed.take() {
//!             timers.cancel(id);
//!         }
//!         armed = call.poll_timeout().map(|due| (due, timers.arm(due, Timer::Deadline)));
//!     }
//!     // 3. Wait for the next timer and feed it in.
//!     let (due, timer) = timers.pop_due(u64::MAX).expect("a pending call has a timer");
//!     now = due;
//!     match timer {
//!         Timer::Deadline => {
//!             armed = None;
//!             call.handle(now, Input::TimerFired);
//!         }
//!         Timer::RunEnds(attempt) => call.handle(now, Input::AttemptEnded { attempt, outcome: RunOutcome::Success }),
//!     }
//! };
//! // The timeout fired at 20, before the run's end at 30: the fallback's value.
//! assert_eq!(now, 20);
//! assert_eq!(fallback_cause, Some(Original::Kind(ErrorKind::Timeout)));
//! assert_eq!(settlement, Settlement::Fallback);
//! ```

pub(crate) mod execution;
mod queue;

use crate::command::Command;
use crate::error::ErrorKind;
use crate::event::EventType;
use execution::{Execution, Resolution, RunOutcome, Step};
use queue::Queue;

/// Which attempt of a call an action or input is about, from 1. A v1 call
/// makes one attempt; retries and hedges (semantics §9) will number theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttemptId(pub u32);

/// The first (and, until retries and hedging, only) attempt.
const FIRST: AttemptId = AttemptId(1);

/// Where a call's original error comes from (what a fallback receives, and
/// what `fallback_rejected` and `fallback_failure` errors carry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Original {
    /// The error that attempt's run failed with (kinds `failure` and
    /// `bad_request`): the host hands back the run's own error.
    Attempt(AttemptId),
    /// An error of this kind that the host makes (`timeout`,
    /// `short_circuited`, `rejected`).
    Kind(ErrorKind),
}

/// What the caller gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// The value that attempt's run returned.
    Attempt(AttemptId),
    /// The fallback's value.
    Fallback,
    /// An error of `kind`. `original` is where the original error comes
    /// from: the error itself for `failure`, `bad_request`, `timeout`,
    /// `short_circuited` and `rejected`; the error the refused or failed
    /// fallback was for, for `fallback_rejected` and `fallback_failure`
    /// (which also carries the fallback's own error, held by the host);
    /// `None` for `cancelled`.
    Error {
        /// The error kind the caller sees.
        kind: ErrorKind,
        /// Where the original error comes from.
        original: Option<Original>,
    },
}

/// Something that happened to a call, fed in by the host with its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The attempt's run ended with this outcome (a value the host keeps,
    /// or an error).
    AttemptEnded {
        /// Which attempt.
        attempt: AttemptId,
        /// How its run ended.
        outcome: RunOutcome,
    },
    /// An aborted attempt's run has really stopped (it acknowledged the
    /// abort): its permit comes back. A run that ignores the abort reports
    /// [`Input::AttemptEnded`] when it finishes instead.
    AttemptStopped {
        /// Which attempt.
        attempt: AttemptId,
    },
    /// The fallback ended, with a value (`ok`) or an error.
    FallbackEnded {
        /// Whether it returned a value.
        ok: bool,
    },
    /// The deadline given by [`Call::poll_timeout`] was reached.
    TimerFired,
    /// The caller gave up on the call (semantics §18).
    Cancel,
}

/// What the host must do next.
#[must_use = "every action must be carried out, or permits leak and the caller is never settled"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Invoke the run for this attempt (its timeout is already armed: see
    /// [`Call::poll_timeout`]).
    InvokeAttempt {
        /// Which attempt.
        attempt: AttemptId,
    },
    /// Signal the attempt's run to stop (an `AbortSignal`, a task
    /// cancellation, a cancel callback). Whatever it returns later is
    /// discarded; report [`Input::AttemptStopped`] once it has stopped.
    AbortAttempt {
        /// Which attempt.
        attempt: AttemptId,
        /// Why: `timeout`, or `cancelled` by the caller.
        reason: ErrorKind,
    },
    /// Invoke the fallback with the original error; report
    /// [`Input::FallbackEnded`] when it ends.
    InvokeFallback {
        /// Where the original error comes from.
        original: Original,
    },
    /// Settle the caller. Comes exactly once per call; inputs after it only
    /// give permits back (and record a fallback that outlived a
    /// cancellation, semantics §18.1).
    Settle(Settlement),
}

/// One call through a command, driven by its host (see the module docs).
/// Holds a handle to its command, so it can never be paired with another.
/// A host keeps a call until [`Call::is_finished`]: dropping it earlier
/// gives back every permit it holds at once and records nothing more —
/// right where the run dies with the call (a Rust future), wrong for a run
/// still going elsewhere, whose permit must be held until it stops
/// (semantics §3.4).
pub struct Call {
    cmd: Command,
    ex: Execution,
    /// The first attempt's run was invoked and has not stopped.
    attempt_out: bool,
    deadline: Option<u64>,
    settled: bool,
    actions: Queue<Action>,
    /// A cancel that met a passed deadline: it takes effect once the
    /// timeout's reaction has been carried out (the actions drained).
    deferred_cancel: Option<u64>,
}

impl Call {
    /// Starts a call at `now`: admission, then its first actions.
    #[inline]
    pub fn start(cmd: &Command, now: u64, has_fallback: bool) -> Call {
        let (ex, step) = Execution::start(cmd, now, has_fallback);
        let mut call = Call {
            cmd: cmd.clone(),
            ex,
            attempt_out: false,
            deadline: None,
            settled: false,
            actions: Queue::new(),
            deferred_cancel: None,
        };
        call.follow(step);
        call
    }

    /// Feeds one input at `now` (the host's clock; it never goes back).
    pub fn handle(&mut self, now: u64, input: Input) {
        match input {
            Input::AttemptEnded { attempt, outcome } => self.attempt_ended(now, attempt, outcome),
            Input::AttemptStopped { attempt } => {
                // Only an aborted attempt's stop counts; a running attempt
                // must report how it ended.
                if attempt == FIRST && self.attempt_out && !self.ex.is_running() {
                    self.attempt_out = false;
                    self.ex.run_stopped(&self.cmd);
                }
            }
            Input::FallbackEnded { ok } => {
                let step = self.ex.fallback_finished(&self.cmd, now, ok);
                self.follow(step);
            }
            Input::TimerFired => {
                if self.ex.is_running() && self.deadline.is_some_and(|d| now >= d) {
                    self.deadline = None;
                    let step = self.ex.timer_fired(&self.cmd, now);
                    if self.attempt_out {
                        self.actions.push(Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Timeout });
                    }
                    self.follow(step);
                }
            }
            Input::Cancel => self.cancel(now),
        }
    }

    /// The next action, in order; `None` when there is nothing to do until
    /// the next input.
    #[inline]
    pub fn poll_action(&mut self) -> Option<Action> {
        if let Some(action) = self.actions.pop() {
            return Some(action);
        }
        // The timeout's reaction is carried out: a deferred cancel now.
        let at = self.deferred_cancel.take()?;
        self.cancel_now(at);
        self.actions.pop()
    }

    /// The one deadline the host must arm a timer for (and feed
    /// [`Input::TimerFired`] when it is reached), if any. Re-read after
    /// every input: it changes when the call moves on.
    #[inline]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.deadline
    }

    /// Whether the caller has been settled.
    pub fn is_settled(&self) -> bool {
        self.settled
    }

    /// Whether the call is over: settled, and holding no permit or
    /// fallback slot. A host may forget a finished call.
    pub fn is_finished(&self) -> bool {
        self.settled && self.ex.is_done() && !self.ex.holds_permit()
    }

    /// The events this call recorded so far, in order.
    pub fn events(&self) -> impl Iterator<Item = EventType> + '_ {
        self.ex.events()
    }

    /// The command this call goes through.
    pub fn command(&self) -> &Command {
        &self.cmd
    }

    fn attempt_ended(&mut self, now: u64, attempt: AttemptId, outcome: RunOutcome) {
        if attempt != FIRST || !self.attempt_out {
            return;
        }
        self.attempt_out = false;
        // Ended at or after its deadline while the timer was late: the
        // execution decides it is a timeout, the way every path decides it
        // (semantics §3.3: the run's end against its deadline); the outcome
        // and any value are discarded.
        let step = self.ex.run_finished(&self.cmd, now, outcome);
        if !self.ex.is_running() {
            self.deadline = None;
        }
        self.follow(step);
    }

    /// Semantics §18.1: the waiting stops, the attempt is cancelled (its
    /// permit held until its run stops), and the caller is settled now.
    fn cancel(&mut self, now: u64) {
        // A deadline already passed (the host's timer is late): the timeout
        // came first — at the same instant only does the cancel win
        // (semantics §18.2). The cancel is a reaction of its own: it takes
        // effect once the timeout's has been carried out (§18.1), and then
        // meets a fallback in flight, or a call already settled (an instant
        // fallback).
        if self.ex.is_running() && self.deadline.is_some_and(|d| d < now) {
            self.handle(now, Input::TimerFired);
            self.deferred_cancel = Some(now);
            return;
        }
        self.cancel_now(now);
    }

    fn cancel_now(&mut self, now: u64) {
        if self.settled {
            return;
        }
        let running = self.ex.is_running();
        if !self.ex.cancel(&self.cmd, now) {
            return;
        }
        if running {
            self.deadline = None;
            if self.attempt_out {
                self.actions.push(Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Cancelled });
            }
        }
        self.settle(Settlement::Error { kind: ErrorKind::Cancelled, original: None });
    }

    /// Turns a step of the single-attempt machine into actions.
    #[inline]
    fn follow(&mut self, step: Step) {
        match step {
            Step::Run { deadline } => {
                self.deadline = deadline;
                self.attempt_out = true;
                self.actions.push(Action::InvokeAttempt { attempt: FIRST });
            }
            Step::Fallback { cause } => self.actions.push(Action::InvokeFallback { original: original_of(cause) }),
            Step::Done(Resolution::Run) => self.settle(Settlement::Attempt(FIRST)),
            Step::Done(Resolution::Fallback) => self.settle(Settlement::Fallback),
            Step::Done(Resolution::Error(kind)) => {
                let original = match kind {
                    ErrorKind::FallbackRejected | ErrorKind::FallbackFailure => self.ex.cause().map(original_of),
                    ErrorKind::Cancelled | ErrorKind::InvalidConfig => None,
                    _ => Some(original_of(kind)),
                };
                self.settle(Settlement::Error { kind, original });
            }
            Step::Nothing => {}
        }
    }

    #[inline]
    fn settle(&mut self, settlement: Settlement) {
        if !self.settled {
            self.settled = true;
            self.actions.push(Action::Settle(settlement));
        }
    }
}

/// The original error of a cause: the run's own for a failing run.
fn original_of(cause: ErrorKind) -> Original {
    match cause {
        ErrorKind::Failure | ErrorKind::BadRequest => Original::Attempt(FIRST),
        kind => Original::Kind(kind),
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.ex.is_done() || self.ex.holds_permit() {
            self.ex.abandon(&self.cmd, self.ex.start_ms());
            self.ex.run_stopped(&self.cmd);
        }
    }
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("command", &self.cmd.name())
            .field("settled", &self.settled)
            .field("deadline", &self.deadline)
            .field("events", &self.ex.events().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FnClock;
    use crate::config::Config;
    use std::sync::Arc;

    fn command(config: Config) -> Command {
        Command::with_clock("call", config, Arc::new(FnClock(|| 0))).unwrap()
    }

    fn drain(call: &mut Call) -> Vec<Action> {
        std::iter::from_fn(|| call.poll_action()).collect()
    }

    const RUN: Action = Action::InvokeAttempt { attempt: FIRST };

    #[test]
    fn a_success_in_time_settles_with_the_attempts_value() {
        let cmd = command(Config { timeout_ms: 100, ..Config::default() });
        let mut call = Call::start(&cmd, 0, true);
        assert_eq!(drain(&mut call), vec![RUN]);
        assert_eq!(call.poll_timeout(), Some(100));
        call.handle(99, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
        assert_eq!(drain(&mut call), vec![Action::Settle(Settlement::Attempt(FIRST))]);
        assert_eq!(call.poll_timeout(), None);
        assert!(call.is_finished());
        assert_eq!(cmd.snapshot_at(99).concurrent, 0);
    }

    /// A host whose timer fires late (a blocked event loop) reports a run
    /// that ended after its deadline: that is a TIMEOUT, as on the sync
    /// path, never a success (issue: late timers turned timeouts into
    /// successes on the async paths).
    #[test]
    fn a_run_that_ends_after_its_deadline_times_out_even_when_the_timer_is_late() {
        let cmd = command(Config { timeout_ms: 100, ..Config::default() });
        let mut call = Call::start(&cmd, 0, true);
        let _ = drain(&mut call);
        call.handle(5_000, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
        assert_eq!(drain(&mut call), vec![Action::InvokeFallback { original: Original::Kind(ErrorKind::Timeout) }]);
        assert_eq!(cmd.snapshot_at(5_000).concurrent, 0, "the run has ended: its permit is back");
        // The late timer then fires: nothing more happens.
        call.handle(5_001, Input::TimerFired);
        assert_eq!(drain(&mut call), vec![]);
        call.handle(5_002, Input::FallbackEnded { ok: true });
        assert_eq!(drain(&mut call), vec![Action::Settle(Settlement::Fallback)]);
        assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Timeout, EventType::FallbackSuccess]);
        // Exactly at the deadline is late too (the timer is armed first).
        let mut call = Call::start(&cmd, 0, false);
        let _ = drain(&mut call);
        call.handle(100, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
        assert_eq!(
            drain(&mut call),
            vec![Action::Settle(Settlement::Error {
                kind: ErrorKind::Timeout,
                original: Some(Original::Kind(ErrorKind::Timeout))
            })]
        );
    }

    #[test]
    fn a_timeout_aborts_the_attempt_which_keeps_its_permit_until_it_stops() {
        let cmd = command(Config { timeout_ms: 10, ..Config::default() });
        let mut call = Call::start(&cmd, 0, false);
        let _ = drain(&mut call);
        call.handle(9, Input::TimerFired); // early: ignored
        assert_eq!(drain(&mut call), vec![]);
        call.handle(10, Input::TimerFired);
        assert_eq!(
            drain(&mut call),
            vec![
                Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Timeout },
                Action::Settle(Settlement::Error {
                    kind: ErrorKind::Timeout,
                    original: Some(Original::Kind(ErrorKind::Timeout))
                }),
            ]
        );
        assert_eq!(cmd.snapshot_at(10).concurrent, 1);
        assert!(!call.is_finished());
        call.handle(30, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
        assert_eq!(drain(&mut call), vec![], "a late value is discarded");
        assert_eq!(cmd.snapshot_at(30).concurrent, 0);
        assert_eq!(cmd.snapshot_at(30).cumulative.get(EventType::Success), 0);
        assert!(call.is_finished());
    }

    #[test]
    fn a_failure_hands_the_fallback_the_runs_own_error() {
        let cmd = command(Config::default());
        let mut call = Call::start(&cmd, 0, true);
        let _ = drain(&mut call);
        call.handle(1, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
        assert_eq!(drain(&mut call), vec![Action::InvokeFallback { original: Original::Attempt(FIRST) }]);
        call.handle(2, Input::FallbackEnded { ok: false });
        assert_eq!(
            drain(&mut call),
            vec![Action::Settle(Settlement::Error {
                kind: ErrorKind::FallbackFailure,
                original: Some(Original::Attempt(FIRST))
            })]
        );
    }

    /// Semantics §18.1 with a run that ignores the abort: CANCELLED now, the
    /// caller settled now, the permit held until the run finishes, whose
    /// value is discarded; nothing in health, no fallback.
    #[test]
    fn a_cancelled_call_settles_at_once_and_keeps_its_permit_until_the_run_stops() {
        let cmd = command(Config { max_concurrent_requests: 1, health_snapshot_interval_ms: 0, ..Config::default() });
        let mut call = Call::start(&cmd, 0, true);
        let _ = drain(&mut call);
        call.handle(5, Input::Cancel);
        assert_eq!(
            drain(&mut call),
            vec![
                Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Cancelled },
                Action::Settle(Settlement::Error { kind: ErrorKind::Cancelled, original: None }),
            ]
        );
        assert_eq!(call.poll_timeout(), None, "its timeout is dropped");
        call.handle(6, Input::Cancel);
        assert_eq!(drain(&mut call), vec![], "cancelling twice does nothing");
        let snap = cmd.snapshot_at(6);
        assert_eq!((snap.concurrent, snap.health.total, snap.rolling.get(EventType::Cancelled)), (1, 0, 1));
        call.handle(50, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
        assert_eq!(drain(&mut call), vec![]);
        let snap = cmd.snapshot_at(50);
        assert_eq!((snap.concurrent, snap.rolling.get(EventType::Success)), (0, 0));
        assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Cancelled]);
        assert!(call.is_finished());
    }

    /// A cancelled probe frees its slot without deciding (semantics §18.1).
    #[test]
    fn a_cancelled_probe_frees_its_slot() {
        let cmd = command(Config { request_volume_threshold: 1, sleep_window_ms: 10, ..Config::default() });
        cmd.execute(|| Err::<(), _>(crate::RunError::Failure(()))).unwrap_err();
        let mut probe = Call::start(&cmd, 10, false);
        assert_eq!(drain(&mut probe), vec![RUN]);
        probe.handle(11, Input::Cancel);
        let _ = drain(&mut probe);
        probe.handle(11, Input::AttemptStopped { attempt: FIRST });
        assert!(probe.is_finished());
        let mut next = Call::start(&cmd, 12, false);
        assert_eq!(drain(&mut next), vec![RUN], "the freed slot admits the next probe");
    }

    #[test]
    fn a_call_cancelled_during_its_fallback_settles_and_the_fallback_is_recorded_when_it_ends() {
        let cmd = command(Config::default());
        let mut call = Call::start(&cmd, 0, true);
        let _ = drain(&mut call);
        call.handle(1, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
        let _ = drain(&mut call);
        call.handle(2, Input::Cancel);
        assert_eq!(
            drain(&mut call),
            vec![Action::Settle(Settlement::Error { kind: ErrorKind::Cancelled, original: None })]
        );
        assert_eq!(cmd.snapshot_at(2).fallback_concurrent, 1);
        call.handle(9, Input::FallbackEnded { ok: true });
        assert_eq!(drain(&mut call), vec![], "settled once");
        let snap = cmd.snapshot_at(9);
        assert_eq!((snap.fallback_concurrent, snap.rolling.get(EventType::FallbackSuccess)), (0, 1));
    }

    /// A cancel that arrives after the deadline, before the late timer:
    /// the timeout came first (only at the same instant does the cancel
    /// win), so TIMEOUT is recorded and the fallback runs; the caller is
    /// still settled with `cancelled` at once.
    #[test]
    fn a_cancel_after_a_passed_deadline_meets_the_timeout_first() {
        let cmd = command(Config { timeout_ms: 100, ..Config::default() });
        let mut call = Call::start(&cmd, 0, true);
        let _ = drain(&mut call);
        call.handle(5_000, Input::Cancel);
        assert_eq!(
            drain(&mut call),
            vec![
                Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Timeout },
                Action::InvokeFallback { original: Original::Kind(ErrorKind::Timeout) },
                Action::Settle(Settlement::Error { kind: ErrorKind::Cancelled, original: None }),
            ]
        );
        assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Timeout]);
        // A fallback that ends within the timeout's reaction settles the
        // call first: the cancel then finds it settled (found by fuzzing).
        let mut call = Call::start(&cmd, 0, true);
        let _ = drain(&mut call);
        call.handle(5_000, Input::Cancel);
        let mut settled = vec![];
        while let Some(action) = call.poll_action() {
            match action {
                Action::InvokeFallback { .. } => call.handle(5_000, Input::FallbackEnded { ok: false }),
                Action::Settle(s) => settled.push(s),
                _ => {}
            }
        }
        assert_eq!(
            settled,
            vec![Settlement::Error {
                kind: ErrorKind::FallbackFailure,
                original: Some(Original::Kind(ErrorKind::Timeout))
            }]
        );
        // At the deadline itself the cancel wins (semantics §18.2).
        let mut call = Call::start(&cmd, 0, true);
        let _ = drain(&mut call);
        call.handle(100, Input::Cancel);
        assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Cancelled]);
    }

    #[test]
    fn dropping_an_unfinished_call_gives_every_permit_back() {
        let cmd = command(Config { max_concurrent_requests: 1, ..Config::default() });
        let mut running = Call::start(&cmd, 0, false);
        let _ = drain(&mut running);
        assert_eq!(cmd.snapshot_at(0).concurrent, 1);
        drop(running);
        assert_eq!(cmd.snapshot_at(0).concurrent, 0);
        let mut in_fallback = Call::start(&cmd, 0, true);
        let _ = drain(&mut in_fallback);
        in_fallback.handle(1, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
        let _ = drain(&mut in_fallback);
        drop(in_fallback);
        let snap = cmd.snapshot_at(1);
        assert_eq!((snap.concurrent, snap.fallback_concurrent), (0, 0));
    }

    #[test]
    fn inputs_for_an_attempt_that_is_not_out_change_nothing() {
        let cmd = command(Config::default());
        let mut call = Call::start(&cmd, 0, false);
        let _ = drain(&mut call);
        call.handle(1, Input::AttemptEnded { attempt: AttemptId(2), outcome: RunOutcome::Success });
        call.handle(1, Input::AttemptStopped { attempt: FIRST }); // not aborted: ignored
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(cmd.snapshot_at(1).concurrent, 1);
        call.handle(2, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
        call.handle(3, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
        assert_eq!(drain(&mut call), vec![Action::Settle(Settlement::Attempt(FIRST))]);
        assert_eq!(cmd.snapshot_at(3).cumulative.total(), 1);
    }
}
