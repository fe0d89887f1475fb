//! `hystrix_config`: the SPEC settings as a plain C struct, its defaults,
//! JSON parsing, and conversion to the core's validated `Config`.

use crate::status::{boundary, hystrix_status, Fail};
use hystrix_core::{Config, ConfigError, Jitter, LimitMode};
use std::ffi::{c_char, CStr};

/// A boolean field of a struct the program fills in: `0` (false) or `1`
/// (true); `false` and `true` from `<stdbool.h>` are exactly these. It is a
/// byte rather than `bool` so that any other value (an uninitialised or
/// corrupted field) is caught: it is refused with `HYSTRIX_INVALID_CONFIG`
/// naming the field.
pub type hystrix_bool = u8;

/// How a retry's backoff delay is jittered (`hystrix_config.retry_jitter`,
/// SPEC key `retry_jitter`): one of the `HYSTRIX_JITTER_*` values. A
/// `uint32_t` rather than a C enum, so that any other value is refused with
/// `HYSTRIX_INVALID_CONFIG` naming the field.
pub type hystrix_jitter = u32;
/// `"none"`: the capped delay itself.
pub const HYSTRIX_JITTER_NONE: hystrix_jitter = 0;
/// `"full"` (the default): uniform from 0 to the capped delay.
pub const HYSTRIX_JITTER_FULL: hystrix_jitter = 1;
/// `"equal"`: half the capped delay plus a uniform share of the other half.
pub const HYSTRIX_JITTER_EQUAL: hystrix_jitter = 2;
/// `"decorrelated"`: uniform from the base delay to three times the previous delay, capped.
pub const HYSTRIX_JITTER_DECORRELATED: hystrix_jitter = 3;

/// Which limit the bulkhead compares with
/// (`hystrix_config.concurrency_limit_mode`, SPEC key
/// `concurrency_limit_mode`): one of the `HYSTRIX_LIMIT_*` values, a
/// `uint32_t` for the same reason as `hystrix_jitter`.
pub type hystrix_limit_mode = u32;
/// `"fixed"` (the default): the limit is `max_concurrent_requests`.
pub const HYSTRIX_LIMIT_FIXED: hystrix_limit_mode = 0;
/// `"aimd"`: additive increase, multiplicative decrease.
pub const HYSTRIX_LIMIT_AIMD: hystrix_limit_mode = 1;
/// `"gradient2"`: Netflix's Gradient2 estimate.
pub const HYSTRIX_LIMIT_GRADIENT2: hystrix_limit_mode = 2;

// The constants are the index of each name in the core's `ALL` lists.
const _: () = {
    assert!(Jitter::ALL[HYSTRIX_JITTER_NONE as usize] as u8 == Jitter::None as u8);
    assert!(Jitter::ALL[HYSTRIX_JITTER_FULL as usize] as u8 == Jitter::Full as u8);
    assert!(Jitter::ALL[HYSTRIX_JITTER_EQUAL as usize] as u8 == Jitter::Equal as u8);
    assert!(Jitter::ALL[HYSTRIX_JITTER_DECORRELATED as usize] as u8 == Jitter::Decorrelated as u8);
    assert!(LimitMode::ALL[HYSTRIX_LIMIT_FIXED as usize] as u8 == LimitMode::Fixed as u8);
    assert!(LimitMode::ALL[HYSTRIX_LIMIT_AIMD as usize] as u8 == LimitMode::Aimd as u8);
    assert!(LimitMode::ALL[HYSTRIX_LIMIT_GRADIENT2 as usize] as u8 == LimitMode::Gradient2 as u8);
};

/// Every SPEC setting: §2's, then the v2 keys of §8 (appended in hystrix
/// 0.1's development: a program built with the 120-byte struct of §2 alone
/// keeps working, its v2 keys taking their defaults). Get one filled with the Hystrix defaults from
/// `hystrix_config_default` (or `hystrix_config_from_json`), change fields,
/// and pass it by pointer; the library copies it and validates it. Its
/// booleans are `hystrix_bool` bytes: `true`/`false` (1/0), nothing else.
///
/// ABI evolution. The struct only ever grows, by fields added at its end;
/// its first field `struct_size` says which version of it the program was
/// compiled with, so a program keeps working with any later library of the
/// same major version:
/// - Functions that read a config (`hystrix_config_validate`,
///   `hystrix_command_new`, `hystrix_command_configure`,
///   `hystrix_configure_named`) read `struct_size` bytes: fields a smaller,
///   older struct lacks take their defaults. A `struct_size` that is larger
///   than the library's `hystrix_config` (a program built against a newer
///   hystrix.h than the library it runs with) or that is not the size of a
///   `hystrix_config` cut after one of its fields (an unset or corrupted
///   struct) is `HYSTRIX_INVALID_ARGUMENT`, naming both sizes.
/// - Functions that write a config take the size of the caller's struct and
///   write no more: `hystrix_config_default_sized`,
///   `hystrix_config_from_json_sized` and `hystrix_command_config_sized`.
///   The header makes `hystrix_config_default(out)`,
///   `hystrix_config_from_json(json, out)` and `hystrix_command_config(cmd,
///   out)` macros that pass this header's `sizeof(hystrix_config)`; the
///   functions of those names, for callers that cannot use the macros, write
///   the struct of hystrix 0.1 (120 bytes) in every later version.
///
/// So: never fill a `hystrix_config` by hand from zero; start from
/// `hystrix_config_default` (which sets `struct_size`), or set `struct_size
/// = sizeof(hystrix_config)` first.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hystrix_config {
    /// `sizeof(hystrix_config)` of the hystrix.h the program was compiled
    /// with; set by `hystrix_config_default` (see "ABI evolution" above).
    pub struct_size: usize,
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
    // SPEC v2 (§8), appended: see "ABI evolution".
    /// Seed of the command's random generator.
    pub random_seed: u64,
    /// Attempts per call, the first one included; 1 = no retry (≥ 1).
    pub retry_max_attempts: u64,
    /// A `TIMEOUT` attempt may be retried, or trigger a hedge.
    pub retry_on_timeout: hystrix_bool,
    /// A `SEMAPHORE_REJECTED` attempt may be retried, or trigger a hedge.
    pub retry_on_rejected: hystrix_bool,
    /// Backoff before the first retry, before jitter.
    pub retry_base_delay_ms: u64,
    /// Backoff growth per retry, in thousandths (≥ 1000).
    pub retry_multiplier_permille: u64,
    /// Cap on every backoff delay.
    pub retry_max_delay_ms: u64,
    /// How a backoff delay is jittered (`HYSTRIX_JITTER_*`).
    pub retry_jitter: hystrix_jitter,
    /// Overall deadline of a call's attempts; 0 = none.
    pub deadline_ms: u64,
    /// Budget units deposited per `SUCCESS` (a retry costs 100); 0 = no budget (≤ 1000).
    pub retry_budget_percent: u64,
    /// Retries per second allowed on top of the deposits (≤ 1000000).
    pub retry_budget_min_per_sec: u64,
    /// How long budget entries count (1 to 86400000).
    pub retry_budget_window_ms: u64,
    /// Buckets in that window; must divide `retry_budget_window_ms` (≥ 1).
    pub retry_budget_window_buckets: u64,
    /// Calls admitted per period; 0 = no rate limiter.
    pub rate_limit_for_period: u64,
    /// The rate limiter's period (≥ 1).
    pub rate_limit_period_ms: u64,
    /// Calls that may pass back to back; 0 = `rate_limit_for_period`.
    pub rate_limit_burst: u64,
    /// Longest wait a call accepts for its turn; 0 = never waits.
    pub rate_limit_timeout_ms: u64,
    /// Attempts per call, the primary included; 1 = no hedging (≥ 1; not above 1 with retries).
    pub hedge_max_attempts: u64,
    /// From the latest attempt's start to the next hedge.
    pub hedge_delay_ms: u64,
    /// A retryable failure starts the next hedge at once.
    pub hedge_on_failure: hystrix_bool,
    /// Which limit the bulkhead compares with (`HYSTRIX_LIMIT_*`).
    pub concurrency_limit_mode: hystrix_limit_mode,
    /// Limit when the adaptive limiter starts (from `adaptive_min_limit` to `adaptive_max_limit`).
    pub adaptive_initial_limit: u64,
    /// Lowest adaptive limit (≥ 1).
    pub adaptive_min_limit: u64,
    /// Highest adaptive limit (≥ `adaptive_min_limit`).
    pub adaptive_max_limit: u64,
    /// Shortest adaptive sample window.
    pub adaptive_window_ms: u64,
    /// Fewest samples in an adaptive window (≥ 1).
    pub adaptive_window_min_samples: u64,
    /// A `FAILURE` counts as a drop.
    pub adaptive_drop_on_failure: hystrix_bool,
    /// AIMD cut on a drop, in thousandths (500 to 999).
    pub aimd_backoff_permille: u64,
    /// AIMD: a window whose average RTT exceeds this counts as a drop (≥ 1).
    pub aimd_timeout_ms: u64,
    /// Gradient2 smoothing, in thousandths (≤ 1000).
    pub gradient2_smoothing_permille: u64,
    /// Gradient2 queue allowance.
    pub gradient2_queue_size: u64,
    /// Gradient2 long-RTT averaging window, in samples (≥ 1).
    pub gradient2_long_window: u64,
    /// Gradient2 RTT tolerance, in thousandths (≥ 1000).
    pub gradient2_rtt_tolerance_permille: u64,
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

/// A named setting crosses as its index in the core's `ALL` list.
macro_rules! named_field {
    ($t:ty, $c:ty, $what:literal) => {
        impl CField for $t {
            type C = $c;
            fn to_c(self) -> $c {
                <$t>::ALL.iter().position(|v| *v == self).expect("every value is in ALL") as $c
            }
            fn from_c(c: $c, field: &str) -> Result<$t, ConfigError> {
                usize::try_from(c).ok().and_then(|i| <$t>::ALL.get(i).copied()).ok_or_else(|| {
                    ConfigError::new(
                        field,
                        format!(
                            concat!("must be one of the ", $what, " values (0 to {}), got {}"),
                            <$t>::ALL.len() - 1,
                            c
                        ),
                    )
                })
            }
        }
    };
}
named_field!(Jitter, hystrix_jitter, "HYSTRIX_JITTER_*");
named_field!(LimitMode, hystrix_limit_mode, "HYSTRIX_LIMIT_*");

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
                hystrix_config { struct_size: CONFIG_SIZE, $($f: CField::to_c(c.$f)),* }
            }
        }

        fn config_from_c(c: &hystrix_config) -> Result<Config, ConfigError> {
            Ok(Config { $($f: CField::from_c(c.$f, stringify!($f))?),* })
        }

        /// The sizes a `hystrix_config` cut after each of its settings has,
        /// in order (the last is `CONFIG_SIZE`).
        fn config_sizes() -> Vec<usize> {
            vec![$(cut_after(std::mem::offset_of!(hystrix_config, $f), field_size(|c: &hystrix_config| &c.$f))),*]
        }

        /// Copies the settings that lie wholly within the first `size`
        /// bytes of `*from` into `*to`.
        ///
        /// # Safety
        /// `from` and `to` each point at `size` readable/writable bytes of
        /// a `hystrix_config`, and `size` is one of `config_sizes()`.
        unsafe fn copy_prefix(from: *const hystrix_config, to: *mut hystrix_config, size: usize) {
            $(
                if std::mem::offset_of!(hystrix_config, $f) + field_size(|c: &hystrix_config| &c.$f) <= size {
                    // SAFETY: the field lies within `size` bytes of both structs;
                    // every field is an integer, so any bytes are a valid value.
                    unsafe { std::ptr::addr_of_mut!((*to).$f).write(std::ptr::addr_of!((*from).$f).read()) };
                }
            )*
        }
    };
}

hystrix_core::for_each_config_field!(both_ways);

/// `sizeof(hystrix_config)` in this version of the library.
const CONFIG_SIZE: usize = std::mem::size_of::<hystrix_config>();

/// The size of the `hystrix_config` of hystrix 0.1, which the unsized
/// writers (`hystrix_config_default`...) write in every later version.
pub(crate) const CONFIG_SIZE_0_1: usize = 120;
const _: () = assert!(CONFIG_SIZE >= CONFIG_SIZE_0_1, "hystrix_config may only grow");

fn field_size<T>(_: impl Fn(&hystrix_config) -> &T) -> usize {
    std::mem::size_of::<T>()
}

/// The size of a `hystrix_config` whose last field is the one at `offset`.
fn cut_after(offset: usize, size: usize) -> usize {
    (offset + size).next_multiple_of(std::mem::align_of::<hystrix_config>())
}

/// Checks the size of a caller's `hystrix_config` (`what` names it in the message).
fn check_size(size: usize, what: &str) -> Result<(), Fail> {
    if size > CONFIG_SIZE {
        return Err(Fail::invalid(format!(
            "{what} is {size}, larger than this library's hystrix_config ({CONFIG_SIZE} bytes, hystrix {}): a program \
             built against a newer hystrix.h than the library it runs with, or struct_size was never set \
             (start from hystrix_config_default)",
            env!("CARGO_PKG_VERSION")
        )));
    }
    if !config_sizes().contains(&size) {
        return Err(Fail::invalid(format!(
            "{what} is {size}, not the size of any hystrix_config (sizeof(hystrix_config) is {CONFIG_SIZE}): \
             start from hystrix_config_default, which sets struct_size"
        )));
    }
    Ok(())
}

/// Writes `config` into the caller's struct of `size` bytes: the settings
/// that fit, and `struct_size = size`.
pub(crate) fn write_config(out: *mut hystrix_config, size: usize, config: Config) -> Result<(), Fail> {
    if out.is_null() {
        return Err(Fail::null("out"));
    }
    check_size(size, "struct_size")?;
    let mut value = hystrix_config::from(config);
    value.struct_size = size;
    // SAFETY: non-NULL; the caller promises `size` writable bytes at `out`,
    // and `size` is one of `config_sizes()`.
    unsafe {
        std::ptr::addr_of_mut!((*out).struct_size).write(size);
        copy_prefix(&value, out, size);
    }
    Ok(())
}

/// The failure for a refused configuration, naming the key.
pub(crate) fn config_fail(e: ConfigError) -> Fail {
    Fail::new(hystrix_status::HYSTRIX_INVALID_CONFIG, e.to_string())
}

/// `config_fail` for the command called `name`: the message names it too
/// (`command 'users': invalid config: timeout_ms ...`).
pub(crate) fn config_fail_for(name: &str) -> impl Fn(ConfigError) -> Fail + '_ {
    move |e| config_fail(e).for_command(name)
}

/// Reads and validates a `hystrix_config` the caller passed (its first
/// `struct_size` bytes; defaults for the settings beyond).
pub(crate) fn read_config(config: *const hystrix_config) -> Result<Config, Fail> {
    if config.is_null() {
        return Err(Fail::null("config"));
    }
    // SAFETY: non-NULL; the caller promises a `hystrix_config` it wrote, at
    // least its `struct_size` field, and then `struct_size` bytes of it.
    let size = unsafe { std::ptr::addr_of!((*config).struct_size).read() };
    check_size(size, "config->struct_size")?;
    let mut full = hystrix_config::from(Config::default());
    // SAFETY: as above; `size` passed `check_size`.
    unsafe { copy_prefix(config, &mut full, size) };
    let c = config_from_c(&full).map_err(config_fail)?;
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

/// Writes the Hystrix defaults (SPEC §2) to `out`, a `hystrix_config` of
/// `struct_size` bytes (the program's `sizeof(hystrix_config)`), setting
/// its `struct_size`. Returns `HYSTRIX_NULL_ARGUMENT` if `out` is NULL,
/// `HYSTRIX_INVALID_ARGUMENT` for a size no `hystrix_config` has.
#[no_mangle]
pub extern "C" fn hystrix_config_default_sized(out: *mut hystrix_config, struct_size: usize) -> hystrix_status {
    boundary("hystrix_config_default", || write_config(out, struct_size, Config::default()))
}

/// `hystrix_config_default_sized(out, <the size of hystrix 0.1's struct>)`.
/// The header replaces calls to it by a macro passing the header's
/// `sizeof(hystrix_config)`; the function is for callers that cannot use
/// the macro (see "ABI evolution" at `hystrix_config`).
#[no_mangle]
pub extern "C" fn hystrix_config_default(out: *mut hystrix_config) -> hystrix_status {
    hystrix_config_default_sized(out, CONFIG_SIZE_0_1)
}

/// Parses a JSON object of SPEC keys (snake_case, all optional, defaults for
/// the rest) into `out`, a `hystrix_config` of `struct_size` bytes, with the
/// same validation as every binding.
/// Returns `HYSTRIX_INVALID_CONFIG` naming the offending key (unknown key,
/// wrong type, out of range), or `HYSTRIX_NULL_ARGUMENT`/`HYSTRIX_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn hystrix_config_from_json_sized(
    json: *const c_char,
    out: *mut hystrix_config,
    struct_size: usize,
) -> hystrix_status {
    boundary("hystrix_config_from_json", || {
        let text = read_str(json, "json")?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        check_size(struct_size, "struct_size")?;
        let config = Config::from_json(text).map_err(config_fail)?;
        write_config(out, struct_size, config)
    })
}

/// `hystrix_config_from_json_sized(json, out, <the size of hystrix 0.1's
/// struct>)`; the header replaces calls to it by a macro, as for
/// `hystrix_config_default`.
#[no_mangle]
pub extern "C" fn hystrix_config_from_json(json: *const c_char, out: *mut hystrix_config) -> hystrix_status {
    hystrix_config_from_json_sized(json, out, CONFIG_SIZE_0_1)
}

/// Checks a configuration without using it. Returns `HYSTRIX_OK` or
/// `HYSTRIX_INVALID_CONFIG` naming the first offending key.
#[no_mangle]
pub extern "C" fn hystrix_config_validate(config: *const hystrix_config) -> hystrix_status {
    boundary("hystrix_config_validate", || read_config(config).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout of hystrix 0.1's struct: changing it is an ABI break
    /// (only fields added at the end are allowed).
    #[test]
    fn the_struct_is_the_0_1_layout_and_its_cuts_are_the_field_ends() {
        assert_eq!(std::mem::offset_of!(hystrix_config, random_seed), CONFIG_SIZE_0_1);
        assert_eq!(CONFIG_SIZE, 368);
        assert!(config_sizes().contains(&CONFIG_SIZE_0_1));
        assert_eq!(std::mem::offset_of!(hystrix_config, struct_size), 0);
        let sizes = config_sizes();
        assert_eq!(sizes.first(), Some(&16));
        assert_eq!(sizes.last(), Some(&CONFIG_SIZE));
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]));
        for bad in [0, 1, 8, 17, CONFIG_SIZE_0_1 + 1, CONFIG_SIZE - 1, CONFIG_SIZE + 8, usize::MAX] {
            assert!(check_size(bad, "struct_size").is_err(), "{bad}");
        }
    }

    #[test]
    fn an_older_struct_is_read_up_to_its_size_with_defaults_for_the_rest() {
        let mut c = hystrix_config::from(Config { timeout_ms: 7, request_volume_threshold: 3, ..Config::default() });
        c.struct_size = std::mem::offset_of!(hystrix_config, fallback_enabled);
        let Ok(read) = read_config(&c) else { panic!("the older struct was refused") };
        assert_eq!(read.timeout_ms, 7);
        assert_eq!(read.request_volume_threshold, Config::default().request_volume_threshold);
    }
}

/// Writes the description of every configuration key, in SPEC order, to
/// `*out` as a JSON array of objects: `name` (the `hystrix_config` field
/// and JSON key), `type` (`"bool"`, `"int"` or `"name"`), `default`, and
/// `min`/`max` (integers) or `values` (named keys: the JSON strings, whose
/// index is the `HYSTRIX_JITTER_*`/`HYSTRIX_LIMIT_*` value). The caller
/// frees it with `hystrix_string_free`.
#[no_mangle]
pub extern "C" fn hystrix_config_schema(out: *mut *mut c_char) -> hystrix_status {
    boundary("hystrix_config_schema", || {
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        let json =
            std::ffi::CString::new(Config::schema_json()).map_err(|_| Fail::invalid("schema JSON holds a NUL"))?;
        crate::status::write_out(out, json.into_raw());
        Ok(())
    })
}

#[cfg(test)]
mod v2_tests {
    use super::*;

    #[test]
    fn every_v2_field_crosses_both_ways_and_named_values_are_checked() {
        let core = Config::from_json(
            r#"{"retry_jitter": "decorrelated", "concurrency_limit_mode": "gradient2", "retry_max_attempts": 3,
                "retry_on_rejected": true, "gradient2_queue_size": 9}"#,
        )
        .unwrap();
        let c = hystrix_config::from(core);
        assert_eq!(c.retry_jitter, HYSTRIX_JITTER_DECORRELATED);
        assert_eq!(c.concurrency_limit_mode, HYSTRIX_LIMIT_GRADIENT2);
        assert_eq!(c.retry_on_rejected, 1);
        let Ok(back) = read_config(&c) else { panic!("refused") };
        assert_eq!(back, core);
        let mut bad = c;
        bad.retry_jitter = 4;
        let Err(fail) = read_config(&bad) else { panic!("accepted") };
        assert!(fail.message.contains("retry_jitter"), "{}", fail.message);
        let mut bad = c;
        bad.concurrency_limit_mode = u32::MAX;
        let Err(fail) = read_config(&bad) else { panic!("accepted") };
        assert!(fail.message.contains("concurrency_limit_mode"), "{}", fail.message);
        let mut bad = c;
        bad.hedge_on_failure = 2;
        let Err(fail) = read_config(&bad) else { panic!("accepted") };
        assert!(fail.message.contains("hedge_on_failure"), "{}", fail.message);
    }

    #[test]
    fn a_0_1_struct_reads_with_v2_defaults() {
        let mut c = hystrix_config::from(Config { retry_max_attempts: 5, ..Config::default() });
        c.struct_size = CONFIG_SIZE_0_1;
        let Ok(read) = read_config(&c) else { panic!("the 0.1 struct was refused") };
        assert_eq!(read, Config::default());
    }
}
