//! The per-call keys (semantics §9.6): read once when a call starts and used
//! to its end, whatever `configure` does meanwhile.

#[cfg(test)]
use crate::config::Config;
use crate::event::EventType;
use crate::live_config::LiveConfig;
use crate::policy::backoff::Backoff;

/// What one call does beyond a single attempt: its retry, hedging and
/// deadline settings, fixed at its start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Attempts per call with retry, the first included; 1 = no retry.
    pub(crate) retry_max_attempts: u64,
    /// Whether a `TIMEOUT` may be retried (or start a hedge).
    pub(crate) retry_on_timeout: bool,
    /// Whether a `SEMAPHORE_REJECTED` may be retried (or start a hedge).
    pub(crate) retry_on_rejected: bool,
    /// The backoff between retries.
    pub(crate) backoff: Backoff,
    /// Overall deadline of the attempts from the first one's start; 0 = none.
    pub(crate) deadline_ms: u64,
    /// Attempts per call with hedging, the primary included; 1 = none.
    pub(crate) hedge_max_attempts: u64,
    /// From the latest attempt's start to the next hedge.
    pub(crate) hedge_delay_ms: u64,
    /// Whether a retryable failure starts the next hedge at once.
    pub(crate) hedge_on_failure: bool,
}

impl Plan {
    /// A plan of one attempt, no deadline: what a call with every per-call
    /// v2 key at its default does (never read from the live configuration).
    pub(crate) const SINGLE: Plan = Plan {
        retry_max_attempts: 1,
        retry_on_timeout: true,
        retry_on_rejected: false,
        backoff: Backoff { base: 0, multiplier_permille: 1000, max: 0, jitter: crate::config::Jitter::None },
        deadline_ms: 0,
        hedge_max_attempts: 1,
        hedge_delay_ms: 0,
        hedge_on_failure: true,
    };

    /// The per-call keys of `c` (what [`Plan::live`] must read).
    #[cfg(test)]
    pub(crate) fn of(c: &Config) -> Plan {
        Plan {
            retry_max_attempts: c.retry_max_attempts,
            retry_on_timeout: c.retry_on_timeout,
            retry_on_rejected: c.retry_on_rejected,
            backoff: Backoff {
                base: c.retry_base_delay_ms,
                multiplier_permille: c.retry_multiplier_permille,
                max: c.retry_max_delay_ms,
                jitter: c.retry_jitter,
            },
            deadline_ms: c.deadline_ms,
            hedge_max_attempts: c.hedge_max_attempts,
            hedge_delay_ms: c.hedge_delay_ms,
            hedge_on_failure: c.hedge_on_failure,
        }
    }

    /// The per-call keys in force in `live`: those of the configuration in
    /// force, with one relaxed load per key it uses instead of a load of
    /// every key (a call racing with a reconfiguration may see a mix of old
    /// and new values either way). A mix that no configuration allows —
    /// retry and hedging both on, read while one is replaced by the other
    /// (the keys are stored one by one) — is a retried call: hedging is
    /// left out, so the call runs one strategy as SPEC §8.1 requires.
    #[inline]
    pub(crate) fn live(live: &LiveConfig) -> Plan {
        let plan = Plan::read(live);
        if plan.retries() && plan.hedges() {
            return plan.unhedged();
        }
        plan
    }

    /// The keys as loaded, one relaxed load each (see [`Plan::live`]).
    #[inline(always)]
    fn read(live: &LiveConfig) -> Plan {
        use std::sync::atomic::Ordering::Relaxed;
        Plan {
            retry_max_attempts: live.retry_max_attempts.load(Relaxed),
            retry_on_timeout: live.retry_on_timeout.load(Relaxed),
            retry_on_rejected: live.retry_on_rejected.load(Relaxed),
            backoff: Backoff {
                base: live.retry_base_delay_ms.load(Relaxed),
                multiplier_permille: live.retry_multiplier_permille.load(Relaxed),
                max: live.retry_max_delay_ms.load(Relaxed),
                jitter: live.retry_jitter.load(Relaxed),
            },
            deadline_ms: live.deadline_ms.load(Relaxed),
            hedge_max_attempts: live.hedge_max_attempts.load(Relaxed),
            hedge_delay_ms: live.hedge_delay_ms.load(Relaxed),
            hedge_on_failure: live.hedge_on_failure.load(Relaxed),
        }
    }

    /// This plan limited to one attempt (no retry, no hedge); its deadline
    /// stays.
    pub(crate) fn single_attempt(mut self) -> Plan {
        self.retry_max_attempts = 1;
        self.hedge_max_attempts = 1;
        self
    }

    /// This plan without hedging (its retries stay).
    pub(crate) fn unhedged(mut self) -> Plan {
        self.hedge_max_attempts = 1;
        self
    }

    /// Whether the call retries (semantics §11).
    pub(crate) fn retries(&self) -> bool {
        self.retry_max_attempts > 1
    }

    /// Whether the call hedges (semantics §14).
    pub(crate) fn hedges(&self) -> bool {
        self.hedge_max_attempts > 1
    }

    /// Semantics §9.4: whether an attempt outcome may be retried or start a
    /// hedge on failure.
    pub(crate) fn retryable(&self, outcome: EventType) -> bool {
        match outcome {
            EventType::Failure => true,
            EventType::Timeout => self.retry_on_timeout,
            EventType::SemaphoreRejected => self.retry_on_rejected,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Jitter;

    #[test]
    fn the_live_plan_reads_the_same_keys_as_the_plan_of_a_config() {
        let configs = [
            Config::default(),
            Config {
                retry_max_attempts: 4,
                retry_on_timeout: false,
                retry_on_rejected: true,
                retry_base_delay_ms: 7,
                retry_multiplier_permille: 1500,
                retry_max_delay_ms: 90,
                retry_jitter: Jitter::Decorrelated,
                deadline_ms: 300,
                ..Config::default()
            },
            Config { hedge_max_attempts: 3, hedge_delay_ms: 12, hedge_on_failure: false, ..Config::default() },
        ];
        for c in configs {
            let live = Plan::live(&LiveConfig::new(&c));
            assert_eq!(format!("{live:?}"), format!("{:?}", Plan::of(&c)));
        }
    }
}
