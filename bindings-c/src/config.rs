//! `hystrix_config`: the SPEC settings as a plain C struct, its defaults,
//! JSON parsing, and conversion to the core's validated `Config`.

use crate::status::{boundary, hystrix_status, write_out, Fail};
use hystrix_core::{Config, ConfigError};
use std::ffi::{c_char, CStr};

/// A boolean field of a struct the program fills in: `0` (false) or `1`
/// (true); `false` and `true` from `<stdbool.h>` are exactly these. It is a
/// byte rather than `bool` so that any other value (an uninitialised or
/// corrupted field) is caught: it is refused with `HYSTRIX_INVALID_CONFIG`
/// naming the field.
pub type hystrix_bool = u8;

/// Every SPEC §2 setting. Get one filled with the Hystrix defaults from
/// `hystrix_config_default` (or `hystrix_config_from_json`), change fields,
/// and pass it by pointer; the library copies it and validates it. Its
/// booleans are `hystrix_bool` bytes: `true`/`false` (1/0), nothing else.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hystrix_config {
    /// Whether runs are timed out.
    pub timeout_enabled: hystrix_bool,
    /// A run still going after this many milliseconds is timed out (≥ 1).
    pub timeout_ms: u64,
    /// Bulkhead: runs allowed in flight at once (≥ 1).
    pub max_concurrent_requests: u64,
    /// Whether a fallback is ever invoked.
    pub fallback_enabled: hystrix_bool,
    /// Fallbacks allowed in flight at once (≥ 1).
    pub fallback_max_concurrent_requests: u64,
    /// `false`: the circuit never short-circuits and never trips.
    pub circuit_breaker_enabled: hystrix_bool,
    /// Health total needed before the circuit may trip.
    pub request_volume_threshold: u64,
    /// Trip when the error percentage is at least this (0..100).
    pub error_threshold_percentage: u64,
    /// How long an open circuit rejects before probing (≥ 1).
    pub sleep_window_ms: u64,
    /// Probes admitted per half-open episode (≥ 1).
    pub half_open_max_calls: u64,
    /// Short-circuit everything; wins over `force_closed`.
    pub force_open: hystrix_bool,
    /// Admit everything and never trip.
    pub force_closed: hystrix_bool,
    /// Length of the rolling statistics window (≥ 1).
    pub rolling_window_ms: u64,
    /// Buckets in that window; must divide `rolling_window_ms`.
    pub rolling_window_buckets: u64,
    /// How stale the health counts used for decisions may be; 0 = always fresh.
    pub health_snapshot_interval_ms: u64,
}

/// How one field crosses between the core's `Config` and `hystrix_config`:
/// integers as they are, booleans as checked bytes.
trait CField: Sized {
    type C;
    fn to_c(self) -> Self::C;
    fn from_c(c: Self::C, field: &str) -> Result<Self, ConfigError>;
}

impl CField for u64 {
    type C = u64;
    fn to_c(self) -> u64 {
        self
    }
    fn from_c(c: u64, _field: &str) -> Result<u64, ConfigError> {
        Ok(c)
    }
}

impl CField for bool {
    type C = hystrix_bool;
    fn to_c(self) -> hystrix_bool {
        hystrix_bool::from(self)
    }
    fn from_c(c: hystrix_bool, field: &str) -> Result<bool, ConfigError> {
        match c {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(ConfigError::new(field, format!("must be 0 (false) or 1 (true), got {other}"))),
        }
    }
}

/// Converts between the two structs, which have the same fields; from C,
/// every boolean byte is checked.
macro_rules! both_ways {
    ($($f:ident),*) => {
        impl From<Config> for hystrix_config {
            fn from(c: Config) -> Self {
                hystrix_config { $($f: CField::to_c(c.$f)),* }
            }
        }

        fn config_from_c(c: &hystrix_config) -> Result<Config, ConfigError> {
            Ok(Config { $($f: CField::from_c(c.$f, stringify!($f))?),* })
        }
    };
}

hystrix_core::for_each_config_field!(both_ways);

/// The failure for a refused configuration, naming the key.
pub(crate) fn config_fail(e: ConfigError) -> Fail {
    Fail::new(hystrix_status::HYSTRIX_INVALID_CONFIG, e.to_string())
}

/// Reads and validates a `hystrix_config` the caller passed.
pub(crate) fn read_config(config: *const hystrix_config) -> Result<Config, Fail> {
    if config.is_null() {
        return Err(Fail::null("config"));
    }
    // SAFETY: non-NULL; the caller promises a `hystrix_config` it wrote;
    // every field is an integer, so any bytes are a valid value to read.
    let c = config_from_c(unsafe { &*config }).map_err(config_fail)?;
    c.validate().map_err(config_fail)?;
    Ok(c)
}

/// Reads a NUL-terminated UTF-8 string argument.
pub(crate) fn read_str<'a>(s: *const c_char, what: &str) -> Result<&'a str, Fail> {
    if s.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL; the caller promises a NUL-terminated string.
    unsafe { CStr::from_ptr(s) }.to_str().map_err(|_| Fail::invalid(format!("{what} is not valid UTF-8")))
}

/// Writes the Hystrix defaults (SPEC §2) to `out`.
/// Returns `HYSTRIX_NULL_ARGUMENT` if `out` is NULL.
#[no_mangle]
pub extern "C" fn hystrix_config_default(out: *mut hystrix_config) -> hystrix_status {
    boundary("hystrix_config_default", || {
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        write_out(out, Config::default().into());
        Ok(())
    })
}

/// Parses a JSON object of SPEC keys (snake_case, all optional, defaults for
/// the rest) into `out`, with the same validation as every binding.
/// Returns `HYSTRIX_INVALID_CONFIG` naming the offending key (unknown key,
/// wrong type, out of range), or `HYSTRIX_NULL_ARGUMENT`/`HYSTRIX_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn hystrix_config_from_json(json: *const c_char, out: *mut hystrix_config) -> hystrix_status {
    boundary("hystrix_config_from_json", || {
        let text = read_str(json, "json")?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        let config = Config::from_json(text).map_err(config_fail)?;
        write_out(out, config.into());
        Ok(())
    })
}

/// Checks a configuration without using it. Returns `HYSTRIX_OK` or
/// `HYSTRIX_INVALID_CONFIG` naming the first offending key.
#[no_mangle]
pub extern "C" fn hystrix_config_validate(config: *const hystrix_config) -> hystrix_status {
    boundary("hystrix_config_validate", || read_config(config).map(|_| ()))
}
