"""A/B benchmark of the asyncio interpreter: this tree's ``hystrix._asyncio``
beside the one of a git revision (default ``main``), in one process, on
the same loop, interleaved rounds (see interleaved.py) — and the event-loop
turns each takes per call.

    target/py-test/bin/python bindings-python/bench/asyncio_ab.py [REV]
    HYSTRIX_BENCH_ROUNDS (default 15), HYSTRIX_BENCH_SLOT_MS (default 150)

Rows: the closed path (one coroutine attempt that succeeds, default
settings: a 1 s timeout armed and cleared), the same with a plain function
run, and retry.py's case (3 attempts, the first two fail, 0 ms backoff) on
the real loop's timers. Each contender has its own command. A loop turn is
one pass of the loop (one ``select`` call of its selector)."""
import asyncio
import importlib.util
import os
import subprocess
import sys
from typing import Any, Awaitable, Callable, Dict

import hystrix
from hystrix import _asyncio
from interleaved import Slot, async_slot, interleaved, report
from retry import RETRY, aflaky, env_int

ROUNDS = env_int("HYSTRIX_BENCH_ROUNDS", 15)
SLOT_MS = env_int("HYSTRIX_BENCH_SLOT_MS", 150)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def baseline(rev: str) -> Any:
    """``hystrix/_asyncio.py`` as of ``rev``, loaded as ``hystrix._asyncio_<rev>``."""
    source = subprocess.run(
        ["git", "-C", ROOT, "show", f"{rev}:bindings-python/python/hystrix/_asyncio.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    name = "hystrix._asyncio_base"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "hystrix"
    sys.modules[name] = module
    exec(compile(source, f"{rev}:_asyncio.py", "exec"), module.__dict__)
    return module


async def ok() -> int:
    """A coroutine run that succeeds at once."""
    return 1


def plain() -> int:
    """A plain run that succeeds at once."""
    return 1


def driven(interpreter: Any, cmd: "hystrix.Command[..., Any]") -> Callable[[], Awaitable[Any]]:
    """``cmd.execute_async`` through ``interpreter``'s ``execute``."""
    target = cmd._target

    def call() -> Awaitable[Any]:
        return interpreter.execute(target, (), {})  # type: ignore[no-any-return]

    return call


def turns(loop: asyncio.AbstractEventLoop, fn: Callable[[], Awaitable[Any]], n: int = 2000) -> float:
    """Event-loop turns per awaited call of ``fn``."""
    selector = loop._selector  # type: ignore[attr-defined]
    real = selector.select
    count = [0]

    def select(timeout: Any = None) -> Any:
        count[0] += 1
        return real(timeout)

    async def batch() -> None:
        for _ in range(n):
            await fn()

    selector.select = select
    try:
        loop.run_until_complete(batch())
    finally:
        selector.select = real
    return count[0] / n


def main() -> None:
    rev = sys.argv[1] if len(sys.argv) > 1 else "main"
    old = baseline(rev)
    print(f"python {sys.version.split()[0]}; this tree's hystrix._asyncio (new) beside {rev}'s (old)")
    loop = asyncio.new_event_loop()
    try:
        fns: Dict[str, Callable[[], Awaitable[Any]]] = {}
        for label, interpreter in (("old", old), ("new", _asyncio)):
            fns[f"closed path, coroutine run: {label}"] = driven(interpreter, hystrix.Command(ok))
            fns[f"closed path, plain run: {label}"] = driven(interpreter, hystrix.Command(plain))
            fns[f"retry, real loop timers: {label}"] = driven(interpreter, hystrix.Command(aflaky, **RETRY))
        for name, fn in fns.items():
            print(f"  loop turns per call, {name:<40} {turns(loop, fn):5.2f}")
        slots: Dict[str, Slot] = {name: async_slot(loop, fn) for name, fn in fns.items()}
        runs = interleaved(slots, ROUNDS, SLOT_MS)
    finally:
        loop.close()
    rows = ("closed path, coroutine run", "closed path, plain run", "retry, real loop timers")
    report("asyncio interpreter, new vs old", runs, [(f"{r}: new", f"{r}: old", None) for r in rows])


if __name__ == "__main__":
    main()
