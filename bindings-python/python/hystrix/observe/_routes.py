"""What the WSGI and ASGI apps share: their options, the routes, the
answers that are not streams, and the stream connection limit."""
import threading
import urllib.parse
from typing import Any, Iterable, List, Optional, Tuple

from ._render import (
    DASHBOARD_CONTENT_TYPE,
    DEFAULT_INTERVAL_MS,
    DEFAULT_MAX_CONNECTIONS,
    PROMETHEUS_CONTENT_TYPE,
    STREAM_HEADERS,
    dashboard_html,
    metrics_text,
)

#: Routes: the exposition, the stream (``/proxy.stream`` too, for the
#: Netflix dashboard's ``monitor.html``) and the page.
METRICS = ("/metrics",)
STREAM = ("/hystrix.stream", "/proxy.stream")
DASHBOARD = ("/dashboard", "/hystrix")

Headers = List[Tuple[str, str]]


def _whole(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


class Options:
    """The checked options of an app (a bad one raises ``ValueError``
    naming it when the app is made, not at the first request)."""

    def __init__(
        self,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        commands: Optional[Iterable[Any]] = None,
        cors: Optional[str] = None,
    ):
        self.interval_s = _whole(interval_ms, "interval_ms", 1) / 1000
        self.max_connections = _whole(max_connections, "max_connections", 0)
        self.commands = list(commands) if commands is not None else None
        if cors is not None and not isinstance(cors, str):
            raise ValueError(f"cors must be an origin string such as '*', got {cors!r}")
        self.extra: Headers = [("Access-Control-Allow-Origin", cors)] if cors is not None else []
        metrics_text(self.commands)  # unknown names fail now
        self.slots = Slots(self.max_connections)

    def stream_headers(self) -> Headers:
        """The ``hystrix.stream`` response headers."""
        return STREAM_HEADERS + self.extra


class Slots:
    """At most ``limit`` streams at once (threads and event loops alike)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Takes a slot; ``False`` when all are taken."""
        with self._lock:
            if self.active >= self.limit:
                return False
            self.active += 1
            return True

    def give_back(self) -> None:
        """Frees a slot taken by :meth:`take`."""
        with self._lock:
            self.active -= 1


def bad_query(query: str) -> Optional[str]:
    """Why a query is refused, or ``None``: ``delay`` (Hystrix 1.4's
    per-client interval, ignored as in 1.5) must be a positive integer."""
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if key == "delay" and not (value.isascii() and value.isdigit() and int(value) >= 1):
            return f"bad query: delay must be a positive integer of milliseconds (got {value!r})\n"
    return None


def answer(path: str, method: str, query: str, options: Options) -> Tuple[int, Headers, bytes]:
    """The answer to a request that is not a stream: status, headers, body."""
    if method not in ("GET", "HEAD"):
        return _plain(405, "only GET\n", options, [("Allow", "GET, HEAD")])
    if path in METRICS:
        try:
            body = metrics_text(options.commands).encode()
        except Exception as exc:  # noqa: BLE001 - a broken clock, a name removed: a 500 naming it
            return _plain(500, f"hystrix: rendering failed: {exc}\n", options)
        headers = [("Content-Type", PROMETHEUS_CONTENT_TYPE), ("Content-Length", str(len(body)))]
        return 200, headers + options.extra, body
    if path in DASHBOARD:
        page = dashboard_html().encode()
        return 200, [("Content-Type", DASHBOARD_CONTENT_TYPE), ("Content-Length", str(len(page)))] + options.extra, page
    return _plain(404, "not found\n", options)


def refuse_stream(method: str, query: str, options: Options) -> Optional[Tuple[int, Headers, bytes]]:
    """The answer refusing a stream request, or ``None`` once a slot is taken."""
    if method not in ("GET", "HEAD"):
        return _plain(405, "only GET\n", options, [("Allow", "GET, HEAD")])
    bad = bad_query(query)
    if bad is not None:
        return _plain(400, bad, options)
    if not options.slots.take():
        return _plain(503, f"MaxConcurrentConnections reached: {options.max_connections}\n", options)
    return None


def _plain(status: int, text: str, options: Options, more: Optional[Headers] = None) -> Tuple[int, Headers, bytes]:
    body = text.encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    return status, headers + (more or []) + options.extra, body
