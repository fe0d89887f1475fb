"""Interleaved timing for the Python benches: every contender of a
comparison is timed once per round, in adjacent slots, the order reversed
every other round, so the load of a shared machine hits them alike; ratios
are taken per round (from adjacent slots), then summarised by median and
range. Times are the process's CPU time (``time.process_time_ns``), which a
loaded machine skews far less than wall time; ``HYSTRIX_BENCH_WALL=1``
measures wall time instead (what includes waiting for timers). A slot's
length is wall time either way."""
import asyncio
import os
import statistics
import time
from typing import Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

#: Whether slots are timed in wall time rather than CPU time.
WALL = os.environ.get("HYSTRIX_BENCH_WALL") == "1"
_clock = time.perf_counter_ns if WALL else time.process_time_ns

#: Times ``n`` calls of one contender; returns ns per call.
Slot = Callable[[int], float]


def sync_slot(fn: Callable[[], object]) -> Slot:
    """A slot timing ``n`` sequential calls of ``fn``."""

    def measure(n: int) -> float:
        start = _clock()
        for _ in range(n):
            fn()
        return (_clock() - start) / n

    return measure


def async_slot(loop: asyncio.AbstractEventLoop, fn: Callable[[], Awaitable[object]]) -> Slot:
    """A slot timing ``n`` sequential awaited calls of ``fn`` on ``loop``
    (timed inside the loop: starting and stopping it is not counted)."""

    async def batch(n: int) -> float:
        start = _clock()
        for _ in range(n):
            await fn()
        return (_clock() - start) / n

    def measure(n: int) -> float:
        return loop.run_until_complete(batch(n))

    return measure


def _calibrate(slot: Slot, slot_ms: float) -> int:
    """Calls per slot: doubled from 16 until a batch takes an eighth of
    ``slot_ms``, then scaled to fill the slot."""
    n = 16
    while True:
        start = time.perf_counter_ns()
        slot(n)
        ns = (time.perf_counter_ns() - start) / n
        if ns * n >= slot_ms * 1e6 / 8:
            return max(1, round(slot_ms * 1e6 / ns))
        n *= 2


def interleaved(contenders: Dict[str, Slot], rounds: int, slot_ms: float) -> Dict[str, List[float]]:
    """ns per call of every contender, one figure per round."""
    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive int, got {rounds!r}")
    if not slot_ms > 0:
        raise ValueError(f"slot_ms must be positive, got {slot_ms!r}")
    names = list(contenders)
    for name in names:  # warm-up, thrown away
        _calibrate(contenders[name], slot_ms)
    calls = {name: _calibrate(contenders[name], slot_ms) for name in names}
    out: Dict[str, List[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            out[name].append(contenders[name](calls[name]))
    return out


def _stats(values: Sequence[float]) -> Tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def report(
    title: str,
    runs: Dict[str, List[float]],
    ratios: Sequence[Tuple[str, str, Optional[float]]],
) -> None:
    """Prints µs per call (min / median / max) of every contender and, per
    ``(numerator, denominator, target)``, the median and range of the
    per-round ratios, and whether the median meets ``target`` (if any)."""
    rounds = len(next(iter(runs.values())))
    what = "wall time" if WALL else "CPU time"
    print(f"\n== {title}: µs of {what} per call, {rounds} interleaved rounds (min / median / max)")
    for name, values in runs.items():
        lo, med, hi = _stats(values)
        print(f"  {name:<52} {lo / 1e3:9.2f} {med / 1e3:9.2f} {hi / 1e3:9.2f}")
    for num, den, target in ratios:
        if num not in runs or den not in runs:
            raise KeyError(f"ratio {num} / {den}: no such contender")
        lo, med, hi = _stats([a / b for a, b in zip(runs[num], runs[den])])
        verdict = "" if target is None else f"   target <= {target}: {'met' if med <= target else 'MISSED'}"
        print(f"  {num} / {den}: median {med:.3f} (rounds {lo:.3f}-{hi:.3f}){verdict}")


def own_costs(runs: Dict[str, List[float]], floor: str, pairs: Sequence[Tuple[str, str]]) -> None:
    """Prints, per ``(numerator, denominator)``, the median and range over
    the rounds of (numerator − floor) / (denominator − floor): the
    libraries' own costs compared, with what every contender pays alike
    (the run, the timer) taken out."""
    for num, den in pairs:
        per = [(a - f) / (b - f) for a, b, f in zip(runs[num], runs[den], runs[floor])]
        lo, med, hi = _stats(per)
        print(f"  own cost (minus the floor) {num} / {den}: median {med:.3f} (rounds {lo:.3f}-{hi:.3f})")
