"""Retry on the real clock. Under semaphore isolation the interpreter makes
the real clock's waiter only when it must wait (not per timer armed); under
asyncio it arms the loop's own timers (no future per timer). These check
that a backoff is still waited out, that 0 ms backoffs and cleared
timeouts never block (nor stay armed), and that a timeout is still judged."""
import asyncio
import time

import hystrix
from conftest import Boom


def test_a_semaphore_retry_on_the_real_clock_waits_its_backoff_out():
    starts = []

    def run():
        starts.append(time.monotonic())
        if len(starts) < 3:
            raise Boom("down")
        return "third"

    cmd = hystrix.Command(
        run,
        isolation="semaphore",
        retry_max_attempts=3,
        retry_base_delay_ms=40,
        retry_multiplier_permille=2000,
        retry_jitter="none",
    )
    cpu = time.process_time()
    assert cmd.execute() == "third"
    cpu = time.process_time() - cpu
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    # 40 ms then 80 ms of backoff (the clock counts whole milliseconds).
    assert gaps[0] >= 0.039 and gaps[1] >= 0.079, gaps
    # Slept, not spun: a loop polling the clock until the backoff is due
    # would burn most of those 120 ms.
    assert cpu < 0.03, cpu


def test_zero_ms_backoffs_and_cleared_timeouts_never_block():
    calls = []

    def run():
        calls.append(None)
        if len(calls) % 3:
            raise Boom("down")
        return len(calls)

    # A 10 s timeout is armed and cleared per attempt: waiting on any of them would show.
    cmd = hystrix.Command(run, isolation="semaphore", retry_max_attempts=3, retry_base_delay_ms=0, timeout_ms=10_000)
    start = time.monotonic()
    assert [cmd.execute() for _ in range(200)][-1] == 600
    assert time.monotonic() - start < 5.0
    assert cmd.snapshot()["cumulative"]["RETRY"] == 400


def test_a_semaphore_attempt_that_returns_late_is_a_timeout_and_retried():
    calls = []

    def run():
        calls.append(None)
        if len(calls) == 1:
            time.sleep(0.05)  # past its 20 ms timeout: judged when it returns
        return len(calls)

    cmd = hystrix.Command(run, isolation="semaphore", timeout_ms=20, retry_max_attempts=2, retry_base_delay_ms=0)
    events = []
    cmd.on_event(lambda _name, event, _at: events.append(event))
    assert cmd.execute() == 2
    assert events == ["TIMEOUT", "RETRY", "SUCCESS"]


def test_an_asyncio_retry_on_the_real_clock_waits_its_backoff_out_and_leaves_no_timer_armed():
    starts = []

    async def run():
        starts.append(time.monotonic())
        if len(starts) < 3:
            raise Boom("down")
        return "third"

    cmd = hystrix.Command(
        run, retry_max_attempts=3, retry_base_delay_ms=40, retry_multiplier_permille=2000, retry_jitter="none"
    )

    async def main():
        value = await cmd.execute_async()
        loop = asyncio.get_running_loop()
        # Every attempt's timeout (1 s) was cleared: its loop timer is cancelled, none left to fire.
        live = [h for h in loop._scheduled if not h.cancelled()]
        return value, live

    value, live = asyncio.run(main())
    assert value == "third" and live == []
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert gaps[0] >= 0.039 and gaps[1] >= 0.079, gaps


def test_an_asyncio_timeout_on_the_real_clock_fires_and_is_retried():
    calls = []

    async def run():
        calls.append(None)
        if len(calls) == 1:
            await asyncio.sleep(10)  # cancelled by its 20 ms timeout
        return len(calls)

    cmd = hystrix.Command(run, timeout_ms=20, retry_max_attempts=2, retry_base_delay_ms=0)
    events = []
    cmd.on_event(lambda _name, event, _at: events.append(event))
    start = time.monotonic()
    assert asyncio.run(cmd.execute_async()) == 2
    assert time.monotonic() - start < 5.0
    assert events == ["TIMEOUT", "RETRY", "SUCCESS"]
