//! The configuration of the `strategies` bench's retried call, shared with
//! the `count_calls` and `count_driver_calls` examples that count it.

use hystrix_core::{Config, Jitter};

/// 3 attempts, 0 ms backoff, no jitter, and a circuit that 2 failures in 3
/// never trip (`error_threshold_percentage` 100).
pub fn retry_config() -> Config {
    Config {
        retry_max_attempts: 3,
        retry_base_delay_ms: 0,
        retry_max_delay_ms: 0,
        retry_jitter: Jitter::None,
        error_threshold_percentage: 100,
        ..Config::default()
    }
}
