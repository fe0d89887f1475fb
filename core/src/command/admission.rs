//! The closed path (SPEC §3 steps 1–4): admission as the circuit then the
//! bulkhead, recording each event (counts, probe decision, trip rule,
//! listeners), permits given back and latencies recorded.

use super::{Admission, Command, Ticket};
use crate::event::EventType;
use crate::listener::Notice;
use crate::CircuitState;
use std::num::NonZeroU64;
use std::sync::atomic::Ordering;

impl Command {
    /// SPEC §3 steps 1–2: the circuit, then the bulkhead. A refusal records
    /// its event (and a refused probe reopens the circuit).
    #[inline]
    pub(crate) fn admit(&self, now: u64) -> Admission {
        self.admit_with::<true>(now)
    }

    /// [`Command::admit`] for a caller that has just read the feature word:
    /// with `ADAPTIVE` false (it found the adaptive limit off), the
    /// bulkhead's limit is `max_concurrent_requests`, read without a second
    /// look at the features. An adaptive limit turned on at that very
    /// moment applies from the next call (semantics §8.2: a change applies
    /// to calls admitted after it); its outcome still gives its sample.
    #[inline]
    pub(crate) fn admit_with<const ADAPTIVE: bool>(&self, now: u64) -> Admission {
        let inner = &self.inner;
        let live = &inner.config;
        let force_open = live.force_open.load(Ordering::Relaxed);
        let mut probe = 0;
        if live.circuit_breaker_enabled.load(Ordering::Relaxed)
            && (force_open || !live.force_closed.load(Ordering::Relaxed))
        {
            if force_open {
                self.record(now, EventType::ShortCircuited, 0);
                return Admission::ShortCircuited;
            }
            // State closed inline (the closed path); the others out of line.
            let admitted =
                if self.state() == CircuitState::Closed { self.closed_admit(now) } else { self.circuit_admit(now) };
            match admitted {
                Some(p) => probe = p,
                None => {
                    self.record(now, EventType::ShortCircuited, 0);
                    return Admission::ShortCircuited;
                }
            }
        }
        let limit = if ADAPTIVE { self.limit() } else { live.max_concurrent_requests.load(Ordering::Relaxed) };
        let Some(held) = inner.concurrent.try_acquire(limit) else {
            self.record(now, EventType::SemaphoreRejected, probe);
            return Admission::Rejected;
        };
        self.window().note_concurrency(now, held.get());
        // A deadline past the end of `u64` time can never be reached: none
        // is armed (a saturated one would time out an instant success).
        // (`timeout_ms` ≥ 1, so a deadline is never 0.)
        let timeout_at = if live.timeout_enabled.load(Ordering::Relaxed) {
            now.checked_add(live.timeout_ms.load(Ordering::Relaxed)).and_then(NonZeroU64::new)
        } else {
            None
        };
        Admission::Admitted(Ticket { probe, start: now, timeout_at, inflight: held })
    }

    /// Records one event at `now`: rolling and cumulative counts, then the
    /// probe decision or the trip rule (SPEC §5), then listeners.
    #[inline(always)]
    pub(super) fn record(&self, now: u64, event: EventType, probe: u64) {
        let inner = &self.inner;
        self.window().record(now, event);
        if inner.listeners.wants_events() {
            inner.listeners.notify(&Notice::Event { command: &inner.name, event, at_ms: now });
        }
        // A probe whose episode has ended is an ordinary call (SPEC §5).
        if probe != 0 && self.decide_probe(now, &self.config(), event, probe) {
            return;
        }
        if event.counts_in_health() {
            self.check_trip(now);
        }
    }

    /// Records an admitted attempt's outcome event (`SUCCESS`, `FAILURE`,
    /// `BAD_REQUEST` or `TIMEOUT`): counts, probe decision, trip rule, then
    /// the retry budget's deposit and the adaptive limiter's sample
    /// (semantics §9.3). The permit stays held.
    #[inline(always)]
    pub(crate) fn record_outcome(&self, ticket: &Ticket, now: u64, event: EventType) {
        self.record(now, event, ticket.probe);
        self.after_outcome_v2(ticket, now, event);
    }

    /// Records an event that belongs to no attempt (a marker, a fallback's):
    /// counts and listeners; the trip rule if it counts in health.
    pub(crate) fn record_event(&self, now: u64, event: EventType) {
        self.record(now, event, 0);
    }

    /// Records a caller's cancellation of an attempt (SPEC §18): rolling and
    /// cumulative counts and listeners only (not in health, no probe
    /// decision, no trip rule).
    pub(crate) fn record_cancelled(&self, now: u64) {
        self.record(now, EventType::Cancelled, 0);
    }

    /// Settles a call whose run returned a value at `now`, before its
    /// deadline: `SUCCESS`, the permit back, the latency. Shared by
    /// [`crate::Execution::run_finished`] and the sync driver's fast path,
    /// which calls it without building an execution. The outcome stages
    /// (budget deposit, adaptive sample) read the features afresh: a
    /// retry budget or adaptive limit turned on while the run ran takes
    /// this success (semantics §12, §15.1), whatever path admitted it.
    #[inline(always)]
    pub(crate) fn settle_success(&self, ticket: Ticket, now: u64) {
        self.record(now, EventType::Success, ticket.probe);
        self.after_outcome_v2(&ticket, now, EventType::Success);
        let latency = now.saturating_sub(ticket.start);
        self.release(ticket);
        self.record_latency(now, Some(latency), latency);
    }

    /// Gives a run permit back (SPEC §3.4).
    #[inline]
    pub(crate) fn release(&self, _ticket: Ticket) {
        self.inner.concurrent.release();
    }

    /// Gives back the permit of a ticket whose holder is unwinding (a host
    /// clock panicked while it was held); the ticket is dropped with the
    /// unwinding frame, never used again.
    #[cold]
    pub(crate) fn release_while_unwinding(&self, _ticket: &Ticket) {
        self.inner.concurrent.release();
    }

    /// Records a settled call's latencies at `now`: the run's (if it ran)
    /// and the total. A call settled at its run's outcome records one sample
    /// that serves as both.
    #[inline(always)]
    pub(crate) fn record_latency(&self, now: u64, run: Option<u64>, total: u64) {
        if run == Some(total) {
            self.inner.latency_direct.record(now, total);
        } else {
            self.record_latencies_apart(now, run, total);
        }
    }

    /// [`Command::record_latency`] for a call whose total differs from its
    /// run's (a fallback ran, or no run did).
    #[inline(never)]
    fn record_latencies_apart(&self, now: u64, run: Option<u64>, total: u64) {
        let inner = &self.inner;
        if let Some(run) = run {
            inner.latency_run_only.record(now, run);
        }
        inner.latency_total_only.record(now, total);
    }
}
