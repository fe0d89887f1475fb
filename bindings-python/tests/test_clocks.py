"""Clocks: ``VirtualClock`` never goes back (SPEC §1)."""
import asyncio
import threading

import pytest

from conftest import WAIT_S, in_thread, run_async
from hystrix.testing import VirtualClock


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
