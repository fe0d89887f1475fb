//! Command configuration: Hystrix defaults, validation, JSON parsing (SPEC §2).

use crate::error::ConfigError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Upper bound for every millisecond and count setting: 2^53 − 1, the
/// largest integer every host carries exactly (a JS number, a Python int, a
/// C `uint64_t`). SPEC §2 sets no upper bound; a value beyond this one is
/// refused as not representable rather than silently rounded.
pub const MAX_SETTING: u64 = (1 << 53) - 1;

/// Upper bound for `rolling_window_buckets`: every bucket is allocated up
/// front (about 64 bytes each), so a mistyped count must not exhaust memory.
pub const MAX_BUCKETS: u64 = 100_000;

/// The settings of one command. Every field has the Netflix Hystrix default
/// (see [`Config::default`]); keys and meanings are those of SPEC §2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Whether runs are timed out.
    pub timeout_enabled: bool,
    /// A run still going after this many milliseconds is timed out.
    pub timeout_ms: u64,
    /// Bulkhead: runs allowed in flight at once.
    pub max_concurrent_requests: u64,
    /// Whether a fallback is ever invoked.
    pub fallback_enabled: bool,
    /// Fallbacks allowed in flight at once.
    pub fallback_max_concurrent_requests: u64,
    /// `false`: the circuit never short-circuits and never trips.
    pub circuit_breaker_enabled: bool,
    /// Health total needed before the circuit may trip.
    pub request_volume_threshold: u64,
    /// Trip when the error percentage is at least this (0..=100).
    pub error_threshold_percentage: u64,
    /// How long an open circuit rejects before admitting probes.
    pub sleep_window_ms: u64,
    /// Probes admitted per half-open episode.
    pub half_open_max_calls: u64,
    /// Short-circuit everything; wins over `force_closed`.
    pub force_open: bool,
    /// Admit everything and never trip.
    pub force_closed: bool,
    /// Length of the rolling statistics window.
    pub rolling_window_ms: u64,
    /// Buckets in the rolling window; must divide `rolling_window_ms`.
    pub rolling_window_buckets: u64,
    /// How stale the health counts used for decisions may be; `0` = always fresh.
    pub health_snapshot_interval_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout_enabled: true,
            timeout_ms: 1000,
            max_concurrent_requests: 10,
            fallback_enabled: true,
            fallback_max_concurrent_requests: 10,
            circuit_breaker_enabled: true,
            request_volume_threshold: 20,
            error_threshold_percentage: 50,
            sleep_window_ms: 5000,
            half_open_max_calls: 1,
            force_open: false,
            force_closed: false,
            rolling_window_ms: 10_000,
            rolling_window_buckets: 10,
            health_snapshot_interval_ms: 500,
        }
    }
}

/// How a retry's backoff delay is jittered (semantics §11.2, key
/// `retry_jitter`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// The capped delay itself; draws nothing.
    None,
    /// Uniform from 0 to the capped delay.
    #[default]
    Full,
    /// Half the capped delay plus a uniform share of the other half.
    Equal,
    /// Uniform from the base delay to three times the previous delay, capped.
    Decorrelated,
}

impl Jitter {
    /// Every mode, in the order the semantics list them.
    pub const ALL: [Jitter; 4] = [Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated];

    /// The configuration name (`"none"`, `"full"`, `"equal"`, `"decorrelated"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
            Jitter::Decorrelated => "decorrelated",
        }
    }

    /// Parses a configuration name; exact, lower case only.
    pub fn parse(name: &str) -> Option<Jitter> {
        Jitter::ALL.into_iter().find(|j| j.as_str() == name)
    }
}

/// Which limit the bulkhead compares with (semantics §15, key
/// `concurrency_limit_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitMode {
    /// `max_concurrent_requests`.
    #[default]
    Fixed,
    /// Additive increase, multiplicative decrease.
    Aimd,
    /// Netflix's Gradient2 estimate.
    Gradient2,
}

impl LimitMode {
    /// Every mode, in the order the semantics list them.
    pub const ALL: [LimitMode; 3] = [LimitMode::Fixed, LimitMode::Aimd, LimitMode::Gradient2];

    /// The configuration name (`"fixed"`, `"aimd"`, `"gradient2"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitMode::Fixed => "fixed",
            LimitMode::Aimd => "aimd",
            LimitMode::Gradient2 => "gradient2",
        }
    }

    /// Parses a configuration name; exact, lower case only.
    pub fn parse(name: &str) -> Option<LimitMode> {
        LimitMode::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// Calls `$m!(field, ...)` with every [`Config`] field in SPEC order, so code
/// that mirrors `Config` field by field (the core's live atomics, the C
/// ABI's struct) names the fields in one place.
#[macro_export]
macro_rules! for_each_config_field {
    ($m:ident) => {
        $m! {
            timeout_enabled,
            timeout_ms,
            max_concurrent_requests,
            fallback_enabled,
            fallback_max_concurrent_requests,
            circuit_breaker_enabled,
            request_volume_threshold,
            error_threshold_percentage,
            sleep_window_ms,
            half_open_max_calls,
            force_open,
            force_closed,
            rolling_window_ms,
            rolling_window_buckets,
            health_snapshot_interval_ms
        }
    };
}

/// Kind of value a key takes.
#[derive(Clone, Copy)]
enum KeyType {
    Bool,
    /// Integer with its inclusive minimum and maximum.
    Int(u64, u64),
}

/// Every key in SPEC order, with its type and range.
const KEYS: [(&str, KeyType); 15] = [
    ("timeout_enabled", KeyType::Bool),
    ("timeout_ms", KeyType::Int(1, MAX_SETTING)),
    ("max_concurrent_requests", KeyType::Int(1, MAX_SETTING)),
    ("fallback_enabled", KeyType::Bool),
    ("fallback_max_concurrent_requests", KeyType::Int(1, MAX_SETTING)),
    ("circuit_breaker_enabled", KeyType::Bool),
    ("request_volume_threshold", KeyType::Int(0, MAX_SETTING)),
    ("error_threshold_percentage", KeyType::Int(0, 100)),
    ("sleep_window_ms", KeyType::Int(1, MAX_SETTING)),
    ("half_open_max_calls", KeyType::Int(1, MAX_SETTING)),
    ("force_open", KeyType::Bool),
    ("force_closed", KeyType::Bool),
    ("rolling_window_ms", KeyType::Int(1, MAX_SETTING)),
    ("rolling_window_buckets", KeyType::Int(1, MAX_BUCKETS)),
    ("health_snapshot_interval_ms", KeyType::Int(0, MAX_SETTING)),
];

/// A setting's value, as carried by [`Config::set`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// A boolean setting.
    Bool(bool),
    /// An integer setting.
    Int(u64),
}

impl Config {
    /// All configuration keys, in SPEC order.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        KEYS.iter().map(|(k, _)| *k)
    }

    /// Checks every rule of SPEC §2; the error names the first offending key
    /// in SPEC order, the divisibility rule (which names
    /// `rolling_window_ms`) last.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, ty) in KEYS {
            if let KeyType::Int(..) = ty {
                check_range(key, ty, self.get_int(key))?;
            }
        }
        if self.rolling_window_ms % self.rolling_window_buckets != 0 {
            return Err(ConfigError::new(
                "rolling_window_ms",
                format!(
                    "{} is not divisible by rolling_window_buckets ({})",
                    self.rolling_window_ms, self.rolling_window_buckets
                ),
            ));
        }
        Ok(())
    }

    /// Parses a JSON object of SPEC keys (all optional) over the defaults.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ConfigError::new("config", format!("is not valid JSON: {e}")))?;
        Config::from_value(&value)
    }

    /// Builds a configuration from a parsed JSON object over the defaults.
    pub fn from_value(value: &Value) -> Result<Config, ConfigError> {
        Config::default().patched(value)
    }

    /// Returns a copy with the keys of the JSON object `patch` changed, fully
    /// validated. `self` is untouched whatever happens. When several keys
    /// are wrong, the one named is, in this order: the first unknown key
    /// (by name), then the first key in SPEC order whose value has the
    /// wrong type or is out of range, then the divisibility rule — one rule
    /// every binding follows, as they all parse through here.
    pub fn patched(&self, patch: &Value) -> Result<Config, ConfigError> {
        let map: &Map<String, Value> =
            patch.as_object().ok_or_else(|| ConfigError::new("config", "must be a JSON object".to_string()))?;
        if let Some(unknown) = map.keys().filter(|k| key_type(k).is_err()).min() {
            return Err(ConfigError::new(unknown, "is not a configuration key".into()));
        }
        let mut next = *self;
        for (key, ty) in KEYS {
            let Some(value) = map.get(key) else { continue };
            let setting = parse_setting(key, value)?;
            if let Setting::Int(v) = setting {
                check_range(key, ty, v)?;
            }
            next.set(key, setting)?;
        }
        next.validate()?;
        Ok(next)
    }

    /// Sets one key without validating the whole configuration; the error
    /// names the key when it is unknown or the value has the wrong type.
    pub fn set(&mut self, key: &str, value: Setting) -> Result<(), ConfigError> {
        let ty = key_type(key)?;
        match (ty, value) {
            (KeyType::Bool, Setting::Bool(b)) => {
                *self.bool_mut(key) = b;
                Ok(())
            }
            (KeyType::Int(..), Setting::Int(i)) => {
                *self.int_mut(key) = i;
                Ok(())
            }
            (KeyType::Bool, _) => Err(ConfigError::new(key, "must be a boolean".into())),
            (KeyType::Int(..), _) => Err(ConfigError::new(key, "must be an integer".into())),
        }
    }

    /// The configuration as a JSON object with every key.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Config always serialises")
    }

    /// Bucket length in milliseconds.
    pub fn bucket_ms(&self) -> u64 {
        self.rolling_window_ms / self.rolling_window_buckets
    }

    fn get_int(&self, key: &str) -> u64 {
        let mut copy = *self;
        *copy.int_mut(key)
    }

    fn int_mut(&mut self, key: &str) -> &mut u64 {
        match key {
            "timeout_ms" => &mut self.timeout_ms,
            "max_concurrent_requests" => &mut self.max_concurrent_requests,
            "fallback_max_concurrent_requests" => &mut self.fallback_max_concurrent_requests,
            "request_volume_threshold" => &mut self.request_volume_threshold,
            "error_threshold_percentage" => &mut self.error_threshold_percentage,
            "sleep_window_ms" => &mut self.sleep_window_ms,
            "half_open_max_calls" => &mut self.half_open_max_calls,
            "rolling_window_ms" => &mut self.rolling_window_ms,
            "rolling_window_buckets" => &mut self.rolling_window_buckets,
            "health_snapshot_interval_ms" => &mut self.health_snapshot_interval_ms,
            _ => unreachable!("not an integer key: {key}"),
        }
    }

    fn bool_mut(&mut self, key: &str) -> &mut bool {
        match key {
            "timeout_enabled" => &mut self.timeout_enabled,
            "fallback_enabled" => &mut self.fallback_enabled,
            "circuit_breaker_enabled" => &mut self.circuit_breaker_enabled,
            "force_open" => &mut self.force_open,
            "force_closed" => &mut self.force_closed,
            _ => unreachable!("not a boolean key: {key}"),
        }
    }
}

/// An integer key's range rule (SPEC §2 and its v2 bounds).
fn check_range(key: &str, ty: KeyType, v: u64) -> Result<(), ConfigError> {
    match ty {
        KeyType::Int(min, max) if v < min || v > max => {
            Err(ConfigError::new(key, format!("must be an integer from {min} to {max}, got {v}")))
        }
        _ => Ok(()),
    }
}

fn key_type(key: &str) -> Result<KeyType, ConfigError> {
    KEYS.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, t)| *t)
        .ok_or_else(|| ConfigError::new(key, "is not a configuration key".into()))
}

/// Converts one JSON value for `key`, refusing wrong types. Whole numbers
/// written with a fraction part (`1000.0`) are accepted, as JavaScript has
/// no separate integer type; negative and fractional numbers are refused.
fn parse_setting(key: &str, value: &Value) -> Result<Setting, ConfigError> {
    match key_type(key)? {
        KeyType::Bool => value
            .as_bool()
            .map(Setting::Bool)
            .ok_or_else(|| ConfigError::new(key, format!("must be a boolean, got {value}"))),
        KeyType::Int(..) => whole_number(value)
            .map(Setting::Int)
            .ok_or_else(|| ConfigError::new(key, format!("must be a non-negative integer, got {value}"))),
    }
}

fn whole_number(value: &Value) -> Option<u64> {
    if let Some(u) = value.as_u64() {
        return Some(u);
    }
    let f = value.as_f64().filter(|_| value.is_number())?;
    if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 {
        Some(f as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_numbers_in_float_form_parse_exactly_up_to_the_bound() {
        // serde_json's default float parser is not correctly rounded:
        // `9007199254740991.0` used to read as …990 (C accepted a config
        // Python and JS refuse, and got a different value).
        let c = Config::from_json(r#"{"timeout_ms": 9007199254740991.0, "sleep_window_ms": 9.007199254740991e15}"#)
            .unwrap();
        assert_eq!(c.timeout_ms, MAX_SETTING);
        assert_eq!(c.sleep_window_ms, MAX_SETTING);
        let err = Config::from_json(r#"{"timeout_ms": 9007199254740992.0}"#).unwrap_err();
        assert_eq!(err.key(), "timeout_ms");
    }

    #[test]
    fn several_wrong_keys_name_the_first_in_spec_order() {
        let named = |text: &str| Config::from_json(text).unwrap_err().key().to_string();
        // A range error of an earlier key beats a type error of a later one
        // (JSON objects parse into name order, which is not SPEC order).
        assert_eq!(named(r#"{"timeout_ms": 0, "force_open": "yes"}"#), "timeout_ms");
        assert_eq!(named(r#"{"sleep_window_ms": true, "max_concurrent_requests": 0}"#), "max_concurrent_requests");
        // Unknown keys first, the first by name.
        assert_eq!(named(r#"{"timeout_ms": 0, "zeta": 1, "alpha": 1}"#), "alpha");
        // The divisibility rule comes after every per-key rule.
        assert_eq!(
            named(r#"{"rolling_window_ms": 1001, "health_snapshot_interval_ms": -1}"#),
            "health_snapshot_interval_ms"
        );
        assert_eq!(named(r#"{"rolling_window_ms": 1001}"#), "rolling_window_ms");
    }

    #[test]
    fn defaults_are_hystrix_defaults_and_valid() {
        let c = Config::default();
        assert_eq!(c.timeout_ms, 1000);
        assert_eq!(c.request_volume_threshold, 20);
        assert_eq!(c.sleep_window_ms, 5000);
        assert_eq!(c.bucket_ms(), 1000);
        c.validate().unwrap();
        assert_eq!(Config::from_json("{}").unwrap(), c);
    }

    #[test]
    fn each_range_rule_names_its_key() {
        for (key, bad) in [
            ("timeout_ms", json!(0)),
            ("sleep_window_ms", json!(0)),
            ("rolling_window_ms", json!(0)),
            ("max_concurrent_requests", json!(0)),
            ("fallback_max_concurrent_requests", json!(0)),
            ("half_open_max_calls", json!(0)),
            ("rolling_window_buckets", json!(0)),
            ("error_threshold_percentage", json!(101)),
            ("timeout_ms", json!(MAX_SETTING + 1)),
            ("rolling_window_buckets", json!(MAX_BUCKETS + 1)),
        ] {
            let err = Config::from_value(&json!({ key: bad })).unwrap_err();
            assert_eq!(err.key(), key, "{err}");
        }
    }

    #[test]
    fn wrong_types_and_unknown_keys_are_refused() {
        for (key, bad) in [
            ("timeout_ms", json!("100")),
            ("timeout_ms", json!(1.5)),
            ("request_volume_threshold", json!(-1)),
            ("force_open", json!(1)),
            ("timeout_enabled", json!(null)),
            ("timeoutMs", json!(5)),
        ] {
            let err = Config::from_value(&json!({ key: bad })).unwrap_err();
            assert_eq!(err.key(), key, "{err}");
        }
        assert_eq!(Config::from_json("[1]").unwrap_err().key(), "config");
        assert_eq!(Config::from_json("{").unwrap_err().key(), "config");
    }

    #[test]
    fn whole_floats_and_zero_minimums_are_accepted() {
        let c = Config::from_value(&json!({"timeout_ms": 250.0, "request_volume_threshold": 0,
            "error_threshold_percentage": 0, "health_snapshot_interval_ms": 0}))
        .unwrap();
        assert_eq!(c.timeout_ms, 250);
        assert_eq!(c.request_volume_threshold, 0);
    }

    #[test]
    fn window_must_divide_into_buckets() {
        let err = Config::from_value(&json!({"rolling_window_buckets": 3})).unwrap_err();
        assert_eq!(err.key(), "rolling_window_ms");
        Config::from_value(&json!({"rolling_window_ms": 9, "rolling_window_buckets": 3})).unwrap();
    }

    #[test]
    fn patch_leaves_original_untouched_on_error() {
        let c = Config::default();
        assert!(c.patched(&json!({"timeout_ms": 5, "max_concurrent_requests": 0})).is_err());
        assert_eq!(c, Config::default());
        let d = c.patched(&json!({"timeout_ms": 5})).unwrap();
        assert_eq!(d.timeout_ms, 5);
    }
}
