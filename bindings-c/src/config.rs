//! `hystrix_config`: the SPEC settings as a plain C struct, its defaults,
//! JSON parsing, and conversion to the core's validated `Config`.

use crate::status::{boundary, hystrix_status, write_out, Fail};
use hystrix_core::{Config, ConfigError};
use std::ffi::{c_char, CStr};

/// Every SPEC §2 setting. Get one filled with the Hystrix defaults from
/// `hystrix_config_default` (or `hystrix_config_from_json`), change fields,
/// and pass it by pointer; the library copies it and validates it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hystrix_config {
    /// Whether runs are timed out.
    pub timeout_enabled: bool,
    /// A run still going after this many milliseconds is timed out (≥ 1).
    pub timeout_ms: u64,
    /// Bulkhead: runs allowed in flight at once (≥ 1).
    pub max_concurrent_requests: u64,
    /// Whether a fallback is ever invoked.
    pub fallback_enabled: bool,
    /// Fallbacks allowed in flight at once (≥ 1).
    pub fallback_max_concurrent_requests: u64,
    /// `false`: the circuit never short-circuits and never trips.
    pub circuit_breaker_enabled: bool,
    /// Health total needed before the circuit may trip.
    pub request_volume_threshold: u64,
    /// Trip when the error percentage is at least this (0..100).
    pub error_threshold_percentage: u64,
    /// How long an open circuit rejects before probing (≥ 1).
    pub sleep_window_ms: u64,
    /// Probes admitted per half-open episode (≥ 1).
    pub half_open_max_calls: u64,
    /// Short-circuit everything; wins over `force_closed`.
    pub force_open: bool,
    /// Admit everything and never trip.
    pub force_closed: bool,
    /// Length of the rolling statistics window (≥ 1).
    pub rolling_window_ms: u64,
    /// Buckets in that window; must divide `rolling_window_ms`.
    pub rolling_window_buckets: u64,
    /// How stale the health counts used for decisions may be; 0 = always fresh.
    pub health_snapshot_interval_ms: u64,
}

/// Converts between the two structs, which have the same fields.
macro_rules! convert {
    ($from:ty => $to:ident, $($f:ident),*) => {
        impl From<$from> for $to {
            fn from(c: $from) -> Self {
                $to { $($f: c.$f),* }
            }
        }
    };
}

macro_rules! both_ways {
    ($($f:ident),*) => {
        convert!(Config => hystrix_config, $($f),*);
        convert!(&hystrix_config => Config, $($f),*);
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
    // SAFETY: non-NULL; the caller promises a valid `hystrix_config`.
    let c = Config::from(unsafe { &*config });
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
