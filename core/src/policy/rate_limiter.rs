//! The rate limiter: GCRA on an exact integer clock (SPEC §13).
#![allow(dead_code)]

use crate::sync::{AtomicU64, Mutex, MutexGuard, Ordering};

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
/// Lock-free in the common case: while `tat` fits in 52 bits and every
/// intermediate of a decision in 64 (`now × N` does for any `N` up to
/// ~10³ on a clock counting from 1970, ~10⁶ over years of a clock that
/// counts from its start), a decision is one compare-and-swap on
/// `narrow`, as in the fastest GCRA implementations. A decision that would
/// overflow moves the state into `wide`, behind a lock, where the exact
/// 128-bit arithmetic of SPEC §13 goes on (saturating at the very top,
/// which valid configurations, below 2^53, never reach) until the next
/// restart. Both paths compute the same integers, so the decisions are
/// those of one 128-bit `tat` updated one call at a time.
///
/// The quota (`N`, `P`, `B`, the timeout) is read by each decision after
/// the state, and a restart — which follows the new quota's stores —
/// bumps an epoch kept in `narrow`'s top 12 bits: a decision made with the
/// quota from before a restart either lands before it (and is wiped by
/// it) or fails its compare-and-swap and is made again with the new
/// quota. (Without the epoch, a call that read the old quota could write
/// its `tat`, in the old units, over the restarted state: a review found
/// a rate lowered under load refusing every call for months. The epoch
/// would have to wrap, 4,096 restarts within one call's few loads, for a
/// call to miss one.) A call that reads the new quota before the restart
/// that follows it is decided on the old state with the new quota, as it
/// was with the lock: such a call may be refused or made to wait, once,
/// where neither quota alone would have done so (the restart then clears
/// the state).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    /// The epoch (top 12 bits) and `tat`, or [`WIDE`] while the state
    /// lives in `wide` (low 52 bits).
    narrow: AtomicU64,
    /// `tat` while `narrow` holds [`WIDE`] (meaningless otherwise).
    wide: Mutex<u128>,
}

/// `narrow`'s low 52 bits: `tat`, or [`WIDE`].
const TAT: u64 = (1 << 52) - 1;
/// `narrow`'s mark for "the state is in `wide`" (never a narrow `tat`).
const WIDE: u64 = TAT;
/// One step of `narrow`'s epoch.
const EPOCH: u64 = 1 << 52;

fn lock(m: &Mutex<u128>) -> MutexGuard<'_, u128> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A decision's quota: `rate_limit_for_period`, `rate_limit_period_ms`,
/// `rate_limit_burst`, `rate_limit_timeout_ms`.
pub(crate) type Keys = (u64, u64, u64, u64);

/// The limit a call's `t' = now × N` is compared with, `τ = (B − 1) × P`,
/// and `N`, `P`, for `burst` 0 meaning `N`.
#[derive(Clone, Copy)]
struct Quota {
    n: u64,
    p: u64,
    b: u64,
}

impl Quota {
    fn new(for_period: u64, period_ms: u64, burst: u64) -> Quota {
        Quota { n: for_period, p: period_ms, b: if burst == 0 { for_period } else { burst } }
    }

    /// The quota and timeout `keys()` gives; `None` while the limiter is
    /// off (`rate_limit_for_period` 0).
    #[inline]
    fn read(keys: &impl Fn() -> Keys) -> Option<(Quota, u64)> {
        let (for_period, period_ms, burst, timeout_ms) = keys();
        (for_period != 0).then(|| (Quota::new(for_period, period_ms, burst), timeout_ms))
    }
}

/// One decision on a 128-bit `tat` (SPEC §13): the decision and the new
/// `tat` (unchanged when refused).
fn step_wide(tat: u128, now: u64, q: Quota, timeout_ms: u64) -> (RateDecision, u128) {
    let (n, p) = (u128::from(q.n), u128::from(q.p));
    let tau = (u128::from(q.b) - 1) * p;
    let t = u128::from(now) * n;
    let limit = t.saturating_add(tau);
    if limit >= tat {
        return (RateDecision::Now, tat.max(t).saturating_add(p));
    }
    // tat > t' + τ, so the difference is at least 1.
    let wait = (tat - limit).div_ceil(n);
    if wait <= u128::from(timeout_ms) {
        // wait ≤ timeout_ms ≤ u64::MAX.
        (RateDecision::Wait(wait as u64), tat.saturating_add(p))
    } else {
        (RateDecision::Refused, tat)
    }
}

/// [`step_wide`] on a 52-bit `tat`, or `None` when an intermediate would
/// not fit in 64 bits or the new `tat` in 52 (or would be [`WIDE`]).
#[inline]
fn step_narrow(tat: u64, now: u64, q: Quota, timeout_ms: u64) -> Option<(RateDecision, u64)> {
    let tau = (q.b - 1).checked_mul(q.p)?;
    let t = now.checked_mul(q.n)?;
    let limit = t.checked_add(tau)?;
    let (decision, next) = if limit >= tat {
        (RateDecision::Now, tat.max(t).checked_add(q.p)?)
    } else {
        let wait = (tat - limit).div_ceil(q.n);
        if wait > timeout_ms {
            return Some((RateDecision::Refused, tat));
        }
        (RateDecision::Wait(wait), tat.checked_add(q.p)?)
    };
    (next < WIDE).then_some((decision, next))
}

impl RateLimiter {
    /// A limiter that has admitted nothing (`tat` = 0).
    pub(crate) fn new() -> Self {
        RateLimiter { narrow: AtomicU64::new(0), wide: Mutex::new(0) }
    }

    /// Restarts the limiter (`tat` = 0), as a change of `rate_limit_for_period`,
    /// `rate_limit_period_ms` or `rate_limit_burst` does (SPEC §8.2): after
    /// the new quota is stored, a new epoch (see [`RateLimiter`]).
    pub(crate) fn restart(&self) {
        // Under the lock, so that no call is moving the state into `wide`
        // meanwhile; `wide` itself is not reset: it is read only after the
        // state moves there again, which writes it first. Release: a call
        // that reads the new epoch (Acquire) reads the new quota after it.
        let _wide = lock(&self.wide);
        let _ =
            self.narrow.fetch_update(Ordering::Release, Ordering::Relaxed, |w| Some((w & !TAT).wrapping_add(EPOCH)));
    }

    /// Decides a call at time `now` (SPEC §13) with the quota `keys()`
    /// gives: `N` = `for_period`, `P` = `period_ms`, `B` = `burst` (or `N`
    /// when `burst` is 0), and `τ = (B − 1) × P`:
    /// - `t' + τ ≥ tat` (`t' = now × N`): [`RateDecision::Now`], `tat = max(tat, t') + P`;
    /// - otherwise `wait = ceil((tat − τ − t') / N)`: if `wait ≤ timeout_ms`,
    ///   [`RateDecision::Wait`] and `tat = tat + P` (the turn is reserved),
    ///   else [`RateDecision::Refused`] and `tat` is unchanged.
    ///
    /// `keys` is read after the state, and again if the decision has to be
    /// made again (see [`RateLimiter`]). Calls racing on several threads
    /// are decided one after another, each on the `tat` the previous one
    /// left. With `for_period` 0 the limiter is off: every call is
    /// admitted now and nothing changes.
    #[inline]
    pub(crate) fn admit_with(&self, now: u64, keys: impl Fn() -> Keys) -> RateDecision {
        let mut w = self.narrow.load(Ordering::Acquire);
        loop {
            let tat = w & TAT;
            if tat == WIDE {
                return self.admit_wide(now, keys);
            }
            let Some((q, timeout_ms)) = Quota::read(&keys) else { return RateDecision::Now };
            let Some((decision, next)) = step_narrow(tat, now, q, timeout_ms) else {
                return self.admit_wide(now, keys);
            };
            if next == tat {
                return decision; // refused: nothing to write
            }
            match self.narrow.compare_exchange_weak(w, (w & !TAT) | next, Ordering::Relaxed, Ordering::Acquire) {
                Ok(_) => return decision,
                Err(seen) => w = seen,
            }
        }
    }

    /// [`RateLimiter::admit_with`] with a fixed quota.
    pub(crate) fn admit(&self, now: u64, for_period: u64, period_ms: u64, burst: u64, timeout_ms: u64) -> RateDecision {
        self.admit_with(now, || (for_period, period_ms, burst, timeout_ms))
    }

    /// A decision under the lock, in 128 bits: the state moves into `wide`
    /// first if it is still narrow (or is decided narrow, if it can be: a
    /// restart since this call read `WIDE` is not undone).
    #[cold]
    fn admit_wide(&self, now: u64, keys: impl Fn() -> Keys) -> RateDecision {
        let mut wide = lock(&self.wide);
        // Under the lock no restart happens: the quota read now is the one
        // in force (a restart that came first followed its stores; one that
        // comes later wipes this decision). Narrow decisions may still land
        // until the state is in `wide`.
        let Some((q, timeout_ms)) = Quota::read(&keys) else { return RateDecision::Now };
        let mut w = self.narrow.load(Ordering::Relaxed);
        while w & TAT != WIDE {
            let tat = w & TAT;
            let (target, decision) = match step_narrow(tat, now, q, timeout_ms) {
                Some((decision, next)) if next == tat => return decision,
                Some((decision, next)) => (next, Some(decision)),
                None => (WIDE, None),
            };
            match self.narrow.compare_exchange_weak(w, (w & !TAT) | target, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => match decision {
                    Some(decision) => return decision,
                    None => {
                        *wide = u128::from(tat);
                        break;
                    }
                },
                Err(seen) => w = seen,
            }
        }
        let (decision, next) = step_wide(*wide, now, q, timeout_ms);
        *wide = next;
        decision
    }

    /// The current `tat` (for tests).
    #[cfg(test)]
    fn tat(&self) -> u128 {
        match self.narrow.load(Ordering::Relaxed) & TAT {
            WIDE => *lock(&self.wide),
            narrow => u128::from(narrow),
        }
    }

    /// Whether the state is in `wide` (for tests).
    #[cfg(test)]
    fn is_wide(&self) -> bool {
        self.narrow.load(Ordering::Relaxed) & TAT == WIDE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::random::SplitMix64;

    #[test]
    fn spec_example_without_timeout() {
        let r = RateLimiter::new();
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
        let r = RateLimiter::new();
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
        let r = RateLimiter::new();
        for _ in 0..3 {
            assert_eq!(r.admit(10, 3, 1000, 0, 0), RateDecision::Now);
        }
        assert_eq!(r.admit(10, 3, 1000, 0, 0), RateDecision::Refused);
        // 1000 / 3 ms per call: tat = 30 + 3000 = 3030 units; τ = 2000;
        // wait = ceil((3030 − 2000 − 30) / 3) = ceil(1000 / 3) = 334.
        assert_eq!(r.admit(10, 3, 1000, 0, 334), RateDecision::Wait(334));
        // Burst 1: back to back is refused.
        let one = RateLimiter::new();
        assert_eq!(one.admit(0, 3, 1000, 1, 0), RateDecision::Now);
        assert_eq!(one.admit(0, 3, 1000, 1, 1000), RateDecision::Wait(334));
        assert_eq!(one.admit(0, 3, 1000, 1, 1000), RateDecision::Wait(667));
        // Off: always now.
        let off = RateLimiter::new();
        assert_eq!(off.admit(0, 0, 1000, 0, 0), RateDecision::Now);
        assert_eq!(off.tat(), 0);
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let max = (1u64 << 53) - 1;
        let r = RateLimiter::new();
        assert_eq!(r.admit(max, max, max, max, max), RateDecision::Now);
        for _ in 0..10 {
            let _ = r.admit(max, max, max, max, max);
            let _ = r.admit(max, max, max, 1, max);
        }
        let s = RateLimiter::new();
        assert_eq!(s.admit(max, max, max, 1, 0), RateDecision::Now);
        assert_eq!(s.admit(max, max, max, 1, 0), RateDecision::Refused);
        // P = 2^53 − 1 ms for N calls, so one call every P / N = 1 ms.
        assert_eq!(s.admit(max, max, max, 1, max), RateDecision::Wait(1));
        // Beyond the valid range: no panic.
        let u = RateLimiter::new();
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
        let r = RateLimiter::new();
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
        let r = RateLimiter::new();
        assert_eq!(r.admit(0, 2, 3, 1, 10), RateDecision::Now);
        assert_eq!(r.admit(0, 2, 3, 1, 10), RateDecision::Wait(2));
        assert_eq!(r.admit(3, 2, 3, 1, 10), RateDecision::Now);
    }

    /// The reference: one 128-bit `tat` updated one call at a time.
    struct Reference(u128);

    impl Reference {
        fn admit(&mut self, now: u64, n: u64, p: u64, b: u64, timeout: u64) -> RateDecision {
            if n == 0 {
                return RateDecision::Now;
            }
            let (decision, next) = step_wide(self.0, now, Quota::new(n, p, b), timeout);
            self.0 = next;
            decision
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "pure arithmetic, 60,000 decisions: minutes under Miri")]
    fn narrow_and_wide_decide_as_one_128_bit_tat() {
        // Configurations from small to past 64 bits (`now × N`, `τ`, `tat`
        // overflow), with restarts: the state moves into `wide` and back.
        let mut rng = SplitMix64::new(7);
        let pick = |rng: &mut SplitMix64| match rng.next_u64() % 4 {
            0 => rng.next_u64() % 8,
            1 => rng.next_u64() % 5000,
            2 => rng.next_u64() % (1 << 40),
            _ => rng.next_u64() % (1 << 53),
        };
        let mut went_wide = 0;
        for round in 0..300 {
            let (n, p, b, timeout) = (pick(&mut rng), pick(&mut rng), pick(&mut rng), pick(&mut rng));
            let r = RateLimiter::new();
            let mut reference = Reference(0);
            let mut now = pick(&mut rng);
            for call in 0..200 {
                if rng.next_u64() % 3 == 0 {
                    now = now.saturating_add(rng.next_u64() % (2 * p.max(1) / n.max(1) + 2));
                }
                if call == 100 {
                    r.restart();
                    reference = Reference(0);
                }
                let got = r.admit(now, n, p, b, timeout);
                let want = reference.admit(now, n, p, b, timeout);
                assert_eq!(got, want, "round {round} call {call}: N {n} P {p} B {b} timeout {timeout} at {now}");
                assert_eq!(r.tat(), reference.0, "round {round} call {call}");
            }
            went_wide += usize::from(r.is_wide());
        }
        assert!(went_wide > 10, "only {went_wide} rounds ended in 128 bits");
    }

    #[test]
    fn a_restart_brings_a_wide_state_back_to_narrow() {
        let max = (1u64 << 53) - 1;
        let r = RateLimiter::new();
        assert_eq!(r.admit(max, max, max, max, 0), RateDecision::Now);
        assert!(r.is_wide());
        // Moving into `wide` keeps the epoch (the review's mutation reset it).
        assert_eq!(r.narrow.load(Ordering::Relaxed) & !TAT, 0);
        r.restart();
        assert_eq!(r.narrow.load(Ordering::Relaxed) & !TAT, EPOCH);
        assert_eq!(r.tat(), 0);
        assert_eq!(r.admit(0, 2, 1000, 2, 0), RateDecision::Now);
        assert!(!r.is_wide());
        assert_eq!(r.tat(), 1000);
    }

    #[test]
    fn a_tat_of_exactly_u64_max_is_kept_in_128_bits() {
        // A valid configuration: N = 2^53 − 1, P = 2047 ms, B 1, at
        // t = 2048 ms: t' + P = 2^64 − 2048 + 2047 = u64::MAX, which is
        // `narrow`'s mark for "in `wide`", so the state must move there.
        // (Found by the review: without the check the next call was
        // decided on a stale `wide` and admitted.)
        let n = (1u64 << 53) - 1;
        let r = RateLimiter::new();
        assert_eq!(r.admit(2048, n, 2047, 1, 0), RateDecision::Now);
        assert_eq!(r.tat(), u128::from(u64::MAX));
        // wait = ceil(2047 / N) = 1 > timeout 0.
        assert_eq!(r.admit(2048, n, 2047, 1, 0), RateDecision::Refused);
    }

    #[test]
    fn a_tat_of_exactly_the_wide_mark_is_kept_in_128_bits() {
        // P = 2^52 − 1: the first call's `tat` is `narrow`'s mark for "in
        // `wide`", so the state must move there, and decide on from there.
        let p = (1u64 << 52) - 1;
        let r = RateLimiter::new();
        assert_eq!(r.admit(0, 1, p, 1, 0), RateDecision::Now);
        assert!(r.is_wide());
        assert_eq!(r.tat(), u128::from(p));
        assert_eq!(r.admit(0, 1, p, 1, 0), RateDecision::Refused);
        assert_eq!(r.admit(p, 1, p, 1, 0), RateDecision::Now);
        assert_eq!(r.tat(), 2 * u128::from(p));
    }

    #[test]
    fn a_restart_starts_a_new_epoch_and_keeps_it_across_decisions() {
        let r = RateLimiter::new();
        r.admit(0, 2, 1000, 2, 0);
        let before = r.narrow.load(Ordering::Relaxed) & !TAT;
        r.restart();
        assert_eq!(r.narrow.load(Ordering::Relaxed), before.wrapping_add(EPOCH));
        assert_eq!(r.admit(0, 2, 1000, 2, 0), RateDecision::Now);
        assert_eq!(r.narrow.load(Ordering::Relaxed), before.wrapping_add(EPOCH) | 1000);
        // 4,096 restarts wrap the epoch around.
        for _ in 0..4095 {
            r.restart();
        }
        assert_eq!(r.narrow.load(Ordering::Relaxed), before);
    }

    #[test]
    fn racing_threads_are_decided_one_after_another() {
        // 4 threads, 2,000 calls each (50 under Miri), all at t = 0, N 3
        // per 1000 ms, B 5, a timeout far enough for every call: each call
        // reserves the next turn, so the waits are exactly those of the
        // calls one by one.
        let calls = if cfg!(miri) { 50 } else { 2000 };
        let r = RateLimiter::new();
        let mut waits: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..calls)
                            .map(|_| match r.admit(0, 3, 1000, 5, u64::MAX) {
                                RateDecision::Now => 0,
                                RateDecision::Wait(w) => w,
                                RateDecision::Refused => panic!("refused under an unbounded timeout"),
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        waits.sort_unstable();
        let mut reference = Reference(0);
        let want: Vec<u64> = (0..4 * calls)
            .map(|_| match reference.admit(0, 3, 1000, 5, u64::MAX) {
                RateDecision::Now => 0,
                RateDecision::Wait(w) => w,
                RateDecision::Refused => unreachable!(),
            })
            .collect();
        assert_eq!(waits, want);
        assert_eq!(r.tat(), reference.0);
    }
}

/// Model checks of the limiter's narrow/wide hand-over under every
/// interleaving loom explores (`scripts/loom.sh`).
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    type Admit = (u64, u64, u64, u64, u64);

    /// What `a` then `b`, one at a time from `tat`, decide and leave as `tat`.
    fn in_order(tat: u128, a: Admit, b: Admit) -> (RateDecision, RateDecision, u128) {
        let one = |tat: u128, (now, n, p, burst, timeout): Admit| step_wide(tat, now, Quota::new(n, p, burst), timeout);
        let (da, tat) = one(tat, a);
        let (db, tat) = one(tat, b);
        (da, db, tat)
    }

    /// Two calls race, one of which moves the state into `wide`: the
    /// outcome is that of one of the two orders, never a mix. The widening
    /// call's `τ` overflows 64 bits and its new `tat` depends on the one it
    /// saw, so a lost update shows (the review's first model did not).
    #[test]
    fn loom_a_narrow_and_a_widening_call_are_decided_in_some_order() {
        let max = (1u64 << 53) - 1;
        let narrow: Admit = (1, 2, 1000, 1, 5000);
        let widening: Admit = (1, 2, max, max, max);
        let (n_first, w_second, tat1) = in_order(1000, narrow, widening);
        let (w_first, n_second, tat2) = in_order(1000, widening, narrow);
        assert_ne!(tat1, tat2);
        loom::model(move || {
            let r = Arc::new(RateLimiter::new());
            r.admit(0, 2, 1000, 1, 0); // tat = 1000: the narrow call must wait
            let other = {
                let r = r.clone();
                thread::spawn(move || {
                    let (now, n, p, b, t) = widening;
                    r.admit(now, n, p, b, t)
                })
            };
            let (now, n, p, b, t) = narrow;
            let mine = r.admit(now, n, p, b, t);
            let theirs = other.join().unwrap();
            let got = (mine, theirs, r.tat());
            assert!(got == (n_first, w_second, tat1) || got == (n_second, w_first, tat2), "a mixed outcome: {got:?}");
        });
    }

    /// A restart racing with a call: the call is decided on the `tat` from
    /// before or after the restart, and a restart that comes last leaves 0.
    #[test]
    fn loom_a_restart_and_a_call_are_decided_in_some_order() {
        loom::model(|| {
            let r = Arc::new(RateLimiter::new());
            r.admit(0, 2, 1000, 1, 0); // tat = 1000
            let restarter = {
                let r = r.clone();
                thread::spawn(move || r.restart())
            };
            let mine = r.admit(0, 2, 1000, 1, 5000);
            restarter.join().unwrap();
            let got = (mine, r.tat());
            // Call then restart: waits 500 (tat 2000), then 0. Restart then
            // call: admitted now on tat 0, tat 1000.
            assert!(got == (RateDecision::Wait(500), 0) || got == (RateDecision::Now, 1000), "{got:?}");
        });
    }

    /// A call that read the state in `wide` while a restart brings it back
    /// to narrow decides on the restarted state without moving it into
    /// `wide` again (found by the review: every later call took the lock
    /// until the next reconfiguration).
    #[test]
    fn loom_a_restart_is_not_undone_by_a_call_that_saw_the_wide_state() {
        let max = (1u64 << 53) - 1;
        loom::model(move || {
            let r = Arc::new(RateLimiter::new());
            r.admit(max, max, max, 1, 0); // the state is in `wide`
            let restarter = {
                let r = r.clone();
                thread::spawn(move || r.restart())
            };
            let mine = r.admit(0, 2, 1000, 1, 0);
            restarter.join().unwrap();
            if mine == RateDecision::Now {
                // Decided after the restart, on `tat` 0.
                assert!(!r.is_wide(), "in `wide` again after a restart");
                assert_eq!(r.tat(), 1000);
            } else {
                // Decided before it, in `wide`; the restart came last.
                assert_eq!(r.tat(), 0);
            }
        });
    }

    /// A call at t = 10 racing a change of `N` from `old_n` to 1 (P 1000,
    /// B 1) and the restart that follows it: it decides either with the
    /// old quota before the restart (which wipes it: `tat` 0) or with the
    /// new one after it (`tat` 10 × 1 + 1000), never with the old one
    /// after it.
    fn a_call_racing_a_quota_change(old_n: u64) {
        use loom::sync::atomic::AtomicU64;
        loom::model(move || {
            let r = Arc::new(RateLimiter::new());
            let n = Arc::new(AtomicU64::new(old_n));
            let reconfigure = {
                let (r, n) = (r.clone(), n.clone());
                thread::spawn(move || {
                    n.store(1, Ordering::Relaxed);
                    r.restart();
                })
            };
            let mine = r.admit_with(10, || (n.load(Ordering::Relaxed), 1000, 1, 0));
            reconfigure.join().unwrap();
            assert_eq!(mine, RateDecision::Now);
            let tat = r.tat();
            assert!(tat == 0 || tat == 1010, "tat {tat}");
        });
    }

    /// (Found by a review: keys read before the state let a call write the
    /// old quota over the restart; the model fails without the epoch too.)
    #[test]
    fn loom_a_call_never_writes_the_old_quota_over_a_restart() {
        a_call_racing_a_quota_change(1000);
    }

    /// The same race when the old quota overflows 64 bits, so the call
    /// takes the locked path (from the second review: reading the keys
    /// before the lock, or a restart without it, went unnoticed).
    #[test]
    fn loom_a_widening_call_never_writes_the_old_quota_over_a_restart() {
        a_call_racing_a_quota_change((1 << 53) - 1);
    }
}
