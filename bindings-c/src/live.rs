//! The handles (commands and clocks) the library has given out and not
//! freed yet, by address. A free function looks its argument up here
//! before touching it, so a second free, or a pointer that never was a
//! handle of that kind, is refused without reading freed memory (which the
//! magic-number check alone would: undefined behaviour, reported by Miri).

use std::any::TypeId;
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

/// A handle: its type and its address.
type Key = (TypeId, usize);

/// Addresses of live handles; `None` until the first handle, and again
/// after `hystrix_shutdown` (so a valgrind-clean program leaves nothing).
static LIVE: Mutex<Option<HashSet<Key>>> = Mutex::new(None);

fn live() -> MutexGuard<'static, Option<HashSet<Key>>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records a handle just made.
pub(crate) fn insert<T: 'static>(handle: *const T) {
    live().get_or_insert_with(HashSet::new).insert((TypeId::of::<T>(), handle.addr()));
}

/// Forgets a handle of type `T` about to be freed; whether it was a live
/// one (a live handle of another type at that address stays live).
pub(crate) fn remove<T: 'static>(handle: *const T) -> bool {
    live().as_mut().is_some_and(|set| set.remove(&(TypeId::of::<T>(), handle.addr())))
}

/// Whether `handle` is a live handle of type `T` (for functions off the
/// call path that promise to refuse a freed handle: reading it to check
/// its magic number would be undefined behaviour).
pub(crate) fn contains<T: 'static>(handle: *const T) -> bool {
    live().as_ref().is_some_and(|set| set.contains(&(TypeId::of::<T>(), handle.addr())))
}

/// Frees the set's memory if no handle is live (`hystrix_shutdown`).
pub(crate) fn release() {
    let mut set = live();
    if set.as_ref().is_some_and(HashSet::is_empty) {
        *set = None;
    }
}
