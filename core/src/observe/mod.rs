//! Observing commands (issue #12): the core renders, hosts serve.
//!
//! - [`stream`]: the Hystrix 1.5 `hystrix.stream` frame of a command (the
//!   `"type":"HystrixCommand"` object the Netflix dashboard and Turbine read).
//! - [`pool`]: the `"type":"HystrixThreadPool"` frame of a thread-isolated
//!   command's pool (figures from the host's pool, rolling counts from the
//!   command), rendered right after that command's frame.
//! - [`families`](mod@families): the metric families of a set of commands (names, help,
//!   types, units, labels, values): what every exporter reads (with
//!   `hystrix_threadpool_*` families for the commands an [`Observation`]
//!   was given a pool for).
//! - [`prometheus`]: the Prometheus text exposition (format 0.0.4) of a set
//!   of commands, written from those families.
//! - [`wire`]: an observer snapshot and configuration as integers, for a
//!   renderer that lives apart from the commands (the npm package's).
//! - [`DASHBOARD_HTML`]: a self-contained live dashboard page that reads
//!   a `hystrix.stream` (every host serves these same bytes, e.g. at
//!   `/hystrix`).
//!
//! Rendering is read-only: it works on [`Command::observe_at`] snapshots,
//! which never trip a circuit, never refresh the health snapshot decisions
//! use and take no lock a call waits on. The only wall-clock time involved
//! (the stream's `currentTime`) is passed in by the host. A registry is
//! rendered from the commands it holds at that moment; nothing here keeps a
//! command alive afterwards.

pub mod families;
mod families_json;
mod json;
mod observation;
pub mod pool;
mod pool_metrics;
pub mod prometheus;
pub mod stream;
#[cfg(test)]
mod tests_wire;
pub mod wire;

use crate::command::Command;
use crate::event::CircuitState;
use crate::registry::Registry;
use std::sync::atomic::{fence, AtomicU64, AtomicU8, Ordering};

pub use families::{families, HistogramSample, MetricFamily, MetricType, Sample, Samples, Unit, Value};
pub use families_json::families_json;
pub use observation::Observation;
pub use pool::PoolStats;
pub use stream::{Isolation, StreamOptions};

/// The built-in live dashboard: one self-contained HTML page (inline CSS
/// and JS, no CDN, no framework) with a tile per command (circuit state
/// from `circuitState`, including half-open; error %; request rate;
/// rolling counts; latency percentiles; a sparkline of the recent rate and
/// error %), fed by an `EventSource` on `hystrix.stream` relative to the
/// page, or on the URL of its `?stream=` query parameter. Serve it with
/// [`DASHBOARD_CONTENT_TYPE`]. Its script is [`DASHBOARD_VIEW_JS`] (inlined
/// as a module) followed by the `EventSource` boot code.
pub const DASHBOARD_HTML: &str = without_nul(DASHBOARD_HTML_NUL);

/// The dashboard's view, an ES module exporting `dashboardView(host, stream)`:
/// the one copy of the page's drawing code, inlined into [`DASHBOARD_HTML`]
/// and shipped by the npm package for pages that mount the dashboard
/// themselves (fed by their own commands, no server).
pub const DASHBOARD_VIEW_JS: &str = include_str!("dashboard.js");

/// [`DASHBOARD_HTML`] followed by one NUL byte: the same bytes for hosts
/// that hand the page out as a static C string (the C binding).
pub const DASHBOARD_HTML_NUL: &str = concat!(
    include_str!("dashboard.head.html"),
    include_str!("dashboard.js"),
    include_str!("dashboard.boot.html"),
    "\0"
);

/// `s` without its final NUL byte (at compile time).
const fn without_nul(s: &'static str) -> &'static str {
    match s.as_bytes().split_last() {
        Some((&0, rest)) => match std::str::from_utf8(rest) {
            Ok(text) => text,
            Err(_) => panic!("the page is UTF-8"),
        },
        _ => panic!("the page ends with a NUL"),
    }
}

/// The content type of [`DASHBOARD_HTML`].
pub const DASHBOARD_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// The three circuit states, in index order (closed, open, half-open).
pub const STATES: [CircuitState; 3] = [CircuitState::Closed, CircuitState::Open, CircuitState::HalfOpen];

/// The transitions a circuit can make, as `(from, to)`.
pub const TRANSITIONS: [(CircuitState, CircuitState); 4] = [
    (CircuitState::Closed, CircuitState::Open),
    (CircuitState::Open, CircuitState::HalfOpen),
    (CircuitState::HalfOpen, CircuitState::Closed),
    (CircuitState::HalfOpen, CircuitState::Open),
];

/// Transitions since a command was created and time in each state, as of
/// a snapshot's time. Counts the underlying state (force flags and a
/// disabled breaker aside: those are configuration, not transitions).
///
/// The core reads no clock when a command is made (a host clock may not be
/// ready, and the browser build passes time in with each call), so time is
/// counted from the first instant the command was seen: its first snapshot
/// or its first transition, whichever came first. A closed period before
/// either is not counted. For Prometheus this changes nothing, as it works
/// on increases between scrapes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateStats {
    /// `transitions[from][to]`, indexed like [`STATES`].
    pub transitions: [[u64; 3]; 3],
    /// Milliseconds spent in each state, indexed like [`STATES`]; the
    /// current state's time runs up to the snapshot's time.
    pub time_in_state_ms: [u64; 3],
    /// The underlying state at the snapshot's time.
    pub current: Option<CircuitState>,
}

impl StateStats {
    /// How many times the circuit went from `from` to `to`.
    pub fn transitions(&self, from: CircuitState, to: CircuitState) -> u64 {
        self.transitions[from.to_u8() as usize][to.to_u8() as usize]
    }

    /// Milliseconds spent in `state`.
    pub fn time_in_ms(&self, state: CircuitState) -> u64 {
        self.time_in_state_ms[state.to_u8() as usize]
    }
}

/// Entry time not known yet.
const UNSEEN: u64 = u64::MAX;

/// A command's transition counts and state entry time. Written only by
/// transitions (under the command's episode lock, so one writer at a time,
/// never on the closed path); read lock-free by observers through a
/// sequence number (a reader that overlaps a transition reads again).
pub(crate) struct StateClock {
    seq: AtomicU64,
    current: AtomicU8,
    /// When the current state was entered; `UNSEEN` before the first
    /// transition (then `first_seen` stands in).
    entered_at: AtomicU64,
    /// The first snapshot's time, while no transition has happened.
    first_seen: AtomicU64,
    transitions: [AtomicU64; 9],
    spent_ms: [AtomicU64; 3],
}

impl StateClock {
    /// Closed, not seen yet.
    pub(crate) fn new() -> StateClock {
        StateClock {
            seq: AtomicU64::new(0),
            current: AtomicU8::new(CircuitState::Closed.to_u8()),
            entered_at: AtomicU64::new(UNSEEN),
            first_seen: AtomicU64::new(UNSEEN),
            transitions: Default::default(),
            spent_ms: Default::default(),
        }
    }

    /// When the current state was entered, if known.
    fn entered(&self) -> u64 {
        match self.entered_at.load(Ordering::Relaxed) {
            UNSEEN => self.first_seen.load(Ordering::Relaxed),
            at => at,
        }
    }

    /// Notes a transition at `now`. The caller holds the episode lock.
    pub(crate) fn moved(&self, from: CircuitState, to: CircuitState, now: u64) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        let (f, t) = (from.to_u8() as usize, to.to_u8() as usize);
        let entered = self.entered();
        if entered != UNSEEN {
            self.spent_ms[f].fetch_add(now.saturating_sub(entered), Ordering::Relaxed);
        }
        self.transitions[f * 3 + t].fetch_add(1, Ordering::Relaxed);
        // A reading behind the entry time (another thread's clock) never
        // moves the entry time back.
        self.entered_at.store(if entered == UNSEEN { now } else { entered.max(now) }, Ordering::Relaxed);
        self.current.store(to.to_u8(), Ordering::Relaxed);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// The counts and times as of `now` (the first read also marks when
    /// the command was first seen).
    pub(crate) fn read(&self, now: u64) -> StateStats {
        if self.first_seen.load(Ordering::Relaxed) == UNSEEN {
            let _ = self.first_seen.compare_exchange(UNSEEN, now, Ordering::Relaxed, Ordering::Relaxed);
        }
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let mut stats = StateStats::default();
            for (i, row) in stats.transitions.iter_mut().enumerate() {
                for (j, n) in row.iter_mut().enumerate() {
                    *n = self.transitions[i * 3 + j].load(Ordering::Relaxed);
                }
            }
            for (t, s) in stats.time_in_state_ms.iter_mut().zip(&self.spent_ms) {
                *t = s.load(Ordering::Relaxed);
            }
            let current = CircuitState::from_u8(self.current.load(Ordering::Relaxed));
            let entered = self.entered();
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                let i = current.to_u8() as usize;
                stats.time_in_state_ms[i] = stats.time_in_state_ms[i].saturating_add(now.saturating_sub(entered));
                stats.current = Some(current);
                return stats;
            }
        }
    }
}

impl Command {
    /// This command's `hystrix.stream` frame (the JSON object alone, one
    /// line) with its snapshot taken at `now` on its clock and `currentTime`
    /// = `wall_clock_ms` (epoch milliseconds, supplied by the host). Its
    /// pool frame, if any, is not included (see [`Observation`]).
    pub fn render_stream_frame(&self, now: u64, wall_clock_ms: u64, options: &StreamOptions) -> String {
        let mut out = String::new();
        stream::write_frame(&mut out, &self.observe_at(now), &self.config(), wall_clock_ms, options);
        out
    }

    /// This command's Prometheus exposition with its snapshot taken at `now`.
    pub fn render_prometheus_at(&self, now: u64) -> String {
        prometheus::render(&[(self.observe_at(now), self.config())])
    }
}

impl Registry {
    /// The registry's named commands observed at `now`, with `options`.
    fn observed(&self, now: u64, options: &StreamOptions) -> Observation {
        let mut observation = Observation::new();
        let options = StreamOptions { pool: None, ..*options };
        for command in self.commands() {
            observation.add(&command, now, options);
        }
        observation
    }

    /// One tick of `hystrix.stream`: `data: {json}\n\n` for every named
    /// command, sorted by name, snapshots taken at `now` on the registry's
    /// clock, `currentTime` = `wall_clock_ms`. Empty when there is no
    /// command (the host still sends its `ping: \n\n`). `options.pool` is
    /// ignored: a pool belongs to one command (use an [`Observation`]).
    pub fn render_stream_frames(&self, now: u64, wall_clock_ms: u64, options: &StreamOptions) -> String {
        self.observed(now, options).stream_frames(wall_clock_ms)
    }

    /// The Prometheus text exposition of every named command, snapshots
    /// taken now on the registry's clock.
    pub fn render_prometheus(&self) -> String {
        self.render_prometheus_at(self.now_ms())
    }

    /// [`Registry::render_prometheus`] with snapshots taken at `now`.
    pub fn render_prometheus_at(&self, now: u64) -> String {
        self.observed(now, &StreamOptions::default()).prometheus()
    }

    /// The metric families of every named command with snapshots taken at
    /// `now`: the structured form of [`Registry::render_prometheus_at`].
    pub fn metric_families_at(&self, now: u64) -> Vec<MetricFamily> {
        self.observed(now, &StreamOptions::default()).families()
    }
}

#[cfg(test)]
mod families_tests;
#[cfg(test)]
mod tests;
