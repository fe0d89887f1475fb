"""Observing commands (issue #12): the core renders, this package serves.

``metrics_text()`` is the Prometheus text exposition (format 0.0.4) and
``stream_frames()`` one tick of the Hystrix 1.5 ``hystrix.stream`` of the
registry's named commands (or of the ``commands`` given), both rendered by
the Rust core from read-only snapshots that never trip a circuit.
``dashboard_html()`` is the core's dashboard page. :func:`wsgi_app` and
:func:`asgi_app` serve ``/metrics``, ``/hystrix.stream`` (server-sent
events) and ``/dashboard``::

    from hystrix.observe import asgi_app, wsgi_app
    app = asgi_app()            # uvicorn module:app, or mount it in Starlette/FastAPI
    app = wsgi_app()            # gunicorn module:app, or mount it in Flask/Django

For scripts, ``serve(port)`` runs those routes on the standard library's
HTTP server in a daemon thread; ``PrometheusCollector`` joins the metrics
to a ``prometheus_client`` registry, and :mod:`hystrix.observe.otel`
registers them as OpenTelemetry observable instruments (``pip install
'hystrix[otel]'``). Both read ``metric_families()``.
"""
from ._render import (
    DASHBOARD_CONTENT_TYPE,
    DEFAULT_INTERVAL_MS,
    DEFAULT_MAX_CONNECTIONS,
    PING,
    PROMETHEUS_CONTENT_TYPE,
    STREAM_HEADERS,
    dashboard_html,
    metric_families,
    metrics_text,
    stream_frames,
)
from .asgi import asgi_app
from .collector import PrometheusCollector
from .server import Server, serve
from .wsgi import wsgi_app

__all__ = [
    "DASHBOARD_CONTENT_TYPE",
    "DEFAULT_INTERVAL_MS",
    "DEFAULT_MAX_CONNECTIONS",
    "PING",
    "PROMETHEUS_CONTENT_TYPE",
    "STREAM_HEADERS",
    "PrometheusCollector",
    "Server",
    "asgi_app",
    "dashboard_html",
    "metric_families",
    "metrics_text",
    "serve",
    "stream_frames",
    "wsgi_app",
]
