//! The wasm module's allocator: talc, with the wasm memory grown in large
//! steps by our own out-of-memory handler, and counted.
//!
//! * **Geometric growth.** std's allocator on wasm (dlmalloc) grows the
//!   memory 64 KiB at a time, and each `memory.grow` costs the JS engine a
//!   garbage collection that walks every live JS object: creating commands
//!   got slower the more were alive (10,000 took seconds). Here the memory
//!   grows by at least a quarter of its size (`MIN_STEP..=MAX_STEP`), so the
//!   number of grows is logarithmic in the memory used.
//! * **Counting.** The bytes allocated and not yet freed (`heap_bytes`), for
//!   the benchmarks' and tests' bytes per command.
//! * **Headroom.** `has_headroom` says whether a block of a given size can
//!   still be had, so creating a command can fail with an error instead of
//!   the trap (`unreachable`) that an exhausted memory gives mid-allocation.

#[cfg(target_arch = "wasm32")]
mod wasm {
    use std::alloc::{GlobalAlloc, Layout};
    use std::cell::Cell;
    use talc::{locking::AssumeUnlockable, OomHandler, Span, Talc, Talck};

    /// The wasm page size.
    const PAGE: usize = 64 << 10;
    /// The smallest growth of the memory (bytes).
    const MIN_STEP: usize = 1 << 20;
    /// The largest growth beyond what one allocation needs (bytes).
    const MAX_STEP: usize = 64 << 20;

    /// Out of memory: grows the wasm memory by what the allocation needs
    /// plus a quarter of the memory (within the steps), or, if that much
    /// is refused, by just what it needs; hands the new pages to talc.
    pub(super) struct Grow {
        /// The heap talc manages (extended while the pages stay contiguous).
        heap: Span,
    }

    // SAFETY: wasm32-unknown-unknown without atomics has exactly one thread.
    unsafe impl Send for Grow {}

    impl OomHandler for Grow {
        fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
            let need = layout.size() + layout.align() + 64;
            let have = core::arch::wasm32::memory_size(0) * PAGE;
            let wanted = need + (have / 4).clamp(MIN_STEP, MAX_STEP);
            let mut old = usize::MAX;
            let mut pages = 0;
            for bytes in [wanted, need] {
                pages = bytes.div_ceil(PAGE);
                old = core::arch::wasm32::memory_grow(0, pages);
                if old != usize::MAX {
                    break;
                }
                TIGHT.with(|t| t.set(true));
            }
            if old == usize::MAX {
                FAILED.with(|f| f.set(true));
                return Err(());
            }
            let base = (old * PAGE) as *mut u8;
            let acme = base.wrapping_add(pages * PAGE);
            let handler = &mut talc.oom_handler;
            if let Some((heap_base, heap_acme)) = handler.heap.get_base_acme() {
                if heap_acme == base {
                    // SAFETY: the pages after the heap are new and ours.
                    let heap = unsafe { talc.extend(talc.oom_handler.heap, Span::new(heap_base, acme)) };
                    talc.oom_handler.heap = heap;
                    return Ok(());
                }
            }
            // SAFETY: fresh pages nothing else uses; at least one page, enough for talc's metadata.
            let heap = unsafe { talc.claim(Span::new(base, acme)) }?;
            talc.oom_handler.heap = heap;
            Ok(())
        }
    }

    thread_local! {
        /// Set once the memory refused to grow by a full step: from then
        /// on `has_headroom` tries its allocation (before, it need not).
        pub(super) static TIGHT: Cell<bool> = const { Cell::new(false) };
        /// Set when an allocation could not be satisfied (the memory would
        /// not grow): what tells the trap that follows from any other.
        pub(super) static FAILED: Cell<bool> = const { Cell::new(false) };
    }

    /// talc behind a no-op lock (one thread), counting live bytes.
    pub(super) struct Counted {
        pub(super) talc: Talck<AssumeUnlockable, Grow>,
        pub(super) live: Cell<usize>,
    }

    // SAFETY: wasm32-unknown-unknown without atomics has exactly one thread.
    unsafe impl Sync for Counted {}

    #[global_allocator]
    pub(super) static ALLOC: Counted =
        Counted { talc: Talc::new(Grow { heap: Span::empty() }).lock(), live: Cell::new(0) };

    // SAFETY: forwards to talc with the caller's arguments; only counts.
    unsafe impl GlobalAlloc for Counted {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract, unchanged.
            let p = unsafe { self.talc.alloc(layout) };
            if !p.is_null() {
                self.live.set(self.live.get() + layout.size());
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            self.live.set(self.live.get() - layout.size());
            // SAFETY: as above.
            unsafe { self.talc.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: as above.
            let p = unsafe { self.talc.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                self.live.set(self.live.get() - layout.size() + new_size);
            }
            p
        }
    }
}

/// Bytes allocated in the wasm module and not yet freed (0 off wasm).
pub(crate) fn heap_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    return wasm::ALLOC.live.get();
    #[cfg(not(target_arch = "wasm32"))]
    return 0;
}

/// Whether an allocation failed for want of memory since the last call
/// (then clears it): the glue asks after a trap, to tell an exhausted
/// memory from any other fault.
pub(crate) fn take_failed() -> bool {
    #[cfg(target_arch = "wasm32")]
    return wasm::FAILED.with(|f| f.replace(false));
    #[cfg(not(target_arch = "wasm32"))]
    return false;
}

/// Whether `size` more bytes can be allocated now: tried and given back,
/// once the memory has refused to grow by a full step (until then it can).
pub(crate) fn has_headroom(size: usize) -> bool {
    use std::alloc::{alloc, dealloc, Layout};
    #[cfg(target_arch = "wasm32")]
    if !wasm::TIGHT.with(|t| t.get()) {
        return true;
    }
    let Ok(layout) = Layout::from_size_align(size.max(1), 16) else { return false };
    // SAFETY: a non-zero size; the block is freed with its layout.
    unsafe {
        let p = alloc(layout);
        if p.is_null() {
            // Refused here, without a trap: not a failure to report later.
            take_failed();
            return false;
        }
        dealloc(p, layout);
    }
    true
}
