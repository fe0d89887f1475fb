"""The registry of named circuits (``configure``, ``get``, ``remove``),
``config_schema``, the commands holding a named circuit, and what a
``fork()`` child must redo."""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Callable, Dict, List

from . import _circuit, _hystrix
from ._circuit import _POOLS, Circuit
from ._types import Settings
from ._typing import Unpack

# Which names exist, their settings ("configure before or after first
# use"), conflicts and removal are decided by the core registry
# (``_hystrix.registry_*``, bindings-python/src/registry.rs); this is only
# the package's cache of the one circuit wrapping each named command.
_registry: Dict[str, Circuit] = {}
_registry_lock = threading.Lock()


def config_schema() -> List[Dict[str, Any]]:
    """Every setting, in SPEC order, as the core describes it: ``name`` (the
    keyword argument), ``type`` (``"bool"``, ``"int"`` or ``"name"``),
    ``default``, and ``min``/``max`` (integers) or ``values`` (named
    settings such as ``retry_jitter``). A new list each call."""
    return json.loads(_hystrix.CONFIG_SCHEMA)  # type: ignore[no-any-return]


def configure(name: str, **config: Unpack[Settings]) -> Circuit:
    """Sets the configuration of the named circuit (made if needed)."""
    with _registry_lock:
        return _enter(name, dict(config), True)


def _enter(name: str, config: Dict[str, Any], reconfigure: bool = False) -> Circuit:
    """The circuit of ``name``, the registry lock held: made with ``config``
    on first use. One name has one set of settings (semantics §2, "One
    command per name"): if the command exists with a different value for a
    setting given, the core registry raises :class:`SettingsConflictError`
    naming the command, the setting and both values, and nothing changes;
    ``reconfigure`` (:func:`configure`) applies the settings instead."""
    native = _hystrix.registry_enter(name, config, reconfigure)
    if native is not None:
        made = _registry[name] = Circuit(name, config, native=native)
        return made
    circuit = _registry.get(name)
    if circuit is None:
        raise RuntimeError(f"hystrix: internal error: command {name!r} is registered but has no circuit")
    return circuit


def _hold(name: str, config: Dict[str, Any]) -> Circuit:
    """The named circuit a new command uses (see :func:`_enter`), counted
    as held by one more command (see :func:`_release`)."""
    with _registry_lock:
        circuit = _enter(name, config)
        circuit._holders += 1
        return circuit


def _release(circuit: Circuit) -> bool:
    """One command holding ``circuit`` closed; whether it was the last.
    The last one takes a named circuit out of the registry (if it is still
    the one registered under its name)."""
    with _registry_lock:
        circuit._holders -= 1
        if circuit._holders > 0:
            return False
        if circuit.name and _registry.get(circuit.name) is circuit:
            del _registry[circuit.name]
            _hystrix.registry_release(circuit._native)
        return True


def get(name: str) -> Circuit:
    """The named circuit (made with the defaults on first use)."""
    with _registry_lock:
        return _enter(name, {})


def remove(name: str) -> bool:
    """Forgets a name; its circuit is freed once no command uses it."""
    with _registry_lock:
        _registry.pop(name, None)
        return _hystrix.registry_remove(name)


def _named() -> List[Circuit]:
    """The circuit of every name in the core registry, in its order (sorted)."""
    with _registry_lock:
        return [c for c in map(_registry.get, _hystrix.registry_names()) if c is not None]


def _after_fork_in_child() -> None:
    """In a child made by ``fork()`` (gunicorn ``--preload``, multiprocessing,
    Celery prefork): the parent's worker threads do not exist here. Every
    pool starts afresh, the locks another thread may have held are new, and
    the calls whose runs were on those threads are released (nothing is
    recorded for them), so no permit stays taken for a run that cannot end."""
    global _registry_lock
    _hystrix._after_fork()
    _registry_lock = threading.Lock()
    _circuit._after_fork_in_child()
    lost: List[Callable[[], None]] = []
    for pool in list(_POOLS):
        lost += pool._after_fork()
    for release in lost:
        release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_hystrix._before_fork, after_in_parent=_hystrix._after_fork, after_in_child=_after_fork_in_child
    )


