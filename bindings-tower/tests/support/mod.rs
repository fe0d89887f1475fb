//! What the layer's tests share: a command on tokio's (paused) clock, and
//! counters and drop flags to watch the inner service with.
#![allow(dead_code)]

use hystrix_core::{Command, EventType};
#[cfg(feature = "tokio")]
use hystrix_tower::TokioClock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A command called `backend` reading tokio's clock (paused in the tests,
/// so timeouts and backoff are exact and instant).
#[cfg(feature = "tokio")]
pub fn command(config: hystrix_core::Config) -> Command {
    Command::with_clock("backend", config, Arc::new(TokioClock::new())).unwrap()
}

/// Count of `event` in the command's rolling window.
pub fn count(command: &Command, event: EventType) -> u64 {
    command.snapshot().rolling.get(event)
}

/// A shared counter, e.g. of calls reaching the inner service.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// Adds one and returns the new count.
    pub fn bump(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The count.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Set when the value holding it is dropped: put one in an inner future to
/// see it dropped.
#[derive(Clone, Default)]
pub struct DropFlag(Arc<AtomicBool>);

impl DropFlag {
    /// A guard that sets this flag when dropped.
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    /// Whether a guard was dropped.
    pub fn dropped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Sets its [`DropFlag`] when dropped.
pub struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The inner service's error in the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boom(pub &'static str);

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "boom: {}", self.0)
    }
}

impl std::error::Error for Boom {}

/// A waker that does nothing, to poll by hand.
pub fn noop_waker() -> std::task::Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    std::task::Waker::from(Arc::new(Noop))
}
