"""A ``prometheus_client`` collector for hystrix's metrics, so they join an
application's existing ``/metrics``::

    from prometheus_client import REGISTRY
    from hystrix.observe import PrometheusCollector

    REGISTRY.register(PrometheusCollector())

At each scrape the collector turns the core's metric families
(:func:`metric_families`, what :func:`metrics_text` is written from) into
``prometheus_client``'s: the same names, help, labels and values, and the
unit for OpenMetrics. ``prometheus_client`` is not a dependency of hystrix:
install it yourself (``pip install prometheus-client``).
"""
from typing import Any, Callable, Dict, Iterable, Iterator, Optional

from ._render import metric_families


class PrometheusCollector:
    """Collects the metric families of the registry's named commands (or of
    ``commands``: commands, circuits or registered names) at every scrape.
    Read-only, like every renderer: scraping never trips a circuit."""

    def __init__(self, commands: Optional[Iterable[Any]] = None) -> None:
        try:
            from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "hystrix.observe.PrometheusCollector needs prometheus_client: pip install prometheus-client"
            ) from e
        self._classes: Dict[str, Callable[..., Any]] = {
            "counter": CounterMetricFamily,
            "gauge": GaugeMetricFamily,
            "histogram": HistogramMetricFamily,
        }
        if isinstance(commands, (str, bytes)):
            raise TypeError("commands must be an iterable of commands, circuits or names, not a single string")
        self._commands = list(commands) if commands is not None else None

    def collect(self) -> Iterator[Any]:
        """The metric families of one scrape."""
        for f in metric_families(self._commands):
            family = self._classes[f["type"]](f["name"], f["help"], labels=list(f["label_names"]), unit=f["unit"])
            if f["type"] == "histogram":
                for labels, counts, count, total in f["samples"]:
                    buckets = list(zip(f["le"], counts)) + [("+Inf", count)]
                    family.add_metric(list(labels), buckets, total)
            else:
                for labels, value in f["samples"]:
                    family.add_metric(list(labels), value)
            yield family

    def describe(self) -> Iterator[Any]:
        """Nothing up front: the set of commands changes over time, so
        ``prometheus_client`` must not check names at registration."""
        return iter(())
