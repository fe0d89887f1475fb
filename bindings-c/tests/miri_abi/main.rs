//! The C ABI driven from Rust, one `extern "C"` function at a time, so that
//! Miri can check what C tests cannot: every pointer the library reads or
//! writes stays inside what the caller gave it, nothing is read
//! uninitialised, and handles, callbacks and buffers are used soundly
//! (`scripts/miri.sh`, issue #11). The same tests run natively in
//! `cargo test -p hystrix-c`.
//!
//! Every test uses a virtual clock (no timer thread) or the default clock
//! without timers, so that it is deterministic and quick under Miri.

mod async_calls;
mod clocks;
mod config;
mod listeners;
mod misuse;
mod observe;
mod support;
mod sync_execute;
