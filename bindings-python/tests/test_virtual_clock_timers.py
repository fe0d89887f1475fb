"""What a command's timers cost a ``VirtualClock``, and the clock's own
waits: the semaphore interpreter arms nothing it does not wait for, a
waiter whose deadline has passed does not wait for an advance, asyncio's
timers keep their order and are never lost, and driving a retried call
with ``advance_async`` takes no more loop passes than a bare retry loop on
the same clock (issue 13's retry benchmark on a virtual timer)."""
import asyncio
import sys
import threading

import hystrix
import pytest
from conftest import WAIT_S, run_async
from hystrix.testing import VirtualClock

# Before Python 3.11 every coroutine attempt runs in a task of its own (no
# ``Task.uncancel()``): its end comes in a later reaction, so its timeout
# does reach the clock, and each attempt costs loop passes.
inline_attempts = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="attempts run in the caller's task from Python 3.11"
)

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


# Under asyncio a virtual clock's timers are the clock's own (no future, no
# loop callbacks to clear one), armed when the core sets them: before the
# run they time starts (semantics §1.4), so at an equal instant the
# command's timer comes first.
def test_asyncio_timeout_and_hedge_win_a_tie_with_the_run_on_the_virtual_clock():
    async def timeout_tie():
        clock = VirtualClock()
        after = []

        async def run():
            try:
                await clock.sleep(100)  # ends exactly at the deadline
            except asyncio.CancelledError:
                after.append("cancelled")
                raise
            after.append("went on")
            return "value"

        cmd = hystrix.Command(run, clock=clock, timeout_ms=100, fallback=lambda err: "fb")
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(100)
        return task.result(), after

    async def hedge_tie():
        clock = VirtualClock()
        runs, events = [], []

        async def run():
            runs.append(len(runs) + 1)
            await clock.sleep(100)  # attempt 1 ends at the hedge delay
            return len(runs)

        cmd = hystrix.Command(run, clock=clock, timeout_ms=1000, hedge_delay_ms=100, hedge_max_attempts=2)
        cmd.on_event(lambda name, ev, at: events.append(ev))
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(100)
        return task.result(), runs, events

    assert run_async(timeout_tie()) == ("fb", ["cancelled"])
    result, runs, events = run_async(hedge_tie())
    assert runs == [1, 2]
    assert "HEDGE" in events


# A timeout set and cleared within one reaction (a run that ends at once)
# never reaches the clock; the two 0 ms backoffs do (and fire).
@inline_attempts
def test_asyncio_timers_cleared_in_their_reaction_never_reach_the_virtual_clock():
    clock = VirtualClock()
    pushed = []
    push = clock._push

    def counting_push(due, seq, callback):
        pushed.append(due)
        return push(due, seq, callback)

    clock._push = counting_push  # on the instance: still a plain VirtualClock
    cmd = hystrix.Command(aflaky_run(2), clock=clock, timeout_ms=1000, **RETRY)

    async def main():
        for _ in range(3):
            task = asyncio.ensure_future(cmd.execute_async())
            await clock.advance_async(0)
            assert task.result() % 3 == 0

    run_async(main())
    assert pushed == [0] * 6
    assert clock._heap == []


# A review found: a timer armed only when the reaction that set it ended was
# lost when the clock moved past its due time meanwhile (the run's first
# step advancing the clock, or another thread): the call never settled.
def test_asyncio_timeout_fires_when_the_clock_moves_past_it_during_the_reaction():
    clock = VirtualClock()

    async def run():
        clock.advance(150)  # the dependency "takes 150 ms", then hangs
        await asyncio.Event().wait()

    cmd = hystrix.Command(run, clock=clock, timeout_ms=100, fallback=lambda err: type(err).__name__)

    async def main():
        return await asyncio.wait_for(cmd.execute_async(), WAIT_S)

    assert run_async(main()) == "TimeoutError"


def test_asyncio_timeout_fires_on_an_advance_from_another_thread():
    clock = VirtualClock()
    started = threading.Event()

    async def run():
        started.set()
        await asyncio.Event().wait()

    cmd = hystrix.Command(run, clock=clock, timeout_ms=100, fallback=lambda err: type(err).__name__)
    out = []
    t = threading.Thread(target=lambda: out.append(run_async(asyncio.wait_for(cmd.execute_async(), WAIT_S))))
    t.start()
    assert started.wait(WAIT_S)
    clock.advance(100)  # from this thread: the loop's thread is woken for it
    t.join(WAIT_S)
    assert out == ["TimeoutError"]


# A review found: a timer fed by the waiting caller was dropped when the
# caller's task was cancelled right after it fired (the timer came first:
# its reaction must be carried out before the cancellation's).
@inline_attempts
def test_a_timer_that_fired_before_the_caller_was_cancelled_is_carried_out_first():
    async def scenario():
        clock = VirtualClock()
        events = []
        n = [0]

        async def run():
            n[0] += 1
            if n[0] == 1:
                raise ValueError("first")
            return "second"

        cmd = hystrix.Command(
            run, clock=clock, timeout_ms=1000, retry_max_attempts=2, retry_base_delay_ms=50, retry_jitter="none"
        )
        cmd.on_event(lambda name, ev, at: events.append(ev))
        task = asyncio.ensure_future(cmd.execute_async())
        for _ in range(5):
            await asyncio.sleep(0)
        clock.advance(50)  # the backoff is over: the retry is due before the cancel
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return events, n[0]

    events, runs = run_async(scenario())
    # The retry ran (and ended, in the timer's reaction) before the
    # cancellation was taken. (Before 3.11 its run would only start in a
    # task of its own, which the cancellation stops first either way.)
    assert runs == 2
    assert events[:3] == ["FAILURE", "RETRY", "SUCCESS"]


# A review found: a timer fired by a sync advance on the loop's thread was
# fed before an attempt's end already queued on the loop (an extra hedge).
def test_a_timer_does_not_overtake_an_attempt_end_already_queued_on_the_loop():
    async def main():
        clock = VirtualClock()
        futs, invoked, events = [], [], []
        loop = asyncio.get_running_loop()

        def run():  # a future per attempt: each attempt in a task of its own
            invoked.append(len(invoked) + 1)
            f = loop.create_future()
            futs.append(f)
            return f

        cmd = hystrix.Command(run, clock=clock, timeout_ms=1000, hedge_delay_ms=50, hedge_max_attempts=2)
        cmd.on_event(lambda name, ev, at: events.append(ev))
        task = asyncio.ensure_future(cmd.execute_async())
        for _ in range(5):
            await asyncio.sleep(0)
        futs[0].set_result("first")  # attempt 1 has its answer (queued on the loop)...
        clock.advance(50)  # ...then the hedge delay passes
        return await task, invoked, events

    assert run_async(main()) == ("first", [1], ["SUCCESS"])


# A review found: a disarmed virtual timer stays in the clock's queue until
# an advance reaches it, and its callback kept the whole call alive.
def test_disarmed_virtual_timers_keep_nothing_alive():
    import gc
    import weakref

    class Payload:
        pass

    clock = VirtualClock()

    async def run(arg):
        await asyncio.sleep(0)  # suspends: its timeout reaches the clock
        return arg

    cmd = hystrix.Command(run, clock=clock, timeout_ms=1000)
    refs = []

    async def main():
        for _ in range(5):
            p = Payload()
            refs.append(weakref.ref(p))
            await cmd.execute_async(p)

    run_async(main())
    gc.collect()
    assert len(clock._heap) == 5  # the disarmed timeouts, still queued
    assert [r() for r in refs] == [None] * 5


def test_a_virtual_clock_subclass_timer_future_is_still_used():
    class LoggingClock(VirtualClock):
        def __init__(self) -> None:
            super().__init__()
            self.asked = []

        def timer_future(self, deadline):
            self.asked.append(deadline)
            return super().timer_future(deadline)

    clock = LoggingClock()

    async def run():
        await asyncio.Event().wait()

    cmd = hystrix.Command(run, clock=clock, timeout_ms=100, fallback=lambda err: "fb")

    async def main():
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(100)
        return task.result()

    assert run_async(main()) == "fb"
    assert clock.asked == [100]


def test_a_virtual_sleep_ends_on_an_advance_from_another_thread():
    clock = VirtualClock()
    armed = threading.Event()

    async def sleeper():
        loop = asyncio.get_running_loop()
        fut = loop.create_task(clock.sleep(10))
        await asyncio.sleep(0)
        armed.set()
        t0 = loop.time()
        await asyncio.wait_for(fut, WAIT_S)
        return loop.time() - t0

    out = []
    t = threading.Thread(target=lambda: out.append(run_async(sleeper())))
    t.start()
    assert armed.wait(WAIT_S)
    clock.advance(10)
    t.join(WAIT_S)
    assert out and out[0] < WAIT_S / 2  # woken by the advance, not by wait_for's timer


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
@inline_attempts
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


def test_advance_async_runs_a_loop_callback_due_now_with_nothing_else_ready():
    clock = VirtualClock()
    seen = []

    async def main():
        asyncio.get_running_loop().call_later(0, lambda: seen.append("due"))
        await clock.advance_async(0)
        return list(seen)

    assert run_async(main()) == ["due"]


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


# Disarmed timers stayed in the clock's queue until an advance reached them:
# commands called by the thousand on a clock that never reaches their
# timeouts grew it without bound (and slowed every timer armed after).
def test_disarmed_timers_do_not_pile_up_in_the_clock_queue():
    clock = VirtualClock()

    async def run():
        await asyncio.sleep(0)  # suspends: its timeout reaches the clock
        return 1

    cmd = hystrix.Command(run, clock=clock, timeout_ms=1000)

    async def main():
        for _ in range(1000):
            await cmd.execute_async()

    run_async(main())
    assert len(clock._heap) <= 130
    assert clock.next_deadline() is None


def test_dropping_disarmed_timers_keeps_the_order_of_the_others():
    clock = VirtualClock()
    fired = []
    keep = []
    for i in range(300):
        due = (i * 37) % 50
        t = clock.call_at(due, lambda i=i, due=due: fired.append((due, i)))
        if i % 5 == 0:
            keep.append((due, i))
        else:
            t.cancel()
    assert len(clock._heap) < 300  # dropped on the way
    clock.advance(50)
    assert fired == sorted(keep)  # by due time, then by arming
