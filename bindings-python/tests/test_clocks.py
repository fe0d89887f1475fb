"""Clocks: ``VirtualClock`` never goes back, and a command's clock must give
whole milliseconds, whatever the isolation (SPEC §1)."""
import asyncio
import threading

import hystrix
import pytest
from conftest import WAIT_S, Boom, counts, in_thread, run_async
from hystrix.testing import VirtualClock

MODES = ["semaphore", "thread", "async"]


# --- VirtualClock: monotonic, atomic advances (issue 11.8) -------------------------------


# Fixed: the outer advance stored its own (smaller) target at the end, undoing
# an advance made from inside one of its timer callbacks (105 -> 10).
@pytest.mark.parametrize("use_async", [False, True])
def test_an_advance_from_a_timer_callback_is_not_undone(use_async):
    clock = VirtualClock()
    seen = []
    clock.call_at(5, lambda: (seen.append(clock.now()), clock.advance(100), seen.append(clock.now())))
    if use_async:
        run_async(clock.advance_async(10))
    else:
        clock.advance(10)
    assert seen == [5, 105]  # the inner advance moves on from the callback's instant
    assert clock.now() == 105


def test_a_timer_armed_by_a_nested_advance_fires_in_order_and_time_never_goes_back():
    clock = VirtualClock()
    fired = []

    def at_5():
        clock.call_at(8, lambda: fired.append(("at 8", clock.now())))
        clock.advance(1)  # to 6: the timer at 8 is not due yet

    clock.call_at(5, at_5)
    clock.advance(10)
    assert fired == [("at 8", 8)]
    assert clock.now() == 10


# Fixed: two threads advancing at once each stored their own target:
# time was lost, and could step backwards.
def test_advances_from_several_threads_are_serialised_and_add_up():
    clock = VirtualClock()
    threads_n, steps = 4, 200
    start = threading.Barrier(threads_n, timeout=WAIT_S)

    def advancer():
        start.wait()
        for _ in range(steps):
            clock.advance(1)

    threads = [threading.Thread(target=advancer, daemon=True) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S * 3)
    assert clock.now() == threads_n * steps


def test_a_second_thread_continues_from_where_the_first_advance_ended():
    clock = VirtualClock()
    entered, release = threading.Event(), threading.Event()
    ends = []

    def slow_timer():
        entered.set()
        release.wait(WAIT_S)

    clock.call_at(3, slow_timer)
    t1, _ = in_thread(clock.advance, 10)
    assert entered.wait(WAIT_S)
    t2, out2 = in_thread(lambda: (clock.advance(10), ends.append(clock.now())))
    t2.join(0.05)  # it must wait for the first advance (it would finish at 13 otherwise)
    release.set()
    t1.join(WAIT_S)
    t2.join(WAIT_S)
    assert out2 and out2[0][0], out2
    assert ends == [20] and clock.now() == 20


def test_concurrent_advance_async_calls_add_up():
    clock = VirtualClock()

    async def main():
        await asyncio.gather(clock.advance_async(10), clock.advance_async(10), clock.advance_async(5))

    run_async(main())
    assert clock.now() == 25


@pytest.mark.parametrize("bad, error", [(-50, ValueError), (-1, ValueError), (1.5, TypeError), (10.0, TypeError),
                                        (True, TypeError), ("10", TypeError), (None, TypeError)])
def test_advance_refuses_anything_but_a_non_negative_int(bad, error):
    clock = VirtualClock(7)
    with pytest.raises(error, match="advance"):
        clock.advance(bad)
    with pytest.raises(error, match="advance_async"):
        run_async(clock.advance_async(bad))
    assert clock.now() == 7
    with pytest.raises(error):
        VirtualClock(bad)


def test_advance_by_zero_fires_what_is_due_now():
    clock = VirtualClock(5)
    fired = []
    clock.call_at(5, lambda: fired.append(clock.now()))
    clock.advance(0)
    assert fired == [5] and clock.now() == 5


# --- a command's clock: whole milliseconds, one rule for every isolation (issue 11.9) --------


class ValueClock:
    """A clock answering ``value`` (or raising it, if it is an exception)."""

    def __init__(self, value):
        self.value = value

    def now(self):
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value

    # What thread isolation and asyncio use (never reached with a bad value).
    def waiter(self, deadline, done):
        return lambda: not done.wait(WAIT_S)

    def timer_future(self, deadline):
        return asyncio.get_running_loop().create_future()


def make(run, fallback, mode, **kw):
    return hystrix.Command(run, fallback, isolation="thread" if mode == "thread" else "semaphore", **kw)


def call(cmd, mode, *args):
    return run_async(cmd.execute_async(*args)) if mode == "async" else cmd.execute(*args)


# Fixed: under semaphore isolation such a clock was read as time 0 (a
# spurious or a missed timeout, events at the wrong time) with only an
# unraisable warning, while thread isolation raised pyo3's TypeError.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "value, error, says",
    [
        (1.5, TypeError, r"returned 1.5 \(float\); a clock must return whole milliseconds as an int"),
        (2.0, TypeError, r"returned 2.0 \(float\)"),
        (True, TypeError, r"returned True \(bool\)"),
        ("5", TypeError, r"returned '5' \(str\)"),
        (-1, ValueError, r"returned -1; time is whole milliseconds"),
        (2**64, ValueError, r"returned 18446744073709551616"),
    ],
)
def test_a_clock_must_return_whole_milliseconds(mode, value, error, says):
    ran = []
    cmd = make(lambda: ran.append(1) or "ran", lambda e: "fb", mode, clock=ValueClock(value))
    with pytest.raises(error, match=r"command '.*<lambda>': clock <.*ValueClock object at .*>\.now\(\) " + says):
        call(cmd, mode)
    assert ran == []  # refused before the run, nothing recorded
    cmd.circuit.clock = VirtualClock()
    assert counts(cmd) == {}
    assert cmd.snapshot()["concurrent"] == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_raising_clock_raises_its_own_error_to_the_caller(mode):
    err = Boom("clock down")
    cmd = make(lambda: "ran", lambda e: "fb", mode, clock=ValueClock(err))
    with pytest.raises(Boom) as info:
        call(cmd, mode)
    assert info.value is err


class BreaksAfter:
    """A virtual clock whose reads go bad after ``good`` of them."""

    def __init__(self, good, bad):
        self.inner, self.good, self.bad = VirtualClock(), good, bad

    def now(self):
        if self.good == 0:
            if isinstance(self.bad, BaseException):
                raise self.bad
            return self.bad
        self.good -= 1
        return self.inner.now()

    def waiter(self, deadline, done):
        return self.inner.waiter(deadline, done)

    def timer_future(self, deadline):
        return self.inner.timer_future(deadline)


# A clock that goes bad during a call: the caller gets the clock's error, and
# the call is settled once with every permit back.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bad", [0.5, Boom("clock down")])
@pytest.mark.parametrize("fail", [False, True])
def test_a_clock_going_bad_during_a_call_does_not_corrupt_the_command(mode, bad, fail):
    def run():
        if fail:
            raise Boom("run")
        return "ran"

    clock = BreaksAfter(1, bad)
    cmd = make(run, lambda e: "fb", mode, clock=clock)
    with pytest.raises(TypeError if bad == 0.5 else Boom, match="clock" if bad == 0.5 else "clock down"):
        call(cmd, mode)
    cmd.circuit.clock = VirtualClock()
    snap = cmd.snapshot()
    assert snap["concurrent"] == 0 and snap["fallback_concurrent"] == 0
    executions = sum(snap["cumulative"][e] for e in ("SUCCESS", "FAILURE", "TIMEOUT"))
    assert executions <= 1
    assert call(cmd, mode) == ("fb" if fail else "ran")


def test_a_clock_returning_an_int_subclass_is_accepted():
    class Millis(int):
        pass

    for mode in MODES:
        cmd = make(lambda: "ran", None, mode, clock=ValueClock(Millis(5)))
        assert call(cmd, mode) == "ran"


def test_a_clock_going_bad_at_an_async_timeout_stops_the_run_and_releases_the_call():
    clock = BreaksAfter(1, 0.5)  # the start is read; the read at the timeout is bad
    stopped = []

    async def run():
        try:
            await clock.inner.sleep(1000)
        finally:
            stopped.append(True)

    cmd = hystrix.Command(run, lambda e: "fb", isolation="semaphore", clock=clock, timeout_ms=100)

    async def main():
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.inner.advance_async(100)
        with pytest.raises(TypeError, match="returned 0.5"):
            await task
        await asyncio.sleep(0)

    run_async(main())
    assert stopped == [True]
    cmd.circuit.clock = VirtualClock()
    snap = cmd.snapshot()
    assert snap["concurrent"] == 0 and snap["fallback_concurrent"] == 0
    assert counts(cmd) == {}
