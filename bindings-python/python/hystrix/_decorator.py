"""``@hystrix.command``: a decorator making a :class:`Command` of a
function, typed so that the decorated function keeps its signature."""
from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable, Coroutine, Dict, Optional, Protocol, TypeVar, overload

from ._command import Command
from ._options import _check_not_generator
from ._types import Clock, Isolation, Settings
from ._typing import ParamSpec, Unpack
from ._wrapping import wraps_into

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class CommandFunction(Protocol[P, R_co]):
    """What ``@hystrix.command`` makes of a function: called like it (same
    parameters, same result type), each call going through ``.command``."""

    @property
    def command(self) -> Command[P, R_co]:
        """The :class:`Command` the calls go through (``.command.close()``,
        ``.command.snapshot()``, ...)."""
        ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        """Runs the function through :meth:`Command.execute`."""
        ...


class AsyncCommandFunction(Protocol[P, R_co]):
    """What ``@hystrix.command`` makes of an ``async def`` function: a
    coroutine function with its parameters, awaiting to its result type,
    each call going through ``.command``."""

    @property
    def command(self) -> Command[P, Coroutine[Any, Any, R_co]]:
        """The :class:`Command` the calls go through."""
        ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R_co]:
        """Awaits the function through :meth:`Command.execute_async`."""
        ...


class CommandDecorator(Protocol):
    """What ``@hystrix.command(...)`` with settings returns: applied to a
    function, the decorated function."""

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]], /) -> AsyncCommandFunction[P, R]: ...

    @overload
    def __call__(self, fn: Callable[P, R], /) -> CommandFunction[P, R]: ...


@overload
def command(fn: Callable[P, Coroutine[Any, Any, R]], /) -> AsyncCommandFunction[P, R]: ...


@overload
def command(fn: Callable[P, R], /) -> CommandFunction[P, R]: ...


@overload
def command(
    *,
    fallback: Optional[Callable[..., object]] = None,
    name: Optional[str] = None,
    isolation: Isolation = "thread",
    is_bad_request: Optional[Callable[[BaseException], bool]] = None,
    clock: Optional[Clock] = None,
    **config: Unpack[Settings],
) -> CommandDecorator: ...


def command(
    fn: Optional[Callable[..., Any]] = None,
    /,
    *,
    fallback: Optional[Callable[..., object]] = None,
    name: Optional[str] = None,
    isolation: Isolation = "thread",
    is_bad_request: Optional[Callable[[BaseException], bool]] = None,
    clock: Optional[Clock] = None,
    **config: Any,
) -> Any:
    """Decorator: ``@hystrix.command(name="users", fallback=..., timeout_ms=200)``
    wraps a function (sync → :meth:`Command.execute`, ``async def`` →
    :meth:`Command.execute_async`); bare ``@hystrix.command`` uses the
    defaults. Works on methods too (one circuit per decorated function,
    shared by every instance). Generator and async generator functions are
    refused with a ``TypeError`` at decoration.

    Type checkers see the decorated function with its own parameters and
    result type (:class:`CommandFunction`, :class:`AsyncCommandFunction`),
    its command as ``.command``, and the settings as typed keywords
    (:class:`hystrix.Settings`)."""

    if fn is not None:
        return _decorate(fallback, name, isolation, is_bad_request, clock, config, fn)
    # One C-level object holding the arguments (not a closure over each).
    return functools.partial(_decorate, fallback, name, isolation, is_bad_request, clock, config)


def _decorate(
    fallback: Optional[Callable[..., object]],
    name: Optional[str],
    isolation: Isolation,
    is_bad_request: Optional[Callable[[BaseException], bool]],
    clock: Optional[Clock],
    config: Dict[str, Any],
    f: Callable[..., Any],
) -> Any:
    """``f`` decorated (see :func:`command`); ``config`` is only read, so
    one ``@command(...)`` may decorate several functions."""
    _check_not_generator(f, "@hystrix.command")
    cmd: Command[..., Any] = Command.__new__(Command)
    cmd._setup(f, fallback, name, isolation, is_bad_request, clock, config, None)
    if _is_coroutine_function(f):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await cmd.execute_async(*args, **kwargs)

        wraps_into(async_wrapper, f)  # what @functools.wraps(f) does, faster
        async_wrapper.command = cmd  # type: ignore[attr-defined]
        return async_wrapper

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return cmd.execute(*args, **kwargs)

    wraps_into(wrapper, f)
    wrapper.command = cmd  # type: ignore[attr-defined]
    return wrapper


def _is_coroutine_function(f: Any) -> bool:
    """``inspect.iscoroutinefunction(f)``, read from the code's flags for a
    plain function with no attributes (none can carry the mark that
    ``inspect.markcoroutinefunction`` sets)."""
    if type(f) is types.FunctionType and not f.__dict__:
        return bool(f.__code__.co_flags & inspect.CO_COROUTINE)
    return inspect.iscoroutinefunction(f)
