//! Handle memory ("shells") kept for reuse instead of being given back to
//! the allocator, so that a function handed a freed handle reads memory
//! that is still allocated: its magic number, cleared when it was freed,
//! refuses it (`HYSTRIX_INVALID_ARGUMENT`) as defined behaviour, not a read
//! of freed memory. A freed shell waits until [`QUARANTINE`] more handles
//! of its kind have been freed, then is reused, oldest first (a stale
//! pointer then names that new handle, as it would after the allocator
//! reused the address; the wait makes that late and rare). The shells are
//! given back to the allocator only by `hystrix_shutdown`, once nothing is
//! alive.
//!
//! The call path pays one atomic load (a plain load on x86-64 and ARM64)
//! and one check that the body is there, and takes no lock.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// How many freed handles of a kind wait before the oldest is reused.
pub(crate) const QUARANTINE: usize = 64;

/// A handle's memory: its magic number while live, 0 once freed, and its
/// body while live.
pub(crate) struct Shell<T> {
    magic: AtomicU64,
    body: UnsafeCell<Option<T>>,
}

// SAFETY: the body is written only by `Pool::make` (before the handle is
// published) and `Pool::retire` (the C contract: nothing else uses the
// handle while it is freed); every other access reads it.
unsafe impl<T: Send + Sync> Sync for Shell<T> {}

impl<T> Shell<T> {
    /// An empty shell (not live).
    pub(crate) const fn empty() -> Shell<T> {
        Shell { magic: AtomicU64::new(0), body: UnsafeCell::new(None) }
    }
}

/// A kind of handle made of a shell (the C type the header names).
pub(crate) trait Handle: Sized + 'static {
    /// What a live handle holds.
    type Body;
    /// The magic number of a live handle of this kind (never 0).
    const MAGIC: u64;
    /// A handle whose shell is empty.
    fn empty() -> Self;
    /// The handle's shell.
    fn shell(&self) -> &Shell<Self::Body>;
}

/// The body of the live handle `handle`; `None` for a freed one.
///
/// # Safety
/// `handle` points to a handle made by a [`Pool`] that has not been
/// released since, and no `retire` of it runs at the same time.
pub(crate) unsafe fn body<'a, H: Handle>(handle: *const H) -> Option<&'a H::Body> {
    // SAFETY: the caller's promise: the handle's memory is allocated.
    let s = unsafe { (*handle).shell() };
    if s.magic.load(Ordering::Acquire) != H::MAGIC {
        return None;
    }
    // SAFETY: live (the magic was stored after the body was written, with
    // release ordering), and not being retired (the caller's promise).
    unsafe { (*s.body.get()).as_ref() }
}

/// A freed handle waiting for reuse.
struct Freed<H>(*mut H);

// SAFETY: a freed handle's memory is only touched again by the pool (under
// its lock) or, read-only, by a stale pointer's magic check.
unsafe impl<H> Send for Freed<H> {}

/// The shells of one kind of handle: made on demand, kept once freed.
pub(crate) struct Pool<H> {
    /// Freed handles, oldest first, for reuse.
    free: Mutex<VecDeque<Freed<H>>>,
    _kind: std::marker::PhantomData<fn() -> H>,
}

impl<H: Handle> Pool<H> {
    /// An empty pool.
    pub(crate) const fn new() -> Pool<H> {
        Pool { free: Mutex::new(VecDeque::new()), _kind: std::marker::PhantomData }
    }

    fn free_list(&self) -> std::sync::MutexGuard<'_, VecDeque<Freed<H>>> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A live handle holding `body`: the oldest freed one reused once more
    /// than [`QUARANTINE`] wait, or a new one.
    pub(crate) fn make(&self, body: H::Body) -> *mut H {
        let reused = {
            let mut free = self.free_list();
            if free.len() > QUARANTINE {
                free.pop_front()
            } else {
                None
            }
        };
        let handle = match reused {
            Some(Freed(handle)) => handle,
            None => Box::into_raw(Box::new(H::empty())),
        };
        // SAFETY: a handle of this pool, not live: nobody else reads its
        // body (a stale pointer's check sees magic 0 until the store below).
        unsafe {
            let s = (*handle).shell();
            *s.body.get() = Some(body);
            s.magic.store(H::MAGIC, Ordering::Release);
        }
        handle
    }

    /// Frees a live handle: clears its magic, takes its body out (for the
    /// caller to drop, outside any lock) and keeps the memory for reuse.
    ///
    /// # Safety
    /// `handle` is a live handle of this pool, and nothing else uses it now.
    pub(crate) unsafe fn retire(&self, handle: *mut H) -> Option<H::Body> {
        // SAFETY: the caller's promise.
        let body = unsafe {
            let s = (*handle).shell();
            s.magic.store(0, Ordering::Release);
            (*s.body.get()).take()
        };
        self.free_list().push_back(Freed(handle));
        body
    }

    /// Gives every freed handle's memory back to the allocator
    /// (`hystrix_shutdown`, when no handle is live: afterwards a freed
    /// handle must not be passed to any function).
    pub(crate) fn release(&self) {
        let handles = std::mem::take(&mut *self.free_list());
        for Freed(handle) in handles {
            // SAFETY: made by `Box::into_raw` in `make`, freed (not live),
            // and out of the free list: dropped once.
            drop(unsafe { Box::from_raw(handle) });
        }
    }
}
