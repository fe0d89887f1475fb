//! Event types recorded by a command and the circuit states it moves between.

use serde::{Deserialize, Serialize};

/// Every event a command records (SPEC §3, §7).
///
/// Each call records exactly one *execution* event ([`EventType::is_execution`])
/// and at most one *fallback* event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    /// The run returned a value.
    Success = 0,
    /// The run failed (error, exception, panic, rejected promise).
    Failure = 1,
    /// The run was still going when its timeout fired.
    Timeout = 2,
    /// The run failed with an error the caller marked as its own fault.
    BadRequest = 3,
    /// The circuit refused the call.
    ShortCircuited = 4,
    /// The bulkhead refused the call.
    SemaphoreRejected = 5,
    /// The fallback returned a value.
    FallbackSuccess = 6,
    /// The fallback failed.
    FallbackFailure = 7,
    /// Too many fallbacks were in flight.
    FallbackRejection = 8,
    /// A fallback was wanted but none was given.
    FallbackMissing = 9,
    /// A fallback was wanted but fallbacks are disabled.
    FallbackDisabled = 10,
    /// An outstanding attempt was cancelled (by its caller, SPEC §18). An
    /// attempt outcome, never counted in health.
    Cancelled = 11,
    /// The rate limiter refused the call (SPEC §13, §16). Recorded instead
    /// of any attempt; never counted in health.
    RateLimited = 12,
    /// A retry was scheduled (SPEC §11.3, §16). A marker, never counted in
    /// health.
    Retry = 13,
    /// A hedge started (SPEC §14.1, §16). A marker, never counted in health.
    Hedge = 14,
    /// The retry budget refused a retry or a hedge (SPEC §12, §16). A
    /// marker, never counted in health.
    RetryBudgetExhausted = 15,
}

impl EventType {
    /// Number of event types.
    pub const COUNT: usize = 16;

    /// All event types, in index order.
    pub const ALL: [EventType; EventType::COUNT] = [
        EventType::Success,
        EventType::Failure,
        EventType::Timeout,
        EventType::BadRequest,
        EventType::ShortCircuited,
        EventType::SemaphoreRejected,
        EventType::FallbackSuccess,
        EventType::FallbackFailure,
        EventType::FallbackRejection,
        EventType::FallbackMissing,
        EventType::FallbackDisabled,
        EventType::Cancelled,
        EventType::RateLimited,
        EventType::Retry,
        EventType::Hedge,
        EventType::RetryBudgetExhausted,
    ];

    /// Stable index of this type, `0..COUNT`.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The SPEC name, e.g. `"SHORT_CIRCUITED"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::Success => "SUCCESS",
            EventType::Failure => "FAILURE",
            EventType::Timeout => "TIMEOUT",
            EventType::BadRequest => "BAD_REQUEST",
            EventType::ShortCircuited => "SHORT_CIRCUITED",
            EventType::SemaphoreRejected => "SEMAPHORE_REJECTED",
            EventType::FallbackSuccess => "FALLBACK_SUCCESS",
            EventType::FallbackFailure => "FALLBACK_FAILURE",
            EventType::FallbackRejection => "FALLBACK_REJECTION",
            EventType::FallbackMissing => "FALLBACK_MISSING",
            EventType::FallbackDisabled => "FALLBACK_DISABLED",
            EventType::Cancelled => "CANCELLED",
            EventType::RateLimited => "RATE_LIMITED",
            EventType::Retry => "RETRY",
            EventType::Hedge => "HEDGE",
            EventType::RetryBudgetExhausted => "RETRY_BUDGET_EXHAUSTED",
        }
    }

    /// Parses a SPEC name such as `"TIMEOUT"`.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// Whether this is an execution event (an attempt outcome, as opposed
    /// to a fallback event).
    pub const fn is_execution(self) -> bool {
        (self as usize) < 6 || matches!(self, EventType::Cancelled)
    }

    /// Whether this event counts in the health total (SPEC §5).
    pub const fn counts_in_health(self) -> bool {
        matches!(self, EventType::Success | EventType::Failure | EventType::Timeout | EventType::SemaphoreRejected)
    }

    /// Whether this event counts as a health error (SPEC §5).
    pub const fn is_health_error(self) -> bool {
        matches!(self, EventType::Failure | EventType::Timeout | EventType::SemaphoreRejected)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The circuit's state as reported by a snapshot (SPEC §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Calls are admitted; health is watched.
    Closed,
    /// Calls are short-circuited until the sleep window has passed.
    Open,
    /// Probes are admitted to decide whether to close again.
    HalfOpen,
}

impl CircuitState {
    /// The SPEC name: `closed`, `open` or `half_open`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }

    pub(crate) const fn to_u8(self) -> u8 {
        self as u8
    }

    pub(crate) const fn from_u8(v: u8) -> CircuitState {
        match v {
            0 => CircuitState::Closed,
            1 => CircuitState::Open,
            _ => CircuitState::HalfOpen,
        }
    }
}

impl std::fmt::Display for CircuitState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_indices_and_health_rules_of_every_event() {
        for (i, e) in EventType::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
            assert_eq!(EventType::parse(e.as_str()), Some(e));
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
        for e in [EventType::RateLimited, EventType::Retry, EventType::Hedge, EventType::RetryBudgetExhausted] {
            assert!(!e.counts_in_health() && !e.is_health_error() && !e.is_execution(), "{e}");
        }
        assert_eq!(EventType::parse("RETRY_BUDGET_EXHAUSTED"), Some(EventType::RetryBudgetExhausted));
        assert_eq!(EventType::parse("retry"), None);
    }
}
