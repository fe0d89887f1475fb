"""Giving a wrapper its wrapped callable's identity, as ``functools``
does (``__module__``, ``__name__``, ``__qualname__``, ``__doc__``, the
annotations, ``__wrapped__``), at a fraction of the cost for the usual case:
a command is made per function, and ``functools.update_wrapper``'s generic loop was a
large part of making one."""
import functools
import types
from typing import Any

_ASSIGNED = functools.WRAPPER_ASSIGNMENTS
_BASE = ("__module__", "__name__", "__qualname__", "__doc__", "__annotations__")
#: Whether this Python assigns the attributes :func:`update_wrapper` knows (3.9 to
#: 3.13); any other version takes ``functools`` itself.
_KNOWN = _ASSIGNED in (_BASE, _BASE + ("__type_params__",))
_TYPE_PARAMS = "__type_params__" in _ASSIGNED


def update_wrapper(wrapper: Any, wrapped: Any) -> None:
    """``functools.update_wrapper(wrapper, wrapped, updated=())``: the
    assignments and ``__wrapped__`` only (a :class:`~hystrix.Command`'s own
    ``__dict__`` is not filled from the run's)."""
    fn: Any = wrapped  # not narrowed below: ``__type_params__`` is 3.12's
    if _KNOWN and type(wrapped) is types.FunctionType:
        # A plain function has every attribute assigned: set directly.
        wrapper.__module__ = fn.__module__
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        wrapper.__annotations__ = fn.__annotations__
        if _TYPE_PARAMS:
            wrapper.__type_params__ = fn.__type_params__
        wrapper.__wrapped__ = fn
    else:
        functools.update_wrapper(wrapper, wrapped, updated=())


def wraps_into(wrapper: Any, wrapped: Any) -> None:
    """``functools.update_wrapper(wrapper, wrapped)`` (what
    ``@functools.wraps`` does to a decorated function): also
    ``wrapper.__dict__`` updated from ``wrapped``'s."""
    update_wrapper(wrapper, wrapped)
    extra = getattr(wrapped, "__dict__", None)
    if extra:
        wrapper.__dict__.update(extra)
        # Last, as functools does: a ``__wrapped__`` copied from ``wrapped``
        # (itself a wrapper) must not stay.
        wrapper.__wrapped__ = wrapped
