use super::*;
use crate::{Config, EventType, Registry, RunError, VirtualClock};
use serde_json::Value;
use std::sync::Arc;

/// The keys of Hystrix 1.5's `HystrixCommand` dashboard object, in the
/// order its serializer writes them (Netflix/Hystrix v1.5.18,
/// hystrix-serialization/.../SerialHystrixDashboardData.java,
/// `writeCommandMetrics`), then ours (`circuitState`).
const HYSTRIX_15_KEYS: [&str; 48] = [
    "type",
    "name",
    "group",
    "currentTime",
    "isCircuitBreakerOpen",
    "errorPercentage",
    "errorCount",
    "requestCount",
    "rollingCountBadRequests",
    "rollingCountCollapsedRequests",
    "rollingCountEmit",
    "rollingCountExceptionsThrown",
    "rollingCountFailure",
    "rollingCountFallbackEmit",
    "rollingCountFallbackFailure",
    "rollingCountFallbackMissing",
    "rollingCountFallbackRejection",
    "rollingCountFallbackSuccess",
    "rollingCountResponsesFromCache",
    "rollingCountSemaphoreRejected",
    "rollingCountShortCircuited",
    "rollingCountSuccess",
    "rollingCountThreadPoolRejected",
    "rollingCountTimeout",
    "currentConcurrentExecutionCount",
    "rollingMaxConcurrentExecutionCount",
    "latencyExecute_mean",
    "latencyExecute",
    "latencyTotal_mean",
    "latencyTotal",
    "propertyValue_circuitBreakerRequestVolumeThreshold",
    "propertyValue_circuitBreakerSleepWindowInMilliseconds",
    "propertyValue_circuitBreakerErrorThresholdPercentage",
    "propertyValue_circuitBreakerForceOpen",
    "propertyValue_circuitBreakerForceClosed",
    "propertyValue_circuitBreakerEnabled",
    "propertyValue_executionIsolationStrategy",
    "propertyValue_executionIsolationThreadTimeoutInMilliseconds",
    "propertyValue_executionTimeoutInMilliseconds",
    "propertyValue_executionIsolationThreadInterruptOnTimeout",
    "propertyValue_executionIsolationThreadPoolKeyOverride",
    "propertyValue_executionIsolationSemaphoreMaxConcurrentRequests",
    "propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests",
    "propertyValue_metricsRollingStatisticalWindowInMilliseconds",
    "propertyValue_requestCacheEnabled",
    "propertyValue_requestLogEnabled",
    "reportingHosts",
    "threadPool",
];

const PERCENTILE_KEYS: [&str; 9] = ["0", "25", "50", "75", "90", "95", "99", "99.5", "100"];

/// The keys of a JSON object in the order they appear in its text.
pub(super) fn keys_in_order(json: &str) -> Vec<String> {
    // serde_json's Map is sorted unless `preserve_order`: walk the text.
    let mut keys = Vec::new();
    let v: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap();
    // Top-level keys only: each is `"key":` at depth 1.
    let mut depth = 0;
    let mut chars = json.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            '"' => {
                // A string: find its end (skipping escapes).
                let start = i + 1;
                let mut end = start;
                let mut esc = false;
                for (j, d) in chars.by_ref() {
                    if esc {
                        esc = false;
                    } else if d == '\\' {
                        esc = true;
                    } else if d == '"' {
                        end = j;
                        break;
                    }
                }
                if depth == 1 && chars.peek().map(|p| p.1) == Some(':') {
                    let k: String = serde_json::from_str(&json[start - 1..=end]).unwrap();
                    keys.push(k);
                }
            }
            _ => {}
        }
    }
    assert_eq!(keys.len(), v.len());
    keys
}

/// Ours after `circuitState`: the rolling counts of the SPEC v2 events.
const V2_KEYS: [&str; 5] = [
    "rollingCountCancelled",
    "rollingCountRateLimited",
    "rollingCountRetry",
    "rollingCountHedge",
    "rollingCountRetryBudgetExhausted",
];

#[test]
fn a_frame_counts_the_v2_events() {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    reg.configure(
        "flaky",
        Config {
            retry_max_attempts: 3,
            retry_base_delay_ms: 0,
            retry_jitter: crate::Jitter::None,
            // One retry's worth of budget: the second retry is refused.
            retry_budget_percent: 1,
            retry_budget_min_per_sec: 1,
            ..Config::default()
        },
    )
    .unwrap();
    let cmd = reg.get_or_create("flaky");
    let _ = cmd.run(|_| Err::<u32, _>(RunError::Failure(())));
    let snap = cmd.observe_at(clock.now_ms());
    let frames = frames(&reg, clock.now_ms());
    let v: Value = serde_json::from_str(&frames[0]).unwrap();
    for (key, event) in [
        ("rollingCountRetry", EventType::Retry),
        ("rollingCountRetryBudgetExhausted", EventType::RetryBudgetExhausted),
        ("rollingCountCancelled", EventType::Cancelled),
        ("rollingCountRateLimited", EventType::RateLimited),
        ("rollingCountHedge", EventType::Hedge),
    ] {
        assert_eq!(v[key].as_u64(), Some(snap.rolling.get(event)), "{key}");
    }
    assert!(v["rollingCountRetry"].as_u64().unwrap() >= 1, "the call retried: {v}");
    assert_eq!(v["rollingCountFailure"].as_u64().unwrap(), v["rollingCountRetry"].as_u64().unwrap() + 1);
}

#[test]
fn each_v2_count_comes_from_its_own_event() {
    // A distinct count per event, so a field reading another event's count
    // shows.
    let cmd = crate::Command::new(Config::default()).unwrap();
    let mut snap = cmd.snapshot();
    let v2 = [
        EventType::Cancelled,
        EventType::RateLimited,
        EventType::Retry,
        EventType::Hedge,
        EventType::RetryBudgetExhausted,
    ];
    for (i, e) in v2.into_iter().enumerate() {
        snap.rolling.0[e as usize] = 101 + i as u64;
    }
    let mut out = String::new();
    stream::write_frame(&mut out, &snap, &cmd.config(), 0, &StreamOptions::default());
    let v: Value = serde_json::from_str(&out).unwrap();
    for (key, value) in V2_KEYS.iter().zip([101u64, 102, 103, 104, 105]) {
        assert_eq!(v[*key].as_u64(), Some(value), "{key}");
    }
}

fn tripped_and_healthy() -> (Arc<VirtualClock>, Registry) {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    reg.configure(
        "tripped",
        Config { request_volume_threshold: 2, health_snapshot_interval_ms: 0, ..Config::default() },
    )
    .unwrap();
    let bad = reg.get_or_create("tripped");
    let good = reg.get_or_create("healthy");
    for _ in 0..3 {
        let _ = bad.execute(|| Err::<u32, _>(RunError::Failure(())));
    }
    clock.advance(7);
    for _ in 0..4 {
        let _ = good.execute(|| Ok::<u32, RunError<()>>(1));
    }
    (clock, reg)
}

fn frames(reg: &Registry, now: u64) -> Vec<String> {
    let text = reg.render_stream_frames(now, 1_700_000_000_123, &StreamOptions::default());
    assert!(text.ends_with("\n\n"));
    text.split_terminator("\n\n")
        .map(|f| {
            assert!(!f.contains('\n'), "one line per frame: {f:?}");
            f.strip_prefix("data: ").expect("data: prefix").to_string()
        })
        .collect()
}

pub(super) fn all_numbers_are_integers(v: &Value) {
    match v {
        Value::Number(n) => assert!(n.is_u64() || n.is_i64(), "not an integer: {n}"),
        Value::Object(m) => m.values().for_each(all_numbers_are_integers),
        Value::Array(a) => a.iter().for_each(all_numbers_are_integers),
        _ => {}
    }
}

#[test]
fn a_frame_has_every_hystrix_15_field_in_order_then_ours() {
    let (clock, reg) = tripped_and_healthy();
    let frames = frames(&reg, clock.now_ms());
    assert_eq!(frames.len(), 2);
    for f in &frames {
        let keys = keys_in_order(f);
        let mut expected: Vec<&str> = HYSTRIX_15_KEYS.to_vec();
        expected.push("circuitState");
        expected.extend(V2_KEYS);
        assert_eq!(keys, expected);
        let v: Value = serde_json::from_str(f).unwrap();
        all_numbers_are_integers(&v);
        for k in ["latencyExecute", "latencyTotal"] {
            // The raw text of the nested object (no nesting inside it).
            let at = f.find(&format!("\"{k}\":{{")).unwrap() + k.len() + 3;
            let inner = &f[at..=at + f[at..].find('}').unwrap()];
            assert_eq!(keys_in_order(inner), PERCENTILE_KEYS);
        }
        assert_eq!(v["currentTime"], 1_700_000_000_123u64);
        assert_eq!(v["reportingHosts"], 1);
        assert_eq!(v["type"], "HystrixCommand");
        assert_eq!(v["propertyValue_executionIsolationThreadPoolKeyOverride"], Value::Null);
        assert_eq!(v["propertyValue_executionIsolationStrategy"], "SEMAPHORE");
    }
}

#[test]
fn a_tripped_and_a_healthy_command() {
    let (clock, reg) = tripped_and_healthy();
    let frames = frames(&reg, clock.now_ms());
    // Sorted by name.
    let healthy: Value = serde_json::from_str(&frames[0]).unwrap();
    let tripped: Value = serde_json::from_str(&frames[1]).unwrap();
    assert_eq!(healthy["name"], "healthy");
    assert_eq!(healthy["isCircuitBreakerOpen"], false);
    assert_eq!(healthy["circuitState"], "CLOSED");
    assert_eq!(healthy["rollingCountSuccess"], 4);
    assert_eq!(healthy["errorPercentage"], 0);
    assert_eq!(tripped["name"], "tripped");
    assert_eq!(tripped["isCircuitBreakerOpen"], true);
    assert_eq!(tripped["circuitState"], "OPEN");
    assert_eq!(tripped["errorPercentage"], 100);
    assert_eq!(tripped["rollingCountFailure"], 2);
    assert_eq!(tripped["rollingCountShortCircuited"], 1);
    assert_eq!(tripped["rollingCountExceptionsThrown"], 3, "three missing fallbacks");

    let text = reg.render_prometheus_at(clock.now_ms());
    assert!(text.contains("hystrix_circuitbreaker_state{name=\"tripped\",group=\"tripped\",state=\"open\"} 1\n"));
    assert!(text.contains("hystrix_circuitbreaker_state{name=\"healthy\",group=\"healthy\",state=\"closed\"} 1\n"));
    assert!(text.contains(
        "hystrix_circuitbreaker_transitions_total{name=\"tripped\",group=\"tripped\",from=\"closed\",to=\"open\"} 1\n"
    ));
    // Closed from 0 to 0 (tripped at once), open since: 7 ms.
    assert!(text.contains(
        "hystrix_circuitbreaker_state_seconds_total{name=\"tripped\",group=\"tripped\",state=\"open\"} 0.007\n"
    ));
    assert!(text.contains("hystrix_execution_total{name=\"healthy\",group=\"healthy\",event=\"success\"} 4\n"));
    assert!(text.contains("hystrix_execution_total{name=\"tripped\",group=\"tripped\",event=\"short_circuited\"} 1\n"));
}

#[test]
fn every_event_type_is_exported() {
    let (clock, reg) = tripped_and_healthy();
    let text = reg.render_prometheus_at(clock.now_ms());
    for e in EventType::ALL {
        let needle = format!(
            "hystrix_execution_total{{name=\"healthy\",group=\"healthy\",event=\"{}\"}}",
            e.as_str().to_ascii_lowercase()
        );
        assert!(text.contains(&needle), "{needle}");
    }
}

#[test]
fn observing_never_trips_or_refreshes_health() {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    reg.configure("c", Config { request_volume_threshold: 1, health_snapshot_interval_ms: 500, ..Config::default() })
        .unwrap();
    let cmd = reg.get_or_create("c");
    // A healthy cached snapshot at 0, then failures behind its gate: a trip
    // is pending for the next evaluation after 500 ms.
    let _ = cmd.execute(|| Ok::<u32, RunError<()>>(1));
    clock.advance(1);
    for _ in 0..3 {
        let _ = cmd.execute_or(|| Err::<u32, _>(RunError::Failure(())), |_| Ok(0));
    }
    clock.advance(600);
    for _ in 0..3 {
        let frames = reg.render_stream_frames(clock.now_ms(), 0, &StreamOptions::default());
        assert!(frames.contains("\"circuitState\":\"CLOSED\""), "{frames}");
        assert!(frames.contains("\"errorPercentage\":75"), "fresh health: {frames}");
        let text = reg.render_prometheus();
        assert!(text.contains("state=\"closed\"} 1"));
    }
    let s = cmd.observe_at(clock.now_ms());
    assert_eq!(s.state, CircuitState::Closed);
    assert_eq!(s.states.transitions, [[0; 3]; 3], "observing tripped nothing");
    // The scenario is real: a decision-making snapshot trips.
    assert_eq!(cmd.snapshot_at(clock.now_ms()).state, CircuitState::Open);
}

#[test]
fn a_trip_and_recovery_is_counted_with_time_in_each_state() {
    let clock = Arc::new(VirtualClock::new());
    clock.advance(1_000);
    let cfg = Config {
        request_volume_threshold: 1,
        health_snapshot_interval_ms: 0,
        sleep_window_ms: 100,
        ..Config::default()
    };
    let cmd = crate::Command::with_clock("c", cfg, clock.clone()).unwrap();
    // Time in state counts from the first instant the command is seen.
    assert_eq!(cmd.observe_at(clock.now_ms()).states.time_in_ms(CircuitState::Closed), 0);
    clock.advance(50);
    let _ = cmd.execute(|| Err::<u32, _>(RunError::Failure(())));
    clock.advance(100);
    clock.advance(1);
    let _ = cmd.execute(|| Ok::<u32, RunError<()>>(1));
    clock.advance(30);
    let s = cmd.observe_at(clock.now_ms()).states;
    assert_eq!(s.transitions(CircuitState::Closed, CircuitState::Open), 1);
    assert_eq!(s.transitions(CircuitState::Open, CircuitState::HalfOpen), 1);
    assert_eq!(s.transitions(CircuitState::HalfOpen, CircuitState::Closed), 1);
    assert_eq!(s.time_in_ms(CircuitState::Open), 101);
    assert_eq!(s.time_in_ms(CircuitState::HalfOpen), 0);
    assert_eq!(s.time_in_ms(CircuitState::Closed), 50 + 30);
    assert_eq!(s.current, Some(CircuitState::Closed));
}

#[test]
fn a_command_never_seen_before_its_first_trip_counts_from_the_trip() {
    let clock = Arc::new(VirtualClock::new());
    let cfg = Config { request_volume_threshold: 1, health_snapshot_interval_ms: 0, ..Config::default() };
    let cmd = crate::Command::with_clock("c", cfg, clock.clone()).unwrap();
    clock.advance(40);
    let _ = cmd.execute(|| Err::<u32, _>(RunError::Failure(())));
    clock.advance(25);
    let s = cmd.observe_at(clock.now_ms()).states;
    assert_eq!(s.time_in_ms(CircuitState::Closed), 0, "the closed period before anyone looked is unknown");
    assert_eq!(s.time_in_ms(CircuitState::Open), 25);
}

#[test]
fn names_are_escaped_in_json_and_label_values() {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    let weird = "a\"b\\c\nd\re\tf\u{1}g–é✓\u{2028}";
    let _ = reg.get_or_create(weird).execute(|| Ok::<u32, RunError<()>>(1));
    let frames = frames(&reg, 0);
    let v: Value = serde_json::from_str(&frames[0]).unwrap();
    assert_eq!(v["name"], weird);
    assert!(frames[0].contains(r#""name":"a\"b\\c\nd\re\tf\u0001g–é✓\u2028""#), "{}", frames[0]);
    let text = reg.render_prometheus_at(0);
    assert!(text.contains("{name=\"a\\\"b\\\\c\\nd\re\tf\u{1}g–é✓\u{2028}\",group="), "{text}");
    // Every sample line stays one line.
    for line in text.lines() {
        assert!(line.starts_with('#') || line.starts_with("hystrix_"), "{line:?}");
    }
}

#[test]
fn the_histogram_is_cumulative_and_counts_every_sample() {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    let cmd = reg.get_or_create("h");
    let mut n = 0;
    for i in 0..200u64 {
        let c = clock.clone();
        let _ = cmd.execute(move || {
            c.advance(i % 40 * 3);
            Ok::<u32, RunError<()>>(1)
        });
        n += 1;
        clock.advance(400); // past several rolling buckets over the run
    }
    let text = reg.render_prometheus_at(clock.now_ms());
    for kind in ["run", "total"] {
        let prefix = format!("hystrix_latency_seconds_bucket{{name=\"h\",group=\"h\",kind=\"{kind}\",le=\"");
        let counts: Vec<u64> = text
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(counts.len(), crate::latency::HISTOGRAM_BOUNDS_MS.len() + 1);
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "cumulative: {counts:?}");
        assert_eq!(*counts.last().unwrap(), n);
        let count_line = format!("hystrix_latency_seconds_count{{name=\"h\",group=\"h\",kind=\"{kind}\"}} {n}\n");
        assert!(text.contains(&count_line), "{count_line}");
        // le=0.005 counts the samples of 0 and 3 ms exactly.
        assert_eq!(counts[0], (0..200u64).filter(|i| i % 40 * 3 <= 5).count() as u64);
    }
}

#[test]
fn exposition_is_well_formed() {
    let (clock, reg) = tripped_and_healthy();
    let text = reg.render_prometheus_at(clock.now_ms());
    let mut declared = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(declared.insert(name.to_string()), "{name} declared twice");
        } else if !line.starts_with("# HELP ") {
            let metric = line.split('{').next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| metric.strip_suffix(s).filter(|f| declared.contains(*f)))
                .unwrap_or(metric);
            assert!(declared.contains(family), "{metric} before its TYPE");
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
    assert!(text.ends_with('\n'));
}

/// Calls of one host: `ok` successes taking `ms` each, then `bad` failures.
fn host_traffic(reg: &Registry, clock: &VirtualClock, ok: u64, ms: u64, bad: u64) {
    let cmd = reg.get_or_create("svc");
    for _ in 0..ok {
        let _ = cmd.execute(|| {
            clock.advance(ms);
            Ok::<u64, RunError<()>>(ms)
        });
    }
    for _ in 0..bad {
        let _ = cmd.execute(|| Err::<u64, _>(RunError::Failure(())));
    }
}

/// The numeric fields a Turbine sum makes cluster totals of.
const ADDITIVE: [&str; 25] = [
    "errorCount",
    "requestCount",
    "rollingCountBadRequests",
    "rollingCountCollapsedRequests",
    "rollingCountEmit",
    "rollingCountExceptionsThrown",
    "rollingCountFailure",
    "rollingCountFallbackEmit",
    "rollingCountFallbackFailure",
    "rollingCountFallbackMissing",
    "rollingCountFallbackRejection",
    "rollingCountFallbackSuccess",
    "rollingCountResponsesFromCache",
    "rollingCountSemaphoreRejected",
    "rollingCountShortCircuited",
    "rollingCountSuccess",
    "rollingCountThreadPoolRejected",
    "rollingCountTimeout",
    "currentConcurrentExecutionCount",
    "reportingHosts",
    "rollingCountCancelled",
    "rollingCountRateLimited",
    "rollingCountRetry",
    "rollingCountHedge",
    "rollingCountRetryBudgetExhausted",
];

/// Sums two frames field by field the way Turbine does: numbers (and maps
/// of numbers) add up as integers; strings must agree across hosts.
fn turbine_sum(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_u64().expect("an integer"), y.as_u64().expect("an integer"));
            Value::from(x.checked_add(y).expect("no overflow"))
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "same fields on both hosts");
            Value::Object(x.iter().map(|(k, v)| (k.clone(), turbine_sum(v, &y[k]))).collect())
        }
        (Value::String(x), Value::String(y)) => {
            assert_eq!(x, y, "a string field differs between hosts");
            a.clone()
        }
        // Booleans and nulls: Turbine counts them per value; not summed.
        _ => a.clone(),
    }
}

#[test]
fn turbine_sums_two_hosts_into_the_aggregate() {
    let (clock_a, clock_b, clock_all) =
        (Arc::new(VirtualClock::new()), Arc::new(VirtualClock::new()), Arc::new(VirtualClock::new()));
    let (host_a, host_b, all) =
        (Registry::new(clock_a.clone()), Registry::new(clock_b.clone()), Registry::new(clock_all.clone()));
    host_traffic(&host_a, &clock_a, 5, 10, 2);
    host_traffic(&host_b, &clock_b, 3, 30, 1);
    // One host that saw both hosts' calls.
    host_traffic(&all, &clock_all, 5, 10, 2);
    host_traffic(&all, &clock_all, 3, 30, 1);
    let parse = |reg: &Registry, clock: &VirtualClock| -> Value {
        let frames = frames(reg, clock.now_ms());
        assert_eq!(frames.len(), 1);
        let v: Value = serde_json::from_str(&frames[0]).unwrap();
        all_numbers_are_integers(&v);
        v
    };
    let (a, b, whole) = (parse(&host_a, &clock_a), parse(&host_b, &clock_b), parse(&all, &clock_all));
    let sum = turbine_sum(&a, &b);

    let mut checked = 0;
    for (key, value) in sum.as_object().unwrap() {
        match value {
            Value::Number(n) if ADDITIVE.contains(&key.as_str()) => {
                let expected = if key == "reportingHosts" { 2 } else { whole[key].as_u64().unwrap() };
                assert_eq!(n.as_u64(), Some(expected), "{key}: the sum is the cluster total");
                checked += 1;
            }
            Value::Number(n) if key.starts_with("propertyValue_") => {
                assert_eq!(n.as_u64().unwrap(), 2 * a[key].as_u64().unwrap(), "{key}: same configuration, doubled");
                checked += 1;
            }
            Value::Number(n) if key == "currentTime" => assert!(n.is_u64()),
            Value::Number(n) => {
                // Per-host values (error %, latencies): the dashboard divides
                // the sum by reportingHosts to show the hosts' average. The
                // sum of the hosts' rolling max concurrency bounds the
                // cluster's from above.
                let per_host = [
                    "errorPercentage",
                    "latencyExecute_mean",
                    "latencyTotal_mean",
                    "rollingMaxConcurrentExecutionCount",
                ];
                assert!(per_host.contains(&key.as_str()), "{key}: a numeric field no rule covers");
                assert_eq!(n.as_u64().unwrap(), a[key].as_u64().unwrap() + b[key].as_u64().unwrap());
                checked += 1;
            }
            Value::Object(m) => {
                for (p, v) in m {
                    assert_eq!(v.as_u64().unwrap(), a[key][p].as_u64().unwrap() + b[key][p].as_u64().unwrap());
                }
                checked += 1;
            }
            _ => {}
        }
    }
    // 8 numeric properties, 4 per-host values, 2 percentile maps.
    assert_eq!(checked, ADDITIVE.len() + 8 + 4 + 2, "every numeric field was checked");
    // What the dashboard shows for the cluster.
    assert_eq!(sum["requestCount"], 11);
    assert_eq!(sum["errorCount"], 3);
    assert_eq!(sum["rollingCountSuccess"], 8);
    assert_eq!(sum["errorPercentage"].as_u64().unwrap() / 2, (28 + 25) / 2, "the hosts' mean error %");
    assert_eq!(
        whole["errorPercentage"].as_u64(),
        Some(sum["errorCount"].as_u64().unwrap() * 100 / sum["requestCount"].as_u64().unwrap()),
        "the totals give the cluster's error %"
    );
    assert_eq!(
        sum["latencyExecute_mean"].as_u64().unwrap() / 2,
        (a["latencyExecute_mean"].as_u64().unwrap() + b["latencyExecute_mean"].as_u64().unwrap()) / 2
    );
}

#[test]
fn the_dashboard_page_is_self_contained_and_small() {
    let page = DASHBOARD_HTML;
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.len() < 16 * 1024, "a few KB: {} bytes", page.len());
    assert!(!page.contains('\0'), "the C binding hands it out as a C string");
    // No CDN, no external script, style or font: the one URL is the SVG namespace.
    let urls: Vec<&str> = page.match_indices("://").map(|(i, _)| &page[page[..i].rfind('"').unwrap() + 1..i]).collect();
    assert_eq!(urls, ["http"]);
    assert!(page.contains("http://www.w3.org/2000/svg"));
    assert!(!page.contains("<script src") && !page.contains("<link"));
    for needle in ["new EventSource(url)", "params.get(\"stream\")", "circuitState", "HALF_OPEN", "\"99.5\""] {
        assert!(page.contains(needle), "{needle}");
    }
    // The view module is inlined whole, once, as the page's module script
    // (the npm package ships the same file for pages that mount it).
    assert_eq!(page.matches(DASHBOARD_VIEW_JS).count(), 1);
    assert!(page.contains(&format!("<script type=\"module\">\n{DASHBOARD_VIEW_JS}")));
    assert!(DASHBOARD_VIEW_JS.contains("\nexport function dashboardView(host, stream) {"));
    assert!(!DASHBOARD_VIEW_JS.contains("eval(") && !DASHBOARD_VIEW_JS.contains("innerHTML"));
}

#[test]
fn an_observation_renders_like_the_registry_in_any_order_without_anonymous_commands() {
    let (clock, reg) = tripped_and_healthy();
    let now = clock.now_ms();
    let anonymous = Command::with_clock("", Config::default(), clock.clone()).unwrap();
    let _ = anonymous.execute(|| Ok::<u32, RunError<()>>(1));
    let mut observation = Observation::new();
    // Added out of order, with an anonymous command among them.
    observation.add(&reg.get("tripped").unwrap(), now, StreamOptions::default());
    observation.add(&anonymous, now, StreamOptions::default());
    observation.add(&reg.get("healthy").unwrap(), now, StreamOptions::default());
    assert_eq!(observation.len(), 2);
    assert_eq!(observation.prometheus(), reg.render_prometheus_at(now));
    let wall = 1_700_000_000_123;
    assert_eq!(observation.stream_frames(wall), reg.render_stream_frames(now, wall, &StreamOptions::default()));
    assert!(Observation::new().is_empty());
    assert_eq!(Observation::new().stream_frames(wall), "");
}

#[test]
fn an_observation_keeps_each_commands_isolation() {
    let (clock, reg) = tripped_and_healthy();
    let now = clock.now_ms();
    let mut observation = Observation::new();
    observation.add(&reg.get("healthy").unwrap(), now, StreamOptions { isolation: Isolation::Thread, pool: None });
    observation.add(&reg.get("tripped").unwrap(), now, StreamOptions::default());
    let text = observation.stream_frames(1);
    let strategies: Vec<String> = text
        .split_terminator("\n\n")
        .map(|f| serde_json::from_str::<Value>(&f["data: ".len()..]).unwrap())
        .map(|v| format!("{}={}", v["name"], v["propertyValue_executionIsolationStrategy"]))
        .collect();
    assert_eq!(strategies, ["\"healthy\"=\"THREAD\"", "\"tripped\"=\"SEMAPHORE\""]);
}
