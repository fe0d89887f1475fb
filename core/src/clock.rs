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
/// was created. Not available on `wasm32-unknown-unknown`, where the host
/// (`performance.now()`) supplies the time.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Clone, Copy, Debug)]
pub struct MonotonicClock {
    origin: std::time::Instant,
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> MonotonicClock {
        MonotonicClock { origin: std::time::Instant::now() }
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
    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
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
        let a = c.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let b = c.now_ms();
        assert!(b >= a + 2, "{a} then {b}");
    }
}
