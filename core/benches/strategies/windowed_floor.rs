//! `spec_floor_windowed`: the least work SPEC v2 asks of the retried call
//! (3 attempts, the first two fail, 0 ms backoff, jitter `"none"`) once the
//! command's own state is counted, not only the call's atomics. Written
//! from SPEC §4, §5, §9 and §11 with plain atomics and no hystrix types; a
//! lower bound, not a library (one thread at a time is enough for it: the
//! bucket reset below is not made safe against a concurrent writer).
//!
//! What one call does here, and which rule asks for it:
//! - at its start (§9.6), the per-call keys read once: `retry_max_attempts`,
//!   `retry_on_timeout`, `retry_on_rejected`, the three backoff keys,
//!   `retry_jitter`, `deadline_ms`, `hedge_max_attempts` (nine loads of
//!   §9.6's eleven: `hedge_delay_ms` and `hedge_on_failure` matter only
//!   once hedging is on, so they are not read), and the deadline `D`
//!   (§9.5) when `deadline_ms` > 0;
//! - per attempt, the call's own bookkeeping (§9.2, §9.3, §11.3): the
//!   attempt number `k`, which attempt is outstanding, the event appended
//!   to the call's own list;
//! - per attempt, the circuit's admission (§3.1 via §9.2): the breaker
//!   flags and the state read live, and in state `closed` the trip rule on
//!   the health snapshot (§5): its time compared with
//!   `health_snapshot_interval_ms` (recomputed from the window's buckets
//!   when due), then `total ≥ request_volume_threshold` and the error
//!   percentage against `error_threshold_percentage`;
//! - per attempt, the bulkhead (§3.2, §9.2): the limit read live, a permit
//!   taken by compare-and-swap and given back at the outcome (§9.3 step 2);
//! - per attempt, its timeout (§9.2): `timeout_ms` read live, cut to
//!   `D − s`, armed in the host's timer array before the run and cleared
//!   at the outcome;
//! - per attempt outcome (§9.3 steps 1, 3, 4): the event counted in the
//!   rolling window's bucket number `floor(t / b)` (§4) — found through a
//!   remembered bucket whose time span holds `t`, else by the division and
//!   a reset of the slot when it held a bucket older than the window; the
//!   probe decision (none: the attempt was admitted `closed`); the trip
//!   rule again (the cached snapshot's time and the gate); the budget key
//!   and the limiter mode read live (both off: no deposit, no sample);
//! - per retry (§11.3): retryable and `k < retry_max_attempts`, the cap of
//!   retry `k` by §11.1's recurrence (0 here), the deadline check, `RETRY`
//!   counted in the window's bucket and the call's list, the backoff timer
//!   armed (due at once) and fired.
//!
//! Left out: everything the SPEC does not ask of this call. The latency
//! histogram, the rolling maximum of concurrency, cumulative counts and
//! listeners (the project's own, not the SPEC's: §6's closing note); the
//! fallback (never reached); jitter draws (jitter `"none"` draws nothing,
//! §10); the rate limiter (not even read: a call's first stage, off here),
//! and the budget, hedging and adaptive limit stages beyond reading whether
//! they are on; the `TIMEOUT` and `SEMAPHORE_REJECTED` counts, which §5's
//! health also sums (a bucket here counts the three events this call
//! records); the trip at a total of 0 with thresholds of 0 (the rule
//! below guards `total > 0`: never reached here, the snapshot's total is
//! positive); safety of the window against concurrent writers and of
//! settings changed mid-call (a real command needs both). So it is, if
//! anything, a little cheaper than the SPEC's least work.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The event types this call records, as indexes into a bucket's counts.
const SUCCESS: usize = 0;
const FAILURE: usize = 1;
const RETRY: usize = 2;
/// A snapshot time meaning "never computed".
const NEVER: u64 = u64::MAX;
/// Buckets in the window (`rolling_window_buckets`, default 10).
const BUCKETS: usize = 10;

/// One bucket of the rolling window: its number (`floor(t / b)`) and a
/// count per event type.
struct Bucket {
    number: AtomicU64,
    counts: [AtomicU64; 3],
}

/// The live settings (read at the moment of use, SPEC §9.6's last line).
struct Live {
    /// Bit 0: breaker enabled; bit 1: `force_open`; bit 2: `force_closed`.
    breaker: AtomicU64,
    timeout_ms: AtomicU64,
    max_concurrent: AtomicU64,
    volume: AtomicU64,
    threshold_pct: AtomicU64,
    snapshot_interval_ms: AtomicU64,
    budget_percent: AtomicU64,
    /// 0: the `"fixed"` limit (no adaptive sample).
    limit_mode: AtomicU64,
}

/// The per-call keys (SPEC §9.6), as stored on the command.
struct PerCallKeys {
    max_attempts: AtomicU64,
    on_timeout: AtomicU64,
    on_rejected: AtomicU64,
    base_ms: AtomicU64,
    mult_permille: AtomicU64,
    max_ms: AtomicU64,
    jitter: AtomicU64,
    deadline_ms: AtomicU64,
    hedge_max_attempts: AtomicU64,
}

/// The command-side state the floor needs: settings, circuit, health
/// snapshot, bulkhead and rolling window.
pub struct WindowedRetryFloor {
    live: Live,
    keys: PerCallKeys,
    /// 0 closed, 1 open, 2 half-open.
    state: AtomicU64,
    snap_at: AtomicU64,
    snap_total: AtomicU64,
    snap_errors: AtomicU64,
    permits: AtomicU64,
    bucket_ms: u64,
    ring: [Bucket; BUCKETS],
    /// The number of the bucket last written (its slot is `number % BUCKETS`).
    hint: AtomicU64,
}

impl WindowedRetryFloor {
    /// The bench's command: the defaults, 3 attempts, 0 ms backoff, the
    /// circuit kept closed by a 100 % threshold.
    pub fn new() -> WindowedRetryFloor {
        let a = AtomicU64::new;
        WindowedRetryFloor {
            live: Live {
                breaker: a(1),
                timeout_ms: a(1000),
                max_concurrent: a(10),
                volume: a(20),
                threshold_pct: a(100),
                snapshot_interval_ms: a(500),
                budget_percent: a(0),
                limit_mode: a(0),
            },
            keys: PerCallKeys {
                max_attempts: a(3),
                on_timeout: a(1),
                on_rejected: a(0),
                base_ms: a(0),
                mult_permille: a(2000),
                max_ms: a(0),
                jitter: a(0),
                deadline_ms: a(0),
                hedge_max_attempts: a(1),
            },
            state: a(0),
            snap_at: a(NEVER),
            snap_total: a(0),
            snap_errors: a(0),
            permits: a(0),
            bucket_ms: 1000,
            ring: std::array::from_fn(|i| Bucket { number: a(i as u64), counts: Default::default() }),
            hint: a(0),
        }
    }

    /// The bucket for time `t` (SPEC §4 rule 2), its slot reset first when
    /// it held a bucket that has left the window.
    #[inline]
    fn bucket(&self, t: u64) -> &Bucket {
        let n = self.hint.load(Relaxed);
        let start = n * self.bucket_ms;
        if t >= start && t - start < self.bucket_ms {
            return &self.ring[(n % BUCKETS as u64) as usize];
        }
        self.bucket_slow(t)
    }

    #[inline(never)]
    fn bucket_slow(&self, t: u64) -> &Bucket {
        let n = t / self.bucket_ms;
        let b = &self.ring[(n % BUCKETS as u64) as usize];
        if b.number.load(Relaxed) != n {
            for c in &b.counts {
                c.store(0, Relaxed);
            }
            b.number.store(n, Relaxed);
        }
        self.hint.store(n, Relaxed);
        b
    }

    /// The trip rule in state `closed` (SPEC §5), on the health snapshot,
    /// recomputed from the window when it is due.
    #[inline]
    fn trips(&self, t: u64) -> bool {
        let at = self.snap_at.load(Relaxed);
        if at == NEVER || t >= at.saturating_add(self.live.snapshot_interval_ms.load(Relaxed)) {
            self.refresh(t);
        }
        let total = self.snap_total.load(Relaxed);
        total >= self.live.volume.load(Relaxed)
            && total > 0
            && self.snap_errors.load(Relaxed) * 100 / total >= self.live.threshold_pct.load(Relaxed)
    }

    #[inline(never)]
    fn refresh(&self, t: u64) {
        let now = t / self.bucket_ms;
        let (mut total, mut errors) = (0, 0);
        for b in &self.ring {
            let n = b.number.load(Relaxed);
            if n <= now && n + BUCKETS as u64 > now {
                let (s, f) = (b.counts[SUCCESS].load(Relaxed), b.counts[FAILURE].load(Relaxed));
                total += s + f;
                errors += f;
            }
        }
        self.snap_total.store(total, Relaxed);
        self.snap_errors.store(errors, Relaxed);
        self.snap_at.store(t, Relaxed);
    }

    /// The cap of retry `n` (SPEC §11.1), exact.
    #[inline]
    fn cap(base: u64, mult: u64, max: u64, n: u64) -> u64 {
        let mut cap = base.min(max);
        for _ in 1..n {
            if cap == 0 || cap == max {
                break;
            }
            // 128 bits only when the product does not fit in 64.
            let next = match cap.checked_mul(mult) {
                Some(p) => p / 1000,
                None => (u128::from(cap) * u128::from(mult) / 1000) as u64,
            };
            cap = next.min(max);
        }
        cap
    }

    /// One retried call at time `t` (the virtual clock never moves here, so
    /// every timer of 0 ms fires at `t`). `Some` value on success.
    #[inline]
    pub fn call(&self, t: u64) -> Option<u64> {
        let k_ = &self.keys;
        let max_attempts = k_.max_attempts.load(Relaxed);
        let (on_timeout, on_rejected) = (k_.on_timeout.load(Relaxed), k_.on_rejected.load(Relaxed));
        let (base, mult, max) = (k_.base_ms.load(Relaxed), k_.mult_permille.load(Relaxed), k_.max_ms.load(Relaxed));
        let jitter = k_.jitter.load(Relaxed);
        let deadline_ms = k_.deadline_ms.load(Relaxed);
        let hedging = k_.hedge_max_attempts.load(Relaxed) > 1;
        black_box((on_timeout, on_rejected, jitter, hedging));
        let deadline = (deadline_ms > 0).then(|| t.saturating_add(deadline_ms));

        let mut events = [0u8; 8];
        let mut recorded = 0;
        let mut timers = [(0u32, 0u64); 4];
        let mut armed = 0;
        let mut k = 0u64;
        loop {
            // An attempt (§9.2): the circuit, then the bulkhead.
            k += 1;
            let breaker = self.live.breaker.load(Relaxed);
            let admitting = breaker & 1 != 0 && breaker & 4 == 0;
            if admitting && (breaker & 2 != 0 || self.state.load(Relaxed) != 0 || self.trips(t)) {
                return None; // short-circuited: not this bench's path
            }
            let limit = self.live.max_concurrent.load(Relaxed);
            let mut held = self.permits.load(Relaxed);
            loop {
                if held >= limit {
                    return None; // rejected: not this bench's path
                }
                match self.permits.compare_exchange_weak(held, held + 1, std::sync::atomic::Ordering::Acquire, Relaxed)
                {
                    Ok(_) => break,
                    Err(seen) => held = seen,
                }
            }
            let mut timeout = self.live.timeout_ms.load(Relaxed);
            if let Some(d) = deadline {
                timeout = timeout.min(d - t);
            }
            timers[armed] = (k as u32, t + timeout);
            armed += 1;
            let outstanding = Some(k);

            // The run ends; its outcome (§9.3).
            let ok = black_box(k) >= 3;
            let event = if ok { SUCCESS } else { FAILURE };
            armed -= 1; // the timeout cleared
            self.bucket(t).counts[event].fetch_add(1, Relaxed);
            events[recorded] = event as u8;
            recorded += 1;
            self.permits.fetch_sub(1, std::sync::atomic::Ordering::Release);
            if self.state.load(Relaxed) == 0 && self.trips(t) {
                self.state.store(1, Relaxed);
            }
            black_box((self.live.budget_percent.load(Relaxed), self.live.limit_mode.load(Relaxed)));
            black_box(outstanding);
            if ok {
                black_box(&events);
                return Some(black_box(crate::X) + 1);
            }

            // The retry decision (§11.3).
            if k >= max_attempts {
                return None; // the fallback: not this bench's path
            }
            let delay = Self::cap(base, mult, max, k);
            if deadline.is_some_and(|d| t + delay >= d) {
                return None;
            }
            self.bucket(t).counts[RETRY].fetch_add(1, Relaxed);
            events[recorded] = RETRY as u8;
            recorded += 1;
            timers[armed] = (100 + k as u32, t + delay);
            armed += 1;
            black_box(&timers);
            armed -= 1; // ... fired
        }
    }
}
