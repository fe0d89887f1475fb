"""What a scrape costs through the Python bridges, against rendering the
text: 100 named commands with traffic, then the median of N runs of
metrics_text(), metric_families(), prometheus_client's generate_latest()
with PrometheusCollector, and an OpenTelemetry SDK collection. Not a test:
``target/py-test/bin/python tests/observe/bridges-bench.py [N]``."""
import statistics
import sys
import time

import hystrix
from hystrix.observe import PrometheusCollector, metric_families, metrics_text
from hystrix.observe.otel import otel_instruments
from hystrix.testing import VirtualClock
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry, generate_latest

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
clock = VirtualClock()
for i in range(100):
    for ms in (2, 20, 200):
        hystrix.Command(lambda ms=ms: clock.advance(ms), name=f"cmd-{i:03}", isolation="semaphore",
                        clock=clock).execute()

registry = CollectorRegistry()
registry.register(PrometheusCollector())
reader = InMemoryMetricReader()
provider = MeterProvider(metric_readers=[reader])
otel_instruments(provider.get_meter("bench"))


def median_ms(fn):
    for _ in range(10):
        fn()
    times = []
    for _ in range(N):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


rows = [
    ("metrics_text()", metrics_text),
    ("metric_families()", metric_families),
    ("prometheus_client generate_latest()", lambda: generate_latest(registry)),
    ("OpenTelemetry get_metrics_data()", reader.get_metrics_data),
]
base = median_ms(rows[0][1])
print(f"100 commands, {len(metrics_text()) // 1024} KiB of text, median of {N}:")
for what, fn in rows:
    ms = base if fn is rows[0][1] else median_ms(fn)
    print(f"  {what:<36} {ms:7.2f} ms  ({ms / base:.1f}x the text)")
provider.shutdown()
