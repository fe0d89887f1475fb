//! The bucketed rolling window of event counts (SPEC §4), lock-free.
//!
//! Recording an event is one atomic add. Health counts are derived from the
//! event counts; a circuit close does not zero them but stamps each bucket
//! with a baseline to subtract. Cumulative counts are the counts of the
//! buckets still in the ring plus those folded in as buckets are recycled.
//!
//! A window is reused for a new shape in place ([`Window::reuse`]) when its
//! ring's capacity holds the new bucket count: its counts are taken out
//! first, so none is lost or counted twice, even by a writer that loaded
//! the window before the reshape and writes into it during or after.

use crate::event::EventType;
use crate::ring::{Ring, Slot};
use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// One bucket: the count of each event type, the health baseline set by a
/// circuit close, and the highest run concurrency seen. Counts are 64-bit:
/// a valid window may hold buckets of hours, and a 32-bit count wraps after
/// 2^32 events (then reading error percentages above 100).
pub(crate) struct Bucket {
    counts: [AtomicU64; EventType::COUNT],
    base_total: AtomicU64,
    base_errors: AtomicU64,
    max_concurrent: AtomicU32,
}

impl Bucket {
    /// (health total, health errors) as counted, before the baseline.
    fn raw_health(&self) -> (u64, u64) {
        let c = |e: EventType| self.counts[e.index()].load(Ordering::Relaxed);
        let errors = c(EventType::Failure) + c(EventType::Timeout) + c(EventType::SemaphoreRejected);
        (errors + c(EventType::Success), errors)
    }
}

impl Slot for Bucket {
    fn empty() -> Bucket {
        Bucket {
            counts: Default::default(),
            base_total: AtomicU64::new(0),
            base_errors: AtomicU64::new(0),
            max_concurrent: AtomicU32::new(0),
        }
    }

    /// The counts were taken (swapped to zero) by [`Window::retire`] or
    /// [`Window::drain`], or are still zero; a late increment since then
    /// belongs to the new bucket and stays.
    fn recycle(&self) {
        self.base_total.store(0, Ordering::Relaxed);
        self.base_errors.store(0, Ordering::Relaxed);
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

    /// `error_percentage() >= pct`, without a division (the trip rule runs
    /// on every call): `floor(e·100/t) ≥ p ⇔ e·100 ≥ p·t` for whole `p`.
    #[inline]
    pub fn percentage_at_least(&self, pct: u64) -> bool {
        if self.total == 0 {
            return pct == 0;
        }
        self.errors * 100 >= pct * self.total
    }
}

/// The rolling window of event counts covering `rolling_window_ms`.
pub(crate) struct Window {
    ring: Ring<Bucket>,
    retired: [AtomicU64; EventType::COUNT],
    /// Recycles begun and finished: a count moving from a slot to `retired`
    /// is in neither for a moment, so [`Window::cumulative`] reads again
    /// while one is under way (recycles are rare: one per bucket length).
    retires_begun: AtomicU64,
    retires_done: AtomicU64,
}

impl Window {
    /// An empty window of `buckets` buckets of `bucket_ms` each, with room
    /// for exactly that many.
    #[cfg(test)]
    pub(crate) fn new(bucket_ms: u64, buckets: u64) -> Window {
        Window::try_with_capacity(buckets, bucket_ms, buckets).expect("memory for a window")
    }

    /// An empty window of `buckets` buckets of `bucket_ms` each, with room
    /// for `capacity` (≥ `buckets`), or the allocator's refusal.
    pub(crate) fn try_with_capacity(
        capacity: u64,
        bucket_ms: u64,
        buckets: u64,
    ) -> Result<Window, std::collections::TryReserveError> {
        Ok(Window {
            ring: Ring::try_with_capacity(capacity, bucket_ms, buckets)?,
            retired: Default::default(),
            retires_begun: AtomicU64::new(0),
            retires_done: AtomicU64::new(0),
        })
    }

    /// The bucket for `now`, folding a recycled bucket into the cumulative counts.
    #[inline]
    fn bucket(&self, now: u64) -> &Bucket {
        self.ring.at(now, |old| self.retire(old))
    }

    /// Moves a recycled bucket's counts into the cumulative ones. Each count
    /// is *taken* (swapped with zero), so an increment racing the recycle
    /// is either taken here or left in the slot for the new bucket: every
    /// event lands in the cumulative counts exactly once.
    fn retire(&self, old: &Bucket) {
        self.retires_begun.fetch_add(1, Ordering::SeqCst);
        for (acc, c) in self.retired.iter().zip(&old.counts) {
            acc.fetch_add(c.swap(0, Ordering::SeqCst), Ordering::SeqCst);
        }
        self.retires_done.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts one event at time `now`.
    #[inline]
    pub(crate) fn record(&self, now: u64, event: EventType) {
        self.bucket(now).counts[event.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `n` events at once (tests that need counts past 2^32).
    #[cfg(test)]
    pub(crate) fn record_many(&self, now: u64, event: EventType, n: u64) {
        self.bucket(now).counts[event.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// Notes a run concurrency level reached at `now`.
    #[inline]
    pub(crate) fn note_concurrency(&self, now: u64, level: u32) {
        let b = self.bucket(now);
        if b.max_concurrent.load(Ordering::Relaxed) < level {
            b.max_concurrent.fetch_max(level, Ordering::Relaxed);
        }
    }

    /// Health counts over the window at `now`.
    pub(crate) fn health(&self, now: u64) -> HealthCounts {
        let mut h = HealthCounts::default();
        for b in self.ring.live(now) {
            let (total, errors) = b.raw_health();
            h.total += total.saturating_sub(b.base_total.load(Ordering::Relaxed));
            h.errors += errors.saturating_sub(b.base_errors.load(Ordering::Relaxed));
        }
        h
    }

    /// Rolling count of each event type at `now`.
    pub(crate) fn counts(&self, now: u64) -> [u64; EventType::COUNT] {
        sum_counts(self.ring.live(now), [0; EventType::COUNT])
    }

    /// Count of each event type ever recorded in this window.
    pub(crate) fn cumulative(&self) -> [u64; EventType::COUNT] {
        // Read while no recycle is moving counts, so no reader sees a count
        // in neither place (the sum would dip, then rise again).
        loop {
            let done = self.retires_done.load(Ordering::SeqCst);
            if self.retires_begun.load(Ordering::SeqCst) != done {
                crate::sync::spin();
                continue;
            }
            let retired = std::array::from_fn(|i| self.retired[i].load(Ordering::SeqCst));
            let sum = sum_counts(self.ring.every(), retired);
            if self.retires_begun.load(Ordering::SeqCst) == done {
                return sum;
            }
        }
    }

    /// Highest run concurrency seen in the window at `now`.
    pub(crate) fn max_concurrent(&self, now: u64) -> u32 {
        self.ring.live(now).map(|b| b.max_concurrent.load(Ordering::Relaxed)).max().unwrap_or(0)
    }

    /// Forgets every health count so far (the circuit closed); rolling
    /// counts stay.
    pub(crate) fn reset_health(&self) {
        self.ring.update_all(
            |b| {
                let (total, errors) = b.raw_health();
                b.base_total.store(total, Ordering::Relaxed);
                b.base_errors.store(errors, Ordering::Relaxed);
            },
            // Recycled meanwhile: a bucket newer than the close counts in full.
            |b| {
                b.base_total.store(0, Ordering::Relaxed);
                b.base_errors.store(0, Ordering::Relaxed);
            },
        );
    }

    /// Empties the window for reuse and returns the counts it held: each
    /// is taken (swapped with zero), so an increment from a writer still
    /// holding a slot is either returned here or stays for the window's
    /// next use — never lost.
    pub(crate) fn drain(&self) -> [u64; EventType::COUNT] {
        self.ring.reset();
        let mut taken: [u64; EventType::COUNT] = std::array::from_fn(|i| self.retired[i].swap(0, Ordering::Relaxed));
        for b in self.ring.every() {
            for (t, c) in taken.iter_mut().zip(&b.counts) {
                *t += c.swap(0, Ordering::Relaxed);
            }
        }
        taken
    }

    /// Gives the window a new shape (`buckets` ≤ [`Window::capacity`]),
    /// empty, and returns the counts it held, as [`Window::drain`] does.
    /// The shape changes first, so the drain also clears what a writer
    /// recorded meanwhile under the old shape. A writer that loaded the
    /// window earlier may still write into it afterwards: its increment
    /// either is taken here or stays in a slot (every slot of the capacity
    /// counts in [`Window::cumulative`]), at worst in a bucket its time does
    /// not say; a recycle it starts takes what it folds with swaps too.
    /// Not to be run beside [`Window::reset_health`] (the command holds
    /// the episode lock for both): a baseline it stamped from counts the
    /// drain then took would hide that many later events from health.
    pub(crate) fn reuse(&self, bucket_ms: u64, buckets: u64) -> [u64; EventType::COUNT] {
        self.ring.reshape(bucket_ms, buckets);
        self.drain()
    }

    /// `(bucket_ms, buckets)` in force.
    pub(crate) fn shape(&self) -> (u64, u64) {
        self.ring.shape()
    }

    /// The most buckets this window can take without a new allocation.
    pub(crate) fn capacity(&self) -> u64 {
        self.ring.capacity()
    }
}

fn sum_counts<'a>(
    buckets: impl Iterator<Item = &'a Bucket>,
    mut out: [u64; EventType::COUNT],
) -> [u64; EventType::COUNT] {
    for b in buckets {
        for (o, c) in out.iter_mut().zip(&b.counts) {
            // Acquire: a count a recycle already took (swapped out) makes
            // that recycle's start visible to `cumulative`'s re-check.
            *o += c.load(Ordering::Acquire);
        }
    }
    out
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
        // Writing at 300 reuses the slot of bucket 0; cumulative keeps it.
        w.record(300, EventType::Success);
        assert_eq!(w.health(300), HealthCounts { total: 2, errors: 1 });
        assert_eq!(w.health(1000), HealthCounts::default());
        let all = w.cumulative();
        assert_eq!(all[EventType::Success.index()], 2);
        assert_eq!(all[EventType::Failure.index()], 2);
        assert_eq!(all.iter().sum::<u64>(), 5);
    }

    #[test]
    #[cfg_attr(miri, ignore = "180,000 integer comparisons, no memory to check: half a minute under Miri")]
    fn percentage_comparison_matches_the_floor_rule() {
        for total in 0..60u64 {
            for errors in 0..=total {
                let h = HealthCounts { total, errors };
                for pct in 0..=100 {
                    assert_eq!(h.percentage_at_least(pct), h.error_percentage() >= pct, "{errors}/{total} vs {pct}");
                }
            }
        }
    }

    #[test]
    fn a_bucket_counts_past_2_pow_32_without_wrapping() {
        let w = Window::new(1000, 1);
        w.record_many(0, EventType::Success, u64::from(u32::MAX));
        for _ in 0..21 {
            w.record(0, EventType::Failure);
        }
        let h = w.health(0);
        assert_eq!(h, HealthCounts { total: u64::from(u32::MAX) + 21, errors: 21 });
        assert_eq!(h.error_percentage(), 0);
        assert_eq!(w.counts(0)[EventType::Success.index()], u64::from(u32::MAX));
    }

    /// A writer that got its slot before a recycle and increments between
    /// the recycler's fold and its clearing: the event must land in the
    /// cumulative counts (it used to be wiped by the clear).
    #[test]
    fn an_increment_racing_a_recycle_is_never_lost() {
        let w = Window::new(10, 1);
        w.record(5, EventType::Failure);
        let straggler = w.bucket(5);
        let recycled = w.ring.at(15, |old| {
            w.retire(old);
            // The straggler's increment, after the fold, before the clear.
            straggler.counts[EventType::Failure.index()].fetch_add(1, Ordering::Relaxed);
        });
        assert!(std::ptr::eq(recycled, straggler));
        assert_eq!(w.cumulative()[EventType::Failure.index()], 2);
        // It counts in the new bucket's rolling counts.
        assert_eq!(w.counts(15)[EventType::Failure.index()], 1);
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
        // A recycled bucket forgets its baseline.
        w.record(25, EventType::Success);
        assert_eq!(w.health(25), HealthCounts { total: 1, errors: 0 });
    }

    #[test]
    fn stale_writes_land_in_the_newer_bucket_and_max_concurrency_tracked() {
        let w = Window::new(10, 2);
        w.record(50, EventType::Success);
        w.record(30, EventType::Success); // slot now holds bucket 5 > 3
        assert_eq!(w.counts(50)[0], 2, "a writer behind the ring is counted in the newer bucket");
        assert_eq!(w.cumulative()[0], 2);
        w.note_concurrency(50, 3);
        w.note_concurrency(51, 2);
        assert_eq!(w.max_concurrent(55), 3);
        assert_eq!(w.max_concurrent(75), 0);
        assert_eq!(w.drain()[0], 2);
        assert_eq!(w.cumulative().iter().sum::<u64>(), 0);
    }
}

/// Model checks of recording against recycling and the circuit close's
/// health reset, under the interleavings loom explores (`scripts/loom.sh`).
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        // Bounded preemptions keep the 16-counter retire loop tractable;
        // the races checked here need at most two.
        builder.preemption_bound = Some(2);
        builder.check(f);
    }

    /// A write into bucket 0 races a write two buckets later that recycles
    /// the same slot (retiring bucket 0's counts): both events end up in
    /// the cumulative counts exactly once, whichever way they interleave.
    #[test]
    fn loom_a_write_racing_a_recycle_is_counted_once() {
        model(|| {
            let w = Arc::new(Window::new(10, 2));
            let old = {
                let w = w.clone();
                thread::spawn(move || w.record(5, EventType::Success))
            };
            w.record(25, EventType::Failure);
            old.join().unwrap();
            let all = w.cumulative();
            assert_eq!(all[EventType::Success.index()], 1, "the older write vanished or doubled");
            assert_eq!(all[EventType::Failure.index()], 1);
            assert!(w.counts(25)[EventType::Failure.index()] == 1);
        });
    }

    /// A window's counts after a reshape: what the reshape took out (the
    /// command adds it to its base) plus what the window holds.
    fn total(taken: [u64; EventType::COUNT], w: &Window, e: EventType) -> u64 {
        taken[e.index()] + w.cumulative()[e.index()]
    }

    /// A writer that loaded the window before an in-place reshape (two
    /// buckets of 10 ms down to one) writes into a bucket the old shape
    /// has and the new one does not: its event is either taken by the
    /// reshape or stays in the window (maybe in a slot past the new
    /// length), never both, never neither.
    #[test]
    fn loom_a_write_racing_a_reshape_is_counted_once() {
        model(|| {
            let w = Arc::new(Window::new(10, 2));
            w.record(5, EventType::Success);
            let writer = {
                let w = w.clone();
                thread::spawn(move || w.record(15, EventType::Failure))
            };
            let taken = w.reuse(10, 1);
            writer.join().unwrap();
            assert_eq!(total(taken, &w, EventType::Success), 1, "the event before the reshape");
            assert_eq!(total(taken, &w, EventType::Failure), 1, "the racing write vanished or doubled");
            assert_eq!(w.shape(), (10, 1));
            w.record(16, EventType::Failure);
            assert_eq!(total(taken, &w, EventType::Failure), 2);
        });
    }

    /// A write that recycles a slot (retiring its counts) while the window
    /// is reshaped to another bucket length: the retired counts and the
    /// write land exactly once, whichever shape the writer read.
    #[test]
    fn loom_a_recycle_racing_a_reshape_is_counted_once() {
        model(|| {
            let w = Arc::new(Window::new(10, 2));
            w.record(5, EventType::Success);
            let writer = {
                let w = w.clone();
                thread::spawn(move || w.record(25, EventType::Failure))
            };
            let taken = w.reuse(5, 2);
            writer.join().unwrap();
            assert_eq!(total(taken, &w, EventType::Success), 1, "the retired success vanished or doubled");
            assert_eq!(total(taken, &w, EventType::Failure), 1, "the racing write vanished or doubled");
        });
    }

    /// A reader of the cumulative counts racing a recycle never sees an
    /// event in neither place (nor in both). This model found the bucket
    /// counts read `Relaxed` here (a reader could see a count already
    /// taken, then a stale "no recycle under way"); they are read `Acquire`
    /// now. With the reader's retry loop it explores for over 15 minutes,
    /// so it is not in `make test`: `scripts/loom.sh --include-ignored`.
    #[test]
    #[ignore = "slow: minutes of exploration (scripts/loom.sh --include-ignored)"]
    fn loom_cumulative_reads_never_dip_during_a_recycle() {
        model(|| {
            let w = Arc::new(Window::new(10, 2));
            w.record(5, EventType::Success);
            let writer = {
                let w = w.clone();
                thread::spawn(move || w.record(25, EventType::Failure))
            };
            let seen = w.cumulative()[EventType::Success.index()];
            assert_eq!(seen, 1, "the recycled bucket's success was read as {seen}");
            writer.join().unwrap();
        });
    }

    /// A failure recorded while the circuit's close resets health either
    /// counts after the close or not at all: health never reads more
    /// errors than its total, nor the pre-close failure again.
    #[test]
    fn loom_a_write_racing_a_health_reset_stays_consistent() {
        model(|| {
            let w = Arc::new(Window::new(10, 2));
            w.record(5, EventType::Failure);
            let writer = {
                let w = w.clone();
                thread::spawn(move || w.record(6, EventType::Failure))
            };
            w.reset_health();
            writer.join().unwrap();
            let h = w.health(7);
            assert!(h.errors <= h.total);
            assert!(h.total <= 1, "the failure before the close counted again: {h:?}");
        });
    }
}
