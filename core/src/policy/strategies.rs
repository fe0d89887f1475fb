//! A command's SPEC v2 strategy state — its random generator, retry budget,
//! rate limiter and adaptive limiter — and the command methods calls use to
//! reach it (semantics §10, §12, §13, §15, §8.2 for reconfiguration).
//!
//! Each part sits behind its own lock (the rate limiter is lock-free in the
//! common case), taken only while its feature is on:
//! with every v2 key at its default, calls read one atomic word of feature
//! bits and never touch this state. So the generator, budget and adaptive
//! limiter are allocated at their first use (or at a reconfiguration that
//! restarts the generator or the adaptive limiter), not with the command;
//! the rate limiter stays inline (its admission is a call's first stage).

use super::adaptive::{AdaptiveLimiter, AdaptiveParams};
use super::budget::{RetryBudget, RETRY_COST};
use super::random::SplitMix64;
use super::rate_limiter::{RateDecision, RateLimiter};
use crate::call::plan::Plan;
use crate::command::{Command, Ticket};
use crate::config::{feature, Config, LimitMode};
use crate::event::EventType;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The strategy state of one command.
pub(crate) struct Strategies {
    /// Made at first use from the configuration then in force (see
    /// [`Strategies::reconfigure`] for why that is the state a command
    /// made eagerly would have).
    parts: OnceLock<Box<Parts>>,
    /// Inline: the rate limiter's admission is a call's first stage when
    /// it is on, and one pointer less to follow there.
    rate: RateLimiter,
    /// The adaptive limit, published for admission's lock-free read.
    limit: AtomicU64,
}

/// The parts of [`Strategies`] that hold state.
struct Parts {
    rng: Mutex<SplitMix64>,
    budget: Mutex<RetryBudget>,
    adaptive: Mutex<AdaptiveLimiter>,
}

impl Parts {
    /// Fresh parts for configuration `c`.
    fn new(c: &Config) -> Box<Parts> {
        Box::new(Parts {
            rng: Mutex::new(SplitMix64::new(c.random_seed)),
            budget: Mutex::new(RetryBudget::new()),
            adaptive: Mutex::new(AdaptiveLimiter::new(&adaptive_params(c))),
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The adaptive limiter's settings in `c`.
fn adaptive_params(c: &Config) -> AdaptiveParams {
    AdaptiveParams {
        mode: c.concurrency_limit_mode,
        initial: c.adaptive_initial_limit,
        min: c.adaptive_min_limit,
        max: c.adaptive_max_limit,
        window_ms: c.adaptive_window_ms,
        window_min_samples: c.adaptive_window_min_samples,
        drop_on_failure: c.adaptive_drop_on_failure,
        backoff_permille: c.aimd_backoff_permille,
        aimd_timeout_ms: c.aimd_timeout_ms,
        smoothing_permille: c.gradient2_smoothing_permille,
        queue_size: c.gradient2_queue_size,
        long_window: c.gradient2_long_window,
        rtt_tolerance_permille: c.gradient2_rtt_tolerance_permille,
    }
}

impl Strategies {
    /// Fresh state for a command created with `c` (semantics §10, §15.5).
    pub(crate) fn new(c: &Config) -> Strategies {
        Strategies {
            parts: OnceLock::new(),
            rate: RateLimiter::new(),
            limit: AtomicU64::new(AdaptiveLimiter::new(&adaptive_params(c)).limit()),
        }
    }

    /// Semantics §8.2: what a change from `old` to `new` (already in force)
    /// restarts or empties.
    ///
    /// Parts not made yet need nothing, with one race to close: a first use
    /// on another thread may be making them from `old`. The budget starts
    /// the same whatever the configuration, so one made from `old` holds
    /// what emptying it would leave; the generator and the adaptive limiter
    /// do not, so a change of their keys makes the parts here (waiting for
    /// a first use under way) and restarts them.
    pub(crate) fn reconfigure(&self, old: &Config, new: &Config) {
        if (old.rate_limit_for_period, old.rate_limit_period_ms, old.rate_limit_burst)
            != (new.rate_limit_for_period, new.rate_limit_period_ms, new.rate_limit_burst)
        {
            self.rate.restart();
        }
        let params = adaptive_params(new);
        let restarts_made_from_config = old.random_seed != new.random_seed || adaptive_params(old) != params;
        let parts = if restarts_made_from_config {
            self.parts.get_or_init(|| Parts::new(new))
        } else {
            match self.parts.get() {
                Some(parts) => parts,
                None => return,
            }
        };
        if old.random_seed != new.random_seed {
            *lock(&parts.rng) = SplitMix64::new(new.random_seed);
        }
        if old.retry_budget_window_ms != new.retry_budget_window_ms
            || old.retry_budget_window_buckets != new.retry_budget_window_buckets
            || new.retry_budget_percent == 0
        {
            lock(&parts.budget).reset();
        }
        if adaptive_params(old) != params {
            let mut adaptive = lock(&parts.adaptive);
            adaptive.restart(&params);
            self.limit.store(adaptive.limit(), Relaxed);
        }
    }
}

/// The locked retry budget of one decision (see [`Command::budget_at`]).
pub(crate) struct BudgetGuard<'a> {
    budget: MutexGuard<'a, RetryBudget>,
    now: u64,
    min_per_sec: u64,
    window_ms: u64,
    buckets: u64,
}

impl BudgetGuard<'_> {
    /// Whether the balance allows a retry or hedge (at least 100 units).
    pub(crate) fn allows(&mut self) -> bool {
        self.budget.allows(self.now, self.min_per_sec, self.window_ms, self.buckets)
    }

    /// A retry or hedge goes ahead: 100 units out.
    pub(crate) fn withdraw(mut self) {
        self.budget.withdraw(self.now, RETRY_COST, self.window_ms, self.buckets);
    }
}

impl Command {
    #[inline]
    fn features(&self) -> u32 {
        self.inner.config.v2_features()
    }

    /// Whether a call starting now needs the call machine's stages: retry,
    /// hedging, the rate limiter or a deadline is on. The drivers' fast
    /// paths (one attempt, no waits) serve every other call.
    #[inline]
    pub(crate) fn per_call_strategies(&self) -> bool {
        Self::needs_call_machine(self.features())
    }

    /// Whether `features` (a [`Command::v2_features`] reading) needs the
    /// call machine's stages: what [`Command::per_call_strategies`] says,
    /// from a word the caller already loaded.
    #[inline(always)]
    pub(crate) fn needs_call_machine(features: u32) -> bool {
        features & (feature::RETRY | feature::HEDGE | feature::RATE_LIMIT | feature::DEADLINE) != 0
    }

    /// Whether `features` turns the adaptive limit on: admission must read
    /// the limit in force, not `max_concurrent_requests` (semantics §15.1).
    #[inline(always)]
    pub(crate) fn adaptive_limit_on(features: u32) -> bool {
        features & feature::ADAPTIVE != 0
    }

    /// Which SPEC v2 features the configuration in force turns on (bits of
    /// [`crate::config::feature`]), read with one atomic load: a host can
    /// keep a cheaper single-attempt path for calls that need no
    /// [`crate::Call`] machinery (no retry, hedge, deadline or rate limit).
    #[inline]
    pub fn v2_features(&self) -> u32 {
        self.features()
    }

    /// The per-call keys a call starting now uses (semantics §9.6).
    #[inline]
    pub(crate) fn call_plan(&self) -> Plan {
        if self.features() & (feature::RETRY | feature::HEDGE | feature::DEADLINE) == 0 {
            return Plan::SINGLE;
        }
        Plan::live(&self.inner.config)
    }

    /// Stage 1 of a call at `now`: the rate limiter (semantics §13).
    #[inline]
    pub(crate) fn rate_admit(&self, now: u64) -> RateDecision {
        if self.features() & feature::RATE_LIMIT == 0 {
            return RateDecision::Now;
        }
        // Only the keys it uses, a relaxed load each (not the whole config),
        // read by the limiter after its state (see `RateLimiter`).
        let c = &self.inner.config;
        self.inner.strategies.rate.admit_with(now, || {
            (
                c.rate_limit_for_period.load(Relaxed),
                c.rate_limit_period_ms.load(Relaxed),
                c.rate_limit_burst.load(Relaxed),
                c.rate_limit_timeout_ms.load(Relaxed),
            )
        })
    }

    /// The retry budget at `now`, locked, if it is on: a retry or hedge
    /// decision checks and withdraws under one lock (semantics §12), so
    /// calls racing on several threads never overspend it. Drop the guard
    /// before recording anything (listeners must not run under it).
    pub(crate) fn budget_at(&self, now: u64) -> Option<BudgetGuard<'_>> {
        if self.features() & feature::RETRY_BUDGET == 0 {
            return None;
        }
        let c = &self.inner.config;
        Some(BudgetGuard {
            budget: lock(&self.strategy_parts().budget),
            now,
            min_per_sec: c.retry_budget_min_per_sec.load(Relaxed),
            window_ms: c.retry_budget_window_ms.load(Relaxed),
            buckets: c.retry_budget_window_buckets.load(Relaxed),
        })
    }

    /// The budget's balance at `now`; `0` while it is off (semantics §16).
    pub(crate) fn budget_balance(&self, now: u64) -> i64 {
        if self.features() & feature::RETRY_BUDGET == 0 {
            return 0;
        }
        let c = self.config();
        lock(&self.strategy_parts().budget).balance(
            now,
            c.retry_budget_min_per_sec,
            c.retry_budget_window_ms,
            c.retry_budget_window_buckets,
        )
    }

    /// One draw of the command's generator (semantics §10).
    pub(crate) fn draw(&self) -> u64 {
        lock(&self.strategy_parts().rng).next_u64()
    }

    /// The bulkhead's limit in force (semantics §15.1).
    #[inline]
    pub(crate) fn limit(&self) -> u64 {
        if self.features() & feature::ADAPTIVE == 0 {
            return self.inner.config.max_concurrent_requests.load(Relaxed);
        }
        self.inner.strategies.limit.load(Relaxed)
    }

    /// Semantics §9.3 steps 5–6 for an admitted attempt's outcome `event` at
    /// `now`: the budget deposit of a `SUCCESS`, the adaptive sample.
    #[inline]
    pub(crate) fn after_outcome_v2(&self, ticket: &Ticket, now: u64, event: EventType) {
        let features = self.features();
        if features & (feature::RETRY_BUDGET | feature::ADAPTIVE) == 0 {
            return;
        }
        self.after_outcome_slow(features, ticket, now, event);
    }

    #[cold]
    fn after_outcome_slow(&self, features: u32, ticket: &Ticket, now: u64, event: EventType) {
        let live = &self.inner.config;
        let strategies = self.strategy_parts();
        if features & feature::RETRY_BUDGET != 0 && event == EventType::Success {
            let units = i64::try_from(live.retry_budget_percent.load(Relaxed)).unwrap_or(i64::MAX);
            let (window_ms, buckets) =
                (live.retry_budget_window_ms.load(Relaxed), live.retry_budget_window_buckets.load(Relaxed));
            lock(&strategies.budget).deposit(now, units, window_ms, buckets);
        }
        if live.concurrency_limit_mode.load(Relaxed) == LimitMode::Fixed {
            return;
        }
        let c = self.config();
        let dropped = match event {
            EventType::Success => false,
            EventType::Timeout => true,
            EventType::Failure if c.adaptive_drop_on_failure => true,
            _ => return,
        };
        let mut adaptive = lock(&strategies.adaptive);
        let rtt = now.saturating_sub(ticket.start);
        adaptive.sample(now, rtt, u64::from(ticket.inflight.get()), dropped, &adaptive_params(&c));
        self.inner.strategies.limit.store(adaptive.limit(), Relaxed);
    }

    /// The strategy parts, made now from the configuration in force if no
    /// call has needed them yet.
    fn strategy_parts(&self) -> &Parts {
        self.inner.strategies.parts.get_or_init(|| Parts::new(&self.config()))
    }
}
