"""Memory and creation cost per live Python command at default settings:
10^4 anonymous commands kept alive, measured with ``tracemalloc`` (the
Python objects) and RSS (everything, the native state included), idle and
after one call each; then the time to create one, and to create and close
one. Not part of ``make test``; run with the test venv:
``target/py-test/bin/python bindings-python/bench/memory.py``;
``... memory.py cycles`` instead makes and closes 10^6 commands, printing
RSS along the way (it must stay flat)."""
import gc
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any, Callable, Dict, Tuple

import hystrix

N = 10_000
ROUNDS = 5


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def run(x: int) -> int:
    return x


def per_command(make: Callable[[], Any], use: Callable[[Any], None]) -> Tuple[float, float]:
    """(tracemalloc bytes, RSS bytes) per live command for ``N`` commands
    made by ``make()`` and each passed to ``use``. Two passes: the RSS one
    without tracemalloc, whose own bookkeeping (a trace per allocated
    block) would otherwise add ~500 B per command to the RSS; it goes
    first, before anything freed could be reused."""
    rss = _per_command(make, use, traced=False)[1]
    return _per_command(make, use, traced=True)[0], rss


def _per_command(make: Callable[[], Any], use: Callable[[Any], None], traced: bool) -> Tuple[float, float]:
    gc.collect()
    if traced:
        tracemalloc.start()
    traced0 = tracemalloc.get_traced_memory()[0] if traced else 0
    rss0 = rss_bytes()
    cmds = []
    for _ in range(N):
        c = make()
        use(c)
        cmds.append(c)
    gc.collect()
    traced1 = tracemalloc.get_traced_memory()[0] if traced else 0
    rss1 = rss_bytes()
    if traced:
        tracemalloc.stop()
    del cmds
    gc.collect()
    return (traced1 - traced0) / N, (rss1 - rss0) / N


def boom(x: int) -> int:
    raise ValueError(x)


#: name -> (what it measures, make, use); each measured in a fresh process,
#: so memory freed by an earlier measurement cannot hide RSS growth.
SCENARIOS: Dict[str, Tuple[str, Callable[[], Any], Callable[[Any], None]]] = {
    "idle": ("created, never called", lambda: hystrix.Command(run), lambda c: None),
    "idle-semaphore": (
        "created, never called (semaphore)",
        lambda: hystrix.Command(run, isolation="semaphore"),
        lambda c: None,
    ),
    "success": (
        "after one success (semaphore)",
        lambda: hystrix.Command(run, isolation="semaphore"),
        lambda c: c(1),
    ),
    "fallback": (
        "after a failure and its fallback",
        lambda: hystrix.Command(boom, lambda err, x: 0, isolation="semaphore"),
        lambda c: c(1),
    ),
}


def per_call_us(fn: Callable[[], Any]) -> float:
    """Median over ``ROUNDS`` of the µs ``fn`` takes, timed over ``N`` calls."""
    times = []
    for _ in range(ROUNDS):
        made = []
        start = time.perf_counter()
        for _ in range(N):
            made.append(fn())
        times.append((time.perf_counter() - start) / N * 1e6)
        for c in made:
            if c is not None:
                c.close()
    return statistics.median(times)


def cycles(n: int = 1_000_000) -> None:
    """Creates and closes ``n`` commands, printing RSS against the start."""
    hystrix.Command(run).close()
    rss0 = rss_bytes()
    start = time.perf_counter()
    for i in range(1, n + 1):
        hystrix.Command(run).close()
        if i % (n // 4) == 0:
            print(f"  after {i:>9} create/close cycles: RSS {(rss_bytes() - rss0) // 1024:+d} KiB")
    print(f"  {(time.perf_counter() - start) / n * 1e6:.2f} µs per create + close")


def main() -> None:
    if sys.argv[1:] == ["cycles"]:
        cycles()
        return
    if len(sys.argv) == 2:  # one scenario, in this (fresh) process
        _what, make, use = SCENARIOS[sys.argv[1]]
        make()  # imports and first-use caches are not the command's
        traced, rss = per_command(make, use)
        print(f"{traced:.0f} {rss:.0f}")
        return
    print(f"python {sys.version.split()[0]}; {N} live commands at default settings, each case in a fresh process")
    for key, (what, _make, _use) in SCENARIOS.items():
        out = subprocess.run([sys.executable, __file__, key], check=True, capture_output=True, text=True).stdout
        traced, rss = (float(x) for x in out.split())
        print(f"  {what:<34} {traced:8.0f} B traced (Python)  {rss:8.0f} B RSS (all) per command")
    create_us = per_call_us(lambda: hystrix.Command(run))
    print(f"  {'create (median of ' + str(ROUNDS) + ' x ' + str(N) + ')':<34} {create_us:8.2f} µs per command")

    def cycle() -> None:
        hystrix.Command(run).close()

    print(f"  {'create + close':<34} {per_call_us(cycle):8.2f} µs per command")


if __name__ == "__main__":
    main()
