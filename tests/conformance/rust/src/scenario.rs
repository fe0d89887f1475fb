//! Reading scenario files (SPEC §7) into typed steps, with errors that say
//! which part of the file was wrong.

use serde_json::Value;

/// How a simulated run or fallback behaves.
#[derive(Clone, Debug)]
pub struct Behaviour {
    pub outcome: String,
    pub after_ms: u64,
    pub ignores_cancel: bool,
}

/// What a call must end with.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub result: Option<String>,
    pub error: Option<String>,
    pub events: Option<Vec<String>>,
}

/// One step of a scenario.
#[derive(Clone, Debug)]
pub enum Op {
    Call { run: Behaviour, fallback: Option<Behaviour>, repeat: u64, expect: Option<Expect> },
    Advance(u64),
    Check(Value),
    Configure(Value),
}

/// A whole scenario file.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub config: Value,
    pub expect_config_error: Option<String>,
    pub steps: Vec<Op>,
}

/// A whole, non-negative number: `5` or `5.0` (JS writes no integers).
pub fn whole(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 9_007_199_254_740_992.0).map(|f| f as u64)
    })
}

fn uint(v: &Value, what: &str) -> Result<u64, String> {
    whole(v).ok_or_else(|| format!("{what} must be a non-negative integer, got {v}"))
}

/// `key` of `v`, with `null` read as absent (optional fields, SPEC §7).
fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

fn behaviour(v: &Value, what: &str) -> Result<Behaviour, String> {
    let outcome =
        v.get("outcome").and_then(Value::as_str).ok_or_else(|| format!("{what}.outcome must be a string"))?.to_string();
    let after_ms = match field(v, "after_ms") {
        None => 0,
        Some(x) => uint(x, &format!("{what}.after_ms"))?,
    };
    let ignores_cancel = v.get("ignores_cancel").and_then(Value::as_bool).unwrap_or(false);
    Ok(Behaviour { outcome, after_ms, ignores_cancel })
}

fn expect(v: &Value) -> Result<Expect, String> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let events = match field(v, "events") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|e| e.as_str().map(str::to_string).ok_or("expect.events must hold strings".to_string()))
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err("expect.events must be an array".into()),
    };
    Ok(Expect { result: text("result"), error: text("error"), events })
}

fn step(v: &Value, i: usize) -> Result<Op, String> {
    let op = v.get("op").and_then(Value::as_str).ok_or(format!("step {i}: missing op"))?;
    Ok(match op {
        "call" => Op::Call {
            run: behaviour(v.get("run").ok_or(format!("step {i}: call without run"))?, "run")?,
            fallback: match v.get("fallback") {
                None | Some(Value::Null) => None,
                Some(f) => Some(behaviour(f, "fallback")?),
            },
            repeat: match field(v, "repeat") {
                None => 1,
                Some(r) => uint(r, "repeat")?,
            },
            expect: field(v, "expect").map(expect).transpose()?,
        },
        "advance" => Op::Advance(uint(v.get("ms").unwrap_or(&Value::Null), "advance.ms")?),
        "check" => Op::Check(v.clone()),
        "configure" => Op::Configure(v.get("config").cloned().unwrap_or(Value::Null)),
        other => return Err(format!("step {i}: unknown op {other:?}")),
    })
}

/// Parses one scenario file's text.
pub fn parse(text: &str) -> Result<Scenario, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let name = v.get("name").and_then(Value::as_str).unwrap_or("(unnamed)").to_string();
    let steps = match v.get("steps") {
        None => vec![],
        Some(Value::Array(items)) => items.iter().enumerate().map(|(i, s)| step(s, i)).collect::<Result<_, _>>()?,
        Some(_) => return Err("steps must be an array".into()),
    };
    Ok(Scenario {
        name,
        config: v.get("config").cloned().unwrap_or(Value::Object(Default::default())),
        expect_config_error: v.get("expect_config_error").and_then(Value::as_str).map(str::to_string),
        steps,
    })
}
