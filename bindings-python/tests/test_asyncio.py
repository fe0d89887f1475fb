"""execute_async: coroutine runs, timeouts by cancellation, sync and async
fallbacks, caller cancellation, all on a VirtualClock."""
import asyncio
import traceback

import hystrix
import pytest
from conftest import Boom, FallbackBoom, LateTimers, counts, run_async
from hystrix.testing import VirtualClock


def test_coroutine_run_value():
    async def main():
        clock = VirtualClock()

        async def run(a, *, b):
            await asyncio.sleep(0)
            return a + b

        cmd = hystrix.Command(run, clock=clock)
        assert await cmd.execute_async(1, b=2) == 3
        assert counts(cmd) == {"SUCCESS": 1}

    run_async(main())


def test_sync_run_through_execute_async():
    async def main():
        cmd = hystrix.Command(lambda x: x * 2, clock=VirtualClock())
        assert await cmd.execute_async(4) == 8

    run_async(main())


def test_run_takes_virtual_time_within_timeout():
    async def main():
        clock = VirtualClock()

        async def run():
            await clock.sleep(50)
            return "done"

        cmd = hystrix.Command(run, clock=clock, timeout_ms=100)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(49)
        assert not task.done()
        await clock.advance_async(1)
        assert task.done() and task.result() == "done"
        assert counts(cmd) == {"SUCCESS": 1}

    run_async(main())


@pytest.mark.parametrize("async_fallback", [False, True])
def test_timeout_cancels_run_and_returns_fallback(async_fallback):
    async def main():
        clock = VirtualClock()
        seen = []

        async def run(x):
            try:
                await clock.sleep(10_000)
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise
            seen.append("finished")
            return "late"

        if async_fallback:

            async def fallback(err, x):
                await asyncio.sleep(0)
                return ("afb", type(err), x)

        else:

            def fallback(err, x):
                return ("fb", type(err), x)

        cmd = hystrix.Command(run, fallback, clock=clock, timeout_ms=100)
        task = asyncio.ensure_future(cmd.execute_async(7))
        await clock.advance_async(99)
        assert not task.done()
        assert cmd.snapshot()["concurrent"] == 1
        await clock.advance_async(1)
        assert task.done()
        tag = "afb" if async_fallback else "fb"
        assert task.result() == (tag, hystrix.TimeoutError, 7)
        assert seen == ["cancelled"]
        assert cmd.snapshot()["concurrent"] == 0
        assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}
        await clock.advance_async(20_000)
        assert seen == ["cancelled"]

    run_async(main())


def test_timeout_without_fallback_raises_timeout_error():
    async def main():
        clock = VirtualClock()

        async def run():
            await clock.sleep(1000)

        cmd = hystrix.Command(run, clock=clock, timeout_ms=10)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(10)
        with pytest.raises(hystrix.TimeoutError) as info:
            task.result()
        assert isinstance(info.value, TimeoutError)
        assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_MISSING": 1}

    run_async(main())


def test_run_ignoring_cancellation_keeps_permit_until_done():
    async def main():
        clock = VirtualClock()
        release = asyncio.Event()

        async def run():
            while True:
                try:
                    await asyncio.shield(release.wait())
                    return "late"
                except asyncio.CancelledError:
                    continue

        cmd = hystrix.Command(run, lambda e: "fb", clock=clock, timeout_ms=100)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(100)
        assert task.result() == "fb"
        assert cmd.snapshot()["concurrent"] == 1
        release.set()
        await clock.advance_async(0)
        assert cmd.snapshot()["concurrent"] == 0
        assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}

    run_async(main())


def _async_failing_frame():
    raise Boom("async own error")


def test_failure_without_fallback_raises_own_exception_with_traceback():
    async def main():
        async def run():
            await asyncio.sleep(0)
            _async_failing_frame()

        cmd = hystrix.Command(run, clock=VirtualClock())
        with pytest.raises(Boom) as info:
            await cmd.execute_async()
        names = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
        assert "_async_failing_frame" in names
        assert counts(cmd) == {"FAILURE": 1, "FALLBACK_MISSING": 1}

    run_async(main())


def test_failure_with_async_fallback_gets_error_and_args():
    async def main():
        err = Boom("x")

        async def run(a, k=None):
            raise err

        async def fallback(e, a, k=None):
            return (e, a, k)

        cmd = hystrix.Command(run, fallback, clock=VirtualClock())
        e, a, k = await cmd.execute_async(1, k="v")
        assert e is err and a == 1 and k == "v"

    run_async(main())


def test_async_fallback_failure():
    async def main():
        err, fb_err = Boom("run"), FallbackBoom("fb")

        async def run():
            raise err

        async def fallback(e):
            await asyncio.sleep(0)
            raise fb_err

        cmd = hystrix.Command(run, fallback, clock=VirtualClock())
        with pytest.raises(hystrix.FallbackFailedError) as info:
            await cmd.execute_async()
        assert info.value.original is err
        assert info.value.fallback_error is fb_err
        assert info.value.__cause__ is fb_err
        assert counts(cmd) == {"FAILURE": 1, "FALLBACK_FAILURE": 1}

    run_async(main())


def test_async_bad_request():
    async def main():
        err = hystrix.BadRequest("mine")
        called = []

        async def run():
            raise err

        cmd = hystrix.Command(run, lambda e: called.append(e), clock=VirtualClock())
        with pytest.raises(hystrix.BadRequest) as info:
            await cmd.execute_async()
        assert info.value is err
        assert called == []
        assert counts(cmd) == {"BAD_REQUEST": 1}
        assert cmd.snapshot()["health"]["total"] == 0

    run_async(main())


def test_async_short_circuit():
    async def main():
        async def run():
            return "run"

        cmd = hystrix.Command(run, clock=VirtualClock(), force_open=True)
        with pytest.raises(hystrix.CircuitOpenError):
            await cmd.execute_async()
        fb = hystrix.Command(run, lambda e: type(e), clock=VirtualClock(), force_open=True)
        assert await fb.execute_async() is hystrix.CircuitOpenError

    run_async(main())


def test_async_rejected_when_bulkhead_full():
    async def main():
        clock = VirtualClock()
        release = asyncio.Event()

        async def run(hold):
            if hold:
                await release.wait()
            return hold

        cmd = hystrix.Command(run, clock=clock, max_concurrent_requests=1, timeout_enabled=False)
        first = asyncio.ensure_future(cmd.execute_async(True))
        await clock.advance_async(0)
        assert cmd.snapshot()["concurrent"] == 1
        with pytest.raises(hystrix.RejectedError):
            await cmd.execute_async(False)
        release.set()
        assert await first is True
        assert await cmd.execute_async(False) is False
        assert counts(cmd) == {"SUCCESS": 2, "SEMAPHORE_REJECTED": 1, "FALLBACK_MISSING": 1}

    run_async(main())


def test_async_fallback_rejected():
    async def main():
        clock = VirtualClock()
        release = asyncio.Event()

        async def fallback(err, hold):
            if hold:
                await release.wait()
            return ("fb", hold)

        cmd = hystrix.Command(
            lambda hold: "run", fallback, clock=clock, force_open=True, fallback_max_concurrent_requests=1
        )
        first = asyncio.ensure_future(cmd.execute_async(True))
        await clock.advance_async(0)
        assert cmd.snapshot()["fallback_concurrent"] == 1
        with pytest.raises(hystrix.FallbackRejectedError) as info:
            await cmd.execute_async(False)
        assert isinstance(info.value.original, hystrix.CircuitOpenError)
        release.set()
        assert await first == ("fb", True)
        assert cmd.snapshot()["fallback_concurrent"] == 0
        assert counts(cmd) == {"SHORT_CIRCUITED": 2, "FALLBACK_SUCCESS": 1, "FALLBACK_REJECTION": 1}

    run_async(main())


def test_cancelling_the_callers_task_cancels_the_call():
    # Semantics §18: the run records CANCELLED (not counted in health, no
    # fallback), is cancelled, and keeps its permit until it has stopped.
    async def main():
        clock = VirtualClock()
        seen = []

        async def run():
            try:
                await clock.sleep(10_000)
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise

        cmd = hystrix.Command(run, lambda e: "fb", clock=clock, timeout_ms=1000)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(10)
        assert cmd.snapshot()["concurrent"] == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await clock.advance_async(0)
        assert seen == ["cancelled"]
        snap = cmd.snapshot()
        assert snap["concurrent"] == 0
        assert counts(cmd) == {"CANCELLED": 1}
        assert snap["health"]["total"] == 0
        # The timeout armed for the cancelled call never fires later.
        await clock.advance_async(5000)
        assert counts(cmd) == {"CANCELLED": 1}
        assert clock.next_deadline() is None
        # The command still works.
        cmd2 = hystrix.Command(lambda: "ok", clock=clock)
        assert await cmd2.execute_async() == "ok"

    run_async(main())


def test_cancelling_the_caller_during_an_async_fallback_lets_it_run_on_and_records_it():
    # Semantics §18.1: the caller stops waiting at once; the fallback is not
    # cancelled, keeps its slot while it runs, and its outcome is recorded
    # when it ends.
    async def main():
        clock = VirtualClock()
        started = asyncio.Event()

        async def fallback(err):
            started.set()
            await clock.sleep(10_000)

        cmd = hystrix.Command(lambda: 1, fallback, clock=clock, force_open=True)
        task = asyncio.ensure_future(cmd.execute_async())
        await started.wait()
        assert cmd.snapshot()["fallback_concurrent"] == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cmd.snapshot()["fallback_concurrent"] == 1, "the fallback runs on"
        await clock.advance_async(10_000)
        assert cmd.snapshot()["fallback_concurrent"] == 0
        assert counts(cmd) == {"SHORT_CIRCUITED": 1, "FALLBACK_SUCCESS": 1}

    run_async(main())


def test_many_concurrent_tasks_virtual_time():
    async def main():
        clock = VirtualClock()

        async def run(i):
            await clock.sleep(i + 1)
            return i

        cmd = hystrix.Command(run, lambda e, i: -1, clock=clock, timeout_ms=50, max_concurrent_requests=100)
        tasks = [asyncio.ensure_future(cmd.execute_async(i)) for i in range(100)]
        await clock.advance_async(0)
        assert cmd.snapshot()["concurrent"] == 100
        await clock.advance_async(100)
        results = [t.result() for t in tasks]
        # i = 49 would finish exactly at its deadline: the timeout, armed first, wins (SPEC §1).
        assert results == [i if i < 49 else -1 for i in range(100)]
        snap = cmd.snapshot()
        assert snap["cumulative"]["SUCCESS"] == 49
        assert snap["cumulative"]["TIMEOUT"] == 51
        assert snap["concurrent"] == 0

    run_async(main())


def test_real_clock_async_timeout():
    async def main():
        async def run():
            await asyncio.sleep(30)

        cmd = hystrix.Command(run, lambda e: type(e), timeout_ms=20)
        assert await cmd.execute_async() is hystrix.TimeoutError
        # The run's task acknowledges cancellation on a later loop turn.
        for _ in range(100):
            if cmd.snapshot()["concurrent"] == 0:
                break
            await asyncio.sleep(0)
        assert cmd.snapshot()["concurrent"] == 0

    run_async(main())


def test_a_run_that_ends_past_its_deadline_before_its_late_timer_is_a_timeout():
    # The run's end is compared with its deadline on every path: a late
    # timer must not turn a timeout into a success (its value is discarded).
    clock = LateTimers()

    async def run():
        clock.t = 300
        return "stale"

    seen = []
    cmd = hystrix.Command(run, fallback=lambda e: seen.append(e) or "fallback", clock=clock, timeout_ms=100)
    assert run_async(cmd.execute_async()) == "fallback"
    assert isinstance(seen[0], hystrix.TimeoutError)
    assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}
    assert cmd.snapshot()["concurrent"] == 0



def test_a_cancelled_run_that_ignores_cancellation_keeps_its_permit_until_it_ends():
    async def main():
        clock = VirtualClock()

        async def stubborn():
            try:
                await clock.sleep(100)
            except asyncio.CancelledError:
                await clock.sleep(100)  # swallows the cancellation, ends later
            return "late"

        cmd = hystrix.Command(stubborn, lambda e: "fb", clock=clock, timeout_ms=1000, max_concurrent_requests=1)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await clock.advance_async(0)
        assert cmd.snapshot()["concurrent"] == 1, "held until the run really stops"
        await clock.advance_async(100)
        assert cmd.snapshot()["concurrent"] == 0
        assert counts(cmd) == {"CANCELLED": 1}, "its late value records nothing"

    run_async(main())
