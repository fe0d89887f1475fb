"""hystrix.observe for scripts and prometheus_client users: ``serve(port)``
answers the three routes from a daemon thread; ``PrometheusCollector``
puts the core's exposition into a prometheus_client registry."""
import re
import urllib.error
import urllib.request

import hystrix
import pytest
from hystrix.observe import PrometheusCollector, serve


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.headers, r.read().decode()


def test_serve_answers_metrics_stream_and_dashboard_then_stops(unique_name):
    name = unique_name("serve")
    cmd = hystrix.Command(lambda: 1, name=name, isolation="semaphore")
    cmd.execute()
    with serve(0, interval_ms=100) as server:
        base = f"http://127.0.0.1:{server.port}"
        headers, body = _get(base + "/metrics")
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert f'hystrix_execution_total{{name="{name}",group="{name}",event="success"}} 1' in body
        _, page = _get(base + "/dashboard")
        assert "<html" in page
        with urllib.request.urlopen(base + "/hystrix.stream", timeout=5) as r:
            assert r.headers["Content-Type"] == "text/event-stream;charset=UTF-8"
            for _ in range(10_000):
                line = r.readline().decode()
                if line.startswith("data: ") and f'"name":"{name}"' in line:
                    break
            else:
                pytest.fail("no frame of the command on the stream")
        with pytest.raises(urllib.error.HTTPError) as e:
            _get(base + "/nope")
        assert e.value.code == 404
    with pytest.raises(OSError):
        _get(base + "/metrics")  # closed


def test_serve_refuses_a_bad_port():
    with pytest.raises(ValueError, match="port must be an integer from 0 to 65535, got 70000"):
        serve(70000)


def test_collector_joins_a_prometheus_client_registry(unique_name):
    prometheus_client = pytest.importorskip("prometheus_client")
    name = unique_name("collector")
    cmd = hystrix.Command(lambda: 1, name=name, isolation="semaphore")
    cmd.execute()
    cmd.execute()
    registry = prometheus_client.CollectorRegistry()
    registry.register(PrometheusCollector())
    app_counter = prometheus_client.Counter("app_requests", "the application's own", registry=registry)
    app_counter.inc()
    text = prometheus_client.generate_latest(registry).decode()
    assert "app_requests_total 1.0" in text
    success = re.search(rf'^hystrix_execution_total\{{(?=[^}}]*name="{name}")(?=[^}}]*event="success")[^}}]*\}} (\S+)$',
                        text, re.M)
    assert success is not None and float(success.group(1)) == 2.0, text[:2000]
    assert re.search(rf'^hystrix_latency_seconds_bucket\{{(?=[^}}]*name="{name}")[^}}]*le="\+Inf"', text, re.M)
    # Counts move between scrapes: the collector renders at each one.
    cmd.execute()
    again = prometheus_client.generate_latest(registry).decode()
    assert re.search(rf'^hystrix_execution_total\{{(?=[^}}]*name="{name}")(?=[^}}]*event="success")[^}}]*\}} 3\.0$',
                     again, re.M)
