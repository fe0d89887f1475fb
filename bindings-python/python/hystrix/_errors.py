"""The error taxonomy (SPEC §3) as Python exceptions, with stable codes.

Every error hystrix creates names its command (``command`` attribute and the
message) and the setting involved (``setting`` and ``value``: the SPEC key
and its value when the error was made, as the core chooses them). The
message is built from those attributes only when ``str()`` is called, so
making an error on a refusal path does no string work (semantics §3,
"Error messages"). Every class pickles and deep-copies with its attributes,
so errors cross process boundaries (multiprocessing, Celery) intact.
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
    #: The setting behind the error (a SPEC key such as ``"timeout_ms"``), if any.
    setting: Optional[str] = None
    #: That setting's value when the error was made.
    value: Optional[int] = None

    def __init__(self, *args: Any, command: Optional[str] = None):
        super().__init__(*args)
        if command is not None:
            self.command = command

    def __str__(self) -> str:
        if self.args or self.command is None:
            return super().__str__()
        return self._describe()

    def _describe(self) -> str:
        """The message of an error hystrix made (no ``args``): built from its attributes."""
        return f"{_who(self.command)}: {self.kind}"

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _who(command: Optional[str]) -> str:
    """``command 'NAME'``, or ``an anonymous command``."""
    return f"command {command!r}" if command else "an anonymous command"


class CircuitOpenError(HystrixError):
    """The circuit was open (short-circuited) and no fallback answered."""

    kind, code = "short_circuited", 3

    def _describe(self) -> str:
        if self.setting == "force_open":
            return f"{_who(self.command)}: circuit open (force_open)"
        return f"{_who(self.command)}: circuit open ({self.setting} {self.value})"


class RejectedError(HystrixError):
    """The bulkhead was full and no fallback answered."""

    kind, code = "rejected", 4

    def _describe(self) -> str:
        return f"{_who(self.command)} rejected: bulkhead full ({self.setting} {self.value})"


# Deliberately named like the builtin, and also a builtins.TimeoutError.
class TimeoutError(HystrixError, builtins.TimeoutError):
    """The run was still going when its timeout fired, and no fallback answered."""

    kind, code = "timeout", 2

    def _describe(self) -> str:
        return f"{_who(self.command)} timed out after {self.value} ms ({self.setting})"


class BadRequest(HystrixError):
    """Raise this (or a subclass) from a run to report the caller's own fault:
    no fallback is tried, it is not counted in health, and the caller gets it
    back unchanged."""

    kind, code = "bad_request", 5


class FallbackRejectedError(HystrixError):
    """Too many fallbacks were in flight. ``original`` is why the fallback was wanted."""

    kind, code = "fallback_rejected", 6

    def __init__(self, original: BaseException, message: Optional[str] = None, *, command: Optional[str] = None):
        if message is None and command is None:
            message = f"fallback rejected (after: {_describe(original)})"
        super().__init__(*(() if message is None else (message,)), command=command)
        self.original = original

    def _describe(self) -> str:
        where = f"{_who(self.command)}: fallback rejected"
        if self.setting:
            where += f" ({self.setting} {self.value})"
        return f"{where} (after: {_describe(self.original)})"


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
        if message is None and command is None:
            message = f"fallback failed: {_describe(fallback_error)} (after: {_describe(original)})"
        super().__init__(*(() if message is None else (message,)), command=command)
        self.original = original
        self.fallback_error = fallback_error

    def _describe(self) -> str:
        return (
            f"{_who(self.command)}: the fallback failed: {_describe(self.fallback_error)}"
            f" (after: {_describe(self.original)})"
        )


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

    def _describe(self) -> str:
        return f"{_who(self.command)}: cancelled by the caller"


class RateLimitedError(HystrixError):
    """The rate limiter refused the call (semantics §13) and no fallback
    answered."""

    kind, code = "rate_limited", 10

    def _describe(self) -> str:
        if not self.setting:
            return f"{_who(self.command)} rate limited"
        return f"{_who(self.command)} rate limited ({self.setting} {self.value})"


class SettingsConflictError(HystrixError, ValueError):
    """A command of that name already exists with a different value for a
    setting given again (semantics §2, "One command per name"): ``key`` is
    the first differing setting, ``existing`` and ``given`` its two values
    (as JSON text). Change settings with :func:`hystrix.configure`."""

    kind, code = "settings_conflict", 11
    #: The first setting, in SPEC order, whose values differ.
    key: str = ""
    #: The existing command's value, as JSON text (``"100"``, ``"true"``, ``'"full"'``).
    existing: str = ""
    #: The value given, as JSON text.
    given: str = ""

    def _describe(self) -> str:
        return (
            f"{_who(self.command)} already exists with {self.key}={self.existing}; got {self.key}={self.given}"
            " — use configure() to change settings"
        )


def _new_error(
    kind: str,
    command: str,
    setting: Optional[str] = None,
    value: Any = None,
    original: Optional[BaseException] = None,
    fallback_error: Optional[BaseException] = None,
) -> HystrixError:
    """The error hystrix raises for ``kind``: it carries the command, the
    setting involved and its ``value`` (for ``settings_conflict``: the
    key and the pair ``(existing, given)``), and words its message from them
    when it is read. Used by the Python drivers and, through
    ``_hystrix._set_error_factory``, by the native layer, so both word errors
    alike."""
    err: HystrixError
    if kind == "settings_conflict":
        conflict = SettingsConflictError(command=command)
        conflict.key = setting or ""
        conflict.existing, conflict.given = value
        return conflict
    if kind == "fallback_rejected" and original is not None:
        err = FallbackRejectedError(original, command=command)
    elif kind == "fallback_failure" and original is not None and fallback_error is not None:
        err = FallbackFailedError(original, fallback_error, command=command)
    else:
        cls = _KINDS.get(kind)
        err = cls(command=command) if cls is not None else HystrixError(f"{_who(command)}: {kind}", command=command)
    if setting:
        err.setting = setting
        err.value = value
    return err


_KINDS = {
    "timeout": TimeoutError,
    "short_circuited": CircuitOpenError,
    "rejected": RejectedError,
    "cancelled": CancelledError,
    "rate_limited": RateLimitedError,
}


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
