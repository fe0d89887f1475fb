//! The configuration in force, kept as one atomic per field so the hot path
//! reads it with plain loads: no lock, no reference count. A
//! reconfiguration stores field by field; a call racing with it may see a
//! mix of old and new values, each of them valid on its own.

use crate::config::{Config, Jitter, LimitMode};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering, Ordering::Relaxed};

/// A named setting stored as its index in the type's `ALL` list.
pub(crate) trait NamedSetting: Copy + 'static {
    const ALL: &'static [Self];
    fn index(self) -> u8;
}

impl NamedSetting for Jitter {
    const ALL: &'static [Jitter] = &Jitter::ALL;
    fn index(self) -> u8 {
        self as u8
    }
}

impl NamedSetting for LimitMode {
    const ALL: &'static [LimitMode] = &LimitMode::ALL;
    fn index(self) -> u8 {
        self as u8
    }
}

/// An atomic named setting, with the same `load`/`store` as the std atomics
/// so the field-by-field macros treat every field alike.
pub(crate) struct AtomicNamed<T: NamedSetting>(AtomicU8, PhantomData<T>);

impl<T: NamedSetting> From<T> for AtomicNamed<T> {
    fn from(v: T) -> Self {
        AtomicNamed(AtomicU8::new(v.index()), PhantomData)
    }
}

impl<T: NamedSetting> AtomicNamed<T> {
    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> T {
        T::ALL[usize::from(self.0.load(order))]
    }

    #[inline]
    pub(crate) fn store(&self, v: T, order: Ordering) {
        self.0.store(v.index(), order);
    }
}

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
    pub(crate) random_seed: AtomicU64,
    pub(crate) retry_max_attempts: AtomicU64,
    pub(crate) retry_on_timeout: AtomicBool,
    pub(crate) retry_on_rejected: AtomicBool,
    pub(crate) retry_base_delay_ms: AtomicU64,
    pub(crate) retry_multiplier_permille: AtomicU64,
    pub(crate) retry_max_delay_ms: AtomicU64,
    pub(crate) retry_jitter: AtomicNamed<Jitter>,
    pub(crate) deadline_ms: AtomicU64,
    pub(crate) retry_budget_percent: AtomicU64,
    pub(crate) retry_budget_min_per_sec: AtomicU64,
    pub(crate) retry_budget_window_ms: AtomicU64,
    pub(crate) retry_budget_window_buckets: AtomicU64,
    pub(crate) rate_limit_for_period: AtomicU64,
    pub(crate) rate_limit_period_ms: AtomicU64,
    pub(crate) rate_limit_burst: AtomicU64,
    pub(crate) rate_limit_timeout_ms: AtomicU64,
    pub(crate) hedge_max_attempts: AtomicU64,
    pub(crate) hedge_delay_ms: AtomicU64,
    pub(crate) hedge_on_failure: AtomicBool,
    pub(crate) concurrency_limit_mode: AtomicNamed<LimitMode>,
    pub(crate) adaptive_initial_limit: AtomicU64,
    pub(crate) adaptive_min_limit: AtomicU64,
    pub(crate) adaptive_max_limit: AtomicU64,
    pub(crate) adaptive_window_ms: AtomicU64,
    pub(crate) adaptive_window_min_samples: AtomicU64,
    pub(crate) adaptive_drop_on_failure: AtomicBool,
    pub(crate) aimd_backoff_permille: AtomicU64,
    pub(crate) aimd_timeout_ms: AtomicU64,
    pub(crate) gradient2_smoothing_permille: AtomicU64,
    pub(crate) gradient2_queue_size: AtomicU64,
    pub(crate) gradient2_long_window: AtomicU64,
    pub(crate) gradient2_rtt_tolerance_permille: AtomicU64,
    /// [`Config::v2_features`] of the configuration last stored: one load
    /// tells the hot path whether any v2 feature is on.
    v2_features: AtomicU32,
}

impl LiveConfig {
    pub(crate) fn new(c: &Config) -> LiveConfig {
        macro_rules! build {
            ($($f:ident),*) => { LiveConfig { $($f: c.$f.into(),)* v2_features: c.v2_features().into() } };
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
        self.v2_features.store(c.v2_features(), Relaxed);
    }

    /// The [`crate::config::feature`] bits of the configuration in force
    /// (`0`: no v2 feature is on).
    #[inline]
    #[allow(dead_code)] // read by the v2 call pipeline
    pub(crate) fn v2_features(&self) -> u32 {
        self.v2_features.load(Relaxed)
    }
}
