"""SPEC v2 strategies through every isolation mode: retry with backoff on a
virtual clock, hedging (the loser is told to stop, the winner's value is
returned), the rate limiter, the retry budget, caller cancellation of a
``queue()`` future, and ``current_call().attempt``."""
import asyncio
import threading

import hystrix
import pytest
from conftest import WAIT_S, Boom, run_async
from hystrix.testing import VirtualClock

RETRY = dict(retry_max_attempts=3, retry_base_delay_ms=100, retry_jitter="none")


def wait_until(predicate, timeout=WAIT_S):
    done = threading.Event()
    for _ in range(int(timeout * 1000)):
        if predicate():
            return True
        done.wait(0.001)
    return predicate()


def recorder(cmd):
    events = []
    cmd.on_event(lambda _name, event, _at: events.append(event))
    return events


def in_thread(fn):
    out = {}

    def work():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t, out


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_retry_with_backoff_on_a_virtual_clock_sync(isolation):
    """SPEC §11.3's example: attempts at 0, 100 and 300, then the fallback once."""
    clock = VirtualClock()
    starts = []

    def run():
        starts.append((clock.now(), hystrix.current_call().attempt))
        raise Boom("down")

    cmd = hystrix.Command(run, lambda e: f"fb after {e}", isolation=isolation, clock=clock, **RETRY)
    events = recorder(cmd)
    t, out = in_thread(cmd.execute)
    # Each advance once the backoff timer is armed (the failure observed).
    assert wait_until(lambda: len(starts) == 1 and clock.next_deadline() == 100)
    clock.advance(100)
    assert wait_until(lambda: len(starts) == 2 and clock.next_deadline() == 300)
    clock.advance(200)
    t.join(WAIT_S)
    assert out == {"value": "fb after down"}
    assert starts == [(0, 1), (100, 2), (300, 3)]
    assert events == ["FAILURE", "RETRY", "FAILURE", "RETRY", "FAILURE", "FALLBACK_SUCCESS"]
    snap = cmd.snapshot()
    assert snap["cumulative"]["RETRY"] == 2 and snap["concurrent"] == 0


def test_retry_with_backoff_on_a_virtual_clock_asyncio():
    clock = VirtualClock()
    starts = []

    async def run():
        starts.append((clock.now(), hystrix.current_call().attempt))
        if len(starts) < 3:
            raise Boom("down")
        return "third time lucky"

    cmd = hystrix.Command(run, clock=clock, **RETRY)
    events = recorder(cmd)

    async def main():
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(0)
        assert starts == [(0, 1)]
        await clock.advance_async(100)
        assert starts == [(0, 1), (100, 2)]
        await clock.advance_async(200)
        return await task

    assert run_async(main()) == "third time lucky"
    assert starts == [(0, 1), (100, 2), (300, 3)]
    assert events == ["FAILURE", "RETRY", "FAILURE", "RETRY", "SUCCESS"]


def test_a_semaphore_run_without_strategies_stays_on_the_native_path():
    cmd = hystrix.Command(hystrix.current_call, isolation="semaphore", clock=VirtualClock())
    assert cmd.execute() is None  # the single-attempt native path has no Call
    cmd.configure(retry_max_attempts=2)
    call = cmd.execute()
    assert call.attempt == 1 and not call.cancelled.is_set()


def test_hedging_in_thread_isolation_cancels_the_loser():
    clock = VirtualClock()
    loser_saw = []
    started = threading.Event()

    def run():
        call = hystrix.current_call()
        if call.attempt == 1:
            started.set()
            loser_saw.append(call.cancelled.wait(WAIT_S))
            return "slow"
        return f"fast-{call.attempt}"

    cmd = hystrix.Command(run, clock=clock, hedge_max_attempts=2, hedge_delay_ms=50, timeout_ms=10_000)
    events = recorder(cmd)
    t, out = in_thread(cmd.execute)
    assert started.wait(WAIT_S)
    clock.advance(50)  # the hedge starts; it wins at once
    t.join(WAIT_S)
    assert out == {"value": "fast-2"}
    assert wait_until(lambda: loser_saw == [True])
    assert wait_until(lambda: cmd.snapshot()["concurrent"] == 0)
    assert events == ["HEDGE", "SUCCESS", "CANCELLED"]


def test_hedging_in_asyncio_cancels_the_losing_task():
    clock = VirtualClock()
    loser = []

    async def run():
        call = hystrix.current_call()
        if call.attempt == 1:
            try:
                await clock.sleep(1000)
            except asyncio.CancelledError:
                loser.append(call.cancelled.is_set())
                raise
            return "slow"
        return f"fast-{call.attempt}"

    cmd = hystrix.Command(run, clock=clock, hedge_max_attempts=2, hedge_delay_ms=50)
    events = recorder(cmd)

    async def main():
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(50)
        return await task

    assert run_async(main()) == "fast-2"
    assert loser == [True]
    assert events == ["HEDGE", "SUCCESS", "CANCELLED"]
    assert cmd.snapshot()["concurrent"] == 0


def test_hedging_under_semaphore_isolation_runs_hedges_one_after_another():
    clock = VirtualClock()
    starts = []

    def run():
        attempt = hystrix.current_call().attempt
        starts.append((clock.now(), attempt))
        if attempt == 1:
            clock.advance(80)  # a slow first attempt (past the hedge delay) that fails
            raise Boom("slow failure")
        return "second"

    cmd = hystrix.Command(run, isolation="semaphore", clock=clock, hedge_max_attempts=2, hedge_delay_ms=50)
    events = recorder(cmd)
    assert cmd.execute() == "second"
    assert starts == [(0, 1), (80, 2)]  # never two at once
    assert events == ["FAILURE", "HEDGE", "SUCCESS"]


@pytest.mark.parametrize("mode", ["semaphore", "thread", "async"])
def test_rate_limiter_refusal_raises_rate_limited_error(mode):
    clock = VirtualClock()
    ran = []

    def run():
        ran.append(1)
        return "ran"

    async def arun():
        return run()

    config = dict(rate_limit_for_period=1, rate_limit_period_ms=1000)
    if mode == "async":
        cmd = hystrix.Command(arun, clock=clock, **config)
        call = lambda c: run_async(c.execute_async())  # noqa: E731
    else:
        cmd = hystrix.Command(run, clock=clock, isolation=mode, **config)
        call = lambda c: c.execute()  # noqa: E731
    assert call(cmd) == "ran"
    with pytest.raises(hystrix.RateLimitedError, match="rate limited") as info:
        call(cmd)
    assert info.value.kind == "rate_limited" and info.value.command == cmd.circuit.label
    assert ran == [1]
    assert cmd.snapshot()["cumulative"]["RATE_LIMITED"] == 1
    # With a fallback, the fallback gets the RateLimitedError.
    fb = hystrix.Command(run if mode != "async" else arun, lambda e: type(e).__name__, name=None, clock=clock,
                         isolation="thread" if mode == "async" else mode, **config)
    assert call(fb) == "ran"
    assert call(fb) == "RateLimitedError"
    clock.advance(1000)
    assert call(cmd) == "ran"


def test_retry_budget_exhaustion_stops_retries():
    clock = VirtualClock()
    outcomes = []

    def run():
        if outcomes.pop(0) == "fail":
            raise Boom("down")
        return "ok"

    cmd = hystrix.Command(
        run,
        lambda e: "fb",
        isolation="semaphore",
        clock=clock,
        retry_max_attempts=2,
        retry_base_delay_ms=0,
        retry_budget_percent=20,
        retry_budget_min_per_sec=0,
    )
    events = recorder(cmd)
    snap = cmd.snapshot()
    assert snap["budget"] == 0 and snap["limit"] == 10
    outcomes[:] = ["fail", "ok"]
    assert cmd.execute() == "fb"  # no budget: one attempt only
    assert events == ["FAILURE", "RETRY_BUDGET_EXHAUSTED", "FALLBACK_SUCCESS"]
    outcomes[:] = ["ok"] * 5
    for _ in range(5):
        assert cmd.execute() == "ok"
    assert cmd.snapshot()["budget"] == 100
    events.clear()
    outcomes[:] = ["fail", "ok"]
    assert cmd.execute() == "ok"  # 100 units in hand: one retry
    assert events == ["FAILURE", "RETRY", "SUCCESS"]
    assert cmd.snapshot()["budget"] == 20  # 100 - 100 + 20 for the success


def test_queue_future_cancel_cancels_the_call():
    clock = VirtualClock()
    started = threading.Event()
    saw = []

    def run():
        started.set()
        saw.append(hystrix.current_call().cancelled.wait(WAIT_S))
        return "late"

    cmd = hystrix.Command(run, lambda e: "fb", clock=clock, timeout_ms=10_000)
    events = recorder(cmd)
    future = cmd.queue()
    assert started.wait(WAIT_S)
    assert future.cancel() is True
    assert future.cancelled()
    assert wait_until(lambda: saw == [True])
    assert wait_until(lambda: cmd.snapshot()["concurrent"] == 0)
    assert events == ["CANCELLED"]  # no fallback, nothing in health
    assert cmd.snapshot()["health"]["total"] == 0
    # Cancelling again does nothing more (SPEC §18: a second cancel is a no-op).
    assert future.cancel() is True and future.cancelled()
    clock.advance(5_000)
    assert events == ["CANCELLED"]
    assert cmd.snapshot()["concurrent"] == 0 and cmd.snapshot()["rolling"]["CANCELLED"] == 1
    # A settled call is not affected.
    done = hystrix.Command(lambda: "v", clock=clock).queue()
    assert done.result(WAIT_S) == "v"
    assert done.cancel() is False and done.result() == "v"


def test_cancelling_an_async_call_in_its_backoff_makes_no_further_attempt():
    clock = VirtualClock()
    starts = []

    async def run():
        starts.append(hystrix.current_call().attempt)
        raise Boom("down")

    cmd = hystrix.Command(run, lambda e: "fb", clock=clock, **RETRY)
    events = recorder(cmd)

    async def main():
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(50)  # in the first backoff
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await clock.advance_async(1000)

    run_async(main())
    assert starts == [1]
    assert events == ["FAILURE", "RETRY"]
    assert cmd.snapshot()["concurrent"] == 0


def test_deadline_cuts_an_attempt_in_thread_isolation():
    clock = VirtualClock()
    started = threading.Event()

    def run():
        started.set()
        hystrix.current_call().cancelled.wait(WAIT_S)
        return "late"

    cmd = hystrix.Command(run, lambda e: type(e).__name__, clock=clock, deadline_ms=30, timeout_ms=1000)
    t, out = in_thread(cmd.execute)
    assert started.wait(WAIT_S)
    clock.advance(30)
    t.join(WAIT_S)
    assert out == {"value": "TimeoutError"}
