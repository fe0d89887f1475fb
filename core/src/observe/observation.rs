//! [`Observation`]: the snapshots of one render, gathered by a host that
//! keeps its own list of commands (the JS and Python registries, a C
//! program's handles), rendered as one `hystrix.stream` tick, one
//! Prometheus exposition or its metric families exactly as [`Registry`](crate::Registry) renders
//! its own commands.

use super::{families, families_json, pool, pool_metrics, prometheus, stream, MetricFamily, StreamOptions};
use crate::command::Command;
use crate::config::Config;
use crate::snapshot::Snapshot;

/// Read-only snapshots of a set of commands, each taken at a time the host
/// gives (its command's clock), with the stream options of each command.
/// Anonymous commands (empty name) are left out; the render is sorted by
/// name, whatever the order of [`Observation::add`].
#[derive(Default)]
pub struct Observation {
    /// Snapshots and configurations, sorted by name.
    items: Vec<(Snapshot, Config)>,
    /// The stream options of `items[i]`.
    options: Vec<StreamOptions>,
}

impl Observation {
    /// An empty observation.
    pub fn new() -> Observation {
        Observation::default()
    }

    /// Adds `command`'s observer snapshot taken at `now` (never trips a
    /// circuit, never refreshes the decision snapshot). An anonymous
    /// command is ignored.
    pub fn add(&mut self, command: &Command, now: u64, options: StreamOptions) {
        if command.name().is_empty() {
            return;
        }
        self.add_observed(command.observe_at(now), command.config(), options);
    }

    /// Adds a snapshot taken by [`Command::observe_at`] and the command's
    /// configuration, for hosts whose commands live elsewhere (decoded by
    /// [`wire::decode`](super::wire::decode)); rendered exactly as
    /// [`Observation::add`] of that command. An anonymous snapshot is ignored.
    pub fn add_observed(&mut self, snap: Snapshot, config: Config, options: StreamOptions) {
        if snap.name.is_empty() {
            return;
        }
        let at = self.items.partition_point(|(s, _)| s.name <= snap.name);
        self.items.insert(at, (snap, config));
        self.options.insert(at, options);
    }

    /// How many commands were added (anonymous ones aside).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no named command was added.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// One tick of `hystrix.stream`: `data: {json}\n\n` per command, sorted
    /// by name, each followed by its `HystrixThreadPool` frame when it was
    /// added with thread isolation and a pool ([`StreamOptions::pool`]),
    /// `currentTime` = `wall_clock_ms`. Empty without commands (the host
    /// still writes its [`stream::PING`]).
    pub fn stream_frames(&self, wall_clock_ms: u64) -> String {
        let mut out = String::new();
        for ((snap, cfg), options) in self.items.iter().zip(&self.options) {
            out.push_str("data: ");
            stream::write_frame(&mut out, snap, cfg, wall_clock_ms, options);
            out.push_str("\n\n");
            if let Some(stats) = options.thread_pool() {
                out.push_str("data: ");
                pool::write_pool_frame(&mut out, snap, cfg, stats, wall_clock_ms);
                out.push_str("\n\n");
            }
        }
        out
    }

    /// The Prometheus text exposition of the commands, sorted by name,
    /// written from [`Observation::families`].
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        prometheus::write_families(&mut out, &self.families());
        out
    }

    /// The metric families of the commands (sorted by name): the
    /// structured form of [`Observation::prometheus`], which is written
    /// from them. The `hystrix_threadpool_*` families come last, with a
    /// series for each command added with thread isolation and a pool.
    pub fn families(&self) -> Vec<MetricFamily> {
        let mut out = families(&self.items);
        let pools: Vec<_> = self
            .items
            .iter()
            .zip(&self.options)
            .filter_map(|((snap, _), options)| options.thread_pool().map(|pool| (snap, pool)))
            .collect();
        out.extend(pool_metrics::pool_families(&pools));
        out
    }

    /// [`Observation::families`] as JSON (see [`families_json()`]).
    pub fn families_json(&self) -> String {
        families_json(&self.families())
    }
}
