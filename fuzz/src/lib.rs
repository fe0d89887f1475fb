//! What the fuzz targets share: a byte reader that never runs out (an
//! exhausted input reads as zeros, so every input decodes to something),
//! the decoder of a random valid configuration with small numbers, and the
//! checks themselves, so that each target in `fuzz_targets/` is one line and
//! the corpus can be replayed by an ordinary test (`tests/replay.rs`).

pub mod c_api;
pub mod config_json;
pub mod protocol;

use hystrix_core::config::MAX_SETTING;
use hystrix_core::Config;

/// Reads a fuzzer's bytes front to back; past the end every read is 0.
pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data, pos: 0 }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next byte, 0 past the end.
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number in `0..n` (`n` from 1 to 256), from one byte.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!((1..=256).contains(&n));
        u64::from(self.u8()) % n
    }

    /// A number in `lo..=hi` (at most 256 values), from one byte.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// `true` with probability `1 / n`; exhausted input reads `false` for
    /// `n > 1`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == n - 1
    }

    /// A fair bit.
    pub fn bit(&mut self) -> bool {
        self.u8() & 1 == 1
    }
}

/// A valid configuration with small numbers, so a short sequence of calls
/// reaches every state: a bulkhead of 1–4, timeouts and sleep windows of a
/// few dozen ms, windows of 1–5 buckets. One input in 32 takes the largest
/// setting for the time-valued keys instead (overflow at the bounds).
/// Always reads 16 bytes: whether huge, then one per setting in SPEC order
/// (the window's bucket count before its length); exhausted input decodes
/// to a plain working configuration.
pub fn small_config(b: &mut Bytes<'_>) -> Config {
    let huge = b.one_in(32);
    let timeout_enabled = !b.one_in(6);
    let timeout_ms = b.range(1, 50);
    let max_concurrent_requests = b.range(1, 4);
    let fallback_enabled = !b.one_in(6);
    let fallback_max_concurrent_requests = b.range(1, 3);
    let circuit_breaker_enabled = !b.one_in(8);
    let request_volume_threshold = b.below(6);
    let error_threshold_percentage = [0, 1, 25, 50, 51, 99, 100, 33][b.below(8) as usize];
    let sleep_window_ms = b.range(1, 60);
    let half_open_max_calls = b.range(1, 3);
    let force_open = b.one_in(12);
    let force_closed = b.one_in(12);
    let buckets = b.range(1, 5);
    let bucket_ms = b.range(1, 30);
    let health_snapshot_interval_ms = [0, 0, 1, 5, 10, 25][b.below(6) as usize];
    let config = Config {
        timeout_enabled,
        timeout_ms: if huge { MAX_SETTING } else { timeout_ms },
        max_concurrent_requests,
        fallback_enabled,
        fallback_max_concurrent_requests,
        circuit_breaker_enabled,
        request_volume_threshold,
        error_threshold_percentage,
        sleep_window_ms: if huge { MAX_SETTING } else { sleep_window_ms },
        half_open_max_calls,
        force_open,
        force_closed,
        rolling_window_ms: buckets * if huge { MAX_SETTING / 5 } else { bucket_ms },
        rolling_window_buckets: buckets,
        health_snapshot_interval_ms: if huge { MAX_SETTING } else { health_snapshot_interval_ms },
        // The call_protocol model is of a v1 call: every v2 key at its
        // default (the v2 strategies are checked by the conformance vectors
        // and the core's property tests).
        ..Config::default()
    };
    config.validate().expect("the decoder makes valid configurations");
    config
}
