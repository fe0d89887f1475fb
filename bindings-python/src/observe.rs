//! Observing commands from Python (issue #12): `hystrix.observe` gathers
//! its registry's circuits, each with its clock's time, and the core
//! renders the `hystrix.stream` tick and the Prometheus exposition; the
//! page is the core's bytes. The package only serves them.

use crate::NativeCommand;
use hystrix_core::observe::{self, Isolation, Observation, PoolStats, StreamOptions};
use pyo3::prelude::*;

/// A thread pool's figures, in the order of [`PoolStats`]'s fields.
type PoolFigures = (u64, u64, u64, u64, u64, u64, u64, u64, u64);

/// What to render: a command, its time in ms, whether it reports thread
/// isolation, and its thread pool's figures (a `HystrixThreadPool` frame
/// follows its frame, and `hystrix_threadpool_*` series join the metrics,
/// when given with thread isolation).
pub(crate) type Item<'py> = (Bound<'py, NativeCommand>, u64, bool, Option<PoolFigures>);

/// The [`PoolStats`] of `figures`.
fn pool_stats(figures: &PoolFigures) -> PoolStats {
    let &(
        active,
        completed_tasks,
        core_pool_size,
        largest_pool_size,
        maximum_pool_size,
        pool_size,
        queue_size,
        task_count,
        queue_size_rejection_threshold,
    ) = figures;
    PoolStats {
        active,
        completed_tasks,
        core_pool_size,
        largest_pool_size,
        maximum_pool_size,
        pool_size,
        queue_size,
        task_count,
        queue_size_rejection_threshold,
    }
}

/// The observation of `items` (anonymous commands left out, sorted by name).
pub(crate) fn observation(items: &[Item<'_>]) -> Observation {
    let mut o = Observation::new();
    for (native, now, thread, pool) in items {
        let native = native.get();
        native.hand_over_listener_errors();
        let isolation = if *thread { Isolation::Thread } else { Isolation::Semaphore };
        o.add(&native.cmd, *now, StreamOptions { isolation, pool: pool.as_ref().map(pool_stats) });
    }
    o
}

/// The Prometheus text exposition (format 0.0.4) of `[(command, now_ms, thread, pool)]`.
#[pyfunction]
pub(crate) fn render_prometheus(items: Vec<Item<'_>>) -> String {
    observation(&items).prometheus()
}

/// One `hystrix.stream` tick (`data: {json}\n\n` per named command, sorted
/// by name, each thread-isolated one with a pool followed by its pool's
/// frame) of `[(command, now_ms, thread, pool)]`, `currentTime` = `wall_clock_ms`.
#[pyfunction]
pub(crate) fn render_stream(items: Vec<Item<'_>>, wall_clock_ms: u64) -> String {
    observation(&items).stream_frames(wall_clock_ms)
}

/// Adds the renderers and the transport constants to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(render_prometheus, m)?)?;
    m.add_function(wrap_pyfunction!(render_stream, m)?)?;
    m.add_function(wrap_pyfunction!(crate::families::metric_families, m)?)?;
    m.add("DASHBOARD_HTML", observe::DASHBOARD_HTML)?;
    m.add("DASHBOARD_CONTENT_TYPE", observe::DASHBOARD_CONTENT_TYPE)?;
    m.add("PROMETHEUS_CONTENT_TYPE", observe::prometheus::CONTENT_TYPE)?;
    m.add("STREAM_HEADERS", observe::stream::HEADERS.to_vec())?;
    m.add("STREAM_PING", observe::stream::PING)?;
    m.add("STREAM_INTERVAL_MS", observe::stream::DEFAULT_INTERVAL_MS)?;
    m.add("STREAM_MAX_CONNECTIONS", observe::stream::DEFAULT_MAX_CONNECTIONS)?;
    Ok(())
}
