//! The sans-IO face: one call's life as a small state machine that a host
//! drives with its own run, fallback and timers (SPEC §3). The async and
//! sync drivers, the C ABI, and the JS and Python glue all drive this.
//!
//! ```text
//! start ──► Run{deadline} ──run_finished──► Done | Fallback
//!              │
//!              └──timer_fired──► Fallback | Done   (then: run_stopped)
//! Fallback ──fallback_finished──► Done
//! ```

use crate::command::{Admission, Command, FallbackAdmission, Ticket};
use crate::error::ErrorKind;
use crate::event::EventType;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// It returned a value.
    Success,
    /// It failed (error, exception, panic, rejected promise).
    Failure,
    /// It failed with an error the caller marked as a bad request.
    BadRequest,
}

/// Where the caller's result comes from once a call has settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The run's own value.
    Run,
    /// The fallback's value.
    Fallback,
    /// An error of this kind. For `Failure` the host returns the run's own
    /// error; for `FallbackFailure` both the original and the fallback's.
    Error(ErrorKind),
}

/// What the host must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Invoke the run now; if `deadline` is set, arm a timer for it and call
    /// [`Execution::timer_fired`] when it fires.
    Run {
        /// When the run times out, on the command's clock.
        deadline: Option<u64>,
    },
    /// Invoke the fallback now, telling it why (`failure`, `timeout`,
    /// `short_circuited` or `rejected`); then [`Execution::fallback_finished`].
    Fallback {
        /// The original error kind.
        cause: ErrorKind,
    },
    /// The call has settled.
    Done(Resolution),
    /// Nothing new: the input changed no outcome (a late run after a
    /// timeout, a stale timer, or a repeated input).
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    Fallback,
    Done,
}

/// One call through a command. Holds no reference to the command: every
/// input takes it, with the current time.
///
/// The host must eventually report how the run ended ([`Execution::run_finished`]
/// or, after a timeout, [`Execution::run_stopped`]) so the bulkhead permit
/// is released, and must call [`Execution::abandon`] if it gives up early.
#[derive(Debug)]
pub struct Execution {
    ticket: Option<Ticket>,
    phase: Phase,
    start: u64,
    run_latency: Option<u64>,
    cause: Option<ErrorKind>,
    has_fallback: bool,
    events: [Option<EventType>; 2],
}

impl Execution {
    /// Starts a call at `now` (SPEC §3 steps 1–2). `has_fallback` says
    /// whether the host has a fallback to offer.
    #[inline]
    pub fn start(cmd: &Command, now: u64, has_fallback: bool) -> (Execution, Step) {
        Execution::after_admission(cmd, now, has_fallback, cmd.admit(now))
    }

    /// A call at `now` that `admission` answered (for drivers that admit
    /// first and build an execution only when they need one).
    #[inline]
    pub(crate) fn after_admission(
        cmd: &Command,
        now: u64,
        has_fallback: bool,
        admission: Admission,
    ) -> (Execution, Step) {
        let mut ex = Execution::new(now, has_fallback);
        let step = match admission {
            Admission::Admitted(ticket) => {
                let deadline = ticket.deadline();
                ex.ticket = Some(ticket);
                Step::Run { deadline }
            }
            Admission::ShortCircuited => {
                ex.enter_fallback(cmd, now, EventType::ShortCircuited, ErrorKind::ShortCircuited)
            }
            Admission::Rejected => ex.enter_fallback(cmd, now, EventType::SemaphoreRejected, ErrorKind::Rejected),
        };
        (ex, step)
    }

    /// A call admitted at `start` with `ticket` whose run is under way.
    pub(crate) fn admitted(ticket: Ticket, start: u64, has_fallback: bool) -> Execution {
        Execution { ticket: Some(ticket), ..Execution::new(start, has_fallback) }
    }

    fn new(start: u64, has_fallback: bool) -> Execution {
        Execution {
            ticket: None,
            phase: Phase::Running,
            start,
            run_latency: None,
            cause: None,
            has_fallback,
            events: [None, None],
        }
    }

    /// The run ended with `outcome` at `now`. After a timeout this only
    /// releases the permit (the result is discarded) and returns `Nothing`.
    /// A run that ended at or after its deadline while its timer had not
    /// fired yet (a late timer) timed out: `TIMEOUT` is recorded at `now`,
    /// the outcome discarded and the permit released — the step is the
    /// timeout's, so a host sends the fallback a timeout error, not the
    /// run's result (semantics §3.3: every path compares the run's end with
    /// its deadline).
    #[inline]
    pub fn run_finished(&mut self, cmd: &Command, now: u64, outcome: RunOutcome) -> Step {
        if self.phase != Phase::Running {
            self.run_stopped(cmd);
            return Step::Nothing;
        }
        if self.ticket.as_ref().is_some_and(|t| t.timed_out_by(now)) {
            let step = self.timer_fired(cmd, now);
            self.run_stopped(cmd);
            return step;
        }
        let Some(ticket) = self.ticket.take() else { return Step::Nothing };
        self.run_latency = Some(now.saturating_sub(self.start));
        let event = match outcome {
            RunOutcome::Success => {
                // The same settling as the sync driver's fast path.
                cmd.settle_success(ticket, now);
                self.events[0] = Some(EventType::Success);
                self.phase = Phase::Done;
                return Step::Done(Resolution::Run);
            }
            RunOutcome::Failure => EventType::Failure,
            RunOutcome::BadRequest => EventType::BadRequest,
        };
        cmd.record_outcome(&ticket, now, event);
        cmd.release(ticket);
        if event == EventType::BadRequest {
            self.events[0] = Some(event);
            return self.done(cmd, now, Resolution::Error(ErrorKind::BadRequest));
        }
        self.enter_fallback(cmd, now, event, ErrorKind::Failure)
    }

    /// The timer armed for the run's deadline fired at `now`. If the run was
    /// still going this records `TIMEOUT` and moves on; the host must then
    /// signal cancellation to the run and, once it has really stopped, call
    /// [`Execution::run_stopped`] (or `run_finished`).
    pub fn timer_fired(&mut self, cmd: &Command, now: u64) -> Step {
        if self.phase != Phase::Running {
            return Step::Nothing;
        }
        let Some(ticket) = self.ticket.as_ref() else { return Step::Nothing };
        self.run_latency = Some(now.saturating_sub(self.start));
        cmd.record_outcome(ticket, now, EventType::Timeout);
        self.enter_fallback(cmd, now, EventType::Timeout, ErrorKind::Timeout)
    }

    /// The run has really stopped after a timeout (it acknowledged
    /// cancellation): its permit is released. No effect otherwise.
    pub fn run_stopped(&mut self, cmd: &Command) {
        if self.phase != Phase::Running {
            if let Some(ticket) = self.ticket.take() {
                cmd.release(ticket);
            }
        }
    }

    /// The fallback settled at `now`, with a value (`ok`) or an error.
    #[inline]
    pub fn fallback_finished(&mut self, cmd: &Command, now: u64, ok: bool) -> Step {
        if self.phase != Phase::Fallback {
            return Step::Nothing;
        }
        let event = if ok { EventType::FallbackSuccess } else { EventType::FallbackFailure };
        cmd.finish_fallback(now, Some(event));
        self.events[1] = Some(event);
        let resolution = if ok { Resolution::Fallback } else { Resolution::Error(ErrorKind::FallbackFailure) };
        self.done(cmd, now, resolution)
    }

    /// The caller gave up at `now` (e.g. dropped the future): releases
    /// what the call holds without recording an outcome — a running run's
    /// permit (its probe slot freed without deciding) or a fallback's slot.
    /// A run that already timed out keeps its permit until it really stops
    /// ([`Execution::run_stopped`]), as SPEC §3.4 requires.
    pub fn abandon(&mut self, cmd: &Command, now: u64) {
        match self.phase {
            Phase::Running => {
                if let Some(ticket) = self.ticket.take() {
                    cmd.forget_probe(&ticket);
                    cmd.release(ticket);
                }
            }
            Phase::Fallback => cmd.finish_fallback(now, None),
            Phase::Done => {}
        }
        self.phase = Phase::Done;
    }

    /// The caller cancelled the call at `now` (SPEC §18). While the run is in
    /// flight it records `CANCELLED` (a probe's slot is freed without
    /// deciding; nothing counts in health, no fallback follows) and keeps
    /// the permit until the run really stops ([`Execution::run_stopped`], or
    /// a late [`Execution::run_finished`], whose outcome is discarded).
    /// While the fallback runs nothing changes: it keeps its slot and its
    /// outcome is recorded when it ends. Returns whether the call had not
    /// settled (its caller's result is then `cancelled`).
    pub fn cancel(&mut self, cmd: &Command, now: u64) -> bool {
        match self.phase {
            Phase::Running => {
                if let Some(ticket) = &self.ticket {
                    cmd.forget_probe(ticket);
                }
                cmd.record_cancelled(now);
                self.events[0] = Some(EventType::Cancelled);
                self.phase = Phase::Done;
                true
            }
            Phase::Fallback => true,
            Phase::Done => false,
        }
    }

    /// The events this call recorded, in order (at most two).
    pub fn events(&self) -> impl Iterator<Item = EventType> + '_ {
        self.events.iter().flatten().copied()
    }

    /// Why the fallback was wanted, once it was.
    pub fn cause(&self) -> Option<ErrorKind> {
        self.cause
    }

    /// Whether the run is in flight and undecided (not settled, timed out
    /// or cancelled).
    pub fn is_running(&self) -> bool {
        self.phase == Phase::Running
    }

    /// Whether the call has settled.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether the run still holds its bulkhead permit.
    pub fn holds_permit(&self) -> bool {
        self.ticket.is_some()
    }

    /// Whether the run was timed out.
    pub fn timed_out(&self) -> bool {
        self.events[0] == Some(EventType::Timeout)
    }

    /// When the call started.
    pub fn start_ms(&self) -> u64 {
        self.start
    }

    #[inline]
    fn enter_fallback(&mut self, cmd: &Command, now: u64, event: EventType, cause: ErrorKind) -> Step {
        self.events[0] = Some(event);
        self.cause = Some(cause);
        let (fallback_event, resolution) = match cmd.admit_fallback(now, self.has_fallback) {
            FallbackAdmission::Admitted => {
                self.phase = Phase::Fallback;
                return Step::Fallback { cause };
            }
            FallbackAdmission::Disabled => (EventType::FallbackDisabled, Resolution::Error(cause)),
            FallbackAdmission::Missing => (EventType::FallbackMissing, Resolution::Error(cause)),
            FallbackAdmission::Rejected => {
                (EventType::FallbackRejection, Resolution::Error(ErrorKind::FallbackRejected))
            }
        };
        self.events[1] = Some(fallback_event);
        self.done(cmd, now, resolution)
    }

    #[inline]
    fn done(&mut self, cmd: &Command, now: u64, resolution: Resolution) -> Step {
        self.phase = Phase::Done;
        cmd.record_latency(now, self.run_latency, now.saturating_sub(self.start));
        Step::Done(resolution)
    }
}
