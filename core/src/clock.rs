//! Time as an input: the [`Clock`] trait, a real monotonic clock for std
//! targets, and the [`Sleeper`] trait the async driver arms timeouts with.

use std::future::Future;

/// A monotonic source of milliseconds. The core never reads a system clock:
/// whoever drives a command hands it one of these.
pub trait Clock: Send + Sync {
    /// Milliseconds since an arbitrary, fixed origin; never decreases.
    fn now_ms(&self) -> u64;
}

/// Arms a timer on some clock: what the async driver awaits to time out a run.
pub trait Sleeper {
    /// The future returned by [`Sleeper::sleep_until`].
    type Sleep: Future<Output = ()>;
    /// A future that completes once the clock reads at least `deadline_ms`.
    /// Implementations must arm the timer when this is called (not on first
    /// poll), so that timers armed earlier fire earlier at equal deadlines.
    fn sleep_until(&self, deadline_ms: u64) -> Self::Sleep;
}

/// A clock made from a function, e.g. a C function pointer or a host callback.
pub struct FnClock<F>(pub F);

impl<F: Fn() -> u64 + Send + Sync> Clock for FnClock<F> {
    fn now_ms(&self) -> u64 {
        (self.0)()
    }
}

/// The real monotonic clock of std targets: milliseconds since this clock
/// was created. It reads the CPU's time-stamp counter where that counter is
/// invariant (about 10 ns a read here, against about 27 ns for
/// `Instant::now`), calibrated against the OS monotonic clock once per
/// process, and falls back to the OS clock elsewhere. Not available on
/// `wasm32-unknown-unknown`, where the host (`performance.now()`) supplies
/// the time.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Clone, Debug)]
pub struct MonotonicClock {
    clock: quanta::Clock,
    origin: u64,
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> MonotonicClock {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        MonotonicClock { clock, origin }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock::new()
    }
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Clock for MonotonicClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        self.clock.delta_as_nanos(self.origin, self.clock.raw()) / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fn_clock_reads_its_function() {
        let c = FnClock(|| 42);
        assert_eq!(c.now_ms(), 42);
    }

    #[test]
    fn monotonic_clock_never_goes_back() {
        let c = MonotonicClock::new();
        let wall = std::time::Instant::now();
        let a = c.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let b = c.now_ms();
        let elapsed = wall.elapsed().as_millis() as u64;
        assert!(b >= a + 29, "{a} then {b}");
        assert!(b - a <= elapsed + 2, "{a} then {b}, but only {elapsed} ms passed");
    }
}
