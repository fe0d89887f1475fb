//! The circuit breaker (SPEC §5): the state and its half-open episodes,
//! the cached health snapshot and the trip rule, transitions and their
//! notices, and the circuit's part of admission (probes).

use super::{Command, Ticket, NEVER};
use crate::config::Config;
use crate::event::{CircuitState, EventType};
use crate::listener::Notice;
use crate::sync::{MutexGuard, Ordering};
use crate::window::HealthCounts;

/// The half-open episode: which one, how many probes were admitted, how
/// many succeeded. Guarded by the command's mutex with every transition.
#[derive(Default)]
pub(super) struct Episode {
    pub(super) id: u64,
    admitted: u64,
    succeeded: u64,
}

impl Command {
    /// The underlying circuit state (ignoring force flags).
    #[inline(always)]
    pub(super) fn state(&self) -> CircuitState {
        CircuitState::from_u8(self.inner.state.load(Ordering::Acquire))
    }

    pub(super) fn lock_episode(&self) -> MutexGuard<'_, Episode> {
        self.inner.episode.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn evaluates_trips(&self, cfg: &Config) -> bool {
        cfg.circuit_breaker_enabled && !cfg.force_open && !cfg.force_closed
    }

    /// The health snapshot at `now`, recomputed from the window when it is
    /// due (SPEC §5).
    #[inline]
    pub(super) fn health(&self, now: u64, cfg: &Config) -> HealthCounts {
        let inner = &self.inner;
        let at = inner.snap_at.load(Ordering::Acquire);
        let interval = cfg.health_snapshot_interval_ms;
        // A snapshot stamped more than an interval after `now` (a clock
        // reading far ahead) is due; a little after is another thread's
        // reading of the same moment.
        if at != NEVER && at.saturating_sub(interval) <= now && now < at.saturating_add(interval) {
            let packed = inner.snap.load(Ordering::Acquire);
            return HealthCounts { total: packed >> 32, errors: packed & 0xffff_ffff };
        }
        // A cached snapshot must not be computed before a circuit close and
        // stored after it (it would bring pre-close counts back): when it is
        // cached (interval > 0) it is refreshed under the lock the close
        // takes. At interval 0 it is recomputed on every use anyway.
        let serial = (cfg.health_snapshot_interval_ms > 0).then(|| self.lock_episode());
        let h = self.window().health(now);
        // Packed into one word as two 32-bit halves; past 2^32 both are
        // scaled down alike, keeping the error ratio (clamping each would
        // read 2^32 errors of 2^33 as 100 %).
        let shift = 32u32.saturating_sub(h.total.leading_zeros());
        let cached = HealthCounts { total: h.total >> shift, errors: h.errors >> shift };
        // Decide on what later callers will read, so a refresh and the
        // cached copy never disagree about tripping.
        let h = cached;
        inner.snap.store((cached.total << 32) | cached.errors, Ordering::Release);
        inner.snap_at.store(now, Ordering::Release);
        if serial.is_none() {
            // Refreshed without the lock (interval 0 as this caller read
            // it): a gate set meanwhile under another interval may no longer
            // describe the snapshot now cached.
            if inner.trip_ok_until.load(Ordering::Relaxed) != 0 {
                inner.trip_ok_until.store(0, Ordering::Release);
            }
        } else {
            // Under the lock every reconfiguration takes after storing the
            // new values: thresholds read here are the ones in force.
            let live = &inner.config;
            let interval = live.health_snapshot_interval_ms.load(Ordering::Relaxed);
            let volume = live.request_volume_threshold.load(Ordering::Relaxed);
            let pct = live.error_threshold_percentage.load(Ordering::Relaxed);
            // Judged on the snapshot as later callers will read it.
            if interval > 0 && !(cached.total >= volume && cached.percentage_at_least(pct)) {
                inner.trip_ok_until.store(now.saturating_add(interval), Ordering::Release);
            }
        }
        h
    }

    /// The trip rule on the hot path: nothing to do while the cached
    /// snapshot is known not to trip; otherwise the full evaluation.
    #[inline(always)]
    pub(super) fn check_trip(&self, now: u64) {
        let inner = &self.inner;
        // The gate holds until its end, and not for a `now` more than an
        // interval before its snapshot's time (a snapshot stamped by a
        // reading far ahead). A little before is another thread's reading.
        let until = inner.trip_ok_until.load(Ordering::Acquire);
        if now < until {
            let at = inner.snap_at.load(Ordering::Relaxed);
            if now.saturating_add(until.saturating_sub(at)) >= at {
                return;
            }
        }
        self.check_trip_slow(now);
    }

    /// [`Command::check_trip`] past the gate, kept out of the hot path.
    #[inline(never)]
    pub(super) fn check_trip_slow(&self, now: u64) {
        // The rule applies only in state closed; elsewhere the snapshot is
        // not needed, so it is not refreshed either (SPEC §5).
        let cfg = &self.config();
        if self.evaluates_trips(cfg) && self.state() == CircuitState::Closed {
            self.trip_if_unhealthy(now, cfg);
        }
    }

    /// In the closed state, evaluates the trip rule and trips if it holds.
    /// Returns the health snapshot used.
    #[inline]
    pub(super) fn trip_if_unhealthy(&self, now: u64, cfg: &Config) -> HealthCounts {
        if self.state() != CircuitState::Closed {
            return self.health(now, cfg);
        }
        let seen = self.inner.transitions.load(Ordering::Acquire);
        let h = self.health(now, cfg);
        if h.total >= cfg.request_volume_threshold && h.percentage_at_least(cfg.error_threshold_percentage) {
            self.trip_unless_moved(seen, now);
        }
        h
    }

    /// Trips the circuit, unless it has moved since `seen` transitions
    /// (SPEC §5): health read before a close that reset it must not reopen
    /// the circuit the close just recovered.
    pub(super) fn trip_unless_moved(&self, seen: u64, now: u64) {
        let mut ep = self.lock_episode();
        if self.state() == CircuitState::Closed && self.inner.transitions.load(Ordering::Relaxed) == seen {
            self.move_to(&mut ep, CircuitState::Open, now);
            drop(ep);
            self.notify_transition(CircuitState::Closed, CircuitState::Open, now);
        }
    }

    /// Sets the state under the episode lock; opening stamps `opened_at`,
    /// closing resets health (SPEC §5). The transition count goes up last,
    /// with `Release`: an evaluator that reads the new count (`Acquire`,
    /// before its health read) also reads the reset health, so a trip on
    /// counts from before the close is never taken for a fresh one.
    pub(super) fn move_to(&self, _ep: &mut MutexGuard<'_, Episode>, to: CircuitState, now: u64) {
        let inner = &self.inner;
        inner.trip_ok_until.store(0, Ordering::Release);
        match to {
            CircuitState::Open => inner.opened_at.store(now, Ordering::Release),
            CircuitState::Closed => {
                self.window().reset_health();
                inner.snap.store(0, Ordering::Release);
                inner.snap_at.store(now, Ordering::Release);
            }
            CircuitState::HalfOpen => {}
        }
        inner.states.moved(self.state(), to, now);
        inner.state.store(to.to_u8(), Ordering::Release);
        inner.transitions.fetch_add(1, Ordering::AcqRel);
    }

    pub(super) fn notify_transition(&self, from: CircuitState, to: CircuitState, now: u64) {
        self.inner.listeners.notify(&Notice::Transition { command: &self.inner.name, from, to, at_ms: now });
    }

    /// The circuit's part of admission: `Some(probe episode or 0)` when
    /// admitted, `None` when short-circuited.
    #[inline]
    pub(super) fn circuit_admit(&self, now: u64) -> Option<u64> {
        match self.state() {
            CircuitState::Closed => self.closed_admit(now),
            CircuitState::Open => {
                let opened = self.inner.opened_at.load(Ordering::Acquire);
                let sleep = self.inner.config.sleep_window_ms.load(Ordering::Relaxed);
                if now < opened.saturating_add(sleep) {
                    // Opened more than a sleep window after `now`: a clock
                    // reading far ahead (a little after is another
                    // thread's reading of the same moment).
                    if opened.saturating_sub(now) > sleep {
                        self.restart_sleep_window(now);
                    }
                    return None;
                }
                self.admit_probe(now, &self.config())
            }
            CircuitState::HalfOpen => self.admit_probe(now, &self.config()),
        }
    }

    /// The circuit opened at a time later than `now` (a clock reading that
    /// was wrong, or a clock that went back): its sleep window starts again
    /// now, so it cannot stay open for as long as the reading was wrong.
    #[cold]
    pub(super) fn restart_sleep_window(&self, now: u64) {
        let _ep = self.lock_episode();
        let sleep = self.inner.config.sleep_window_ms.load(Ordering::Relaxed);
        if self.state() == CircuitState::Open
            && self.inner.opened_at.load(Ordering::Acquire).saturating_sub(now) > sleep
        {
            self.inner.opened_at.store(now, Ordering::Release);
        }
    }

    /// Admission in state closed: the trip rule first (SPEC §3 step 1).
    #[inline]
    pub(super) fn closed_admit(&self, now: u64) -> Option<u64> {
        self.check_trip(now);
        if self.state() == CircuitState::Closed {
            return Some(0);
        }
        None
    }

    /// Under the episode lock: opens a half-open episode if the sleep window
    /// has passed, and admits a probe if the episode has room. An episode
    /// whose successful probes already reach `half_open_max_calls` (it was
    /// lowered during the episode) is closed first, and the call admitted
    /// as in state closed (SPEC §5, v2 clarification): a circuit whose
    /// remaining probe slots were configured away must not stay half-open.
    pub(super) fn admit_probe(&self, now: u64, cfg: &Config) -> Option<u64> {
        let mut ep = self.lock_episode();
        let mut moved = false;
        match self.state() {
            CircuitState::Closed => return Some(0),
            CircuitState::Open => {
                let opened = self.inner.opened_at.load(Ordering::Acquire);
                if now < opened.saturating_add(cfg.sleep_window_ms) {
                    return None;
                }
                ep.id += 1;
                ep.admitted = 0;
                ep.succeeded = 0;
                self.move_to(&mut ep, CircuitState::HalfOpen, now);
                moved = true;
            }
            CircuitState::HalfOpen if ep.succeeded >= cfg.half_open_max_calls => {
                self.move_to(&mut ep, CircuitState::Closed, now);
                drop(ep);
                self.notify_transition(CircuitState::HalfOpen, CircuitState::Closed, now);
                return self.closed_admit(now);
            }
            CircuitState::HalfOpen => {}
        }
        let admitted = if ep.admitted < cfg.half_open_max_calls {
            ep.admitted += 1;
            Some(ep.id)
        } else {
            None
        };
        drop(ep);
        if moved {
            self.notify_transition(CircuitState::Open, CircuitState::HalfOpen, now);
        }
        admitted
    }

    /// A probe's outcome decides while its own episode lasts. Returns
    /// whether the episode was still live (the outcome was the probe's).
    pub(super) fn decide_probe(&self, now: u64, cfg: &Config, event: EventType, probe: u64) -> bool {
        let mut ep = self.lock_episode();
        if self.state() != CircuitState::HalfOpen || ep.id != probe {
            return false;
        }
        let to = match event {
            EventType::Success => {
                ep.succeeded += 1;
                if ep.succeeded < cfg.half_open_max_calls {
                    return true;
                }
                CircuitState::Closed
            }
            EventType::Failure | EventType::Timeout | EventType::SemaphoreRejected => CircuitState::Open,
            EventType::BadRequest => {
                ep.admitted = ep.admitted.saturating_sub(1);
                return true;
            }
            _ => return true,
        };
        self.move_to(&mut ep, to, now);
        drop(ep);
        self.notify_transition(CircuitState::HalfOpen, to, now);
        true
    }

    /// Frees a probe slot without deciding, for a call abandoned by its caller.
    pub(crate) fn forget_probe(&self, ticket: &Ticket) {
        if ticket.probe != 0 {
            let mut ep = self.lock_episode();
            if ep.id == ticket.probe && self.state() == CircuitState::HalfOpen {
                ep.admitted = ep.admitted.saturating_sub(1);
            }
        }
    }
}
