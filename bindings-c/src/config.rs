//! `hystrix_config`: the SPEC settings as a plain C struct, its defaults,
//! JSON parsing, and conversion to the core's validated `Config`.

use crate::status::{boundary, hystrix_status, Fail};
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
        assert_eq!(CONFIG_SIZE, CONFIG_SIZE_0_1);
        assert_eq!(std::mem::offset_of!(hystrix_config, struct_size), 0);
        let sizes = config_sizes();
        assert_eq!(sizes.first(), Some(&16));
        assert_eq!(sizes.last(), Some(&CONFIG_SIZE));
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]));
        for bad in [0, 1, 8, 17, CONFIG_SIZE - 1, CONFIG_SIZE + 8, usize::MAX] {
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
