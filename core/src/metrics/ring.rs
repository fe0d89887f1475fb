//! A lock-free ring of time buckets: bucket `floor(t / bucket_ms)` lives in
//! slot `index % len`, and whoever first writes into a slot with a newer
//! bucket index clears it. Shared by the event window and the latency window.
//!
//! A ring's slots are allocated once (its *capacity*); its *shape*
//! (`bucket_ms`, `len ≤ capacity`) can change in place ([`Ring::reshape`]),
//! so a command reshaped again and again reuses its windows instead of
//! piling up new ones. Writers take no lock and are not tracked, so one may
//! race a reshape: it reads `bucket_ms` and `len` once per operation, each
//! from either shape, and every slot number is checked against the
//! capacity. Such a writer's event may land in the wrong bucket (or in a
//! slot past the new `len`, out of the rolling counts), never outside the
//! ring: [`Ring::every`] covers the whole capacity.

use crate::sync::{fence, spin, AtomicU64, Ordering};
use std::collections::TryReserveError;

const EMPTY: u64 = u64::MAX;
const RESETTING: u64 = u64::MAX - 1;
/// The last bucket index (the two above are tags): times past its start
/// (only a clock at the very end of `u64`) all land in it.
const LAST_INDEX: u64 = u64::MAX - 2;

/// What a ring keeps per bucket: atomics that can be readied in place for
/// a newer bucket.
pub(crate) trait Slot {
    /// A fresh, empty slot.
    fn empty() -> Self;
    /// Readies a slot for a newer bucket, after the ring's `retire` callback
    /// has seen (or taken) its old contents. A slot whose `retire` *takes*
    /// its counts (swaps them out) leaves them alone here, so an increment
    /// from a writer still holding the slot lands in the new bucket instead
    /// of being wiped; one whose `retire` only looks zeroes them.
    fn recycle(&self);
}

/// Bits of the hint that hold the slot number (`len` ≤ 100 000 < 2^17).
const SLOT_BITS: u32 = 17;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// A hint that matches no slot (its slot number is past any capacity):
/// the next write takes the exact path.
const NO_HINT: u64 = SLOT_MASK;

/// A ring of `len` buckets of `bucket_ms` each, in `capacity` slots.
pub(crate) struct Ring<S> {
    /// The shape: both are only ever set together by [`Ring::reshape`],
    /// but read one by one (a reader racing a reshape may pair an old one
    /// with a new one; see the module docs). `bucket_ms ≥ 1` and
    /// `1 ≤ len ≤ slots.len()` always hold for each.
    bucket_ms: AtomicU64,
    len: AtomicU64,
    /// The last bucket written, as `index << SLOT_BITS | slot`: lets the hot
    /// path find the current bucket with one multiplication instead of two
    /// 64-bit divisions. (Indices from 2^47 on lose their top bits here: the
    /// hint then never matches and every write takes the exact path.)
    hint: AtomicU64,
    slots: Box<[(AtomicU64, S)]>,
}

impl<S: Slot> Ring<S> {
    /// An empty ring of exactly `len` buckets.
    pub(crate) fn new(bucket_ms: u64, len: u64) -> Ring<S> {
        Ring::try_with_capacity(len, bucket_ms, len).expect("memory for a ring")
    }

    /// An empty ring of `len` buckets in `capacity` slots, or the error of
    /// an allocation the allocator refused (never an abort).
    pub(crate) fn try_with_capacity(capacity: u64, bucket_ms: u64, len: u64) -> Result<Ring<S>, TryReserveError> {
        assert!(capacity < 1 << SLOT_BITS, "at most 2^17 - 1 buckets");
        assert!(bucket_ms >= 1 && len >= 1 && len <= capacity, "a shape that fits");
        let mut slots = Vec::new();
        slots.try_reserve_exact(capacity as usize)?;
        slots.extend((0..capacity).map(|_| (AtomicU64::new(EMPTY), S::empty())));
        Ok(Ring {
            bucket_ms: AtomicU64::new(bucket_ms),
            len: AtomicU64::new(len),
            hint: AtomicU64::new(NO_HINT),
            slots: slots.into_boxed_slice(),
        })
    }

    /// The slot of the bucket holding time `now`, recycled first if it held
    /// an older bucket (after `retire` has taken its old contents). If it
    /// already holds a bucket less than two windows newer (a writer that fell
    /// behind the ring), that newer bucket's slot: what is recorded may land
    /// in a later bucket than its time says, never vanish. A bucket two
    /// windows or more ahead (a clock reading far in the future) is recycled
    /// like an older one. (A writer stalled for two whole windows then
    /// retires a live bucket early: its counts stay in the cumulative ones.)
    #[inline(always)]
    pub(crate) fn at(&self, now: u64, retire: impl FnOnce(&S)) -> &S {
        // The common case inline: `now` is in the hinted bucket, which its
        // slot holds. Anything else (another bucket, a slot to recycle, a
        // reset in progress) goes the whole way, out of line.
        let hint = self.hint.load(Ordering::Relaxed);
        let bucket_ms = self.bucket_ms.load(Ordering::Relaxed);
        let (i, s) = (hint >> SLOT_BITS, (hint & SLOT_MASK) as usize);
        let start = i.wrapping_mul(bucket_ms);
        if now >= start && now - start < bucket_ms {
            if let Some((tag, slot)) = self.slots.get(s) {
                if tag.load(Ordering::Acquire) == i {
                    return slot;
                }
            }
        }
        self.at_slow(now, retire)
    }

    /// [`Ring::at`] past its inline fast path.
    #[inline(never)]
    fn at_slow(&self, now: u64, retire: impl FnOnce(&S)) -> &S {
        let hint = self.hint.load(Ordering::Relaxed);
        let (bucket_ms, len) = self.shape();
        let (index, slot_no) = {
            let (i, s) = (hint >> SLOT_BITS, (hint & SLOT_MASK) as usize);
            let start = i.wrapping_mul(bucket_ms);
            if now >= start && now - start < bucket_ms && (s as u64) < len {
                (i, s)
            } else {
                let i = (now / bucket_ms).min(LAST_INDEX);
                let s = (i % len) as usize;
                self.hint.store((i << SLOT_BITS) | s as u64, Ordering::Relaxed);
                (i, s)
            }
        };
        // In bounds: `slot_no < len ≤ capacity`, whichever shape each of
        // `bucket_ms`, `len` and the hint was read from.
        let (tag, slot) = &self.slots[slot_no];
        loop {
            let seen = tag.load(Ordering::Acquire);
            if seen == index {
                return slot;
            }
            if seen == RESETTING {
                spin();
                continue;
            }
            // A newer bucket holds the slot. Less than two windows ahead of
            // this write it is a writer that fell behind: its event lands in
            // that newer bucket (never dropped). Further ahead it is a bucket
            // stamped by a clock reading far in the future: recycled for this
            // one (its counts retired), or it would keep every later write
            // to the slot out of the window until that future time.
            if seen != EMPTY && seen > index && seen - index < 2 * len {
                return slot;
            }
            if tag.compare_exchange(seen, RESETTING, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                // Orders the claim before `clear`'s stores for `update_all`:
                // it either sees this claim or has its writes cleared after.
                fence(Ordering::SeqCst);
                if seen != EMPTY {
                    retire(slot);
                }
                slot.recycle();
                tag.store(index, Ordering::Release);
                return slot;
            }
        }
    }

    /// The slots of the buckets inside the window at `now`: the current
    /// bucket and the `len - 1` before it.
    pub(crate) fn live(&self, now: u64) -> impl Iterator<Item = &S> {
        let (bucket_ms, len) = self.shape();
        let current = (now / bucket_ms).min(LAST_INDEX);
        let oldest = current.saturating_add(1).saturating_sub(len);
        self.in_use(len).iter().filter_map(move |(tag, slot)| {
            let i = tag.load(Ordering::Acquire);
            (i != EMPTY && i != RESETTING && i >= oldest && i <= current).then_some(slot)
        })
    }

    /// The slots of the buckets of a ring of `len` (≤ capacity) buckets.
    fn in_use(&self, len: u64) -> &[(AtomicU64, S)] {
        &self.slots[..(len as usize).min(self.slots.len())]
    }

    /// Every slot of the capacity, holding a bucket or not (an empty slot,
    /// or one past `len`, may still hold what a writer that fell behind a
    /// [`Ring::reset`] or a [`Ring::reshape`] added).
    pub(crate) fn every(&self) -> impl Iterator<Item = &S> {
        self.slots.iter().map(|(_, slot)| slot)
    }

    /// Calls `update` on every slot holding a bucket. A slot recycled for a
    /// newer bucket while `update` ran gets `recycled` instead, so nothing
    /// meant for the old bucket stays in the new one: either the re-read of
    /// the tag sees the recycling (then `recycled` undoes the update) or the
    /// recycler's claim comes later and its `recycle` wipes the update. The
    /// SeqCst fences here and after the claim in [`Ring::at`] make that
    /// "either/or" hold in the memory model, not only on x86.
    pub(crate) fn update_all(&self, update: impl Fn(&S), recycled: impl Fn(&S)) {
        for (tag, slot) in self.in_use(self.len.load(Ordering::Relaxed)) {
            let before = tag.load(Ordering::Acquire);
            if before == EMPTY || before == RESETTING {
                continue;
            }
            update(slot);
            fence(Ordering::SeqCst);
            if tag.load(Ordering::SeqCst) != before {
                recycled(slot);
            }
        }
    }

    /// Empties every slot of its bucket (the ring is being reused for a
    /// fresh window): each is recycled, so a slot that takes its contents
    /// elsewhere (see [`Slot::recycle`]) must have done so, or do so after.
    pub(crate) fn reset(&self) {
        for (tag, slot) in self.slots.iter() {
            slot.recycle();
            tag.store(EMPTY, Ordering::Release);
        }
    }

    /// Gives the ring a new shape in place (`1 ≤ len ≤` [`Ring::capacity`],
    /// `bucket_ms ≥ 1`) and forgets the hint. The slots keep their tags and
    /// contents: the caller resets or drains them (see `Window::reuse`).
    pub(crate) fn reshape(&self, bucket_ms: u64, len: u64) {
        assert!(bucket_ms >= 1 && len >= 1 && len <= self.capacity(), "a shape that fits");
        self.bucket_ms.store(bucket_ms, Ordering::Relaxed);
        self.len.store(len, Ordering::Relaxed);
        self.hint.store(NO_HINT, Ordering::Relaxed);
    }

    /// The bucket length and count in force (each read once).
    pub(crate) fn shape(&self) -> (u64, u64) {
        (self.bucket_ms.load(Ordering::Relaxed), self.len.load(Ordering::Relaxed))
    }

    /// The slots allocated: the largest `len` a reshape may give.
    pub(crate) fn capacity(&self) -> u64 {
        self.slots.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    struct Count(AtomicU32);

    impl Slot for Count {
        fn empty() -> Count {
            Count(AtomicU32::new(0))
        }
        fn recycle(&self) {
            self.0.store(0, Ordering::Relaxed);
        }
    }

    #[test]
    fn an_update_that_races_a_recycle_is_undone() {
        let ring: Ring<Count> = Ring::new(10, 1);
        ring.at(5, |_| {}).0.store(7, Ordering::Relaxed);
        let undone = AtomicU32::new(0);
        ring.update_all(
            |slot| {
                // Another writer moves the only slot on to the next bucket
                // between the updater's reads and its write.
                ring.at(15, |_| {});
                slot.0.store(99, Ordering::Relaxed);
            },
            |slot| {
                undone.fetch_add(1, Ordering::Relaxed);
                slot.0.store(0, Ordering::Relaxed);
            },
        );
        assert_eq!(undone.load(Ordering::Relaxed), 1);
        assert_eq!(ring.at(15, |_| {}).0.load(Ordering::Relaxed), 0);
        // Without a race the update stands.
        ring.update_all(|slot| slot.0.store(3, Ordering::Relaxed), |_| panic!("not recycled"));
        assert_eq!(ring.at(15, |_| {}).0.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn the_end_of_time_is_a_bucket_like_any_other() {
        // A virtual clock may saturate at u64::MAX; nothing may overflow.
        let ring: Ring<Count> = Ring::new(1, 3);
        for now in [u64::MAX - 2, u64::MAX - 1, u64::MAX] {
            ring.at(now, |_| {}).0.fetch_add(1, Ordering::Relaxed);
        }
        assert_eq!(ring.live(u64::MAX).map(|c| c.0.load(Ordering::Relaxed)).sum::<u32>(), 3);
    }
}
