//! A lock-free ring of time buckets: bucket `floor(t / bucket_ms)` lives in
//! slot `index % len`, and whoever first writes into a slot with a newer
//! bucket index clears it. Shared by the event window and the latency window.

use std::sync::atomic::{AtomicU64, Ordering};

const EMPTY: u64 = u64::MAX;
const RESETTING: u64 = u64::MAX - 1;

/// What a ring keeps per bucket: atomics that can be cleared in place.
pub(crate) trait Slot {
    /// A fresh, empty slot.
    fn empty() -> Self;
    /// Zeroes the slot for reuse.
    fn clear(&self);
}

/// A ring of `len` buckets of `bucket_ms` each.
pub(crate) struct Ring<S> {
    bucket_ms: u64,
    slots: Box<[(AtomicU64, S)]>,
}

impl<S: Slot> Ring<S> {
    /// An empty ring.
    pub(crate) fn new(bucket_ms: u64, len: u64) -> Ring<S> {
        Ring { bucket_ms, slots: (0..len).map(|_| (AtomicU64::new(EMPTY), S::empty())).collect() }
    }

    /// The slot of the bucket holding time `now`, cleared first if it held an
    /// older bucket; `None` if it already holds a newer one (a stale write).
    pub(crate) fn at(&self, now: u64) -> Option<&S> {
        let index = now / self.bucket_ms;
        let (tag, slot) = &self.slots[(index % self.slots.len() as u64) as usize];
        loop {
            let seen = tag.load(Ordering::Acquire);
            if seen == index {
                return Some(slot);
            }
            if seen == RESETTING {
                std::hint::spin_loop();
                continue;
            }
            if seen != EMPTY && seen > index {
                return None;
            }
            if tag.compare_exchange(seen, RESETTING, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                slot.clear();
                tag.store(index, Ordering::Release);
                return Some(slot);
            }
        }
    }

    /// The slots of the buckets inside the window at `now`: the current
    /// bucket and the `len - 1` before it.
    pub(crate) fn live(&self, now: u64) -> impl Iterator<Item = &S> {
        let current = now / self.bucket_ms;
        let oldest = (current + 1).saturating_sub(self.slots.len() as u64);
        self.slots.iter().filter_map(move |(tag, slot)| {
            let i = tag.load(Ordering::Acquire);
            (i != EMPTY && i != RESETTING && i >= oldest && i <= current).then_some(slot)
        })
    }

    /// Every slot, in or out of the window.
    pub(crate) fn all(&self) -> impl Iterator<Item = &S> {
        self.slots.iter().map(|(_, s)| s)
    }
}
