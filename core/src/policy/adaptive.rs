//! The adaptive concurrency limit: sample windows, AIMD and Gradient2
//! (SPEC §15).
#![allow(dead_code)]

use crate::config::LimitMode;

/// The limiter's parameters: `concurrency_limit_mode` and the `adaptive_*`,
/// `aimd_*` and `gradient2_*` keys (SPEC §8). The default is SPEC §8's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdaptiveParams {
    /// `concurrency_limit_mode`.
    pub mode: LimitMode,
    /// `adaptive_initial_limit`: the limit at start and restart.
    pub initial: u64,
    /// `adaptive_min_limit`: the lowest limit.
    pub min: u64,
    /// `adaptive_max_limit`: the highest limit.
    pub max: u64,
    /// `adaptive_window_ms`: the shortest sample window.
    pub window_ms: u64,
    /// `adaptive_window_min_samples`: the fewest samples in a window.
    pub window_min_samples: u64,
    /// `adaptive_drop_on_failure`: whether a `FAILURE` gives a drop sample;
    /// read by the caller, which decides what sample an outcome gives.
    pub drop_on_failure: bool,
    /// `aimd_backoff_permille`: the cut on a drop, in thousandths (both modes).
    pub backoff_permille: u64,
    /// `aimd_timeout_ms`: an AIMD window averaging more than this is a drop.
    pub aimd_timeout_ms: u64,
    /// `gradient2_smoothing_permille`.
    pub smoothing_permille: u64,
    /// `gradient2_queue_size`.
    pub queue_size: u64,
    /// `gradient2_long_window`, in samples.
    pub long_window: u64,
    /// `gradient2_rtt_tolerance_permille`.
    pub rtt_tolerance_permille: u64,
}

impl Default for AdaptiveParams {
    fn default() -> Self {
        AdaptiveParams {
            mode: LimitMode::Fixed,
            initial: 20,
            min: 20,
            max: 200,
            window_ms: 1000,
            window_min_samples: 10,
            drop_on_failure: false,
            backoff_permille: 900,
            aimd_timeout_ms: 5000,
            smoothing_permille: 200,
            queue_size: 4,
            long_window: 600,
            rtt_tolerance_permille: 1500,
        }
    }
}

/// An open sample window (SPEC §15.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    /// Time of its first sample.
    opened: u64,
    /// Samples in it.
    count: u64,
    /// Sum of their RTTs, exact.
    rtt_sum: u128,
    /// Highest inflight among them.
    max_inflight: u64,
    /// Whether any of them was a drop.
    dropped: bool,
}

/// The adaptive limiter: AIMD's integer `limit` or Gradient2's double
/// `estimate`, updated once per closed sample window.
///
/// The mode is the one given at [`AdaptiveLimiter::new`] or the latest
/// [`AdaptiveLimiter::restart`]; a change of any parameter restarts the
/// limiter (SPEC §8.2), so the parameters passed to
/// [`AdaptiveLimiter::sample`] are those it was restarted with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AdaptiveLimiter {
    mode: LimitMode,
    /// AIMD's limit (and the initial limit in the other modes).
    limit: u64,
    /// Gradient2's limit before flooring.
    estimate: f64,
    long_rtt: f64,
    long_sum: f64,
    long_count: u64,
    window: Option<Window>,
}

impl AdaptiveLimiter {
    /// A started limiter (SPEC §15.5).
    pub(crate) fn new(p: &AdaptiveParams) -> Self {
        AdaptiveLimiter {
            mode: p.mode,
            limit: p.initial,
            estimate: p.initial as f64,
            long_rtt: 0.0,
            long_sum: 0.0,
            long_count: 0,
            window: None,
        }
    }

    /// Restarts the limiter with `p` (SPEC §15.5): `limit` and `estimate`
    /// equal to the initial limit, no open window, no RTT history.
    pub(crate) fn restart(&mut self, p: &AdaptiveParams) {
        *self = Self::new(p);
    }

    /// The limit (SPEC §15.1): AIMD's integer limit, or the floor of
    /// Gradient2's estimate. In mode [`LimitMode::Fixed`] the caller uses
    /// `max_concurrent_requests` instead, and this returns the initial limit,
    /// which nothing updates.
    pub(crate) fn limit(&self) -> u64 {
        match self.mode {
            LimitMode::Gradient2 => self.estimate.floor() as u64,
            LimitMode::Fixed | LimitMode::Aimd => self.limit,
        }
    }

    /// Gradient2's estimate before flooring (the initial limit, as a double,
    /// in the other modes).
    pub(crate) fn estimate(&self) -> f64 {
        self.estimate
    }

    /// Gives the limiter one sample (SPEC §15.2): an attempt's outcome at
    /// `now` with its `rtt`, the `inflight` right after it took its permit,
    /// and whether it is a `dropped` sample. Closes the window and updates
    /// the limit (§15.3 or §15.4) when the window is due; does nothing in
    /// mode [`LimitMode::Fixed`].
    pub(crate) fn sample(&mut self, now: u64, rtt: u64, inflight: u64, dropped: bool, p: &AdaptiveParams) {
        if self.mode == LimitMode::Fixed {
            return;
        }
        let w =
            self.window.get_or_insert(Window { opened: now, count: 0, rtt_sum: 0, max_inflight: 0, dropped: false });
        w.count += 1;
        w.rtt_sum += u128::from(rtt);
        w.max_inflight = w.max_inflight.max(inflight);
        w.dropped |= dropped;
        let due = u128::from(now) >= u128::from(w.opened) + u128::from(p.window_ms);
        if !due || w.count < p.window_min_samples {
            return;
        }
        let w = *w;
        self.window = None;
        // The average of u64 RTTs fits in u64.
        let avg = (w.rtt_sum / u128::from(w.count)) as u64;
        match self.mode {
            LimitMode::Aimd => self.update_aimd(avg, w.max_inflight, w.dropped, p),
            LimitMode::Gradient2 => self.update_gradient2(avg, w.max_inflight, w.dropped, p),
            LimitMode::Fixed => {}
        }
    }

    /// SPEC §15.3, on integers.
    fn update_aimd(&mut self, avg: u64, max_inflight: u64, dropped: bool, p: &AdaptiveParams) {
        let mut limit = self.limit;
        if dropped || avg > p.aimd_timeout_ms {
            let cut = u128::from(limit) * u128::from(p.backoff_permille) / 1000;
            limit = u64::try_from(cut).unwrap_or(u64::MAX);
        } else if u128::from(max_inflight) * 2 >= u128::from(limit) {
            limit = limit.saturating_add(1);
        }
        self.limit = limit.max(p.min).min(p.max);
    }

    /// SPEC §15.4 steps 1–11, one binary64 operation per statement, in the
    /// order written (Rust never contracts these into fused multiply-adds).
    fn update_gradient2(&mut self, avg: u64, max_inflight: u64, dropped: bool, p: &AdaptiveParams) {
        let lo = p.min as f64;
        let hi = p.max as f64;
        let backoff = p.backoff_permille as f64 / 1000.0;
        let tolerance = p.rtt_tolerance_permille as f64 / 1000.0;
        let smoothing = p.smoothing_permille as f64 / 1000.0;
        let window_plus_one = p.long_window as f64 + 1.0;
        let factor = 2.0 / window_plus_one;

        // 1
        if dropped {
            let cut = self.estimate * backoff;
            self.estimate = clamp(lo, hi, cut);
            return;
        }
        // 2
        if avg == 0 {
            return;
        }
        // 3
        let short = avg as f64;
        // 4
        if self.long_count < 10 {
            self.long_count += 1;
            self.long_sum += short;
            self.long_rtt = self.long_sum / self.long_count as f64;
        } else {
            let keep = 1.0 - factor;
            let old_part = self.long_rtt * keep;
            let new_part = short * factor;
            self.long_rtt = old_part + new_part;
        }
        // 5
        let long = self.long_rtt;
        // 6
        let ratio = long / short;
        if ratio > 2.0 {
            self.long_rtt *= 0.95;
        }
        // 7
        let half = self.estimate / 2.0;
        if (max_inflight as f64) < half {
            return;
        }
        // 8
        let tolerated = tolerance * long;
        let raw_gradient = tolerated / short;
        let gradient = 0.5f64.max(1.0f64.min(raw_gradient));
        // 9
        let scaled = self.estimate * gradient;
        let new = scaled + p.queue_size as f64;
        // 10
        let keep = 1.0 - smoothing;
        let old_part = self.estimate * keep;
        let new_part = new * smoothing;
        let new = old_part + new_part;
        // 11
        self.estimate = clamp(lo, hi, new);
    }
}

/// `max(lo, min(hi, x))`.
fn clamp(lo: f64, hi: f64, x: f64) -> f64 {
    lo.max(hi.min(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aimd(min: u64, max: u64, initial: u64) -> AdaptiveParams {
        AdaptiveParams {
            mode: LimitMode::Aimd,
            initial,
            min,
            max,
            window_ms: 0,
            window_min_samples: 1,
            ..AdaptiveParams::default()
        }
    }

    fn gradient2(min: u64, max: u64, initial: u64, smoothing: u64) -> AdaptiveParams {
        AdaptiveParams {
            mode: LimitMode::Gradient2,
            initial,
            min,
            max,
            window_ms: 0,
            window_min_samples: 1,
            smoothing_permille: smoothing,
            ..AdaptiveParams::default()
        }
    }

    #[test]
    fn defaults_are_spec_section_8() {
        let d = AdaptiveParams::default();
        assert_eq!(d.mode, LimitMode::Fixed);
        assert_eq!((d.initial, d.min, d.max, d.window_ms, d.window_min_samples), (20, 20, 200, 1000, 10));
        assert!(!d.drop_on_failure);
        assert_eq!((d.backoff_permille, d.aimd_timeout_ms), (900, 5000));
        assert_eq!((d.smoothing_permille, d.queue_size, d.long_window, d.rtt_tolerance_permille), (200, 4, 600, 1500));
    }

    #[test]
    fn fixed_mode_takes_no_sample() {
        let p = AdaptiveParams { window_ms: 0, window_min_samples: 1, ..AdaptiveParams::default() };
        let mut l = AdaptiveLimiter::new(&p);
        for t in 0..100 {
            l.sample(t, 10, 1000, t % 2 == 0, &p);
        }
        assert_eq!(l.limit(), 20);
        assert_eq!(l, AdaptiveLimiter::new(&p));
    }

    #[test]
    fn window_closes_on_time_and_count_with_an_integer_average() {
        let p = AdaptiveParams { window_ms: 100, window_min_samples: 3, aimd_timeout_ms: 10, ..aimd(1, 100, 20) };
        let mut l = AdaptiveLimiter::new(&p);
        // Opens at 50; 2 samples by 150 are too few, the third at 160 closes it.
        l.sample(50, 10, 1, false, &p);
        l.sample(150, 11, 10, false, &p);
        assert_eq!(l.limit(), 20);
        l.sample(160, 10, 2, false, &p);
        // avg = 31 div 3 = 10, not > 10; max inflight 10 × 2 ≥ 20: +1.
        assert_eq!(l.limit(), 21);
        assert!(l.window.is_none());
        // Enough samples but not enough time: the window opened at 200 stays open until 300.
        for t in 200..205 {
            l.sample(t, 10, 0, false, &p);
        }
        assert_eq!(l.limit(), 21);
        l.sample(299, 10, 0, false, &p);
        assert_eq!(l.window.map(|w| w.count), Some(6));
        // At 300 it closes with avg = (60 + 12) div 7 = 10 and the window's max inflight 11.
        l.sample(300, 12, 11, false, &p);
        assert_eq!(l.limit(), 22);
        // A drop anywhere in a window marks it.
        let mut d = AdaptiveLimiter::new(&p);
        d.sample(0, 1, 100, true, &p);
        d.sample(50, 1, 100, false, &p);
        d.sample(100, 1, 100, false, &p);
        assert_eq!(d.limit(), 18);
        // An average above aimd_timeout_ms is a drop: avg 11 > 10.
        let mut s = AdaptiveLimiter::new(&p);
        for t in [0, 50, 100] {
            s.sample(t, 11, 100, false, &p);
        }
        assert_eq!(s.limit(), 18);
    }

    #[test]
    fn aimd_increases_decreases_and_clamps() {
        let p = aimd(10, 25, 20);
        let mut l = AdaptiveLimiter::new(&p);
        // Application-limited: 9 × 2 < 20, no change.
        l.sample(0, 5, 9, false, &p);
        assert_eq!(l.limit(), 20);
        l.sample(1, 5, 10, false, &p);
        assert_eq!(l.limit(), 21);
        for t in 2..20 {
            l.sample(t, 5, 100, false, &p);
        }
        assert_eq!(l.limit(), 25);
        // 25 × 900 div 1000 = 22.
        l.sample(20, 5, 100, true, &p);
        assert_eq!(l.limit(), 22);
        // 22 → 19 → 17 → 15 → 13 → 11 → 9 clamped to 10.
        for (t, want) in [(21, 19), (22, 17), (23, 15), (24, 13), (25, 11), (26, 10), (27, 10)] {
            l.sample(t, 5, 100, true, &p);
            assert_eq!(l.limit(), want);
        }
        // Timeout counts as a drop: avg 5001 > 5000.
        let mut t = AdaptiveLimiter::new(&aimd(1, 100, 50));
        t.sample(0, 5001, 100, false, &aimd(1, 100, 50));
        assert_eq!(t.limit(), 45);
        t.sample(1, 5000, 100, false, &aimd(1, 100, 50));
        assert_eq!(t.limit(), 46);
        // Restart goes back to the initial limit.
        t.restart(&aimd(1, 100, 50));
        assert_eq!(t.limit(), 50);
    }

    #[test]
    fn aimd_huge_values_do_not_overflow() {
        let max = (1u64 << 53) - 1;
        let p = AdaptiveParams { window_ms: max, window_min_samples: 1, ..aimd(1, max, max) };
        let mut l = AdaptiveLimiter::new(&p);
        l.sample(max, u64::MAX, u64::MAX, false, &p);
        l.sample(u64::MAX, u64::MAX, u64::MAX, false, &p);
        l.sample(u64::MAX, u64::MAX, u64::MAX, false, &p);
        assert!(l.limit() <= max);
        let q = AdaptiveParams { window_ms: 0, ..aimd(1, u64::MAX, u64::MAX) };
        let mut m = AdaptiveLimiter::new(&q);
        m.sample(0, 1, u64::MAX, false, &q);
        assert_eq!(m.limit(), u64::MAX);
        m.sample(0, 1, u64::MAX, true, &q);
        assert_eq!(m.limit(), (u128::from(u64::MAX) * 900 / 1000) as u64);
    }

    #[test]
    fn gradient2_hand_computed_values() {
        // Smoothing 1.0, tolerance 1.5, queue 4.
        let p = gradient2(1, 1000, 20, 1000);
        let mut l = AdaptiveLimiter::new(&p);
        // long 100, short 100: gradient min(1, 1.5) = 1; new = 20 + 4 = 24.
        l.sample(0, 100, 20, false, &p);
        assert_eq!(l.estimate(), 24.0);
        assert_eq!(l.limit(), 24);
        // long = (100 + 200) / 2 = 150; gradient min(1, 225 / 200) = 1; 28.
        l.sample(1, 200, 24, false, &p);
        assert_eq!(l.estimate(), 28.0);
        // long = 900 / 3 = 300, short 600: gradient 450 / 600 = 0.75; 28 × 0.75 + 4 = 25.
        l.sample(2, 600, 28, false, &p);
        assert_eq!(l.long_rtt, 300.0);
        assert_eq!(l.estimate(), 25.0);
        // Drop with backoff 0.9: 25 × 0.9 = 22.5 (0.9 rounds so that the
        // product rounds back to 22.5).
        l.sample(3, 600, 28, true, &p);
        assert_eq!(l.estimate(), 22.5);
        assert_eq!(l.limit(), 22);

        // Smoothing 0.5.
        let h = gradient2(1, 1000, 20, 500);
        let mut m = AdaptiveLimiter::new(&h);
        m.sample(0, 100, 20, false, &h); // 20 × 0.5 + 24 × 0.5 = 22
        assert_eq!(m.estimate(), 22.0);
        m.sample(1, 200, 24, false, &h); // 22 × 0.5 + 26 × 0.5 = 24
        assert_eq!(m.estimate(), 24.0);
        m.sample(2, 600, 28, false, &h); // 24 × 0.5 + (24 × 0.75 + 4) × 0.5 = 12 + 11 = 23
        assert_eq!(m.estimate(), 23.0);
    }

    #[test]
    fn gradient2_with_the_default_smoothing_rounds_as_ieee_says() {
        let p = gradient2(20, 200, 20, 200);
        let mut l = AdaptiveLimiter::new(&p);
        // gradient 1, new = 24; 20 × 0.8 = 16 exactly; 24 × 0.2 is an exact
        // tie between two doubles and rounds to even, 4.800000000000001;
        // 16 + that is the double nearest 20.8.
        l.sample(0, 100, 20, false, &p);
        assert_eq!(24.0f64 * 0.2, 4.800000000000001);
        assert_eq!(l.estimate(), 20.8);
        assert_eq!(l.limit(), 20);
        // long 115, short 130: gradient 1; 20.8 × 0.8 + 24.8 × 0.2 = 21.6.
        l.sample(1, 130, 20, false, &p);
        assert_eq!(l.long_rtt, 115.0);
        assert_eq!(l.estimate(), 21.6);
        // long 210, short 400: gradient 315 / 400 = 0.7875;
        // 21.6 × 0.8 + (21.6 × 0.7875 + 4) × 0.2, rounding at each step.
        l.sample(2, 400, 20, false, &p);
        assert_eq!(l.estimate(), 21.482000000000003);
        assert_eq!(l.limit(), 21);
    }

    /// The §15.4 update written out again, independently, on a plain state.
    fn reference(state: &mut (f64, f64, f64, u64), avg: u64, inflight: u64, p: &AdaptiveParams) {
        let (estimate, long_rtt, long_sum, long_count) = state;
        let short = avg as f64;
        if *long_count < 10 {
            *long_count += 1;
            *long_sum += short;
            *long_rtt = *long_sum / (*long_count as f64);
        } else {
            let f = 2.0 / (p.long_window as f64 + 1.0);
            let a = *long_rtt * (1.0 - f);
            let b = short * f;
            *long_rtt = a + b;
        }
        let long = *long_rtt;
        if long / short > 2.0 {
            *long_rtt *= 0.95;
        }
        if (inflight as f64) < *estimate / 2.0 {
            return;
        }
        let g = (p.rtt_tolerance_permille as f64 / 1000.0 * long / short).clamp(0.5, 1.0);
        let s = p.smoothing_permille as f64 / 1000.0;
        let n = *estimate * g + p.queue_size as f64;
        let a = *estimate * (1.0 - s);
        let b = n * s;
        *estimate = (a + b).clamp(p.min as f64, p.max as f64);
    }

    #[test]
    fn gradient2_warm_up_mean_then_exponential_average() {
        let p = gradient2(1, 1000, 50, 200);
        let mut l = AdaptiveLimiter::new(&p);
        let mut r = (50.0, 0.0, 0.0, 0);
        for k in 1..=10u64 {
            l.sample(k, k * 10, 100, false, &p);
            reference(&mut r, k * 10, 100, &p);
            assert_eq!(l.long_count, k);
            assert_eq!(l.estimate().to_bits(), r.0.to_bits(), "sample {k}");
        }
        // The warm-up mean of 10, 20, …, 100.
        assert_eq!(l.long_rtt, 55.0);
        assert_eq!(l.long_sum, 550.0);
        // The 11th sample: exponential average with factor 2 / 601.
        l.sample(11, 110, 100, false, &p);
        reference(&mut r, 110, 100, &p);
        assert_eq!(l.long_count, 10);
        let factor: f64 = 2.0 / 601.0;
        let expected = 55.0 * (1.0 - factor) + 110.0 * factor;
        assert_eq!(l.long_rtt.to_bits(), expected.to_bits());
        assert_eq!(l.long_rtt.to_bits(), r.1.to_bits());
        assert_eq!(l.estimate().to_bits(), r.0.to_bits());
        // 33165 / 601, correctly rounded through three roundings.
        assert_eq!(l.long_rtt, 55.18302828618969);
        // And on, against the reference, for a varied sequence.
        let mut rng = crate::policy::random::SplitMix64::new(7);
        for t in 12..500u64 {
            let x = rng.next_u64();
            let avg = 1 + x % 400;
            let inflight = (x >> 20) % 120;
            l.sample(t, avg, inflight, false, &p);
            reference(&mut r, avg, inflight, &p);
            assert_eq!(l.estimate().to_bits(), r.0.to_bits(), "sample {t}");
            assert_eq!(l.long_rtt.to_bits(), r.1.to_bits(), "sample {t}");
        }
    }

    #[test]
    fn gradient2_long_over_short_above_2_decays_long_rtt() {
        let p = gradient2(1, 1000, 20, 1000);
        let mut l = AdaptiveLimiter::new(&p);
        for t in 0..10 {
            l.sample(t, 1000, 0, false, &p);
        }
        assert_eq!(l.long_rtt, 1000.0);
        // long = 1000 × 599/601 + 10 × 2/601 ≈ 996.7 > 2 × 10: long_rtt × 0.95;
        // the gradient still uses the undecayed long (1.5 × 996.7 / 10 ≫ 1 → 1).
        l.sample(10, 10, 20, false, &p);
        let f: f64 = 2.0 / 601.0;
        let long = 1000.0 * (1.0 - f) + 10.0 * f;
        assert_eq!(l.long_rtt.to_bits(), (long * 0.95).to_bits());
        assert_eq!(l.estimate(), 24.0);
        // Warm-up too: mean 1000 then … a short of 400 with long 1000 → ratio 2.5 decays.
        let mut w = AdaptiveLimiter::new(&p);
        w.sample(0, 1000, 0, false, &p);
        w.sample(1, 100, 0, false, &p); // mean 550, 550 / 100 > 2 → 522.5
        assert_eq!(w.long_rtt, 522.5);
        assert_eq!(w.long_sum, 1100.0);
        // A ratio below 2, and exactly 2, does not decay.
        let mut e = AdaptiveLimiter::new(&p);
        e.sample(0, 200, 0, false, &p);
        e.sample(1, 100, 0, false, &p); // mean 150, ratio 1.5
        assert_eq!(e.long_rtt, 150.0);
        let mut x = AdaptiveLimiter::new(&p);
        x.sample(0, 300, 0, false, &p);
        x.sample(1, 100, 0, false, &p); // mean 200, ratio exactly 2: no decay
        assert_eq!(x.long_rtt, 200.0);
    }

    #[test]
    fn gradient2_application_limited_keeps_the_estimate() {
        let p = gradient2(1, 1000, 40, 1000);
        let mut l = AdaptiveLimiter::new(&p);
        // 19 < 40 / 2: stop after updating long_rtt.
        l.sample(0, 100, 19, false, &p);
        assert_eq!(l.estimate(), 40.0);
        assert_eq!(l.long_rtt, 100.0);
        assert_eq!(l.long_count, 1);
        // 20 is not below 20: updates.
        l.sample(1, 100, 20, false, &p);
        assert_eq!(l.estimate(), 44.0);
        // avg 0: nothing changes at all.
        let before = l.clone();
        l.sample(2, 0, 1000, false, &p);
        assert_eq!(l, before);
    }

    #[test]
    fn gradient2_drop_cuts_and_everything_clamps() {
        let p = AdaptiveParams { backoff_permille: 500, ..gradient2(10, 30, 28, 1000) };
        let mut l = AdaptiveLimiter::new(&p);
        l.sample(0, 100, 100, true, &p);
        assert_eq!(l.estimate(), 14.0);
        // A drop changes no RTT state.
        assert_eq!((l.long_count, l.long_rtt, l.long_sum), (0, 0.0, 0.0));
        l.sample(1, 100, 100, true, &p);
        assert_eq!(l.estimate(), 10.0);
        l.sample(2, 100, 100, true, &p);
        assert_eq!(l.estimate(), 10.0);
        // Growth: 10 + 4, 14 + 4, …, capped at 30.
        for (t, want) in [(3, 14.0), (4, 18.0), (5, 22.0), (6, 26.0), (7, 30.0), (8, 30.0)] {
            l.sample(t, 100, 100, false, &p);
            assert_eq!(l.estimate(), want);
        }
        assert_eq!(l.limit(), 30);
        // The gradient floor 0.5: long 100 → a short of 10000 gives 1.5 × long / short < 0.5.
        let q = gradient2(1, 1000, 100, 1000);
        let mut g = AdaptiveLimiter::new(&q);
        g.sample(0, 100, 100, false, &q);
        assert_eq!(g.estimate(), 104.0);
        g.sample(1, 10_000, 100, false, &q);
        // long = 5050; 1.5 × 5050 / 10000 = 0.7575; 104 × 0.7575 + 4.
        assert_eq!(g.estimate().to_bits(), (104.0 * (1.5 * 5050.0 / 10_000.0) + 4.0f64).to_bits());
        let mut z = AdaptiveLimiter::new(&q);
        for t in 0..10 {
            z.sample(t, 1, 1000, false, &q);
        }
        let before = z.estimate();
        z.sample(10, 1_000_000, 1000, false, &q);
        // long ≈ 3328.8, 1.5 × long / short ≈ 0.005 → 0.5.
        assert_eq!(z.estimate(), before * 0.5 + 4.0);
        // Restart.
        z.restart(&q);
        assert_eq!((z.estimate(), z.long_count, z.long_rtt, z.long_sum), (100.0, 0, 0.0, 0.0));
        assert!(z.window.is_none());
    }
}
