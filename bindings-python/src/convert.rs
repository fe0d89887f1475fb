//! Converting between Python objects and the JSON values the core's
//! configuration and snapshots use.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use serde_json::{Map, Number, Value};

/// A configuration value from Python, kept faithful enough for the core to
/// name what is wrong: bools stay bools (not ints), negative ints stay
/// negative, floats stay floats, other objects become a string that the
/// core refuses with the key's name.
pub(crate) fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::Number(u.into()));
        }
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        return Ok(Value::String(format!("integer {} out of range", obj.str()?)));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Number::from_f64(f.value()).map(Value::Number).unwrap_or(Value::Null));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    Ok(Value::String(format!("<{}>", obj.get_type().name()?)))
}

/// A `dict` of configuration keys as a JSON object (keys must be `str`).
pub(crate) fn dict_to_json(dict: &Bound<'_, PyDict>) -> PyResult<Result<Value, String>> {
    let mut map = Map::new();
    for (k, v) in dict.iter() {
        let Ok(key) = k.cast::<PyString>() else {
            return Ok(Err(format!("configuration keys must be str, got {}", k.repr()?)));
        };
        map.insert(key.to_cow()?.into_owned(), py_to_json(&v)?);
    }
    Ok(Ok(Value::Object(map)))
}

/// A JSON value as plain Python objects (dict, list, int, float, str, bool, None).
pub(crate) fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match n.as_u64() {
            Some(u) => u.into_pyobject(py)?.into_any(),
            None => n.as_f64().unwrap_or(0.0).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, json_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}
