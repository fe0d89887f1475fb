//! The atomics of the lock-free parts (the bulkhead's permits, the bucket
//! ring and the event window) and the circuit's trip gate (its state,
//! stamps, transition count and episode lock), from `std` — or from `loom`
//! when the crate is built with `RUSTFLAGS="--cfg loom"`, so the model
//! checker can explore every interleaving of those parts
//! (`scripts/loom.sh`, in `make test`). Without `--cfg loom` these are
//! plain re-exports of the `std` types: the same code, the same cost.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// A busy-wait step: a CPU hint, or under loom a yield to other threads
/// (a spinning model thread would otherwise never let the others run).
#[inline(always)]
pub(crate) fn spin() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}
