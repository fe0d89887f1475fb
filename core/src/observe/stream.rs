//! The Hystrix 1.5 `hystrix.stream` command frame: the `"type":
//! "HystrixCommand"` JSON object with every field Hystrix 1.5's dashboard
//! serializer emits, in its order (Netflix/Hystrix v1.5.18,
//! `SerialHystrixDashboardData.writeCommandMetrics`), every number an
//! integer (Turbine treats decimals as strings), plus `circuitState`.
//!
//! Field sources, where ours differ from Hystrix's:
//! - `group` and `threadPool` are the command's name (commands have no group yet);
//! - `currentTime` is the wall-clock epoch milliseconds the host passes in;
//! - `isCircuitBreakerOpen` is true while open (or forced open) and while
//!   half-open, as in Hystrix; `circuitState` tells them apart;
//! - counts Hystrix has and we do not (collapsed, emit, response from
//!   cache) are 0; `rollingCountExceptionsThrown` is Hystrix's derived sum
//!   (bad request and every failed fallback);
//! - means are rounded to the nearest millisecond;
//! - after Hystrix's fields come ours: `circuitState`, then the rolling
//!   counts of the SPEC v2 events ([`V2_COUNTS`]), named as Hystrix names
//!   its own counts, so Turbine sums them like the others.

use super::json;
use super::pool::PoolStats;
use crate::config::Config;
use crate::event::{CircuitState, EventType};
use crate::latency::Percentiles;
use crate::snapshot::Snapshot;
use std::fmt::Write;

/// The response headers of a `hystrix.stream` endpoint (Hystrix 1.5's
/// `HystrixSampleSseServlet`), name and value.
pub const HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "text/event-stream;charset=UTF-8"),
    ("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate"),
    ("Pragma", "no-cache"),
];

/// The keep-alive written every interval, as Hystrix 1.5 does.
pub const PING: &str = "ping: \n\n";

/// Hystrix's default interval between ticks, in milliseconds.
pub const DEFAULT_INTERVAL_MS: u64 = 500;

/// Hystrix's default limit of concurrent stream connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 5;

/// How calls are isolated, as the dashboard shows it
/// (`propertyValue_executionIsolationStrategy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// The core's bulkhead (a semaphore): rejections are
    /// `rollingCountSemaphoreRejected`.
    #[default]
    Semaphore,
    /// A host's thread pool (Python thread isolation): bulkhead rejections
    /// are reported as `rollingCountThreadPoolRejected`.
    Thread,
}

/// Options of a stream frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamOptions {
    /// The isolation strategy reported.
    pub isolation: Isolation,
    /// The command's thread pool: with [`Isolation::Thread`], its
    /// `"type":"HystrixThreadPool"` frame follows the command's frame
    /// (ignored with [`Isolation::Semaphore`]). The registry renderers,
    /// which have one set of options for every command, ignore it.
    pub pool: Option<PoolStats>,
}

impl StreamOptions {
    /// The pool to render after the command's frame, if any: `pool` under
    /// thread isolation.
    pub fn thread_pool(&self) -> Option<&PoolStats> {
        match self.isolation {
            Isolation::Thread => self.pool.as_ref(),
            Isolation::Semaphore => None,
        }
    }
}

/// The `circuitState` value of a reported state.
pub fn circuit_state_name(state: CircuitState) -> &'static str {
    match state {
        CircuitState::Closed => "CLOSED",
        CircuitState::Open => "OPEN",
        CircuitState::HalfOpen => "HALF_OPEN",
    }
}

/// A JSON object being written, one key after another.
pub(super) struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Writes keys into `out`, after its `{`.
    pub(super) fn new(out: &'a mut String) -> Obj<'a> {
        Obj { out, first: true }
    }
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        json::write_str(self.out, k);
        self.out.push(':');
    }
    pub(super) fn num(&mut self, k: &str, v: u64) {
        self.key(k);
        let _ = write!(self.out, "{v}");
    }
    fn boolean(&mut self, k: &str, v: bool) {
        self.key(k);
        self.out.push_str(if v { "true" } else { "false" });
    }
    pub(super) fn string(&mut self, k: &str, v: &str) {
        self.key(k);
        json::write_str(self.out, v);
    }
    fn null(&mut self, k: &str) {
        self.key(k);
        self.out.push_str("null");
    }
    fn percentiles(&mut self, k: &str, p: &Percentiles) {
        self.key(k);
        let _ = write!(
            self.out,
            "{{\"0\":{},\"25\":{},\"50\":{},\"75\":{},\"90\":{},\"95\":{},\"99\":{},\"99.5\":{},\"100\":{}}}",
            p.p0, p.p25, p.p50, p.p75, p.p90, p.p95, p.p99, p.p99_5, p.p100
        );
    }
}

/// A mean in whole milliseconds (Turbine sums integers only).
fn whole(mean: f64) -> u64 {
    if mean.is_finite() && mean > 0.0 {
        mean.round() as u64
    } else {
        0
    }
}

/// The frame's fields for the SPEC v2 events, after `circuitState`: each
/// the event's rolling count (SPEC §16), in `EventType` order.
pub const V2_COUNTS: [(&str, EventType); 5] = [
    ("rollingCountCancelled", EventType::Cancelled),
    ("rollingCountRateLimited", EventType::RateLimited),
    ("rollingCountRetry", EventType::Retry),
    ("rollingCountHedge", EventType::Hedge),
    ("rollingCountRetryBudgetExhausted", EventType::RetryBudgetExhausted),
];

/// Appends the frame's JSON object (one line, no `data: ` prefix).
pub fn write_frame(out: &mut String, snap: &Snapshot, cfg: &Config, wall_clock_ms: u64, options: &StreamOptions) {
    let rolling = |e: EventType| snap.rolling.get(e);
    let thread = options.isolation == Isolation::Thread;
    let rejected = rolling(EventType::SemaphoreRejected);
    out.push('{');
    let mut o = Obj::new(out);
    o.string("type", "HystrixCommand");
    o.string("name", &snap.name);
    o.string("group", &snap.name);
    o.num("currentTime", wall_clock_ms);
    o.boolean("isCircuitBreakerOpen", snap.state != CircuitState::Closed);
    o.num("errorPercentage", snap.health.error_percentage);
    o.num("errorCount", snap.health.errors);
    o.num("requestCount", snap.health.total);
    o.num("rollingCountBadRequests", rolling(EventType::BadRequest));
    o.num("rollingCountCollapsedRequests", 0);
    o.num("rollingCountEmit", 0);
    o.num(
        "rollingCountExceptionsThrown",
        [
            EventType::BadRequest,
            EventType::FallbackFailure,
            EventType::FallbackMissing,
            EventType::FallbackRejection,
            EventType::FallbackDisabled,
        ]
        .into_iter()
        .map(rolling)
        .sum(),
    );
    o.num("rollingCountFailure", rolling(EventType::Failure));
    o.num("rollingCountFallbackEmit", 0);
    o.num("rollingCountFallbackFailure", rolling(EventType::FallbackFailure));
    o.num("rollingCountFallbackMissing", rolling(EventType::FallbackMissing));
    o.num("rollingCountFallbackRejection", rolling(EventType::FallbackRejection));
    o.num("rollingCountFallbackSuccess", rolling(EventType::FallbackSuccess));
    o.num("rollingCountResponsesFromCache", 0);
    o.num("rollingCountSemaphoreRejected", if thread { 0 } else { rejected });
    o.num("rollingCountShortCircuited", rolling(EventType::ShortCircuited));
    o.num("rollingCountSuccess", rolling(EventType::Success));
    o.num("rollingCountThreadPoolRejected", if thread { rejected } else { 0 });
    o.num("rollingCountTimeout", rolling(EventType::Timeout));
    o.num("currentConcurrentExecutionCount", u64::from(snap.concurrent));
    o.num("rollingMaxConcurrentExecutionCount", u64::from(snap.rolling_max_concurrent));
    o.num("latencyExecute_mean", whole(snap.latency_run.mean));
    o.percentiles("latencyExecute", &snap.latency_run);
    o.num("latencyTotal_mean", whole(snap.latency_total.mean));
    o.percentiles("latencyTotal", &snap.latency_total);
    o.num("propertyValue_circuitBreakerRequestVolumeThreshold", cfg.request_volume_threshold);
    o.num("propertyValue_circuitBreakerSleepWindowInMilliseconds", cfg.sleep_window_ms);
    o.num("propertyValue_circuitBreakerErrorThresholdPercentage", cfg.error_threshold_percentage);
    o.boolean("propertyValue_circuitBreakerForceOpen", cfg.force_open);
    o.boolean("propertyValue_circuitBreakerForceClosed", cfg.force_closed);
    o.boolean("propertyValue_circuitBreakerEnabled", cfg.circuit_breaker_enabled);
    o.string("propertyValue_executionIsolationStrategy", if thread { "THREAD" } else { "SEMAPHORE" });
    o.num("propertyValue_executionIsolationThreadTimeoutInMilliseconds", cfg.timeout_ms);
    o.num("propertyValue_executionTimeoutInMilliseconds", cfg.timeout_ms);
    o.boolean("propertyValue_executionIsolationThreadInterruptOnTimeout", true);
    o.null("propertyValue_executionIsolationThreadPoolKeyOverride");
    o.num("propertyValue_executionIsolationSemaphoreMaxConcurrentRequests", cfg.max_concurrent_requests);
    o.num("propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests", cfg.fallback_max_concurrent_requests);
    o.num("propertyValue_metricsRollingStatisticalWindowInMilliseconds", cfg.rolling_window_ms);
    o.boolean("propertyValue_requestCacheEnabled", false);
    o.boolean("propertyValue_requestLogEnabled", false);
    o.num("reportingHosts", 1);
    o.string("threadPool", &snap.name);
    o.string("circuitState", circuit_state_name(snap.state));
    for (key, event) in V2_COUNTS {
        o.num(key, rolling(event));
    }
    out.push('}');
}
