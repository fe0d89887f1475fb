//! The fallback limiter (SPEC §3 step 5): whether a fallback may run, and
//! its slot given back when it settles.

use super::{Command, FallbackAdmission};
use crate::event::EventType;
use std::sync::atomic::Ordering;

impl Command {
    /// SPEC §3 step 5: may a fallback run? Records the event of a refusal.
    #[inline]
    pub(crate) fn admit_fallback(&self, now: u64, has_fallback: bool) -> FallbackAdmission {
        let live = &self.inner.config;
        let decision = if !live.fallback_enabled.load(Ordering::Relaxed) {
            FallbackAdmission::Disabled
        } else if !has_fallback {
            FallbackAdmission::Missing
        } else {
            let limit = live.fallback_max_concurrent_requests.load(Ordering::Relaxed);
            if self.inner.fallback_concurrent.try_acquire(limit).is_some() {
                return FallbackAdmission::Admitted;
            }
            FallbackAdmission::Rejected
        };
        let event = match decision {
            FallbackAdmission::Disabled => EventType::FallbackDisabled,
            FallbackAdmission::Missing => EventType::FallbackMissing,
            _ => EventType::FallbackRejection,
        };
        self.record(now, event, 0);
        decision
    }

    /// A fallback settled: frees its slot and records its event, unless it
    /// was abandoned (`event` is `None`).
    #[inline]
    pub(crate) fn finish_fallback(&self, now: u64, event: Option<EventType>) {
        self.inner.fallback_concurrent.release();
        if let Some(event) = event {
            self.record(now, event, 0);
        }
    }
}
