"""What a command's timers cost a ``VirtualClock``, and the clock's own
waits: a timer the call never waits for never reaches the clock, a waiter
whose deadline has passed does not wait for an advance, and driving a
retried call with ``advance_async`` takes no more loop passes than a bare
retry loop on the same clock (issue 13's retry benchmark on a virtual
timer)."""
import asyncio
import threading

import hystrix
from conftest import WAIT_S, run_async
from hystrix.testing import VirtualClock

RETRY = dict(retry_max_attempts=3, retry_base_delay_ms=0, retry_jitter="none", error_threshold_percentage=100)


class Flaky(Exception):
    pass


class CountingClock(VirtualClock):
    """A VirtualClock that counts the timers armed on it."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = 0

    def call_at(self, due, callback):
        self.armed += 1
        return super().call_at(due, callback)


def flaky_run(fail_first: int):
    """A run that fails its first ``fail_first`` calls of every three."""
    n = [0]

    def run():
        n[0] += 1
        if (n[0] - 1) % 3 < fail_first:
            raise Flaky()
        return n[0]

    return run


def aflaky_run(fail_first: int):
    run = flaky_run(fail_first)

    async def arun():
        return run()

    return arun


# Fixed: the semaphore interpreter armed a waiter on the clock for every
# timer the core set, and dropped it uncancelled when the core cleared it:
# each retried call left its three timeouts in the clock's queue until the
# next advance (and paid 5 waiters: 71 against 9 µs a call).
def test_a_semaphore_retry_arms_nothing_on_the_virtual_clock():
    clock = CountingClock()
    cmd = hystrix.Command(flaky_run(2), isolation="semaphore", clock=clock, timeout_ms=1000, **RETRY)
    for _ in range(5):
        assert cmd.execute() % 3 == 0
    assert clock.armed == 0
    assert clock.next_deadline() is None


def test_a_semaphore_backoff_is_still_waited_for_on_the_virtual_clock():
    clock = VirtualClock()
    cmd = hystrix.Command(
        flaky_run(1), isolation="semaphore", clock=clock, **dict(RETRY, retry_base_delay_ms=50)
    )
    result = []
    t = threading.Thread(target=lambda: result.append(cmd.execute()), daemon=True)
    t.start()
    for _ in range(1000):
        if clock.next_deadline() is not None:
            break
        t.join(0.005)
    assert clock.next_deadline() == 50  # the backoff, waited for
    assert result == []
    clock.advance(50)
    t.join(WAIT_S)
    assert result == [2]


# Fixed: a waiter armed at or after its deadline waited for the next advance
# (forever, if none came): a deadline reached has won, as on the real clock.
def test_a_waiter_armed_after_its_deadline_returns_at_once():
    clock = VirtualClock(100)
    wait = clock.waiter(100, threading.Event())
    out = []
    t = threading.Thread(target=lambda: out.append(wait()), daemon=True)
    t.start()
    t.join(WAIT_S)
    assert out == [True]
    assert clock.next_deadline() is None


def test_a_waiter_before_its_deadline_still_waits_for_an_advance():
    clock = VirtualClock()
    wait = clock.waiter(10, threading.Event())
    out = []
    t = threading.Thread(target=lambda: out.append(wait()), daemon=True)
    t.start()
    t.join(0.05)
    assert out == []
    clock.advance(10)
    t.join(WAIT_S)
    assert out == [True]


# Fixed: under asyncio every timer the core set became a future and a timer
# on the clock at once, even one cleared in the same reaction (the timeout
# of a run that ends at once): they are armed when the reaction ends now.
def test_asyncio_timers_cleared_in_their_reaction_never_reach_the_virtual_clock():
    clock = CountingClock()
    cmd = hystrix.Command(aflaky_run(2), clock=clock, timeout_ms=1000, **RETRY)

    async def main():
        out = []
        for _ in range(3):
            task = asyncio.ensure_future(cmd.execute_async())
            await clock.advance_async(0)
            out.append(await task)
        return out

    assert [v % 3 for v in run_async(main())] == [0, 0, 0]
    assert clock.armed == 6  # the two 0 ms backoffs of each call, no timeout
    assert clock.next_deadline() is None


def test_an_asyncio_timeout_on_the_virtual_clock_still_fires():
    clock = VirtualClock()

    async def slow():
        await clock.sleep(500)
        return "late"

    cmd = hystrix.Command(slow, clock=clock, timeout_ms=100, fallback=lambda err: type(err).__name__)

    async def main():
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(99)
        assert not task.done()
        await clock.advance_async(1)
        assert task.done()
        return task.result()

    assert run_async(main()) == "TimeoutError"


def loop_passes(make_call, clock: VirtualClock, calls: int = 50) -> float:
    """Loop passes per call of ``make_call()`` driven by ``advance_async(0)``."""
    loop = asyncio.new_event_loop()
    passes = [0]
    run_once = loop._run_once  # type: ignore[attr-defined]

    def counted():
        passes[0] += 1
        return run_once()

    loop._run_once = counted  # type: ignore[attr-defined]

    async def one():
        task = loop.create_task(make_call())
        await clock.advance_async(0)
        return await task

    try:
        loop.run_until_complete(one())
        passes[0] = 0
        for _ in range(calls):
            loop.run_until_complete(one())
        return passes[0] / calls
    finally:
        loop.close()


# Fixed: a retried call driven by advance_async took more loop passes than
# a bare retry loop on the same clock (13 against 10 here, counting the two
# of run_until_complete: its timeouts' futures and their cancel callbacks,
# a hop to wake the caller after the last attempt). Both take 5 now (the
# idle passes of each settle are gone for everybody).
def test_advance_async_drives_a_retried_call_in_no_more_passes_than_a_bare_loop():
    h_clock = VirtualClock()
    cmd = hystrix.Command(aflaky_run(2), clock=h_clock, timeout_ms=1000, **RETRY)
    f_clock = VirtualClock()
    run = aflaky_run(2)

    async def bare():
        for attempt in (1, 2, 3):
            try:
                return await run()
            except Flaky:
                if attempt == 3:
                    raise
                await f_clock.sleep(0)

    ours = loop_passes(cmd.execute_async, h_clock)
    floor = loop_passes(bare, f_clock)
    assert ours <= floor


def test_advance_async_runs_loop_callbacks_that_became_due():
    clock = VirtualClock()
    seen = []

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(0, lambda: loop.call_soon(lambda: seen.append("chained")))
        clock.call_at(0, lambda: loop.call_soon(lambda: loop.call_soon(lambda: seen.append("deep"))))
        await clock.advance_async(0)
        return list(seen)

    assert sorted(run_async(main())) == ["chained", "deep"]
