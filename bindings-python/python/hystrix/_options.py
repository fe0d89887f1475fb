"""What every part of the glue shares: the ``hystrix`` logger and the hooks
the native layer reports through, reading a command's clock, classifying a
run's exception, and the checks on what a command is given."""
import functools
import inspect
import logging
import sys
import types
from typing import Any, Callable

from . import _hystrix
from ._errors import BadRequest, InvalidConfigError, _bad_clock, _new_error

#: The ``hystrix`` logger: listener errors (ERROR, with the traceback) and
#: circuit transitions (opened: WARNING; half-open, closed: INFO).
logger = logging.getLogger("hystrix")

#: Run outcomes as the native layer takes them.
SUCCESS, FAILURE, BAD_REQUEST = 0, 1, 2


def _listener_failed(command: str, listener: Any, exc: BaseException) -> None:
    """How the native layer reports an exception a listener raised."""
    logger.error(
        "listener %r of command %r raised %s",
        listener,
        command,
        type(exc).__name__,
        exc_info=(type(exc), exc, exc.__traceback__),
    )


def _log_transition(label: str, _name: str, from_state: str, to_state: str, at_ms: int) -> None:
    """Every circuit's own state listener (bound to its label): logs its transitions."""
    level = logging.WARNING if to_state == "open" else logging.INFO
    if logger.isEnabledFor(level):
        logger.log(level, "command %r: circuit %s -> %s at %d ms", label, from_state, to_state, at_ms)


_hystrix._set_invalid_config_error(InvalidConfigError)
_hystrix._set_error_factory(_new_error)
_hystrix._set_bad_clock_error(_bad_clock)
_hystrix._set_listener_error_hook(_listener_failed)
_hystrix._set_transition_log(_log_transition)


def _now(clock: Any, label: str) -> int:
    """Reads ``clock``: whole milliseconds, an ``int`` (not a ``bool``) from
    0 to 2**64 - 1; anything else is a ``TypeError``/``ValueError`` naming
    the command and the clock (as on the native semaphore path)."""
    t = clock.now()
    if type(t) is int and 0 <= t < 1 << 64:  # exact type: the fast path
        return t
    if isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 1 << 64:
        return int(t)
    raise _bad_clock(label, clock, t)


def _label_of(run: Any) -> str:
    """What errors call an anonymous command: its run's name."""
    return str(getattr(run, "__qualname__", None) or getattr(run, "__name__", None) or type(run).__name__)


def _check_callable(callback: Any) -> None:
    """Refuses a listener that cannot be called, at once rather than at
    every event."""
    if not callable(callback):
        raise TypeError(f"a listener must be callable, got {type(callback).__name__}")


def _is_bad_request_default(exc: BaseException) -> bool:
    return isinstance(exc, BadRequest)


def _outcome_of(is_bad: Callable[[BaseException], bool], exc: BaseException) -> int:
    """A run's exception as an outcome. KeyboardInterrupt, SystemExit and
    other non-``Exception``s are not the dependency's fault: like bad
    requests they skip the fallback and reach the caller unchanged. A
    classifier that raises (or answers with an object whose truth value
    raises) cannot hide the run's error: the error counts as a failure and
    the classifier's exception goes to ``sys.unraisablehook``, as with
    semaphore isolation."""
    if not isinstance(exc, Exception):
        return BAD_REQUEST
    try:
        return BAD_REQUEST if is_bad(exc) else FAILURE
    except Exception as err:  # noqa: BLE001 - reported, never propagated
        sys.unraisablehook(
            types.SimpleNamespace(
                exc_type=type(err),
                exc_value=err,
                exc_traceback=err.__traceback__,
                err_msg="Exception ignored in the is_bad_request classifier",
                object=is_bad,
            )
        )
        return FAILURE


#: Code flags of generator and async generator functions.
_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR


def _check_not_generator(run: Any, what: str) -> None:
    """Refuses generator and async generator functions: a command would
    only protect the call that creates the generator, never its body."""
    # A plain function (the usual run): its code's flags say it directly,
    # at a fraction of what the inspect helpers cost per command created.
    if type(run) is types.FunctionType and not run.__code__.co_flags & _GENERATOR_FLAGS:
        return
    target = run
    if not (inspect.isfunction(run) or inspect.ismethod(run) or isinstance(run, functools.partial)):
        target = getattr(type(run), "__call__", run)  # noqa: B004 - the method itself, to inspect it
    if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
        kind = "an async generator" if inspect.isasyncgenfunction(target) else "a generator"
        raise TypeError(
            f"{what} {_label_of(run)!r} is {kind} function: hystrix would only protect the call that creates"
            " the generator, not its body (failures and time spent while iterating would never count); wrap a"
            " function that consumes it instead (e.g. one returning list(...))"
        )
