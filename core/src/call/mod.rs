//! One call as a sans-IO state machine that **owns** its command: the
//! protocol every host drives (semantics §3, §9, §18).
//!
//! The host feeds [`Call::handle`] inputs stamped with its clock's time and
//! drains what to do next from [`Call::poll_action`]: arm or clear a timer,
//! invoke an attempt's run, abort one, invoke the fallback, settle the
//! caller. The host never decides a rule of the call itself: it only runs
//! code, converts values and keeps timers. Retry, hedging, backoff and
//! rate-limit waits are all state inside the call; for the host they are
//! just more of the same actions.
//!
//! **Timers.** Every delay is a timer of its own ([`Action::SetTimer`]),
//! named by the call, fed back as [`Input::TimerFired`]. Hosts fire timers
//! in due order, and in arming order at an equal instant (as every event
//! loop does); that is what makes same-instant ordering across calls the
//! same in every binding (semantics §9.7). A cleared timer may still be fed
//! in: the call ignores it.
//!
//! A full drive loop, with a [`TimerQueue`](crate::TimerQueue) standing in
//! for the host's timers and a run that takes 30 ms against a 20 ms timeout:
//!
//! ```
//! use hystrix_core::{
//!     Action, AttemptId, Call, CallTimer, Command, Config, ErrorKind, FnClock, Input, Original, RunOutcome,
//!     Settlement, TimerQueue,
//! };
//! use std::collections::HashMap;
//! use std::sync::Arc;
//!
//! #[derive(Debug)]
//! enum Timer {
//!     Call(CallTimer),
//!     RunEnds(AttemptId),
//! }
//!
//! let cmd = Command::with_clock("svc", Config { timeout_ms: 20, ..Config::default() }, Arc::new(FnClock(|| 0)))
//!     .unwrap();
//! let mut timers = TimerQueue::new();
//! let mut armed = HashMap::new(); // the call's timers → the queue's ids
//! let mut now = 0;
//! let mut call = Call::start(&cmd, now, /* has_fallback */ true);
//! let mut fallback_cause = None;
//! let settlement = loop {
//!     // 1. Do what the call asks, in order.
//!     let mut settled = None;
//!     while let Some(action) = call.poll_action() {
//!         match action {
//!             Action::SetTimer { timer, at } => {
//!                 armed.insert(timer, timers.arm(at, Timer::Call(timer)));
//!             }
//!             Action::ClearTimer { timer } => {
//!                 if let Some(id) = armed.remove(&timer) {
//!                     timers.cancel(id);
//!                 }
//!             }
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
//!     // 2. Wait for the next timer and feed it in.
//!     let (due, timer) = timers.pop_due(u64::MAX).expect("a pending call has a timer");
//!     now = due;
//!     match timer {
//!         Timer::Call(timer) => {
//!             armed.remove(&timer);
//!             call.handle(now, Input::TimerFired { timer });
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
mod machine;
pub(crate) mod plan;
mod queue;

use crate::error::ErrorKind;
pub use execution::RunOutcome;
pub use machine::Call;

/// Which attempt of a call an action or input is about, from 1, in the
/// order attempts start (retries and hedges included; attempts refused at
/// admission take a number too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttemptId(pub u32);

/// A timer of one call, named by the call (unique within it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallTimer(pub u64);

/// Where a call's original error comes from (what a fallback receives, and
/// what `fallback_rejected` and `fallback_failure` errors carry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Original {
    /// The error that attempt's run failed with (kinds `failure` and
    /// `bad_request`): the host hands back the run's own error.
    Attempt(AttemptId),
    /// An error of this kind that the host makes (`timeout`,
    /// `short_circuited`, `rejected`, `rate_limited`).
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
    /// `short_circuited`, `rejected` and `rate_limited`; the error the
    /// refused or failed fallback was for, for `fallback_rejected` and
    /// `fallback_failure` (which also carries the fallback's own error,
    /// held by the host); `None` for `cancelled`.
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
    /// A timer the call armed ([`Action::SetTimer`]) is due. A timer fed
    /// before its time is armed again; a cleared one is ignored.
    TimerFired {
        /// Which timer.
        timer: CallTimer,
    },
    /// The caller gave up on the call (semantics §18).
    Cancel,
}

/// What the host must do next.
#[must_use = "every action must be carried out, or permits leak and the caller is never settled"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Arm a timer due at `at` (on the command's clock; possibly now) and
    /// feed [`Input::TimerFired`] when it is due. Timers due at the same
    /// instant must fire in the order they were armed.
    SetTimer {
        /// Which timer.
        timer: CallTimer,
        /// When it is due.
        at: u64,
    },
    /// The timer's purpose is gone: the host may disarm it (feeding it in
    /// anyway does nothing).
    ClearTimer {
        /// Which timer.
        timer: CallTimer,
    },
    /// Invoke the run for this attempt (its timeout timer, if any, is
    /// already armed).
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
        /// Why: `timeout`, or `cancelled` (by the caller, or because
        /// another attempt won).
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

#[cfg(test)]
mod tests;
