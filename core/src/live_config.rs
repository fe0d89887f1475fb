//! The configuration in force, kept as one atomic per field so the hot path
//! reads it with plain loads: no lock, no reference count. A
//! reconfiguration stores field by field; a call racing with it may see a
//! mix of old and new values, each of them valid on its own.

use crate::config::Config;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

pub(crate) struct LiveConfig {
    timeout_enabled: AtomicBool,
    timeout_ms: AtomicU64,
    max_concurrent_requests: AtomicU64,
    fallback_enabled: AtomicBool,
    fallback_max_concurrent_requests: AtomicU64,
    circuit_breaker_enabled: AtomicBool,
    request_volume_threshold: AtomicU64,
    error_threshold_percentage: AtomicU64,
    sleep_window_ms: AtomicU64,
    half_open_max_calls: AtomicU64,
    force_open: AtomicBool,
    force_closed: AtomicBool,
    rolling_window_ms: AtomicU64,
    rolling_window_buckets: AtomicU64,
    health_snapshot_interval_ms: AtomicU64,
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
