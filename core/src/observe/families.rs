//! Metric families: the structured form of the metrics a set of commands
//! exports (issue #12 §3). The Prometheus text ([`super::prometheus`]) is
//! written from these families, and the bridges of the bindings
//! (prom-client, OpenTelemetry, `prometheus_client`) read them, so every
//! host exports the same names, help texts, units, labels and values
//! without knowing any of them.
//!
//! Names follow Prometheus conventions (base unit seconds, `_total`
//! counters, cumulative since the command was created) and resilience4j's
//! shapes under the `hystrix_` prefix. Every series has the labels `name`
//! and `group` first (the command's name: commands have no group yet).
//! Every metric is documented in `docs/observability.md`.
//!
//! ```
//! use hystrix_core::observe::{MetricType, Samples, Value};
//! use hystrix_core::{Registry, RunError, VirtualClock};
//! use std::sync::Arc;
//!
//! let reg = Registry::new(Arc::new(VirtualClock::new()));
//! let _ = reg.get_or_create("users").execute(|| Ok::<u32, RunError<()>>(1));
//! for family in reg.metric_families_at(0) {
//!     // e.g. hand each to a metrics library: name, help, type, unit, labels…
//!     if let (MetricType::Counter, Samples::Scalar(series)) = (family.metric_type, &family.samples) {
//!         for s in series {
//!             assert_eq!(s.labels.len(), family.label_names.len());
//!             if family.name == "hystrix_execution_total" && s.labels[2] == "success" {
//!                 assert_eq!((s.labels[0].as_str(), s.value), ("users", Value::Count(1)));
//!             }
//!         }
//!     }
//! }
//! ```

use crate::config::Config;
use crate::event::EventType;
use crate::latency::{LatencyHistogram, HISTOGRAM_BOUNDS_MS};
use crate::observe::{STATES, TRANSITIONS};
use crate::snapshot::Snapshot;

/// What kind of metric a family is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// Only goes up (since the command was created).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative bucket counts, a sum and a count.
    Histogram,
}

impl MetricType {
    /// The Prometheus `# TYPE` word (`counter`, `gauge`, `histogram`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
        }
    }
}

/// The unit of a family's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count, a ratio or a state flag.
    None,
    /// Seconds (the Prometheus base unit of time).
    Seconds,
}

impl Unit {
    /// The Prometheus/OpenMetrics unit word: `seconds`, or `""`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Seconds => "seconds",
        }
    }

    /// The UCUM unit OpenTelemetry instruments carry: `s`, or `""`.
    pub fn ucum(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Seconds => "s",
        }
    }
}

/// One value, kept exact: the text writes it without a float round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A non-negative whole number.
    Count(u64),
    /// A whole number that may be negative (`-1`: not enough requests).
    Signed(i64),
    /// A duration in milliseconds, exported as seconds.
    Millis(u64),
}

impl Value {
    /// The value as a float (a duration in seconds).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Count(n) => n as f64,
            Value::Signed(n) => n as f64,
            Value::Millis(ms) => ms as f64 / 1000.0,
        }
    }

    /// Appends the value as the text exposition writes it: whole numbers
    /// as they are, durations as decimal seconds without trailing zeros.
    pub fn write(self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Value::Count(n) => write!(out, "{n}"),
            Value::Signed(n) => write!(out, "{n}"),
            Value::Millis(ms) => {
                let (s, frac) = (ms / 1000, ms % 1000);
                if frac == 0 {
                    write!(out, "{s}")
                } else {
                    let f = format!("{frac:03}");
                    write!(out, "{s}.{}", f.trim_end_matches('0'))
                }
            }
        };
    }
}

/// One series of a counter or gauge: its label values (in the order of
/// [`MetricFamily::label_names`]) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Label values, one per label name.
    pub labels: Vec<String>,
    /// The value.
    pub value: Value,
}

/// One series of a histogram: label values, the cumulative count at or
/// below each bound of [`Samples::Histogram`]'s `bounds`, and the count
/// (the `+Inf` bucket) and sum of every observation.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSample {
    /// Label values, one per label name (`le` is not among them).
    pub labels: Vec<String>,
    /// Observations at or below each bound (cumulative).
    pub cumulative_counts: Vec<u64>,
    /// Every observation.
    pub count: u64,
    /// The sum of the observations.
    pub sum: Value,
}

/// The series of a family.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    /// The series of a counter or a gauge.
    Scalar(Vec<Sample>),
    /// The series of a histogram, all with the same bucket bounds
    /// (ascending, in the family's unit; `+Inf` implied).
    Histogram {
        /// Upper bounds of the buckets.
        bounds: Vec<Value>,
        /// One per label set.
        series: Vec<HistogramSample>,
    },
}

/// One metric: name, help, type, unit, label names and its series.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricFamily {
    /// The metric's name (`hystrix_…`; counters end in `_total`).
    pub name: &'static str,
    /// One sentence on what it counts.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub metric_type: MetricType,
    /// The unit of its values (and of a histogram's bounds and sum).
    pub unit: Unit,
    /// The label names of every series, `name` and `group` first.
    pub label_names: Vec<&'static str>,
    /// The series, one per command (or more: one per state, event…).
    pub samples: Samples,
}

/// The reported states of `hystrix_circuitbreaker_state`, resilience4j's
/// names (`forced_closed` where resilience4j has `metrics_only`).
const REPORTED: [&str; 6] = ["closed", "open", "half_open", "forced_open", "forced_closed", "disabled"];

fn reported_state(snap: &Snapshot, cfg: &Config) -> &'static str {
    if !cfg.circuit_breaker_enabled {
        "disabled"
    } else if cfg.force_open {
        "forced_open"
    } else if cfg.force_closed {
        "forced_closed"
    } else {
        snap.state.as_str()
    }
}

/// Gathers families over a set of commands.
struct Builder<'a> {
    commands: &'a [(Snapshot, Config)],
    out: Vec<MetricFamily>,
}

impl Builder<'_> {
    /// A counter or gauge family whose series come from `series`, called
    /// once per command with a sink taking `(extra label values, value)`.
    fn scalar(
        &mut self,
        (name, metric_type, unit): (&'static str, MetricType, Unit),
        help: &'static str,
        extra: &[&'static str],
        series: impl Fn(&Snapshot, &Config, &mut dyn FnMut(&[&str], Value)),
    ) {
        let mut samples = Vec::new();
        for (snap, cfg) in self.commands {
            series(snap, cfg, &mut |values, value| {
                let mut labels = vec![snap.name.to_string(), snap.name.to_string()];
                labels.extend(values.iter().map(|v| v.to_string()));
                samples.push(Sample { labels, value });
            });
        }
        let mut label_names = vec!["name", "group"];
        label_names.extend_from_slice(extra);
        self.out.push(MetricFamily { name, help, metric_type, unit, label_names, samples: Samples::Scalar(samples) });
    }

    /// A gauge (or counter) with one series per command.
    fn each(
        &mut self,
        name: &'static str,
        metric_type: MetricType,
        help: &'static str,
        value: impl Fn(&Snapshot, &Config) -> Value,
    ) {
        self.scalar((name, metric_type, Unit::None), help, &[], |s, c, emit| emit(&[], value(s, c)));
    }
}

/// One histogram series of `snap` for `kind`.
fn histogram(snap: &Snapshot, kind: &str, h: &LatencyHistogram) -> HistogramSample {
    HistogramSample {
        labels: vec![snap.name.to_string(), snap.name.to_string(), kind.to_string()],
        cumulative_counts: h.cumulative_counts.to_vec(),
        count: h.count,
        sum: Value::Millis(h.sum_ms),
    }
}

/// The metric families of `commands` (read-only snapshots with the
/// configuration in force), one family after another, each family's
/// series in the order of the commands.
pub fn families(commands: &[(Snapshot, Config)]) -> Vec<MetricFamily> {
    use MetricType::{Counter, Gauge};
    let mut b = Builder { commands, out: Vec::new() };

    b.scalar(
        ("hystrix_circuitbreaker_state", Gauge, Unit::None),
        "1 for the circuit's reported state, 0 for the others (forced and disabled states from the configuration).",
        &["state"],
        |snap, cfg, emit| {
            let now = reported_state(snap, cfg);
            for state in REPORTED {
                emit(&[state], Value::Count(u64::from(state == now)));
            }
        },
    );
    b.scalar(
        ("hystrix_circuitbreaker_transitions_total", Counter, Unit::None),
        "State transitions since the command was created, by from and to state.",
        &["from", "to"],
        |snap, _, emit| {
            for (from, to) in TRANSITIONS {
                emit(&[from.as_str(), to.as_str()], Value::Count(snap.states.transitions(from, to)));
            }
        },
    );
    b.scalar(
        ("hystrix_circuitbreaker_state_seconds_total", Counter, Unit::Seconds),
        "Seconds spent in each circuit state since the command was created.",
        &["state"],
        |snap, _, emit| {
            for state in STATES {
                emit(&[state.as_str()], Value::Millis(snap.states.time_in_ms(state)));
            }
        },
    );
    b.each(
        "hystrix_circuitbreaker_failure_rate",
        Gauge,
        "Error percentage (0-100) of the health window, -1 below the request volume threshold.",
        |s, c| {
            if s.health.total < c.request_volume_threshold {
                Value::Signed(-1)
            } else {
                Value::Count(s.health.error_percentage)
            }
        },
    );
    b.scalar(
        ("hystrix_circuitbreaker_buffered_calls", Gauge, Unit::None),
        "Calls in the health window, by kind (successful, failed).",
        &["kind"],
        |snap, _, emit| {
            emit(&["successful"], Value::Count(snap.health.total.saturating_sub(snap.health.errors)));
            emit(&["failed"], Value::Count(snap.health.errors));
        },
    );
    b.scalar(
        ("hystrix_circuitbreaker_not_permitted_calls_total", Counter, Unit::None),
        "Calls the circuit refused (SHORT_CIRCUITED) since the command was created.",
        &["kind"],
        |snap, _, emit| emit(&["not_permitted"], Value::Count(snap.cumulative.get(EventType::ShortCircuited))),
    );
    b.scalar(
        ("hystrix_execution_total", Counter, Unit::None),
        "Events recorded since the command was created, by event type (every type the core records).",
        &["event"],
        |snap, _, emit| {
            for event in EventType::ALL {
                emit(&[&event.as_str().to_ascii_lowercase()], Value::Count(snap.cumulative.get(event)));
            }
        },
    );
    let series = commands
        .iter()
        .flat_map(|(s, _)| {
            [histogram(s, "run", &s.latency_run_histogram), histogram(s, "total", &s.latency_total_histogram)]
        })
        .collect();
    b.out.push(MetricFamily {
        name: "hystrix_latency_seconds",
        help: "Latency of calls since the command was created: run (admission to the run's outcome) and total (admission to the caller's result).",
        metric_type: MetricType::Histogram,
        unit: Unit::Seconds,
        label_names: vec!["name", "group", "kind"],
        samples: Samples::Histogram { bounds: HISTOGRAM_BOUNDS_MS.iter().map(|&ms| Value::Millis(ms)).collect(), series },
    });
    b.each("hystrix_bulkhead_concurrent_calls", Gauge, "Runs in flight now (bulkhead permits held).", |s, _| {
        Value::Count(u64::from(s.concurrent))
    });
    b.each(
        "hystrix_bulkhead_max_allowed_concurrent_calls",
        Gauge,
        "The bulkhead's limit in force (max_concurrent_requests, or the adaptive limit).",
        |s, _| Value::Count(s.limit),
    );
    b.each("hystrix_bulkhead_available_concurrent_calls", Gauge, "Bulkhead permits free now.", |s, _| {
        Value::Count(s.limit.saturating_sub(u64::from(s.concurrent)))
    });
    b.each(
        "hystrix_bulkhead_rolling_max_concurrent_calls",
        Gauge,
        "Highest run concurrency seen in the rolling window.",
        |s, _| Value::Count(u64::from(s.rolling_max_concurrent)),
    );
    b.each("hystrix_fallback_concurrent_calls", Gauge, "Fallbacks in flight now.", |s, _| {
        Value::Count(u64::from(s.fallback_concurrent))
    });
    b.each(
        "hystrix_fallback_max_allowed_concurrent_calls",
        Gauge,
        "The fallback limit (fallback_max_concurrent_requests).",
        |_, c| Value::Count(c.fallback_max_concurrent_requests),
    );
    b.each(
        "hystrix_listener_panics_total",
        Counter,
        "Listener calls that panicked or failed since the command was created.",
        |s, _| Value::Count(s.listener_panics),
    );
    b.out
}
