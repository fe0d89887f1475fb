//! Latency percentiles over a rolling window (Hystrix default: 60 s in 6
//! buckets), kept as fixed-size log-linear histograms of atomics: recording
//! never allocates or locks and costs one atomic add. Values below 64 ms are
//! exact; above, each power of two is split in 8, so a reported percentile
//! (and the mean, computed from the same bins) is within 6.25 %.

use crate::ring::{Ring, Slot};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, Ordering};
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

    fn recycle(&self) {
        for b in &self.bins {
            b.store(0, Ordering::Relaxed);
        }
    }
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

/// A rolling window of latency histograms. Its buckets (about 6.5 KiB) are
/// allocated when the first latency is recorded, once for the command's
/// life: a command that is created and never called, or whose calls never
/// take a path, costs a few bytes here.
pub(crate) struct LatencyWindow {
    ring: OnceLock<Ring<Histogram>>,
}

impl LatencyWindow {
    /// The Hystrix-default window: 60 s in 6 buckets.
    pub(crate) fn new() -> LatencyWindow {
        LatencyWindow { ring: OnceLock::new() }
    }

    /// Records one latency observed at `now`.
    #[inline]
    pub(crate) fn record(&self, now: u64, latency_ms: u64) {
        let ring = self.ring.get_or_init(|| Ring::new(PERCENTILE_WINDOW_MS / PERCENTILE_BUCKETS, PERCENTILE_BUCKETS));
        ring.at(now, |_| {}).bins[bin_of(latency_ms)].fetch_add(1, Ordering::Relaxed);
    }

    /// The histograms inside the window at `now` (none before the first
    /// recording).
    fn live(&self, now: u64) -> impl Iterator<Item = &Histogram> {
        self.ring.get().into_iter().flat_map(move |r| r.live(now))
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
}
