//! The Prometheus families of host thread pools (Python's thread
//! isolation): gauges of the pool's figures as the host reports them
//! ([`PoolStats`]), with the labels of every other series (`name` and
//! `group`, the command's name). Shapes follow Micrometer's executor
//! metrics under the `hystrix_threadpool_` prefix. Written only when at
//! least one command has a pool, so an exposition without pools is
//! unchanged. Every metric is documented in `docs/observability.md`.

use super::pool::PoolStats;
use super::prometheus::escape_label_value;
use crate::snapshot::Snapshot;
use std::fmt::Write;

/// A family: name, type, help, and the figure each sample reports.
type Family = (&'static str, &'static str, &'static str, fn(&PoolStats) -> u64);

/// The families, in the order they are written.
const FAMILIES: [Family; 5] = [
    ("hystrix_threadpool_active_threads", "gauge", "Pool threads running a task now.", |p| p.active),
    ("hystrix_threadpool_pool_size_threads", "gauge", "Pool threads alive now, busy or idle.", |p| p.pool_size),
    ("hystrix_threadpool_pool_max_threads", "gauge", "Most threads the pool may have.", |p| p.maximum_pool_size),
    ("hystrix_threadpool_queued_tasks", "gauge", "Tasks waiting for a pool thread now.", |p| p.queue_size),
    ("hystrix_threadpool_completed_tasks_total", "counter", "Tasks the pool finished since it was made.", |p| {
        p.completed_tasks
    }),
];

/// Appends the pool families for `pools` (each command's snapshot and its
/// pool, in the order given); nothing when `pools` is empty.
pub(crate) fn write<'a>(out: &mut String, pools: &[(&'a Snapshot, &'a PoolStats)]) {
    if pools.is_empty() {
        return;
    }
    for (metric, kind, help, figure) in FAMILIES {
        let _ = write!(out, "# HELP {metric} {help}\n# TYPE {metric} {kind}\n");
        for (snap, pool) in pools {
            out.push_str(metric);
            out.push_str("{name=\"");
            escape_label_value(out, &snap.name);
            out.push_str("\",group=\"");
            escape_label_value(out, &snap.name);
            let _ = writeln!(out, "\"}} {}", figure(pool));
        }
    }
}
