//! Single stages of a call, exposed for the `strategies` bench only
//! (feature `bench-internals`; not part of the API, no semver promise):
//! a stage timed alone against a crate that does only that stage.

use crate::policy::rate_limiter::RateDecision;
use crate::Command;

/// Stage 1 of a call at `now` (semantics §13), as [`crate::Call::start`]
/// runs it, and nothing else: `true` when the call would be admitted at
/// once. It takes the command's rate-limit turn like a call does.
#[inline]
pub fn rate_admit(cmd: &Command, now: u64) -> bool {
    cmd.rate_admit(now) == RateDecision::Now
}
