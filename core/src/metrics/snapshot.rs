//! What observing a command returns (SPEC §6 plus metrics), serialisable to
//! JSON with stable field names.

use crate::event::{CircuitState, EventType};
use crate::latency::{LatencyHistogram, Percentiles};
use crate::observe::StateStats;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// A count per event type; serialises as `{"SUCCESS": n, ...}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventCounts(pub [u64; EventType::COUNT]);

impl EventCounts {
    /// The count of one event type.
    pub fn get(&self, event: EventType) -> u64 {
        self.0[event.index()]
    }

    /// Sum over every event type.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl Serialize for EventCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(EventType::COUNT))?;
        for e in EventType::ALL {
            map.serialize_entry(e.as_str(), &self.get(e))?;
        }
        map.end()
    }
}

/// Health counts used for decisions (SPEC §5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Health {
    /// `SUCCESS + FAILURE + TIMEOUT + SEMAPHORE_REJECTED` in the window.
    pub total: u64,
    /// `FAILURE + TIMEOUT + SEMAPHORE_REJECTED` in the window.
    pub errors: u64,
    /// `floor(errors × 100 / total)`, 0 when total is 0.
    pub error_percentage: u64,
}

/// A command observed at one instant.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// The command's name (empty for anonymous commands).
    pub name: String,
    /// When the snapshot was taken, on the command's clock.
    pub time_ms: u64,
    /// The reported state (`open` while forced open, `closed` while forced
    /// closed or with the breaker disabled).
    pub state: CircuitState,
    /// The health counts used for decisions.
    pub health: Health,
    /// Count of each event type in the rolling window.
    pub rolling: EventCounts,
    /// Count of each event type since the command was created.
    pub cumulative: EventCounts,
    /// Run permits held now.
    pub concurrent: u32,
    /// Fallbacks in flight now.
    pub fallback_concurrent: u32,
    /// Highest run concurrency seen in the rolling window.
    pub rolling_max_concurrent: u32,
    /// Run latency (admission to outcome) over the percentile window.
    pub latency_run: Percentiles,
    /// Total latency (admission to the caller's result) over the percentile window.
    pub latency_total: Percentiles,
    /// Listener calls that panicked since creation.
    pub listener_panics: u64,
    /// The bulkhead's limit in force (semantics §15.1): `max_concurrent_requests`
    /// in mode `"fixed"`, the adaptive limit otherwise.
    pub limit: u64,
    /// The retry budget's balance at `time_ms` (semantics §12); `0` while it
    /// is off. May be negative.
    pub budget: i64,
    /// Transitions per `(from, to)` and time spent in each state since
    /// creation (the underlying state, force flags aside). Not in
    /// [`Snapshot::to_json`] (yet): the renderers of [`crate::observe`] read it.
    #[serde(skip)]
    pub states: StateStats,
    /// Run latency of every call since creation, in fixed buckets.
    #[serde(skip)]
    pub latency_run_histogram: LatencyHistogram,
    /// Total latency of every call since creation, in fixed buckets.
    #[serde(skip)]
    pub latency_total_histogram: LatencyHistogram,
}

impl Snapshot {
    /// The snapshot as a JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Snapshot always serialises")
    }
}
