//! Latency percentiles over a rolling window (Hystrix default: 60 s in 6
//! buckets), kept as fixed-size log-linear histograms of atomics: recording
//! never allocates or locks and costs one atomic add. Values below 64 ms are
//! exact; above, each power of two is split in 8, so a reported percentile
//! (and the mean, computed from the same bins) is within 6.25 %.

use crate::ring::{Ring, Slot};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

/// Length of the percentile window (Hystrix `metrics.rollingPercentile`).
pub const PERCENTILE_WINDOW_MS: u64 = 60_000;
/// Buckets in the percentile window.
pub const PERCENTILE_BUCKETS: u64 = 6;

const EXACT: u64 = 64;
const SUB_BITS: u32 = 3;
const BINS: usize = EXACT as usize + (32 - 6) * (1 << SUB_BITS);

fn bin_of(ms: u64) -> usize {
    if ms < EXACT {
        return ms as usize;
    }
    let ms = ms.min(u64::from(u32::MAX));
    let octave = 63 - ms.leading_zeros();
    let sub = (ms >> (octave - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    EXACT as usize + (octave as usize - 6) * (1 << SUB_BITS) + sub as usize
}

/// The value reported for a bin: exact below 64, else the bin's middle.
fn value_of(bin: usize) -> u64 {
    if (bin as u64) < EXACT {
        return bin as u64;
    }
    let k = bin - EXACT as usize;
    let octave = 6 + (k >> SUB_BITS) as u32;
    let sub = (k & ((1 << SUB_BITS) - 1)) as u64;
    let width = 1u64 << (octave - SUB_BITS);
    ((1 << SUB_BITS) + sub) * width + width / 2
}

/// One histogram bucket.
pub(crate) struct Histogram {
    bins: [AtomicU32; BINS],
}

impl Slot for Histogram {
    fn empty() -> Histogram {
        Histogram { bins: std::array::from_fn(|_| AtomicU32::new(0)) }
    }

    /// Nothing to do: [`LatencyWindow`]'s `retire` has *taken* every bin
    /// (swapped it with zero) into the cumulative histogram, so a sample a
    /// writer still holding the slot adds lands in the new bucket, never
    /// lost to the cumulative counts.
    fn recycle(&self) {}
}

/// Latency percentiles in milliseconds, as in Hystrix's metrics stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Number of samples in the window.
    pub count: u64,
    /// Arithmetic mean (from the histogram bins).
    pub mean: f64,
    /// Minimum.
    pub p0: u64,
    /// 25th percentile.
    pub p25: u64,
    /// Median.
    pub p50: u64,
    /// 75th percentile.
    pub p75: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.5th percentile.
    pub p99_5: u64,
    /// Maximum.
    pub p100: u64,
}

/// Upper bounds (inclusive, in milliseconds) of the buckets of
/// [`LatencyHistogram`], the last bucket (`+Inf`) not included: the old
/// resilience4j-prometheus defaults, 5 ms to 10 s.
pub const HISTOGRAM_BOUNDS_MS: [u64; 14] = [5, 10, 25, 50, 75, 100, 250, 500, 750, 1_000, 2_500, 5_000, 7_500, 10_000];

/// A cumulative latency histogram: every sample since the command was
/// created, in the fixed buckets [`HISTOGRAM_BOUNDS_MS`] (plus `+Inf`),
/// as Prometheus wants one.
///
/// Derived from the same log-linear bins as the percentiles, folded into a
/// running total as the rolling buckets are recycled, so recording a
/// latency costs nothing more than before. Below 64 ms a sample is counted
/// exactly (`le` 5, 10, 25 and 50 ms are exact); above, a sample is placed by
/// its bin's middle value, so a sample within 6.25 % of a bound may fall on
/// either side of it. `sum_ms` adds the samples' bin values likewise (exact
/// below 64 ms).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Samples at or below each bound of [`HISTOGRAM_BOUNDS_MS`]
    /// (cumulative: each count includes the ones before it).
    pub cumulative_counts: [u64; HISTOGRAM_BOUNDS_MS.len()],
    /// Every sample (the `+Inf` bucket).
    pub count: u64,
    /// Sum of the samples, in milliseconds.
    pub sum_ms: u64,
}

/// Fixed buckets: one per bound, then `+Inf`.
const FIXED: usize = HISTOGRAM_BOUNDS_MS.len() + 1;

/// The fixed bucket of a (bin) value: the first bound at or above it.
fn fixed_of(v: u64) -> usize {
    HISTOGRAM_BOUNDS_MS.iter().position(|&b| v <= b).unwrap_or(HISTOGRAM_BOUNDS_MS.len())
}

/// A rolling window of latency histograms. Its buckets (about 6.5 KiB) are
/// allocated when the first latency is recorded, once for the command's
/// life: a command that is created and never called, or whose calls never
/// take a path, costs a few bytes here.
pub(crate) struct LatencyWindow {
    ring: OnceLock<Rolling>,
}

/// The ring and what its recycled buckets held: every sample ever recorded
/// is in exactly one of them (the cumulative histogram, for Prometheus).
struct Rolling {
    ring: Ring<Histogram>,
    /// Boxed apart from the ring (allocated with it, at the first sample):
    /// only a recycle or a cumulative read touches it, and an idle
    /// command's three latency windows then take a few words each.
    tally: Box<Tally>,
}

/// What recycled buckets held.
struct Tally {
    /// Samples of recycled buckets per fixed bucket (not cumulative; the
    /// last is `+Inf`), and their sum in milliseconds.
    retired: [AtomicU64; FIXED],
    retired_sum_ms: AtomicU64,
    /// Recycles begun and finished: a count moving from a slot to `retired`
    /// is in neither for a moment, so [`LatencyWindow::cumulative`]
    /// reads again while one is under way (one recycle per bucket length,
    /// 10 s: never on a call's hot path otherwise).
    retires_begun: AtomicU64,
    retires_done: AtomicU64,
}

impl Rolling {
    fn new() -> Rolling {
        Rolling {
            ring: Ring::new(PERCENTILE_WINDOW_MS / PERCENTILE_BUCKETS, PERCENTILE_BUCKETS),
            tally: Box::new(Tally {
                retired: Default::default(),
                retired_sum_ms: AtomicU64::new(0),
                retires_begun: AtomicU64::new(0),
                retires_done: AtomicU64::new(0),
            }),
        }
    }

    /// Takes a recycled bucket's bins into `retired` (only the bins that
    /// hold something: a bin read as zero that a writer fills meanwhile
    /// simply keeps its sample for the new bucket).
    #[cold]
    fn retire(&self, old: &Histogram) {
        self.tally.retires_begun.fetch_add(1, Ordering::SeqCst);
        for (i, b) in old.bins.iter().enumerate() {
            if b.load(Ordering::Relaxed) != 0 {
                let n = u64::from(b.swap(0, Ordering::SeqCst));
                let v = value_of(i);
                self.tally.retired[fixed_of(v)].fetch_add(n, Ordering::SeqCst);
                self.tally.retired_sum_ms.fetch_add(v.saturating_mul(n), Ordering::SeqCst);
            }
        }
        self.tally.retires_done.fetch_add(1, Ordering::SeqCst);
    }
}

impl LatencyWindow {
    /// The Hystrix-default window: 60 s in 6 buckets.
    pub(crate) fn new() -> LatencyWindow {
        LatencyWindow { ring: OnceLock::new() }
    }

    /// Records one latency observed at `now`.
    #[inline]
    pub(crate) fn record(&self, now: u64, latency_ms: u64) {
        let rolling = self.ring.get_or_init(Rolling::new);
        rolling.ring.at(now, |old| rolling.retire(old)).bins[bin_of(latency_ms)].fetch_add(1, Ordering::Relaxed);
    }

    /// The histograms inside the window at `now` (none before the first
    /// recording).
    fn live(&self, now: u64) -> impl Iterator<Item = &Histogram> {
        self.ring.get().into_iter().flat_map(move |r| r.ring.live(now))
    }

    /// Adds every sample ever recorded here to `acc` (per fixed bucket)
    /// and `sum_ms` (for the cumulative histogram; reads only, never
    /// recycles).
    fn add_cumulative(&self, acc: &mut [u64; FIXED], sum_ms: &mut u64) {
        let Some(r) = self.ring.get() else { return };
        loop {
            let done = r.tally.retires_done.load(Ordering::SeqCst);
            if r.tally.retires_begun.load(Ordering::SeqCst) != done {
                std::hint::spin_loop();
                continue;
            }
            let mut fixed: [u64; FIXED] = std::array::from_fn(|i| r.tally.retired[i].load(Ordering::SeqCst));
            let mut sum = r.tally.retired_sum_ms.load(Ordering::SeqCst);
            for h in r.ring.every() {
                for (i, b) in h.bins.iter().enumerate() {
                    let n = u64::from(b.load(Ordering::Relaxed));
                    if n != 0 {
                        let v = value_of(i);
                        fixed[fixed_of(v)] += n;
                        sum = sum.saturating_add(v.saturating_mul(n));
                    }
                }
            }
            if r.tally.retires_begun.load(Ordering::SeqCst) == done {
                for (a, f) in acc.iter_mut().zip(fixed) {
                    *a += f;
                }
                *sum_ms = sum_ms.saturating_add(sum);
                return;
            }
        }
    }

    /// The cumulative histogram (every sample since creation) of this
    /// window and `other` together.
    pub(crate) fn cumulative(&self, other: &LatencyWindow) -> LatencyHistogram {
        let (mut fixed, mut sum_ms) = ([0u64; FIXED], 0);
        self.add_cumulative(&mut fixed, &mut sum_ms);
        other.add_cumulative(&mut fixed, &mut sum_ms);
        let mut h = LatencyHistogram { sum_ms, ..LatencyHistogram::default() };
        let mut running = 0;
        for (c, f) in h.cumulative_counts.iter_mut().zip(fixed) {
            running += f;
            *c = running;
        }
        h.count = fixed.iter().sum();
        h
    }

    /// Percentiles over this window and `other` together at `now`.
    pub(crate) fn percentiles(&self, other: &LatencyWindow, now: u64) -> Percentiles {
        let mut bins = [0u64; BINS];
        for h in self.live(now).chain(other.live(now)) {
            for (acc, b) in bins.iter_mut().zip(&h.bins) {
                *acc += u64::from(b.load(Ordering::Relaxed));
            }
        }
        let count: u64 = bins.iter().sum();
        if count == 0 {
            return Percentiles::default();
        }
        let sum: u64 = bins.iter().enumerate().map(|(i, n)| value_of(i) * n).sum();
        let at = |p: f64| -> u64 {
            let rank = ((p / 100.0) * count as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, n) in bins.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return value_of(i);
                }
            }
            value_of(BINS - 1)
        };
        Percentiles {
            count,
            mean: sum as f64 / count as f64,
            p0: at(0.0),
            p25: at(25.0),
            p50: at(50.0),
            p75: at(75.0),
            p90: at(90.0),
            p95: at(95.0),
            p99: at(99.0),
            p99_5: at(99.5),
            p100: at(100.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_monotonic_and_close() {
        let mut last = 0;
        for v in [0u64, 1, 63, 64, 65, 100, 1000, 12345, 1 << 20, u64::from(u32::MAX)] {
            let b = bin_of(v);
            assert!(b >= last && b < BINS, "{v}");
            last = b;
            let back = value_of(b) as f64;
            assert!((back - v as f64).abs() <= (v as f64) * 0.0625 + 0.5, "{v} -> {back}");
        }
    }

    #[test]
    fn percentiles_of_one_to_hundred() {
        let w = LatencyWindow::new();
        for v in 1..=60 {
            w.record(0, v);
        }
        let none = LatencyWindow::new();
        let p = w.percentiles(&none, 0);
        assert_eq!(p.count, 60);
        assert_eq!(p.p0, 1);
        assert_eq!(p.p50, 30);
        assert_eq!(p.p100, 60);
        assert_eq!(p.p90, 54);
        assert!((p.mean - 30.5).abs() < 1e-9);
        // After the 60 s window everything has expired.
        assert_eq!(w.percentiles(&none, 60_000).count, 0);
        assert_eq!(w.percentiles(&none, 59_999).count, 60);
        none.record(59_999, 1000);
        let both = w.percentiles(&none, 59_999);
        assert_eq!((both.count, both.p0), (61, 1));
        assert!((both.p100 as i64 - 1000).abs() <= 63, "{}", both.p100);
    }

    /// Recycled buckets fold into the cumulative histogram: nothing is lost
    /// as the rolling window moves on, and the buckets are cumulative.
    #[test]
    fn the_cumulative_histogram_keeps_every_sample() {
        let w = LatencyWindow::new();
        let other = LatencyWindow::new();
        let mut expected_sum = 0;
        for i in 0..1_000u64 {
            let v = i % 60;
            // 1000 samples spread over 10 minutes: every bucket recycled many times.
            w.record(i * 600, v);
            expected_sum += v;
        }
        other.record(0, 20_000);
        let h = w.cumulative(&other);
        assert_eq!(h.count, 1_001);
        assert_eq!(h.sum_ms, expected_sum + value_of(bin_of(20_000)));
        assert!(h.cumulative_counts.windows(2).all(|p| p[0] <= p[1]), "{h:?}");
        assert_eq!(h.cumulative_counts[0], (0..1_000u64).filter(|i| i % 60 <= 5).count() as u64);
        assert_eq!(*h.cumulative_counts.last().unwrap(), 1_000, "20 s is above the last bound");
        // The rolling window only sees the last minute.
        assert!(w.percentiles(&other, 599_400).count < 1_000);
    }
}
