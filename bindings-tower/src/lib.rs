//! # hystrix-tower
//!
//! A [`tower`] [`Layer`](tower_layer::Layer) that runs every call of a
//! service through a [`hystrix_core::Command`]: circuit breaker, bulkhead,
//! timeout, rate limiter, deadline, retry with backoff, hedging and an
//! optional fallback — the same execution model the hystrix JavaScript,
//! Python and C bindings drive, decided by the core's async driver.
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use hystrix_core::{Command, Config};
//! use hystrix_tower::{HystrixError, HystrixLayer};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let command = Command::new(Config { timeout_ms: 250, max_concurrent_requests: 64, ..Config::default() }).unwrap();
//! let mut users = ServiceBuilder::new()
//!     .layer(HystrixLayer::new(command.clone()))
//!     .service(service_fn(|id: u32| async move {
//!         if id == 0 { Err(std::io::Error::other("no such user")) } else { Ok(format!("user {id}")) }
//!     }));
//!
//! let name = users.ready().await.unwrap().call(7).await.unwrap();
//! assert_eq!(name, "user 7");
//! let err = users.ready().await.unwrap().call(0).await.unwrap_err();
//! assert!(matches!(err, HystrixError::Service(ref e) if e.to_string() == "no such user"));
//! // Errors box into tower's `BoxError` when the inner error is a concrete error type.
//! let boxed: tower::BoxError = err.into();
//! assert_eq!(boxed.to_string(), "the inner service failed");
//! assert_eq!(command.snapshot().rolling.get(hystrix_core::EventType::Failure), 1);
//! # }
//! ```
//!
//! See [`HystrixService`] for how `poll_ready`, `Clone` and the two attempt
//! modes ([`EveryAttempt`], [`OneAttempt`]) behave, and [`HystrixError`]
//! for the error. The `tokio` feature (on by default) gives
//! [`HystrixLayer::new`] with tokio's timer ([`TokioSleeper`], a
//! [`Timer`](hystrix_core::Timer)) and
//! [`TokioClock`]; without it the layer runs on any runtime through
//! [`HystrixLayer::with_sleeper`].
//!
//! [`tower`]: https://docs.rs/tower
#![warn(missing_docs)]

mod attempts;
mod classify;
mod error;
mod fallback;
mod layer;
mod service;
#[cfg(feature = "tokio")]
mod tokio_time;

pub use attempts::{EveryAttempt, OneAttempt};
pub use classify::{AllFailures, BadRequestIf, Classify};
pub use error::{BoxError, BoxedError, HystrixError};
pub use fallback::{Fallback, FallbackFn, NoFallback};
pub use layer::HystrixLayer;
pub use service::{HystrixService, ResponseFuture};
#[cfg(feature = "tokio")]
pub use tokio_time::{TokioClock, TokioSleeper};

/// The crate README's examples (the page crates.io shows), run as doc
/// tests (they use the `tokio` feature).
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
