//! The atomics of the lock-free parts (the bulkhead's permits, the bucket
//! ring and the event window), from `std` — or from `loom` when the crate
//! is built with `RUSTFLAGS="--cfg loom"`, so the model checker can explore
//! every interleaving of those parts (`scripts/loom.sh`, in `make test`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// A busy-wait step: a CPU hint, or under loom a yield to other threads
/// (a spinning model thread would otherwise never let the others run).
#[inline(always)]
pub(crate) fn spin() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}
