//! The retry budget: deposits and withdrawals in a bucketed window (SPEC §12).
#![allow(dead_code)]

use std::collections::VecDeque;

/// Units a retry or a hedge costs, and the balance that allows one.
pub(crate) const RETRY_COST: i64 = 100;

/// The budget's entries, summed per bucket, for the buckets that have any.
///
/// An entry made at time `t` lands in bucket `floor(t / b)` with
/// `b = window_ms / buckets`; at time `now` the window holds the buckets with
/// index greater than `floor(now / b) − buckets`. Only buckets that received
/// an entry are stored, oldest first, and expired ones are dropped on every
/// operation, so at most `buckets` are live and nothing is allocated up
/// front. The window parameters are passed to every operation; when they
/// change the caller empties the budget with [`RetryBudget::reset`].
///
/// Time is expected never to go backwards; if it does, the latest time seen
/// is used instead, so the stored buckets stay ordered and bounded.
#[derive(Debug, Default, Clone)]
pub(crate) struct RetryBudget {
    /// `(bucket index, sum of its entries)`, strictly increasing indices.
    buckets: VecDeque<(u64, i128)>,
    /// Sum of every stored bucket.
    total: i128,
    /// Latest time seen, in ms.
    latest: u64,
}

impl RetryBudget {
    /// An empty budget.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Empties the budget (SPEC §8.2: a change of the window's size or bucket
    /// count, or turning the budget off).
    pub(crate) fn reset(&mut self) {
        self.buckets.clear();
        self.total = 0;
    }

    /// Records a deposit of `units` at `now` (a `SUCCESS`: `retry_budget_percent` units).
    pub(crate) fn deposit(&mut self, now: u64, units: i64, window_ms: u64, buckets: u64) {
        self.add(now, i128::from(units), window_ms, buckets);
    }

    /// Records a withdrawal of `units` at `now` (a retry or hedge that goes ahead: 100 units).
    pub(crate) fn withdraw(&mut self, now: u64, units: i64, window_ms: u64, buckets: u64) {
        self.add(now, -i128::from(units), window_ms, buckets);
    }

    /// The balance at `now`: `reserve = (min_per_sec × window_ms) div 10`
    /// plus the sum of the entries in the window, saturated into `i64`.
    pub(crate) fn balance(&mut self, now: u64, min_per_sec: u64, window_ms: u64, buckets: u64) -> i64 {
        self.expire(now, window_ms, buckets);
        let reserve = u128::from(min_per_sec) * u128::from(window_ms) / 10;
        let reserve = i128::try_from(reserve).unwrap_or(i128::MAX);
        let balance = reserve.saturating_add(self.total);
        i64::try_from(balance).unwrap_or(if balance < 0 { i64::MIN } else { i64::MAX })
    }

    /// Whether a retry or hedge is allowed at `now`: the balance is at least
    /// [`RETRY_COST`].
    pub(crate) fn allows(&mut self, now: u64, min_per_sec: u64, window_ms: u64, buckets: u64) -> bool {
        self.balance(now, min_per_sec, window_ms, buckets) >= RETRY_COST
    }

    /// Number of stored (non-expired as of the last operation) buckets.
    pub(crate) fn live_buckets(&self) -> usize {
        self.buckets.len()
    }

    fn add(&mut self, now: u64, units: i128, window_ms: u64, buckets: u64) {
        let index = self.expire(now, window_ms, buckets);
        match self.buckets.back_mut() {
            Some((last, sum)) if *last == index => *sum += units,
            _ => self.buckets.push_back((index, units)),
        }
        self.total += units;
    }

    /// Drops the buckets outside the window at `now` (or the latest time
    /// seen, if later) and returns the current bucket index.
    fn expire(&mut self, now: u64, window_ms: u64, buckets: u64) -> u64 {
        let now = now.max(self.latest);
        self.latest = now;
        let size = (window_ms / buckets.max(1)).max(1);
        let current = now / size;
        // Kept: index > current − buckets, i.e. index + buckets > current.
        while let Some(&(index, sum)) = self.buckets.front() {
            if u128::from(index) + u128::from(buckets) > u128::from(current) {
                break;
            }
            self.total -= sum;
            self.buckets.pop_front();
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_four_successes_refuse_the_fifth_allows() {
        let mut b = RetryBudget::new();
        for t in 0..4 {
            b.deposit(t * 10, 20, 10_000, 10);
        }
        assert_eq!(b.balance(50, 0, 10_000, 10), 80);
        assert!(!b.allows(50, 0, 10_000, 10));
        b.deposit(60, 20, 10_000, 10);
        assert_eq!(b.balance(70, 0, 10_000, 10), 100);
        assert!(b.allows(70, 0, 10_000, 10));
        b.withdraw(70, RETRY_COST, 10_000, 10);
        assert_eq!(b.balance(70, 0, 10_000, 10), 0);
        assert!(!b.allows(70, 0, 10_000, 10));
    }

    #[test]
    fn reserve_is_min_per_sec_times_window_div_10() {
        let mut b = RetryBudget::new();
        // Default: 10 per second over 10 s = 10 000 units (100 retries).
        assert_eq!(b.balance(0, 10, 10_000, 10), 10_000);
        assert_eq!(b.balance(0, 1, 15, 1), 1);
        assert_eq!(b.balance(0, 0, 10_000, 10), 0);
        // The largest valid values fit in i64 exactly.
        assert_eq!(b.balance(0, 1_000_000, 86_400_000, 86_400_000), 8_640_000_000_000);
        // Beyond the valid range: saturates, no panic.
        assert_eq!(b.balance(0, u64::MAX, u64::MAX, 1), i64::MAX);
    }

    #[test]
    fn entries_expire_exactly_at_the_window_edge() {
        // b = 100 ms, 10 buckets: an entry at 250 is in bucket 2, which the
        // window holds while floor(now / 100) − 10 < 2, i.e. now < 1200.
        let mut b = RetryBudget::new();
        b.deposit(250, 300, 1000, 10);
        assert_eq!(b.balance(1199, 0, 1000, 10), 300);
        assert_eq!(b.balance(1200, 0, 1000, 10), 0);
        assert_eq!(b.live_buckets(), 0);
        // Bucket 0 at time 0 ends being counted at 1000 exactly.
        let mut c = RetryBudget::new();
        c.deposit(0, 50, 1000, 10);
        c.deposit(999, 70, 1000, 10);
        assert_eq!(c.balance(999, 0, 1000, 10), 120);
        assert_eq!(c.balance(1000, 0, 1000, 10), 70);
        assert_eq!(c.balance(1899, 0, 1000, 10), 70);
        assert_eq!(c.balance(1900, 0, 1000, 10), 0);
    }

    #[test]
    fn balance_may_go_negative() {
        let mut b = RetryBudget::new();
        b.deposit(0, 100, 1000, 10);
        b.withdraw(0, 100, 1000, 10);
        b.withdraw(500, 100, 1000, 10);
        assert_eq!(b.balance(500, 0, 1000, 10), -100);
        // The withdrawals outlive the deposit that paid for them.
        b.withdraw(950, 100, 1000, 10);
        assert_eq!(b.balance(1000, 0, 1000, 10), -200);
        assert_eq!(b.balance(1000, 5, 1000, 10), 300);
        b.reset();
        assert_eq!(b.balance(1000, 0, 1000, 10), 0);
    }

    #[test]
    fn memory_stays_bounded_with_a_huge_bucket_count() {
        let mut b = RetryBudget::new();
        let (window, buckets) = (86_400_000, 86_400_000);
        for t in 0..1000u64 {
            b.deposit(t * 1000, 1, window, buckets);
        }
        assert_eq!(b.live_buckets(), 1000);
        assert_eq!(b.balance(999_000, 0, window, buckets), 1000);
        // One window later every entry has expired.
        assert_eq!(b.balance(999_000 + window, 0, window, buckets), 0);
        assert_eq!(b.live_buckets(), 0);
        // Small window: never more than `buckets` stored.
        let mut s = RetryBudget::new();
        for t in 0..10_000u64 {
            s.deposit(t, 1, 100, 10);
            assert!(s.live_buckets() <= 10);
        }
        assert_eq!(s.balance(9_999, 0, 100, 10), 100);
    }

    #[test]
    fn time_going_backwards_does_not_panic() {
        let mut b = RetryBudget::new();
        b.deposit(5000, 10, 1000, 10);
        b.deposit(10, 10, 1000, 10);
        assert_eq!(b.balance(0, 0, 1000, 10), 20);
        b.deposit(u64::MAX, 1, 1000, 10);
        assert_eq!(b.balance(3, 0, 1000, 10), 1);
        // Parameters that validation refuses: no panic either.
        b.deposit(7, 1, 0, 0);
        let _ = b.balance(7, 0, 0, 0);
        let _ = b.balance(7, 0, 5, u64::MAX);
    }
}
