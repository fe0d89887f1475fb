//! The configuration in force, kept as one atomic per field so the hot path
//! reads it with plain loads: no lock, no reference count. A
//! reconfiguration stores field by field; a call racing with it may see a
//! mix of old and new values, each of them valid on its own.

use crate::config::Config;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Fields are public to the crate so the hot path can load just the ones
/// it needs (a relaxed load each) instead of the whole [`Config`].
pub(crate) struct LiveConfig {
    pub(crate) timeout_enabled: AtomicBool,
    pub(crate) timeout_ms: AtomicU64,
    pub(crate) max_concurrent_requests: AtomicU64,
    pub(crate) fallback_enabled: AtomicBool,
    pub(crate) fallback_max_concurrent_requests: AtomicU64,
    pub(crate) circuit_breaker_enabled: AtomicBool,
    pub(crate) request_volume_threshold: AtomicU64,
    pub(crate) error_threshold_percentage: AtomicU64,
    pub(crate) sleep_window_ms: AtomicU64,
    pub(crate) half_open_max_calls: AtomicU64,
    pub(crate) force_open: AtomicBool,
    pub(crate) force_closed: AtomicBool,
    pub(crate) rolling_window_ms: AtomicU64,
    pub(crate) rolling_window_buckets: AtomicU64,
    pub(crate) health_snapshot_interval_ms: AtomicU64,
}

impl LiveConfig {
    pub(crate) fn new(c: &Config) -> LiveConfig {
        macro_rules! build {
            ($($f:ident),*) => { LiveConfig { $($f: c.$f.into()),* } };
        }
        crate::for_each_config_field!(build)
    }

    #[inline]
    pub(crate) fn load(&self) -> Config {
        macro_rules! read {
            ($($f:ident),*) => { Config { $($f: self.$f.load(Relaxed)),* } };
        }
        crate::for_each_config_field!(read)
    }

    pub(crate) fn store(&self, c: &Config) {
        macro_rules! write {
            ($($f:ident),*) => {{ $(self.$f.store(c.$f, Relaxed);)* }};
        }
        crate::for_each_config_field!(write);
    }
}
