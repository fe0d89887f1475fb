"""hystrix.observe: the ``"type":"HystrixThreadPool"`` frame of a
thread-isolated circuit's pool (the core renders it from the pool's figures
the binding passes and the circuit's rolling window)."""
import json
import shutil
import subprocess
import threading

import hystrix
import pytest
from conftest import WAIT_S, wait_until
from hystrix import observe

#: Hystrix 1.5's HystrixThreadPool keys, in its serializer's order.
POOL_KEYS = [
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
]


def tick(name):
    """The frames of one stream tick of command ``name``, parsed (key order kept)."""
    text = observe.stream_frames([name], wall_clock_ms=1_700_000_000_000)
    return [json.loads(f[len("data: ") :]) for f in text.split("\n\n") if f]


def pool_of(name):
    """``name``'s pool frame, checked for shape: right after the command's
    frame, every Hystrix key in order, every number an integer."""
    command, pool = tick(name)
    assert command["type"] == "HystrixCommand"
    assert command["propertyValue_executionIsolationStrategy"] == "THREAD"
    assert command["threadPool"] == name
    assert list(pool) == POOL_KEYS
    assert pool["type"] == "HystrixThreadPool" and pool["name"] == name
    for key in POOL_KEYS[2:]:
        assert type(pool[key]) is int, f"{key}: {pool[key]!r}"
    return pool


def figures(pool):
    """The figures the tests check, without the constant ones."""
    return {k: v for k, v in pool.items() if k not in ("type", "name", "currentTime", "reportingHosts")}


def test_a_thread_isolated_command_has_a_zero_pool_before_its_first_run(clock, unique_name):
    name = unique_name("pool-idle")
    hystrix.Command(lambda: 1, name=name, clock=clock, rolling_window_ms=5_000)
    assert figures(pool_of(name)) == {
        **{k: 0 for k in POOL_KEYS[3:15]},
        "propertyValue_metricsRollingStatisticalWindowInMilliseconds": 5_000,
    }


def test_a_semaphore_command_has_no_pool_frame(clock, unique_name):
    name = unique_name("pool-sem")
    hystrix.Command(lambda: 1, name=name, clock=clock, isolation="semaphore").execute()
    (command,) = tick(name)
    assert command["propertyValue_executionIsolationStrategy"] == "SEMAPHORE"


def test_calls_that_ran_count_as_executions_and_completed_tasks(clock, unique_name):
    name = unique_name("pool-ran")

    def run(ok):
        if not ok:
            raise RuntimeError("down")
        return 1

    cmd = hystrix.Command(run, lambda *_: 0, name=name, clock=clock, max_concurrent_requests=1)
    for ok in (True, True, True, False):
        cmd.execute(ok)
    # A run's worker counts it done just after the caller has its result.
    assert wait_until(lambda: pool_of(name)["currentCompletedTaskCount"] == 4)
    assert figures(pool_of(name)) == {
        "currentActiveCount": 0,
        "currentCompletedTaskCount": 4,
        "currentCorePoolSize": 1,
        "currentLargestPoolSize": 1,
        "currentMaximumPoolSize": 1,
        "currentPoolSize": 1,
        "currentQueueSize": 0,
        "currentTaskCount": 4,
        "rollingCountThreadsExecuted": 4,
        "rollingMaxActiveThreads": 1,
        "rollingCountCommandRejections": 0,
        "propertyValue_queueSizeRejectionThreshold": 0,
        "propertyValue_metricsRollingStatisticalWindowInMilliseconds": 10_000,
    }
    # The rolling figures leave with the window; the pool's stay.
    clock.advance(10_000)
    pool = pool_of(name)
    assert (pool["rollingCountThreadsExecuted"], pool["rollingMaxActiveThreads"]) == (0, 0)
    assert (pool["currentCompletedTaskCount"], pool["currentTaskCount"]) == (4, 4)


def test_busy_workers_are_active_and_a_full_pool_rejects(clock, unique_name):
    name = unique_name("pool-busy")
    gate = threading.Event()
    cmd = hystrix.Command(
        lambda: gate.wait(WAIT_S), lambda err: False, name=name, clock=clock, max_concurrent_requests=2
    )
    futures = [cmd.queue(), cmd.queue()]
    try:
        assert wait_until(lambda: pool_of(name)["currentActiveCount"] == 2)
        assert cmd.execute() is False  # the bulkhead is full: rejected, fallback
        pool = pool_of(name)
        assert pool["currentPoolSize"] == pool["currentLargestPoolSize"] == 2
        assert pool["rollingMaxActiveThreads"] == 2
        assert pool["rollingCountCommandRejections"] == 1
        assert pool["rollingCountThreadsExecuted"] == 0, "counted when a run ends"
        assert pool["currentTaskCount"] == 2 and pool["currentCompletedTaskCount"] == 0
        assert tick(name)[0]["rollingCountThreadPoolRejected"] == 1
    finally:
        gate.set()
    assert [f.result(WAIT_S) for f in futures] == [True, True]
    assert wait_until(lambda: pool_of(name)["currentCompletedTaskCount"] == 2)
    pool = pool_of(name)
    assert (pool["currentActiveCount"], pool["rollingCountThreadsExecuted"], pool["currentPoolSize"]) == (0, 2, 2)


def test_work_waiting_for_a_worker_is_queued(clock, unique_name):
    # The bulkhead keeps calls from queueing; the pool's own queue is seen
    # by handing it work directly, past the bulkhead.
    name = unique_name("pool-queue")
    cmd = hystrix.Command(lambda: 1, name=name, clock=clock, max_concurrent_requests=1)
    gate = threading.Event()
    done = [cmd.circuit._submit(lambda: gate.wait(WAIT_S), lambda: None, tracked=True) for _ in range(3)]
    try:
        assert wait_until(lambda: pool_of(name)["currentActiveCount"] == 1)
        pool = pool_of(name)
        assert (pool["currentQueueSize"], pool["currentTaskCount"], pool["currentPoolSize"]) == (2, 3, 1)
    finally:
        gate.set()
    for f in done:
        f.result(WAIT_S)
    assert wait_until(lambda: pool_of(name)["currentCompletedTaskCount"] == 3)
    assert pool_of(name)["currentQueueSize"] == 0


def test_a_grown_pool_keeps_counting_the_work_of_the_one_it_replaced(clock, unique_name):
    name = unique_name("pool-grow")
    cmd = hystrix.Command(lambda: 1, name=name, clock=clock, max_concurrent_requests=1)
    cmd.execute()
    cmd.execute()
    cmd.circuit.configure(max_concurrent_requests=4)
    cmd.execute()
    assert wait_until(lambda: pool_of(name)["currentCompletedTaskCount"] == 3)
    pool = pool_of(name)
    assert (pool["currentCorePoolSize"], pool["currentMaximumPoolSize"], pool["currentTaskCount"]) == (4, 4, 3)
    assert pool["rollingCountThreadsExecuted"] == 3
    # Once more, with the first pool's worker gone: its work is still counted.
    assert wait_until(lambda: pool_of(name)["currentPoolSize"] == 1)
    cmd.circuit.configure(max_concurrent_requests=6)
    cmd.execute()
    assert wait_until(lambda: pool_of(name)["currentCompletedTaskCount"] == 4)
    assert pool_of(name)["currentTaskCount"] == 4


def test_a_reader_during_a_pool_replacement_never_sees_the_count_go_back(clock, unique_name, monkeypatch):
    # A stream or scrape reading while the bulkhead grows (here: right as
    # the new pool is built) sees the old pool once, never twice and never
    # not at all: completed tasks only go up (a Prometheus counter).
    from hystrix import _circuit

    name = unique_name("pool-replace-read")
    cmd = hystrix.Command(lambda: 1, name=name, clock=clock, max_concurrent_requests=1)
    cmd.execute()
    cmd.execute()
    circuit = cmd.circuit
    assert wait_until(lambda: circuit._pool_stats()[1] == 2)
    seen = []
    build = _circuit._Pool.__init__

    def reading_while_built(pool, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(circuit._pool_stats()[1])
        build(pool, *args, **kwargs)
        seen.append(circuit._pool_stats()[1])

    monkeypatch.setattr(_circuit._Pool, "__init__", reading_while_built)
    circuit.configure(max_concurrent_requests=4)
    cmd.execute()
    monkeypatch.setattr(_circuit._Pool, "__init__", build)
    assert wait_until(lambda: circuit._pool_stats()[1] == 3)
    assert seen == [2, 2], seen
    largest, size = circuit._pool_stats()[3], circuit._pool_stats()[5]
    assert largest >= size, "the largest pool size is never below the current one"


def test_the_pool_frame_bytes(clock, unique_name):
    # Golden: the exact line the Netflix dashboard and Turbine read.
    name = unique_name("pool-bytes")
    cmd = hystrix.Command(lambda: 1, name=name, clock=clock, max_concurrent_requests=1)
    cmd.execute()
    assert wait_until(lambda: pool_of(name)["currentCompletedTaskCount"] == 1)
    text = observe.stream_frames([name], wall_clock_ms=1_700_000_000_000)
    assert text.split("\n\n")[1:] == [
        'data: {"type":"HystrixThreadPool","name":"' + name + '","currentTime":1700000000000,'
        '"currentActiveCount":0,"currentCompletedTaskCount":1,"currentCorePoolSize":1,'
        '"currentLargestPoolSize":1,"currentMaximumPoolSize":1,"currentPoolSize":1,"currentQueueSize":0,'
        '"currentTaskCount":1,"rollingCountThreadsExecuted":1,"rollingMaxActiveThreads":1,'
        '"rollingCountCommandRejections":0,"propertyValue_queueSizeRejectionThreshold":0,'
        '"propertyValue_metricsRollingStatisticalWindowInMilliseconds":10000,"reportingHosts":1}',
        "",
    ]


def test_the_exposition_has_the_pool_gauges_and_passes_promtool(clock, unique_name, tmp_path):
    name = unique_name("pool-prom")
    cmd = hystrix.Command(lambda: 1, name=name, clock=clock, max_concurrent_requests=2)
    cmd.execute()
    assert wait_until(lambda: pool_of(name)["currentCompletedTaskCount"] == 1)
    text = observe.metrics_text([name])
    labels = f'{{name="{name}",group="{name}"}}'
    for line in (
        f"hystrix_threadpool_active_threads{labels} 0",
        f"hystrix_threadpool_pool_size_threads{labels} 1",
        f"hystrix_threadpool_pool_max_threads{labels} 2",
        f"hystrix_threadpool_queued_tasks{labels} 0",
        f"hystrix_threadpool_completed_tasks_total{labels} 1",
    ):
        assert f"\n{line}\n" in text
    semaphore = unique_name("pool-prom-sem")
    hystrix.Command(lambda: 1, name=semaphore, clock=clock, isolation="semaphore")
    no_pool = observe.metrics_text([semaphore])
    assert "# TYPE hystrix_threadpool_active_threads gauge\n" in no_pool
    assert not [line for line in no_pool.splitlines() if line.startswith("hystrix_threadpool_")]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not found (apt-get install prometheus, or run scripts/setup.sh)")
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_metric_families_and_the_prometheus_client_bridge_carry_the_pool_series(clock, unique_name):
    prometheus_client = pytest.importorskip("prometheus_client")
    from prometheus_client.parser import text_string_to_metric_families

    name = unique_name("pool-bridge")
    cmd = hystrix.Command(lambda: 1, name=name, clock=clock, max_concurrent_requests=3)
    cmd.execute()
    assert wait_until(lambda: pool_of(name)["currentCompletedTaskCount"] == 1)
    families = {f["name"]: f for f in observe.metric_families([name])}
    completed = families["hystrix_threadpool_completed_tasks_total"]
    assert (completed["type"], list(completed["label_names"])) == ("counter", ["name", "group"])
    assert completed["samples"] == [((name, name), 1)]
    assert families["hystrix_threadpool_pool_max_threads"]["samples"] == [((name, name), 3)]

    def series(text):
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
        }

    registry = prometheus_client.CollectorRegistry()
    registry.register(observe.PrometheusCollector([name]))
    got = series(prometheus_client.generate_latest(registry).decode())
    assert got == series(observe.metrics_text([name]))
    assert got["hystrix_threadpool_pool_max_threads", (("group", name), ("name", name))] == 3


def test_otel_instruments_have_the_pool_families_before_any_pool(clock, unique_name):
    sdk = pytest.importorskip("opentelemetry.sdk.metrics")
    from hystrix.observe.otel import otel_instruments
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    semaphore, pooled = unique_name("pool-otel-sem"), unique_name("pool-otel")
    hystrix.Command(lambda: 1, name=semaphore, clock=clock, isolation="semaphore").execute()
    reader = InMemoryMetricReader()
    provider = sdk.MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("app")
    # Made for commands without a pool: the pool instruments are there already.
    names = {i.name for i in otel_instruments(meter, commands=[semaphore]).instruments}
    assert {n for n in names if n.startswith("hystrix_threadpool_")} == {
        "hystrix_threadpool_active_threads",
        "hystrix_threadpool_pool_size_threads",
        "hystrix_threadpool_pool_max_threads",
        "hystrix_threadpool_queued_tasks",
        "hystrix_threadpool_completed_tasks_total",
    }
    cmd = hystrix.Command(lambda: 1, name=pooled, clock=clock, max_concurrent_requests=2)
    cmd.execute()
    assert wait_until(lambda: pool_of(pooled)["currentCompletedTaskCount"] == 1)
    otel_instruments(provider.get_meter("app2"), commands=[pooled])
    points = {
        (m.name, p.attributes["name"]): p.value
        for rm in reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name.startswith("hystrix_threadpool_")
        for p in m.data.data_points
    }
    assert points == {
        ("hystrix_threadpool_active_threads", pooled): 0,
        ("hystrix_threadpool_pool_size_threads", pooled): 1,
        ("hystrix_threadpool_pool_max_threads", pooled): 2,
        ("hystrix_threadpool_queued_tasks", pooled): 0,
        ("hystrix_threadpool_completed_tasks_total", pooled): 1,
    }
    provider.shutdown()
