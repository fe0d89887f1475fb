//! An observer snapshot and its command's configuration as one list of
//! integers ([`encode`]) and back ([`decode`]): for a host whose renderer
//! lives apart from its commands. The npm package renders in a second wasm
//! module (loaded only by its observe and dashboard entries, so that the
//! module every page loads carries no renderer): the two modules share no
//! memory, and what one [`Observation`](super::Observation) needs of a
//! command crosses between them as these words (a `BigUint64Array`).
//!
//! The layout is private to one build of the core: both ends must be the
//! same version (one package). Every integer crosses exactly (no `f64`
//! rounding above 2^53); the mean latencies cross as their bits, `budget`
//! as its two's complement.

use crate::config::{Config, Jitter, LimitMode, Setting};
use crate::event::{CircuitState, EventType};
use crate::latency::{LatencyHistogram, Percentiles, HISTOGRAM_BOUNDS_MS};
use crate::observe::StateStats;
use crate::snapshot::{EventCounts, Health, Snapshot};

/// How many words [`encode`] writes (the same for every snapshot).
pub fn len() -> usize {
    const PERCENTILES: usize = 11;
    const HISTOGRAM: usize = HISTOGRAM_BOUNDS_MS.len() + 2;
    2 + 3 + 2 * EventType::COUNT + 3 + 2 * PERCENTILES + 3 + 9 + 3 + 1 + 2 * HISTOGRAM + Config::keys().count()
}

/// `snap` (taken by [`Command::observe_at`](crate::Command::observe_at))
/// and `config`, as [`decode`] reads them. The name does not cross here.
pub fn encode(snap: &Snapshot, config: &Config) -> Vec<u64> {
    let mut w = Vec::with_capacity(len());
    w.extend([snap.time_ms, snap.state.to_u8() as u64]);
    w.extend([snap.health.total, snap.health.errors, snap.health.error_percentage]);
    w.extend(snap.rolling.0.iter().chain(&snap.cumulative.0));
    w.extend([snap.concurrent, snap.fallback_concurrent, snap.rolling_max_concurrent].map(u64::from));
    for p in [&snap.latency_run, &snap.latency_total] {
        w.extend([p.count, p.mean.to_bits(), p.p0, p.p25, p.p50, p.p75, p.p90, p.p95, p.p99, p.p99_5, p.p100]);
    }
    w.extend([snap.listener_panics, snap.limit, snap.budget as u64]);
    w.extend(snap.states.transitions.iter().flatten());
    w.extend(snap.states.time_in_state_ms);
    w.push(snap.states.current.map_or(0, |s| 1 + s.to_u8() as u64));
    for h in [&snap.latency_run_histogram, &snap.latency_total_histogram] {
        w.extend(h.cumulative_counts);
        w.extend([h.count, h.sum_ms]);
    }
    // Every key's value in SPEC order, read by place (no name looked up).
    for setting in (0..).map_while(|at| config.setting_at(at)) {
        w.push(match setting {
            Setting::Bool(b) => b as u64,
            Setting::Int(i) => i,
            Setting::Name(name) => name_index(name),
        });
    }
    w
}

/// The position of a named setting's value among its key's names.
fn name_index(name: &str) -> u64 {
    let jitter = Jitter::ALL.iter().position(|j| j.as_str() == name);
    let mode = LimitMode::ALL.iter().position(|m| m.as_str() == name);
    jitter.or(mode).unwrap_or(0) as u64
}

/// The snapshot (named `name`) and configuration [`encode`] wrote into
/// `words`; `None` if `words` is not such a list (its length, a state, a
/// setting out of range).
pub fn decode(name: String, words: &[u64]) -> Option<(Snapshot, Config)> {
    if words.len() != len() {
        return None;
    }
    let mut r = words.iter().copied();
    let mut next = move || r.next().unwrap_or(0);
    let time_ms = next();
    let state = state_of(next())?;
    let health = Health { total: next(), errors: next(), error_percentage: next() };
    let rolling = EventCounts(std::array::from_fn(|_| next()));
    let cumulative = EventCounts(std::array::from_fn(|_| next()));
    let [concurrent, fallback_concurrent, rolling_max_concurrent] = [(); 3].map(|_| next() as u32);
    let mut percentiles = || Percentiles {
        count: next(),
        mean: f64::from_bits(next()),
        p0: next(),
        p25: next(),
        p50: next(),
        p75: next(),
        p90: next(),
        p95: next(),
        p99: next(),
        p99_5: next(),
        p100: next(),
    };
    let (latency_run, latency_total) = (percentiles(), percentiles());
    let (listener_panics, limit, budget) = (next(), next(), next() as i64);
    let transitions = std::array::from_fn(|_| std::array::from_fn(|_| next()));
    let time_in_state_ms = std::array::from_fn(|_| next());
    let current = match next() {
        0 => None,
        s => Some(state_of(s - 1)?),
    };
    let mut histogram =
        || LatencyHistogram { cumulative_counts: std::array::from_fn(|_| next()), count: next(), sum_ms: next() };
    let (latency_run_histogram, latency_total_histogram) = (histogram(), histogram());
    let mut config = Config::default();
    for key in Config::keys() {
        let word = next();
        let setting = match Config::default().setting(key)? {
            Setting::Bool(_) => Setting::Bool(word != 0),
            Setting::Int(_) => Setting::Int(word),
            Setting::Name(_) if key == "retry_jitter" => Setting::Name(Jitter::ALL.get(word as usize)?.as_str()),
            Setting::Name(_) => Setting::Name(LimitMode::ALL.get(word as usize)?.as_str()),
        };
        config.set(key, setting).ok()?;
    }
    let snap = Snapshot {
        name,
        time_ms,
        state,
        health,
        rolling,
        cumulative,
        concurrent,
        fallback_concurrent,
        rolling_max_concurrent,
        latency_run,
        latency_total,
        listener_panics,
        limit,
        budget,
        states: StateStats { transitions, time_in_state_ms, current },
        latency_run_histogram,
        latency_total_histogram,
    };
    Some((snap, config))
}

/// The state of index `i` (closed, open, half-open), if one.
fn state_of(i: u64) -> Option<CircuitState> {
    super::STATES.get(usize::try_from(i).ok()?).copied()
}
