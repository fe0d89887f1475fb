//! The core's metric families as plain Python values, for the bridges of
//! `hystrix.observe` (`prometheus_client`, OpenTelemetry): they read names,
//! help, types, units and labels from here and know none themselves.

use crate::observe::{observation, Item};
use hystrix_core::observe::{MetricFamily, Samples, Value};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// A value as a Python `int` (counts) or `float` (seconds).
fn value<'py>(py: Python<'py>, v: Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Count(n) => n.into_pyobject(py)?.into_any(),
        Value::Signed(n) => n.into_pyobject(py)?.into_any(),
        Value::Millis(_) => v.as_f64().into_pyobject(py)?.into_any(),
    })
}

/// One family as a dict: `name`, `help`, `type` (`counter`, `gauge`,
/// `histogram`), `unit` (`seconds` or `""`), `otel_unit` (`s` or `""`),
/// `label_names` (a tuple), `samples`; a histogram also has `buckets` (the
/// bounds, ascending, `+Inf` implied) and `le` (the same bounds as the text
/// writes them, a tuple of strings). A counter's or gauge's samples are
/// `(label values, value)`; a histogram's `(label values, cumulative
/// counts, count, sum)`.
fn family<'py>(py: Python<'py>, f: &MetricFamily) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", f.name)?;
    d.set_item("help", f.help)?;
    d.set_item("type", f.metric_type.as_str())?;
    d.set_item("unit", f.unit.as_str())?;
    d.set_item("otel_unit", f.unit.ucum())?;
    d.set_item("label_names", PyTuple::new(py, &f.label_names)?)?;
    let samples = PyList::empty(py);
    match &f.samples {
        Samples::Scalar(series) => {
            for s in series {
                let labels = PyTuple::new(py, &s.labels)?;
                samples.append((labels, value(py, s.value)?))?;
            }
        }
        Samples::Histogram { bounds, series } => {
            let b: Vec<f64> = bounds.iter().map(|b| b.as_f64()).collect();
            d.set_item("buckets", b)?;
            let le: Vec<String> = bounds
                .iter()
                .map(|b| {
                    let mut s = String::new();
                    b.write(&mut s);
                    s
                })
                .collect();
            d.set_item("le", PyTuple::new(py, le)?)?;
            for h in series {
                let labels = PyTuple::new(py, &h.labels)?;
                samples.append((labels, h.cumulative_counts.clone(), h.count, value(py, h.sum)?))?;
            }
        }
    }
    d.set_item("samples", samples)?;
    Ok(d)
}

/// The metric families (list of dicts, see `family`) of
/// `[(command, now_ms, thread)]`: the structured form of
/// `render_prometheus`, which is written from the same families.
#[pyfunction]
pub(crate) fn metric_families<'py>(py: Python<'py>, items: Vec<Item<'py>>) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for f in observation(&items).families() {
        out.append(family(py, &f)?)?;
    }
    Ok(out)
}
