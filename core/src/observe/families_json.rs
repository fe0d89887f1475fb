//! [`families_json`]: metric families as one JSON array, for hosts that
//! carry no serialiser of their own (the wasm build has no serde).

use super::families::{MetricFamily, Samples};
use super::json::write_str;

/// Appends `items` as a JSON array, each written by `item`.
fn array<T>(out: &mut String, items: impl IntoIterator<Item = T>, mut item: impl FnMut(&mut String, T)) {
    out.push('[');
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

/// `families` as a JSON array of objects:
///
/// `{"name","help","type","unit","otelUnit","labelNames":[…],"samples":[…]}`
/// where `type` is `counter`, `gauge` or `histogram`, `unit` the Prometheus
/// unit word (`seconds` or `""`) and `otelUnit` its UCUM form (`s` or `""`).
/// A counter's or gauge's samples are `{"labels":[values…],"value":n}`; a
/// histogram has `"buckets":[bounds…]` (ascending, `+Inf` implied), the
/// same bounds as the text writes them in `"le":["0.005",…]`, and
/// samples `{"labels":[…],"counts":[cumulative…],"count":n,"sum":x}`.
/// Label values line up with `labelNames`; numbers are written exactly as
/// in the text exposition.
pub fn families_json(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    array(&mut out, families, |out, f| {
        out.push_str("{\"name\":");
        write_str(out, f.name);
        out.push_str(",\"help\":");
        write_str(out, f.help);
        out.push_str(",\"type\":");
        write_str(out, f.metric_type.as_str());
        out.push_str(",\"unit\":");
        write_str(out, f.unit.as_str());
        out.push_str(",\"otelUnit\":");
        write_str(out, f.unit.ucum());
        out.push_str(",\"labelNames\":");
        array(out, &f.label_names, |out, n| write_str(out, n));
        let labels = |out: &mut String, values: &[String]| {
            out.push_str("{\"labels\":");
            array(out, values, |out, v| write_str(out, v));
        };
        match &f.samples {
            Samples::Scalar(samples) => {
                out.push_str(",\"samples\":");
                array(out, samples, |out, s| {
                    labels(out, &s.labels);
                    out.push_str(",\"value\":");
                    s.value.write(out);
                    out.push('}');
                });
            }
            Samples::Histogram { bounds, series } => {
                out.push_str(",\"buckets\":");
                array(out, bounds, |out, b| b.write(out));
                out.push_str(",\"le\":");
                array(out, bounds, |out, b| {
                    out.push('"');
                    b.write(out);
                    out.push('"');
                });
                out.push_str(",\"samples\":");
                array(out, series, |out, h| {
                    labels(out, &h.labels);
                    out.push_str(",\"counts\":");
                    array(out, &h.cumulative_counts, |out, n| out.push_str(&n.to_string()));
                    out.push_str(",\"count\":");
                    out.push_str(&h.count.to_string());
                    out.push_str(",\"sum\":");
                    h.sum.write(out);
                    out.push('}');
                });
            }
        }
        out.push('}');
    });
    out
}
