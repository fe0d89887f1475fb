//! Status codes, the per-thread last error message, and the panic boundary
//! every `extern "C"` body runs inside.

use hystrix_core::ErrorKind;
use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What every function returns. Values 1–11 are the SPEC error kinds with
/// the same stable codes as in every other binding.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum hystrix_status {
    /// Success.
    HYSTRIX_OK = 0,
    /// The run failed (and no fallback answered).
    HYSTRIX_FAILURE = 1,
    /// The run timed out (and no fallback answered).
    HYSTRIX_TIMEOUT = 2,
    /// The circuit is open (and no fallback answered).
    HYSTRIX_SHORT_CIRCUITED = 3,
    /// The bulkhead is full (and no fallback answered).
    HYSTRIX_REJECTED = 4,
    /// The run refused a bad request; no fallback was tried. Also what a run
    /// callback returns to report a bad request.
    HYSTRIX_BAD_REQUEST = 5,
    /// Too many fallbacks were in flight.
    HYSTRIX_FALLBACK_REJECTED = 6,
    /// The fallback failed too.
    HYSTRIX_FALLBACK_FAILURE = 7,
    /// A configuration broke a rule; the message names the key.
    HYSTRIX_INVALID_CONFIG = 8,
    /// The caller cancelled the call before it settled.
    HYSTRIX_CANCELLED = 9,
    /// The rate limiter refused the call (and no fallback answered).
    HYSTRIX_RATE_LIMITED = 10,
    /// A command of that name already exists with a different value for a
    /// setting given again (`hystrix_command_named_with`); the message names
    /// the command, the key and both values. Change settings with
    /// `hystrix_configure_named`.
    HYSTRIX_SETTINGS_CONFLICT = 11,
    /// A required pointer argument was NULL.
    HYSTRIX_NULL_ARGUMENT = 100,
    /// An argument was not valid (bad handle, bad UTF-8, wrong clock kind…).
    HYSTRIX_INVALID_ARGUMENT = 101,
    /// The call is not valid now (e.g. completing a handle twice).
    HYSTRIX_INVALID_STATE = 102,
    /// A panic was caught inside the library; the message says where.
    HYSTRIX_PANIC = 103,
}

impl hystrix_status {
    /// Every status, for converting integers that come from C.
    const ALL: [hystrix_status; 16] = [
        hystrix_status::HYSTRIX_OK,
        hystrix_status::HYSTRIX_FAILURE,
        hystrix_status::HYSTRIX_TIMEOUT,
        hystrix_status::HYSTRIX_SHORT_CIRCUITED,
        hystrix_status::HYSTRIX_REJECTED,
        hystrix_status::HYSTRIX_BAD_REQUEST,
        hystrix_status::HYSTRIX_FALLBACK_REJECTED,
        hystrix_status::HYSTRIX_FALLBACK_FAILURE,
        hystrix_status::HYSTRIX_INVALID_CONFIG,
        hystrix_status::HYSTRIX_CANCELLED,
        hystrix_status::HYSTRIX_RATE_LIMITED,
        hystrix_status::HYSTRIX_SETTINGS_CONFLICT,
        hystrix_status::HYSTRIX_NULL_ARGUMENT,
        hystrix_status::HYSTRIX_INVALID_ARGUMENT,
        hystrix_status::HYSTRIX_INVALID_STATE,
        hystrix_status::HYSTRIX_PANIC,
    ];

    /// The status with this value, if any.
    pub(crate) fn from_i32(v: i32) -> Option<hystrix_status> {
        Self::ALL.into_iter().find(|s| *s as i32 == v)
    }

    /// The status for a SPEC error kind: the one whose value is the kind's
    /// stable code. (`ErrorKind` is non-exhaustive, so no match can be; a
    /// unit test checks every core kind has its status, so a new kind fails
    /// the build's tests instead of turning into another status.)
    pub(crate) fn from_kind(kind: ErrorKind) -> hystrix_status {
        hystrix_status::from_i32(kind.code() as i32).unwrap_or(hystrix_status::HYSTRIX_PANIC)
    }
}

/// An error on its way out of an `extern "C"` function.
pub(crate) struct Fail {
    pub(crate) status: hystrix_status,
    pub(crate) message: String,
}

impl Fail {
    pub(crate) fn new(status: hystrix_status, message: impl Into<String>) -> Fail {
        Fail { status, message: message.into() }
    }

    pub(crate) fn null(what: &str) -> Fail {
        Fail::new(hystrix_status::HYSTRIX_NULL_ARGUMENT, format!("{what} is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Fail {
        Fail::new(hystrix_status::HYSTRIX_INVALID_ARGUMENT, message)
    }

    pub(crate) fn state(message: impl Into<String>) -> Fail {
        Fail::new(hystrix_status::HYSTRIX_INVALID_STATE, message)
    }

    /// An invalid configuration of the command called `name` says so
    /// (`command 'users': invalid config: ...`); other failures, and an
    /// anonymous command's, are unchanged.
    pub(crate) fn for_command(mut self, name: &str) -> Fail {
        if self.status == hystrix_status::HYSTRIX_INVALID_CONFIG && !name.is_empty() {
            self.message = format!("command '{name}': {}", self.message);
        }
        self
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

pub(crate) fn set_last_error(message: String) {
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

/// Runs an `extern "C"` body: a panic becomes `HYSTRIX_PANIC`, an error its
/// status; either sets this thread's last error message.
pub(crate) fn boundary(name: &str, body: impl FnOnce() -> Result<(), Fail>) -> hystrix_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => hystrix_status::HYSTRIX_OK,
        Ok(Err(fail)) => {
            set_last_error(format!("{name}: {}", fail.message));
            fail.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".into());
            set_last_error(format!("{name}: panic: {what}"));
            hystrix_status::HYSTRIX_PANIC
        }
    }
}

/// Copies this thread's last error message into `buf` (NUL-terminated,
/// truncated to `len - 1` bytes) and writes the full message length
/// (without NUL) to `written`. An empty message means no error so far.
/// Returns `HYSTRIX_NULL_ARGUMENT` if `buf` (with `len > 0`) or `written`
/// is NULL.
#[no_mangle]
pub extern "C" fn hystrix_last_error_message(buf: *mut c_char, len: usize, written: *mut usize) -> hystrix_status {
    boundary("hystrix_last_error_message", || {
        if written.is_null() {
            return Err(Fail::null("written"));
        }
        if len > 0 && buf.is_null() {
            return Err(Fail::null("buf"));
        }
        LAST_ERROR.with(|e| {
            let msg = e.borrow();
            let bytes = msg.as_bytes();
            if len > 0 {
                let n = bytes.len().min(len - 1);
                // SAFETY: the caller gives `len` writable bytes at `buf`.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            // SAFETY: checked non-NULL above.
            unsafe { *written = bytes.len() };
        });
        Ok(())
    })
}

/// The stable name of a status value, e.g. `"short_circuited"` for
/// `HYSTRIX_SHORT_CIRCUITED`; a static string the caller must not free.
/// Unknown values give `"unknown"`.
#[no_mangle]
pub extern "C" fn hystrix_status_name(status: i32) -> *const c_char {
    use hystrix_status::*;
    let Some(status) = hystrix_status::from_i32(status) else { return c"unknown".as_ptr() };
    let name: &'static std::ffi::CStr = match status {
        HYSTRIX_OK => c"ok",
        HYSTRIX_FAILURE => c"failure",
        HYSTRIX_TIMEOUT => c"timeout",
        HYSTRIX_SHORT_CIRCUITED => c"short_circuited",
        HYSTRIX_REJECTED => c"rejected",
        HYSTRIX_BAD_REQUEST => c"bad_request",
        HYSTRIX_FALLBACK_REJECTED => c"fallback_rejected",
        HYSTRIX_FALLBACK_FAILURE => c"fallback_failure",
        HYSTRIX_INVALID_CONFIG => c"invalid_config",
        HYSTRIX_CANCELLED => c"cancelled",
        HYSTRIX_RATE_LIMITED => c"rate_limited",
        HYSTRIX_SETTINGS_CONFLICT => c"settings_conflict",
        HYSTRIX_NULL_ARGUMENT => c"null_argument",
        HYSTRIX_INVALID_ARGUMENT => c"invalid_argument",
        HYSTRIX_INVALID_STATE => c"invalid_state",
        HYSTRIX_PANIC => c"panic",
    };
    name.as_ptr()
}

/// Writes `value` through `out` (checked non-NULL by the caller's code).
pub(crate) fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: every caller has checked `out` is non-NULL; the C caller
    // promises it points at writable storage for a `T`.
    unsafe { out.write(value) }
}

/// The message of a call's error (semantics §3, "Error messages"): the
/// command and the setting behind an error hystrix made, or the command
/// and the kind for the run's own failure. Built only on the error path.
pub(crate) fn describe<E>(cmd: &hystrix_core::Command, e: &hystrix_core::Error<E>) -> String {
    match e.context() {
        Some(ctx) => ctx.to_string(),
        None => cmd.context(e.kind()).to_string(),
    }
}
