"""The error taxonomy (SPEC §3) as Python exceptions, with stable codes."""
import builtins
from typing import Optional


def _describe(error: BaseException) -> str:
    """``repr(error)``, or a plain description if its ``__repr__`` raises."""
    try:
        return repr(error)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not stop the error being built
        return f"<{type(error).__name__} object (repr failed)>"


class HystrixError(Exception):
    """Base class of every error raised by hystrix itself."""

    #: The SPEC error kind.
    kind: str = "hystrix"
    #: The stable numeric code shared by every binding.
    code: int = 0


class CircuitOpenError(HystrixError):
    """The circuit was open (short-circuited) and no fallback answered."""

    kind, code = "short_circuited", 3


class RejectedError(HystrixError):
    """The bulkhead was full and no fallback answered."""

    kind, code = "rejected", 4


class TimeoutError(HystrixError, builtins.TimeoutError):  # noqa: A001 - deliberate, also a builtin TimeoutError
    """The run was still going when its timeout fired, and no fallback answered."""

    kind, code = "timeout", 2


class BadRequest(HystrixError):
    """Raise this (or a subclass) from a run to report the caller's own fault:
    no fallback is tried, it is not counted in health, and the caller gets it
    back unchanged."""

    kind, code = "bad_request", 5


class FallbackRejectedError(HystrixError):
    """Too many fallbacks were in flight. ``original`` is why the fallback was wanted."""

    kind, code = "fallback_rejected", 6

    def __init__(self, original: BaseException):
        super().__init__(f"fallback rejected (after: {_describe(original)})")
        self.original = original


class FallbackFailedError(HystrixError):
    """The fallback failed too. ``original`` is why it was wanted,
    ``fallback_error`` what it raised (also the ``__cause__``)."""

    kind, code = "fallback_failure", 7

    def __init__(self, original: BaseException, fallback_error: BaseException):
        super().__init__(f"fallback failed: {_describe(fallback_error)} (after: {_describe(original)})")
        self.original = original
        self.fallback_error = fallback_error


class InvalidConfigError(HystrixError, ValueError):
    """A configuration broke a rule; ``key`` names the offending setting."""

    kind, code = "invalid_config", 8

    def __init__(self, key: str, message: Optional[str] = None):
        super().__init__(message or f"invalid config: {key}")
        self.key = key
