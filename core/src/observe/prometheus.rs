//! The Prometheus text exposition (format 0.0.4) of a set of commands,
//! written from their [metric families](mod@super::families): the text and the
//! structured form cannot drift apart.

use crate::config::Config;
use crate::observe::families::{families, MetricFamily, Samples, Value};
use crate::snapshot::Snapshot;

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

/// Appends one sample line: `metric{k="v",…[,extra]} value`.
fn sample(
    out: &mut String,
    metric: &str,
    suffix: &str,
    labels: (&[&str], &[String]),
    extra: Option<&str>,
    value: &str,
) {
    out.push_str(metric);
    out.push_str(suffix);
    out.push('{');
    for (i, (k, v)) in labels.0.iter().zip(labels.1).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        escape_label_value(out, v);
        out.push('"');
    }
    if let Some(le) = extra {
        out.push_str(",le=\"");
        out.push_str(le);
        out.push('"');
    }
    out.push_str("} ");
    out.push_str(value);
    out.push('\n');
}

/// `value` as text.
fn text(value: Value) -> String {
    let mut s = String::new();
    value.write(&mut s);
    s
}

/// Appends the exposition of `families`: `# HELP`, `# TYPE`, then each
/// series (a histogram's as `_bucket` lines with `le`, `+Inf` last, then
/// `_sum` and `_count`).
pub fn write_families(out: &mut String, families: &[MetricFamily]) {
    for f in families {
        let name = f.name;
        out.push_str("# HELP ");
        out.push_str(name);
        out.push(' ');
        out.push_str(f.help);
        out.push_str("\n# TYPE ");
        out.push_str(name);
        out.push(' ');
        out.push_str(f.metric_type.as_str());
        out.push('\n');
        match &f.samples {
            Samples::Scalar(samples) => {
                for s in samples {
                    sample(out, name, "", (&f.label_names, &s.labels), None, &text(s.value));
                }
            }
            Samples::Histogram { bounds, series } => {
                let les: Vec<String> = bounds.iter().map(|b| text(*b)).collect();
                for h in series {
                    let labels = (&f.label_names[..], &h.labels[..]);
                    for (le, n) in les.iter().zip(&h.cumulative_counts) {
                        sample(out, name, "_bucket", labels, Some(le), &n.to_string());
                    }
                    let count = h.count.to_string();
                    sample(out, name, "_bucket", labels, Some("+Inf"), &count);
                    sample(out, name, "_sum", labels, None, &text(h.sum));
                    sample(out, name, "_count", labels, None, &count);
                }
            }
        }
    }
}

/// The exposition of `commands` (read-only snapshots with the
/// configuration in force), one family after another, each family's
/// samples in the order given.
pub fn render(commands: &[(Snapshot, Config)]) -> String {
    let mut out = String::new();
    write_families(&mut out, &families(commands));
    out
}
