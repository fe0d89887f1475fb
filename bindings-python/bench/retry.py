"""Python retry benchmark (issue 13): 3 attempts, the first two fail, 0 ms
backoff — hystrix beside tenacity and stamina in one process, on the same
failing run, interleaved rounds.

    scripts/bench-retry-python.sh        (installs tenacity and stamina into
                                          target/py-test, then runs this)
    HYSTRIX_BENCH_ROUNDS (default 9), HYSTRIX_BENCH_SLOT_MS (default 150),
    CPU time unless HYSTRIX_BENCH_WALL=1 (see interleaved.py)

What each does per attempt. tenacity's ``Retrying``: a ``RetryCallState``
per call, then per attempt a list of action functions (``before``, the
attempt, the retry and stop predicates, the wait, ``before_sleep``), an
outcome ``Future`` and a ``sleep(0.0)`` between attempts (``time.sleep``,
a system call; ``asyncio.sleep`` under ``AsyncRetrying``). stamina drives
tenacity with its own wait and stop (attempts and a 45 s timeout by
default) and runs its retry hooks: by default they log a warning and count
a Prometheus metric (prometheus-client is in this venv); they are switched
off here (``set_on_retry_hooks([])``), the cheapest stamina.
``stamina.set_testing(True, attempts=3)`` forces waits to 0 (they are 0
already) and replaces the stop by ``stop_after_attempt(3)``, copying the
tenacity arguments per call; the sleep between attempts stays: measured as
its own row. Hystrix (semantics §9–§11): admits each attempt through the
circuit and the bulkhead, arms and clears its timeout timer (1 s), records
the outcome and a RETRY marker in the rolling window, evaluates the trip
rule, decides the retry and arms the 0 ms backoff timer; the latency is
recorded at the end. The circuit is kept closed (error threshold 100 %:
2 failures in 3 is 66 %), as in the Rust bench.

Timers. Sync: hystrix's semaphore interpreter waits for a timer only if its
due time is still ahead — a 0 ms backoff never waits, on any clock;
tenacity is measured with its real ``time.sleep(0)`` and with a no-op
``sleep`` (what a virtual clock's 0 s sleep does). asyncio: "virtual" puts
both on a :class:`hystrix.testing.VirtualClock` that never moves on — each
call is started as a task, then ``await clock.advance_async(0)`` fires the
0 ms timers (tenacity's ``sleep`` is the clock's ``sleep``); "real" uses
the loop's timers (``call_later(0)`` / ``asyncio.sleep(0)``). A hystrix
command on a VirtualClock that never moves keeps its cleared timeouts in
the clock's heap until time passes them: the clock of such a contender is
moved on by 2 s after each of its slots (untimed).

Each group has a floor: a bare retry loop (three runs, the same waits as
the group's timer) — what every contender pays alike; "own cost" ratios
take it out.
"""
import asyncio
import os
import sys
from importlib.metadata import version
from typing import Any, Callable, Dict

import hystrix
import stamina
from hystrix.testing import VirtualClock
from interleaved import Slot, async_slot, interleaved, own_costs, report, sync_slot
from stamina.instrumentation import set_on_retry_hooks
from tenacity import AsyncRetrying, Retrying, retry_if_exception_type, stop_after_attempt, wait_none


def env_int(name: str, default: int) -> int:
    """A non-negative int from environment variable ``name``, or ``default``."""
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit():
        raise SystemExit(f"{name} must be a non-negative integer, got {raw!r}")
    return int(raw)


ROUNDS = env_int("HYSTRIX_BENCH_ROUNDS", 9)
SLOT_MS = env_int("HYSTRIX_BENCH_SLOT_MS", 150)


class Flaky(Exception):
    """What the run raises on attempts 1 and 2 (a new one each time: a
    re-raised instance would grow its traceback)."""


RUNS = [0]


def flaky() -> int:
    """Fails twice, then succeeds, for every call (calls are sequential)."""
    RUNS[0] += 1
    if RUNS[0] % 3:
        raise Flaky()
    return 1


async def aflaky() -> int:
    """``flaky`` as a coroutine."""
    return flaky()


RETRY: Dict[str, Any] = dict(
    retry_max_attempts=3, retry_base_delay_ms=0, retry_jitter="none", error_threshold_percentage=100
)
TENACITY: Dict[str, Any] = dict(
    stop=stop_after_attempt(3), wait=wait_none(), retry=retry_if_exception_type(Flaky), reraise=True
)
STAMINA: Dict[str, Any] = dict(on=Flaky, attempts=3, wait_initial=0, wait_max=0, wait_jitter=0)


def no_sleep(_seconds: float) -> None:
    """A virtual clock's sleep of 0 s: returns at once."""


def stamina_testing(fn: Callable[[], object]) -> Slot:
    """A slot timing ``fn`` with stamina's testing mode on (only while it is timed)."""
    plain = sync_slot(fn)

    def measure(n: int) -> float:
        with stamina.set_testing(True, attempts=3):
            return plain(n)

    return measure


def drained(slot: Slot, clock: VirtualClock, loop: "asyncio.AbstractEventLoop | None" = None) -> Slot:
    """``slot``, then ``clock`` moved on by 2 s (untimed; on ``loop`` if
    given) to drop the timers its calls left armed."""

    def measure(n: int) -> float:
        ns = slot(n)
        if loop is None:
            clock.advance(2000)
        else:
            loop.run_until_complete(clock.advance_async(2000))
        return ns

    return measure


def floor_sync() -> int:
    """A bare retry loop: three runs, no wait (a 0 s wait is none)."""
    for attempt in (1, 2, 3):
        try:
            return flaky()
        except Flaky:
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


def floor_async(wait0: Callable[[], Any]) -> Callable[[], Any]:
    """A bare async retry loop: three runs, awaiting ``wait0()`` after each failure."""

    async def loop() -> int:
        for attempt in (1, 2, 3):
            try:
                return await aflaky()
            except Flaky:
                if attempt == 3:
                    raise
                await wait0()
        raise AssertionError("unreachable")

    return loop


def sync_contenders() -> Dict[str, Slot]:
    real = hystrix.Command(flaky, isolation="semaphore", **RETRY)
    v_clock = VirtualClock()
    virtual = hystrix.Command(flaky, isolation="semaphore", clock=v_clock, **RETRY)
    t_real = Retrying(**TENACITY)
    t_virtual = Retrying(sleep=no_sleep, **TENACITY)
    s = stamina.retry(**STAMINA)(flaky)
    return {
        "floor: a bare retry loop": sync_slot(floor_sync),
        "hystrix semaphore": sync_slot(real.execute),
        "hystrix semaphore, VirtualClock": drained(sync_slot(virtual.execute), v_clock),
        "tenacity Retrying (time.sleep(0))": sync_slot(lambda: t_real(flaky)),
        "tenacity Retrying, sleep=no-op": sync_slot(lambda: t_virtual(flaky)),
        "stamina.retry (time.sleep(0))": sync_slot(s),
        "stamina.retry, set_testing(True, attempts=3)": stamina_testing(s),
    }


def async_contenders(loop: asyncio.AbstractEventLoop) -> Dict[str, Slot]:
    h_clock = VirtualClock()
    h_virtual = hystrix.Command(aflaky, clock=h_clock, **RETRY)
    h_real = hystrix.Command(aflaky, **RETRY)
    t_clock = VirtualClock()

    def t_sleep(seconds: float) -> Any:
        return t_clock.sleep(round(seconds * 1000))

    t_virtual = AsyncRetrying(sleep=t_sleep, **TENACITY)
    t_real = AsyncRetrying(**TENACITY)
    s = stamina.retry(**STAMINA)(aflaky)

    f_clock = VirtualClock()
    f_virtual = floor_async(lambda: f_clock.sleep(0))
    f_real = floor_async(lambda: asyncio.sleep(0))

    async def floor_virtual() -> Any:
        task = loop.create_task(f_virtual())
        await f_clock.advance_async(0)
        return await task

    async def hystrix_virtual() -> Any:
        task = loop.create_task(h_virtual.execute_async())
        await h_clock.advance_async(0)
        return await task

    async def tenacity_virtual() -> Any:
        task = loop.create_task(t_virtual(aflaky))
        await t_clock.advance_async(0)
        return await task

    return {
        "virtual: floor, a bare retry loop": async_slot(loop, floor_virtual),
        "virtual: hystrix execute_async": drained(async_slot(loop, hystrix_virtual), h_clock, loop),
        "virtual: tenacity AsyncRetrying": async_slot(loop, tenacity_virtual),
        "real: floor, a bare retry loop": async_slot(loop, f_real),
        "real: hystrix execute_async": async_slot(loop, h_real.execute_async),
        "real: tenacity AsyncRetrying": async_slot(loop, lambda: t_real(aflaky)),
        "real: stamina.retry": async_slot(loop, s),
    }


def check(slots: Dict[str, Slot]) -> None:
    """Every contender returns after exactly 3 runs (and raises nothing)."""
    for name, slot in slots.items():
        before = RUNS[0]
        slot(1)
        if RUNS[0] - before != 3:
            raise SystemExit(f"{name}: {RUNS[0] - before} runs for one call, expected 3")


def main() -> None:
    set_on_retry_hooks([])
    print(
        f"python {sys.version.split()[0]}; hystrix {hystrix.__version__}, tenacity {version('tenacity')}, "
        f"stamina {version('stamina')}"
    )
    print(f"hystrix {RETRY}")
    print("tenacity stop_after_attempt(3), wait_none(), retry_if_exception_type(Flaky), reraise=True")
    print(f"stamina {STAMINA} (retry hooks off)")
    sync = sync_contenders()
    check(sync)
    runs = interleaved(sync, ROUNDS, SLOT_MS)
    report(
        "sync (semaphore isolation)",
        runs,
        [
            ("hystrix semaphore", "tenacity Retrying (time.sleep(0))", 0.5),
            ("hystrix semaphore", "tenacity Retrying, sleep=no-op", 0.5),
            ("hystrix semaphore", "stamina.retry (time.sleep(0))", 0.5),
            ("hystrix semaphore", "stamina.retry, set_testing(True, attempts=3)", 0.5),
            ("hystrix semaphore, VirtualClock", "tenacity Retrying, sleep=no-op", None),
        ],
    )
    own_costs(
        runs,
        "floor: a bare retry loop",
        [
            ("hystrix semaphore", "tenacity Retrying, sleep=no-op"),
            ("hystrix semaphore", "stamina.retry, set_testing(True, attempts=3)"),
        ],
    )
    loop = asyncio.new_event_loop()
    try:
        slots = async_contenders(loop)
        check(slots)
        runs = interleaved(slots, ROUNDS, SLOT_MS)
    finally:
        loop.close()
    report(
        "asyncio",
        runs,
        [
            ("virtual: hystrix execute_async", "virtual: tenacity AsyncRetrying", 0.5),
            ("real: hystrix execute_async", "real: tenacity AsyncRetrying", 0.5),
            ("real: hystrix execute_async", "real: stamina.retry", 0.5),
        ],
    )
    own_costs(
        runs,
        "virtual: floor, a bare retry loop",
        [("virtual: hystrix execute_async", "virtual: tenacity AsyncRetrying")],
    )
    own_costs(
        runs,
        "real: floor, a bare retry loop",
        [
            ("real: hystrix execute_async", "real: tenacity AsyncRetrying"),
            ("real: hystrix execute_async", "real: stamina.retry"),
        ],
    )


if __name__ == "__main__":
    main()
