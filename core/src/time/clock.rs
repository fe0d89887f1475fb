//! Time as an input: the [`Clock`] trait, a real monotonic clock for std
//! targets, the [`Sleeper`] trait that arms timers, and [`Timer`], the one
//! time source (a clock and its timers) the async drivers take.

use std::future::Future;

/// A monotonic source of milliseconds. The core never reads a system clock:
/// whoever drives a command hands it one of these.
pub trait Clock: Send + Sync {
    /// Milliseconds since an arbitrary, fixed origin; never decreases.
    fn now_ms(&self) -> u64;
}

/// Arms timers on some clock. With a [`Clock`] reading the same time it
/// makes a [`Timer`], what the async drivers take.
pub trait Sleeper {
    /// The future returned by [`Sleeper::sleep_until`].
    type Sleep: Future<Output = ()>;
    /// A future that completes once the clock reads at least `deadline_ms`.
    /// Implementations must arm the timer when this is called (not on first
    /// poll), so that timers armed earlier fire earlier at equal deadlines.
    fn sleep_until(&self, deadline_ms: u64) -> Self::Sleep;
}

/// The one time source of an async call: the time it reads and the timers
/// it arms, on the same clock. The async drivers ([`crate::Command::run_async`],
/// [`crate::Command::execute_async`] and their `_or` forms) read every time
/// of a call from [`Timer::now_ms`] and arm every timer with
/// [`Timer::sleep_until`], so a call's deadlines and its recorded times can
/// never come from two different clocks. (The command's own [`Clock`] is
/// read only by the `now`-less conveniences, e.g.
/// [`crate::Command::snapshot`] and the blocking drivers.)
///
/// Anything that is both a [`Clock`] and a [`Sleeper`] is a `Timer` (e.g.
/// [`crate::VirtualClock`]); implement it directly for a time source that
/// is not `Send + Sync` (a browser's `setTimeout`, a single-threaded
/// runtime's timer).
pub trait Timer {
    /// The future returned by [`Timer::sleep_until`].
    type Sleep: Future<Output = ()>;
    /// Milliseconds on this timer's clock; never decreases.
    fn now_ms(&self) -> u64;
    /// A future that completes once [`Timer::now_ms`] reads at least
    /// `deadline_ms`, armed when this is called (as [`Sleeper::sleep_until`]).
    fn sleep_until(&self, deadline_ms: u64) -> Self::Sleep;
}

impl<S: Sleeper + Clock> Timer for S {
    type Sleep = <S as Sleeper>::Sleep;

    #[inline]
    fn now_ms(&self) -> u64 {
        Clock::now_ms(self)
    }

    #[inline]
    fn sleep_until(&self, deadline_ms: u64) -> Self::Sleep {
        Sleeper::sleep_until(self, deadline_ms)
    }
}

/// A clock made from a function, e.g. a C function pointer or a host callback.
pub struct FnClock<F>(pub F);

impl<F: Fn() -> u64 + Send + Sync> Clock for FnClock<F> {
    fn now_ms(&self) -> u64 {
        (self.0)()
    }
}

/// The real monotonic clock of std targets: milliseconds since this clock
/// was created.
///
/// On x86-64 with an invariant time-stamp counter it reads the TSC directly
/// (about 8 ns a read here, against about 27 ns for `Instant::now`), scaled
/// by a calibration that `quanta` measures once per process; elsewhere it
/// reads `Instant`. Not available on `wasm32-unknown-unknown`, where the
/// host (`performance.now()`) supplies the time.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Clone, Copy, Debug)]
pub struct MonotonicClock {
    source: Source,
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Clone, Copy, Debug)]
enum Source {
    /// `ms = (tsc - origin) * mult >> 64`.
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    Tsc {
        origin: u64,
        mult: u64,
    },
    Os(std::time::Instant),
}

/// Milliseconds per TSC tick, as a 64.64 fixed-point multiplier, if the TSC
/// is invariant and calibrated. Not under Miri, which cannot run `cpuid`
/// or `rdtsc`: there the clock is `Instant`'s (`scripts/miri.sh`).
#[cfg(all(target_arch = "x86_64", not(miri)))]
fn tsc_mult() -> Option<u64> {
    static MULT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *MULT.get_or_init(|| {
        // `__cpuid` is safe since Rust 1.87 and `unsafe` before it.
        #[allow(unused_unsafe)]
        // SAFETY: `cpuid` exists on every x86-64 CPU.
        let invariant = unsafe {
            let max_ext = std::arch::x86_64::__cpuid(0x8000_0000).eax;
            max_ext >= 0x8000_0007 && std::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0
        };
        if !invariant {
            return None;
        }
        let calibrated = quanta::Clock::new();
        let ticks: u64 = 1 << 40;
        let ns = calibrated.delta_as_nanos(0, ticks);
        if ns == ticks || ns == 0 {
            return None; // quanta is not counting TSC ticks: trust the OS clock
        }
        u64::try_from((u128::from(ns) << 24) / 1_000_000).ok()
    })
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> MonotonicClock {
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        if let Some(mult) = tsc_mult() {
            // SAFETY: `rdtsc` exists on every x86-64 CPU.
            let origin = unsafe { std::arch::x86_64::_rdtsc() };
            return MonotonicClock { source: Source::Tsc { origin, mult } };
        }
        MonotonicClock { source: Source::Os(std::time::Instant::now()) }
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
        match self.source {
            #[cfg(all(target_arch = "x86_64", not(miri)))]
            Source::Tsc { origin, mult } => {
                // SAFETY: `rdtsc` exists on every x86-64 CPU.
                let ticks = unsafe { std::arch::x86_64::_rdtsc() }.saturating_sub(origin);
                ((u128::from(ticks) * u128::from(mult)) >> 64) as u64
            }
            Source::Os(origin) => origin.elapsed().as_millis() as u64,
        }
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
