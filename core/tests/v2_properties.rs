//! Property tests of the v2 call machine (SPEC §§8–18), written from the
//! SPEC rather than from the code.
//!
//! Random v2 configurations (retry with backoff/jitter/budget, or hedging,
//! optionally a deadline, a rate limiter, AIMD/Gradient2, a tiny bulkhead,
//! timeouts on or off, a circuit breaker, fallbacks of every kind) and random
//! workloads (calls at random times, runs that succeed / fail / fail with a
//! bad request after random delays, some ignoring aborts, caller
//! cancellations, live `configure` of v2 keys) are driven through the
//! sans-IO [`Call`] protocol by a host loop on a virtual clock, the way
//! `tests/conformance/rust/src/replay.rs` does: timers in a [`TimerQueue`]
//! (same-instant timers in arming order), and after each call start the
//! timers due at the current instant fire.
//!
//! Invariants checked (see `Harness` for where):
//! * **I1** every call settles exactly once, ends `is_finished()` once all its
//!   runs and fallback have ended; at the end `concurrent` and
//!   `fallback_concurrent` are 0.
//! * **I2** after every reaction the snapshot's `concurrent` equals the host's
//!   own count of runs invoked and not yet stopped/ended (so a cancelled or
//!   timed-out run that ignores the abort keeps its permit until it ends),
//!   `fallback_concurrent` equals the fallbacks invoked and not yet ended;
//!   every admission happens with fewer live runs than the limit in force
//!   just before the reaction (§15.1), and the live runs never exceed the
//!   largest limit seen.
//! * **I3** `AbortAttempt` only for an invoked attempt whose run has not ended
//!   and that was not aborted before; `InvokeAttempt` and
//!   `InvokeFallback` never after `Settle`; a retrying call never has two
//!   outstanding attempts; attempts per call ≤ `retry_max_attempts` /
//!   `hedge_max_attempts` (as read at the call's start, §9.6); a run that
//!   ends after its abort records nothing; cancelling a settled call does
//!   nothing.
//! * **I4** retry budget (§12): an independent model fed by the event notices
//!   (deposits at SUCCESS, withdrawals at RETRY/HEDGE, buckets as §12,
//!   emptied / re-parameterised on `configure` as §8.2) agrees with every
//!   RETRY/HEDGE (balance ≥ 100 before it) and every
//!   RETRY_BUDGET_EXHAUSTED (balance < 100), and with the snapshot's
//!   `budget` after every reaction.
//! * **I5** rate limiter (§13): between restarts, the calls that started their
//!   first attempt in any [t0, t1] number at most
//!   `B + ceil((t1 − t0 + 1) × N / P) − 1` (derivation at `rate_bound`).
//! * **I6** events follow §16's shape; §17 `attempts` = attempt outcomes =
//!   `attempts_started()` = invoked runs + refusals; each invoked run
//!   records exactly one of SUCCESS/FAILURE/BAD_REQUEST/TIMEOUT/CANCELLED;
//!   aborts for `timeout` match TIMEOUT events and aborts for `cancelled`
//!   match CANCELLED events; the settlement (and the original error given
//!   to the fallback) matches the cause of the last attempt outcome and
//!   the fallback event.
//! * **I7** timing: no attempt starts at or after the deadline (§9.5); a
//!   timeout abort comes exactly at `min(s + timeout_ms, D)` (§9.2); a
//!   run never ends naturally at or after its timeout.
//! * **I8** snapshot `cumulative` equals the events heard by a listener, which
//!   equal the sum of every call's own events; the listener hears them in
//!   the order and at the times the calls record them; `rolling` counts
//!   are those events in the §4 window.
//!
//! Beyond the list, exact models written from the SPEC:
//! * **I5b** the rate limiter's GCRA (§13, restarts of §8.2): each call is
//!   admitted at once, waits exactly the predicted time, or is refused.
//! * **I9** the retry decision (§11.3) with backoff caps (§11.1), jitter (§11.2)
//!   and the shared SplitMix64 generator (§10, reseeded by `configure`):
//!   RETRY exactly when due, and the retry starts at `t + delay`.
//! * **I10** the hedge timer (§14.1–14.3): every HEDGE at the time the model's
//!   timer is due, before the deadline; no call ends its attempts while a
//!   hedge or retry is still due.
//! * **I11** the adaptive limit (§15: windows, AIMD, Gradient2 in binary64,
//!   restarts) equals the snapshot's `limit` after every reaction.
//! * **I12** the circuit per attempt (§3 step 1, §5, §9.2: probes, CANCELLED and
//!   BAD_REQUEST freeing slots, health reset at the close, the trip rule
//!   after every counted outcome and at snapshots, the lowering rule),
//!   checked through SHORT_CIRCUITED at admission, `state` and `health`;
//!   SEMAPHORE_REJECTED only when the permits held reach the limit; the
//!   fallback decision of §3 step 5 (disabled / missing / rejected).
//!
//! Cases: `V2_PROPS_CASES` (default 400), workload length `V2_PROPS_OPS`
//! (default 30 ops); `V2_PROPS_TRACE=1` prints the host's log of a failure.
//! Assumption beyond the SPEC: a host dropping an unfinished call frees its
//! probe slots without deciding (as CANCELLED does) and records nothing.

use hystrix_core::{
    Action, AttemptId, Call, CallTimer, CircuitState, Command, Config, ErrorKind, EventType, FnClock, Input, Jitter,
    LimitMode, Notice, Original, RunOutcome, Settlement, TimerId, TimerQueue, Topic,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)*) => {
        if !$cond {
            return Err(format!($($fmt)*));
        }
    };
}

// ---------------------------------------------------------------------------
// Generated input
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct RunSpec {
    outcome: RunOutcome,
    after: u64,
    ignores: bool,
}

#[derive(Clone, Copy, Debug)]
struct FbSpec {
    ok: bool,
    after: u64,
}

#[derive(Clone, Debug)]
struct CallSpec {
    runs: Vec<RunSpec>,
    fallback: Option<FbSpec>,
    cancel_after: Option<u64>,
}

#[derive(Clone, Debug)]
enum Op {
    Advance(u64),
    Call(CallSpec),
    Configure(Vec<(&'static str, Value)>),
    /// The host drops a call that is not finished (as dropping a Rust
    /// future does), killing its runs and its fallback.
    Drop(usize),
}

fn jitter_of(i: usize) -> Jitter {
    [Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated][i % 4]
}

fn config_strategy() -> impl Strategy<Value = Config> {
    let base = (
        any::<bool>(),             // timeout_enabled
        5u64..80,                  // timeout_ms
        1u64..5,                   // max_concurrent_requests
        prop::bool::weighted(0.8), // fallback_enabled
        1u64..4,                   // fallback_max_concurrent_requests
        any::<bool>(),             // circuit_breaker_enabled
        0u64..8,                   // request_volume_threshold
        20u64..=100,               // error_threshold_percentage
        20u64..300,                // sleep_window_ms
        1u64..3,                   // half_open_max_calls
    );
    let feature = 0u8..3; // none, retry, hedge
    let retry = (2u64..5, 0u64..40, 1000u64..3000, 0u64..120, 0usize..4, any::<bool>(), any::<bool>());
    let hedge = (2u64..5, 0u64..40, any::<bool>());
    let budget = (
        prop_oneof![1 => Just(0u64), 1 => Just(0u64), 2 => 1u64..150, 1 => Just(100u64)],
        0u64..20,
        prop::sample::select(vec![(100u64, 1u64), (200, 2), (400, 4), (300, 3), (50, 5)]),
        prop_oneof![Just(0u64), 1u64..150],
    );
    let rl = (prop_oneof![2 => Just(0u64), 2 => 1u64..5], 10u64..100, 0u64..4, 0u64..60);
    let adaptive = (0usize..3, 1u64..4, 0u64..3, 0u64..5, 0u64..30, 1u64..4, any::<bool>(), 500u64..1000, 1u64..100);
    (base, feature, retry, hedge, budget, rl, adaptive, 0u64..(1 << 53)).prop_map(
        |(base, feature, retry, hedge, budget, rl, ad, seed)| {
            let mut c = Config {
                timeout_enabled: base.0,
                timeout_ms: base.1,
                max_concurrent_requests: base.2,
                fallback_enabled: base.3,
                fallback_max_concurrent_requests: base.4,
                circuit_breaker_enabled: base.5,
                request_volume_threshold: base.6,
                error_threshold_percentage: base.7,
                sleep_window_ms: base.8,
                half_open_max_calls: base.9,
                rolling_window_ms: 1000,
                rolling_window_buckets: 10,
                health_snapshot_interval_ms: 0,
                random_seed: seed,
                ..Config::default()
            };
            match feature {
                1 => {
                    c.retry_max_attempts = retry.0;
                    c.retry_base_delay_ms = retry.1;
                    c.retry_multiplier_permille = retry.2;
                    c.retry_max_delay_ms = retry.3;
                    c.retry_jitter = jitter_of(retry.4);
                    c.retry_on_timeout = retry.5;
                    c.retry_on_rejected = retry.6;
                }
                2 => {
                    c.hedge_max_attempts = hedge.0;
                    c.hedge_delay_ms = hedge.1;
                    c.hedge_on_failure = hedge.2;
                    c.retry_on_timeout = retry.5;
                    c.retry_on_rejected = retry.6;
                }
                _ => {}
            }
            c.retry_budget_percent = budget.0;
            c.retry_budget_min_per_sec = budget.1;
            c.retry_budget_window_ms = budget.2 .0;
            c.retry_budget_window_buckets = budget.2 .1;
            c.deadline_ms = budget.3;
            c.rate_limit_for_period = rl.0;
            c.rate_limit_period_ms = rl.1;
            c.rate_limit_burst = rl.2;
            c.rate_limit_timeout_ms = rl.3;
            c.concurrency_limit_mode = [LimitMode::Fixed, LimitMode::Aimd, LimitMode::Gradient2][ad.0];
            c.adaptive_min_limit = ad.1;
            c.adaptive_initial_limit = ad.1 + ad.2;
            c.adaptive_max_limit = ad.1 + ad.2 + ad.3;
            c.adaptive_window_ms = ad.4;
            c.adaptive_window_min_samples = ad.5;
            c.adaptive_drop_on_failure = ad.6;
            c.aimd_backoff_permille = ad.7;
            c.aimd_timeout_ms = ad.8;
            c
        },
    )
}

fn run_strategy() -> impl Strategy<Value = RunSpec> {
    (
        prop_oneof![4 => Just(RunOutcome::Success), 5 => Just(RunOutcome::Failure), 1 => Just(RunOutcome::BadRequest)],
        prop_oneof![1 => Just(0u64), 4 => 0u64..60],
        prop::bool::weighted(0.25),
    )
        .prop_map(|(outcome, after, ignores)| RunSpec { outcome, after, ignores })
}

fn patch_strategy() -> impl Strategy<Value = Vec<(&'static str, Value)>> {
    let one = prop_oneof![
        (1u64..5).prop_map(|v| ("max_concurrent_requests", json!(v))),
        (1u64..5).prop_map(|v| ("retry_max_attempts", json!(v))),
        (1u64..5).prop_map(|v| ("hedge_max_attempts", json!(v))),
        (0u64..40).prop_map(|v| ("hedge_delay_ms", json!(v))),
        any::<bool>().prop_map(|v| ("hedge_on_failure", json!(v))),
        (0u64..40).prop_map(|v| ("retry_base_delay_ms", json!(v))),
        prop::sample::select(vec!["none", "full", "equal", "decorrelated"]).prop_map(|v| ("retry_jitter", json!(v))),
        (0u64..150).prop_map(|v| ("deadline_ms", json!(v))),
        (5u64..80).prop_map(|v| ("timeout_ms", json!(v))),
        any::<bool>().prop_map(|v| ("timeout_enabled", json!(v))),
        (0u64..5).prop_map(|v| ("rate_limit_for_period", json!(v))),
        (10u64..100).prop_map(|v| ("rate_limit_period_ms", json!(v))),
        (0u64..4).prop_map(|v| ("rate_limit_burst", json!(v))),
        (0u64..60).prop_map(|v| ("rate_limit_timeout_ms", json!(v))),
        (0u64..150).prop_map(|v| ("retry_budget_percent", json!(v))),
        (0u64..20).prop_map(|v| ("retry_budget_min_per_sec", json!(v))),
        prop::sample::select(vec![100u64, 200, 400]).prop_map(|v| ("retry_budget_window_ms", json!(v))),
        prop::sample::select(vec![1u64, 2, 4]).prop_map(|v| ("retry_budget_window_buckets", json!(v))),
        prop::sample::select(vec!["fixed", "aimd", "gradient2"]).prop_map(|v| ("concurrency_limit_mode", json!(v))),
        (1u64..6).prop_map(|v| ("adaptive_initial_limit", json!(v))),
        (1u64..4).prop_map(|v| ("adaptive_min_limit", json!(v))),
        (1u64..8).prop_map(|v| ("adaptive_max_limit", json!(v))),
        (0u64..30).prop_map(|v| ("adaptive_window_ms", json!(v))),
        any::<bool>().prop_map(|v| ("adaptive_drop_on_failure", json!(v))),
        (1u64..4).prop_map(|v| ("fallback_max_concurrent_requests", json!(v))),
        any::<bool>().prop_map(|v| ("fallback_enabled", json!(v))),
        any::<bool>().prop_map(|v| ("retry_on_timeout", json!(v))),
        any::<bool>().prop_map(|v| ("retry_on_rejected", json!(v))),
        (0u64..3).prop_map(|v| ("random_seed", json!(v))),
        (1u64..4).prop_map(|v| ("half_open_max_calls", json!(v))),
        (20u64..300).prop_map(|v| ("sleep_window_ms", json!(v))),
        (0u64..8).prop_map(|v| ("request_volume_threshold", json!(v))),
        (20u64..=100).prop_map(|v| ("error_threshold_percentage", json!(v))),
    ];
    prop::collection::vec(one, 1..4)
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let call = (
        prop::collection::vec(run_strategy(), 1..4),
        prop_oneof![1 => Just(None), 3 => (any::<bool>(), prop_oneof![Just(0u64), 0u64..30]).prop_map(|(ok, after)| Some(FbSpec { ok, after }))],
        prop_oneof![3 => Just(None), 1 => (0u64..80).prop_map(Some)],
    )
        .prop_map(|(runs, fallback, cancel_after)| Op::Call(CallSpec { runs, fallback, cancel_after }));
    prop_oneof![
        6 => call,
        4 => (0u64..40).prop_map(Op::Advance),
        1 => patch_strategy().prop_map(Op::Configure),
        1 => any::<usize>().prop_map(Op::Drop),
    ]
}

fn workload_strategy() -> impl Strategy<Value = Vec<Op>> {
    let max_ops = std::env::var("V2_PROPS_OPS").ok().and_then(|v| v.parse().ok()).unwrap_or(30usize);
    prop::collection::vec(op_strategy(), 1..max_ops)
}

// ---------------------------------------------------------------------------
// The host
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Timer {
    Call(usize, CallTimer),
    RunDone(usize, AttemptId),
    FbDone(usize),
    Cancel(usize),
}

#[derive(Debug)]
struct AttemptRec {
    id: AttemptId,
    start: u64,
    spec: RunSpec,
    /// The attempt's timeout, as §9.2 computes it at admission.
    timeout_at: Option<u64>,
    /// §15.2: the run permits held right after this attempt took its own.
    inflight: u64,
    /// I12: the half-open episode this attempt is a probe of, if any.
    probe: Option<u64>,
    /// The host fed `AttemptEnded` (the run finished by itself).
    ended: bool,
    aborted: Option<ErrorKind>,
    /// The host fed `AttemptStopped` (the run acknowledged an abort).
    stopped: bool,
    run_timer: Option<TimerId>,
}

impl AttemptRec {
    fn live(&self) -> bool {
        !self.ended && !self.stopped
    }
    fn outstanding(&self) -> bool {
        !self.ended && self.aborted.is_none()
    }
}

struct CallRec {
    /// `None` once the host dropped it.
    call: Option<Call>,
    fb_timer: Option<TimerId>,
    cancel_timer: Option<TimerId>,
    spec: CallSpec,
    /// The configuration in force at the call's start (per-call keys, §9.6).
    cfg: Config,
    started_at: u64,
    rl_segment: usize,
    armed: HashMap<CallTimer, TimerId>,
    attempts: Vec<AttemptRec>,
    settles: Vec<(Settlement, u64)>,
    fallback_invoked: Option<Original>,
    fb_live: bool,
    cancel_fed_at: Option<u64>,
    /// Events seen so far, with the time they were first seen.
    events: Vec<(EventType, u64)>,
    /// Cause of the last attempt outcome (§9.4), CANCELLED excluded.
    last_cause: Option<Original>,
    /// Time the first attempt started (invoked or refused at admission).
    first_start: Option<u64>,
    aborts_timeout: u64,
    aborts_cancel: u64,
    /// Attempts started so far (invoked or refused at admission).
    started: u64,
    /// I5b: what the GCRA model says about this call (admit now, wait ms, refuse).
    rl_verdict: RlVerdict,
    /// I9: when the retry announced by the last RETRY must start.
    pending_retry: Option<u64>,
    /// I9: the previous decorrelated delay (`base` before the first retry).
    prev_delay: Option<u64>,
    /// I10: when the pending hedge timer is due, per the §14.2/§14.3 model.
    pending_hedge: Option<u64>,
    hedging_stopped: bool,
    /// Due times of the timers the call armed in the current reaction.
    armed_now: Vec<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RlVerdict {
    Now,
    Wait(u64),
    Refused,
}

impl CallRec {
    fn call(&self) -> &Call {
        self.call.as_ref().expect("a live call")
    }
    fn call_mut(&mut self) -> &mut Call {
        self.call.as_mut().expect("a live call")
    }
    fn max_attempts(&self) -> u64 {
        self.cfg.retry_max_attempts.max(self.cfg.hedge_max_attempts)
    }
    fn retrying(&self) -> bool {
        self.cfg.retry_max_attempts > 1
    }
    fn hedging(&self) -> bool {
        self.cfg.hedge_max_attempts > 1
    }
    fn deadline(&self) -> Option<u64> {
        match (self.cfg.deadline_ms, self.first_start) {
            (0, _) | (_, None) => None,
            (d, Some(s)) => Some(s + d),
        }
    }
    /// I9/I10 liveness: when a call's attempts end without a winner or a
    /// cancel, no announced retry is pending (§11.3) and no hedge timer that
    /// should still fire is pending (§14.1 step 5, §14.3 step 2).
    fn attempts_ended(&self, id: usize, now: u64) -> Result<(), String> {
        ensure!(
            self.pending_retry.is_none(),
            "I9 call {id}: attempts ended at {now} with a retry due at {:?}",
            self.pending_retry
        );
        if let Some(p) = self.pending_hedge {
            let past_deadline = self.deadline().is_some_and(|d| p >= d);
            ensure!(
                self.hedging_stopped || p > now || past_deadline,
                "I10 call {id}: attempts ended at {now} with a hedge timer due at {p}"
            );
        }
        Ok(())
    }

    fn attempt(&mut self, id: AttemptId) -> Option<&mut AttemptRec> {
        self.attempts.iter_mut().find(|a| a.id == id)
    }
}

/// §12 model, fed from the event notices in order.
#[derive(Debug)]
struct BudgetModel {
    percent: u64,
    min_per_sec: u64,
    window_ms: u64,
    buckets: u64,
    entries: Vec<(u64, i64)>,
}

impl BudgetModel {
    fn new(c: &Config) -> Self {
        BudgetModel {
            percent: c.retry_budget_percent,
            min_per_sec: c.retry_budget_min_per_sec,
            window_ms: c.retry_budget_window_ms,
            buckets: c.retry_budget_window_buckets,
            entries: vec![],
        }
    }
    fn balance(&self, now: u64) -> i64 {
        let b = self.window_ms / self.buckets;
        let reserve = (self.min_per_sec * self.window_ms / 10) as i64;
        let cur = (now / b) as i64;
        reserve
            + self
                .entries
                .iter()
                .filter(|(t, _)| (t / b) as i64 > cur - self.buckets as i64)
                .map(|(_, a)| a)
                .sum::<i64>()
    }
    fn reconfigure(&mut self, c: &Config) {
        if c.retry_budget_window_ms != self.window_ms
            || c.retry_budget_window_buckets != self.buckets
            || c.retry_budget_percent == 0
        {
            self.entries.clear();
        }
        self.percent = c.retry_budget_percent;
        self.min_per_sec = c.retry_budget_min_per_sec;
        self.window_ms = c.retry_budget_window_ms;
        self.buckets = c.retry_budget_window_buckets;
    }
    fn on_event(&mut self, e: EventType, at: u64) -> Result<(), String> {
        match e {
            EventType::Success if self.percent > 0 => self.entries.push((at, self.percent as i64)),
            EventType::Retry | EventType::Hedge if self.percent > 0 => {
                let bal = self.balance(at);
                if bal < 100 {
                    return Err(format!("I4: {e} at {at} with model budget balance {bal} < 100 ({self:?})"));
                }
                self.entries.push((at, -100));
            }
            EventType::RetryBudgetExhausted => {
                if self.percent == 0 {
                    return Err(format!("I4: RETRY_BUDGET_EXHAUSTED at {at} while the budget is off"));
                }
                let bal = self.balance(at);
                if bal >= 100 {
                    return Err(format!(
                        "I4: RETRY_BUDGET_EXHAUSTED at {at} with model balance {bal} ≥ 100 ({self:?})"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CState {
    Closed,
    Open(u64),
    HalfOpen,
}

/// §3 step 1 and §5 with `health_snapshot_interval_ms` 0 (always fresh),
/// for keys the workload never reconfigures.
#[derive(Debug)]
struct CircuitModel {
    enabled: bool,
    threshold: u64,
    error_pct: u64,
    sleep: u64,
    half_max: u64,
    bucket: u64,
    buckets: u64,
    state: CState,
    episode: u64,
    probes: u64,
    succeeded: u64,
    /// Outcomes counted in health since the last reset.
    health: Vec<(u64, EventType)>,
}

impl CircuitModel {
    fn new(c: &Config) -> Self {
        assert_eq!(c.health_snapshot_interval_ms, 0);
        CircuitModel {
            enabled: c.circuit_breaker_enabled,
            threshold: c.request_volume_threshold,
            error_pct: c.error_threshold_percentage,
            sleep: c.sleep_window_ms,
            half_max: c.half_open_max_calls,
            bucket: c.rolling_window_ms / c.rolling_window_buckets,
            buckets: c.rolling_window_buckets,
            state: CState::Closed,
            episode: 0,
            probes: 0,
            succeeded: 0,
            health: vec![],
        }
    }

    fn reconfigure(&mut self, c: &Config) {
        self.threshold = c.request_volume_threshold;
        self.error_pct = c.error_threshold_percentage;
        self.sleep = c.sleep_window_ms;
        self.half_max = c.half_open_max_calls;
    }

    fn health(&self, now: u64) -> (u64, u64) {
        let cur = (now / self.bucket) as i64;
        let inw = self.health.iter().filter(|(t, _)| (t / self.bucket) as i64 > cur - self.buckets as i64);
        let (mut total, mut errors) = (0, 0);
        for (_, e) in inw {
            total += 1;
            if e.is_health_error() {
                errors += 1;
            }
        }
        (total, errors)
    }

    fn trips(&self, now: u64) -> bool {
        let (total, errors) = self.health(now);
        let pct = (errors * 100).checked_div(total).unwrap_or(0);
        total >= self.threshold && pct >= self.error_pct
    }

    /// `None`: short-circuited; `Some(probe)`: admitted (a probe of that episode).
    fn admit(&mut self, t: u64) -> Option<Option<u64>> {
        if !self.enabled {
            return Some(None);
        }
        match self.state {
            CState::Closed => {
                if self.trips(t) {
                    self.state = CState::Open(t);
                    None
                } else {
                    Some(None)
                }
            }
            CState::Open(at) => {
                if t >= at + self.sleep {
                    self.state = CState::HalfOpen;
                    self.episode += 1;
                    self.probes = 1;
                    self.succeeded = 0;
                    Some(Some(self.episode))
                } else {
                    None
                }
            }
            CState::HalfOpen if self.succeeded >= self.half_max => {
                // §5: `configure` removed the remaining probe slots: close first
                // (health reset, no trip rule at the close), then admit as closed.
                self.state = CState::Closed;
                self.health.clear();
                if self.trips(t) {
                    self.state = CState::Open(t);
                    None
                } else {
                    Some(None)
                }
            }
            CState::HalfOpen => {
                if self.probes < self.half_max {
                    self.probes += 1;
                    Some(Some(self.episode))
                } else {
                    None
                }
            }
        }
    }

    fn outcome(&mut self, t: u64, e: EventType, probe: Option<u64>) {
        if e.counts_in_health() {
            self.health.push((t, e));
        }
        if !self.enabled {
            return;
        }
        let mut just_closed = false;
        if probe.is_some() && probe == Some(self.episode) && self.state == CState::HalfOpen {
            match e {
                EventType::Failure | EventType::Timeout | EventType::SemaphoreRejected => self.state = CState::Open(t),
                EventType::Success => {
                    self.succeeded += 1;
                    if self.succeeded >= self.half_max {
                        self.state = CState::Closed;
                        self.health.clear();
                        just_closed = true;
                    }
                }
                _ => self.probes -= 1,
            }
        }
        if e.counts_in_health() && self.state == CState::Closed && !just_closed && self.trips(t) {
            self.state = CState::Open(t);
        }
    }

    fn snapshot(&mut self, now: u64) {
        if self.enabled && self.state == CState::Closed && self.trips(now) {
            self.state = CState::Open(now);
        }
    }
}

/// §15 model: windows of samples, AIMD and Gradient2.
#[derive(Debug)]
struct LimiterModel {
    limit: u64,
    estimate: f64,
    long_rtt: f64,
    long_sum: f64,
    long_count: u64,
    /// Open window: (opened at, count, rtt sum, max inflight, dropped).
    window: Option<(u64, u64, u64, u64, bool)>,
}

impl LimiterModel {
    fn new(c: &Config) -> Self {
        LimiterModel {
            limit: c.adaptive_initial_limit,
            estimate: c.adaptive_initial_limit as f64,
            long_rtt: 0.0,
            long_sum: 0.0,
            long_count: 0,
            window: None,
        }
    }

    /// The keys whose change of value restarts the limiter (§8.2).
    #[allow(clippy::type_complexity)]
    fn keys(c: &Config) -> (LimitMode, [u64; 5], bool, [u64; 6]) {
        (
            c.concurrency_limit_mode,
            [
                c.adaptive_initial_limit,
                c.adaptive_min_limit,
                c.adaptive_max_limit,
                c.adaptive_window_ms,
                c.adaptive_window_min_samples,
            ],
            c.adaptive_drop_on_failure,
            [
                c.aimd_backoff_permille,
                c.aimd_timeout_ms,
                c.gradient2_smoothing_permille,
                c.gradient2_queue_size,
                c.gradient2_long_window,
                c.gradient2_rtt_tolerance_permille,
            ],
        )
    }

    fn sample(&mut self, c: &Config, t: u64, rtt: u64, inflight: u64, drop: bool) {
        if c.concurrency_limit_mode == LimitMode::Fixed {
            return;
        }
        let w = self.window.get_or_insert((t, 0, 0, 0, false));
        w.1 += 1;
        w.2 += rtt;
        w.3 = w.3.max(inflight);
        w.4 |= drop;
        let (open, count, sum, max_inflight, dropped) = *w;
        if t >= open + c.adaptive_window_ms && count >= c.adaptive_window_min_samples {
            self.window = None;
            self.update(c, sum / count, max_inflight, dropped);
        }
    }

    fn update(&mut self, c: &Config, avg: u64, max_inflight: u64, dropped: bool) {
        let (min, max) = (c.adaptive_min_limit, c.adaptive_max_limit);
        match c.concurrency_limit_mode {
            LimitMode::Fixed => {}
            LimitMode::Aimd => {
                let mut limit = self.limit;
                if dropped || avg > c.aimd_timeout_ms {
                    limit = limit * c.aimd_backoff_permille / 1000;
                } else if max_inflight * 2 >= limit {
                    limit += 1;
                }
                self.limit = limit.max(min).min(max);
            }
            LimitMode::Gradient2 => {
                let (lo, hi) = (min as f64, max as f64);
                let backoff = c.aimd_backoff_permille as f64 / 1000.0;
                let tolerance = c.gradient2_rtt_tolerance_permille as f64 / 1000.0;
                let smoothing = c.gradient2_smoothing_permille as f64 / 1000.0;
                let factor = 2.0 / (c.gradient2_long_window as f64 + 1.0);
                if dropped {
                    self.estimate = lo.max(hi.min(self.estimate * backoff));
                    return;
                }
                if avg == 0 {
                    return;
                }
                let short = avg as f64;
                if self.long_count < 10 {
                    self.long_count += 1;
                    self.long_sum += short;
                    self.long_rtt = self.long_sum / self.long_count as f64;
                } else {
                    self.long_rtt = self.long_rtt * (1.0 - factor) + short * factor;
                }
                let long = self.long_rtt;
                if long / short > 2.0 {
                    self.long_rtt *= 0.95;
                }
                if (max_inflight as f64) < self.estimate / 2.0 {
                    return;
                }
                let gradient = 0.5f64.max(1.0f64.min((tolerance * long) / short));
                let new = self.estimate * gradient + c.gradient2_queue_size as f64;
                let new = self.estimate * (1.0 - smoothing) + new * smoothing;
                self.estimate = lo.max(hi.min(new));
            }
        }
    }
}

/// One rate-limiter parameter set in force between restarts.
#[derive(Debug)]
struct RlSegment {
    n: u64,
    p: u64,
    b: u64,
    starts: Vec<u64>,
}

/// I5 bound. GCRA with `τ = (B − 1)P` (units of 1/N ms) makes any `k`
/// consecutive admissions' exact conforming times span at least
/// `(k − B) × P / N` ms. A call's first attempt starts at its conforming time
/// rounded up to a whole ms (`wait = ceil(..)`), i.e. in `[x, x + 1)`, so `k`
/// starts inside `[t0, t1]` have conforming times inside `(t0 − 1, t1]`, a span
/// `< t1 − t0 + 1`; hence `k < B + (t1 − t0 + 1) N / P`, i.e.
/// `k ≤ B + ceil((t1 − t0 + 1) N / P) − 1`. This is at most the issue's
/// `B + ceil((t1 − t0) N / P) + 1` whenever `N ≤ 2P`, and is the right
/// tolerance for the whole-ms rounding of waits in general.
fn rate_bound(seg: &RlSegment, span: u64) -> u64 {
    seg.b + ((span + 1) * seg.n).div_ceil(seg.p) - 1
}

struct Harness {
    now: Arc<AtomicU64>,
    cmd: Command,
    timers: TimerQueue<Timer>,
    calls: Vec<CallRec>,
    /// The calls, moved here by `finish` (then dropped with the harness).
    calls_done: Vec<CallRec>,
    heard: Arc<Mutex<Vec<(EventType, u64)>>>,
    heard_consumed: usize,
    budget: BudgetModel,
    segments: Vec<RlSegment>,
    max_limit_seen: u64,
    /// I5b: the GCRA state of §13 (`tat`, in 1/N ms).
    tat: i128,
    /// I9: the SplitMix64 state of §10.
    rng: u64,
    /// I11: the adaptive limiter of §15.
    limiter: LimiterModel,
    /// I12: the circuit of §3 step 1 and §5.
    circuit: CircuitModel,
    /// Every event the calls recorded, in the order the host saw them, with
    /// the time it saw them.
    observed: Vec<(EventType, u64)>,
    /// Limit in force just before the current reaction.
    limit_before: u64,
    /// The call whose reaction is in progress and the input that began it.
    log: Vec<String>,
}

fn cause_kind(o: Original) -> ErrorKind {
    match o {
        Original::Attempt(_) => ErrorKind::Failure,
        Original::Kind(k) => k,
    }
}

fn is_fallback_event(e: EventType) -> bool {
    matches!(
        e,
        EventType::FallbackSuccess
            | EventType::FallbackFailure
            | EventType::FallbackRejection
            | EventType::FallbackMissing
            | EventType::FallbackDisabled
    )
}

fn is_marker(e: EventType) -> bool {
    matches!(e, EventType::Retry | EventType::Hedge | EventType::RetryBudgetExhausted)
}

impl Harness {
    fn new(config: Config) -> Result<Harness, String> {
        let now = Arc::new(AtomicU64::new(0));
        let n2 = now.clone();
        let cmd = Command::with_clock("v2", config, Arc::new(FnClock(move || n2.load(Ordering::SeqCst))))
            .map_err(|e| format!("config refused: {e}"))?;
        let heard = Arc::new(Mutex::new(vec![]));
        let h2 = heard.clone();
        cmd.subscribe(Topic::Events, move |n: &Notice<'_>| {
            if let Notice::Event { event, at_ms, .. } = n {
                h2.lock().unwrap().push((*event, *at_ms));
            }
        });
        let limit = cmd.snapshot_at(0).limit;
        Ok(Harness {
            now,
            budget: BudgetModel::new(&config),
            segments: vec![RlSegment {
                n: config.rate_limit_for_period,
                p: config.rate_limit_period_ms,
                b: if config.rate_limit_burst == 0 { config.rate_limit_for_period } else { config.rate_limit_burst },
                starts: vec![],
            }],
            cmd,
            timers: TimerQueue::new(),
            calls: vec![],
            calls_done: vec![],
            heard,
            heard_consumed: 0,
            max_limit_seen: limit,
            tat: 0,
            rng: config.random_seed,
            limiter: LimiterModel::new(&config),
            circuit: CircuitModel::new(&config),
            observed: vec![],
            limit_before: limit,
            log: vec![],
        })
    }

    fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    fn consume_notices(&mut self) -> Result<(), String> {
        let heard: Vec<_> = self.heard.lock().unwrap()[self.heard_consumed..].to_vec();
        self.heard_consumed += heard.len();
        for (e, at) in heard {
            self.budget.on_event(e, at)?;
        }
        Ok(())
    }

    fn run(&mut self, ops: &[Op]) -> Result<(), String> {
        for op in ops {
            match op {
                Op::Advance(ms) => {
                    let target = self.now() + ms;
                    self.fire_due(target)?;
                    self.now.store(target, Ordering::SeqCst);
                }
                Op::Configure(patch) => {
                    self.consume_notices()?;
                    let old = self.cmd.config();
                    let obj: serde_json::Map<String, Value> =
                        patch.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                    if let Ok(new) = self.cmd.configure_json(&Value::Object(obj)) {
                        self.log.push(format!("t={} configure {patch:?}", self.now()));
                        self.budget.reconfigure(&new);
                        self.circuit.reconfigure(&new);
                        if LimiterModel::keys(&new) != LimiterModel::keys(&old) {
                            self.limiter = LimiterModel::new(&new);
                        }
                        if new.random_seed != old.random_seed {
                            self.rng = new.random_seed;
                        }
                        if (new.rate_limit_for_period, new.rate_limit_period_ms, new.rate_limit_burst)
                            != (old.rate_limit_for_period, old.rate_limit_period_ms, old.rate_limit_burst)
                        {
                            self.tat = 0;
                            self.segments.push(RlSegment {
                                n: new.rate_limit_for_period,
                                p: new.rate_limit_period_ms,
                                b: if new.rate_limit_burst == 0 {
                                    new.rate_limit_for_period
                                } else {
                                    new.rate_limit_burst
                                },
                                starts: vec![],
                            });
                        }
                    }
                }
                Op::Drop(k) => self.drop_call(*k)?,
                Op::Call(spec) => {
                    self.start_call(spec.clone())?;
                    let now = self.now();
                    self.fire_due(now)?;
                }
            }
        }
        self.fire_due(u64::MAX)?;
        self.finish()
    }

    fn drop_call(&mut self, k: usize) -> Result<(), String> {
        let alive: Vec<usize> =
            (0..self.calls.len()).filter(|&i| self.calls[i].call.as_ref().is_some_and(|c| !c.is_finished())).collect();
        if alive.is_empty() {
            return Ok(());
        }
        let id = alive[k % alive.len()];
        self.log.push(format!("t={} drop call {id}", self.now()));
        let c = &mut self.calls[id];
        let mut dead: Vec<TimerId> = c.armed.drain().map(|(_, t)| t).collect();
        dead.extend(c.fb_timer.take());
        dead.extend(c.cancel_timer.take());
        for a in &mut c.attempts {
            if a.outstanding() {
                // Dropping frees a probe's slot without deciding, as CANCELLED does.
                self.circuit.outcome(self.now.load(Ordering::SeqCst), EventType::Cancelled, a.probe);
            }
            dead.extend(a.run_timer.take());
            if a.live() {
                a.stopped = true;
            }
        }
        c.fb_live = false;
        c.call = None;
        for t in dead {
            self.timers.cancel(t);
        }
        self.after_reaction()
    }

    fn fire_due(&mut self, target: u64) -> Result<(), String> {
        while let Some((due, timer)) = self.timers.pop_due(target) {
            self.now.store(due, Ordering::SeqCst);
            self.fire(timer)?;
        }
        Ok(())
    }

    fn before_reaction(&mut self) {
        self.circuit.snapshot(self.now());
        let snap = self.cmd.snapshot_at(self.now());
        self.limit_before = snap.limit;
        self.max_limit_seen = self.max_limit_seen.max(snap.limit);
    }

    fn start_call(&mut self, spec: CallSpec) -> Result<(), String> {
        self.before_reaction();
        let id = self.calls.len();
        let now = self.now();
        // §18.2: the cancel timer is armed before anything the call arms.
        let cancel_timer = spec.cancel_after.map(|d| self.timers.arm(now + d, Timer::Cancel(id)));
        self.log.push(format!("t={now} call {id} start {spec:?}"));
        let rl_verdict = self.gcra(now);
        let call = Call::start(&self.cmd, now, spec.fallback.is_some());
        self.calls.push(CallRec {
            call: Some(call),
            fb_timer: None,
            cancel_timer,
            cfg: self.cmd.config(),
            spec,
            started_at: now,
            rl_segment: self.segments.len() - 1,
            armed: HashMap::new(),
            attempts: vec![],
            settles: vec![],
            fallback_invoked: None,
            fb_live: false,
            cancel_fed_at: None,
            events: vec![],
            last_cause: None,
            first_start: None,
            aborts_timeout: 0,
            aborts_cancel: 0,
            started: 0,
            rl_verdict,
            pending_retry: None,
            prev_delay: None,
            pending_hedge: None,
            hedging_stopped: false,
            armed_now: vec![],
        });
        self.after_handle(id, None)?;
        self.drain(id)?;
        let c = &self.calls[id];
        match c.rl_verdict {
            RlVerdict::Now => ensure!(
                c.first_start == Some(now),
                "I5b call {id}: admitted at once by the model, yet no attempt started at {now}: {:?}",
                c.events
            ),
            RlVerdict::Wait(_) => {
                ensure!(
                    c.events.is_empty() && c.first_start.is_none(),
                    "I5b call {id}: should wait, got {:?}",
                    c.events
                )
            }
            RlVerdict::Refused => ensure!(
                c.events.iter().map(|(e, _)| *e).filter(|e| !is_fallback_event(*e)).eq([EventType::RateLimited]),
                "I5b call {id}: should be rate limited, got {:?}",
                c.events
            ),
        }
        self.after_reaction()
    }

    /// §13 GCRA, exact, on the configuration in force.
    fn gcra(&mut self, now: u64) -> RlVerdict {
        let cfg = self.cmd.config();
        if cfg.rate_limit_for_period == 0 {
            return RlVerdict::Now;
        }
        let n = i128::from(cfg.rate_limit_for_period);
        let p = i128::from(cfg.rate_limit_period_ms);
        let b = if cfg.rate_limit_burst == 0 { n } else { i128::from(cfg.rate_limit_burst) };
        let tau = (b - 1) * p;
        let t = i128::from(now) * n;
        if t + tau >= self.tat {
            self.tat = self.tat.max(t) + p;
            return RlVerdict::Now;
        }
        let wait = ((self.tat - tau - t) + n - 1) / n;
        let wait = wait.max(1) as u64;
        if wait <= cfg.rate_limit_timeout_ms {
            self.tat += p;
            RlVerdict::Wait(wait)
        } else {
            RlVerdict::Refused
        }
    }

    /// §10: one SplitMix64 draw.
    fn draw(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Bookkeeping and checks when an attempt of call `id` starts at `now`
    /// (invoked, or refused at admission).
    fn attempt_started(&mut self, id: usize, refused: Option<EventType>) -> Result<Option<u64>, String> {
        let now = self.now();
        // I12: §3 step 1 (then the bulkhead, step 2).
        let adm = self.circuit.admit(now);
        let probe = match (adm, refused) {
            (None, Some(EventType::ShortCircuited)) => None,
            (None, _) => {
                return Err(format!(
                    "I12 call {id}: the circuit model short-circuits at {now}, got {refused:?} ({:?})",
                    self.circuit
                ))
            }
            (Some(_), Some(EventType::ShortCircuited)) => {
                return Err(format!(
                    "I12 call {id}: SHORT_CIRCUITED at {now}, the circuit model admits ({:?})",
                    self.circuit
                ))
            }
            (Some(p), Some(e)) => {
                let live = self.live_runs();
                ensure!(
                    live >= self.limit_before,
                    "I2 call {id}: SEMAPHORE_REJECTED at {now} with {live} permits held, limit {}",
                    self.limit_before
                );
                self.circuit.outcome(now, e, p);
                None
            }
            (Some(p), None) => p,
        };
        let c = &mut self.calls[id];
        ensure!(c.settles.is_empty(), "I3 call {id}: an attempt started after Settle");
        c.started += 1;
        if c.first_start.is_none() {
            c.first_start = Some(now);
            self.segments[c.rl_segment].starts.push(now);
            if let RlVerdict::Wait(w) = c.rl_verdict {
                ensure!(
                    now == c.started_at + w,
                    "I5b call {id}: first attempt at {now}, model says {} + wait {w}",
                    c.started_at
                );
            }
        }
        if let Some(d) = c.deadline() {
            ensure!(now < d, "I7 call {id}: an attempt started at {now}, at/after its deadline {d}");
        }
        if c.retrying() && c.started > 1 {
            ensure!(
                c.pending_retry == Some(now),
                "I9 call {id}: retry attempt {} started at {now}, backoff model says {:?}",
                c.started,
                c.pending_retry
            );
            c.pending_retry = None;
        }
        if c.hedging() {
            c.pending_hedge =
                (!c.hedging_stopped && c.started < c.cfg.hedge_max_attempts).then_some(now + c.cfg.hedge_delay_ms);
        }
        Ok(probe)
    }

    /// I9/I10: the retry decision (§11.3) and the hedging decision (§14.3)
    /// after an attempt outcome `e` at `now`; `next` is the event recorded
    /// right after it, if any.
    fn attempt_outcome(&mut self, id: usize, e: EventType, next: Option<EventType>) -> Result<(), String> {
        let now = self.now();
        let c = &self.calls[id];
        let cfg = c.cfg;
        let retryable = match e {
            EventType::Failure => true,
            EventType::Timeout => cfg.retry_on_timeout,
            EventType::SemaphoreRejected => cfg.retry_on_rejected,
            _ => false,
        };
        if matches!(e, EventType::Success | EventType::BadRequest | EventType::Cancelled) {
            return Ok(());
        }
        if c.retrying() {
            let k = c.started;
            if !retryable || k >= cfg.retry_max_attempts || next == Some(EventType::RetryBudgetExhausted) {
                ensure!(
                    next != Some(EventType::Retry),
                    "I9 call {id}: RETRY after {e} (attempt {k} of {})",
                    cfg.retry_max_attempts
                );
                return Ok(());
            }
            // Step 3: the delay of retry k (a jittered delay draws now).
            let (base, max, mult) = (cfg.retry_base_delay_ms, cfg.retry_max_delay_ms, cfg.retry_multiplier_permille);
            let mut cap = u128::from(base.min(max));
            for _ in 1..k {
                cap = (u128::from(max)).min(cap * u128::from(mult) / 1000);
            }
            let cap = cap as u64;
            let prev = c.prev_delay.unwrap_or(base);
            let delay = match cfg.retry_jitter {
                Jitter::None => cap,
                Jitter::Full => self.draw() % (cap + 1),
                Jitter::Equal => {
                    let h = cap / 2;
                    h + self.draw() % (cap - h + 1)
                }
                Jitter::Decorrelated => {
                    let hi = base.max(prev.saturating_mul(3));
                    let r = self.draw();
                    max.min(base + r % (hi - base + 1))
                }
            };
            let c = &mut self.calls[id];
            if let Some(d) = c.deadline() {
                if now + delay >= d {
                    ensure!(
                        next != Some(EventType::Retry),
                        "I9 call {id}: RETRY at {now} with delay {delay} past the deadline {d}"
                    );
                    return Ok(());
                }
            }
            ensure!(
                next == Some(EventType::Retry),
                "I9 call {id}: no RETRY after {e} at {now} (attempt {k}, delay {delay}); next {next:?}"
            );
            c.prev_delay = Some(delay);
            c.pending_retry = Some(now + delay);
        } else if c.hedging() {
            let c = &mut self.calls[id];
            if e == EventType::ShortCircuited {
                c.hedging_stopped = true;
                c.pending_hedge = None;
            } else if retryable && cfg.hedge_on_failure && !c.hedging_stopped && c.started < cfg.hedge_max_attempts {
                c.pending_hedge = Some(now);
            }
        }
        Ok(())
    }

    /// Feeds one input (part of a reaction) and records what it recorded.
    fn handle(&mut self, id: usize, input: Input) -> Result<(), String> {
        let now = self.now();
        self.log.push(format!("t={now} call {id} <- {input:?}"));
        self.calls[id].call_mut().handle(now, input);
        let ended = match input {
            Input::AttemptEnded { attempt, outcome } => Some((attempt, outcome)),
            _ => None,
        };
        self.after_handle(id, ended)
    }

    fn after_handle(&mut self, id: usize, ended: Option<(AttemptId, RunOutcome)>) -> Result<(), String> {
        let now = self.now();
        let all: Vec<EventType> = self.calls[id].call().events().collect();
        ensure!(all.len() >= self.calls[id].events.len(), "call {id}: its event list shrank");
        for (i, e) in all.iter().enumerate() {
            let c = &mut self.calls[id];
            if i < c.events.len() {
                ensure!(c.events[i].0 == *e, "call {id}: recorded event {i} changed");
                continue;
            }
            c.events.push((*e, now));
            self.observed.push((*e, now));
            self.log.push(format!("t={now} call {id} event {e}"));
            let cause = match e {
                EventType::Failure => {
                    let Some((a, RunOutcome::Failure)) = ended else {
                        return Err(format!("call {id}: FAILURE at {now} without a run ending with a failure"));
                    };
                    Some(Original::Attempt(a))
                }
                EventType::Timeout => Some(Original::Kind(ErrorKind::Timeout)),
                EventType::ShortCircuited => Some(Original::Kind(ErrorKind::ShortCircuited)),
                EventType::SemaphoreRejected => Some(Original::Kind(ErrorKind::Rejected)),
                EventType::RateLimited => Some(Original::Kind(ErrorKind::RateLimited)),
                _ => None,
            };
            if *e == EventType::BadRequest {
                let Some((a, _)) = ended else {
                    return Err(format!("call {id}: {e} at {now} without a run ending"));
                };
                let probe = c.attempt(a).unwrap().probe;
                self.circuit.outcome(now, *e, probe);
            }
            let c = &mut self.calls[id];
            if matches!(e, EventType::Success | EventType::Failure) {
                let Some((a, _)) = ended else {
                    return Err(format!("call {id}: {e} at {now} without a run ending"));
                };
                let a = c.attempt(a).unwrap();
                let (rtt, inflight) = (now - a.start, a.inflight);
                self.circuit.outcome(now, *e, a.probe);
                let cfg = self.cmd.config();
                if *e == EventType::Success || cfg.adaptive_drop_on_failure {
                    self.limiter.sample(&cfg, now, rtt, inflight, *e != EventType::Success);
                }
            }
            let c = &mut self.calls[id];
            if let Some(cause) = cause {
                c.last_cause = Some(cause);
            }
            if *e == EventType::Hedge {
                ensure!(
                    c.pending_hedge == Some(now),
                    "I10 call {id}: HEDGE at {now}, hedge timer model says {:?}",
                    c.pending_hedge
                );
                if let Some(d) = c.deadline() {
                    ensure!(now < d, "I10 call {id}: HEDGE at {now}, at/after the deadline {d}");
                }
                c.pending_hedge = None;
            }
            if matches!(e, EventType::FallbackDisabled | EventType::FallbackMissing | EventType::FallbackRejection) {
                let cfg = self.cmd.config();
                let in_flight = self.calls.iter().filter(|c| c.fb_live).count() as u64;
                let want = if !cfg.fallback_enabled {
                    EventType::FallbackDisabled
                } else if self.calls[id].spec.fallback.is_none() {
                    EventType::FallbackMissing
                } else {
                    ensure!(
                        in_flight >= cfg.fallback_max_concurrent_requests,
                        "I6 call {id}: {e} with {in_flight} fallbacks in flight, max {}",
                        cfg.fallback_max_concurrent_requests
                    );
                    EventType::FallbackRejection
                };
                ensure!(*e == want, "I6 call {id}: {e}, §3 step 5 says {want}");
            }
            let c = &mut self.calls[id];
            if *e == EventType::RetryBudgetExhausted && c.hedging() {
                c.hedging_stopped = true;
                c.pending_hedge = None;
            }
            if matches!(e, EventType::ShortCircuited | EventType::SemaphoreRejected) {
                self.attempt_started(id, Some(*e))?;
            }
            if e.is_execution() {
                self.attempt_outcome(id, *e, all.get(i + 1).copied())?;
            }
        }
        Ok(())
    }

    fn live_runs(&self) -> u64 {
        self.calls.iter().map(|c| c.attempts.iter().filter(|a| a.live()).count() as u64).sum()
    }

    fn drain(&mut self, id: usize) -> Result<(), String> {
        while let Some(action) = self.calls[id].call_mut().poll_action() {
            let now = self.now();
            self.log.push(format!("t={now} call {id} -> {action:?}"));
            match action {
                Action::SetTimer { timer, at } => {
                    ensure!(at >= now, "call {id}: timer armed in the past ({at} < {now})");
                    self.calls[id].armed_now.push(at);
                    let t = self.timers.arm(at, Timer::Call(id, timer));
                    if let Some(old) = self.calls[id].armed.insert(timer, t) {
                        self.timers.cancel(old);
                    }
                }
                Action::ClearTimer { timer } => {
                    if let Some(t) = self.calls[id].armed.remove(&timer) {
                        self.timers.cancel(t);
                    }
                }
                Action::InvokeAttempt { attempt } => self.invoke(id, attempt)?,
                Action::AbortAttempt { attempt, reason } => self.abort(id, attempt, reason)?,
                Action::InvokeFallback { original } => {
                    let cfg = self.cmd.config();
                    let in_flight = self.calls.iter().filter(|c| c.fb_live).count() as u64;
                    ensure!(
                        cfg.fallback_enabled && in_flight < cfg.fallback_max_concurrent_requests,
                        "I6 call {id}: fallback invoked with enabled={} and {in_flight} in flight, max {}",
                        cfg.fallback_enabled,
                        cfg.fallback_max_concurrent_requests
                    );
                    let c = &mut self.calls[id];
                    ensure!(c.settles.is_empty(), "I3 call {id}: InvokeFallback after Settle");
                    ensure!(c.fallback_invoked.is_none(), "call {id}: fallback invoked twice");
                    ensure!(c.cancel_fed_at.is_none(), "call {id}: fallback invoked after a cancel");
                    ensure!(
                        c.last_cause == Some(original),
                        "I6 call {id}: fallback given {original:?}, last cause was {:?}",
                        c.last_cause
                    );
                    ensure!(
                        !c.attempts.iter().any(|a| a.outstanding()),
                        "call {id}: fallback with attempts outstanding"
                    );
                    c.attempts_ended(id, now)?;
                    let Some(fb) = c.spec.fallback else {
                        return Err(format!("call {id}: fallback invoked without one"));
                    };
                    c.fallback_invoked = Some(original);
                    c.fb_live = true;
                    if fb.after == 0 {
                        c.fb_live = false;
                        self.handle(id, Input::FallbackEnded { ok: fb.ok })?;
                    } else {
                        let t = self.timers.arm(now + fb.after, Timer::FbDone(id));
                        self.calls[id].fb_timer = Some(t);
                    }
                }
                Action::Settle(s) => {
                    let c = &mut self.calls[id];
                    ensure!(c.settles.is_empty(), "I1 call {id}: settled twice ({:?}, then {s:?})", c.settles);
                    c.settles.push((s, now));
                    if c.fallback_invoked.is_none()
                        && c.cancel_fed_at.is_none()
                        && !matches!(s, Settlement::Attempt(_) | Settlement::Error { kind: ErrorKind::BadRequest, .. })
                    {
                        c.attempts_ended(id, now)?;
                    }
                    self.check_settlement(id)?;
                }
            }
        }
        Ok(())
    }

    fn invoke(&mut self, id: usize, attempt: AttemptId) -> Result<(), String> {
        let now = self.now();
        let live = self.live_runs();
        let limit_before = self.limit_before;
        let cfg_now = self.cmd.config();
        let c = &mut self.calls[id];
        ensure!(c.settles.is_empty(), "I3 call {id}: InvokeAttempt {attempt:?} after Settle");
        ensure!(c.attempts.iter().all(|a| a.id != attempt), "call {id}: attempt {attempt:?} invoked twice");
        if c.retrying() {
            ensure!(
                !c.attempts.iter().any(|a| a.outstanding()),
                "I3 call {id}: retrying call invokes {attempt:?} with another attempt outstanding"
            );
        }
        ensure!(
            live < limit_before,
            "I2 call {id}: {attempt:?} admitted with {live} runs holding permits, limit {limit_before}"
        );
        let probe = self.attempt_started(id, None)?;
        let c = &mut self.calls[id];
        let deadline = c.deadline();
        let timeout_at = match (cfg_now.timeout_enabled, deadline) {
            (true, Some(d)) => Some((now + cfg_now.timeout_ms).min(d)),
            (true, None) => Some(now + cfg_now.timeout_ms),
            (false, d) => d,
        };
        // I10/I7: §14.2 arms the hedge timer at the start, before the
        // admission; §9.2/§1 arm the timeout after it, before the run.
        let mut want_armed = vec![];
        if let Some(p) = c.pending_hedge.filter(|_| c.hedging()) {
            want_armed.push(p);
        }
        want_armed.extend(timeout_at);
        ensure!(
            c.armed_now == want_armed,
            "I10 call {id}: timers armed before invoking {attempt:?} at {now}: {:?}, expected {want_armed:?}",
            c.armed_now
        );
        c.armed_now.clear();
        let k = c.attempts.len();
        let spec = c.spec.runs[k.min(c.spec.runs.len() - 1)];
        c.attempts.push(AttemptRec {
            id: attempt,
            start: now,
            spec,
            timeout_at,
            inflight: live + 1,
            probe,
            ended: false,
            aborted: None,
            stopped: false,
            run_timer: None,
        });
        ensure!(
            c.attempts.len() as u64 <= c.max_attempts(),
            "I3 call {id}: {} attempts invoked, at most {} allowed",
            c.attempts.len(),
            c.max_attempts()
        );
        self.max_limit_seen = self.max_limit_seen.max(limit_before);
        if spec.after == 0 {
            self.run_ends(id, attempt)
        } else {
            let t = self.timers.arm(now + spec.after, Timer::RunDone(id, attempt));
            self.calls[id].attempt(attempt).unwrap().run_timer = Some(t);
            Ok(())
        }
    }

    fn run_ends(&mut self, id: usize, attempt: AttemptId) -> Result<(), String> {
        let now = self.now();
        let c = &mut self.calls[id];
        let a = c.attempt(attempt).unwrap();
        a.ended = true;
        a.run_timer = None;
        let (outcome, aborted, timeout_at) = (a.spec.outcome, a.aborted, a.timeout_at);
        if aborted.is_none() {
            if let Some(t) = timeout_at {
                ensure!(now < t, "I7 call {id}: {attempt:?} ended by itself at {now}, its timeout was due at {t}");
            }
        }
        let (n_events, n_settles) = (c.events.len(), c.settles.len());
        self.handle(id, Input::AttemptEnded { attempt, outcome })?;
        if aborted.is_some() {
            let c = &self.calls[id];
            ensure!(
                c.events.len() == n_events && c.settles.len() == n_settles,
                "I3 call {id}: {attempt:?} ended after its abort and recorded {:?}",
                &c.events[n_events..]
            );
        }
        Ok(())
    }

    fn abort(&mut self, id: usize, attempt: AttemptId, reason: ErrorKind) -> Result<(), String> {
        let now = self.now();
        let c = &mut self.calls[id];
        let Some(a) = c.attempt(attempt) else {
            return Err(format!("I3 call {id}: AbortAttempt for {attempt:?}, never invoked"));
        };
        ensure!(!a.ended, "I3 call {id}: AbortAttempt for {attempt:?} whose run has ended");
        ensure!(a.aborted.is_none(), "I3 call {id}: AbortAttempt for {attempt:?} twice");
        a.aborted = Some(reason);
        let (ignores, timer, timeout_at, a_start) = (a.spec.ignores, a.run_timer, a.timeout_at, a.start);
        let probe = a.probe;
        self.circuit.outcome(
            now,
            if reason == ErrorKind::Timeout { EventType::Timeout } else { EventType::Cancelled },
            probe,
        );
        match reason {
            ErrorKind::Timeout => {
                c.aborts_timeout += 1;
                let cfg = self.cmd.config();
                self.limiter.sample(&cfg, now, now - a_start, c.attempt(attempt).unwrap().inflight, true);
                ensure!(
                    timeout_at == Some(now),
                    "I7 call {id}: {attempt:?} (started {}) timed out at {now}, its timeout was {timeout_at:?}",
                    a_start
                );
            }
            ErrorKind::Cancelled => c.aborts_cancel += 1,
            other => return Err(format!("call {id}: AbortAttempt with reason {other:?}")),
        }
        if !ignores {
            if let Some(t) = timer {
                self.timers.cancel(t);
            }
            let a = self.calls[id].attempt(attempt).unwrap();
            a.stopped = true;
            a.run_timer = None;
            self.handle(id, Input::AttemptStopped { attempt })?;
        }
        Ok(())
    }

    fn fire(&mut self, timer: Timer) -> Result<(), String> {
        self.before_reaction();
        match timer {
            Timer::Call(id, t) => {
                self.calls[id].armed.remove(&t);
                self.calls[id].armed_now.clear();
                self.handle(id, Input::TimerFired { timer: t })?;
                self.drain(id)?;
            }
            Timer::RunDone(id, attempt) => {
                self.run_ends(id, attempt)?;
                self.drain(id)?;
            }
            Timer::FbDone(id) => {
                let ok = self.calls[id].spec.fallback.unwrap().ok;
                self.calls[id].fb_live = false;
                self.calls[id].fb_timer = None;
                self.handle(id, Input::FallbackEnded { ok })?;
                self.drain(id)?;
            }
            Timer::Cancel(id) => {
                self.calls[id].cancel_timer = None;
                let now = self.now();
                let settled = !self.calls[id].settles.is_empty();
                let n_events = self.calls[id].events.len();
                if !settled {
                    self.calls[id].cancel_fed_at = Some(now);
                }
                self.handle(id, Input::Cancel)?;
                if settled {
                    let c = &mut self.calls[id];
                    ensure!(c.events.len() == n_events, "I3 call {id}: cancelling a settled call recorded events");
                    let a = c.call_mut().poll_action();
                    ensure!(a.is_none(), "I3 call {id}: cancelling a settled call asked for {a:?}");
                } else {
                    self.drain(id)?;
                    let c = &self.calls[id];
                    ensure!(c.settles.len() == 1, "I1 call {id}: a cancel did not settle it at once");
                    ensure!(
                        !c.attempts.iter().any(|a| a.outstanding()),
                        "call {id}: attempts outstanding after its cancellation"
                    );
                }
            }
        }
        self.after_reaction()
    }

    fn after_reaction(&mut self) -> Result<(), String> {
        let now = self.now();
        self.consume_notices()?;
        self.circuit.snapshot(now);
        let snap = self.cmd.snapshot_at(now);
        let want_state = match (self.circuit.enabled, self.circuit.state) {
            (false, _) | (true, CState::Closed) => CircuitState::Closed,
            (true, CState::Open(_)) => CircuitState::Open,
            (true, CState::HalfOpen) => CircuitState::HalfOpen,
        };
        ensure!(snap.state == want_state, "I12 t={now}: state {:?}, circuit model {:?}", snap.state, self.circuit);
        let (total, errors) = self.circuit.health(now);
        ensure!(
            (snap.health.total, snap.health.errors) == (total, errors),
            "I12 t={now}: health {:?}, model total {total} errors {errors}",
            snap.health
        );
        let live = self.live_runs();
        ensure!(
            u64::from(snap.concurrent) == live,
            "I2 t={now}: snapshot concurrent {} but {live} runs invoked and not stopped",
            snap.concurrent
        );
        for (id, c) in self.calls.iter().enumerate() {
            if let Some(call) = &c.call {
                let want = !c.settles.is_empty() && !c.fb_live && !c.attempts.iter().any(|a| a.live());
                ensure!(
                    call.is_finished() == want && call.is_settled() != c.settles.is_empty(),
                    "I1 t={now} call {id}: is_finished {} is_settled {}, host: settled {} fallback running {} runs live {}",
                    call.is_finished(),
                    call.is_settled(),
                    !c.settles.is_empty(),
                    c.fb_live,
                    c.attempts.iter().filter(|a| a.live()).count()
                );
            }
        }
        let fb_live = self.calls.iter().filter(|c| c.fb_live).count() as u64;
        ensure!(
            u64::from(snap.fallback_concurrent) == fb_live,
            "I2 t={now}: snapshot fallback_concurrent {} but {fb_live} fallbacks running",
            snap.fallback_concurrent
        );
        self.max_limit_seen = self.max_limit_seen.max(snap.limit);
        ensure!(
            live <= self.max_limit_seen,
            "I2 t={now}: {live} permits held, largest limit seen {}",
            self.max_limit_seen
        );
        let cfg = self.cmd.config();
        match cfg.concurrency_limit_mode {
            LimitMode::Fixed => {
                ensure!(snap.limit == cfg.max_concurrent_requests, "t={now}: fixed limit {}", snap.limit)
            }
            _ => ensure!(
                (cfg.adaptive_min_limit..=cfg.adaptive_max_limit).contains(&snap.limit),
                "t={now}: adaptive limit {} outside [{}, {}]",
                snap.limit,
                cfg.adaptive_min_limit,
                cfg.adaptive_max_limit
            ),
        }
        let want_limit = match cfg.concurrency_limit_mode {
            LimitMode::Fixed => cfg.max_concurrent_requests,
            LimitMode::Aimd => self.limiter.limit,
            LimitMode::Gradient2 => self.limiter.estimate.floor() as u64,
        };
        ensure!(
            snap.limit == want_limit,
            "I11 t={now}: snapshot limit {}, §15 model {want_limit} ({:?})",
            snap.limit,
            self.limiter
        );
        let want_budget = if self.budget.percent > 0 { self.budget.balance(now) } else { 0 };
        ensure!(snap.budget == want_budget, "I4 t={now}: snapshot budget {}, model {want_budget}", snap.budget);
        let heard = self.heard.lock().unwrap();
        ensure!(
            *heard == self.observed,
            "I8 t={now}: the listener heard {:?}, the calls recorded {:?}",
            &heard[heard.len().saturating_sub(8)..],
            &self.observed[self.observed.len().saturating_sub(8)..]
        );
        // §4 rolling counts, window 1000 ms in 10 buckets.
        let cur = (now / 100) as i64;
        for e in EventType::ALL {
            let n = self.observed.iter().filter(|(x, t)| *x == e && (t / 100) as i64 > cur - 10).count() as u64;
            ensure!(snap.rolling.get(e) == n, "I8 t={now}: rolling {e} {}, expected {n}", snap.rolling.get(e));
        }
        for e in EventType::ALL {
            let n = heard.iter().filter(|(x, _)| *x == e).count() as u64;
            ensure!(snap.cumulative.get(e) == n, "I8 t={now}: cumulative {e} {} but heard {n}", snap.cumulative.get(e));
        }
        Ok(())
    }

    /// I6 at the Settle action.
    fn check_settlement(&mut self, id: usize) -> Result<(), String> {
        let c = &self.calls[id];
        let (s, _) = c.settles[0];
        let evs: Vec<EventType> = c.events.iter().map(|(e, _)| *e).collect();
        let has = |e: EventType| evs.contains(&e);
        if c.cancel_fed_at.is_some() {
            ensure!(
                s == Settlement::Error { kind: ErrorKind::Cancelled, original: None },
                "I6 call {id}: cancelled but settled {s:?}"
            );
            ensure!(
                !c.attempts.iter().any(|a| a.outstanding()),
                "I6 call {id}: settled as cancelled with attempts outstanding"
            );
            return Ok(());
        }
        ensure!(!c.attempts.iter().any(|a| a.outstanding()), "I6 call {id}: settled {s:?} with attempts outstanding");
        match s {
            Settlement::Attempt(a) => {
                ensure!(has(EventType::Success), "I6 call {id}: settled with {a:?}'s value but no SUCCESS: {evs:?}");
                let rec = c.attempts.iter().find(|x| x.id == a);
                ensure!(
                    rec.is_some_and(|r| r.ended
                        && r.aborted.is_none()
                        && matches!(r.spec.outcome, RunOutcome::Success)),
                    "I6 call {id}: settled with {a:?}, which did not succeed"
                );
            }
            Settlement::Error { kind: ErrorKind::BadRequest, original } => {
                ensure!(has(EventType::BadRequest), "I6 call {id}: bad_request without BAD_REQUEST");
                ensure!(matches!(original, Some(Original::Attempt(_))), "I6 call {id}: bad_request from {original:?}");
            }
            Settlement::Error { kind: ErrorKind::Cancelled, .. } => {
                return Err(format!("I6 call {id}: settled cancelled without a cancel"))
            }
            _ => {
                ensure!(
                    !has(EventType::Success) && !has(EventType::BadRequest),
                    "I6 call {id}: settled {s:?} after SUCCESS/BAD_REQUEST: {evs:?}"
                );
                let cause = c.last_cause.ok_or(format!("I6 call {id}: settled {s:?} with no cause: {evs:?}"))?;
                let fb = evs.iter().copied().filter(|e| is_fallback_event(*e)).collect::<Vec<_>>();
                ensure!(fb.len() == 1, "I6 call {id}: settled {s:?} with fallback events {fb:?}");
                let want = match fb[0] {
                    EventType::FallbackSuccess => Settlement::Fallback,
                    EventType::FallbackFailure => {
                        Settlement::Error { kind: ErrorKind::FallbackFailure, original: Some(cause) }
                    }
                    EventType::FallbackRejection => {
                        Settlement::Error { kind: ErrorKind::FallbackRejected, original: Some(cause) }
                    }
                    _ => Settlement::Error { kind: cause_kind(cause), original: Some(cause) },
                };
                ensure!(s == want, "I6 call {id}: settled {s:?}, expected {want:?} (events {evs:?})");
                if matches!(fb[0], EventType::FallbackSuccess | EventType::FallbackFailure) {
                    ensure!(c.fallback_invoked == Some(cause), "I6 call {id}: fallback outcome without invoking it");
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), String> {
        self.consume_notices()?;
        ensure!(self.timers.is_empty(), "timers left after draining");
        let mut sum = [0u64; EventType::COUNT];
        for id in 0..self.calls.len() {
            if self.calls[id].call.is_none() {
                for (e, _) in &self.calls[id].events {
                    sum[e.index()] += 1;
                }
                continue;
            }
            ensure!(self.calls[id].call_mut().poll_action().is_none(), "call {id}: actions left");
            let c = &self.calls[id];
            ensure!(c.settles.len() == 1, "I1 call {id}: settled {} times", c.settles.len());
            ensure!(c.call().is_settled(), "I1 call {id}: is_settled() false");
            ensure!(c.call().is_finished(), "I1 call {id}: not finished once all runs and its fallback ended");
            let evs: Vec<EventType> = c.events.iter().map(|(e, _)| *e).collect();
            let final_evs: Vec<EventType> = c.call().events().collect();
            ensure!(evs == final_evs, "call {id}: events changed");
            for e in &evs {
                sum[e.index()] += 1;
            }
            self.check_shape(id, &evs)?;
        }
        let heard = self.heard.lock().unwrap().clone();
        let snap = self.cmd.snapshot_at(self.now());
        for e in EventType::ALL {
            let n = heard.iter().filter(|(x, _)| *x == e).count() as u64;
            ensure!(n == sum[e.index()], "I8: listener heard {n} {e}, the calls' own events hold {}", sum[e.index()]);
            ensure!(snap.cumulative.get(e) == n, "I8: cumulative {e} {} but heard {n}", snap.cumulative.get(e));
        }
        ensure!(snap.concurrent == 0 && snap.fallback_concurrent == 0, "I1: permits held at the end: {snap:?}");
        // I5.
        for seg in &self.segments {
            if seg.n == 0 {
                continue;
            }
            let mut s = seg.starts.clone();
            s.sort_unstable();
            for i in 0..s.len() {
                for j in i..s.len() {
                    let bound = rate_bound(seg, s[j] - s[i]);
                    ensure!(
                        (j - i + 1) as u64 <= bound,
                        "I5: {} first attempts started in [{}, {}], bound {bound} (N {} P {} B {}): {:?}",
                        j - i + 1,
                        s[i],
                        s[j],
                        seg.n,
                        seg.p,
                        seg.b,
                        s
                    );
                }
            }
        }
        self.calls_done = std::mem::take(&mut self.calls);
        Ok(())
    }

    /// I1: once every call is dropped, no permit is held.
    fn drop_calls(&mut self) -> Result<(), String> {
        self.calls_done.clear();
        let snap = self.cmd.snapshot_at(self.now());
        ensure!(snap.concurrent == 0 && snap.fallback_concurrent == 0, "I1: permits held after dropping the calls");
        Ok(())
    }

    /// I6 on a finished call's whole event list.
    fn check_shape(&self, id: usize, evs: &[EventType]) -> Result<(), String> {
        let c = &self.calls[id];
        let fb_pos: Vec<usize> = (0..evs.len()).filter(|&i| is_fallback_event(evs[i])).collect();
        ensure!(fb_pos.len() <= 1, "I6 call {id}: several fallback events {evs:?}");
        if let Some(&p) = fb_pos.first() {
            ensure!(p == evs.len() - 1, "I6 call {id}: fallback event not last: {evs:?}");
        }
        let body: Vec<EventType> = evs.iter().copied().filter(|e| !is_fallback_event(*e)).collect();
        if body.contains(&EventType::RateLimited) {
            ensure!(body == [EventType::RateLimited], "I6 call {id}: RATE_LIMITED with other events {evs:?}");
            ensure!(
                c.attempts.is_empty() && c.call().attempts_started() == 0,
                "I6 call {id}: rate limited, yet attempted"
            );
            return Ok(());
        }
        let outcomes = body.iter().filter(|e| e.is_execution()).count() as u64;
        let run_outcomes = body
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    EventType::Success
                        | EventType::Failure
                        | EventType::BadRequest
                        | EventType::Timeout
                        | EventType::Cancelled
                )
            })
            .count();
        let refusals =
            body.iter().filter(|e| matches!(e, EventType::ShortCircuited | EventType::SemaphoreRejected)).count();
        ensure!(
            run_outcomes == c.attempts.len(),
            "I6 call {id}: {} runs invoked but {run_outcomes} run outcomes: {evs:?}",
            c.attempts.len()
        );
        ensure!(
            outcomes == (c.attempts.len() + refusals) as u64 && outcomes == c.call().attempts_started(),
            "I6 call {id}: attempts {outcomes}, invoked {} + refused {refusals}, attempts_started {}",
            c.attempts.len(),
            c.call().attempts_started()
        );
        ensure!(outcomes <= c.max_attempts(), "I3 call {id}: {outcomes} attempts > {}: {evs:?}", c.max_attempts());
        let n = |e: EventType| body.iter().filter(|x| **x == e).count() as u64;
        ensure!(
            n(EventType::Timeout) == c.aborts_timeout,
            "I6 call {id}: TIMEOUTs {} vs timeout aborts {}",
            n(EventType::Timeout),
            c.aborts_timeout
        );
        ensure!(
            n(EventType::Cancelled) == c.aborts_cancel,
            "I6 call {id}: CANCELLEDs {} vs cancel aborts {}",
            n(EventType::Cancelled),
            c.aborts_cancel
        );
        ensure!(n(EventType::RetryBudgetExhausted) <= 1, "I6 call {id}: several RETRY_BUDGET_EXHAUSTED {evs:?}");
        ensure!(n(EventType::Success) + n(EventType::BadRequest) <= 1, "I6 call {id}: two winners {evs:?}");
        if let Some(w) = body.iter().position(|e| matches!(e, EventType::Success | EventType::BadRequest)) {
            ensure!(
                body[w + 1..].iter().all(|e| *e == EventType::Cancelled),
                "I6 call {id}: events after the winner other than CANCELLED: {evs:?}"
            );
            ensure!(fb_pos.is_empty(), "I6 call {id}: a fallback event after a winner: {evs:?}");
        }
        if outcomes == 0 {
            // Cancelled while waiting in the rate limiter.
            ensure!(body.is_empty() && c.cancel_fed_at.is_some(), "I6 call {id}: no attempt yet events {evs:?}");
        }
        if c.retrying() {
            ensure!(n(EventType::Hedge) == 0, "I6 call {id}: HEDGE in a retrying call {evs:?}");
            // O (RETRY O)* (RETRY | RBE)?   — a trailing RETRY only if cancelled in the backoff.
            let mut i = 0;
            let mut expect_outcome = true;
            while i < body.len() {
                let e = body[i];
                if expect_outcome {
                    ensure!(e.is_execution(), "I6 call {id}: expected an attempt outcome at {i}: {evs:?}");
                    expect_outcome = false;
                } else if e == EventType::Retry {
                    expect_outcome = true;
                } else if e == EventType::RetryBudgetExhausted {
                    ensure!(i == body.len() - 1, "I6 call {id}: events after RETRY_BUDGET_EXHAUSTED: {evs:?}");
                } else if e == EventType::Cancelled {
                    // A winner's losers cannot exist in a retrying call; only the caller's cancel.
                    return Err(format!("I6 call {id}: two outcomes of one retry attempt: {evs:?}"));
                } else {
                    return Err(format!("I6 call {id}: unexpected {e} at {i}: {evs:?}"));
                }
                i += 1;
            }
            if expect_outcome && !body.is_empty() {
                ensure!(c.cancel_fed_at.is_some(), "I6 call {id}: ends with RETRY yet not cancelled: {evs:?}");
            }
        } else if c.hedging() {
            ensure!(n(EventType::Retry) == 0, "I6 call {id}: RETRY in a hedging call {evs:?}");
            ensure!(
                outcomes == n(EventType::Hedge) + 1 || outcomes == 0,
                "I6 call {id}: {outcomes} attempts but {} HEDGE: {evs:?}",
                n(EventType::Hedge)
            );
        } else {
            ensure!(body.iter().all(|e| !is_marker(*e)), "I6 call {id}: markers without retry or hedging {evs:?}");
            ensure!(outcomes <= 1, "I6 call {id}: several attempts {evs:?}");
        }
        if c.cancel_fed_at.is_some() && c.fallback_invoked.is_none() {
            ensure!(fb_pos.is_empty(), "I6 call {id}: cancelled before its fallback, yet {evs:?}");
        }
        Ok(())
    }
}

fn drive(config: Config, ops: &[Op]) -> Result<(), String> {
    let mut h = Harness::new(config)?;
    let r = h.run(ops).and_then(|()| h.drop_calls());
    if let Err(e) = &r {
        if std::env::var_os("V2_PROPS_TRACE").is_some() {
            for l in &h.log {
                eprintln!("{l}");
            }
        }
        return Err(e.clone());
    }
    r
}

fn cases() -> u32 {
    std::env::var("V2_PROPS_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 4000, ..ProptestConfig::default() })]

    #[test]
    fn v2_call_machine_invariants(config in config_strategy(), ops in workload_strategy()) {
        if let Err(e) = drive(config, &ops) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// Guards against a vacuous harness: over a fixed run of generated cases,
/// every v2 behaviour the invariants are about must actually happen.
#[test]
fn generated_workloads_exercise_v2_features() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config as RunnerConfig, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        RunnerConfig::default(),
        TestRng::deterministic_rng(RunnerConfig::default().rng_algorithm),
    );
    let mut seen = [0u64; EventType::COUNT];
    let (mut ignored_aborts, mut waits, mut post_cancel_fallbacks, mut reconfigs, mut drops) = (0, 0, 0, 0, 0);
    for _ in 0..300 {
        let config = config_strategy().new_tree(&mut runner).unwrap().current();
        let ops = workload_strategy().new_tree(&mut runner).unwrap().current();
        let mut h = Harness::new(config).unwrap();
        h.run(&ops).unwrap_or_else(|e| panic!("{e}"));
        reconfigs += h.log.iter().filter(|l| l.contains("configure")).count();
        drops += h.log.iter().filter(|l| l.contains("drop call")).count();
        for c in &h.calls_done {
            for (e, _) in &c.events {
                seen[e.index()] += 1;
            }
            ignored_aborts += c.attempts.iter().filter(|a| a.aborted.is_some() && a.spec.ignores).count();
            if c.first_start.is_some_and(|s| s > c.started_at) {
                waits += 1;
            }
            if c.cancel_fed_at.is_some() && c.fallback_invoked.is_some() {
                post_cancel_fallbacks += 1;
            }
        }
    }
    eprintln!("events seen: {:?}", EventType::ALL.iter().map(|e| (e.as_str(), seen[e.index()])).collect::<Vec<_>>());
    eprintln!("ignored aborts {ignored_aborts}, rate-limiter waits {waits}, cancels during fallback {post_cancel_fallbacks}, reconfigurations {reconfigs}, drops {drops}");
    for e in EventType::ALL {
        assert!(seen[e.index()] > 0, "no {e} in 300 generated cases");
    }
    assert!(ignored_aborts > 0 && waits > 0 && post_cancel_fallbacks > 0 && reconfigs > 0 && drops > 0);
}
