//! Admission policies, one file each. The command composes them statically
//! (struct fields, no dynamic dispatch).
//!
//! - `permits`: the bulkhead's run permits and the fallback limiter's slots (SPEC §3).
//! - `random`: the command's SplitMix64 generator (SPEC v2 §10).
//! - `backoff`: retry backoff caps and jitter (SPEC v2 §11.1–11.2).
//! - `budget`: the retry budget's bucketed window of deposits and withdrawals (SPEC v2 §12).
//! - `rate_limiter`: GCRA on an exact integer clock (SPEC v2 §13).
//! - `adaptive`: the adaptive concurrency limit, AIMD and Gradient2 (SPEC v2 §15).
//!
//! The v2 policies are plain single-threaded state with `&mut self` methods;
//! the command serialises access to them.

pub(crate) mod adaptive;
pub(crate) mod backoff;
pub(crate) mod budget;
pub(crate) mod permits;
pub(crate) mod random;
pub(crate) mod rate_limiter;
pub(crate) mod strategies;
