"""PrometheusCollector builds prometheus_client's families from the core's
metric families: a scrape carries exactly the series and values of
``metrics_text()``, and OpenMetrics gets the families' units."""
import hystrix
import pytest
from hystrix import observe
from hystrix.observe import PrometheusCollector
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.parser import text_string_to_metric_families


def series(text):
    """``{(sample name, sorted labels): value}`` of a text exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def test_a_scrape_carries_the_series_and_values_of_metrics_text(clock, unique_name):
    ok, bad = unique_name("coll-ok"), unique_name("coll-bad")
    for ms in (3, 30, 300):
        hystrix.Command(lambda ms=ms: clock.advance(ms), name=ok, isolation="semaphore", clock=clock).execute()
    failing = hystrix.Command(lambda: 1 / 0, lambda e: 0, name=bad, isolation="semaphore", clock=clock,
                              request_volume_threshold=2, health_snapshot_interval_ms=0)
    for _ in range(3):
        failing.execute()
    clock.advance(1_250)
    registry = CollectorRegistry()
    registry.register(PrometheusCollector([ok, bad]))
    scraped = generate_latest(registry).decode()
    got = series(scraped)
    assert got == series(observe.metrics_text([ok, bad]))
    assert got["hystrix_circuitbreaker_state", (("group", bad), ("name", bad), ("state", "open"))] == 1
    assert got["hystrix_latency_seconds_bucket", (("group", ok), ("kind", "run"), ("le", "0.005"), ("name", ok))] == 1
    assert 0.33 <= got["hystrix_latency_seconds_sum", (("group", ok), ("kind", "run"), ("name", ok))] < 0.35
    assert "# TYPE hystrix_execution_total counter" in scraped
    open_metrics = generate_openmetrics(registry).decode()
    assert "# UNIT hystrix_latency_seconds seconds" in open_metrics
    assert "# UNIT hystrix_circuitbreaker_state_seconds seconds" in open_metrics


def test_bad_commands_are_refused():
    with pytest.raises(TypeError, match="not a single string"):
        PrometheusCollector("users")
