"""``@hystrix.command``: a decorator making a :class:`Command` of a function."""
import functools
import inspect
from typing import Any, Callable, Optional

from ._command import Command
from ._options import _check_not_generator


def command(
    fn: Optional[Callable[..., Any]] = None,
    *,
    fallback: Optional[Callable[..., Any]] = None,
    name: Optional[str] = None,
    isolation: str = "thread",
    is_bad_request: Optional[Callable[[BaseException], bool]] = None,
    clock: Any = None,
    **config: Any,
) -> Any:
    """Decorator: ``@hystrix.command(name="users", fallback=..., timeout_ms=200)``
    wraps a function (sync → :meth:`Command.execute`, ``async def`` →
    :meth:`Command.execute_async`). Works on methods too (one circuit per
    decorated function, shared by every instance). Generator and async
    generator functions are refused with a ``TypeError`` at decoration."""

    def wrap(f: Callable[..., Any]) -> Any:
        _check_not_generator(f, "@hystrix.command")
        cmd = Command(f, fallback, name=name, isolation=isolation, is_bad_request=is_bad_request, clock=clock, **config)
        if inspect.iscoroutinefunction(f):

            @functools.wraps(f)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await cmd.execute_async(*args, **kwargs)

            async_wrapper.command = cmd  # type: ignore[attr-defined]
            return async_wrapper

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return cmd.execute(*args, **kwargs)

        wrapper.command = cmd  # type: ignore[attr-defined]
        return wrapper

    return wrap(fn) if fn is not None else wrap
