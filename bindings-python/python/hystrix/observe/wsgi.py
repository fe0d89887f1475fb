"""The WSGI app of :mod:`hystrix.observe` (threads: gunicorn, waitress,
``wsgiref`` with a threading server, mounted under Flask or Django)."""
import time
from typing import Any, Callable, Iterable, Iterator, Optional

from ._render import PING, stream_frames
from ._routes import STREAM, Options, answer, refuse_stream

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error",
            503: "Service Unavailable"}


def wsgi_app(
    interval_ms: int = 500,
    max_connections: int = 5,
    commands: Optional[Iterable[Any]] = None,
    cors: Optional[str] = None,
) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving ``/metrics`` (Prometheus), ``/hystrix.stream``
    (and ``/proxy.stream``: server-sent events, one tick every
    ``interval_ms``, ``503`` past ``max_connections`` streams) and
    ``/dashboard`` (and ``/hystrix``: the page). Paths are relative to where
    it is mounted. ``commands``: the commands, circuits or names to render
    (default: every named command). ``cors``: an ``Access-Control-Allow-Origin``
    value. Each stream holds a worker thread while it is open; a client that
    hangs up is noticed at the next tick, when the write fails."""
    options = Options(interval_ms, max_connections, commands, cors)

    def app(environ: Any, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        query = environ.get("QUERY_STRING", "")
        if path not in STREAM:
            status, headers, body = answer(path, method, query, options)
            start_response(f"{status} {_REASONS[status]}", headers)
            return [b"" if method == "HEAD" else body]
        refused = refuse_stream(method, query, options)
        if refused is not None:
            status, headers, body = refused
            start_response(f"{status} {_REASONS[status]}", headers)
            return [body]
        start_response("200 OK", options.stream_headers())
        if method == "HEAD":
            options.slots.give_back()
            return [b""]
        return _Stream(options)

    app.options = options  # type: ignore[attr-defined]
    return app


class _Stream:
    """The body of one stream: a tick, then a sleep, until the server
    closes it (the client hung up); closing frees the slot."""

    def __init__(self, options: Options):
        self._options = options
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        first = True
        while not self._closed:
            if not first:
                time.sleep(self._options.interval_s)
            first = False
            yield (stream_frames(self._options.commands) + PING).encode()

    def close(self) -> None:
        """Called by the server when the response ends, however it ends."""
        if not self._closed:
            self._closed = True
            self._options.slots.give_back()
