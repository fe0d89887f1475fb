//! The metric families of host thread pools (Python's thread isolation):
//! the pool's figures as the host reports them ([`PoolStats`]), with the
//! labels of every other series (`name` and `group`, the command's name).
//! Shapes follow Micrometer's executor metrics under the
//! `hystrix_threadpool_` prefix. They come after the command families and,
//! like those, are always there (without a series when no command has a
//! pool), so an exporter that registers its instruments once, at start,
//! has them before the first pool exists. Every metric is documented in
//! `docs/observability.md`.

use super::families::{MetricFamily, MetricType, Sample, Samples, Unit, Value};
use super::pool::PoolStats;
use crate::snapshot::Snapshot;

/// A family: name, type, help, and the figure each series reports.
type Family = (&'static str, MetricType, &'static str, fn(&PoolStats) -> u64);

/// The families, in the order they are written.
const FAMILIES: [Family; 5] = [
    ("hystrix_threadpool_active_threads", MetricType::Gauge, "Pool threads running a task now.", |p| p.active),
    ("hystrix_threadpool_pool_size_threads", MetricType::Gauge, "Pool threads alive now, busy or idle.", |p| {
        p.pool_size
    }),
    ("hystrix_threadpool_pool_max_threads", MetricType::Gauge, "Most threads the pool may have.", |p| {
        p.maximum_pool_size
    }),
    ("hystrix_threadpool_queued_tasks", MetricType::Gauge, "Tasks waiting for a pool thread now.", |p| p.queue_size),
    (
        "hystrix_threadpool_completed_tasks_total",
        MetricType::Counter,
        "Tasks the pool finished since it was made.",
        |p| p.completed_tasks,
    ),
];

/// The pool families of `pools` (each command's snapshot and its pool, in
/// the order given); each family has no series when `pools` is empty.
pub(crate) fn pool_families(pools: &[(&Snapshot, &PoolStats)]) -> Vec<MetricFamily> {
    FAMILIES
        .iter()
        .map(|&(name, metric_type, help, figure)| MetricFamily {
            name,
            help,
            metric_type,
            unit: Unit::None,
            label_names: vec!["name", "group"],
            samples: Samples::Scalar(
                pools
                    .iter()
                    .map(|(snap, pool)| Sample {
                        labels: vec![snap.name.clone(), snap.name.clone()],
                        value: Value::Count(figure(pool)),
                    })
                    .collect(),
            ),
        })
        .collect()
}
