//! Reading scenario files (semantics §7, with the v2 fields of §17 and
//! §18.2) into typed steps, with errors that say which part of the file was
//! wrong.

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
    /// §17: attempt outcomes among the call's events.
    pub attempts: Option<u64>,
    /// §17: when the caller got its result.
    pub settled_at: Option<u64>,
    /// §17: when the call invoked its run, in order.
    pub run_starts: Option<Vec<u64>>,
}

/// One `call` step.
#[derive(Clone, Debug)]
pub struct CallStep {
    /// How the k-th invoked run behaves: entry k, or the last (§17).
    pub runs: Vec<Behaviour>,
    pub fallback: Option<Behaviour>,
    pub repeat: u64,
    pub expect: Option<Expect>,
    /// §18.2: the caller cancels this long after the call started.
    pub cancel_after_ms: Option<u64>,
}

impl CallStep {
    /// How the `k`-th run the call invokes (from 0) behaves: entry `k`, or
    /// the last one past the end (§17).
    pub fn run_at(&self, k: usize) -> &Behaviour {
        &self.runs[k.min(self.runs.len() - 1)]
    }
}

/// One step of a scenario.
#[derive(Clone, Debug)]
pub enum Op {
    Call(CallStep),
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

/// The largest number every runner reads exactly (a JS number's limit).
const MAX_EXACT: u64 = (1 << 53) - 1;

/// A whole, non-negative number up to 2^53 − 1: `5` or `5.0` (JS writes no
/// integers), read the same way by all four runners.
pub fn whole(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= MAX_EXACT as f64).map(|f| f as u64))
        .filter(|n| *n <= MAX_EXACT)
}

fn uint(v: &Value, what: &str) -> Result<u64, String> {
    whole(v).ok_or_else(|| format!("{what} must be a non-negative integer, got {v}"))
}

/// `key` of `v`, with `null` read as absent (optional fields, SPEC §7).
fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

fn behaviour(v: &Value, what: &str, allowed: &[&str]) -> Result<Behaviour, String> {
    if !v.is_object() {
        return Err(format!("{what} must be an object"));
    }
    let outcome =
        v.get("outcome").and_then(Value::as_str).ok_or_else(|| format!("{what}.outcome must be a string"))?.to_string();
    if !allowed.contains(&outcome.as_str()) {
        return Err(format!("{what}: unknown outcome {outcome:?}"));
    }
    let after_ms = match field(v, "after_ms") {
        None => 0,
        Some(x) => uint(x, &format!("{what}.after_ms"))?,
    };
    let ignores_cancel = match field(v, "ignores_cancel") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(x) => return Err(format!("{what}.ignores_cancel must be a boolean, got {x}")),
    };
    Ok(Behaviour { outcome, after_ms, ignores_cancel })
}

fn expect(v: &Value) -> Result<Expect, String> {
    let text = |k: &str| match field(v, k) {
        None => Ok(None),
        Some(Value::String(t)) => Ok(Some(t.clone())),
        Some(_) => Err(format!("expect.{k} must be a string")),
    };
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
    let count = |k: &str| field(v, k).map(|x| uint(x, &format!("expect.{k}"))).transpose();
    let run_starts = match field(v, "run_starts") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, t)| uint(t, &format!("expect.run_starts[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err("expect.run_starts must be an array".into()),
    };
    Ok(Expect {
        result: text("result")?,
        error: text("error")?,
        events,
        attempts: count("attempts")?,
        settled_at: count("settled_at")?,
        run_starts,
    })
}

/// `run`: one RUN object, or a non-empty array of them (§17).
fn runs(v: &Value, i: usize) -> Result<Vec<Behaviour>, String> {
    const OUTCOMES: &[&str] = &["success", "failure", "bad_request"];
    match v {
        Value::Null => Err(format!("step {i}: call without run")),
        Value::Array(items) if items.is_empty() => Err(format!("step {i}: run must not be an empty array")),
        Value::Array(items) => {
            items.iter().enumerate().map(|(k, r)| behaviour(r, &format!("run[{k}]"), OUTCOMES)).collect()
        }
        one => Ok(vec![behaviour(one, "run", OUTCOMES)?]),
    }
}

fn step(v: &Value, i: usize) -> Result<Op, String> {
    let op = v.get("op").and_then(Value::as_str).ok_or(format!("step {i}: missing op"))?;
    Ok(match op {
        "call" => Op::Call(CallStep {
            runs: runs(v.get("run").unwrap_or(&Value::Null), i)?,
            fallback: match field(v, "fallback") {
                None => None,
                Some(f) => Some(behaviour(f, "fallback", &["success", "failure"])?),
            },
            repeat: match field(v, "repeat") {
                None => 1,
                Some(r) => uint(r, "repeat")?,
            },
            expect: field(v, "expect").map(expect).transpose()?,
            cancel_after_ms: field(v, "cancel_after_ms").map(|d| uint(d, "cancel_after_ms")).transpose()?,
        }),
        "advance" => Op::Advance(uint(v.get("ms").unwrap_or(&Value::Null), "advance.ms")?),
        "check" => Op::Check(v.clone()),
        "configure" => match v.get("config") {
            Some(c @ Value::Object(_)) => Op::Configure(c.clone()),
            _ => return Err(format!("step {i}: configure needs a config object")),
        },
        other => return Err(format!("step {i}: unknown op {other:?}")),
    })
}

/// Parses one scenario file's text.
pub fn parse(text: &str) -> Result<Scenario, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("a scenario must be a JSON object".into());
    }
    let name = v.get("name").and_then(Value::as_str).unwrap_or("(unnamed)").to_string();
    let steps = match field(&v, "steps") {
        None => vec![],
        Some(Value::Array(items)) => items.iter().enumerate().map(|(i, s)| step(s, i)).collect::<Result<_, _>>()?,
        Some(_) => return Err("steps must be an array".into()),
    };
    Ok(Scenario {
        name,
        config: match field(&v, "config") {
            None => Value::Object(Default::default()),
            Some(c @ Value::Object(_)) => c.clone(),
            Some(_) => return Err("config must be a JSON object".into()),
        },
        expect_config_error: match field(&v, "expect_config_error") {
            None => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => return Err("expect_config_error must be a string".into()),
        },
        steps,
    })
}
