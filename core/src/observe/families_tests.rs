//! The metric families against the text written from them and their JSON
//! form, on a rich scenario (a tripped, a healthy, a forced-open command,
//! latencies in several buckets, a name that needs escaping).

use super::*;
use crate::{Config, RunError, VirtualClock};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Three commands with transitions, time in states, latencies and a
/// forced state; the registry and its clock's time.
fn rich() -> (Registry, u64) {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    let cfg = Config { request_volume_threshold: 2, health_snapshot_interval_ms: 0, ..Config::default() };
    reg.configure("tripped", cfg).unwrap();
    reg.configure("forced", Config { force_open: true, ..Config::default() }).unwrap();
    let bad = reg.get_or_create("tripped");
    for _ in 0..3 {
        let _ = bad.execute(|| Err::<u32, _>(RunError::Failure(())));
    }
    let good = reg.get_or_create("we\"ird\\n\name");
    for ms in [0u64, 3, 7, 30, 120, 900, 20_000] {
        let c = clock.clone();
        let _ = good.execute(move || {
            c.advance(ms);
            Ok::<u32, RunError<()>>(1)
        });
    }
    let _ = reg.get_or_create("forced").execute(|| Ok::<u32, RunError<()>>(1));
    clock.advance(1_241);
    let now = clock.now_ms();
    (reg, now)
}

/// Every sample of a text exposition: `(metric, sorted labels) -> value`.
fn parse_text(text: &str) -> BTreeMap<(String, Vec<(String, String)>), f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (metric, rest) = line.split_once('{').unwrap();
        let (labels, value) = rest.rsplit_once("} ").unwrap();
        let mut pairs = Vec::new();
        let mut chars = labels.chars().peekable();
        while chars.peek().is_some() {
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            assert_eq!(chars.next(), Some('"'));
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.push(match chars.next().unwrap() {
                        'n' => '\n',
                        c => c,
                    }),
                    '"' => break,
                    c => v.push(c),
                }
            }
            chars.next_if_eq(&',');
            pairs.push((key, v));
        }
        pairs.sort();
        let v = if value == "+Inf" { f64::INFINITY } else { value.parse().unwrap() };
        assert!(out.insert((metric.to_string(), pairs), v).is_none(), "duplicate series: {line}");
    }
    out
}

/// Every sample of `families`, flattened like the text (histograms as
/// `_bucket`/`_sum`/`_count` with `le`), by another path than the writer.
fn flatten(families: &[MetricFamily]) -> BTreeMap<(String, Vec<(String, String)>), f64> {
    let mut out = BTreeMap::new();
    let pairs = |names: &[&str], values: &[String], le: Option<String>| {
        let mut p: Vec<(String, String)> = names.iter().map(|n| n.to_string()).zip(values.iter().cloned()).collect();
        p.extend(le.map(|le| ("le".to_string(), le)));
        p.sort();
        p
    };
    for f in families {
        match &f.samples {
            Samples::Scalar(samples) => {
                for s in samples {
                    assert_eq!(s.labels.len(), f.label_names.len(), "{}", f.name);
                    out.insert((f.name.to_string(), pairs(&f.label_names, &s.labels, None)), s.value.as_f64());
                }
            }
            Samples::Histogram { bounds, series } => {
                for h in series {
                    assert_eq!(h.cumulative_counts.len(), bounds.len(), "{}", f.name);
                    for (b, n) in bounds.iter().zip(&h.cumulative_counts) {
                        let le = Some(format!("{}", b.as_f64()));
                        out.insert((format!("{}_bucket", f.name), pairs(&f.label_names, &h.labels, le)), *n as f64);
                    }
                    let inf = Some("+Inf".to_string());
                    out.insert((format!("{}_bucket", f.name), pairs(&f.label_names, &h.labels, inf)), h.count as f64);
                    out.insert((format!("{}_sum", f.name), pairs(&f.label_names, &h.labels, None)), h.sum.as_f64());
                    out.insert((format!("{}_count", f.name), pairs(&f.label_names, &h.labels, None)), h.count as f64);
                }
            }
        }
    }
    out
}

#[test]
fn the_text_and_the_families_carry_the_same_series_and_values() {
    let (reg, now) = rich();
    let families = reg.metric_families_at(now);
    let text = reg.render_prometheus_at(now);
    let from_text = parse_text(&text);
    assert_eq!(from_text, flatten(&families));
    // The scenario is rich: a trip, time open, slow and fast latencies.
    let key = |m: &str, l: &[(&str, &str)]| {
        let mut p: Vec<(String, String)> = l.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        p.sort();
        (m.to_string(), p)
    };
    let tripped = [("name", "tripped"), ("group", "tripped")];
    let open = [tripped[0], tripped[1], ("state", "open")];
    assert_eq!(
        from_text[&key("hystrix_circuitbreaker_state_seconds_total", &open)],
        22.301,
        "open from the trip to now"
    );
    let forced = [("name", "forced"), ("group", "forced"), ("state", "forced_open")];
    assert_eq!(from_text[&key("hystrix_circuitbreaker_state", &forced)], 1.0);
    let weird = [("name", "we\"ird\\n\name"), ("group", "we\"ird\\n\name"), ("kind", "run")];
    assert_eq!(from_text[&key("hystrix_latency_seconds_count", &weird)], 7.0);
    let mut le = weird.to_vec();
    le.push(("le", "0.005"));
    assert_eq!(from_text[&key("hystrix_latency_seconds_bucket", &le)], 2.0);
    // One TYPE per family, in the families' order.
    let types: Vec<String> =
        text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).map(|l| l.replace(' ', ":")).collect();
    let expected: Vec<String> = families.iter().map(|f| format!("{}:{}", f.name, f.metric_type.as_str())).collect();
    assert_eq!(types, expected);
}

#[test]
fn families_follow_the_naming_rules() {
    let (reg, now) = rich();
    for f in reg.metric_families_at(now) {
        assert!(f.name.starts_with("hystrix_"), "{}", f.name);
        assert_eq!(&f.label_names[..2], ["name", "group"], "{}", f.name);
        assert_eq!(f.metric_type == MetricType::Counter, f.name.ends_with("_total"), "{}", f.name);
        assert_eq!(f.unit == Unit::Seconds, f.name.contains("_seconds"), "{}", f.name);
        assert!(!f.help.is_empty() && !f.help.contains('\n'), "{}", f.name);
    }
}

/// `v` as the text writes it.
fn text_of(v: Value) -> String {
    let mut s = String::new();
    v.write(&mut s);
    s
}

#[test]
fn values_are_written_exactly() {
    let text = text_of;
    assert_eq!(text(Value::Millis(5)), "0.005");
    assert_eq!(text(Value::Millis(1_241)), "1.241");
    assert_eq!(text(Value::Millis(10_000)), "10");
    assert_eq!(text(Value::Millis(2_500)), "2.5");
    assert_eq!(text(Value::Signed(-1)), "-1");
    assert_eq!(text(Value::Count(u64::MAX)), "18446744073709551615");
    assert_eq!(Value::Millis(2_500).as_f64(), 2.5);
}

#[test]
fn the_json_form_is_the_families() {
    let (reg, now) = rich();
    let families = reg.metric_families_at(now);
    let json: Json = serde_json::from_str(&families_json(&families)).unwrap();
    let json = json.as_array().unwrap();
    assert_eq!(json.len(), families.len());
    for (j, f) in json.iter().zip(&families) {
        assert_eq!(j["name"], f.name);
        assert_eq!(j["help"], f.help);
        assert_eq!(j["type"], f.metric_type.as_str());
        assert_eq!(j["unit"], f.unit.as_str());
        assert_eq!(j["otelUnit"], f.unit.ucum());
        assert_eq!(j["labelNames"], serde_json::json!(f.label_names));
        let samples = j["samples"].as_array().unwrap();
        match &f.samples {
            Samples::Scalar(s) => {
                assert_eq!(samples.len(), s.len());
                for (js, s) in samples.iter().zip(s) {
                    assert_eq!(js["labels"], serde_json::json!(s.labels));
                    assert_eq!(js["value"].as_f64().unwrap(), s.value.as_f64());
                }
            }
            Samples::Histogram { bounds, series } => {
                let b: Vec<f64> = bounds.iter().map(|b| b.as_f64()).collect();
                let jb: Vec<f64> = j["buckets"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
                assert_eq!(jb, b);
                let le: Vec<String> = bounds.iter().map(|b| text_of(*b)).collect();
                assert_eq!(j["le"], serde_json::json!(le));
                assert_eq!(j["le"][13], "10");
                assert_eq!(samples.len(), series.len());
                for (js, h) in samples.iter().zip(series) {
                    assert_eq!(js["labels"], serde_json::json!(h.labels));
                    assert_eq!(js["counts"], serde_json::json!(h.cumulative_counts));
                    assert_eq!(js["count"], h.count);
                    assert_eq!(js["sum"].as_f64().unwrap(), h.sum.as_f64());
                }
            }
        }
    }
    assert_eq!(families_json(&[]), "[]");
}

#[test]
fn the_bulkhead_gauges_give_the_limit_in_force() {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    let adaptive = Config {
        max_concurrent_requests: 10,
        concurrency_limit_mode: crate::LimitMode::Aimd,
        adaptive_initial_limit: 7,
        adaptive_min_limit: 1,
        adaptive_max_limit: 10,
        ..Config::default()
    };
    reg.configure("adaptive", adaptive).unwrap();
    reg.configure("fixed", Config { max_concurrent_requests: 10, ..Config::default() }).unwrap();
    let _ = reg.get_or_create("adaptive");
    let _ = reg.get_or_create("fixed");
    let text = reg.render_prometheus_at(clock.now_ms());
    let line = |metric: &str, name: &str| {
        let prefix = format!("{metric}{{name=\"{name}\",group=\"{name}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(str::to_owned)
    };
    assert_eq!(line("hystrix_bulkhead_max_allowed_concurrent_calls", "adaptive").as_deref(), Some("7"));
    assert_eq!(line("hystrix_bulkhead_available_concurrent_calls", "adaptive").as_deref(), Some("7"));
    assert_eq!(line("hystrix_bulkhead_max_allowed_concurrent_calls", "fixed").as_deref(), Some("10"));
}
