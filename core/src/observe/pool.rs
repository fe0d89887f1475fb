//! The Hystrix 1.5 `hystrix.stream` thread-pool frame: the `"type":
//! "HystrixThreadPool"` JSON object of a thread-isolated command's pool,
//! with every field Hystrix 1.5's dashboard serializer writes, in its order
//! (Netflix/Hystrix v1.5.18, `SerialHystrixDashboardData.writeThreadPoolMetrics`),
//! every number an integer (Turbine sums integers only).
//!
//! The host owns the pool, so the `current*` figures and the queue's
//! rejection threshold are its input ([`PoolStats`]). The rolling figures
//! are the command's own rolling window, as the pool runs nothing but the
//! command's attempts:
//! - `rollingCountThreadsExecuted`: attempts that ran (`SUCCESS`,
//!   `FAILURE`, `BAD_REQUEST`, `TIMEOUT`, `CANCELLED`), counted when their
//!   outcome is recorded, as Hystrix counts a pool's executions on completion;
//! - `rollingMaxActiveThreads`: the command's rolling maximum concurrency;
//! - `rollingCountCommandRejections`: the bulkhead's rejections (the
//!   command frame's `rollingCountThreadPoolRejected`).
//!
//! `name` is the pool key: the command's name, which is also the command
//! frame's `threadPool` (Hystrix's default pool key is the group key, and a
//! command's group is its name here).

use super::stream::Obj;
use crate::config::Config;
use crate::event::EventType;
use crate::snapshot::Snapshot;

/// A host's thread pool as it is now, reported in the pool frame under
/// the names of Java's `ThreadPoolExecutor` getters that Hystrix reads.
/// Each figure is a plain count the host already keeps; a pool not
/// created yet reports [`PoolStats::default`] (all zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Threads running a task now (`currentActiveCount`).
    pub active: u64,
    /// Tasks finished since the pool was made (`currentCompletedTaskCount`).
    pub completed_tasks: u64,
    /// Threads the pool keeps (`currentCorePoolSize`).
    pub core_pool_size: u64,
    /// Most threads the pool has had at once (`currentLargestPoolSize`).
    pub largest_pool_size: u64,
    /// Most threads the pool may have (`currentMaximumPoolSize`).
    pub maximum_pool_size: u64,
    /// Threads in the pool now, busy or idle (`currentPoolSize`).
    pub pool_size: u64,
    /// Tasks waiting for a thread now (`currentQueueSize`).
    pub queue_size: u64,
    /// Tasks ever handed to the pool: finished, running and queued
    /// (`currentTaskCount`).
    pub task_count: u64,
    /// The queue length at which the pool rejects work
    /// (`propertyValue_queueSizeRejectionThreshold`); `0` for a pool that
    /// never rejects on its queue (its bulkhead rejects first).
    pub queue_size_rejection_threshold: u64,
}

/// The attempt outcomes of a run that was handed to the pool.
const EXECUTED: [EventType; 5] =
    [EventType::Success, EventType::Failure, EventType::BadRequest, EventType::Timeout, EventType::Cancelled];

/// Appends the pool frame's JSON object (one line, no `data: ` prefix) of
/// the command whose snapshot is `snap`, with the host's `pool` figures and
/// `currentTime` = `wall_clock_ms`.
pub fn write_pool_frame(out: &mut String, snap: &Snapshot, cfg: &Config, pool: &PoolStats, wall_clock_ms: u64) {
    let rolling = |e: EventType| snap.rolling.get(e);
    out.push('{');
    let mut o = Obj::new(out);
    o.string("type", "HystrixThreadPool");
    o.string("name", &snap.name);
    o.num("currentTime", wall_clock_ms);
    o.num("currentActiveCount", pool.active);
    o.num("currentCompletedTaskCount", pool.completed_tasks);
    o.num("currentCorePoolSize", pool.core_pool_size);
    o.num("currentLargestPoolSize", pool.largest_pool_size);
    o.num("currentMaximumPoolSize", pool.maximum_pool_size);
    o.num("currentPoolSize", pool.pool_size);
    o.num("currentQueueSize", pool.queue_size);
    o.num("currentTaskCount", pool.task_count);
    o.num("rollingCountThreadsExecuted", EXECUTED.into_iter().map(rolling).sum());
    o.num("rollingMaxActiveThreads", u64::from(snap.rolling_max_concurrent));
    o.num("rollingCountCommandRejections", rolling(EventType::SemaphoreRejected));
    o.num("propertyValue_queueSizeRejectionThreshold", pool.queue_size_rejection_threshold);
    o.num("propertyValue_metricsRollingStatisticalWindowInMilliseconds", cfg.rolling_window_ms);
    o.num("reportingHosts", 1);
    out.push('}');
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
