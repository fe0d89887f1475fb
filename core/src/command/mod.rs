//! The command: one circuit breaker, bulkhead, fallback limiter and set of
//! rolling metrics, shared by every call through it (SPEC §3–§6).
//!
//! Everything here takes the current time as an argument; [`Command`] only
//! keeps a [`Clock`] so that the drivers and [`Command::snapshot`] have one
//! to read. In the closed state admission and recording are lock-free and
//! allocation-free: relaxed loads of just the settings each step needs, four
//! atomic adds for a successful call (permit, release, event, latency), and
//! while the cached health snapshot is known not to trip (`trip_ok_until`)
//! one load instead of the trip rule. Transitions and reconfiguration take
//! the command's own small mutexes (never a global one).
//!
//! Time read from a host clock should never go back (semantics §1), but one
//! bad reading must not wedge a circuit for as long as it was wrong. So a
//! stamp the command keeps that lies further ahead of the current time than
//! its own span is treated as such a reading: an open circuit opened more
//! than `sleep_window_ms` after now restarts its sleep window now (it stays
//! open at most a sleep window once the clock is sane again); a cached
//! health snapshot or trip gate stamped more than
//! `health_snapshot_interval_ms` after now is due at once; a window bucket
//! far ahead is recycled by the next write to its slot (two windows or more
//! ahead; its counts stay in the cumulative ones).
//! Stamps only a little ahead are
//! another thread's reading of the same moment and are used as they are.

use crate::clock::Clock;
use crate::config::Config;
use crate::error::ConfigError;
use crate::error_context::ContextName;
use crate::event::{CircuitState, EventType};
use crate::latency::LatencyWindow;
use crate::listener::{ListenerId, Listeners, Notice, Topic};
use crate::live_config::LiveConfig;
use crate::policy::permits::Permits;
use crate::policy::strategies::Strategies;
use crate::sync;
use crate::window::Window;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

mod admission;
mod circuit;
mod fallback;
mod report;
mod windows;

use circuit::Episode;

/// A stamp that was never set.
const NEVER: u64 = u64::MAX;

pub(crate) struct Inner {
    pub(crate) name: Arc<str>,
    /// The name as errors' contexts hold it, made once (a short one is
    /// copied into each context as a few fixed-size words).
    pub(crate) context_name: ContextName,
    clock: Arc<dyn Clock>,
    pub(crate) config: LiveConfig,
    /// The window in force; points into `windows`, which owns every window
    /// this command has used behind an `Arc` (whose contents never move),
    /// so the pointer stays valid for the command's whole life. Only ever
    /// read through shared references. A reshape reuses a window whose
    /// capacity fits, so `windows` stays small (see `windows.rs`).
    window: AtomicPtr<Window>,
    windows: Mutex<Vec<Arc<Window>>>,
    /// Cumulative counts taken out of windows emptied for reuse by a
    /// reshape. Every window in `windows` keeps what it was given since,
    /// so a writer still holding a replaced (or reshaped) window adds to
    /// the cumulative counts too. Allocated at the first reshape: a
    /// command never reshaped keeps one word here, not 16.
    cumulative_base: OnceLock<Box<[AtomicU64; EventType::COUNT]>>,
    state: sync::AtomicU8,
    opened_at: sync::AtomicU64,
    /// Run permits (the bulkhead, SPEC §3 step 2).
    concurrent: Permits,
    /// Fallback slots (SPEC §3 step 5).
    fallback_concurrent: Permits,
    snap: sync::AtomicU64,
    snap_at: sync::AtomicU64,
    /// Until this time the cached health snapshot does not meet the trip
    /// rule under the thresholds in force, so the hot path skips the rule
    /// (one load instead of a snapshot read and a comparison). 0 = unknown.
    /// Set under the episode lock by a snapshot refresh; cleared under it
    /// by every transition and every reconfiguration.
    trip_ok_until: sync::AtomicU64,
    episode: sync::Mutex<Episode>,
    /// State transitions so far, bumped under the episode lock by each: a
    /// trip decided on health read before a transition is stale (the
    /// counts it saw may predate a close that reset health) and is dropped.
    transitions: sync::AtomicU64,
    /// Latency of calls settled at their run's outcome (run == total).
    latency_direct: LatencyWindow,
    /// Run latency of calls that went on to a fallback or timed out.
    latency_run_only: LatencyWindow,
    /// Total latency of calls that did not settle at their run's outcome.
    latency_total_only: LatencyWindow,
    listeners: Listeners,
    /// Random generator, retry budget, rate limiter, adaptive limiter.
    pub(crate) strategies: Strategies,
    /// Observation only (issue #12): transitions per (from, to) and time
    /// in each state, written under the episode lock by `move_to`.
    states: crate::observe::StateClock,
}

/// A Hystrix command's shared state. Cheap to clone (one `Arc`); `Send +
/// Sync`; every call through any clone shares one circuit and bulkhead.
#[derive(Clone)]
pub struct Command {
    pub(crate) inner: Arc<Inner>,
}

/// A run permit granted by [`Command::admit`]. Whoever holds it must hand it
/// back exactly once ([`Command::release`]); [`crate::Execution`] does this.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    /// The half-open episode this call probes, 0 for a normal call.
    pub(crate) probe: u64,
    /// When the call was admitted.
    pub(crate) start: u64,
    /// When its timeout fires, if timeouts are enabled and the deadline
    /// fits in `u64` time. Never zero (`timeout_ms` is at least 1), so the
    /// `Option` takes no room: the ticket stays 32 bytes, which the closed
    /// path moves out of [`Admission`] in registers.
    pub(crate) timeout_at: Option<NonZeroU64>,
    /// Run permits held right after this one was taken (semantics §15.2).
    pub(crate) inflight: NonZeroU32,
}

impl Ticket {
    /// Whether the run's timeout, if it has one, has fired by `now`.
    #[inline]
    pub(crate) fn timed_out_by(&self, now: u64) -> bool {
        self.timeout_at.is_some_and(|d| now >= d.get())
    }

    /// When the run's timeout fires, if it has one.
    #[inline]
    pub(crate) fn deadline(&self) -> Option<u64> {
        self.timeout_at.map(NonZeroU64::get)
    }
}

/// The circuit's and the bulkhead's answer to a call.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    Admitted(Ticket),
    ShortCircuited,
    Rejected,
}

/// The fallback limiter's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FallbackAdmission {
    Disabled,
    Missing,
    Rejected,
    Admitted,
}

impl Command {
    /// A command with the given configuration on the real monotonic clock.
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub fn new(config: Config) -> Result<Command, ConfigError> {
        Command::with_clock("", config, Arc::new(crate::clock::MonotonicClock::new()))
    }

    /// A named command reading time from `clock`.
    pub fn with_clock(name: &str, config: Config, clock: Arc<dyn Clock>) -> Result<Command, ConfigError> {
        config.validate()?;
        let buckets = config.rolling_window_buckets;
        let window = windows::allocate(buckets, config.bucket_ms(), buckets)?;
        let current = Arc::as_ptr(&window) as *mut Window;
        let shared_name: Arc<str> = Arc::from(name);
        Ok(Command {
            inner: Arc::new(Inner {
                context_name: ContextName::of(&shared_name),
                name: shared_name,
                clock,
                config: LiveConfig::new(&config),
                window: AtomicPtr::new(current),
                windows: Mutex::new(vec![window]),
                cumulative_base: OnceLock::new(),
                state: sync::AtomicU8::new(CircuitState::Closed.to_u8()),
                opened_at: sync::AtomicU64::new(0),
                concurrent: Permits::default(),
                fallback_concurrent: Permits::default(),
                snap: sync::AtomicU64::new(0),
                snap_at: sync::AtomicU64::new(NEVER),
                trip_ok_until: sync::AtomicU64::new(0),
                episode: sync::Mutex::new(Episode::default()),
                transitions: sync::AtomicU64::new(0),
                latency_direct: LatencyWindow::new(),
                latency_run_only: LatencyWindow::new(),
                latency_total_only: LatencyWindow::new(),
                listeners: Listeners::new(),
                strategies: Strategies::new(&config),
                states: crate::observe::StateClock::new(),
            }),
        })
    }

    /// The command's name (empty for an anonymous command).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The clock this command reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The current time on this command's clock.
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// The configuration in force.
    pub fn config(&self) -> Config {
        self.inner.config.load()
    }

    /// The window in force.
    #[inline]
    fn window(&self) -> &Window {
        // SAFETY: the pointer always comes from `Arc::as_ptr` of a window
        // owned by `inner.windows`, never dropped before `Inner`, and is
        // only used for shared access.
        unsafe { &*self.inner.window.load(Ordering::Acquire) }
    }

    /// Replaces the configuration (SPEC §7 `configure`): validated first,
    /// nothing changes on error. A new bulkhead size applies to later
    /// admissions, new thresholds from the next evaluation; a new window
    /// shape starts a fresh, empty window. A window whose buckets cannot
    /// be allocated is an error naming `rolling_window_buckets` ("out of
    /// memory for N buckets").
    pub fn set_config(&self, config: Config) -> Result<(), ConfigError> {
        config.validate()?;
        let mut windows = self.inner.windows.lock().unwrap_or_else(|p| p.into_inner());
        self.set_config_locked(&mut windows, config)
    }

    fn set_config_locked(
        &self,
        windows: &mut MutexGuard<'_, Vec<Arc<Window>>>,
        config: Config,
    ) -> Result<(), ConfigError> {
        let shape = (config.bucket_ms(), config.rolling_window_buckets);
        if self.window().shape() != shape {
            // A new shape starts a fresh, empty window: a window kept for
            // an earlier shape, or the one in force, emptied into the base
            // (nothing has changed if that fails). Under the episode lock,
            // so no circuit close resets the health of a window while it
            // is reshaped in place (a baseline taken from counts the drain
            // then takes would hide later events from health).
            let _ep = self.lock_episode();
            self.reshape_window(windows, shape)?;
        }
        let old = self.inner.config.load();
        self.inner.config.store(&config);
        self.inner.strategies.reconfigure(&old, &config);
        // New thresholds or interval: the trip rule must be evaluated afresh.
        let _ep = self.lock_episode();
        self.inner.trip_ok_until.store(0, Ordering::Release);
        Ok(())
    }

    /// Changes the keys given in a JSON object (SPEC key names), validated
    /// as a whole; returns the configuration now in force. Read, patch and
    /// write happen under one lock, so concurrent patches never lose keys.
    pub fn configure_json(&self, patch: &serde_json::Value) -> Result<Config, ConfigError> {
        let mut windows = self.inner.windows.lock().unwrap_or_else(|p| p.into_inner());
        let next = self.config().patched(patch)?;
        self.set_config_locked(&mut windows, next)?;
        Ok(next)
    }

    /// `configure_json` for a host that parses no JSON: the keys of
    /// `patch` changed as [`Config::patched_given`] reads them.
    pub fn configure_given(&self, patch: &[(&str, crate::Given<'_>)]) -> Result<Config, ConfigError> {
        self.configure_with(|c| c.patched_given(patch))
    }

    /// [`Command::configure_given`] with the keys by their place in SPEC
    /// order, as [`Config::patched_at`] reads them.
    pub fn configure_at(&self, patch: &[(usize, crate::Given<'_>)]) -> Result<Config, ConfigError> {
        self.configure_with(|c| c.patched_at(patch))
    }

    /// Applies `patched(config in force)` live, all or none, with the
    /// reconfiguration lock held from the read to the write.
    fn configure_with(
        &self,
        patched: impl FnOnce(&Config) -> Result<Config, ConfigError>,
    ) -> Result<Config, ConfigError> {
        let mut windows = self.inner.windows.lock().unwrap_or_else(|p| p.into_inner());
        let next = patched(&self.config())?;
        self.set_config_locked(&mut windows, next)?;
        Ok(next)
    }

    /// Subscribes `listener` to events or transitions.
    pub fn subscribe(&self, topic: Topic, listener: impl Fn(&Notice<'_>) + Send + Sync + 'static) -> ListenerId {
        self.inner.listeners.subscribe(topic, Arc::new(listener))
    }

    /// Removes a listener; `false` if it was not subscribed.
    pub fn unsubscribe(&self, id: ListenerId) -> bool {
        self.inner.listeners.unsubscribe(id)
    }

    /// Counts one listener call that failed in the host (a JS exception, a
    /// Python exception, a C++ callback that reported an error) in the
    /// snapshot's `listener_panics`, beside the Rust panics the core catches
    /// itself. For hosts that catch their listeners' errors before they
    /// cross back into the core.
    pub fn note_listener_error(&self) {
        self.inner.listeners.note_error();
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command").field("name", &self.inner.name).field("state", &self.state()).finish()
    }
}
#[cfg(all(test, loom))]
mod loom_models;
#[cfg(test)]
mod tests;
