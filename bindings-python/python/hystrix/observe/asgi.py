"""The ASGI app of :mod:`hystrix.observe` (uvicorn, hypercorn, mounted
under Starlette or FastAPI)."""
import asyncio
from typing import Any, Awaitable, Callable, Iterable, List, Optional, Tuple

from ._render import PING, stream_frames
from ._routes import STREAM, Options, answer, refuse_stream

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]


def _raw(headers: List[Tuple[str, str]]) -> List[Tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


def asgi_app(
    interval_ms: int = 500,
    max_connections: int = 5,
    commands: Optional[Iterable[Any]] = None,
    cors: Optional[str] = None,
) -> Callable[[Any, Receive, Send], Awaitable[None]]:
    """An ASGI app with the routes and options of :func:`~hystrix.observe.wsgi_app`.
    A stream ends as soon as its client disconnects (no thread is held:
    it waits on the event loop). Lifespan events are acknowledged."""
    options = Options(interval_ms, max_connections, commands, cors)

    async def app(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            raise ValueError(f"hystrix.observe.asgi_app serves http, not {scope['type']!r}")
        path = scope.get("path") or "/"
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        method = scope.get("method", "GET")
        query = (scope.get("query_string") or b"").decode("latin-1")
        if path in STREAM:
            refused = refuse_stream(method, query, options)
            if refused is None:
                await _stream(method, receive, send, options)
                return
            status, headers, body = refused
        else:
            status, headers, body = answer(path, method, query, options)
        await send({"type": "http.response.start", "status": status, "headers": _raw(headers)})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    app.options = options  # type: ignore[attr-defined]
    return app


async def _stream(method: str, receive: Receive, send: Send, options: Options) -> None:
    """One stream (its slot already taken): ticks until the client disconnects."""
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch())
    try:
        await send({"type": "http.response.start", "status": 200, "headers": _raw(options.stream_headers())})
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        while not gone.is_set():
            tick = (stream_frames(options.commands) + PING).encode()
            await send({"type": "http.response.body", "body": tick, "more_body": True})
            try:
                await asyncio.wait_for(gone.wait(), options.interval_s)
            except asyncio.TimeoutError:
                pass
    except OSError:
        pass  # the server reports a write to a gone client this way
    finally:
        watcher.cancel()
        options.slots.give_back()
