"""hystrix.observe: what the core renders (exposition, stream frames, the
page) and the WSGI and ASGI apps that serve it."""
import asyncio
import json
import socket
import socketserver
import threading
import time
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import hystrix
import pytest
from conftest import WAIT_S, run_async, wait_until
from hystrix import observe


def frames_of(text):
    """The JSON objects of a stream tick."""
    assert text == "" or text.endswith("\n\n")
    return [json.loads(f[len("data: ") :]) for f in text.split("\n\n") if f]


def made(names, clock, isolation="semaphore"):
    """One successful call on each named command."""
    cmds = [hystrix.Command(lambda: 1, name=n, isolation=isolation, clock=clock) for n in names]
    for c in cmds:
        c.execute()
    return cmds


def test_metrics_text_and_stream_frames_render_the_named_commands_sorted(clock, unique_name):
    b, a = unique_name("obs-b"), unique_name("obs-a")
    made([b, a], clock)
    anonymous = hystrix.Command(lambda: 1, isolation="semaphore", clock=clock)
    anonymous.execute()
    tick = observe.stream_frames([b, a, anonymous], wall_clock_ms=1_700_000_000_000)
    objects = frames_of(tick)
    assert [o["name"] for o in objects] == [a, b]
    assert objects[0]["currentTime"] == 1_700_000_000_000
    assert objects[0]["rollingCountSuccess"] == 1
    assert objects[0]["propertyValue_executionIsolationStrategy"] == "SEMAPHORE"
    text = observe.metrics_text([a])
    assert f'hystrix_execution_total{{name="{a}",group="{a}",event="success"}} 1\n' in text
    assert b not in text
    assert f'name="{b}"' in observe.metrics_text()
    assert observe.stream_frames([anonymous]) == ""
    assert observe.dashboard_html().startswith("<!doctype html>")


def test_thread_isolation_is_reported_with_the_pool_frame_after_the_command(clock, unique_name):
    # More on the pool frame: test_observe_pool.py.
    name = unique_name("obs-thread")
    made([name], clock, isolation="thread")
    frame, pool = frames_of(observe.stream_frames([name]))
    assert frame["propertyValue_executionIsolationStrategy"] == "THREAD"
    assert (pool["type"], pool["name"]) == ("HystrixThreadPool", name)


def test_bad_arguments_name_what_is_wrong(unique_name):
    with pytest.raises(LookupError, match=r"commands\[0\]: no command is named 'obs-nobody'"):
        observe.metrics_text(["obs-nobody"])
    with pytest.raises(TypeError, match=r"commands\[0\] must be a Command, a Circuit or a name, got int"):
        observe.metrics_text([42])
    with pytest.raises(TypeError, match="not a single string"):
        observe.metrics_text("abc")
    with pytest.raises(ValueError, match="wall_clock_ms must be an int >= 0, got -1"):
        observe.stream_frames(wall_clock_ms=-1)
    with pytest.raises(ValueError, match="interval_ms must be an int >= 1, got 0"):
        observe.wsgi_app(interval_ms=0)
    with pytest.raises(ValueError, match="max_connections must be an int >= 0, got 'x'"):
        observe.asgi_app(max_connections="x")


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def wsgi_server():
    """Serves a WSGI app on an ephemeral port; yields ``start(app) -> port``."""
    servers = []

    def start(app):
        server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_port

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def get(port, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=WAIT_S) as res:
            return res.status, res.headers, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def open_stream(port, path="/hystrix.stream"):
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def read_until(sock, needle, limit=WAIT_S):
    data = b""
    deadline = time.monotonic() + limit
    while needle not in data:
        assert time.monotonic() < deadline, f"no {needle!r} in {data[:300]!r}"
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


def test_wsgi_serves_metrics_the_page_and_errors(clock, unique_name, wsgi_server):
    name = unique_name("obs-wsgi")
    made([name], clock)
    port = wsgi_server(observe.wsgi_app(commands=[name]))
    status, headers, body = get(port, "/metrics")
    assert (status, headers["Content-Type"]) == (200, "text/plain; version=0.0.4; charset=utf-8")
    assert f'hystrix_circuitbreaker_state{{name="{name}",group="{name}",state="closed"}} 1' in body
    status, headers, body = get(port, "/dashboard")
    assert (status, headers["Content-Type"], body) == (200, "text/html; charset=utf-8", observe.dashboard_html())
    assert get(port, "/metrics", "POST")[0] == 405
    assert get(port, "/nowhere")[0] == 404
    status, _, body = get(port, "/hystrix.stream?delay=soon")
    assert (status, body) == (400, "bad query: delay must be a positive integer of milliseconds (got 'soon')\n")


def test_wsgi_stream_ticks_refuses_past_the_limit_and_frees_a_slot_on_hang_up(clock, unique_name, wsgi_server):
    name = unique_name("obs-wsgi-stream")
    made([name], clock)
    app = observe.wsgi_app(interval_ms=20, max_connections=2, commands=[name])
    port = wsgi_server(app)
    a = open_stream(port)
    text = read_until(a, b"ping: \n\n")
    assert text.startswith("HTTP/1.0 200 OK\r\n")
    assert "Content-Type: text/event-stream;charset=UTF-8\r\n" in text
    assert "Cache-Control: no-cache, no-store, max-age=0, must-revalidate\r\n" in text
    assert f'data: {{"type":"HystrixCommand","name":"{name}",' in text
    assert text.endswith("}\n\nping: \n\n")
    b = open_stream(port)
    read_until(b, b"ping")
    status, _, body = get(port, "/hystrix.stream")
    assert (status, body) == (503, "MaxConcurrentConnections reached: 2\n")
    a.close()
    assert wait_until(lambda: app.options.slots.active == 1), "the hang-up frees its slot"
    c = open_stream(port)
    read_until(c, b"ping")
    b.close()
    c.close()
    assert wait_until(lambda: app.options.slots.active == 0)


class _Client:
    """Drives an ASGI app in-process: what it sent, and a disconnect to send."""

    def __init__(self, path, method="GET", query=b""):
        self.scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": query}
        self.sent = []
        self._disconnect = asyncio.Event()

    async def receive(self):
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        self.sent.append(message)

    def hang_up(self):
        self._disconnect.set()

    def body(self):
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body").decode()

    def start(self):
        return next(m for m in self.sent if m["type"] == "http.response.start")


def test_asgi_serves_metrics_the_page_and_a_stream_that_ends_on_disconnect(clock, unique_name):
    name = unique_name("obs-asgi")
    made([name], clock)
    app = observe.asgi_app(interval_ms=10, max_connections=1, commands=[name], cors="*")

    async def scenario():
        metrics = _Client("/metrics")
        await app(metrics.scope, metrics.receive, metrics.send)
        headers = dict(metrics.start()["headers"])
        assert headers[b"content-type"] == b"text/plain; version=0.0.4; charset=utf-8"
        assert headers[b"access-control-allow-origin"] == b"*"
        assert f'name="{name}"' in metrics.body()
        page = _Client("/dashboard")
        await app(page.scope, page.receive, page.send)
        assert page.body() == observe.dashboard_html()
        stream = _Client("/hystrix.stream")
        task = asyncio.ensure_future(app(stream.scope, stream.receive, stream.send))
        while stream.body().count("ping: \n\n") < 3:
            await asyncio.sleep(0.005)
        assert dict(stream.start()["headers"])[b"content-type"] == b"text/event-stream;charset=UTF-8"
        assert frames_of(stream.body().split("ping: \n\n")[0])[0]["name"] == name
        second = _Client("/hystrix.stream")
        await app(second.scope, second.receive, second.send)
        assert (second.start()["status"], second.body()) == (503, "MaxConcurrentConnections reached: 1\n")
        stream.hang_up()
        await asyncio.wait_for(task, 1)
        assert app.options.slots.active == 0
        # Lifespan events are acknowledged.
        sent = []
        events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive():
            return next(events)

        async def send(m):
            sent.append(m["type"])

        await app({"type": "lifespan"}, receive, send)
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    run_async(scenario())


def test_a_clock_that_raises_gives_metrics_a_500_naming_it(unique_name, wsgi_server):
    class Unplugged:
        broken = False

        def now(self):
            if self.broken:
                raise RuntimeError("clock unplugged")
            return 0

    clock = Unplugged()
    name = unique_name("obs-broken")
    hystrix.configure(name).clock = clock
    port = wsgi_server(observe.wsgi_app(commands=[name]))
    clock.broken = True
    status, _, body = get(port, "/metrics")
    assert status == 500
    assert body.startswith("hystrix: rendering failed: ") and "clock unplugged" in body
