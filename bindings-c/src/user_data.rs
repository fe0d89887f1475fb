//! The program's `void *user_data`, carried across threads on the
//! program's promise (documented in the header) that what it points at may
//! be used from the threads it hands it to; freed by the program's own
//! finalizer when the library drops its last reference.

use std::ffi::c_void;

/// A finalizer for `user_data`.
pub type hystrix_free_fn = Option<extern "C" fn(user_data: *mut c_void)>;

/// `user_data` plus its optional finalizer, called exactly once on drop.
pub(crate) struct UserData {
    ptr: *mut c_void,
    free: hystrix_free_fn,
}

// SAFETY: the header documents that user_data must be usable from any
// thread the library calls back on; the library never dereferences it.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void, free: hystrix_free_fn) -> UserData {
        UserData { ptr, free }
    }

    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(free) = self.free {
            free(self.ptr);
        }
    }
}

/// A value pointer the program handed over, moved between threads.
#[derive(Clone, Copy)]
pub(crate) struct Value(pub(crate) *mut c_void);

// SAFETY: the library never dereferences values; it only hands them back.
unsafe impl Send for Value {}
