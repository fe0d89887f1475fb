"""hystrix.observe.otel with the real OpenTelemetry SDK (issue #12 §3): one
observable instrument per metric family (a histogram as its ``_bucket``,
``_sum`` and ``_count`` counters) with the families' names, descriptions
and units, and data points carrying exactly the series and values of our
own ``metrics_text()`` for the same calls on a virtual clock."""
import hystrix
import pytest
from hystrix import observe
from hystrix.observe.otel import otel_instruments
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Gauge, InMemoryMetricReader, Sum
from prometheus_client.parser import text_string_to_metric_families


def traffic(clock, healthy, tripped):
    """``healthy`` succeeds in 3, 30 and 300 ms; ``tripped`` fails until it opens."""
    for ms in (3, 30, 300):
        hystrix.Command(lambda ms=ms: clock.advance(ms), name=healthy, isolation="semaphore", clock=clock).execute()
    bad = hystrix.Command(lambda: 1 / 0, lambda e: 0, name=tripped, isolation="semaphore", clock=clock,
                          request_volume_threshold=2, health_snapshot_interval_ms=0)
    for _ in range(3):
        bad.execute()
    clock.advance(1_250)


def key(name, attributes):
    return name, tuple(sorted(attributes.items()))


def text_series(commands):
    """Every sample of our own exposition as ``{(name, labels): value}``."""
    out = {}
    for family in text_string_to_metric_families(observe.metrics_text(commands)):
        for s in family.samples:
            out[key(s.name, s.labels)] = s.value
    return out


def collected(reader):
    """``({(name, attributes): value}, {name: metric})`` of one collection."""
    series, metrics = {}, {}
    data = reader.get_metrics_data()  # None when nothing was observed
    for rm in data.resource_metrics if data is not None else ():
        for sm in rm.scope_metrics:
            if sm.scope.name.startswith("opentelemetry"):
                continue  # the SDK's own metrics (some versions have them)
            for m in sm.metrics:
                metrics[m.name] = m
                for p in m.data.data_points:
                    k = key(m.name, dict(p.attributes))
                    assert k not in series, k
                    series[k] = p.value
    return series, metrics


def test_instruments_carry_the_families_names_units_and_our_values(clock, unique_name):
    healthy, tripped = unique_name("otel-ok"), unique_name("otel-bad")
    traffic(clock, healthy, tripped)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    bridge = otel_instruments(provider.get_meter("app"), commands=[healthy, tripped])

    series, metrics = collected(reader)
    for f in observe.metric_families([healthy]):
        if not f["samples"]:
            continue  # a family without series (the thread pools of semaphore commands) is never collected
        names = [f["name"] + s for s in ("_bucket", "_sum", "_count")] if f["type"] == "histogram" else [f["name"]]
        for name in names:
            m = metrics[name]
            assert m.description.startswith(f["help"])
            if f["type"] == "gauge":
                assert isinstance(m.data, Gauge), name
            else:
                assert isinstance(m.data, Sum) and m.data.is_monotonic, name
    assert metrics["hystrix_circuitbreaker_state_seconds_total"].unit == "s"
    assert metrics["hystrix_latency_seconds_sum"].unit == "s"
    assert metrics["hystrix_execution_total"].unit == ""
    assert series == text_series([healthy, tripped])
    assert series[key("hystrix_circuitbreaker_state", {"name": tripped, "group": tripped, "state": "open"})] == 1
    assert series[key("hystrix_latency_seconds_bucket", {"name": healthy, "group": healthy, "kind": "run",
                                                         "le": "0.005"})] == 1
    ok = key("hystrix_execution_total", {"name": healthy, "group": healthy, "event": "success"})
    assert series[ok] == 3

    # Each collection observes afresh (one render shared by its instruments).
    traffic(clock, healthy, tripped)
    series, _ = collected(reader)
    assert series[ok] == 6
    assert series == text_series([healthy, tripped])
    bridge.close()
    traffic(clock, healthy, tripped)
    series, _ = collected(reader)
    assert series.get(ok, 6) == 6, "nothing new is observed after close()"
    provider.shutdown()


def test_the_global_meter_provider_and_bad_arguments(clock, unique_name, monkeypatch):
    from opentelemetry import metrics

    name = unique_name("otel-global")
    hystrix.Command(lambda: 1, name=name, isolation="semaphore", clock=clock).execute()
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    monkeypatch.setattr(metrics, "get_meter", provider.get_meter)
    otel_instruments(commands=[name])
    otel_instruments(MeterProvider(metric_readers=[InMemoryMetricReader()]), commands=[name])  # a provider
    series, _ = collected(reader)
    assert series[key("hystrix_execution_total", {"name": name, "group": name, "event": "success"})] == 1
    assert all(dict(labels)["name"] == name for _, labels in series)

    with pytest.raises(TypeError, match="meter must be an OpenTelemetry Meter or MeterProvider \\(or None\\), got int"):
        otel_instruments(42)
    with pytest.raises(TypeError, match="not a single string"):
        otel_instruments(provider.get_meter("x"), commands=name)
    with pytest.raises(LookupError, match="no command is named 'otel-nobody'"):
        otel_instruments(provider.get_meter("x"), commands=["otel-nobody"])
    provider.shutdown()


def test_one_render_serves_every_instrument_of_a_collection(clock, unique_name, monkeypatch):
    import hystrix.observe.otel as otel

    name = unique_name("otel-renders")
    hystrix.Command(lambda: 1, name=name, isolation="semaphore", clock=clock).execute()
    renders = []
    real = otel.metric_families
    monkeypatch.setattr(otel, "metric_families", lambda commands: renders.append(1) or real(commands))
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    bridge = otel_instruments(provider.get_meter("app"), commands=[name])
    assert len(bridge.instruments) > len(observe.metric_families([name]))  # the histogram's three
    renders.clear()
    collected(reader)
    assert len(renders) == 1
    collected(reader)
    assert len(renders) == 2
    provider.shutdown()
