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
use crate::event::{CircuitState, EventType};
use crate::latency::LatencyWindow;
use crate::listener::{ListenerId, Listeners, Notice, Topic};
use crate::live_config::LiveConfig;
use crate::policy::permits::Permits;
use crate::policy::strategies::Strategies;
use crate::snapshot::{EventCounts, Health, Snapshot};
use crate::window::{HealthCounts, Window};
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const NEVER: u64 = u64::MAX;

/// The half-open episode: which one, how many probes were admitted, how
/// many succeeded. Guarded by the command's mutex with every transition.
#[derive(Default)]
struct Episode {
    id: u64,
    admitted: u64,
    succeeded: u64,
}

pub(crate) struct Inner {
    name: String,
    clock: Arc<dyn Clock>,
    pub(crate) config: LiveConfig,
    /// The window in force; points into `windows`, which owns every window
    /// this command has used (reused by shape) behind an `Arc` (whose
    /// contents never move), so the pointer stays valid for the command's
    /// whole life. Only ever read through shared references.
    window: AtomicPtr<Window>,
    windows: Mutex<Vec<Arc<Window>>>,
    /// Cumulative counts of windows emptied for reuse by a later reshape.
    /// Every other window in `windows` (the current one and those replaced)
    /// keeps its own counts, so a writer still holding a replaced window
    /// adds to the cumulative counts too.
    cumulative_base: [AtomicU64; EventType::COUNT],
    state: AtomicU8,
    opened_at: AtomicU64,
    /// Run permits (the bulkhead, SPEC §3 step 2).
    concurrent: Permits,
    /// Fallback slots (SPEC §3 step 5).
    fallback_concurrent: Permits,
    snap: AtomicU64,
    snap_at: AtomicU64,
    /// Until this time the cached health snapshot does not meet the trip
    /// rule under the thresholds in force, so the hot path skips the rule
    /// (one load instead of a snapshot read and a comparison). 0 = unknown.
    /// Set under the episode lock by a snapshot refresh; cleared under it
    /// by every transition and every reconfiguration.
    trip_ok_until: AtomicU64,
    episode: Mutex<Episode>,
    /// State transitions so far, bumped under the episode lock by each: a
    /// trip decided on health read before a transition is stale (the
    /// counts it saw may predate a close that reset health) and is dropped.
    transitions: AtomicU64,
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
    /// When its timeout fires, if timeouts are enabled.
    pub(crate) deadline: Option<u64>,
    /// Run permits held right after this one was taken (semantics §15.2).
    pub(crate) inflight: u32,
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
        let window = Arc::new(Window::new(config.bucket_ms(), config.rolling_window_buckets));
        let current = Arc::as_ptr(&window) as *mut Window;
        Ok(Command {
            inner: Arc::new(Inner {
                name: name.to_string(),
                clock,
                config: LiveConfig::new(&config),
                window: AtomicPtr::new(current),
                windows: Mutex::new(vec![window]),
                cumulative_base: Default::default(),
                state: AtomicU8::new(CircuitState::Closed.to_u8()),
                opened_at: AtomicU64::new(0),
                concurrent: Permits::default(),
                fallback_concurrent: Permits::default(),
                snap: AtomicU64::new(0),
                snap_at: AtomicU64::new(NEVER),
                trip_ok_until: AtomicU64::new(0),
                episode: Mutex::new(Episode::default()),
                transitions: AtomicU64::new(0),
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
    /// shape starts a fresh, empty window.
    pub fn set_config(&self, config: Config) -> Result<(), ConfigError> {
        config.validate()?;
        let mut windows = self.inner.windows.lock().unwrap_or_else(|p| p.into_inner());
        self.set_config_locked(&mut windows, config);
        Ok(())
    }

    fn set_config_locked(&self, windows: &mut MutexGuard<'_, Vec<Arc<Window>>>, config: Config) {
        let shape = (config.bucket_ms(), config.rolling_window_buckets);
        let old = self.window();
        if old.shape() != shape {
            // A new shape starts a fresh, empty window; the old one keeps its
            // counts (they stay in the cumulative ones, with whatever a
            // writer that loaded it before the swap still adds). Windows are
            // reused by shape, so memory is bounded by the number of
            // distinct shapes ever used; a reused window's counts move into
            // the base first.
            let reuse = windows.iter_mut().position(|w| w.shape() == shape);
            // Only ever read through shared references: the `*mut` is what
            // `AtomicPtr` stores, never used to write.
            let next = match reuse {
                Some(i) => {
                    for (base, n) in self.inner.cumulative_base.iter().zip(windows[i].drain()) {
                        base.fetch_add(n, Ordering::Relaxed);
                    }
                    Arc::as_ptr(&windows[i]) as *mut Window
                }
                None => {
                    let fresh = Arc::new(Window::new(shape.0, shape.1));
                    let ptr = Arc::as_ptr(&fresh) as *mut Window;
                    windows.push(fresh);
                    ptr
                }
            };
            self.inner.window.store(next, Ordering::Release);
        }
        let old = self.inner.config.load();
        self.inner.config.store(&config);
        self.inner.strategies.reconfigure(&old, &config);
        // New thresholds or interval: the trip rule must be evaluated afresh.
        let _ep = self.lock_episode();
        self.inner.trip_ok_until.store(0, Ordering::Release);
    }

    /// Changes the keys given in a JSON object (SPEC key names), validated
    /// as a whole; returns the configuration now in force. Read, patch and
    /// write happen under one lock, so concurrent patches never lose keys.
    pub fn configure_json(&self, patch: &serde_json::Value) -> Result<Config, ConfigError> {
        let mut windows = self.inner.windows.lock().unwrap_or_else(|p| p.into_inner());
        let next = self.config().patched(patch)?;
        self.set_config_locked(&mut windows, next);
        Ok(next)
    }

    /// `configure_json` for a host that parses no JSON: the keys of
    /// `patch` changed as [`Config::patched_given`] reads them.
    pub fn configure_given(&self, patch: &[(&str, crate::Given<'_>)]) -> Result<Config, ConfigError> {
        let mut windows = self.inner.windows.lock().unwrap_or_else(|p| p.into_inner());
        let next = self.config().patched_given(patch)?;
        self.set_config_locked(&mut windows, next);
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

    /// A snapshot on the command's own clock.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_at(self.now_ms())
    }

    /// A snapshot at `now` (SPEC §6): applies a pending trip as admission
    /// would, never moves `open` to `half_open`.
    pub fn snapshot_at(&self, now: u64) -> Snapshot {
        let cfg = &self.config();
        let health = if self.evaluates_trips(cfg) { self.trip_if_unhealthy(now, cfg) } else { self.health(now, cfg) };
        self.snapshot_with(now, cfg, health)
    }

    /// A snapshot at `now` for observers (the stream, Prometheus): like
    /// [`Command::snapshot_at`] but read-only — it never trips, never
    /// refreshes the cached health snapshot decisions use (health is read
    /// fresh from the window) and takes no lock a call waits on.
    pub fn observe_at(&self, now: u64) -> Snapshot {
        let cfg = &self.config();
        self.snapshot_with(now, cfg, self.window().health(now))
    }

    fn snapshot_with(&self, now: u64, cfg: &Config, health: HealthCounts) -> Snapshot {
        let window = self.window();
        let state = if !cfg.circuit_breaker_enabled {
            CircuitState::Closed
        } else if cfg.force_open {
            CircuitState::Open
        } else if cfg.force_closed {
            CircuitState::Closed
        } else {
            self.state()
        };
        let inner = &self.inner;
        Snapshot {
            name: inner.name.clone(),
            time_ms: now,
            state,
            health: Health { total: health.total, errors: health.errors, error_percentage: health.error_percentage() },
            rolling: EventCounts(window.counts(now)),
            cumulative: EventCounts(self.cumulative()),
            concurrent: inner.concurrent.held(),
            fallback_concurrent: inner.fallback_concurrent.held(),
            rolling_max_concurrent: window.max_concurrent(now),
            latency_run: inner.latency_direct.percentiles(&inner.latency_run_only, now),
            latency_total: inner.latency_direct.percentiles(&inner.latency_total_only, now),
            listener_panics: inner.listeners.panics(),
            limit: self.limit(),
            budget: self.budget_balance(now),
            states: inner.states.read(now),
            latency_run_histogram: inner.latency_direct.cumulative(&inner.latency_run_only),
            latency_total_histogram: inner.latency_direct.cumulative(&inner.latency_total_only),
        }
    }

    /// Every event ever recorded: the base plus every window's own counts.
    fn cumulative(&self) -> [u64; EventType::COUNT] {
        let inner = &self.inner;
        // The base is read under the lock a reshape drains windows into it
        // with: never the base before a drain and the window after it.
        let windows = inner.windows.lock().unwrap_or_else(|p| p.into_inner());
        let mut all = std::array::from_fn(|i| inner.cumulative_base[i].load(Ordering::Relaxed));
        for w in windows.iter() {
            for (a, n) in all.iter_mut().zip(w.cumulative()) {
                *a += n;
            }
        }
        all
    }

    /// The underlying circuit state (ignoring force flags).
    #[inline(always)]
    fn state(&self) -> CircuitState {
        CircuitState::from_u8(self.inner.state.load(Ordering::Acquire))
    }

    fn lock_episode(&self) -> MutexGuard<'_, Episode> {
        self.inner.episode.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn evaluates_trips(&self, cfg: &Config) -> bool {
        cfg.circuit_breaker_enabled && !cfg.force_open && !cfg.force_closed
    }

    /// The health snapshot at `now`, recomputed from the window when it is
    /// due (SPEC §5).
    #[inline]
    fn health(&self, now: u64, cfg: &Config) -> HealthCounts {
        let inner = &self.inner;
        let at = inner.snap_at.load(Ordering::Acquire);
        let interval = cfg.health_snapshot_interval_ms;
        // A snapshot stamped more than an interval after `now` (a clock
        // reading far ahead) is due; a little after is another thread's
        // reading of the same moment.
        if at != NEVER && at.saturating_sub(interval) <= now && now < at.saturating_add(interval) {
            let packed = inner.snap.load(Ordering::Acquire);
            return HealthCounts { total: packed >> 32, errors: packed & 0xffff_ffff };
        }
        // A cached snapshot must not be computed before a circuit close and
        // stored after it (it would bring pre-close counts back): when it is
        // cached (interval > 0) it is refreshed under the lock the close
        // takes. At interval 0 it is recomputed on every use anyway.
        let serial = (cfg.health_snapshot_interval_ms > 0).then(|| self.lock_episode());
        let h = self.window().health(now);
        // Packed into one word as two 32-bit halves; past 2^32 both are
        // scaled down alike, keeping the error ratio (clamping each would
        // read 2^32 errors of 2^33 as 100 %).
        let shift = 32u32.saturating_sub(h.total.leading_zeros());
        let cached = HealthCounts { total: h.total >> shift, errors: h.errors >> shift };
        // Decide on what later callers will read, so a refresh and the
        // cached copy never disagree about tripping.
        let h = cached;
        inner.snap.store((cached.total << 32) | cached.errors, Ordering::Release);
        inner.snap_at.store(now, Ordering::Release);
        if serial.is_none() {
            // Refreshed without the lock (interval 0 as this caller read
            // it): a gate set meanwhile under another interval may no longer
            // describe the snapshot now cached.
            if inner.trip_ok_until.load(Ordering::Relaxed) != 0 {
                inner.trip_ok_until.store(0, Ordering::Release);
            }
        } else {
            // Under the lock every reconfiguration takes after storing the
            // new values: thresholds read here are the ones in force.
            let live = &inner.config;
            let interval = live.health_snapshot_interval_ms.load(Ordering::Relaxed);
            let volume = live.request_volume_threshold.load(Ordering::Relaxed);
            let pct = live.error_threshold_percentage.load(Ordering::Relaxed);
            // Judged on the snapshot as later callers will read it.
            if interval > 0 && !(cached.total >= volume && cached.percentage_at_least(pct)) {
                inner.trip_ok_until.store(now.saturating_add(interval), Ordering::Release);
            }
        }
        h
    }

    /// The trip rule on the hot path: nothing to do while the cached
    /// snapshot is known not to trip; otherwise the full evaluation.
    #[inline(always)]
    fn check_trip(&self, now: u64) {
        let inner = &self.inner;
        // The gate holds until its end, and not for a `now` more than an
        // interval before its snapshot's time (a snapshot stamped by a
        // reading far ahead). A little before is another thread's reading.
        let until = inner.trip_ok_until.load(Ordering::Acquire);
        if now < until {
            let at = inner.snap_at.load(Ordering::Relaxed);
            if now.saturating_add(until.saturating_sub(at)) >= at {
                return;
            }
        }
        self.check_trip_slow(now);
    }

    /// [`Command::check_trip`] past the gate, kept out of the hot path.
    #[inline(never)]
    fn check_trip_slow(&self, now: u64) {
        // The rule applies only in state closed; elsewhere the snapshot is
        // not needed, so it is not refreshed either (SPEC §5).
        let cfg = &self.config();
        if self.evaluates_trips(cfg) && self.state() == CircuitState::Closed {
            self.trip_if_unhealthy(now, cfg);
        }
    }

    /// In the closed state, evaluates the trip rule and trips if it holds.
    /// Returns the health snapshot used.
    #[inline]
    fn trip_if_unhealthy(&self, now: u64, cfg: &Config) -> HealthCounts {
        if self.state() != CircuitState::Closed {
            return self.health(now, cfg);
        }
        let seen = self.inner.transitions.load(Ordering::Acquire);
        let h = self.health(now, cfg);
        if h.total >= cfg.request_volume_threshold && h.percentage_at_least(cfg.error_threshold_percentage) {
            self.trip_unless_moved(seen, now);
        }
        h
    }

    /// Trips the circuit, unless it has moved since `seen` transitions
    /// (SPEC §5): health read before a close that reset it must not reopen
    /// the circuit the close just recovered.
    fn trip_unless_moved(&self, seen: u64, now: u64) {
        let mut ep = self.lock_episode();
        if self.state() == CircuitState::Closed && self.inner.transitions.load(Ordering::Relaxed) == seen {
            self.move_to(&mut ep, CircuitState::Open, now);
            drop(ep);
            self.notify_transition(CircuitState::Closed, CircuitState::Open, now);
        }
    }

    /// Sets the state under the episode lock; opening stamps `opened_at`,
    /// closing resets health (SPEC §5).
    fn move_to(&self, _ep: &mut MutexGuard<'_, Episode>, to: CircuitState, now: u64) {
        let inner = &self.inner;
        inner.trip_ok_until.store(0, Ordering::Release);
        inner.transitions.fetch_add(1, Ordering::AcqRel);
        match to {
            CircuitState::Open => inner.opened_at.store(now, Ordering::Release),
            CircuitState::Closed => {
                self.window().reset_health();
                inner.snap.store(0, Ordering::Release);
                inner.snap_at.store(now, Ordering::Release);
            }
            CircuitState::HalfOpen => {}
        }
        inner.states.moved(self.state(), to, now);
        inner.state.store(to.to_u8(), Ordering::Release);
    }

    fn notify_transition(&self, from: CircuitState, to: CircuitState, now: u64) {
        self.inner.listeners.notify(&Notice::Transition { command: &self.inner.name, from, to, at_ms: now });
    }

    /// SPEC §3 steps 1–2: the circuit, then the bulkhead. A refusal records
    /// its event (and a refused probe reopens the circuit).
    #[inline]
    pub(crate) fn admit(&self, now: u64) -> Admission {
        let inner = &self.inner;
        let live = &inner.config;
        let force_open = live.force_open.load(Ordering::Relaxed);
        let mut probe = 0;
        if live.circuit_breaker_enabled.load(Ordering::Relaxed)
            && (force_open || !live.force_closed.load(Ordering::Relaxed))
        {
            if force_open {
                self.record(now, EventType::ShortCircuited, 0);
                return Admission::ShortCircuited;
            }
            match self.circuit_admit(now) {
                Some(p) => probe = p,
                None => {
                    self.record(now, EventType::ShortCircuited, 0);
                    return Admission::ShortCircuited;
                }
            }
        }
        let Some(held) = inner.concurrent.try_acquire(self.limit()) else {
            self.record(now, EventType::SemaphoreRejected, probe);
            return Admission::Rejected;
        };
        self.window().note_concurrency(now, held);
        // A deadline past the end of `u64` time can never be reached: none
        // is armed (a saturated one would time out an instant success).
        let deadline = if live.timeout_enabled.load(Ordering::Relaxed) {
            now.checked_add(live.timeout_ms.load(Ordering::Relaxed))
        } else {
            None
        };
        Admission::Admitted(Ticket { probe, start: now, deadline, inflight: held })
    }

    /// The circuit's part of admission: `Some(probe episode or 0)` when
    /// admitted, `None` when short-circuited.
    #[inline]
    fn circuit_admit(&self, now: u64) -> Option<u64> {
        match self.state() {
            CircuitState::Closed => self.closed_admit(now),
            CircuitState::Open => {
                let opened = self.inner.opened_at.load(Ordering::Acquire);
                let sleep = self.inner.config.sleep_window_ms.load(Ordering::Relaxed);
                if now < opened.saturating_add(sleep) {
                    // Opened more than a sleep window after `now`: a clock
                    // reading far ahead (a little after is another
                    // thread's reading of the same moment).
                    if opened.saturating_sub(now) > sleep {
                        self.restart_sleep_window(now);
                    }
                    return None;
                }
                self.admit_probe(now, &self.config())
            }
            CircuitState::HalfOpen => self.admit_probe(now, &self.config()),
        }
    }

    /// The circuit opened at a time later than `now` (a clock reading that
    /// was wrong, or a clock that went back): its sleep window starts again
    /// now, so it cannot stay open for as long as the reading was wrong.
    #[cold]
    fn restart_sleep_window(&self, now: u64) {
        let _ep = self.lock_episode();
        let sleep = self.inner.config.sleep_window_ms.load(Ordering::Relaxed);
        if self.state() == CircuitState::Open
            && self.inner.opened_at.load(Ordering::Acquire).saturating_sub(now) > sleep
        {
            self.inner.opened_at.store(now, Ordering::Release);
        }
    }

    /// Admission in state closed: the trip rule first (SPEC §3 step 1).
    #[inline]
    fn closed_admit(&self, now: u64) -> Option<u64> {
        self.check_trip(now);
        if self.state() == CircuitState::Closed {
            return Some(0);
        }
        None
    }

    /// Under the episode lock: opens a half-open episode if the sleep window
    /// has passed, and admits a probe if the episode has room. An episode
    /// whose successful probes already reach `half_open_max_calls` (it was
    /// lowered during the episode) is closed first, and the call admitted
    /// as in state closed (SPEC §5, v2 clarification): a circuit whose
    /// remaining probe slots were configured away must not stay half-open.
    fn admit_probe(&self, now: u64, cfg: &Config) -> Option<u64> {
        let mut ep = self.lock_episode();
        let mut moved = false;
        match self.state() {
            CircuitState::Closed => return Some(0),
            CircuitState::Open => {
                let opened = self.inner.opened_at.load(Ordering::Acquire);
                if now < opened.saturating_add(cfg.sleep_window_ms) {
                    return None;
                }
                ep.id += 1;
                ep.admitted = 0;
                ep.succeeded = 0;
                self.move_to(&mut ep, CircuitState::HalfOpen, now);
                moved = true;
            }
            CircuitState::HalfOpen if ep.succeeded >= cfg.half_open_max_calls => {
                self.move_to(&mut ep, CircuitState::Closed, now);
                drop(ep);
                self.notify_transition(CircuitState::HalfOpen, CircuitState::Closed, now);
                return self.closed_admit(now);
            }
            CircuitState::HalfOpen => {}
        }
        let admitted = if ep.admitted < cfg.half_open_max_calls {
            ep.admitted += 1;
            Some(ep.id)
        } else {
            None
        };
        drop(ep);
        if moved {
            self.notify_transition(CircuitState::Open, CircuitState::HalfOpen, now);
        }
        admitted
    }

    /// Records one event at `now`: rolling and cumulative counts, then the
    /// probe decision or the trip rule (SPEC §5), then listeners.
    #[inline(always)]
    fn record(&self, now: u64, event: EventType, probe: u64) {
        let inner = &self.inner;
        self.window().record(now, event);
        if inner.listeners.wants_events() {
            inner.listeners.notify(&Notice::Event { command: &inner.name, event, at_ms: now });
        }
        // A probe whose episode has ended is an ordinary call (SPEC §5).
        if probe != 0 && self.decide_probe(now, &self.config(), event, probe) {
            return;
        }
        if event.counts_in_health() {
            self.check_trip(now);
        }
    }

    /// A probe's outcome decides while its own episode lasts. Returns
    /// whether the episode was still live (the outcome was the probe's).
    fn decide_probe(&self, now: u64, cfg: &Config, event: EventType, probe: u64) -> bool {
        let mut ep = self.lock_episode();
        if self.state() != CircuitState::HalfOpen || ep.id != probe {
            return false;
        }
        let to = match event {
            EventType::Success => {
                ep.succeeded += 1;
                if ep.succeeded < cfg.half_open_max_calls {
                    return true;
                }
                CircuitState::Closed
            }
            EventType::Failure | EventType::Timeout | EventType::SemaphoreRejected => CircuitState::Open,
            EventType::BadRequest => {
                ep.admitted = ep.admitted.saturating_sub(1);
                return true;
            }
            _ => return true,
        };
        self.move_to(&mut ep, to, now);
        drop(ep);
        self.notify_transition(CircuitState::HalfOpen, to, now);
        true
    }

    /// Records an admitted attempt's outcome event (`SUCCESS`, `FAILURE`,
    /// `BAD_REQUEST` or `TIMEOUT`): counts, probe decision, trip rule, then
    /// the retry budget's deposit and the adaptive limiter's sample
    /// (semantics §9.3). The permit stays held.
    #[inline]
    pub(crate) fn record_outcome(&self, ticket: &Ticket, now: u64, event: EventType) {
        self.record(now, event, ticket.probe);
        self.after_outcome_v2(ticket, now, event);
    }

    /// Records an event that belongs to no attempt (a marker, a fallback's):
    /// counts and listeners; the trip rule if it counts in health.
    pub(crate) fn record_event(&self, now: u64, event: EventType) {
        self.record(now, event, 0);
    }

    /// Records a caller's cancellation of an attempt (SPEC §18): rolling and
    /// cumulative counts and listeners only (not in health, no probe
    /// decision, no trip rule).
    pub(crate) fn record_cancelled(&self, now: u64) {
        self.record(now, EventType::Cancelled, 0);
    }

    /// Settles a call whose run returned a value at `now`, before its
    /// deadline: `SUCCESS`, the permit back, the latency. Shared by
    /// [`crate::Execution::run_finished`] and the sync driver's fast path,
    /// which calls it without building an execution.
    #[inline]
    pub(crate) fn settle_success(&self, ticket: Ticket, now: u64) {
        self.record_outcome(&ticket, now, EventType::Success);
        let latency = now.saturating_sub(ticket.start);
        self.release(ticket);
        self.record_latency(now, Some(latency), latency);
    }

    /// Gives a run permit back (SPEC §3.4).
    #[inline]
    pub(crate) fn release(&self, _ticket: Ticket) {
        self.inner.concurrent.release();
    }

    /// Gives back the permit of a ticket whose holder is unwinding (a host
    /// clock panicked while it was held); the ticket is dropped with the
    /// unwinding frame, never used again.
    #[cold]
    pub(crate) fn release_while_unwinding(&self, _ticket: &Ticket) {
        self.inner.concurrent.release();
    }

    /// Frees a probe slot without deciding, for a call abandoned by its caller.
    pub(crate) fn forget_probe(&self, ticket: &Ticket) {
        if ticket.probe != 0 {
            let mut ep = self.lock_episode();
            if ep.id == ticket.probe && self.state() == CircuitState::HalfOpen {
                ep.admitted = ep.admitted.saturating_sub(1);
            }
        }
    }

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

    /// Records a settled call's latencies at `now`: the run's (if it ran)
    /// and the total. A call settled at its run's outcome records one sample
    /// that serves as both.
    #[inline]
    pub(crate) fn record_latency(&self, now: u64, run: Option<u64>, total: u64) {
        let inner = &self.inner;
        if run == Some(total) {
            inner.latency_direct.record(now, total);
        } else {
            if let Some(run) = run {
                inner.latency_run_only.record(now, run);
            }
            inner.latency_total_only.record(now, total);
        }
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command").field("name", &self.inner.name).field("state", &self.state()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FnClock;

    fn command(config: Config) -> Command {
        Command::with_clock("t", config, Arc::new(FnClock(|| 0))).unwrap()
    }

    /// An evaluator that read unhealthy counts before the circuit tripped,
    /// half-opened and closed again must not reopen it with them (the
    /// close reset health; those counts are gone).
    #[test]
    fn a_trip_decided_on_health_read_before_a_close_is_dropped() {
        let cfg = Config {
            request_volume_threshold: 1,
            health_snapshot_interval_ms: 0,
            sleep_window_ms: 100,
            ..Config::default()
        };
        let cmd = command(cfg);
        cmd.window().record(0, EventType::Failure);
        // The slow evaluator reads the transition count and the health…
        let seen = cmd.inner.transitions.load(Ordering::Acquire);
        let stale = cmd.health(0, &cfg);
        assert_eq!(stale, HealthCounts { total: 1, errors: 1 });
        // …meanwhile another call trips the circuit, a probe closes it.
        assert_eq!(cmd.circuit_admit(0), None);
        assert_eq!(cmd.state(), CircuitState::Open);
        let probe = cmd.circuit_admit(100).expect("a probe after the sleep window");
        cmd.record(100, EventType::Success, probe);
        assert_eq!(cmd.state(), CircuitState::Closed);
        // The stale evaluator now takes the lock: nothing happens.
        cmd.trip_unless_moved(seen, 101);
        assert_eq!(cmd.state(), CircuitState::Closed);
        // A fresh evaluation still trips on fresh counts.
        cmd.trip_unless_moved(cmd.inner.transitions.load(Ordering::Acquire), 102);
        assert_eq!(cmd.state(), CircuitState::Open);
    }

    /// A writer that loaded the window before a reshape and records after
    /// it: its event still lands in the cumulative counts (the fold at the
    /// reshape used to miss it).
    #[test]
    fn an_event_recorded_into_a_replaced_window_is_still_counted() {
        let cfg = Config::default();
        let cmd = command(cfg);
        cmd.record(0, EventType::Success, 0);
        let straggler: *const Window = cmd.window();
        cmd.set_config(Config { rolling_window_ms: 20_000, ..cfg }).unwrap();
        // SAFETY: replaced windows live as long as the command.
        unsafe { &*straggler }.record(1, EventType::Success);
        cmd.record(2, EventType::Success, 0);
        assert_eq!(cmd.snapshot_at(3).cumulative.get(EventType::Success), 3);
        // Back to the first shape: its window is reused, its counts kept.
        cmd.set_config(cfg).unwrap();
        cmd.record(4, EventType::Failure, 0);
        let all = cmd.snapshot_at(5).cumulative;
        assert_eq!((all.get(EventType::Success), all.get(EventType::Failure)), (3, 1));
    }

    /// One reading 100 years ahead must not blind the window: later writes
    /// to the slot it stamped count in health again (a one-bucket window
    /// never tripped again).
    #[test]
    fn a_bucket_stamped_far_in_the_future_does_not_blind_the_window() {
        const CENTURY: u64 = 100 * 365 * 24 * 3600 * 1000;
        let cfg = Config {
            rolling_window_buckets: 1,
            request_volume_threshold: 5,
            health_snapshot_interval_ms: 0,
            ..Config::default()
        };
        let cmd = command(cfg);
        cmd.record(CENTURY, EventType::Success, 0);
        for t in 0..5 {
            cmd.record(1_000 + t, EventType::Failure, 0);
        }
        assert_eq!(cmd.state(), CircuitState::Open);
        assert_eq!(cmd.snapshot_at(1_005).cumulative.total(), 6, "nothing is lost");
    }

    /// One reading 100 years ahead opens the circuit; once the clock is
    /// back, the circuit probes a sleep window later, not in 100 years.
    #[test]
    fn an_open_instant_in_the_future_restarts_the_sleep_window() {
        const CENTURY: u64 = 100 * 365 * 24 * 3600 * 1000;
        let cfg = Config { request_volume_threshold: 1, sleep_window_ms: 100, ..Config::default() };
        let cmd = command(cfg);
        cmd.record(CENTURY, EventType::Failure, 0);
        assert_eq!(cmd.state(), CircuitState::Open);
        assert_eq!(cmd.circuit_admit(1_000), None, "still open, its window restarted at 1000");
        assert_eq!(cmd.circuit_admit(1_099), None);
        assert!(cmd.circuit_admit(1_100).is_some(), "a probe one sleep window after the clock came back");
        assert_eq!(cmd.state(), CircuitState::HalfOpen);
    }

    /// A healthy snapshot taken at a reading 100 years ahead must not keep
    /// the trip rule from running once the clock is back.
    #[test]
    fn a_gate_and_snapshot_stamped_in_the_future_are_due_at_once() {
        const CENTURY: u64 = 100 * 365 * 24 * 3600 * 1000;
        let cfg = Config { request_volume_threshold: 2, health_snapshot_interval_ms: 500, ..Config::default() };
        let cmd = command(cfg);
        cmd.record(CENTURY, EventType::Success, 0);
        assert_eq!(cmd.snapshot_at(CENTURY).health.total, 1, "a healthy snapshot, cached with its gate");
        cmd.record(1_000, EventType::Failure, 0);
        cmd.record(1_000, EventType::Failure, 0);
        // The snapshot refreshed at 1000 (1 of 1 failed) is used until 1500.
        assert_eq!(cmd.state(), CircuitState::Closed);
        assert_eq!(cmd.circuit_admit(1_500), None, "the trip rule ran on fresh counts at the next refresh");
        assert_eq!(cmd.state(), CircuitState::Open);
    }

    /// The cached health snapshot keeps the error ratio past 2^32 counts.
    #[test]
    fn a_cached_health_snapshot_past_2_pow_32_keeps_its_ratio() {
        let cfg = Config { request_volume_threshold: 1, error_threshold_percentage: 51, ..Config::default() };
        let cmd = command(cfg);
        cmd.window().record_many(0, EventType::Failure, 1 << 32);
        cmd.window().record_many(0, EventType::Success, 1 << 32);
        // Refreshed and cached alike: both halves scaled, the ratio kept.
        let fresh = cmd.health(0, &cfg);
        let cached = cmd.health(1, &cfg);
        assert_eq!(fresh, cached, "a refresh decides on what the cache holds");
        assert_eq!(cached.error_percentage(), 50);
        assert!(cached.total >= 1 << 31);
        assert_eq!(cmd.circuit_admit(2), Some(0), "50 % does not meet a 51 % threshold");
    }

    /// Lowering `half_open_max_calls` to the probes that already succeeded,
    /// none running, closes the circuit at the next admission (SPEC §5).
    #[test]
    fn an_episode_whose_slots_were_configured_away_closes_at_the_next_admission() {
        let cfg = Config {
            request_volume_threshold: 1,
            health_snapshot_interval_ms: 0,
            sleep_window_ms: 100,
            half_open_max_calls: 2,
            ..Config::default()
        };
        let cmd = command(cfg);
        cmd.record(0, EventType::Failure, 0);
        assert_eq!(cmd.state(), CircuitState::Open);
        let probe = cmd.circuit_admit(100).unwrap();
        cmd.record(100, EventType::Success, probe);
        assert_eq!(cmd.state(), CircuitState::HalfOpen);
        cmd.set_config(Config { half_open_max_calls: 1, ..cfg }).unwrap();
        assert_eq!(cmd.circuit_admit(5_000), Some(0), "admitted as a normal call");
        assert_eq!(cmd.state(), CircuitState::Closed);
    }
}
