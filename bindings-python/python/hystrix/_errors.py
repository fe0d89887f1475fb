"""The error taxonomy (SPEC §3) as Python exceptions, with stable codes.

Every error hystrix creates names its command (``command`` attribute and the
message) and the setting involved. Every class pickles and deep-copies with
its attributes, so errors cross process boundaries (multiprocessing, Celery)
intact.
"""
import builtins
from typing import Any, Dict, Optional, Tuple


def _describe(error: BaseException) -> str:
    """``repr(error)``, or a plain description if its ``__repr__`` raises."""
    try:
        return repr(error)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not stop the error being built
        return f"<{type(error).__name__} object (repr failed)>"


def _rebuild(cls: type, args: Tuple[Any, ...], state: Dict[str, Any]) -> BaseException:
    """Unpickles a hystrix error without calling its ``__init__`` (whose
    signature need not match ``args``): the message arguments and the
    attributes come back as they were."""
    exc: BaseException = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class HystrixError(Exception):
    """Base class of every error raised by hystrix itself.

    ``command`` names the command the error comes from (``None`` for one
    made by your own code)."""

    #: The SPEC error kind.
    kind: str = "hystrix"
    #: The stable numeric code shared by every binding.
    code: int = 0
    #: The name of the command that raised it.
    command: Optional[str] = None

    def __init__(self, *args: Any, command: Optional[str] = None):
        super().__init__(*args)
        if command is not None:
            self.command = command

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class CircuitOpenError(HystrixError):
    """The circuit was open (short-circuited) and no fallback answered."""

    kind, code = "short_circuited", 3


class RejectedError(HystrixError):
    """The bulkhead was full and no fallback answered."""

    kind, code = "rejected", 4


# Deliberately named like the builtin, and also a builtins.TimeoutError.
class TimeoutError(HystrixError, builtins.TimeoutError):
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

    def __init__(self, original: BaseException, message: Optional[str] = None, *, command: Optional[str] = None):
        super().__init__(message or f"fallback rejected (after: {_describe(original)})", command=command)
        self.original = original


class FallbackFailedError(HystrixError):
    """The fallback failed too. ``original`` is why it was wanted,
    ``fallback_error`` what it raised (also the ``__cause__``)."""

    kind, code = "fallback_failure", 7

    def __init__(
        self,
        original: BaseException,
        fallback_error: BaseException,
        message: Optional[str] = None,
        *,
        command: Optional[str] = None,
    ):
        super().__init__(
            message or f"fallback failed: {_describe(fallback_error)} (after: {_describe(original)})", command=command
        )
        self.original = original
        self.fallback_error = fallback_error


class InvalidConfigError(HystrixError, ValueError):
    """A configuration broke a rule; ``key`` names the offending setting."""

    kind, code = "invalid_config", 8

    def __init__(self, key: str, message: Optional[str] = None, *, command: Optional[str] = None):
        super().__init__(message or f"invalid config: {key}", command=command)
        self.key = key


class CancelledError(HystrixError):
    """The caller cancelled the call before it settled (semantics §18); it is
    never passed to a fallback."""

    kind, code = "cancelled", 9


class RateLimitedError(HystrixError):
    """The rate limiter refused the call (semantics §13) and no fallback
    answered."""

    kind, code = "rate_limited", 10


def _new_error(
    kind: str,
    command: str,
    setting: Optional[int] = None,
    original: Optional[BaseException] = None,
    fallback_error: Optional[BaseException] = None,
) -> HystrixError:
    """The error hystrix raises for ``kind``, its message naming the command
    and the setting involved (``setting`` is that setting's value). Used by
    the Python drivers and, through ``_hystrix._set_error_factory``, by the
    native semaphore path, so both word errors alike."""
    where = f"command {command!r}"
    if kind == "timeout":
        return TimeoutError(f"{where} timed out: the run was still going after timeout_ms={setting}", command=command)
    if kind == "short_circuited":
        return CircuitOpenError(f"{where} short-circuited: its circuit is open", command=command)
    if kind == "rejected":
        return RejectedError(
            f"{where} rejected: max_concurrent_requests={setting} runs already in flight", command=command
        )
    if kind == "cancelled":
        return CancelledError(f"{where}: the caller cancelled the call", command=command)
    if kind == "rate_limited":
        detail = f": rate_limit_for_period={setting} calls already admitted this period" if setting is not None else ""
        return RateLimitedError(f"{where} rate limited{detail}", command=command)
    if kind == "fallback_rejected" and original is not None:
        return FallbackRejectedError(
            original,
            f"{where}: fallback rejected, fallback_max_concurrent_requests={setting} fallbacks already in flight"
            f" (after: {_describe(original)})",
            command=command,
        )
    if kind != "fallback_failure" or original is None or fallback_error is None:
        return HystrixError(f"{where}: {kind}", command=command)
    return FallbackFailedError(
        original,
        fallback_error,
        f"{where}: the fallback failed: {_describe(fallback_error)} (after: {_describe(original)})",
        command=command,
    )


def _bad_clock(command: str, clock: Any, value: Any) -> Exception:
    """The error for a clock whose ``now()`` did not return whole
    milliseconds (a non-negative ``int``, not a ``bool``)."""
    where = f"command {command!r}: clock {_describe(clock)}"
    if isinstance(value, int) and not isinstance(value, bool):
        return ValueError(f"{where}.now() returned {value}; time is whole milliseconds from 0 to 2**64 - 1")
    return TypeError(
        f"{where}.now() returned {_describe(value)} ({type(value).__name__}); a clock must return whole"
        " milliseconds as an int"
    )
