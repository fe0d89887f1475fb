//! The call machine: stages (rate limiter, attempts, fallback), attempts
//! with their timeouts, the retry and hedging decisions, cancellation
//! (semantics §9, §11, §13, §14, §18). One machine for every call: a call
//! with every v2 key at its default makes one attempt through the same
//! code, allocation-free.

use super::plan::Plan;
use super::queue::Queue;
use super::{Action, AttemptId, CallTimer, Input, Original, RunOutcome, Settlement};
use crate::command::{Admission, Command, FallbackAdmission, Ticket};
use crate::error::ErrorKind;
use crate::event::EventType;
use crate::policy::rate_limiter::RateDecision;
use smallvec::SmallVec;

/// Where a call is (semantics §9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for its turn in the rate limiter (stage 1).
    Waiting,
    /// Making attempts (stage 2).
    Attempts,
    /// Its fallback runs (stage 4).
    Fallback,
    /// Nothing more will happen but permits coming back.
    Done,
}

/// Why a call-level timer was armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// The rate limiter's reserved turn (semantics §13).
    RateLimit,
    /// A retry's backoff (semantics §11.3 step 6).
    Backoff,
}

/// One admitted attempt, kept while it is outstanding or holds its permit.
#[derive(Debug)]
struct Attempt {
    id: AttemptId,
    /// The run permit, held until the run has really stopped.
    ticket: Option<Ticket>,
    /// Admitted and no outcome recorded yet.
    outstanding: bool,
    /// The outcome recorded for it, once it has one (see
    /// [`Call::attempt_outcome`]).
    outcome: Option<EventType>,
    /// When the attempt times out, if ever.
    deadline: Option<u64>,
    /// Its timeout timer, while armed.
    timer: Option<CallTimer>,
}

impl Attempt {
    /// Whether the call may forget it: it is neither outstanding nor holds
    /// its permit any more.
    #[inline]
    fn forgettable(&self) -> bool {
        !self.outstanding && self.ticket.is_none()
    }
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
    plan: Plan,
    stage: Stage,
    settled: bool,
    has_fallback: bool,
    /// When the call started (its total latency runs from here).
    start: u64,
    /// The deadline of the attempts (semantics §9.5), once the first started.
    deadline: Option<u64>,
    /// Attempts started so far, refused ones included.
    started: u64,
    /// Attempts admitted and not yet forgotten, in start order.
    attempts: SmallVec<[Attempt; 1]>,
    /// The cause of the last attempt outcome (or the rate limiter's refusal).
    cause: Option<(ErrorKind, Original)>,
    /// The last admitted attempt's run latency, once it has an outcome.
    run_latency: Option<u64>,
    /// The rate-limit wait or retry backoff timer, while armed.
    wait: Option<(CallTimer, u64, Wait)>,
    /// The hedge timer, while armed (semantics §14.2).
    hedge: Option<(CallTimer, u64)>,
    hedging_stopped: bool,
    /// The previous decorrelated backoff delay (semantics §11.2).
    prev_delay: u64,
    next_timer: u64,
    /// Inline room for a retried or hedged call's events (a call of three
    /// attempts records five), so that one does not allocate either.
    events: SmallVec<[EventType; 8]>,
    actions: Queue<Action>,
    /// A cancel that met a passed deadline: it takes effect once the
    /// timeout's reaction has been carried out (the actions drained).
    deferred_cancel: Option<u64>,
}

impl Call {
    /// Starts a call at `now`: the rate limiter, then its first attempt's
    /// admission, and the first actions to carry out.
    #[inline(always)]
    pub fn start(cmd: &Command, now: u64, has_fallback: bool) -> Call {
        Call::start_with(cmd, now, has_fallback, cmd.call_plan())
    }

    /// Starts a call at `now` like [`Call::start`], but limited to **one
    /// attempt**, for a host that can run the call's work only once (a
    /// future can be awaited once): `retry_max_attempts` and
    /// `hedge_max_attempts` count as 1 for this call, so it never retries
    /// or hedges (no `RETRY`, `HEDGE` or budget withdrawal). Everything
    /// else applies as configured: the rate limiter, the deadline (which
    /// caps the attempt's timeout), the adaptive limit and the budget's
    /// deposits.
    pub fn start_single(cmd: &Command, now: u64, has_fallback: bool) -> Call {
        Call::start_with(cmd, now, has_fallback, cmd.call_plan().single_attempt())
    }

    /// Starts a call at `now` like [`Call::start`], made in `slot` (what
    /// it held before is dropped first) instead of returned: a host that
    /// keeps its call in one place spares the copy of the whole call out
    /// of [`Call::start`] (whose address has to be known before it
    /// returns, so it cannot be made in the caller's place). Returns the
    /// call in its slot.
    #[inline(always)]
    pub fn start_in<'s>(slot: &'s mut Option<Call>, cmd: &Command, now: u64, has_fallback: bool) -> &'s mut Call {
        Call::start_in_with(slot, cmd, now, has_fallback, cmd.call_plan())
    }

    /// [`Call::start_in`] with the plan given (a driver's limits applied).
    #[inline(always)]
    pub(crate) fn start_in_with<'s>(
        slot: &'s mut Option<Call>,
        cmd: &Command,
        now: u64,
        has_fallback: bool,
        plan: Plan,
    ) -> &'s mut Call {
        // The old call dropped first, so the new one can be made in place.
        *slot = None;
        let call = slot.insert(Call::fresh(cmd, now, has_fallback, plan));
        call.begin(now);
        call
    }

    #[inline(always)]
    fn start_with(cmd: &Command, now: u64, has_fallback: bool, plan: Plan) -> Call {
        let mut call = Call::fresh(cmd, now, has_fallback, plan);
        call.begin(now);
        call
    }

    /// A call at `now` that has done nothing yet: [`Call::begin`] starts it.
    #[inline(always)]
    fn fresh(cmd: &Command, now: u64, has_fallback: bool, plan: Plan) -> Call {
        Call {
            cmd: cmd.clone(),
            plan,
            stage: Stage::Attempts,
            settled: false,
            has_fallback,
            start: now,
            deadline: None,
            started: 0,
            attempts: SmallVec::new(),
            cause: None,
            run_latency: None,
            wait: None,
            hedge: None,
            hedging_stopped: false,
            prev_delay: plan.backoff.base,
            next_timer: 0,
            events: SmallVec::new(),
            actions: Queue::new(),
            deferred_cancel: None,
        }
    }

    /// Stage 1 of a [`Call::fresh`] call at `now`, then its first attempt
    /// when the rate limiter lets it go at once. Called once per call.
    #[inline(always)]
    fn begin(&mut self, now: u64) {
        match self.cmd.rate_admit(now) {
            RateDecision::Now => self.start_attempt(now),
            RateDecision::Wait(ms) => {
                self.stage = Stage::Waiting;
                let at = now.saturating_add(ms);
                let timer = self.arm(at);
                self.wait = Some((timer, at, Wait::RateLimit));
            }
            RateDecision::Refused => {
                self.cmd.record_event(now, EventType::RateLimited);
                self.events.push(EventType::RateLimited);
                self.cause = Some((ErrorKind::RateLimited, Original::Kind(ErrorKind::RateLimited)));
                self.end_attempts(now);
            }
        }
    }

    /// Feeds one input at `now` (the host's clock; it never goes back).
    pub fn handle(&mut self, now: u64, input: Input) {
        match input {
            Input::AttemptEnded { attempt, outcome } => self.attempt_ended(now, attempt, outcome),
            Input::AttemptStopped { attempt } => self.attempt_stopped(attempt),
            Input::FallbackEnded { ok } => self.fallback_ended(now, ok),
            Input::TimerFired { timer } => self.timer_fired(now, timer),
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

    /// Whether the caller has been settled.
    pub fn is_settled(&self) -> bool {
        self.settled
    }

    /// Whether the call is over: settled, and holding no permit or
    /// fallback slot. A host may forget a finished call.
    pub fn is_finished(&self) -> bool {
        self.settled && self.stage == Stage::Done && self.attempts.iter().all(|a| a.ticket.is_none())
    }

    /// The events this call recorded so far, in order (semantics §16).
    pub fn events(&self) -> impl Iterator<Item = EventType> + '_ {
        self.events.iter().copied()
    }

    /// How many attempts the call has started, refused ones included.
    pub fn attempts_started(&self) -> u64 {
        self.started
    }

    /// The outcome recorded for an admitted attempt still known to the
    /// call: `None` while it is outstanding (or once the call has
    /// forgotten it); `SUCCESS`, `FAILURE` or `BAD_REQUEST` once its run
    /// ended in time; `TIMEOUT` once it timed out (its timer fired, or its
    /// run ended at or after its deadline); `CANCELLED` once it was
    /// cancelled (by the caller, or because another attempt won). An
    /// attempt that was aborted holds its permit, and so stays known, until
    /// its run has stopped: a host receiving a run's completion can ask
    /// here whether that run was aborted, whatever actions it has not
    /// carried out yet. A pure query: it changes nothing.
    pub fn attempt_outcome(&self, attempt: AttemptId) -> Option<EventType> {
        self.attempts.iter().find(|a| a.id == attempt).and_then(|a| a.outcome)
    }

    /// The command this call goes through.
    pub fn command(&self) -> &Command {
        &self.cmd
    }

    // ----- timers -----

    fn arm(&mut self, at: u64) -> CallTimer {
        self.next_timer += 1;
        let timer = CallTimer(self.next_timer);
        self.actions.push(Action::SetTimer { timer, at });
        timer
    }

    fn clear(&mut self, timer: Option<CallTimer>) {
        if let Some(timer) = timer {
            self.actions.push(Action::ClearTimer { timer });
        }
    }

    fn clear_hedge(&mut self) {
        let hedge = self.hedge.take().map(|(t, _)| t);
        self.clear(hedge);
    }

    fn clear_wait(&mut self) {
        let wait = self.wait.take().map(|(t, ..)| t);
        self.clear(wait);
    }

    fn timer_fired(&mut self, now: u64, timer: CallTimer) {
        if let Some((t, at, why)) = self.wait {
            if t == timer {
                if now < at {
                    return self.rearm(timer, at);
                }
                self.wait = None;
                if why == Wait::RateLimit {
                    self.stage = Stage::Attempts;
                }
                if self.stage == Stage::Attempts && !self.settled {
                    self.start_attempt(now);
                }
                return;
            }
        }
        if let Some((t, at)) = self.hedge {
            if t == timer {
                if now < at {
                    return self.rearm(timer, at);
                }
                self.hedge = None;
                return self.hedge_fired(now);
            }
        }
        let Some(i) = self.attempts.iter().position(|a| a.timer == Some(timer)) else { return };
        let at = self.attempts[i].deadline.unwrap_or(0);
        if now < at {
            return self.rearm(timer, at);
        }
        self.attempts[i].timer = None;
        self.time_out(now, i, false);
    }

    /// A timer fed before its time (a host timer that rounds down) is armed
    /// again rather than lost.
    fn rearm(&mut self, timer: CallTimer, at: u64) {
        self.actions.push(Action::SetTimer { timer, at });
    }

    // ----- attempts -----

    /// Semantics §9.2: an attempt starts at `now` (the hedge timer first,
    /// then admission; an admitted attempt arms its timeout, then runs).
    fn start_attempt(&mut self, now: u64) {
        self.started += 1;
        let id = AttemptId(u32::try_from(self.started).unwrap_or(u32::MAX));
        if self.started == 1 && self.plan.deadline_ms > 0 {
            self.deadline = now.checked_add(self.plan.deadline_ms);
        }
        if self.plan.hedges() {
            self.clear_hedge();
            if self.started < self.plan.hedge_max_attempts {
                if let Some(at) = now.checked_add(self.plan.hedge_delay_ms) {
                    let timer = self.arm(at);
                    self.hedge = Some((timer, at));
                }
            }
        }
        // Attempts that hold nothing any more are forgotten: a retried
        // call's one previous attempt at once, others after a look (a call
        // whose attempts all still hold something keeps them as they are).
        if let Some(last) = self.attempts.last() {
            if self.attempts.len() == 1 && last.forgettable() {
                self.attempts.clear();
            } else if self.attempts.iter().any(Attempt::forgettable) {
                self.attempts.retain(|a| !a.forgettable());
            }
        }
        match self.cmd.admit(now) {
            Admission::Admitted(ticket) => {
                let deadline = match (ticket.deadline(), self.deadline) {
                    (Some(t), Some(d)) => Some(t.min(d)),
                    (t, d) => t.or(d),
                };
                let timer = deadline.map(|at| self.arm(at));
                self.attempts.push(Attempt {
                    id,
                    ticket: Some(ticket),
                    outstanding: true,
                    outcome: None,
                    deadline,
                    timer,
                });
                self.actions.push(Action::InvokeAttempt { attempt: id });
            }
            Admission::ShortCircuited => self.after_outcome(now, EventType::ShortCircuited, id),
            Admission::Rejected => self.after_outcome(now, EventType::SemaphoreRejected, id),
        }
    }

    fn attempt_ended(&mut self, now: u64, attempt: AttemptId, outcome: RunOutcome) {
        // One lookup: the attempt's fields are read through `a` below.
        let Some((i, a)) = self.attempts.iter_mut().enumerate().find(|(_, a)| a.id == attempt) else { return };
        if !a.outstanding {
            // Timed out or cancelled before: the run has now stopped; what
            // it returned is discarded.
            return self.release(i);
        }
        // Ended at or after its deadline while the timer was late: a
        // timeout, the way every path decides it (semantics §3.3).
        if a.deadline.is_some_and(|d| now >= d) {
            let timer = a.timer.take();
            self.clear(timer);
            return self.time_out(now, i, true);
        }
        let event = match outcome {
            RunOutcome::Success => EventType::Success,
            RunOutcome::Failure => EventType::Failure,
            RunOutcome::BadRequest => EventType::BadRequest,
        };
        a.outstanding = false;
        a.outcome = Some(event);
        let timer = a.timer.take();
        let ticket = a.ticket.take().expect("an outstanding attempt holds its permit");
        self.clear(timer);
        self.run_latency = Some(now.saturating_sub(ticket.start));
        self.cmd.record_outcome(&ticket, now, event);
        self.cmd.release(ticket);
        self.after_outcome(now, event, attempt);
    }

    fn attempt_stopped(&mut self, attempt: AttemptId) {
        // Only an aborted attempt's stop counts; a running attempt must
        // report how it ended.
        if let Some(i) = self.attempts.iter().position(|a| a.id == attempt && !a.outstanding) {
            self.release(i);
        }
    }

    fn release(&mut self, i: usize) {
        if let Some(ticket) = self.attempts[i].ticket.take() {
            self.cmd.release(ticket);
        }
    }

    /// The attempt at `i` records `TIMEOUT` at `now`; its run is told to
    /// stop, and holds its permit until it has (`stopped`: it already has).
    fn time_out(&mut self, now: u64, i: usize, stopped: bool) {
        let a = &mut self.attempts[i];
        a.outstanding = false;
        a.outcome = Some(EventType::Timeout);
        let id = a.id;
        let ticket = a.ticket.as_ref().expect("an outstanding attempt holds its permit");
        self.run_latency = Some(now.saturating_sub(ticket.start));
        self.cmd.record_outcome(ticket, now, EventType::Timeout);
        if stopped {
            self.release(i);
        } else {
            self.actions.push(Action::AbortAttempt { attempt: id, reason: ErrorKind::Timeout });
        }
        self.after_outcome(now, EventType::Timeout, id);
    }

    /// Cancels the outstanding attempt at `i` (semantics §14.4): `CANCELLED`,
    /// its probe slot freed, its run told to stop; the permit is held until
    /// it has.
    fn cancel_attempt(&mut self, now: u64, i: usize) {
        let a = &mut self.attempts[i];
        a.outstanding = false;
        a.outcome = Some(EventType::Cancelled);
        let id = a.id;
        let timer = a.timer.take();
        if let Some(ticket) = &a.ticket {
            self.cmd.forget_probe(ticket);
        }
        self.clear(timer);
        self.cmd.record_cancelled(now);
        self.events.push(EventType::Cancelled);
        self.actions.push(Action::AbortAttempt { attempt: id, reason: ErrorKind::Cancelled });
    }

    /// Cancels every outstanding attempt; a look, inline, when none is
    /// (a call settled by its only outstanding attempt's outcome).
    #[inline]
    fn cancel_outstanding(&mut self, now: u64) {
        if self.outstanding() {
            self.cancel_each_outstanding(now);
        }
    }

    #[inline(never)]
    fn cancel_each_outstanding(&mut self, now: u64) {
        for i in 0..self.attempts.len() {
            if self.attempts[i].outstanding {
                self.cancel_attempt(now, i);
            }
        }
    }

    fn outstanding(&self) -> bool {
        self.attempts.iter().any(|a| a.outstanding)
    }

    // ----- decisions -----

    /// Semantics §9.3 step 7, after an attempt outcome recorded at `now`.
    fn after_outcome(&mut self, now: u64, event: EventType, attempt: AttemptId) {
        self.events.push(event);
        match event {
            EventType::Success => return self.win(now, Settlement::Attempt(attempt)),
            EventType::BadRequest => {
                let original = Some(Original::Attempt(attempt));
                return self.win(now, Settlement::Error { kind: ErrorKind::BadRequest, original });
            }
            _ => {}
        }
        self.cause = Some(cause_of(event, attempt));
        if self.plan.retries() {
            self.retry_decision(now, event);
        } else if self.plan.hedges() {
            self.hedge_decision(now, event);
        } else {
            self.end_attempts(now);
        }
    }

    /// Semantics §14.4: the winner's outcome settles the call, after the
    /// hedge timer is dropped and every other outstanding attempt cancelled.
    fn win(&mut self, now: u64, settlement: Settlement) {
        self.clear_hedge();
        self.cancel_outstanding(now);
        self.stage = Stage::Done;
        self.settle(now, settlement);
    }

    /// Semantics §11.3.
    fn retry_decision(&mut self, now: u64, event: EventType) {
        if !self.plan.retryable(event) || self.started >= self.plan.retry_max_attempts {
            return self.end_attempts(now);
        }
        // Steps 2–5 under the budget's lock (if it is on), so that threads
        // sharing the command never overspend it; what needs `&mut self`
        // comes after the lock is dropped.
        let n = u32::try_from(self.started).unwrap_or(u32::MAX);
        let verdict = {
            let cmd = &self.cmd;
            let mut budget = cmd.budget_at(now);
            if budget.as_mut().is_some_and(|b| !b.allows()) {
                None
            } else {
                let delay = self.plan.backoff.delay(n, self.prev_delay, || cmd.draw());
                let at = now.saturating_add(delay);
                let in_time = !self.deadline.is_some_and(|d| at >= d);
                if let (true, Some(b)) = (in_time, budget) {
                    b.withdraw();
                }
                Some((delay, in_time.then_some(at)))
            }
        };
        let Some((delay, at)) = verdict else {
            self.marker(now, EventType::RetryBudgetExhausted);
            return self.end_attempts(now);
        };
        self.prev_delay = delay;
        let Some(at) = at else { return self.end_attempts(now) };
        self.marker(now, EventType::Retry);
        let timer = self.arm(at);
        self.wait = Some((timer, at, Wait::Backoff));
    }

    /// Semantics §14.3.
    fn hedge_decision(&mut self, now: u64, event: EventType) {
        if event == EventType::ShortCircuited {
            self.hedging_stopped = true;
            self.clear_hedge();
        } else if self.plan.retryable(event)
            && self.plan.hedge_on_failure
            && !self.hedging_stopped
            && self.started < self.plan.hedge_max_attempts
        {
            self.clear_hedge();
            let timer = self.arm(now);
            self.hedge = Some((timer, now));
        }
        if !self.outstanding() && !self.hedge.is_some_and(|(_, at)| at <= now) {
            self.end_attempts(now);
        }
    }

    /// Semantics §14.1: the hedge timer fires at `now`.
    fn hedge_fired(&mut self, now: u64) {
        if self.settled
            || self.stage != Stage::Attempts
            || self.hedging_stopped
            || self.started >= self.plan.hedge_max_attempts
        {
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            self.hedging_stopped = true;
        } else {
            // Checked and withdrawn under one lock (see `retry_decision`).
            let allowed = match self.cmd.budget_at(now) {
                Some(mut b) => {
                    let allows = b.allows();
                    if allows {
                        b.withdraw();
                    }
                    allows
                }
                None => true,
            };
            if allowed {
                self.marker(now, EventType::Hedge);
                self.start_attempt(now);
            } else {
                self.marker(now, EventType::RetryBudgetExhausted);
                self.hedging_stopped = true;
            }
        }
        if !self.settled && self.stage == Stage::Attempts && !self.outstanding() && self.hedge.is_none() {
            self.end_attempts(now);
        }
    }

    fn marker(&mut self, now: u64, event: EventType) {
        self.cmd.record_event(now, event);
        self.events.push(event);
    }

    // ----- fallback and settling -----

    /// The call's attempts are over: stage 4, the fallback, with the cause
    /// of the last outcome (semantics §9.1).
    fn end_attempts(&mut self, now: u64) {
        self.clear_wait();
        self.clear_hedge();
        // None is outstanding when a plan runs one strategy; should one be
        // (a plan that mixed them), it is cancelled, so it cannot settle the
        // call while its fallback holds a slot.
        self.cancel_outstanding(now);
        let (kind, original) = self.cause.expect("attempts end after an outcome");
        let refusal = match self.cmd.admit_fallback(now, self.has_fallback) {
            FallbackAdmission::Admitted => {
                self.stage = Stage::Fallback;
                self.actions.push(Action::InvokeFallback { original });
                return;
            }
            FallbackAdmission::Disabled => (EventType::FallbackDisabled, kind),
            FallbackAdmission::Missing => (EventType::FallbackMissing, kind),
            FallbackAdmission::Rejected => (EventType::FallbackRejection, ErrorKind::FallbackRejected),
        };
        self.events.push(refusal.0);
        self.stage = Stage::Done;
        self.settle(now, Settlement::Error { kind: refusal.1, original: Some(original) });
    }

    fn fallback_ended(&mut self, now: u64, ok: bool) {
        if self.stage != Stage::Fallback {
            return;
        }
        let event = if ok { EventType::FallbackSuccess } else { EventType::FallbackFailure };
        self.cmd.finish_fallback(now, Some(event));
        self.events.push(event);
        self.stage = Stage::Done;
        let settlement = if ok {
            Settlement::Fallback
        } else {
            Settlement::Error { kind: ErrorKind::FallbackFailure, original: self.cause.map(|c| c.1) }
        };
        self.settle(now, settlement);
    }

    /// Settles the caller once, recording the call's latencies (a cancelled
    /// call records none: it gave no result of its own).
    #[inline]
    fn settle(&mut self, now: u64, settlement: Settlement) {
        if self.settled {
            return;
        }
        self.settled = true;
        let cancelled = matches!(settlement, Settlement::Error { kind: ErrorKind::Cancelled, .. });
        if !cancelled {
            self.cmd.record_latency(now, self.run_latency, now.saturating_sub(self.start));
        }
        self.actions.push(Action::Settle(settlement));
    }

    // ----- caller cancellation -----

    /// Semantics §18.1.
    fn cancel(&mut self, now: u64) {
        // A timeout already passed (the host's timer is late): the timeout
        // came first — at the same instant only does the cancel win
        // (semantics §18.2). The cancel is a reaction of its own: it takes
        // effect once the timeout's has been carried out.
        let late = self
            .attempts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.outstanding && a.deadline.is_some_and(|d| d < now))
            .min_by_key(|(_, a)| a.deadline)
            .map(|(i, _)| i);
        if let (Some(i), false) = (late, self.settled) {
            let timer = self.attempts[i].timer.take();
            self.clear(timer);
            self.time_out(now, i, false);
            self.deferred_cancel = Some(now);
            return;
        }
        self.cancel_now(now);
    }

    fn cancel_now(&mut self, now: u64) {
        if self.settled {
            return;
        }
        if matches!(self.stage, Stage::Waiting | Stage::Attempts) {
            self.clear_wait();
            self.clear_hedge();
            self.cancel_outstanding(now);
            self.stage = Stage::Done;
        }
        self.settle(now, Settlement::Error { kind: ErrorKind::Cancelled, original: None });
    }
}

/// The cause of an attempt outcome (semantics §9.4) and its original error.
fn cause_of(event: EventType, attempt: AttemptId) -> (ErrorKind, Original) {
    match event {
        EventType::Failure => (ErrorKind::Failure, Original::Attempt(attempt)),
        EventType::Timeout => (ErrorKind::Timeout, Original::Kind(ErrorKind::Timeout)),
        EventType::ShortCircuited => (ErrorKind::ShortCircuited, Original::Kind(ErrorKind::ShortCircuited)),
        _ => (ErrorKind::Rejected, Original::Kind(ErrorKind::Rejected)),
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        for a in &mut self.attempts {
            if let Some(ticket) = a.ticket.take() {
                if a.outstanding {
                    self.cmd.forget_probe(&ticket);
                }
                self.cmd.release(ticket);
            }
        }
        if self.stage == Stage::Fallback {
            self.cmd.finish_fallback(self.start, None);
        }
    }
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("command", &self.cmd.name())
            .field("stage", &self.stage)
            .field("settled", &self.settled)
            .field("attempts", &self.attempts)
            .field("events", &self.events)
            .finish()
    }
}

#[cfg(test)]
mod mixed_plan_tests {
    use super::*;
    use crate::clock::FnClock;
    use crate::config::{Config, Jitter};
    use crate::policy::backoff::Backoff;
    use std::sync::Arc;

    fn drain(c: &mut Call) -> Vec<Action> {
        std::iter::from_fn(|| c.poll_action()).collect()
    }

    /// Keeps `timers` in step with `actions`.
    fn track(timers: &mut Vec<(CallTimer, u64)>, actions: &[Action]) {
        for a in actions {
            match a {
                Action::SetTimer { timer, at } => timers.push((*timer, *at)),
                Action::ClearTimer { timer } => timers.retain(|t| t.0 != *timer),
                _ => {}
            }
        }
    }

    /// A plan with both retry and hedging on (which `Plan::live` no longer
    /// gives, but which a call read mid-reconfiguration used to get): the
    /// retries run out while a hedge is outstanding. That hedge is cancelled
    /// when the fallback starts, so its success cannot settle the call under
    /// the fallback and leave the fallback's slot held for good (found by
    /// review; the slot leaked before).
    #[test]
    fn a_plan_mixing_retry_and_hedging_gives_the_fallback_slot_back() {
        let cmd = Command::with_clock("mixed", Config::default(), Arc::new(FnClock(|| 0))).unwrap();
        let mut plan = cmd.call_plan();
        plan.retry_max_attempts = 3;
        plan.hedge_max_attempts = 3;
        plan.hedge_delay_ms = 10;
        plan.hedge_on_failure = false;
        plan.backoff = Backoff { base: 5, multiplier_permille: 1000, max: 5, jitter: Jitter::None };
        plan.deadline_ms = 0;
        let mut call = Call::start_with(&cmd, 0, true, plan);
        let mut timers = Vec::new();
        let acts = drain(&mut call);
        track(&mut timers, &acts);
        call.handle(1, Input::AttemptEnded { attempt: AttemptId(1), outcome: RunOutcome::Failure });
        let acts = drain(&mut call);
        track(&mut timers, &acts);
        for now in 2..=16u64 {
            let due: Vec<_> = timers.iter().filter(|t| t.1 <= now).copied().collect();
            timers.retain(|t| t.1 > now);
            for (timer, _) in due {
                call.handle(now, Input::TimerFired { timer });
                let acts = drain(&mut call);
                track(&mut timers, &acts);
            }
        }
        // Attempts 2 (the retry) and 3 (the hedge) are out; 2 fails last.
        call.handle(17, Input::AttemptEnded { attempt: AttemptId(2), outcome: RunOutcome::Failure });
        let acts = drain(&mut call);
        assert!(acts.contains(&Action::InvokeFallback { original: Original::Attempt(AttemptId(2)) }), "{acts:?}");
        assert!(acts.iter().any(|a| matches!(a, Action::AbortAttempt { attempt: AttemptId(3), .. })), "{acts:?}");
        // The cancelled hedge's late success changes nothing.
        call.handle(18, Input::AttemptEnded { attempt: AttemptId(3), outcome: RunOutcome::Success });
        assert!(drain(&mut call).is_empty());
        call.handle(19, Input::FallbackEnded { ok: true });
        assert_eq!(drain(&mut call), vec![Action::Settle(Settlement::Fallback)]);
        assert!(call.is_finished());
        drop(call);
        let s = cmd.snapshot_at(20);
        assert_eq!((s.concurrent, s.fallback_concurrent), (0, 0), "no permit or fallback slot held");
    }

    /// Switching a command between hedging and retry while calls read their
    /// plan never gives a call both.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn a_plan_read_while_switching_between_retry_and_hedging_has_one_strategy() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let cmd = Command::with_clock("switching", Config::default(), Arc::new(FnClock(|| 0))).unwrap();
        let hedge = Config { hedge_max_attempts: 3, ..Config::default() };
        let retry = Config { retry_max_attempts: 3, ..Config::default() };
        let stop = Arc::new(AtomicBool::new(false));
        let (writer, done) = (cmd.clone(), stop.clone());
        let t = std::thread::spawn(move || {
            let mut i = 0u64;
            while !done.load(Ordering::Relaxed) {
                writer.set_config(if i % 2 == 0 { hedge } else { retry }).unwrap();
                i += 1;
            }
        });
        let (mut mixed, mut reads) = (0u64, 0u64);
        let begin = std::time::Instant::now();
        while begin.elapsed().as_millis() < 300 {
            let p = cmd.call_plan();
            mixed += u64::from(p.retries() && p.hedges());
            reads += 1;
        }
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap();
        assert_eq!(mixed, 0, "{mixed} of {reads} plans had both retry and hedging");
    }
}
