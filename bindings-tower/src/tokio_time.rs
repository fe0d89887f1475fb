//! Tokio's timer, with the clock it measures deadlines on, as the layer's
//! time source (a [`Sleeper`] and a [`Clock`], hence a
//! [`Timer`](hystrix_core::Timer)), and tokio's clock as a command's
//! [`Clock`] (the `tokio` feature).

use hystrix_core::{Clock, Command, Sleeper};
use std::sync::Arc;
use std::time::Duration;

/// Arms the driver's timers (timeouts, retry backoff, hedge delays, rate
/// limiter waits) with [`tokio::time::sleep`], measuring how long to wait
/// on the command's own clock.
///
/// A timer due at `deadline_ms` on the command's clock sleeps
/// `deadline_ms - now_ms` on tokio's timer. The two agree when the command
/// reads real time (the default `MonotonicClock`) with tokio on real time,
/// or when the command reads [`TokioClock`] (which follows a paused tokio
/// clock in tests). Like every tokio timer, sleeping panics outside a tokio
/// runtime with the time driver enabled.
#[derive(Clone)]
pub struct TokioSleeper {
    clock: Arc<dyn Clock>,
}

impl TokioSleeper {
    /// A sleeper measuring deadlines on `clock` (and reading the calls'
    /// times from it): normally the clock of the command it serves.
    pub fn new(clock: Arc<dyn Clock>) -> TokioSleeper {
        TokioSleeper { clock }
    }

    /// A sleeper on `command`'s clock.
    pub fn for_command(command: &Command) -> TokioSleeper {
        TokioSleeper::new(command.clock().clone())
    }
}

impl Sleeper for TokioSleeper {
    type Sleep = tokio::time::Sleep;

    fn sleep_until(&self, deadline_ms: u64) -> tokio::time::Sleep {
        TokioSleeper::sleep_until(self, deadline_ms)
    }
}

impl TokioSleeper {
    /// The time on the clock the sleeper measures deadlines on (what its
    /// [`Clock`] and [`Timer`](hystrix_core::Timer) read; inherent, so code
    /// with both traits in scope calls it without naming one).
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// A tokio sleep until the clock reads `deadline_ms` (what its
    /// [`Sleeper`] and [`Timer`](hystrix_core::Timer) give; inherent, like
    /// [`TokioSleeper::now_ms`]).
    pub fn sleep_until(&self, deadline_ms: u64) -> tokio::time::Sleep {
        // The deadline is fixed now (tokio rounds a sleep up to the next
        // millisecond tick), so a timer armed earlier fires no later.
        let wait = deadline_ms.saturating_sub(self.clock.now_ms());
        tokio::time::sleep(Duration::from_millis(wait))
    }
}

impl Clock for TokioSleeper {
    fn now_ms(&self) -> u64 {
        TokioSleeper::now_ms(self)
    }
}

/// Tokio's clock as a command [`Clock`]: milliseconds since this clock was
/// made, read from [`tokio::time::Instant`]. With tokio's `test-util`
/// feature and a paused runtime (`tokio::time::pause`,
/// `#[tokio::test(start_paused = true)]`) it reads the paused, auto-advancing
/// time, so timeouts and backoff run deterministically and instantly in
/// tests; otherwise it reads real monotonic time.
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock whose origin is tokio's now.
    pub fn new() -> TokioClock {
        TokioClock { origin: tokio::time::Instant::now() }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.origin);
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }
}
