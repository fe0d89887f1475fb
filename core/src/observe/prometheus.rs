//! The Prometheus text exposition (format 0.0.4) of a set of commands.
//!
//! Names follow Prometheus conventions (base unit seconds, `_total`
//! counters, cumulative since the command was created) and resilience4j's
//! shapes under the `hystrix_` prefix. Every series has the labels `name`
//! and `group` (the command's name: commands have no group yet). Every
//! metric is documented in `docs/observability.md`.

use crate::config::Config;
use crate::event::{CircuitState, EventType};
use crate::latency::{LatencyHistogram, HISTOGRAM_BOUNDS_MS};
use crate::observe::{STATES, TRANSITIONS};
use crate::snapshot::Snapshot;
use std::fmt::Write;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Appends `s` escaped as a label value: backslash, double quote and line
/// feed (the three the format requires); everything else as UTF-8.
pub fn escape_label_value(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Milliseconds as a decimal number of seconds.
fn seconds(ms: u64) -> String {
    let (s, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        format!("{s}")
    } else {
        let f = format!("{frac:03}");
        format!("{s}.{}", f.trim_end_matches('0'))
    }
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

struct Writer<'a> {
    out: String,
    commands: &'a [(Snapshot, Config)],
}

impl Writer<'_> {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = write!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
    }

    /// One sample: `name{name="…",group="…"[,extra…]} value`.
    fn sample(&mut self, metric: &str, snap: &Snapshot, extra: &[(&str, &str)], value: &str) {
        let out = &mut self.out;
        out.push_str(metric);
        out.push_str("{name=\"");
        escape_label_value(out, &snap.name);
        out.push_str("\",group=\"");
        escape_label_value(out, &snap.name);
        out.push('"');
        for (k, v) in extra {
            out.push(',');
            out.push_str(k);
            out.push_str("=\"");
            escape_label_value(out, v);
            out.push('"');
        }
        out.push_str("} ");
        out.push_str(value);
        out.push('\n');
    }

    /// A family with one sample per command.
    fn gauge_each(&mut self, name: &str, kind: &str, help: &str, value: impl Fn(&Snapshot, &Config) -> String) {
        self.family(name, kind, help);
        for (snap, cfg) in self.commands {
            let v = value(snap, cfg);
            self.sample(name, snap, &[], &v);
        }
    }

    fn histogram(&mut self, snap: &Snapshot, kind: &str, h: &LatencyHistogram) {
        const NAME: &str = "hystrix_latency_seconds";
        for (bound, n) in HISTOGRAM_BOUNDS_MS.iter().zip(&h.cumulative_counts) {
            self.sample(&format!("{NAME}_bucket"), snap, &[("kind", kind), ("le", &seconds(*bound))], &n.to_string());
        }
        self.sample(&format!("{NAME}_bucket"), snap, &[("kind", kind), ("le", "+Inf")], &h.count.to_string());
        self.sample(&format!("{NAME}_sum"), snap, &[("kind", kind)], &seconds(h.sum_ms));
        self.sample(&format!("{NAME}_count"), snap, &[("kind", kind)], &h.count.to_string());
    }
}

/// The exposition of `commands` (read-only snapshots with the
/// configuration in force), one family after another, each family's
/// samples in the order given.
pub fn render(commands: &[(Snapshot, Config)]) -> String {
    let mut w = Writer { out: String::new(), commands };

    w.family(
        "hystrix_circuitbreaker_state",
        "gauge",
        "1 for the circuit's reported state, 0 for the others (forced and disabled states from the configuration).",
    );
    for (snap, cfg) in commands {
        let now = reported_state(snap, cfg);
        for state in REPORTED {
            w.sample("hystrix_circuitbreaker_state", snap, &[("state", state)], if state == now { "1" } else { "0" });
        }
    }

    w.family(
        "hystrix_circuitbreaker_transitions_total",
        "counter",
        "State transitions since the command was created, by from and to state.",
    );
    for (snap, _) in commands {
        for (from, to) in TRANSITIONS {
            let n = snap.states.transitions(from, to).to_string();
            w.sample(
                "hystrix_circuitbreaker_transitions_total",
                snap,
                &[("from", from.as_str()), ("to", to.as_str())],
                &n,
            );
        }
    }

    w.family(
        "hystrix_circuitbreaker_state_seconds_total",
        "counter",
        "Seconds spent in each circuit state since the command was created.",
    );
    for (snap, _) in commands {
        for state in STATES {
            let s = seconds(snap.states.time_in_ms(state));
            w.sample("hystrix_circuitbreaker_state_seconds_total", snap, &[("state", state.as_str())], &s);
        }
    }

    w.gauge_each(
        "hystrix_circuitbreaker_failure_rate",
        "gauge",
        "Error percentage (0-100) of the health window, -1 below the request volume threshold.",
        |s, c| {
            if s.health.total < c.request_volume_threshold {
                "-1".to_string()
            } else {
                s.health.error_percentage.to_string()
            }
        },
    );

    w.family(
        "hystrix_circuitbreaker_buffered_calls",
        "gauge",
        "Calls in the health window, by kind (successful, failed).",
    );
    for (snap, _) in commands {
        let ok = snap.health.total.saturating_sub(snap.health.errors).to_string();
        w.sample("hystrix_circuitbreaker_buffered_calls", snap, &[("kind", "successful")], &ok);
        w.sample("hystrix_circuitbreaker_buffered_calls", snap, &[("kind", "failed")], &snap.health.errors.to_string());
    }

    w.family(
        "hystrix_circuitbreaker_not_permitted_calls_total",
        "counter",
        "Calls the circuit refused (SHORT_CIRCUITED) since the command was created.",
    );
    for (snap, _) in commands {
        let n = snap.cumulative.get(EventType::ShortCircuited).to_string();
        w.sample("hystrix_circuitbreaker_not_permitted_calls_total", snap, &[("kind", "not_permitted")], &n);
    }

    w.family(
        "hystrix_execution_total",
        "counter",
        "Events recorded since the command was created, by event type (every type the core records).",
    );
    for (snap, _) in commands {
        for event in EventType::ALL {
            let label = event.as_str().to_ascii_lowercase();
            w.sample("hystrix_execution_total", snap, &[("event", &label)], &snap.cumulative.get(event).to_string());
        }
    }

    w.family(
        "hystrix_latency_seconds",
        "histogram",
        "Latency of calls since the command was created: run (admission to the run's outcome) and total (admission to the caller's result).",
    );
    for (snap, _) in commands {
        w.histogram(snap, "run", &snap.latency_run_histogram);
        w.histogram(snap, "total", &snap.latency_total_histogram);
    }

    w.gauge_each(
        "hystrix_bulkhead_concurrent_calls",
        "gauge",
        "Runs in flight now (bulkhead permits held).",
        |s, _| s.concurrent.to_string(),
    );
    w.gauge_each(
        "hystrix_bulkhead_max_allowed_concurrent_calls",
        "gauge",
        "The bulkhead's limit (max_concurrent_requests).",
        |_, c| c.max_concurrent_requests.to_string(),
    );
    w.gauge_each("hystrix_bulkhead_available_concurrent_calls", "gauge", "Bulkhead permits free now.", |s, c| {
        c.max_concurrent_requests.saturating_sub(u64::from(s.concurrent)).to_string()
    });
    w.gauge_each(
        "hystrix_bulkhead_rolling_max_concurrent_calls",
        "gauge",
        "Highest run concurrency seen in the rolling window.",
        |s, _| s.rolling_max_concurrent.to_string(),
    );
    w.gauge_each("hystrix_fallback_concurrent_calls", "gauge", "Fallbacks in flight now.", |s, _| {
        s.fallback_concurrent.to_string()
    });
    w.gauge_each(
        "hystrix_fallback_max_allowed_concurrent_calls",
        "gauge",
        "The fallback limit (fallback_max_concurrent_requests).",
        |_, c| c.fallback_max_concurrent_requests.to_string(),
    );
    w.gauge_each(
        "hystrix_listener_panics_total",
        "counter",
        "Listener calls that panicked or failed since the command was created.",
        |s, _| s.listener_panics.to_string(),
    );
    // The circuit state names used above must stay those of the core.
    debug_assert_eq!(CircuitState::HalfOpen.as_str(), "half_open");
    w.out
}
