//! The rate limiter: GCRA on an exact integer clock (SPEC §13).
#![allow(dead_code)]

/// What the rate limiter decided for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateDecision {
    /// Admitted now.
    Now,
    /// Its turn is reserved: its first attempt starts this many ms later (at least 1).
    Wait(u64),
    /// Refused: the wait would exceed `rate_limit_timeout_ms` (the state is unchanged).
    Refused,
}

/// GCRA state: the theoretical arrival time `tat`, in units of `1/N` ms
/// where `N` = `rate_limit_for_period`.
///
/// All arithmetic is on exact 128-bit integers (saturating at the very top,
/// which valid configurations, below 2^53, never reach).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RateLimiter {
    tat: u128,
}

impl RateLimiter {
    /// A limiter that has admitted nothing (`tat` = 0).
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Restarts the limiter (`tat` = 0), as a change of `rate_limit_for_period`,
    /// `rate_limit_period_ms` or `rate_limit_burst` does (SPEC §8.2).
    pub(crate) fn restart(&mut self) {
        self.tat = 0;
    }

    /// Decides a call at time `now` (SPEC §13) with `N` = `for_period`,
    /// `P` = `period_ms`, `B` = `burst` (or `N` when `burst` is 0), and
    /// `τ = (B − 1) × P`:
    /// - `t' + τ ≥ tat` (`t' = now × N`): [`RateDecision::Now`], `tat = max(tat, t') + P`;
    /// - otherwise `wait = ceil((tat − τ − t') / N)`: if `wait ≤ timeout_ms`,
    ///   [`RateDecision::Wait`] and `tat = tat + P` (the turn is reserved),
    ///   else [`RateDecision::Refused`] and `tat` is unchanged.
    ///
    /// With `for_period` 0 the limiter is off: every call is admitted now and
    /// nothing changes.
    pub(crate) fn admit(
        &mut self,
        now: u64,
        for_period: u64,
        period_ms: u64,
        burst: u64,
        timeout_ms: u64,
    ) -> RateDecision {
        if for_period == 0 {
            return RateDecision::Now;
        }
        let n = u128::from(for_period);
        let p = u128::from(period_ms);
        let b = if burst == 0 { n } else { u128::from(burst) };
        let tau = (b - 1) * p;
        let t = u128::from(now) * n;
        let limit = t.saturating_add(tau);
        if limit >= self.tat {
            self.tat = self.tat.max(t).saturating_add(p);
            return RateDecision::Now;
        }
        // tat > t' + τ, so the difference is at least 1.
        let late = self.tat - limit;
        let wait = late.div_ceil(n);
        if wait <= u128::from(timeout_ms) {
            self.tat = self.tat.saturating_add(p);
            // wait ≤ timeout_ms ≤ u64::MAX.
            RateDecision::Wait(wait as u64)
        } else {
            RateDecision::Refused
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::random::SplitMix64;

    #[test]
    fn spec_example_without_timeout() {
        let mut r = RateLimiter::new();
        assert_eq!(r.admit(0, 2, 1000, 2, 0), RateDecision::Now);
        assert_eq!(r.admit(0, 2, 1000, 2, 0), RateDecision::Now);
        assert_eq!(r.admit(0, 2, 1000, 2, 0), RateDecision::Refused);
        assert_eq!(r.admit(499, 2, 1000, 2, 0), RateDecision::Refused);
        assert_eq!(r.admit(500, 2, 1000, 2, 0), RateDecision::Now);
        assert_eq!(r.admit(500, 2, 1000, 2, 0), RateDecision::Refused);
        assert_eq!(r.admit(1000, 2, 1000, 2, 0), RateDecision::Now);
    }

    #[test]
    fn spec_example_with_timeout_500_waits() {
        let mut r = RateLimiter::new();
        assert_eq!(r.admit(0, 2, 1000, 2, 500), RateDecision::Now);
        assert_eq!(r.admit(0, 2, 1000, 2, 500), RateDecision::Now);
        assert_eq!(r.admit(0, 2, 1000, 2, 500), RateDecision::Wait(500));
        // The turn at 500 is taken: the next would wait 1000, too long.
        assert_eq!(r.admit(0, 2, 1000, 2, 500), RateDecision::Refused);
        // At 500 the next turn is at 1000.
        assert_eq!(r.admit(500, 2, 1000, 2, 500), RateDecision::Wait(500));
        r.restart();
        assert_eq!(r.admit(500, 2, 1000, 2, 0), RateDecision::Now);
    }

    #[test]
    fn burst_zero_means_for_period_and_wait_rounds_up() {
        let mut r = RateLimiter::new();
        for _ in 0..3 {
            assert_eq!(r.admit(10, 3, 1000, 0, 0), RateDecision::Now);
        }
        assert_eq!(r.admit(10, 3, 1000, 0, 0), RateDecision::Refused);
        // 1000 / 3 ms per call: tat = 30 + 3000 = 3030 units; τ = 2000;
        // wait = ceil((3030 − 2000 − 30) / 3) = ceil(1000 / 3) = 334.
        assert_eq!(r.admit(10, 3, 1000, 0, 334), RateDecision::Wait(334));
        // Burst 1: back to back is refused.
        let mut one = RateLimiter::new();
        assert_eq!(one.admit(0, 3, 1000, 1, 0), RateDecision::Now);
        assert_eq!(one.admit(0, 3, 1000, 1, 1000), RateDecision::Wait(334));
        assert_eq!(one.admit(0, 3, 1000, 1, 1000), RateDecision::Wait(667));
        // Off: always now.
        let mut off = RateLimiter::new();
        assert_eq!(off.admit(0, 0, 1000, 0, 0), RateDecision::Now);
        assert_eq!(off, RateLimiter::new());
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let max = (1u64 << 53) - 1;
        let mut r = RateLimiter::new();
        assert_eq!(r.admit(max, max, max, max, max), RateDecision::Now);
        for _ in 0..10 {
            let _ = r.admit(max, max, max, max, max);
            let _ = r.admit(max, max, max, 1, max);
        }
        let mut s = RateLimiter::new();
        assert_eq!(s.admit(max, max, max, 1, 0), RateDecision::Now);
        assert_eq!(s.admit(max, max, max, 1, 0), RateDecision::Refused);
        // P = 2^53 − 1 ms for N calls, so one call every P / N = 1 ms.
        assert_eq!(s.admit(max, max, max, 1, max), RateDecision::Wait(1));
        // Beyond the valid range: no panic.
        let mut u = RateLimiter::new();
        for _ in 0..5 {
            let _ = u.admit(u64::MAX, u64::MAX, u64::MAX, u64::MAX, u64::MAX);
            let _ = u.admit(u64::MAX, u64::MAX, u64::MAX, 0, u64::MAX);
            let _ = u.admit(0, 1, u64::MAX, 1, u64::MAX);
        }
    }

    /// Start times (ms) of the calls admitted now, and of every call that
    /// starts (now or after a reserved wait), for pseudo-random arrivals.
    fn run(seed: u64, n: u64, p: u64, burst: u64, timeout: u64, calls: usize) -> (Vec<u64>, Vec<u64>) {
        let mut rng = SplitMix64::new(seed);
        let mut r = RateLimiter::new();
        let (mut now_starts, mut all_starts) = (Vec::new(), Vec::new());
        let mut t = 0u64;
        for _ in 0..calls {
            // Gaps of 0..=2 P / N ms, often zero (bursts).
            let draw = rng.next_u64();
            if draw % 3 != 0 {
                t += draw % (2 * p / n + 2);
            }
            match r.admit(t, n, p, burst, timeout) {
                RateDecision::Now => {
                    now_starts.push(t);
                    all_starts.push(t);
                }
                RateDecision::Wait(w) => {
                    assert!(w >= 1 && w <= timeout);
                    all_starts.push(t + w);
                }
                RateDecision::Refused => {}
            }
        }
        all_starts.sort_unstable();
        (now_starts, all_starts)
    }

    /// Largest excess of `count × P − (B × P + (t1 − t0) × N)` over every
    /// interval [t0, t1] bounded by two of the sorted `starts`.
    fn worst_excess(starts: &[u64], n: u64, p: u64, b: u64) -> i128 {
        let mut worst = i128::MIN;
        for i in 0..starts.len() {
            for j in i..starts.len() {
                let count = (j - i + 1) as i128;
                let lhs = count * i128::from(p);
                let rhs = i128::from(b) * i128::from(p) + i128::from(starts[j] - starts[i]) * i128::from(n);
                worst = worst.max(lhs - rhs);
            }
        }
        worst
    }

    #[test]
    fn property_no_interval_admits_more_than_burst_plus_rate() {
        let configs = [
            (2u64, 1000u64, 2u64, 0u64),
            (2, 1000, 2, 1500),
            (3, 1000, 1, 700),
            (5, 7, 3, 4),
            (1, 10, 4, 25),
            (7, 3, 0, 2),
        ];
        for (k, &(n, p, burst, timeout)) in configs.iter().enumerate() {
            let b = if burst == 0 { n } else { burst };
            let (now_starts, all_starts) = run(k as u64, n, p, burst, timeout, 1500);
            assert!(now_starts.len() > 10, "config {k} admitted too few");
            // Calls admitted at their arrival time: exactly B + (t1 − t0) N / P.
            assert!(worst_excess(&now_starts, n, p, b) <= 0, "config {k}: admitted-now bound");
            // Every start, reserved ones included: a reserved start is its
            // GCRA slot rounded up to a whole ms, so it may come up to
            // (N − 1) / N ms after the slot; the bound widens by that much.
            let excess = worst_excess(&all_starts, n, p, b);
            assert!(excess < i128::from(n), "config {k}: start bound, excess {excess}");
            if n == 1 {
                assert!(excess <= 0);
            }
        }
    }

    #[test]
    fn ms_rounding_of_reserved_starts_can_exceed_the_unwidened_bound() {
        // N 2 per P 3 ms, B 1: slots at 0, 1.5, 3 ms; the reserved one at 1.5
        // starts at 2, so [2, 3] holds two starts where 1 + 1 × 2 / 3 < 2.
        let mut r = RateLimiter::new();
        assert_eq!(r.admit(0, 2, 3, 1, 10), RateDecision::Now);
        assert_eq!(r.admit(0, 2, 3, 1, 10), RateDecision::Wait(2));
        assert_eq!(r.admit(3, 2, 3, 1, 10), RateDecision::Now);
    }
}
