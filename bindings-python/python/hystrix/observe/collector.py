"""A ``prometheus_client`` collector for hystrix's metrics, so they join an
application's existing ``/metrics``::

    from prometheus_client import REGISTRY
    from hystrix.observe import PrometheusCollector

    REGISTRY.register(PrometheusCollector())

The core renders the exposition (the same text :func:`metrics_text` gives);
the collector hands ``prometheus_client`` the metric families parsed from
it at each scrape. ``prometheus_client`` is not a dependency of hystrix:
install it yourself (``pip install prometheus-client``).
"""
from typing import Any, Iterable, Iterator, Optional

from ._render import metrics_text


class PrometheusCollector:
    """Collects the exposition of the registry's named commands (or of
    ``commands``: commands, circuits or registered names) at every scrape.
    Read-only, like every renderer: scraping never trips a circuit."""

    def __init__(self, commands: Optional[Iterable[Any]] = None) -> None:
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "hystrix.observe.PrometheusCollector needs prometheus_client: pip install prometheus-client"
            ) from e
        self._parse = text_string_to_metric_families
        self._commands = list(commands) if commands is not None else None

    def collect(self) -> Iterator[Any]:
        """The metric families of one scrape."""
        yield from self._parse(metrics_text(self._commands))

    def describe(self) -> Iterator[Any]:
        """Nothing up front: the set of commands changes over time, so
        ``prometheus_client`` must not check names at registration."""
        return iter(())
