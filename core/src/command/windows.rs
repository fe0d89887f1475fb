//! The windows a command keeps, and which one takes a new shape.
//!
//! Writers record into the window in force without a lock and without
//! announcing themselves (a reader count, epochs or hazard pointers would
//! add an atomic read-modify-write or two to every call, 10–15 % of the
//! closed path). So a window, once published, is never freed before the
//! command: a writer may still hold it. Memory stays bounded by reusing
//! windows instead: a window's ring has a capacity, and a new shape goes
//! into the window in force if its bucket count fits, else into the
//! smallest window kept that fits (both emptied into the cumulative base
//! first), and only if none fits into a new window. New windows get a
//! capacity from a fixed geometric ladder (`MAX_BUCKETS` halved, rounded
//! up), and each is larger than every window before it, so a command holds
//! at most 18 windows (plus the one it was created with, exactly sized),
//! together about twice its largest window at most. Shrinking a window
//! gives no memory back: the bound holds for the command's life.

use super::Command;
use crate::config::MAX_BUCKETS;
use crate::error::ConfigError;
use crate::event::EventType;
use crate::window::Window;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The capacity of a new window for `buckets` buckets: the smallest of
/// `MAX_BUCKETS`, `MAX_BUCKETS / 2`, `MAX_BUCKETS / 4`, … (rounded up)
/// that holds them, so capacities never exceed twice the buckets and
/// every window's capacity is one of 18 values.
pub(super) fn capacity_for(buckets: u64) -> u64 {
    let mut capacity = MAX_BUCKETS.max(buckets);
    while capacity.div_ceil(2) >= buckets && capacity > 1 {
        capacity = capacity.div_ceil(2);
    }
    capacity
}

/// A window of `buckets` buckets of `bucket_ms`, with room for `capacity`,
/// or the configuration error of an allocator out of memory.
pub(super) fn allocate(capacity: u64, bucket_ms: u64, buckets: u64) -> Result<Arc<Window>, ConfigError> {
    match Window::try_with_capacity(capacity, bucket_ms, buckets) {
        Ok(w) => Ok(Arc::new(w)),
        Err(_) => Err(ConfigError::new("rolling_window_buckets", format!("out of memory for {buckets} buckets"))),
    }
}

impl Command {
    /// Puts the window of shape `(bucket_ms, buckets)` in force (the
    /// caller holds the windows lock and has checked the shape changes).
    /// On error nothing changed: the window in force and every count stay.
    pub(super) fn reshape_window(
        &self,
        windows: &mut Vec<Arc<Window>>,
        (bucket_ms, buckets): (u64, u64),
    ) -> Result<(), ConfigError> {
        let current = self.inner.window.load(Ordering::Acquire);
        let fits = |w: &Arc<Window>| w.capacity() >= buckets;
        let reuse = windows
            .iter()
            .find(|w| std::ptr::eq(Arc::as_ptr(w), current) && fits(w))
            .or_else(|| windows.iter().filter(|w| fits(w)).min_by_key(|w| w.capacity()));
        let next = match reuse {
            Some(w) => {
                self.add_to_base(w.reuse(bucket_ms, buckets));
                Arc::clone(w)
            }
            None => {
                let fresh = allocate(capacity_for(buckets), bucket_ms, buckets)?;
                windows.push(Arc::clone(&fresh));
                fresh
            }
        };
        // Only ever read through shared references: the `*mut` is what
        // `AtomicPtr` stores, never used to write.
        self.inner.window.store(Arc::as_ptr(&next) as *mut Window, Ordering::Release);
        Ok(())
    }

    /// Adds a reused window's counts to the cumulative base.
    fn add_to_base(&self, counts: [u64; EventType::COUNT]) {
        let base = self.inner.cumulative_base.get_or_init(Default::default);
        for (base, n) in base.iter().zip(counts) {
            base.fetch_add(n, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::capacity_for;
    use crate::config::MAX_BUCKETS;

    #[test]
    fn capacities_climb_a_ladder_of_halvings() {
        let mut ladder: Vec<u64> = (1..=MAX_BUCKETS).map(capacity_for).collect();
        for (buckets, capacity) in (1..=MAX_BUCKETS).zip(&ladder) {
            assert!(*capacity >= buckets && *capacity <= 2 * buckets, "{buckets} buckets in {capacity}");
        }
        ladder.dedup();
        assert_eq!(ladder.len(), 18, "{ladder:?}");
        assert_eq!(ladder.iter().sum::<u64>(), 2 * MAX_BUCKETS + 6, "{ladder:?}");
        assert_eq!(capacity_for(1), 1);
        assert_eq!(capacity_for(MAX_BUCKETS), MAX_BUCKETS);
    }
}
