//! The bucketed rolling window of event counts (SPEC §4), lock-free: one
//! bucket per `bucket_ms`, reused ring-fashion, reset by whoever first
//! writes into it with a newer bucket index.

use crate::event::EventType;
use crate::ring::{Ring, Slot};
use std::sync::atomic::{AtomicU32, Ordering};

/// One bucket: the count of each event type, the health counters (which a
/// circuit close resets) and the highest run concurrency seen.
pub(crate) struct Bucket {
    counts: [AtomicU32; EventType::COUNT],
    health_total: AtomicU32,
    health_errors: AtomicU32,
    max_concurrent: AtomicU32,
}

impl Slot for Bucket {
    fn empty() -> Bucket {
        Bucket {
            counts: Default::default(),
            health_total: AtomicU32::new(0),
            health_errors: AtomicU32::new(0),
            max_concurrent: AtomicU32::new(0),
        }
    }

    fn clear(&self) {
        for c in &self.counts {
            c.store(0, Ordering::Relaxed);
        }
        self.health_total.store(0, Ordering::Relaxed);
        self.health_errors.store(0, Ordering::Relaxed);
        self.max_concurrent.store(0, Ordering::Relaxed);
    }
}

/// Health counts over the window: the total counted in health and the errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthCounts {
    /// `SUCCESS + FAILURE + TIMEOUT + SEMAPHORE_REJECTED`.
    pub total: u64,
    /// `FAILURE + TIMEOUT + SEMAPHORE_REJECTED`.
    pub errors: u64,
}

impl HealthCounts {
    /// `floor(errors × 100 / total)`, `0` when total is 0.
    pub fn error_percentage(&self) -> u64 {
        (self.errors * 100).checked_div(self.total).unwrap_or(0)
    }
}

/// The rolling window of event counts covering `rolling_window_ms`.
pub(crate) struct Window {
    ring: Ring<Bucket>,
}

impl Window {
    /// An empty window of `buckets` buckets of `bucket_ms` each.
    pub(crate) fn new(bucket_ms: u64, buckets: u64) -> Window {
        Window { ring: Ring::new(bucket_ms, buckets) }
    }

    /// Counts one event at time `now`.
    pub(crate) fn record(&self, now: u64, event: EventType) {
        if let Some(b) = self.ring.at(now) {
            b.counts[event.index()].fetch_add(1, Ordering::Relaxed);
            if event.counts_in_health() {
                b.health_total.fetch_add(1, Ordering::Relaxed);
                if event.is_health_error() {
                    b.health_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Notes a run concurrency level reached at `now`.
    pub(crate) fn note_concurrency(&self, now: u64, level: u32) {
        if let Some(b) = self.ring.at(now) {
            if b.max_concurrent.load(Ordering::Relaxed) < level {
                b.max_concurrent.fetch_max(level, Ordering::Relaxed);
            }
        }
    }

    /// Health counts over the window at `now`.
    pub(crate) fn health(&self, now: u64) -> HealthCounts {
        let mut h = HealthCounts::default();
        for b in self.ring.live(now) {
            h.total += u64::from(b.health_total.load(Ordering::Relaxed));
            h.errors += u64::from(b.health_errors.load(Ordering::Relaxed));
        }
        h
    }

    /// Rolling count of each event type at `now`.
    pub(crate) fn counts(&self, now: u64) -> [u64; EventType::COUNT] {
        let mut out = [0u64; EventType::COUNT];
        for b in self.ring.live(now) {
            for (o, c) in out.iter_mut().zip(&b.counts) {
                *o += u64::from(c.load(Ordering::Relaxed));
            }
        }
        out
    }

    /// Highest run concurrency seen in the window at `now`.
    pub(crate) fn max_concurrent(&self, now: u64) -> u32 {
        self.ring.live(now).map(|b| b.max_concurrent.load(Ordering::Relaxed)).max().unwrap_or(0)
    }

    /// Forgets every health count (the circuit closed); rolling counts stay.
    pub(crate) fn reset_health(&self) {
        for b in self.ring.all() {
            b.health_total.store(0, Ordering::Relaxed);
            b.health_errors.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_land_in_floor_t_over_b_and_expire() {
        let w = Window::new(100, 3);
        w.record(0, EventType::Failure);
        w.record(99, EventType::Success);
        w.record(100, EventType::Failure);
        w.record(250, EventType::ShortCircuited);
        assert_eq!(w.health(299), HealthCounts { total: 3, errors: 2 });
        assert_eq!(w.health(299).error_percentage(), 66);
        // At 300 the bucket [0,100) leaves the window.
        assert_eq!(w.health(300), HealthCounts { total: 1, errors: 1 });
        let counts = w.counts(300);
        assert_eq!(counts[EventType::ShortCircuited.index()], 1);
        assert_eq!(counts[EventType::Success.index()], 0);
        // Writing at 300 reuses the slot of bucket 0.
        w.record(300, EventType::Success);
        assert_eq!(w.health(300), HealthCounts { total: 2, errors: 1 });
        assert_eq!(w.health(1000), HealthCounts::default());
    }

    #[test]
    fn health_reset_keeps_rolling_counts() {
        let w = Window::new(10, 2);
        w.record(5, EventType::Timeout);
        w.reset_health();
        assert_eq!(w.health(5), HealthCounts::default());
        assert_eq!(w.counts(5)[EventType::Timeout.index()], 1);
        w.record(6, EventType::SemaphoreRejected);
        assert_eq!(w.health(6), HealthCounts { total: 1, errors: 1 });
    }

    #[test]
    fn stale_writes_are_dropped_and_max_concurrency_tracked() {
        let w = Window::new(10, 2);
        w.record(50, EventType::Success);
        w.record(30, EventType::Success); // slot now holds bucket 5 > 3
        assert_eq!(w.counts(50)[0], 1);
        w.note_concurrency(50, 3);
        w.note_concurrency(51, 2);
        assert_eq!(w.max_concurrent(55), 3);
        assert_eq!(w.max_concurrent(75), 0);
    }
}
