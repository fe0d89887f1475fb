//! [`TimePassedIn`]: the clock of a command whose host passes the time
//! with every call, so the command never reads one of its own.

use crate::clock::Clock;

/// The "clock" of a command driven by a host that passes `now` into every
/// call, snapshot and observation (the npm package: `performance.now()` or
/// the command's `clock` option is read in JS). Such a command has no time
/// source of its own; this type says so where a placeholder clock would
/// otherwise hide it.
///
/// It must not be read: only the blocking drivers
/// ([`crate::Command::execute`], [`crate::Command::run`] and their `_or`
/// forms) and the `now`-less conveniences ([`crate::Command::snapshot`],
/// `render_prometheus`) read a command's clock, and a host that passes time
/// uses none of them. Such a command works with the drivers that take
/// their time per call: the async drivers (from their
/// [`crate::Timer`]) and [`crate::Command::execute_on`]. If the clock is
/// read anyway it reads 0 (in a debug build it panics, naming the
/// mistake).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimePassedIn;

impl Clock for TimePassedIn {
    fn now_ms(&self) -> u64 {
        debug_assert!(
            false,
            "a command made with TimePassedIn was asked for the time: its host must pass `now` (use a *_at method)"
        );
        0
    }
}
