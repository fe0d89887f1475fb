//! Command configuration: Hystrix defaults, validation, JSON parsing (SPEC §2).

use crate::error::ConfigError;
use fields::FieldMut;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod fields;

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
    // v2 keys (SPEC §8); their defaults leave every v2 feature off.
    /// Seed of the command's random generator (SPEC §10).
    pub random_seed: u64,
    /// Attempts per call, the first one included; `1` = no retry.
    pub retry_max_attempts: u64,
    /// A `TIMEOUT` attempt may be retried, or trigger a hedge.
    pub retry_on_timeout: bool,
    /// A `SEMAPHORE_REJECTED` attempt may be retried, or trigger a hedge.
    pub retry_on_rejected: bool,
    /// Backoff before the first retry, before jitter.
    pub retry_base_delay_ms: u64,
    /// Backoff growth per retry, in thousandths (`2000` = ×2).
    pub retry_multiplier_permille: u64,
    /// Cap on every backoff delay.
    pub retry_max_delay_ms: u64,
    /// How a backoff delay is jittered.
    pub retry_jitter: Jitter,
    /// Overall deadline of a call's attempts, from its first attempt's start; `0` = none.
    pub deadline_ms: u64,
    /// Budget units deposited per `SUCCESS` (a retry costs 100); `0` = no budget.
    pub retry_budget_percent: u64,
    /// Retries per second allowed on top of the deposits.
    pub retry_budget_min_per_sec: u64,
    /// How long budget deposits and withdrawals count.
    pub retry_budget_window_ms: u64,
    /// Buckets in the budget window; must divide `retry_budget_window_ms`.
    pub retry_budget_window_buckets: u64,
    /// Calls admitted per period; `0` = no rate limiter.
    pub rate_limit_for_period: u64,
    /// The rate limiter's period.
    pub rate_limit_period_ms: u64,
    /// Calls that may pass back to back; `0` = `rate_limit_for_period`.
    pub rate_limit_burst: u64,
    /// Longest wait a call accepts for its turn; `0` = never waits.
    pub rate_limit_timeout_ms: u64,
    /// Attempts per call, the primary included; `1` = no hedging.
    pub hedge_max_attempts: u64,
    /// From the latest attempt's start to the next hedge; `0` = all at once.
    pub hedge_delay_ms: u64,
    /// A retryable failure starts the next hedge at that instant.
    pub hedge_on_failure: bool,
    /// Which limit the bulkhead compares with.
    pub concurrency_limit_mode: LimitMode,
    /// Limit when the adaptive limiter starts.
    pub adaptive_initial_limit: u64,
    /// Lowest adaptive limit.
    pub adaptive_min_limit: u64,
    /// Highest adaptive limit.
    pub adaptive_max_limit: u64,
    /// Shortest adaptive sample window.
    pub adaptive_window_ms: u64,
    /// Fewest samples in an adaptive window.
    pub adaptive_window_min_samples: u64,
    /// A `FAILURE` counts as a drop (else it gives no sample).
    pub adaptive_drop_on_failure: bool,
    /// AIMD cut on a drop, in thousandths (Gradient2 uses it too).
    pub aimd_backoff_permille: u64,
    /// AIMD: a window whose average RTT exceeds this counts as a drop.
    pub aimd_timeout_ms: u64,
    /// Gradient2 smoothing, in thousandths.
    pub gradient2_smoothing_permille: u64,
    /// Gradient2 queue allowance.
    pub gradient2_queue_size: u64,
    /// Gradient2 long-RTT averaging window, in samples.
    pub gradient2_long_window: u64,
    /// Gradient2 RTT tolerance, in thousandths.
    pub gradient2_rtt_tolerance_permille: u64,
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
            random_seed: 0,
            retry_max_attempts: 1,
            retry_on_timeout: true,
            retry_on_rejected: false,
            retry_base_delay_ms: 100,
            retry_multiplier_permille: 2000,
            retry_max_delay_ms: 5000,
            retry_jitter: Jitter::Full,
            deadline_ms: 0,
            retry_budget_percent: 0,
            retry_budget_min_per_sec: 10,
            retry_budget_window_ms: 10_000,
            retry_budget_window_buckets: 10,
            rate_limit_for_period: 0,
            rate_limit_period_ms: 1000,
            rate_limit_burst: 0,
            rate_limit_timeout_ms: 0,
            hedge_max_attempts: 1,
            hedge_delay_ms: 500,
            hedge_on_failure: true,
            concurrency_limit_mode: LimitMode::Fixed,
            adaptive_initial_limit: 20,
            adaptive_min_limit: 20,
            adaptive_max_limit: 200,
            adaptive_window_ms: 1000,
            adaptive_window_min_samples: 10,
            adaptive_drop_on_failure: false,
            aimd_backoff_permille: 900,
            aimd_timeout_ms: 5000,
            gradient2_smoothing_permille: 200,
            gradient2_queue_size: 4,
            gradient2_long_window: 600,
            gradient2_rtt_tolerance_permille: 1500,
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
            health_snapshot_interval_ms,
            random_seed,
            retry_max_attempts,
            retry_on_timeout,
            retry_on_rejected,
            retry_base_delay_ms,
            retry_multiplier_permille,
            retry_max_delay_ms,
            retry_jitter,
            deadline_ms,
            retry_budget_percent,
            retry_budget_min_per_sec,
            retry_budget_window_ms,
            retry_budget_window_buckets,
            rate_limit_for_period,
            rate_limit_period_ms,
            rate_limit_burst,
            rate_limit_timeout_ms,
            hedge_max_attempts,
            hedge_delay_ms,
            hedge_on_failure,
            concurrency_limit_mode,
            adaptive_initial_limit,
            adaptive_min_limit,
            adaptive_max_limit,
            adaptive_window_ms,
            adaptive_window_min_samples,
            adaptive_drop_on_failure,
            aimd_backoff_permille,
            aimd_timeout_ms,
            gradient2_smoothing_permille,
            gradient2_queue_size,
            gradient2_long_window,
            gradient2_rtt_tolerance_permille
        }
    };
}

/// Kind of value a key takes.
#[derive(Clone, Copy)]
enum KeyType {
    Bool,
    /// Integer with its inclusive minimum and maximum.
    Int(u64, u64),
    /// One of a closed set of lower-case names.
    Name(&'static [&'static str]),
}

/// The names `retry_jitter` takes, in SPEC order.
const JITTER_NAMES: [&str; 4] =
    [Jitter::None.as_str(), Jitter::Full.as_str(), Jitter::Equal.as_str(), Jitter::Decorrelated.as_str()];

/// The names `concurrency_limit_mode` takes, in SPEC order.
const LIMIT_MODE_NAMES: [&str; 3] =
    [LimitMode::Fixed.as_str(), LimitMode::Aimd.as_str(), LimitMode::Gradient2.as_str()];

/// Every key in SPEC order, with its type and range.
const KEYS: [(&str, KeyType); 48] = [
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
    ("random_seed", KeyType::Int(0, MAX_SETTING)),
    ("retry_max_attempts", KeyType::Int(1, MAX_SETTING)),
    ("retry_on_timeout", KeyType::Bool),
    ("retry_on_rejected", KeyType::Bool),
    ("retry_base_delay_ms", KeyType::Int(0, MAX_SETTING)),
    ("retry_multiplier_permille", KeyType::Int(1000, MAX_SETTING)),
    ("retry_max_delay_ms", KeyType::Int(0, MAX_SETTING)),
    ("retry_jitter", KeyType::Name(&JITTER_NAMES)),
    ("deadline_ms", KeyType::Int(0, MAX_SETTING)),
    ("retry_budget_percent", KeyType::Int(0, 1000)),
    ("retry_budget_min_per_sec", KeyType::Int(0, 1_000_000)),
    ("retry_budget_window_ms", KeyType::Int(1, 86_400_000)),
    ("retry_budget_window_buckets", KeyType::Int(1, MAX_SETTING)),
    ("rate_limit_for_period", KeyType::Int(0, MAX_SETTING)),
    ("rate_limit_period_ms", KeyType::Int(1, MAX_SETTING)),
    ("rate_limit_burst", KeyType::Int(0, MAX_SETTING)),
    ("rate_limit_timeout_ms", KeyType::Int(0, MAX_SETTING)),
    ("hedge_max_attempts", KeyType::Int(1, MAX_SETTING)),
    ("hedge_delay_ms", KeyType::Int(0, MAX_SETTING)),
    ("hedge_on_failure", KeyType::Bool),
    ("concurrency_limit_mode", KeyType::Name(&LIMIT_MODE_NAMES)),
    ("adaptive_initial_limit", KeyType::Int(0, MAX_SETTING)),
    ("adaptive_min_limit", KeyType::Int(1, MAX_SETTING)),
    ("adaptive_max_limit", KeyType::Int(0, MAX_SETTING)),
    ("adaptive_window_ms", KeyType::Int(0, MAX_SETTING)),
    ("adaptive_window_min_samples", KeyType::Int(1, MAX_SETTING)),
    ("adaptive_drop_on_failure", KeyType::Bool),
    ("aimd_backoff_permille", KeyType::Int(500, 999)),
    ("aimd_timeout_ms", KeyType::Int(1, MAX_SETTING)),
    ("gradient2_smoothing_permille", KeyType::Int(0, 1000)),
    ("gradient2_queue_size", KeyType::Int(0, MAX_SETTING)),
    ("gradient2_long_window", KeyType::Int(1, MAX_SETTING)),
    ("gradient2_rtt_tolerance_permille", KeyType::Int(1000, MAX_SETTING)),
];

/// A setting's value, as carried by [`Config::set`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// A boolean setting.
    Bool(bool),
    /// An integer setting.
    Int(u64),
    /// A named setting (`retry_jitter`, `concurrency_limit_mode`): one of
    /// the key's lower-case names.
    Name(&'static str),
}

impl std::fmt::Display for Setting {
    /// As JSON writes it: `true`, `100`, `"aimd"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setting::Bool(b) => write!(f, "{b}"),
            Setting::Int(i) => write!(f, "{i}"),
            Setting::Name(n) => write!(f, "\"{n}\""),
        }
    }
}

/// A value a host gives for a key without JSON (the npm package: no JSON
/// parser in its wasm), for [`Config::patched_given`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Given<'a> {
    /// A boolean.
    Bool(bool),
    /// A number, with how the host shows it in an error (its JSON text).
    Number(f64, &'a str),
    /// A string.
    Text(&'a str),
    /// Anything else (null, an object...), as the host shows it.
    Other(&'a str),
}

/// Bits of [`Config::v2_features`]: which v2 features a configuration
/// turns on, so the hot path can skip all of them with one load.
pub mod feature {
    /// `retry_max_attempts` > 1.
    pub const RETRY: u32 = 1 << 0;
    /// `hedge_max_attempts` > 1.
    pub const HEDGE: u32 = 1 << 1;
    /// `rate_limit_for_period` > 0.
    pub const RATE_LIMIT: u32 = 1 << 2;
    /// `retry_budget_percent` > 0.
    pub const RETRY_BUDGET: u32 = 1 << 3;
    /// `deadline_ms` > 0.
    pub const DEADLINE: u32 = 1 << 4;
    /// `concurrency_limit_mode` is not `"fixed"`.
    pub const ADAPTIVE: u32 = 1 << 5;
}

impl Config {
    /// All configuration keys, in SPEC order.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        KEYS.iter().map(|(k, _)| *k)
    }

    /// The value of SPEC key `key`, or `None` if it is not a key.
    pub fn setting(&self, key: &str) -> Option<Setting> {
        self.setting_at(KEYS.iter().position(|(k, _)| *k == key)?)
    }

    /// The value of the key at `at` in SPEC order (the order of
    /// [`Config::keys`]), or `None` past the last key.
    pub fn setting_at(&self, at: usize) -> Option<Setting> {
        let mut copy = *self;
        let value = copy.field_mut(at)?.get();
        Some(value)
    }

    /// The SPEC key at `at` in SPEC order, or `None` past the last key.
    pub fn key_at(at: usize) -> Option<&'static str> {
        KEYS.get(at).map(|(k, _)| *k)
    }

    /// Checks every rule of SPEC §2 and §8.1; the error names the first
    /// offending key in SPEC order, then the cross-key rules in the order
    /// §8.1 lists them: `rolling_window_ms` divisible by
    /// `rolling_window_buckets` (names `rolling_window_ms`),
    /// `retry_budget_window_ms` divisible by `retry_budget_window_buckets`
    /// (names `retry_budget_window_ms`), retry and hedging not both on
    /// (names `hedge_max_attempts`), `adaptive_max_limit` ≥
    /// `adaptive_min_limit` (names `adaptive_max_limit`), then
    /// `adaptive_initial_limit` between them (names `adaptive_initial_limit`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        // The defaults break no rule (`defaults_pass_every_rule` checks them
        // the long way): most commands take them, and the checks by key
        // name cost tens of µs per command in wasm.
        if *self == Config::default() {
            return Ok(());
        }
        self.check_rules()
    }

    /// Every rule of `validate`, checked one by one.
    fn check_rules(&self) -> Result<(), ConfigError> {
        // The range of every integer, read field by field (not by key name:
        // that was most of what validating cost), in SPEC order.
        for (&(key, ty), value) in KEYS.iter().zip(self.int_fields()) {
            if let Some(v) = value {
                check_range(key, ty, v)?;
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
        if self.retry_budget_window_ms % self.retry_budget_window_buckets != 0 {
            return Err(ConfigError::new(
                "retry_budget_window_ms",
                format!(
                    "{} is not divisible by retry_budget_window_buckets ({})",
                    self.retry_budget_window_ms, self.retry_budget_window_buckets
                ),
            ));
        }
        if self.retry_max_attempts > 1 && self.hedge_max_attempts > 1 {
            return Err(ConfigError::new(
                "hedge_max_attempts",
                format!(
                    "must be 1 while retry_max_attempts is above 1 (retry and hedging cannot both be on), got {} with \
                     retry_max_attempts {}",
                    self.hedge_max_attempts, self.retry_max_attempts
                ),
            ));
        }
        if self.adaptive_max_limit < self.adaptive_min_limit {
            return Err(ConfigError::new(
                "adaptive_max_limit",
                format!(
                    "must be at least adaptive_min_limit ({}), got {}",
                    self.adaptive_min_limit, self.adaptive_max_limit
                ),
            ));
        }
        if !(self.adaptive_min_limit..=self.adaptive_max_limit).contains(&self.adaptive_initial_limit) {
            return Err(ConfigError::new(
                "adaptive_initial_limit",
                format!(
                    "must be from adaptive_min_limit ({}) to adaptive_max_limit ({}), got {}",
                    self.adaptive_min_limit, self.adaptive_max_limit, self.adaptive_initial_limit
                ),
            ));
        }
        Ok(())
    }

    /// Which v2 features this configuration turns on, as [`feature`] bits
    /// (`0`: it behaves exactly as a v1 configuration).
    #[inline]
    pub fn v2_features(&self) -> u32 {
        let mut bits = 0;
        if self.retry_max_attempts > 1 {
            bits |= feature::RETRY;
        }
        if self.hedge_max_attempts > 1 {
            bits |= feature::HEDGE;
        }
        if self.rate_limit_for_period > 0 {
            bits |= feature::RATE_LIMIT;
        }
        if self.retry_budget_percent > 0 {
            bits |= feature::RETRY_BUDGET;
        }
        if self.deadline_ms > 0 {
            bits |= feature::DEADLINE;
        }
        if self.concurrency_limit_mode != LimitMode::Fixed {
            bits |= feature::ADAPTIVE;
        }
        bits
    }

    /// Every key in SPEC order as a JSON array of objects: `name`, `type`
    /// (`"bool"`, `"int"` or `"name"`), `default`, and `min` and `max` for
    /// integers or `values` for named keys. The one description of the keys
    /// the bindings' own lists are checked against.
    pub fn schema_json() -> String {
        let defaults = serde_json::to_value(Config::default()).expect("a Config always serialises");
        let entries: Vec<Value> = KEYS
            .iter()
            .map(|&(name, ty)| {
                let mut entry = Map::new();
                entry.insert("name".into(), Value::from(name));
                match ty {
                    KeyType::Bool => {
                        entry.insert("type".into(), Value::from("bool"));
                    }
                    KeyType::Int(min, max) => {
                        entry.insert("type".into(), Value::from("int"));
                        entry.insert("min".into(), Value::from(min));
                        entry.insert("max".into(), Value::from(max));
                    }
                    KeyType::Name(values) => {
                        entry.insert("type".into(), Value::from("name"));
                        entry.insert("values".into(), Value::from(values.to_vec()));
                    }
                }
                entry.insert("default".into(), defaults[name].clone());
                Value::Object(entry)
            })
            .collect();
        Value::Array(entries).to_string()
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
    /// wrong type or is out of range, then the cross-key rules in the order
    /// [`Config::validate`] gives — one rule
    /// every binding follows, as they all parse through here.
    pub fn patched(&self, patch: &Value) -> Result<Config, ConfigError> {
        let map: &Map<String, Value> =
            patch.as_object().ok_or_else(|| ConfigError::new("config", "must be a JSON object".to_string()))?;
        if let Some(unknown) = map.keys().filter(|k| key_type(k).is_err()).min() {
            return Err(ConfigError::new(unknown, "is not a configuration key".into()));
        }
        // Each given value at its key's place in SPEC order: a patch names
        // a few keys, and looking each of the 48 up in it cost more than
        // the rest of the patch.
        let mut given: [Option<&Value>; KEYS.len()] = [None; KEYS.len()];
        for (key, value) in map {
            if let Some(at) = KEYS.iter().position(|(k, _)| *k == key.as_str()) {
                given[at] = Some(value);
            }
        }
        let mut next = *self;
        for (at, (&(key, ty), value)) in KEYS.iter().zip(given).enumerate() {
            let Some(value) = value else { continue };
            let setting = parse_setting(key, value)?;
            if let Setting::Int(v) = setting {
                check_range(key, ty, v)?;
            }
            next.set_at(at, setting)?;
        }
        next.validate()?;
        Ok(next)
    }

    /// [`Config::patched`] for a host that parses no JSON: the same rules
    /// and the same key named when several are wrong (the first unknown
    /// key by name, then SPEC order, then the cross-key rules), with each
    /// value as the host gives it. A number is an integer setting if it is
    /// whole and non-negative, as a JSON number is.
    pub fn patched_given(&self, patch: &[(&str, Given<'_>)]) -> Result<Config, ConfigError> {
        if let Some(unknown) = patch.iter().map(|(k, _)| *k).filter(|k| key_type(k).is_err()).min() {
            return Err(ConfigError::new(unknown, "is not a configuration key".into()));
        }
        let at = |key: &str| KEYS.iter().position(|(k, _)| *k == key).unwrap_or(KEYS.len());
        let by_place: Vec<(usize, Given<'_>)> = patch.iter().map(|&(key, value)| (at(key), value)).collect();
        self.patched_at(&by_place)
    }

    /// [`Config::patched_given`] with each key given by its place in SPEC
    /// order (the order of [`Config::keys`]) instead of its name: for a
    /// host that knows the keys' order (the npm package, whose glue names
    /// unknown options itself), so that no key name is looked up. The same
    /// rules and errors; a place past the last key is refused as naming
    /// no key (`config`).
    pub fn patched_at(&self, patch: &[(usize, Given<'_>)]) -> Result<Config, ConfigError> {
        if patch.iter().any(|(at, _)| *at >= KEYS.len()) {
            return Err(ConfigError::new("config", "names a key past the last one".into()));
        }
        let mut next = *self;
        for (at, (key, ty)) in KEYS.into_iter().enumerate() {
            // The last of a repeated key wins, as in a JSON object.
            let Some((_, value)) = patch.iter().rev().find(|(a, _)| *a == at) else { continue };
            let setting = given_setting(key, ty, *value)?;
            if let Setting::Int(v) = setting {
                check_range(key, ty, v)?;
            }
            next.set_at(at, setting)?;
        }
        next.validate()?;
        Ok(next)
    }

    /// Sets one key without validating the whole configuration; the error
    /// names the key when it is unknown or the value has the wrong type.
    pub fn set(&mut self, key: &str, value: Setting) -> Result<(), ConfigError> {
        match KEYS.iter().position(|(k, _)| *k == key) {
            Some(at) => self.set_at(at, value),
            None => Err(ConfigError::new(key, "is not a configuration key".into())),
        }
    }

    /// [`Config::set`] for the key at `at` in SPEC order.
    fn set_at(&mut self, at: usize, value: Setting) -> Result<(), ConfigError> {
        let (key, ty) = KEYS[at];
        let names = match ty {
            KeyType::Name(names) => names,
            _ => &[],
        };
        let unknown = |name: &str| ConfigError::new(key, format!("{}, got \"{name}\"", one_of(names)));
        match (self.field_mut(at), value) {
            (Some(FieldMut::Bool(field)), Setting::Bool(b)) => *field = b,
            (Some(FieldMut::Int(field)), Setting::Int(i)) => *field = i,
            (Some(FieldMut::Jitter(field)), Setting::Name(name)) => {
                *field = Jitter::parse(name).ok_or_else(|| unknown(name))?;
            }
            (Some(FieldMut::Mode(field)), Setting::Name(name)) => {
                *field = LimitMode::parse(name).ok_or_else(|| unknown(name))?;
            }
            (Some(FieldMut::Bool(_)), _) => return Err(ConfigError::new(key, "must be a boolean".into())),
            (Some(FieldMut::Int(_)), _) => return Err(ConfigError::new(key, "must be an integer".into())),
            _ => return Err(ConfigError::new(key, one_of(names))),
        }
        Ok(())
    }

    /// The configuration as a JSON object with every key.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Config always serialises")
    }

    /// Bucket length in milliseconds.
    pub fn bucket_ms(&self) -> u64 {
        self.rolling_window_ms / self.rolling_window_buckets
    }

    /// Every field's value if it is an integer, in SPEC order (the order
    /// of [`KEYS`]: `validate_checks_every_integer_field_under_its_own_key`
    /// checks that the two agree).
    fn int_fields(&self) -> [Option<u64>; KEYS.len()] {
        macro_rules! int_fields {
            ($($f:ident),*) => {
                |c: &Config| [$(c.$f.int()),*]
            };
        }
        (crate::for_each_config_field!(int_fields))(self)
    }
}

/// What the range rules read of a [`Config`] field: its value if it is an integer.
trait FieldValue {
    fn int(&self) -> Option<u64>;
}

impl FieldValue for u64 {
    fn int(&self) -> Option<u64> {
        Some(*self)
    }
}

impl FieldValue for bool {
    fn int(&self) -> Option<u64> {
        None
    }
}

impl FieldValue for Jitter {
    fn int(&self) -> Option<u64> {
        None
    }
}

impl FieldValue for LimitMode {
    fn int(&self) -> Option<u64> {
        None
    }
}

/// `must be one of "a", "b" or "c"` (`must be "a"` for one name). Pieces
/// pushed, not formatted: no `format!` or joins of its own in the wasm.
fn one_of(values: &[&str]) -> String {
    let mut out = String::from(if values.len() > 1 { "must be one of " } else { "must be " });
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == values.len() { " or " } else { ", " });
        }
        out.push('"');
        out.push_str(v);
        out.push('"');
    }
    out
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
        KeyType::Name(values) => value
            .as_str()
            .and_then(|s| values.iter().find(|v| **v == s))
            .map(|v| Setting::Name(v))
            .ok_or_else(|| ConfigError::new(key, format!("{}, got {value}", one_of(values)))),
    }
}

/// `parse_setting` for a [`Given`] value: the same errors, shown as the host shows the value.
fn given_setting(key: &str, ty: KeyType, value: Given<'_>) -> Result<Setting, ConfigError> {
    let shown = || match value {
        Given::Bool(b) => b.to_string(),
        Given::Number(_, shown) | Given::Other(shown) => shown.to_string(),
        Given::Text(t) => format!("\"{t}\""),
    };
    match (ty, value) {
        (KeyType::Bool, Given::Bool(b)) => Ok(Setting::Bool(b)),
        (KeyType::Bool, _) => Err(ConfigError::new(key, format!("must be a boolean, got {}", shown()))),
        (KeyType::Int(..), Given::Number(f, _)) if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => {
            Ok(Setting::Int(f as u64))
        }
        (KeyType::Int(..), _) => Err(ConfigError::new(key, format!("must be a non-negative integer, got {}", shown()))),
        (KeyType::Name(values), Given::Text(t)) if values.contains(&t) => {
            Ok(Setting::Name(values.iter().find(|v| **v == t).copied().unwrap_or_default()))
        }
        (KeyType::Name(values), _) => Err(ConfigError::new(key, format!("{}, got {}", one_of(values), shown()))),
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
    fn patched_given_agrees_with_patched() {
        let base = Config::default();
        let cases: Vec<(Value, Vec<(&str, Given)>)> = vec![
            (
                json!({"timeout_ms": 250, "force_open": true}),
                vec![("timeout_ms", Given::Number(250.0, "250")), ("force_open", Given::Bool(true))],
            ),
            (
                json!({"retry_jitter": "full", "retry_max_attempts": 3}),
                vec![("retry_jitter", Given::Text("full")), ("retry_max_attempts", Given::Number(3.0, "3"))],
            ),
            (json!({"timeout_ms": 5.0}), vec![("timeout_ms", Given::Number(5.0, "5"))]),
            (
                json!({"zzz": 1, "aaa": 2, "timeout_ms": -1}),
                vec![
                    ("zzz", Given::Number(1.0, "1")),
                    ("aaa", Given::Number(2.0, "2")),
                    ("timeout_ms", Given::Number(-1.0, "-1")),
                ],
            ),
            (json!({"timeout_ms": -1}), vec![("timeout_ms", Given::Number(-1.0, "-1"))]),
            (json!({"timeout_ms": 5.5}), vec![("timeout_ms", Given::Number(5.5, "5.5"))]),
            (
                json!({"timeout_ms": 9007199254740992u64}),
                vec![("timeout_ms", Given::Number(9007199254740992.0, "9007199254740992"))],
            ),
            (json!({"sleep_window_ms": null}), vec![("sleep_window_ms", Given::Other("null"))]),
            (json!({"force_open": 1}), vec![("force_open", Given::Number(1.0, "1"))]),
            (json!({"retry_jitter": "fast"}), vec![("retry_jitter", Given::Text("fast"))]),
            (json!({"retry_jitter": 3}), vec![("retry_jitter", Given::Number(3.0, "3"))]),
            (json!({"rolling_window_buckets": 7}), vec![("rolling_window_buckets", Given::Number(7.0, "7"))]),
            (
                json!({"hedge_max_attempts": 2, "retry_max_attempts": 2}),
                vec![("hedge_max_attempts", Given::Number(2.0, "2")), ("retry_max_attempts", Given::Number(2.0, "2"))],
            ),
        ];
        for (value, given) in cases {
            let want = base.patched(&value).map_err(|e| (e.key().to_string(), e.to_string()));
            let got = base.patched_given(&given).map_err(|e| (e.key().to_string(), e.to_string()));
            assert_eq!(got, want, "{value}");
            // By place: the same, once every key is known.
            if given.iter().all(|(k, _)| Config::keys().any(|key| key == *k)) {
                let place = |k: &str| Config::keys().position(|key| key == k).unwrap();
                let at: Vec<(usize, Given)> = given.iter().map(|&(k, v)| (place(k), v)).collect();
                let got = base.patched_at(&at).map_err(|e| (e.key().to_string(), e.to_string()));
                assert_eq!(got, want, "{value} by place");
            }
        }
    }

    #[test]
    fn patched_at_reads_places_in_spec_order_and_refuses_one_past_the_last() {
        let base = Config::default();
        // The last of a repeated place wins; each place sets its own key.
        let at = [(1, Given::Number(5.0, "")), (10, Given::Bool(true)), (1, Given::Number(7.0, ""))];
        let want = base.patched(&json!({"timeout_ms": 7, "force_open": true})).unwrap();
        assert_eq!(base.patched_at(&at), Ok(want));
        for (i, key) in Config::keys().enumerate() {
            assert_eq!(Config::key_at(i), Some(key));
            assert_eq!(base.setting_at(i), base.setting(key));
        }
        assert_eq!(Config::key_at(KEYS.len()), None);
        assert_eq!(base.setting_at(KEYS.len()), None);
        let err = base.patched_at(&[(KEYS.len(), Given::Bool(true))]).unwrap_err();
        assert_eq!(
            (err.key(), err.to_string().as_str()),
            ("config", "invalid config: config names a key past the last one")
        );
    }

    #[test]
    fn defaults_pass_every_rule() {
        // `validate` takes the defaults on trust; here every rule sees them.
        Config::default().check_rules().unwrap();
        assert!(Config { rolling_window_buckets: 7, ..Config::default() }.validate().is_err());
    }

    #[test]
    fn validate_checks_every_integer_field_under_its_own_key() {
        // `check_rules` reads the fields in `for_each_config_field!` order
        // and names them from `KEYS`: the two must agree key by key.
        macro_rules! names {
            ($($f:ident),*) => {
                [$(stringify!($f)),*]
            };
        }
        let names: [&str; KEYS.len()] = crate::for_each_config_field!(names);
        assert_eq!(names, KEYS.map(|(key, _)| key));
        let mut checked = 0;
        for (key, ty) in KEYS {
            let KeyType::Int(min, max) = ty else { continue };
            for bad in [min.checked_sub(1), max.checked_add(1)].into_iter().flatten() {
                let mut c = Config::default();
                c.set(key, Setting::Int(bad)).unwrap();
                let err = c.validate().unwrap_err();
                assert_eq!(err.key(), key, "{err}");
                checked += 1;
            }
        }
        assert!(checked >= 37, "every integer key is checked at least once, got {checked}");
    }

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
    fn one_of_lists_the_names_quoted_the_last_after_or() {
        assert_eq!(one_of(&JITTER_NAMES), r#"must be one of "none", "full", "equal" or "decorrelated""#);
        assert_eq!(one_of(&["a", "b"]), r#"must be one of "a" or "b""#);
        assert_eq!(one_of(&["a"]), r#"must be "a""#);
        assert_eq!(one_of(&[]), "must be ");
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

    #[test]
    fn v2_defaults_are_the_spec_defaults_and_turn_nothing_on() {
        let c = Config::default();
        assert_eq!((c.random_seed, c.retry_max_attempts, c.retry_base_delay_ms), (0, 1, 100));
        assert_eq!((c.retry_multiplier_permille, c.retry_max_delay_ms, c.deadline_ms), (2000, 5000, 0));
        assert!(c.retry_on_timeout && !c.retry_on_rejected && c.hedge_on_failure && !c.adaptive_drop_on_failure);
        assert_eq!(c.retry_jitter, Jitter::Full);
        assert_eq!(c.concurrency_limit_mode, LimitMode::Fixed);
        assert_eq!((c.retry_budget_percent, c.retry_budget_min_per_sec), (0, 10));
        assert_eq!((c.retry_budget_window_ms, c.retry_budget_window_buckets), (10_000, 10));
        assert_eq!(
            (c.rate_limit_for_period, c.rate_limit_period_ms, c.rate_limit_burst, c.rate_limit_timeout_ms),
            (0, 1000, 0, 0)
        );
        assert_eq!((c.hedge_max_attempts, c.hedge_delay_ms), (1, 500));
        assert_eq!((c.adaptive_initial_limit, c.adaptive_min_limit, c.adaptive_max_limit), (20, 20, 200));
        assert_eq!((c.adaptive_window_ms, c.adaptive_window_min_samples), (1000, 10));
        assert_eq!((c.aimd_backoff_permille, c.aimd_timeout_ms), (900, 5000));
        assert_eq!((c.gradient2_smoothing_permille, c.gradient2_queue_size), (200, 4));
        assert_eq!((c.gradient2_long_window, c.gradient2_rtt_tolerance_permille), (600, 1500));
        assert_eq!(c.v2_features(), 0);
        assert_eq!(Config::keys().count(), 48);
    }

    #[test]
    fn to_json_writes_every_key_with_lowercase_names_and_reads_back() {
        let c = Config::from_value(&json!({"retry_jitter": "decorrelated", "concurrency_limit_mode": "gradient2"}))
            .unwrap();
        let v: Value = serde_json::from_str(&c.to_json()).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 48);
        assert!(Config::keys().all(|k| obj.contains_key(k)));
        assert_eq!(v["retry_jitter"], "decorrelated");
        assert_eq!(v["concurrency_limit_mode"], "gradient2");
        assert_eq!(Config::from_json(&c.to_json()).unwrap(), c);
    }

    #[test]
    fn named_keys_take_exactly_their_lower_case_names() {
        for j in Jitter::ALL {
            assert_eq!(Config::from_value(&json!({"retry_jitter": j.as_str()})).unwrap().retry_jitter, j);
        }
        for m in LimitMode::ALL {
            let c = Config::from_value(&json!({"concurrency_limit_mode": m.as_str()})).unwrap();
            assert_eq!(c.concurrency_limit_mode, m);
        }
        for (key, bad) in [
            ("retry_jitter", json!("FULL")),
            ("retry_jitter", json!("Full")),
            ("retry_jitter", json!(" full")),
            ("retry_jitter", json!(1)),
            ("retry_jitter", json!(null)),
            ("retry_jitter", json!(true)),
            ("concurrency_limit_mode", json!("gradient")),
            ("concurrency_limit_mode", json!("")),
            ("concurrency_limit_mode", json!(["fixed"])),
        ] {
            let err = Config::from_value(&json!({ key: bad })).unwrap_err();
            assert_eq!(err.key(), key, "{err}");
            assert!(err.reason().starts_with("must be one of \""), "{err}");
        }
        let err = Config::from_value(&json!({"retry_jitter": "x"})).unwrap_err();
        assert_eq!(err.reason(), r#"must be one of "none", "full", "equal" or "decorrelated", got "x""#);
        let mut c = Config::default();
        c.set("retry_jitter", Setting::Name("equal")).unwrap();
        assert_eq!(c.retry_jitter, Jitter::Equal);
        assert_eq!(c.set("retry_jitter", Setting::Name("fixed")).unwrap_err().key(), "retry_jitter");
        assert_eq!(c.set("concurrency_limit_mode", Setting::Int(1)).unwrap_err().key(), "concurrency_limit_mode");
        assert_eq!(c.set("retry_max_attempts", Setting::Name("full")).unwrap_err().key(), "retry_max_attempts");
    }

    #[test]
    fn each_v2_range_rule_names_its_key_and_its_bounds_are_inclusive() {
        for (key, bad, good) in [
            ("retry_max_attempts", json!(0), json!(1)),
            ("hedge_max_attempts", json!(0), json!(1)),
            ("retry_budget_window_buckets", json!(0), json!(1)),
            ("rate_limit_period_ms", json!(0), json!(1)),
            ("adaptive_min_limit", json!(0), json!(1)),
            ("adaptive_window_min_samples", json!(0), json!(1)),
            ("aimd_timeout_ms", json!(0), json!(1)),
            ("gradient2_long_window", json!(0), json!(1)),
            ("retry_multiplier_permille", json!(999), json!(1000)),
            ("gradient2_rtt_tolerance_permille", json!(999), json!(1000)),
            ("retry_budget_percent", json!(1001), json!(1000)),
            ("gradient2_smoothing_permille", json!(1001), json!(1000)),
            ("aimd_backoff_permille", json!(499), json!(500)),
            ("aimd_backoff_permille", json!(1000), json!(999)),
            ("retry_budget_min_per_sec", json!(1_000_001), json!(1_000_000)),
            ("retry_budget_window_ms", json!(0), json!(10)),
            ("retry_budget_window_ms", json!(86_400_001), json!(86_400_000)),
            ("random_seed", json!(MAX_SETTING + 1), json!(MAX_SETTING)),
            ("deadline_ms", json!(MAX_SETTING + 1), json!(0)),
            ("rate_limit_burst", json!(-1), json!(0)),
            ("hedge_delay_ms", json!(1.5), json!(0.0)),
            ("retry_on_timeout", json!(0), json!(false)),
            ("adaptive_drop_on_failure", json!("true"), json!(true)),
        ] {
            let err = Config::from_value(&json!({ key: bad })).unwrap_err();
            assert_eq!(err.key(), key, "{err}");
            Config::from_value(&json!({ key: good })).unwrap_or_else(|e| panic!("{key}={good}: {e}"));
        }
        // The keys with no rule of their own take 0 and the largest integer.
        for key in [
            "random_seed",
            "retry_base_delay_ms",
            "retry_max_delay_ms",
            "deadline_ms",
            "rate_limit_for_period",
            "rate_limit_burst",
            "rate_limit_timeout_ms",
            "hedge_delay_ms",
            "adaptive_window_ms",
            "gradient2_queue_size",
        ] {
            Config::from_value(&json!({ key: 0 })).unwrap();
            Config::from_value(&json!({ key: MAX_SETTING })).unwrap();
        }
    }

    #[test]
    fn v2_cross_key_rules_name_the_spec_key() {
        let named = |v: Value| Config::from_value(&v).unwrap_err().key().to_string();
        assert_eq!(named(json!({"retry_budget_window_buckets": 3})), "retry_budget_window_ms");
        assert_eq!(named(json!({"retry_budget_window_ms": 1001})), "retry_budget_window_ms");
        Config::from_value(&json!({"retry_budget_window_ms": 9, "retry_budget_window_buckets": 3})).unwrap();
        assert_eq!(named(json!({"retry_max_attempts": 2, "hedge_max_attempts": 2})), "hedge_max_attempts");
        Config::from_value(&json!({"retry_max_attempts": 3})).unwrap();
        Config::from_value(&json!({"hedge_max_attempts": 3})).unwrap();
        // max ≥ min, in every mode, fixed included.
        assert_eq!(named(json!({"adaptive_max_limit": 19})), "adaptive_max_limit");
        assert_eq!(named(json!({"adaptive_min_limit": 201, "concurrency_limit_mode": "aimd"})), "adaptive_max_limit");
        // initial within [min, max].
        assert_eq!(named(json!({"adaptive_initial_limit": 19})), "adaptive_initial_limit");
        assert_eq!(named(json!({"adaptive_initial_limit": 201})), "adaptive_initial_limit");
        assert_eq!(named(json!({"adaptive_initial_limit": 0})), "adaptive_initial_limit");
        Config::from_value(&json!({"adaptive_initial_limit": 200})).unwrap();
        Config::from_value(&json!({"adaptive_min_limit": 1, "adaptive_initial_limit": 1, "adaptive_max_limit": 1}))
            .unwrap();
        // A live change is checked against the values in force.
        let c = Config::from_value(&json!({"retry_max_attempts": 2})).unwrap();
        assert_eq!(c.patched(&json!({"hedge_max_attempts": 2})).unwrap_err().key(), "hedge_max_attempts");
        c.patched(&json!({"hedge_max_attempts": 2, "retry_max_attempts": 1})).unwrap();
    }

    #[test]
    fn v2_error_order_unknown_then_per_key_in_spec_order_then_cross_key_in_spec_order() {
        let named = |v: Value| Config::from_value(&v).unwrap_err().key().to_string();
        // Unknown keys first.
        assert_eq!(named(json!({"retry_max_attempts": 0, "retryMaxAttempts": 2})), "retryMaxAttempts");
        // Per-key rules in SPEC order: a v1 key before every v2 key, v2 keys in table order.
        assert_eq!(named(json!({"gradient2_long_window": 0, "timeout_ms": 0})), "timeout_ms");
        assert_eq!(named(json!({"aimd_backoff_permille": 1, "retry_jitter": "x"})), "retry_jitter");
        assert_eq!(named(json!({"concurrency_limit_mode": 1, "random_seed": -1})), "random_seed");
        assert_eq!(named(json!({"hedge_on_failure": 1, "rate_limit_period_ms": 0})), "rate_limit_period_ms");
        // Every per-key rule before any cross-key rule.
        assert_eq!(
            named(json!({"rolling_window_ms": 1001, "retry_max_attempts": 2, "hedge_max_attempts": 2,
                "gradient2_rtt_tolerance_permille": 1})),
            "gradient2_rtt_tolerance_permille"
        );
        // Cross-key rules in §8.1's order, v1's divisibility first.
        let all_cross = json!({"rolling_window_ms": 1001, "retry_budget_window_ms": 1001, "retry_max_attempts": 2,
            "hedge_max_attempts": 2, "adaptive_max_limit": 10, "adaptive_initial_limit": 300});
        assert_eq!(named(all_cross.clone()), "rolling_window_ms");
        let mut v = all_cross;
        v["rolling_window_ms"] = json!(1000);
        assert_eq!(named(v.clone()), "retry_budget_window_ms");
        v["retry_budget_window_ms"] = json!(1000);
        assert_eq!(named(v.clone()), "hedge_max_attempts");
        v["hedge_max_attempts"] = json!(1);
        assert_eq!(named(v.clone()), "adaptive_max_limit");
        v["adaptive_max_limit"] = json!(250);
        assert_eq!(named(v.clone()), "adaptive_initial_limit");
        v["adaptive_initial_limit"] = json!(250);
        Config::from_value(&v).unwrap();
    }

    #[test]
    fn v2_features_has_one_bit_per_feature() {
        let f = |v: Value| Config::from_value(&v).unwrap().v2_features();
        assert_eq!(f(json!({"retry_max_attempts": 2})), feature::RETRY);
        assert_eq!(f(json!({"hedge_max_attempts": 2})), feature::HEDGE);
        assert_eq!(f(json!({"rate_limit_for_period": 1})), feature::RATE_LIMIT);
        assert_eq!(f(json!({"retry_budget_percent": 1})), feature::RETRY_BUDGET);
        assert_eq!(f(json!({"deadline_ms": 1})), feature::DEADLINE);
        assert_eq!(f(json!({"concurrency_limit_mode": "aimd"})), feature::ADAPTIVE);
        assert_eq!(f(json!({"concurrency_limit_mode": "gradient2"})), feature::ADAPTIVE);
        // Keys that only tune a feature turn nothing on.
        assert_eq!(f(json!({"random_seed": 7, "retry_jitter": "none", "hedge_delay_ms": 0, "rate_limit_burst": 5})), 0);
        assert_eq!(
            f(json!({"retry_max_attempts": 3, "rate_limit_for_period": 5, "retry_budget_percent": 10,
                "deadline_ms": 100, "concurrency_limit_mode": "aimd"})),
            feature::RETRY | feature::RATE_LIMIT | feature::RETRY_BUDGET | feature::DEADLINE | feature::ADAPTIVE
        );
    }

    #[test]
    fn live_config_mirrors_every_field_and_the_feature_bits() {
        use crate::live_config::LiveConfig;
        let a = Config::default();
        let live = LiveConfig::new(&a);
        assert_eq!(live.load(), a);
        assert_eq!(live.v2_features(), 0);
        let b = Config::from_value(&json!({"retry_jitter": "decorrelated", "concurrency_limit_mode": "gradient2",
            "retry_max_attempts": 4, "deadline_ms": 9, "gradient2_queue_size": 3, "adaptive_drop_on_failure": true}))
        .unwrap();
        live.store(&b);
        assert_eq!(live.load(), b);
        assert_eq!(live.v2_features(), b.v2_features());
        assert_eq!(live.v2_features(), feature::RETRY | feature::DEADLINE | feature::ADAPTIVE);
        live.store(&a);
        assert_eq!(live.v2_features(), 0);
    }

    #[test]
    fn schema_lists_every_key_in_spec_order_with_defaults_and_bounds() {
        let schema: Value = serde_json::from_str(&Config::schema_json()).unwrap();
        let entries = schema.as_array().unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names, Config::keys().collect::<Vec<_>>());
        let defaults: Value = serde_json::from_str(&Config::default().to_json()).unwrap();
        for e in entries {
            let name = e["name"].as_str().unwrap();
            assert_eq!(e["default"], defaults[name], "{name}");
            match e["type"].as_str().unwrap() {
                "bool" => assert!(e["default"].is_boolean()),
                "int" => {
                    let (min, max) = (e["min"].as_u64().unwrap(), e["max"].as_u64().unwrap());
                    Config::from_value(&json!({ name: min }))
                        .map(|_| ())
                        .or_else(|err| {
                            // Only a cross-key rule may refuse a bound.
                            assert!(
                                err.key() != name || name.starts_with("adaptive") || name.ends_with("window_ms"),
                                "{err}"
                            );
                            Ok::<(), ()>(())
                        })
                        .unwrap();
                    if min > 0 {
                        assert_eq!(Config::from_value(&json!({ name: min - 1 })).unwrap_err().key(), name);
                    }
                    assert_eq!(Config::from_value(&json!({ name: max + 1 })).unwrap_err().key(), name);
                }
                "name" => {
                    for v in e["values"].as_array().unwrap() {
                        Config::from_value(&json!({ name: v })).unwrap();
                    }
                }
                other => panic!("type {other}"),
            }
        }
        assert_eq!(entries[0]["name"], "timeout_enabled");
        assert_eq!(entries[22]["values"], json!(["none", "full", "equal", "decorrelated"]));
        assert_eq!(entries[22]["default"], "full");
        assert_eq!(entries[35]["name"], "concurrency_limit_mode");
        assert_eq!(entries[35]["values"], json!(["fixed", "aimd", "gradient2"]));
    }
}
