"""``serve(port)``: the observe routes for scripts, on the standard
library's HTTP server in a daemon thread (no framework needed)."""
import threading
from socketserver import ThreadingMixIn
from typing import Any, Iterable, Optional
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .wsgi import wsgi_app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per request: a stream holds its own."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server:
    """A running :func:`serve`: its ``port`` and :meth:`close`."""

    def __init__(self, httpd: WSGIServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.port: int = httpd.server_port

    def close(self) -> None:
        """Stops serving and waits for the server's thread."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def serve(
    port: int = 0,
    host: str = "127.0.0.1",
    interval_ms: int = 500,
    max_connections: int = 5,
    commands: Optional[Iterable[Any]] = None,
    cors: Optional[str] = None,
) -> Server:
    """Serves ``/metrics``, ``/hystrix.stream`` and ``/dashboard`` (see
    :func:`wsgi_app`, whose options these are) on ``host:port`` from a
    daemon thread, and returns at once; ``port`` 0 picks a free one
    (``server.port``). The thread never keeps the interpreter from exiting."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer from 0 to 65535, got {port!r}")
    app = wsgi_app(interval_ms, max_connections, commands, cors)
    httpd = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="hystrix-observe", daemon=True)
    thread.start()
    return Server(httpd, thread)
