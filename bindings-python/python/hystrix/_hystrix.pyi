"""Type stubs for the native module ``hystrix._hystrix`` (checked against
the built module by ``mypy.stubtest`` in ``make test``)."""
from typing import Any, Callable, Dict, List, Optional, Tuple, final

__all__ = [
    "NativeCall",
    "NativeCommand",
    "SemaphoreCall",
    "CONFIG_SCHEMA",
    "DASHBOARD_CONTENT_TYPE",
    "DASHBOARD_HTML",
    "PROMETHEUS_CONTENT_TYPE",
    "STREAM_HEADERS",
    "STREAM_INTERVAL_MS",
    "STREAM_MAX_CONNECTIONS",
    "STREAM_PING",
    "ERROR_KINDS",
    "ABORT",
    "CLEAR_TIMER",
    "FALLBACK",
    "INVOKE",
    "KIND_BASE",
    "SET_TIMER",
    "SETTLE_ERROR",
    "SETTLE_FALLBACK",
    "SETTLE_RUN",
    "_after_fork",
    "_before_fork",
    "_set_bad_clock_error",
    "_set_error_factory",
    "_set_invalid_config_error",
    "_set_listener_error_hook",
    "_set_transition_log",
    "monotonic_ms",
    "metric_families",
    "registry_enter",
    "registry_names",
    "registry_release",
    "registry_remove",
    "render_prometheus",
    "render_stream",
    "validate_config",
    "__version__",
]

#: The workspace version the module was built from (``hystrix.__version__``).
__version__: str
#: The action codes of ``NativeCall``: actions come as flat ``(code, x, y)`` triples.
SET_TIMER: int
CLEAR_TIMER: int
INVOKE: int
ABORT: int
FALLBACK: int
SETTLE_RUN: int
SETTLE_FALLBACK: int
SETTLE_ERROR: int
#: An original error ``KIND_BASE + code`` is one of that kind; ``1 <= k < KIND_BASE`` is attempt ``k``'s.
KIND_BASE: int
#: The core's error kinds with their stable codes: ``(name, code)`` pairs.
ERROR_KINDS: List[Tuple[str, int]]
#: Every configuration key in SPEC order, as a JSON array (``Config::schema_json``).
CONFIG_SCHEMA: str
#: The built-in dashboard page and its content type.
DASHBOARD_HTML: str
DASHBOARD_CONTENT_TYPE: str
#: ``text/plain; version=0.0.4; charset=utf-8``.
PROMETHEUS_CONTENT_TYPE: str
#: The ``hystrix.stream`` response headers (Hystrix 1.5), ``(name, value)`` pairs.
STREAM_HEADERS: List[Tuple[str, str]]
#: ``ping: \n\n``, written after every tick.
STREAM_PING: str
#: Hystrix's default interval between ticks (ms) and limit of stream connections.
STREAM_INTERVAL_MS: int
STREAM_MAX_CONNECTIONS: int

_Actions = Tuple[int, ...]

@final
class NativeCall:
    def ended(self, now: int, attempt: int, outcome: int) -> _Actions: ...
    def stopped(self, attempt: int) -> _Actions: ...
    def fallback_ended(self, now: int, ok: bool) -> _Actions: ...
    def fired(self, now: int, timer: int) -> _Actions: ...
    def cancel(self, now: int) -> _Actions: ...
    def release(self) -> None: ...
    def events(self) -> List[str]: ...
    @property
    def is_settled(self) -> bool: ...
    @property
    def is_finished(self) -> bool: ...

@final
class NativeCommand:
    def __new__(
        cls, name: str, config: Dict[str, Any], clock: Optional[Any] = None, label: Optional[str] = None
    ) -> "NativeCommand": ...
    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    def set_clock(self, clock: Optional[Any]) -> None: ...
    def now(self) -> int: ...
    def setting(self, key: str) -> int: ...
    def context(self, kind: str, elapsed_ms: int = 0) -> Tuple[str, int]: ...
    def check_same_settings(self, config: Dict[str, Any]) -> None: ...
    def state(self, now: int) -> str: ...
    def call(self, now: int, has_fallback: bool) -> Tuple[NativeCall, _Actions]: ...
    @property
    def strategies(self) -> bool: ...
    def config(self) -> Dict[str, Any]: ...
    def configure(self, patch: Dict[str, Any]) -> Dict[str, Any]: ...
    def snapshot(self, now: int) -> Dict[str, Any]: ...
    def subscribe(self, topic: str, callback: Callable[..., Any]) -> int: ...
    def unsubscribe(self, id: int) -> bool: ...

@final
class SemaphoreCall:
    def __new__(
        cls,
        command: NativeCommand,
        run: Callable[..., Any],
        fallback: Optional[Callable[..., Any]],
        is_bad_request: Callable[[BaseException], bool],
        general: Optional[Callable[..., Any]] = None,
    ) -> "SemaphoreCall": ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

def validate_config(config: Dict[str, Any]) -> Dict[str, Any]: ...
def monotonic_ms() -> int: ...
def registry_enter(name: str, config: Dict[str, Any], reconfigure: bool = False) -> Optional[NativeCommand]: ...
def registry_release(command: NativeCommand) -> bool: ...
def registry_remove(name: str) -> bool: ...
def registry_names() -> List[str]: ...
def _set_error_factory(factory: Callable[..., BaseException]) -> None: ...
def _set_bad_clock_error(builder: Callable[[str, Any, Any], BaseException]) -> None: ...
def _set_listener_error_hook(hook: Callable[[str, Any, BaseException], None]) -> None: ...
def _set_transition_log(hook: Callable[[str, str, str, str, int], None]) -> None: ...
def _before_fork() -> None: ...
def _after_fork() -> None: ...
def _set_invalid_config_error(cls: Any) -> None: ...

_PoolFigures = Tuple[int, int, int, int, int, int, int, int, int]
_Item = Tuple[NativeCommand, int, bool, Optional[_PoolFigures]]

def metric_families(items: List[_Item]) -> List[Dict[str, Any]]: ...
def render_prometheus(items: List[_Item]) -> str: ...
def render_stream(items: List[_Item], wall_clock_ms: int) -> str: ...
