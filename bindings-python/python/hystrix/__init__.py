"""hystrix: Netflix Hystrix's execution model — circuit breaker, timeouts,
bulkhead, fallbacks and rolling metrics — from one Rust core shared with the
JavaScript and C bindings, with identical semantics.

    import hystrix

    users = hystrix.Command(fetch_user, fallback=lambda err, uid: GUEST, timeout_ms=250)
    user = users.execute(42)
"""
from . import testing
from ._circuit import Circuit
from ._command import Command
from ._decorator import AsyncCommandFunction, CommandDecorator, CommandFunction, command
from ._errors import (
    BadRequest,
    CancelledError,
    CircuitOpenError,
    FallbackFailedError,
    FallbackRejectedError,
    HystrixError,
    InvalidConfigError,
    RateLimitedError,
    RejectedError,
    SettingsConflictError,
    TimeoutError,
)
from ._hystrix import __version__
from ._protocol import Call, current_call
from ._registry import config_schema, configure, get, remove
from ._types import Clock, EventCounts, Health, Isolation, Latency, Settings, Snapshot, State

__all__ = [
    "__version__",
    "AsyncCommandFunction",
    "BadRequest",
    "Call",
    "CancelledError",
    "Circuit",
    "CircuitOpenError",
    "Clock",
    "Command",
    "CommandDecorator",
    "CommandFunction",
    "EventCounts",
    "FallbackFailedError",
    "FallbackRejectedError",
    "Health",
    "HystrixError",
    "InvalidConfigError",
    "Isolation",
    "Latency",
    "RateLimitedError",
    "RejectedError",
    "Settings",
    "SettingsConflictError",
    "Snapshot",
    "State",
    "TimeoutError",
    "command",
    "config_schema",
    "configure",
    "current_call",
    "get",
    "remove",
    "testing",
]
