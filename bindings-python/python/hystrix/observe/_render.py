"""What is rendered: the circuits of the registry (or those given), each
observed at its own clock's time, handed to the core's renderers."""
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .. import _hystrix
from .. import _registry as registry
from .._circuit import Circuit
from .._command import Command

#: ``text/plain; version=0.0.4; charset=utf-8``.
PROMETHEUS_CONTENT_TYPE: str = _hystrix.PROMETHEUS_CONTENT_TYPE
#: ``text/html; charset=utf-8``.
DASHBOARD_CONTENT_TYPE: str = _hystrix.DASHBOARD_CONTENT_TYPE
#: The ``hystrix.stream`` response headers (Hystrix 1.5's servlet), ``(name, value)`` pairs.
STREAM_HEADERS: List[Tuple[str, str]] = list(_hystrix.STREAM_HEADERS)
#: ``ping: \n\n``, written after every tick.
PING: str = _hystrix.STREAM_PING
#: Hystrix's default interval between ticks, in ms.
DEFAULT_INTERVAL_MS: int = _hystrix.STREAM_INTERVAL_MS
#: Hystrix's default limit of concurrent stream connections.
DEFAULT_MAX_CONNECTIONS: int = _hystrix.STREAM_MAX_CONNECTIONS


def _circuits(commands: Optional[Iterable[Any]]) -> List[Circuit]:
    """The circuits of ``commands`` (circuits, commands or registered names),
    or of every registered name."""
    if commands is None:
        return registry._named()
    if isinstance(commands, (str, bytes)):
        raise TypeError("commands must be an iterable of commands, circuits or names, not a single string")
    out = []
    for i, c in enumerate(commands):
        if isinstance(c, Circuit):
            out.append(c)
        elif isinstance(c, Command):
            out.append(c.circuit)
        elif isinstance(c, str):
            with registry._registry_lock:
                circuit = registry._registry.get(c)
            if circuit is None:
                raise LookupError(f"commands[{i}]: no command is named {c!r}")
            out.append(circuit)
        else:
            raise TypeError(f"commands[{i}] must be a Command, a Circuit or a name, got {type(c).__name__}")
    return out


def _items(commands: Optional[Iterable[Any]]) -> List[Tuple[Any, int, bool, Any]]:
    """``(native command, now, thread isolation, pool figures)`` per circuit:
    a circuit a thread-isolated command uses reports thread isolation and
    its pool (all zero before its first run), others semaphore isolation
    and no pool."""
    items = []
    for c in _circuits(commands):
        pool = c._pool_stats()
        items.append((c._native, c.now(), pool is not None, pool))
    return items


def metrics_text(commands: Optional[Iterable[Any]] = None) -> str:
    """The Prometheus text exposition (format 0.0.4) of the registry's named
    commands, or of ``commands`` (commands, circuits or registered names),
    with ``hystrix_threadpool_*`` series for thread-isolated ones."""
    return _hystrix.render_prometheus(_items(commands))


def metric_families(commands: Optional[Iterable[Any]] = None) -> List[Dict[str, Any]]:
    """The metric families :func:`metrics_text` is written from, as the core
    gives them: a list of dicts with ``name``, ``help``, ``type``
    (``counter``, ``gauge``, ``histogram``), ``unit`` (``seconds`` or
    ``""``), ``otel_unit`` (``s`` or ``""``), ``label_names`` and
    ``samples``: ``(label values, value)`` pairs, or for a histogram
    ``(label values, cumulative counts, count, sum)`` with the family's
    ``buckets`` (bounds) and ``le`` (the bounds as the text writes them).
    What the OpenTelemetry bridge reads: it knows no metric name."""
    return _hystrix.metric_families(_items(commands))


def stream_frames(commands: Optional[Iterable[Any]] = None, wall_clock_ms: Optional[int] = None) -> str:
    """One ``hystrix.stream`` tick: ``data: {json}\\n\\n`` per named command,
    sorted by name (``""`` without any); a thread-isolated command's frame
    is followed by its pool's ``"type":"HystrixThreadPool"`` frame. ``wall_clock_ms`` is the frames'
    ``currentTime`` (default: now, epoch milliseconds)."""
    if wall_clock_ms is None:
        wall_clock_ms = int(time.time() * 1000)
    elif isinstance(wall_clock_ms, bool) or not isinstance(wall_clock_ms, int) or wall_clock_ms < 0:
        raise ValueError(f"wall_clock_ms must be an int >= 0, got {wall_clock_ms!r}")
    return _hystrix.render_stream(_items(commands), wall_clock_ms)


def dashboard_html() -> str:
    """The built-in dashboard page: it reads ``hystrix.stream`` next to its
    own URL, or the URL of its ``?stream=`` query parameter."""
    return _hystrix.DASHBOARD_HTML
