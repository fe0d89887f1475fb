//! # hystrix-core
//!
//! Netflix Hystrix's execution model — circuit breaker, timeouts, bulkhead,
//! fallbacks and rolling health metrics — as one deterministic state machine
//! with time as an input. The semantics are those of the project's SPEC v1;
//! the JavaScript, Python and C bindings drive this same core.
//!
//! ```
//! use hystrix_core::{Command, Config, Error, RunError};
//!
//! let cmd = Command::new(Config { timeout_ms: 200, ..Config::default() }).unwrap();
//! let value: Result<u32, Error<String>> = cmd.execute_or(
//!     || Err(RunError::Failure("backend down".to_string())),
//!     |_cause| Ok(7),
//! );
//! assert_eq!(value.unwrap(), 7);
//! assert_eq!(cmd.snapshot().rolling.get(hystrix_core::EventType::FallbackSuccess), 1);
//! ```
#![warn(missing_docs)]

#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_internals;
mod call;
mod command;
mod command_context;
pub mod config;
mod drivers;
pub mod error;
mod error_context;
pub mod event;
pub mod listener;
mod live_config;
mod metrics;
pub mod observe;
mod policy;
mod registry;
mod registry_hosted;
mod settings_conflict;
mod settings_patch;
mod sync;
pub mod time;

// The public module paths of earlier releases, and the crate-internal
// paths the rest of the core uses, over the folders above.
pub use metrics::{latency, snapshot};
use metrics::{ring, window};
pub use time::{clock, timers, virtual_clock};

pub use call::execution::{Execution, Resolution, RunOutcome, Step};
pub use call::{Action, AttemptId, Call, CallTimer, Input, Original, Settlement};
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use clock::MonotonicClock;
pub use clock::{Clock, FnClock, Sleeper, Timer};
pub use command::Command;
pub use config::{Config, Given, Jitter, LimitMode, Setting};
pub use error::{
    ConfigError, Context, Error, ErrorKind, Fault, RunError, SettingsConflict, SettingsError, CONTEXT_SETTINGS,
    CONTEXT_SETTINGS_JOINED,
};
pub use event::{CircuitState, EventType};
pub use listener::{ListenerId, Notice, Topic};
pub use registry::Registry;
pub use registry_hosted::Entered;
pub use settings_patch::{SettingsPatch, NO_SETTINGS, NO_SETTINGS_AT};
pub use snapshot::{EventCounts, Health, Snapshot};
pub use time::passed_in::TimePassedIn;
pub use timers::{TimerId, TimerQueue};
pub use virtual_clock::VirtualClock;
pub use window::HealthCounts;

/// The user guide's Rust samples (docs/guide), run as doc tests in the
/// workspace only, like the README's.
#[cfg(all(doctest, hystrix_repo_readme))]
mod guide_samples;

/// The repository README's Rust examples, compiled and run as doc tests
/// (only in the workspace: the published crate does not carry that file).
#[cfg(all(doctest, hystrix_repo_readme))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The crate README's example (the page crates.io shows), run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
