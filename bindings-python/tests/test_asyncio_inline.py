"""Attempts run in the caller's own task (Python 3.11+, ``hystrix._inline``):
their timeouts, the caller's cancellation, runs that will not stop, and
overlapping (hedged) attempts, which keep tasks of their own. The
behaviour asserted here is the same on every Python; where the attempt
runs (which task) is checked from 3.11 on."""
import asyncio
import sys

import hystrix
import pytest
from conftest import WAIT_S, Boom, counts, run_async
from hystrix.testing import VirtualClock

INLINE = sys.version_info >= (3, 11)


def cancelling(task):
    """The task's count of cancellations asked for (0 before 3.11: not kept)."""
    return task.cancelling() if INLINE else 0


def test_a_timed_out_attempt_is_cancelled_and_the_callers_task_is_not():
    async def main():
        clock = VirtualClock()
        seen = []

        async def run():
            attempt = hystrix.current_call().attempt
            seen.append(("start", attempt, asyncio.current_task()))
            try:
                await clock.sleep(100 if attempt == 1 else 0)
            except asyncio.CancelledError:
                seen.append(("cancelled", attempt, hystrix.current_call().cancelled.is_set()))
                raise
            return f"attempt {attempt}"

        cmd = hystrix.Command(
            run, clock=clock, timeout_ms=50, retry_max_attempts=2, retry_base_delay_ms=0, retry_on_timeout=True
        )
        caller = asyncio.current_task()
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(50)
        await clock.advance_async(0)
        value = await task
        # Nothing of the interpreter's cancellation is left on any task.
        await asyncio.sleep(0)
        return value, seen, caller, task

    value, seen, caller, task = run_async(main())
    assert value == "attempt 2"
    assert [s[:2] for s in seen] == [("start", 1), ("cancelled", 1), ("start", 2)]
    assert seen[1][2] is True, "Call.cancelled is set before the run is cancelled"
    assert not task.cancelled() and cancelling(task) == 0
    if INLINE:
        assert seen[0][2] is task and seen[2][2] is task, "both ran in the caller's task"


def test_a_run_that_swallows_its_timeout_does_not_hold_the_call_back():
    async def main():
        clock = VirtualClock()
        tasks = []

        async def run():
            attempt = hystrix.current_call().attempt
            if attempt == 2:
                return "second"
            try:
                await clock.sleep(100)
            except asyncio.CancelledError:
                await clock.sleep(1000)  # ignores its cancellation, ends much later
                tasks.append(asyncio.current_task())
            return "first, late"

        cmd = hystrix.Command(
            run,
            clock=clock,
            timeout_ms=50,
            retry_max_attempts=2,
            retry_base_delay_ms=0,
            retry_on_timeout=True,
            max_concurrent_requests=2,
        )
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(50)
        await clock.advance_async(0)
        assert task.done() and task.result() == "second", "settled while the first run goes on"
        assert cmd.snapshot()["concurrent"] == 1, "the first run holds its permit until it stops"
        await clock.advance_async(1000)
        assert cmd.snapshot()["concurrent"] == 0
        assert tasks and tasks[0] is not task, "it went on in a task of its own"
        assert cancelling(task) == 0
        return counts(cmd)

    assert run_async(main()) == {"TIMEOUT": 1, "RETRY": 1, "SUCCESS": 1}


@pytest.mark.parametrize("swallows", [False, True])
def test_the_callers_cancellation_reaches_its_attempt_and_cancels_the_call(swallows):
    # A run that passes the cancellation on cancels the call, and the
    # caller's task stays cancelled. From Python 3.11 the run runs in the
    # caller's task: one that catches the cancellation and returns
    # swallowed it there (as any code of that task can), and the call
    # ends with its value; before, the call is cancelled anyway.
    if swallows and INLINE:
        pytest.skip("see test_a_run_that_swallows_the_callers_cancellation_keeps_its_value")

    async def main():
        clock = VirtualClock()
        seen = []

        async def run():
            try:
                await clock.sleep(100)
            except asyncio.CancelledError:
                seen.append("run cancelled")
                if swallows:
                    return "swallowed"
                raise
            return "never"

        cmd = hystrix.Command(run, lambda e: "fallback", clock=clock, timeout_ms=1000, retry_max_attempts=3)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen == ["run cancelled"]
        if INLINE:
            assert task.cancelling() == 1, "the caller's own cancellation stays asked for"
        assert cmd.snapshot()["concurrent"] == 0
        return counts(cmd)

    assert run_async(main()) == {"CANCELLED": 1}


def test_hedged_attempts_overlap_in_tasks_of_their_own():
    async def main():
        clock = VirtualClock()
        seen = {}

        async def run():
            attempt = hystrix.current_call().attempt
            seen[attempt] = asyncio.current_task()
            try:
                await clock.sleep(100 if attempt == 1 else 10)
            except asyncio.CancelledError:
                seen["cancelled"] = attempt
                raise
            return f"attempt {attempt}"

        cmd = hystrix.Command(run, clock=clock, hedge_max_attempts=2, hedge_delay_ms=50, timeout_ms=10_000)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(50)
        await clock.advance_async(10)
        value = await task
        await asyncio.sleep(0)
        assert cancelling(task) == 0
        return value, seen, task

    value, seen, task = run_async(main())
    assert value == "attempt 2" and seen["cancelled"] == 1
    assert seen[2] is not task
    if INLINE:
        assert seen[1] is task, "the first ran in the caller's task, the hedge beside it"


@pytest.mark.skipif(not INLINE, reason="asyncio.timeout is Python 3.11+")
def test_a_runs_own_asyncio_timeout_is_its_own_failure():
    async def main():
        async def run():
            if hystrix.current_call().attempt == 1:
                async with asyncio.timeout(0.001):
                    await asyncio.sleep(WAIT_S)
            return "second"

        cmd = hystrix.Command(run, timeout_ms=int(WAIT_S * 1000), retry_max_attempts=2, retry_base_delay_ms=0)
        value = await cmd.execute_async()
        await asyncio.sleep(0)
        assert asyncio.current_task().cancelling() == 0
        return value, counts(cmd)

    value, events = run_async(main())
    assert value == "second"
    assert events == {"FAILURE": 1, "RETRY": 1, "SUCCESS": 1}


def test_a_run_that_raises_at_once_is_recorded_as_it_raised():
    async def run():
        raise Boom("at once")

    cmd = hystrix.Command(run, lambda e: type(e).__name__)
    assert run_async(cmd.execute_async()) == "Boom"
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_SUCCESS": 1}


def test_a_hedge_launched_on_failure_runs_in_the_callers_task_once_it_is_free():
    # Attempt 1 runs in the caller's task; hedge 2 overlaps it (a task of
    # its own); attempt 1 fails, and hedge 3, launched by a 0 ms timer
    # (semantics §9.7), starts as the caller's task again.
    async def main():
        clock = VirtualClock()
        seen = {}

        async def run():
            attempt = hystrix.current_call().attempt
            seen[attempt] = asyncio.current_task()
            await clock.sleep({1: 60, 2: 1000, 3: 5}[attempt])
            if attempt < 3:
                raise Boom(f"attempt {attempt}")
            return "third"

        cmd = hystrix.Command(
            run, clock=clock, hedge_max_attempts=3, hedge_delay_ms=50, hedge_on_failure=True, timeout_ms=10_000
        )
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(50)  # hedge 2 starts
        await clock.advance_async(10)  # attempt 1 fails: hedge 3 starts
        await clock.advance_async(5)  # hedge 3 wins, hedge 2 is cancelled
        value = await task
        await asyncio.sleep(0)
        assert cancelling(task) == 0
        return value, seen, task, counts(cmd)

    value, seen, task, events = run_async(main())
    assert value == "third"
    assert events == {"FAILURE": 1, "HEDGE": 2, "SUCCESS": 1, "CANCELLED": 1}
    assert seen[2] is not task
    if INLINE:
        assert seen[1] is task and seen[3] is task


def test_the_callers_cancellation_reaches_an_attempt_a_timer_just_started():
    # The backoff timer starts attempt 2 (as the caller's task, from its
    # callback); the caller is cancelled before it has taken the suspended
    # run on: the run still gets the cancellation, and the call is cancelled.
    async def main():
        clock = VirtualClock()
        seen = []

        async def run():
            attempt = hystrix.current_call().attempt
            if attempt == 1:
                raise Boom("first")
            try:
                await clock.sleep(100)
            except asyncio.CancelledError:
                seen.append(("cancelled", attempt))
                raise
            return "never"

        cmd = hystrix.Command(run, clock=clock, timeout_ms=1000, retry_max_attempts=2, retry_base_delay_ms=10)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(0)  # attempt 1 failed, the backoff is armed
        clock.advance(10)  # the backoff fires: its callback runs at the next step of the loop
        await asyncio.sleep(0)  # attempt 2 started and suspended; the caller is not woken yet
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen == [("cancelled", 2)]
        assert cmd.snapshot()["concurrent"] == 0
        return counts(cmd)

    assert run_async(main()) == {"FAILURE": 1, "RETRY": 1, "CANCELLED": 1}


@pytest.mark.skipif(not INLINE, reason="asyncio.timeout is Python 3.11+")
def test_an_asyncio_timeout_around_the_call_cancels_it_and_becomes_a_timeout_error():
    async def main():
        seen = []

        async def run():
            try:
                await asyncio.sleep(WAIT_S)
            except asyncio.CancelledError:
                seen.append("run cancelled")
                raise
            return "never"

        cmd = hystrix.Command(run, lambda e: "fallback", timeout_ms=int(WAIT_S * 1000), retry_max_attempts=3)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await cmd.execute_async()
        assert asyncio.current_task().cancelling() == 0
        assert seen == ["run cancelled"]
        assert cmd.snapshot()["concurrent"] == 0
        return counts(cmd)

    assert run_async(main()) == {"CANCELLED": 1}


@pytest.mark.skipif(not INLINE, reason="attempts run in the caller's task from Python 3.11")
def test_a_run_that_swallows_the_callers_cancellation_keeps_its_value():
    async def main():
        clock = VirtualClock()

        async def run():
            try:
                await clock.sleep(100)
            except asyncio.CancelledError:
                return "swallowed"
            return "never"

        cmd = hystrix.Command(run, lambda e: "fallback", clock=clock, timeout_ms=1000)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(10)
        task.cancel()
        value = await task
        assert task.cancelling() == 0, "left as the run found it"
        return value, counts(cmd)

    assert run_async(main()) == ("swallowed", {"SUCCESS": 1})


@pytest.mark.skipif(not INLINE, reason="asyncio.TaskGroup is Python 3.11+")
def test_a_task_group_in_a_run_whose_child_fails_is_the_runs_failure():
    # The group cancels the task the run runs in (the caller's) and waits
    # for its other child: that is not the caller's cancellation.
    async def main():
        async def child_fails():
            await asyncio.sleep(0)
            raise Boom("child")

        async def run():
            if hystrix.current_call().attempt == 1:
                async with asyncio.TaskGroup() as group:
                    group.create_task(child_fails())
                    group.create_task(asyncio.sleep(WAIT_S))
            return "second"

        cmd = hystrix.Command(run, timeout_ms=int(WAIT_S * 1000), retry_max_attempts=2, retry_base_delay_ms=0)
        value = await cmd.execute_async()
        assert asyncio.current_task().cancelling() == 0
        return value, counts(cmd)

    assert run_async(main()) == ("second", {"FAILURE": 1, "RETRY": 1, "SUCCESS": 1})


@pytest.mark.skipif(not INLINE, reason="asyncio.timeout is Python 3.11+")
def test_a_runs_own_timeout_expiring_while_it_cleans_up_is_not_the_callers_cancellation():
    # The run's asyncio.timeout() cancels the task it runs in (the
    # caller's); the run awaits its cleanup inside the timeout block before
    # the timeout turns the cancellation into TimeoutError.
    async def main():
        cleaned = []

        async def run():
            if hystrix.current_call().attempt == 1:
                async with asyncio.timeout(0.001):
                    try:
                        await asyncio.sleep(WAIT_S)
                    except asyncio.CancelledError:
                        await asyncio.sleep(0.001)  # cleanup
                        cleaned.append(True)
                        raise
            return "second"

        cmd = hystrix.Command(run, timeout_ms=int(WAIT_S * 1000), retry_max_attempts=2, retry_base_delay_ms=0)
        value = await cmd.execute_async()
        await asyncio.sleep(0)
        assert asyncio.current_task().cancelling() == 0
        return value, cleaned, counts(cmd)

    assert run_async(main()) == ("second", [True], {"FAILURE": 1, "RETRY": 1, "SUCCESS": 1})
