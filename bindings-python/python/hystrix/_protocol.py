"""The call protocol as the three interpreters (``_sync``, ``_threads``,
``_asyncio``) share it: the action codes of ``_hystrix.NativeCall``, the
run's view of its call (:func:`current_call`), and what a call settles with.

The core decides every rule of a call — admission, timeouts, retry with
backoff and budget, hedging, the deadline, rate-limit waits, the fallback,
cancellation — and hands out actions; an interpreter only carries them out:
arm or clear a timer, invoke attempt ``k``'s run, abort attempt ``k``,
invoke the fallback, settle the caller. Every input returns the actions it
caused as one flat tuple ``(code, x, y, code, x, y, ...)``."""
import contextvars
import threading
from typing import Any, Callable, Dict, Optional, Tuple

from . import _hystrix
from ._errors import _new_error

SET_TIMER = _hystrix.SET_TIMER
CLEAR_TIMER = _hystrix.CLEAR_TIMER
INVOKE = _hystrix.INVOKE
ABORT = _hystrix.ABORT
FALLBACK = _hystrix.FALLBACK
SETTLE_RUN = _hystrix.SETTLE_RUN
SETTLE_FALLBACK = _hystrix.SETTLE_FALLBACK
SETTLE_ERROR = _hystrix.SETTLE_ERROR
KIND_BASE = _hystrix.KIND_BASE

#: Error kind names by their stable code.
KIND_NAMES: Dict[int, str] = {code: name for name, code in _hystrix.ERROR_KINDS}
CANCELLED_CODE = next(code for name, code in _hystrix.ERROR_KINDS if name == "cancelled")

#: The setting an error of each kind names in its message.
class Call:
    """The call attempt a run is executing for; see :func:`current_call`."""

    __slots__ = ("command", "attempt", "_cancelled")

    def __init__(self, command: str, attempt: int = 1):
        #: The command's name (as errors give it).
        self.command = command
        #: Which attempt of the call this run is, from 1 (retries and hedges
        #: count on; an attempt refused at admission takes a number too).
        self.attempt = attempt
        self._cancelled: Optional[threading.Event] = None

    @property
    def cancelled(self) -> threading.Event:
        """Set when nobody waits for this run any more: at its timeout, when
        another (hedged) attempt won, when the caller cancelled the call or
        was interrupted. A run that can stop early polls
        ``cancelled.is_set()`` or waits on it (``cancelled.wait(t)``)
        instead of sleeping; what it returns after that is discarded. (Made
        on first use: most runs never look.)"""
        event = self._cancelled
        if event is None:
            with _LAZY:
                event = self._cancelled
                if event is None:
                    event = self._cancelled = threading.Event()
        return event

    def __repr__(self) -> str:
        return f"<hystrix.Call {self.command!r} attempt={self.attempt} cancelled={self.cancelled.is_set()}>"


_LAZY = threading.Lock()

_CURRENT_CALL: "contextvars.ContextVar[Optional[Call]]" = contextvars.ContextVar("hystrix_current_call", default=None)


def current_call() -> Optional[Call]:
    """The :class:`Call` of the run executing in this context (the innermost
    one, if runs nest), or ``None`` outside a run. Thread-isolated and
    asyncio runs always have one; a semaphore-isolated run has one when the
    command uses a call strategy (retry, hedging, a deadline or a rate
    limiter), and ``None`` on the single-attempt native path (it is then
    attempt 1 and is never cancelled). Hystrix cannot stop a thread: this is
    how a sync run learns that nobody waits for it any more (SPEC §3 step 3),
    so that it can give its permit back sooner. An asyncio run is also
    cancelled as a task."""
    return _CURRENT_CALL.get()


def _run_as(call: Call, run: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """Runs ``run`` with ``call`` as :func:`current_call` (in the run's own context copy)."""
    _CURRENT_CALL.set(call)
    return run(*args, **kwargs)


class Target:
    """What a command's calls run: its circuit, run, fallback and bad-request
    classifier (held apart from the ``Command``, so that the native
    semaphore path can hand calls to an interpreter without a cycle)."""

    __slots__ = ("circuit", "run", "fallback", "is_bad", "label", "run_is_async")

    def __init__(
        self, circuit: Any, run: Callable[..., Any], fallback: Optional[Callable[..., Any]], is_bad: Any, label: str
    ):
        self.circuit = circuit
        self.run = run
        self.fallback = fallback
        self.is_bad = is_bad
        #: What errors call the command (``circuit.label``, passed in: reading
        #: it makes a new string).
        self.label = label
        #: Whether ``run`` is a coroutine function (calling it runs none of
        #: its code); found out by the asyncio interpreter on first need.
        self.run_is_async: Optional[bool] = None


class Settling:
    """What one call's interpreter keeps to settle the caller: each attempt's
    value or exception, the errors made for kinds, the fallback's outcome."""

    __slots__ = ("target", "args", "kwargs", "outcomes", "made", "fb_value", "fb_error", "t0", "at")

    def __init__(self, target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]):
        self.target = target
        self.args = args
        self.kwargs = kwargs
        #: attempt -> what its run returned or raised.
        self.outcomes: Dict[int, Any] = {}
        #: kind -> the error made for it (one per call: the fallback and the
        #: caller see the same object).
        self.made: Dict[str, BaseException] = {}
        self.fb_value: Any = None
        self.fb_error: Optional[BaseException] = None
        #: When the call started, and the latest time its driver fed it a
        #: timer or a run's end (so a timeout can name ``deadline_ms``).
        self.t0 = 0
        self.at = 0

    def kind_error(self, kind: str) -> BaseException:
        err = self.made.get(kind)
        if err is None:
            err = self.made[kind] = self.new_error(kind)
        return err

    def new_error(
        self, kind: str, original: Optional[BaseException] = None, fallback_error: Optional[BaseException] = None
    ) -> BaseException:
        """A new error of ``kind`` naming the command and the setting the
        core chooses for it (with its value now)."""
        setting, value = self.target.circuit._native.context(kind, max(0, self.at - self.t0))
        return _new_error(kind, self.target.label, setting or None, value, original, fallback_error)

    def original(self, enc: int) -> Optional[BaseException]:
        """The original error an action names (see ``NativeCall``)."""
        if enc == 0:
            return None
        if enc < KIND_BASE:
            return self.outcomes.get(enc)
        return self.kind_error(KIND_NAMES[enc - KIND_BASE])

    def fallback_failed(self, original: Optional[BaseException], exc: BaseException) -> None:
        """The fallback raised ``exc``: an ``Exception`` becomes a
        :class:`FallbackFailedError`; anything else (KeyboardInterrupt,
        SystemExit, a CancelledError) reaches the caller unchanged."""
        if isinstance(exc, Exception) and original is not None:
            err = self.new_error("fallback_failure", original, exc)
            err.__cause__ = exc
            self.fb_error = err
        else:
            self.fb_error = exc

    def result(self, code: int, x: int, y: int) -> Any:
        """The caller's value for a settle action, or raises its error."""
        if code == SETTLE_RUN:
            return self.outcomes[x]
        if code == SETTLE_FALLBACK:
            return self.fb_value
        raise self.error(x, y)

    def error(self, code: int, enc: int) -> BaseException:
        kind = KIND_NAMES[code]
        if kind == "fallback_failure" and self.fb_error is not None:
            return self.fb_error
        original = self.original(enc)
        if kind == "fallback_rejected":
            err = self.new_error(kind, original)
            err.__cause__ = original
            return err
        if original is not None:
            return original
        return self.kind_error(kind)


def settles(actions: Tuple[int, ...], code: int = SETTLE_ERROR, kind: int = CANCELLED_CODE) -> bool:
    """Whether ``actions`` settle the caller with error ``kind``."""
    return any(actions[i] == code and actions[i + 1] == kind for i in range(0, len(actions), 3))
