use super::super::tests::{all_numbers_are_integers, keys_in_order};
use super::super::{Isolation, MetricType, Observation, Sample, Samples, StreamOptions, Value as FamilyValue};
use super::PoolStats;
use crate::{Config, Registry, RunError, VirtualClock};
use serde_json::Value;
use std::sync::Arc;

/// The keys of Hystrix 1.5's `HystrixThreadPool` dashboard object, in the
/// order its serializer writes them (Netflix/Hystrix v1.5.18,
/// hystrix-serialization/.../SerialHystrixDashboardData.java,
/// `writeThreadPoolMetrics`).
const HYSTRIX_15_POOL_KEYS: [&str; 17] = [
    "type",
    "name",
    "currentTime",
    "currentActiveCount",
    "currentCompletedTaskCount",
    "currentCorePoolSize",
    "currentLargestPoolSize",
    "currentMaximumPoolSize",
    "currentPoolSize",
    "currentQueueSize",
    "currentTaskCount",
    "rollingCountThreadsExecuted",
    "rollingMaxActiveThreads",
    "rollingCountCommandRejections",
    "propertyValue_queueSizeRejectionThreshold",
    "propertyValue_metricsRollingStatisticalWindowInMilliseconds",
    "reportingHosts",
];

/// Distinct figures, so a field reading the wrong one shows.
const STATS: PoolStats = PoolStats {
    active: 1,
    completed_tasks: 7,
    core_pool_size: 3,
    largest_pool_size: 2,
    maximum_pool_size: 4,
    pool_size: 5,
    queue_size: 6,
    task_count: 14,
    queue_size_rejection_threshold: 9,
};

fn thread(pool: Option<PoolStats>) -> StreamOptions {
    StreamOptions { isolation: Isolation::Thread, pool }
}

/// A registry with command `name` (bulkhead of 1, 5 s window) after 3
/// successes, 1 failure, 1 bad request and 1 bulkhead rejection (a call
/// made from inside a run, while the run holds the only permit).
fn busy(name: &str) -> (Arc<VirtualClock>, Registry) {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    reg.configure(name, Config { max_concurrent_requests: 1, rolling_window_ms: 5_000, ..Config::default() }).unwrap();
    let cmd = reg.get_or_create(name);
    for _ in 0..2 {
        let _ = cmd.execute(|| Ok::<u32, RunError<()>>(1));
    }
    let _ = cmd.execute(|| Err::<u32, _>(RunError::Failure(())));
    let _ = cmd.execute(|| Err::<u32, _>(RunError::BadRequest(())));
    let inner = cmd.clone();
    let _ = cmd.execute(|| {
        assert!(inner.execute(|| Ok::<u32, RunError<()>>(2)).is_err(), "the bulkhead is full");
        Ok::<u32, RunError<()>>(1)
    });
    (clock, reg)
}

/// The frames of one tick, parsed, with their raw text.
fn tick(observation: &Observation) -> Vec<(String, Value)> {
    let text = observation.stream_frames(1_700_000_000_456);
    text.split_terminator("\n\n")
        .map(|f| {
            let json = f.strip_prefix("data: ").expect("data: prefix");
            (json.to_string(), serde_json::from_str(json).unwrap())
        })
        .collect()
}

#[test]
fn a_pool_frame_follows_its_command_with_every_hystrix_15_field_in_order() {
    let (clock, reg) = busy("pooled");
    let mut observation = Observation::new();
    observation.add(&reg.get("pooled").unwrap(), clock.now_ms(), thread(Some(STATS)));
    let frames = tick(&observation);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].1["type"], "HystrixCommand");
    let (text, pool) = &frames[1];
    assert_eq!(keys_in_order(text), HYSTRIX_15_POOL_KEYS);
    all_numbers_are_integers(pool);
    assert!(!text.contains('.'), "no decimal anywhere: {text}");
    let expected = serde_json::json!({
        "type": "HystrixThreadPool",
        "name": "pooled",
        "currentTime": 1_700_000_000_456u64,
        "currentActiveCount": 1,
        "currentCompletedTaskCount": 7,
        "currentCorePoolSize": 3,
        "currentLargestPoolSize": 2,
        "currentMaximumPoolSize": 4,
        "currentPoolSize": 5,
        "currentQueueSize": 6,
        "currentTaskCount": 14,
        "rollingCountThreadsExecuted": 5,
        "rollingMaxActiveThreads": 1,
        "rollingCountCommandRejections": 1,
        "propertyValue_queueSizeRejectionThreshold": 9,
        "propertyValue_metricsRollingStatisticalWindowInMilliseconds": 5_000,
        "reportingHosts": 1,
    });
    assert_eq!(*pool, expected);
    // The command frame names the same pool and counts the same rejection.
    assert_eq!(frames[0].1["threadPool"], "pooled");
    assert_eq!(frames[0].1["rollingCountThreadPoolRejected"], 1);
}

#[test]
fn the_rolling_figures_leave_with_the_window_and_the_hosts_figures_stay() {
    let (clock, reg) = busy("pooled");
    clock.advance(5_000);
    let mut observation = Observation::new();
    observation.add(&reg.get("pooled").unwrap(), clock.now_ms(), thread(Some(STATS)));
    let pool = &tick(&observation)[1].1;
    assert_eq!(pool["rollingCountThreadsExecuted"], 0);
    assert_eq!(pool["rollingMaxActiveThreads"], 0);
    assert_eq!(pool["rollingCountCommandRejections"], 0);
    assert_eq!(pool["currentCompletedTaskCount"], 7);
    assert_eq!(pool["currentTaskCount"], 14);
}

#[test]
fn a_pool_not_made_yet_reports_zeros() {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    let cmd = reg.get_or_create("idle");
    let mut observation = Observation::new();
    observation.add(&cmd, clock.now_ms(), thread(Some(PoolStats::default())));
    let frames = tick(&observation);
    let pool = &frames[1].1;
    assert_eq!(keys_in_order(&frames[1].0), HYSTRIX_15_POOL_KEYS);
    for key in &HYSTRIX_15_POOL_KEYS[3..15] {
        assert_eq!(pool[key], 0, "{key}");
    }
    assert_eq!(pool["propertyValue_metricsRollingStatisticalWindowInMilliseconds"], 10_000);
    assert_eq!(pool["reportingHosts"], 1);
}

#[test]
fn only_thread_isolation_with_a_pool_renders_a_pool_frame() {
    let (clock, reg) = busy("pooled");
    let now = clock.now_ms();
    let cmd = reg.get("pooled").unwrap();
    for options in
        [thread(None), StreamOptions { isolation: Isolation::Semaphore, pool: Some(STATS) }, StreamOptions::default()]
    {
        let mut observation = Observation::new();
        observation.add(&cmd, now, options);
        let frames = tick(&observation);
        assert_eq!(frames.len(), 1, "{options:?}");
        assert_eq!(frames[0].1["type"], "HystrixCommand");
    }
    // The registry has one set of options for all its commands: no pool.
    let text = reg.render_stream_frames(now, 1, &thread(Some(STATS)));
    assert!(!text.contains("HystrixThreadPool"), "{text}");
    assert!(text.contains("\"THREAD\""), "{text}");
}

#[test]
fn each_pool_frame_follows_its_own_command_in_name_order() {
    let (clock, reg) = busy("b");
    let now = clock.now_ms();
    let a = reg.get_or_create("a");
    let c = reg.get_or_create("c");
    let mut observation = Observation::new();
    observation.add(&c, now, thread(Some(PoolStats { active: 3, ..PoolStats::default() })));
    observation.add(&reg.get("b").unwrap(), now, StreamOptions::default());
    observation.add(&a, now, thread(Some(PoolStats { active: 1, ..PoolStats::default() })));
    let order: Vec<String> = tick(&observation)
        .iter()
        .map(|(_, v)| format!("{}:{}:{}", v["type"], v["name"], v["currentActiveCount"]))
        .collect();
    assert_eq!(
        order,
        [
            "\"HystrixCommand\":\"a\":null",
            "\"HystrixThreadPool\":\"a\":1",
            "\"HystrixCommand\":\"b\":null",
            "\"HystrixCommand\":\"c\":null",
            "\"HystrixThreadPool\":\"c\":3",
        ]
    );
}

#[test]
fn a_pool_name_is_escaped() {
    let name = "q\"uote\\back\nline\u{1}\u{2028}é";
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    let cmd = reg.get_or_create(name);
    let mut observation = Observation::new();
    observation.add(&cmd, clock.now_ms(), thread(Some(STATS)));
    let frames = tick(&observation);
    let (text, pool) = &frames[1];
    assert!(!text.contains('\n') && !text.contains('\u{2028}'), "one line for every reader: {text}");
    assert!(text.contains(r#""name":"q\"uote\\back\nline\u0001\u2028é""#), "{text}");
    assert_eq!(pool["name"], name);
}

#[test]
fn the_exposition_has_pool_series_only_for_commands_with_a_pool() {
    let (clock, reg) = busy("pooled");
    let now = clock.now_ms();
    let plain = reg.get_or_create("plain");
    let mut observation = Observation::new();
    observation.add(&plain, now, thread(None));
    observation.add(&reg.get("pooled").unwrap(), now, StreamOptions::default());
    // No pool: the registry's bytes; the pool families are declared, with no series.
    let text = observation.prometheus();
    assert_eq!(text, reg.render_prometheus_at(now));
    assert_eq!(text.matches("# TYPE hystrix_threadpool_").count(), 5);
    assert!(!text.lines().any(|l| l.starts_with("hystrix_threadpool_")), "{text}");

    let mut observation = Observation::new();
    observation.add(&reg.get("pooled").unwrap(), now, thread(Some(STATS)));
    observation.add(&plain, now, StreamOptions::default());
    let text = observation.prometheus();
    let base = reg.render_prometheus_at(now);
    let first = "# HELP hystrix_threadpool_";
    let (commands, pools) = text.split_at(text.find(first).unwrap());
    assert_eq!(commands, &base[..base.find(first).unwrap()], "the command families are unchanged");
    assert_eq!(
        pools,
        "# HELP hystrix_threadpool_active_threads Pool threads running a task now.\n\
         # TYPE hystrix_threadpool_active_threads gauge\n\
         hystrix_threadpool_active_threads{name=\"pooled\",group=\"pooled\"} 1\n\
         # HELP hystrix_threadpool_pool_size_threads Pool threads alive now, busy or idle.\n\
         # TYPE hystrix_threadpool_pool_size_threads gauge\n\
         hystrix_threadpool_pool_size_threads{name=\"pooled\",group=\"pooled\"} 5\n\
         # HELP hystrix_threadpool_pool_max_threads Most threads the pool may have.\n\
         # TYPE hystrix_threadpool_pool_max_threads gauge\n\
         hystrix_threadpool_pool_max_threads{name=\"pooled\",group=\"pooled\"} 4\n\
         # HELP hystrix_threadpool_queued_tasks Tasks waiting for a pool thread now.\n\
         # TYPE hystrix_threadpool_queued_tasks gauge\n\
         hystrix_threadpool_queued_tasks{name=\"pooled\",group=\"pooled\"} 6\n\
         # HELP hystrix_threadpool_completed_tasks_total Tasks the pool finished since it was made.\n\
         # TYPE hystrix_threadpool_completed_tasks_total counter\n\
         hystrix_threadpool_completed_tasks_total{name=\"pooled\",group=\"pooled\"} 7\n"
    );
}

#[test]
fn pool_label_values_are_escaped_and_samples_follow_the_name_order() {
    let clock = Arc::new(VirtualClock::new());
    let reg = Registry::new(clock.clone());
    let mut observation = Observation::new();
    for (name, active) in [("z", 2), ("a\"b\\c\nd", 1)] {
        let stats = PoolStats { active, ..PoolStats::default() };
        observation.add(&reg.get_or_create(name), clock.now_ms(), thread(Some(stats)));
    }
    let text = observation.prometheus();
    let active: Vec<&str> = text.lines().filter(|l| l.starts_with("hystrix_threadpool_active_threads{")).collect();
    assert_eq!(
        active,
        [
            r#"hystrix_threadpool_active_threads{name="a\"b\\c\nd",group="a\"b\\c\nd"} 1"#,
            r#"hystrix_threadpool_active_threads{name="z",group="z"} 2"#,
        ]
    );
    assert_eq!(text.matches("# TYPE hystrix_threadpool_").count(), 5, "each family declared once");
}

#[test]
fn the_pool_families_are_what_every_exporter_reads() {
    let (clock, reg) = busy("pooled");
    let mut observation = Observation::new();
    observation.add(&reg.get("pooled").unwrap(), clock.now_ms(), thread(Some(STATS)));
    let families = observation.families();
    let pools: Vec<(&str, MetricType)> = families
        .iter()
        .filter(|f| f.name.starts_with("hystrix_threadpool_"))
        .map(|f| (f.name, f.metric_type))
        .collect();
    assert_eq!(
        pools,
        [
            ("hystrix_threadpool_active_threads", MetricType::Gauge),
            ("hystrix_threadpool_pool_size_threads", MetricType::Gauge),
            ("hystrix_threadpool_pool_max_threads", MetricType::Gauge),
            ("hystrix_threadpool_queued_tasks", MetricType::Gauge),
            ("hystrix_threadpool_completed_tasks_total", MetricType::Counter),
        ]
    );
    assert!(families[families.len() - 5].name.starts_with("hystrix_threadpool_"), "the pool families come last");
    let completed = families.last().unwrap();
    assert_eq!(completed.label_names, ["name", "group"]);
    assert_eq!(
        completed.samples,
        Samples::Scalar(vec![Sample { labels: vec!["pooled".into(), "pooled".into()], value: FamilyValue::Count(7) }])
    );
    assert!(observation.families_json().contains("\"hystrix_threadpool_completed_tasks_total\""));
}
