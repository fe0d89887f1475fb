//! What a command reports (SPEC §6): snapshots for callers, and the
//! read-only view observers (the stream, Prometheus) take.

use super::Command;
use crate::config::Config;
use crate::event::{CircuitState, EventType};
use crate::snapshot::{EventCounts, Health, Snapshot};
use crate::window::HealthCounts;
use std::sync::atomic::Ordering;

impl Command {
    /// A snapshot on the command's own clock.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_at(self.now_ms())
    }

    /// A snapshot at `now` (SPEC §6): applies a pending trip as admission
    /// would, never moves `open` to `half_open`.
    pub fn snapshot_at(&self, now: u64) -> Snapshot {
        let cfg = &self.config();
        let health = if self.evaluates_trips(cfg) { self.trip_if_unhealthy(now, cfg) } else { self.health(now, cfg) };
        self.snapshot_with(now, cfg, health)
    }

    /// A snapshot at `now` for observers (the stream, Prometheus): like
    /// [`Command::snapshot_at`] but read-only — it never trips, never
    /// refreshes the cached health snapshot decisions use (health is read
    /// fresh from the window) and takes no lock a call waits on.
    pub fn observe_at(&self, now: u64) -> Snapshot {
        let cfg = &self.config();
        self.snapshot_with(now, cfg, self.window().health(now))
    }

    pub(super) fn snapshot_with(&self, now: u64, cfg: &Config, health: HealthCounts) -> Snapshot {
        let window = self.window();
        let state = if !cfg.circuit_breaker_enabled {
            CircuitState::Closed
        } else if cfg.force_open {
            CircuitState::Open
        } else if cfg.force_closed {
            CircuitState::Closed
        } else {
            self.state()
        };
        let inner = &self.inner;
        Snapshot {
            name: inner.name.to_string(),
            time_ms: now,
            state,
            health: Health { total: health.total, errors: health.errors, error_percentage: health.error_percentage() },
            rolling: EventCounts(window.counts(now)),
            cumulative: EventCounts(self.cumulative()),
            concurrent: inner.concurrent.held(),
            fallback_concurrent: inner.fallback_concurrent.held(),
            rolling_max_concurrent: window.max_concurrent(now),
            latency_run: inner.latency_direct.percentiles(&inner.latency_run_only, now),
            latency_total: inner.latency_direct.percentiles(&inner.latency_total_only, now),
            listener_panics: inner.listeners.panics(),
            limit: self.limit(),
            budget: self.budget_balance(now),
            states: inner.states.read(now),
            latency_run_histogram: inner.latency_direct.cumulative(&inner.latency_run_only),
            latency_total_histogram: inner.latency_direct.cumulative(&inner.latency_total_only),
        }
    }

    /// Every event ever recorded: the base plus every window's own counts.
    pub(super) fn cumulative(&self) -> [u64; EventType::COUNT] {
        let inner = &self.inner;
        // The base is read under the lock a reshape drains windows into it
        // with: never the base before a drain and the window after it.
        let windows = inner.windows.lock().unwrap_or_else(|p| p.into_inner());
        let base = inner.cumulative_base.get();
        let mut all = std::array::from_fn(|i| base.map_or(0, |b| b[i].load(Ordering::Relaxed)));
        for w in windows.iter() {
            for (a, n) in all.iter_mut().zip(w.cumulative()) {
                *a += n;
            }
        }
        all
    }
}
