//! What every test file needs: status checks, the last error message, a
//! virtual clock with a command on it, and callbacks that record.

use hystrix::clock::{hystrix_clock, hystrix_clock_free, hystrix_clock_new_virtual};
use hystrix::command::{hystrix_command, hystrix_command_free, hystrix_command_new};
use hystrix::config::{hystrix_config, hystrix_config_default_sized};
use hystrix::status::{hystrix_last_error_message, hystrix_status};
use std::ffi::{c_char, c_void, CString};
use std::ptr;

pub use hystrix::status::hystrix_status::*;

/// This thread's last error message, read through the C API.
pub fn last_error() -> String {
    let mut written = 0usize;
    assert_eq!(hystrix_last_error_message(ptr::null_mut(), 0, &mut written), HYSTRIX_OK);
    let mut buf = vec![0x55u8; written + 1];
    assert_eq!(hystrix_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &mut written), HYSTRIX_OK);
    assert_eq!(buf[written], 0, "the message is NUL-terminated");
    String::from_utf8(buf[..written].to_vec()).expect("UTF-8 message")
}

/// Asserts `status` is `want` and, for an error, that the message says `says`.
#[track_caller]
pub fn expect(status: hystrix_status, want: hystrix_status, says: &str) {
    assert_eq!(status, want, "last error: {}", last_error());
    if !says.is_empty() {
        let msg = last_error();
        assert!(msg.contains(says), "{msg:?} does not say {says:?}");
    }
}

/// The library's defaults in a full-size struct.
pub fn default_config() -> hystrix_config {
    let mut cfg = std::mem::MaybeUninit::<hystrix_config>::uninit();
    let status = hystrix_config_default_sized(cfg.as_mut_ptr(), std::mem::size_of::<hystrix_config>());
    assert_eq!(status, HYSTRIX_OK);
    // SAFETY: a full-size struct was written on HYSTRIX_OK.
    unsafe { cfg.assume_init() }
}

/// A NUL-terminated copy of `s`, kept alive by the caller.
pub fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

/// A virtual clock and a command on it, freed (and checked) on drop.
pub struct Fixture {
    /// The virtual clock (reads 0 at first).
    pub clock: *mut hystrix_clock,
    /// The command, made with the fixture's config and name.
    pub cmd: *mut hystrix_command,
}

impl Fixture {
    /// A command called `name` with `cfg` on a fresh virtual clock.
    pub fn new(name: &str, cfg: &hystrix_config) -> Fixture {
        let mut clock = ptr::null_mut();
        expect(hystrix_clock_new_virtual(&mut clock), HYSTRIX_OK, "");
        let mut cmd = ptr::null_mut();
        let name = c(name);
        expect(hystrix_command_new(cfg, name.as_ptr(), clock, &mut cmd), HYSTRIX_OK, "");
        assert!(!cmd.is_null());
        Fixture { clock, cmd }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_eq!(hystrix_command_free(self.cmd), HYSTRIX_OK);
            assert_eq!(hystrix_clock_free(self.clock), HYSTRIX_OK);
        }
    }
}

/// The `void *` a test passes as user data for `value`.
pub fn ud<T>(value: &mut T) -> *mut c_void {
    (value as *mut T).cast()
}

/// The `T` behind a user-data pointer made by `ud`.
///
/// # Safety
/// `p` came from `ud::<T>` on a value still alive and not otherwise borrowed.
pub unsafe fn from_ud<'a, T>(p: *mut c_void) -> &'a mut T {
    // SAFETY: the caller's promise.
    unsafe { &mut *p.cast::<T>() }
}

/// The text of a NUL-terminated string the library handed out.
pub fn text(s: *const c_char) -> String {
    assert!(!s.is_null());
    // SAFETY: the library gives NUL-terminated strings.
    unsafe { std::ffi::CStr::from_ptr(s) }.to_str().expect("UTF-8").to_owned()
}

/// A counter finalizer: `user_data` points at a `u32` it increments.
pub extern "C" fn count_free(user_data: *mut c_void) {
    // SAFETY: every test passes a `u32` it keeps alive.
    unsafe { *from_ud::<u32>(user_data) += 1 };
}

/// Callbacks for calls that must be refused before any callback runs.
pub mod never {
    use hystrix::command::hystrix_event;
    use std::ffi::{c_char, c_void};

    /// A sync run.
    pub extern "C" fn run(_: *mut c_void, _: *mut *mut c_void) -> i32 {
        panic!("must not run")
    }
    /// A queued run.
    pub extern "C" fn run_async(_: *mut c_void, _: u64) {
        panic!("must not run")
    }
    /// A queued call's done.
    pub extern "C" fn done(_: *mut c_void, _: hystrix::status::hystrix_status, _: *mut c_void) {
        panic!("must not run")
    }
    /// An event listener.
    pub extern "C" fn event(_: *mut c_void, _: *const c_char, _: hystrix_event, _: u64) {
        panic!("must not run")
    }
}
