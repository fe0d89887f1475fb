"""Deterministic time for tests of code that uses hystrix.

``VirtualClock`` reads 0 until advanced; timers (command timeouts, and the
``sleep`` your own fakes await) fire in order of due time, then of arming,
only when ``advance``/``advance_async`` moves the clock past them::

    clock = VirtualClock()
    cmd = hystrix.Command(slow_call, fallback=lambda err: "cached", clock=clock, timeout_ms=100)
    task = asyncio.ensure_future(cmd.execute_async())
    await clock.advance_async(100)          # the timeout fires; the fallback answers
    assert task.result() == "cached"
"""
import asyncio
import heapq
import itertools
import threading
from typing import Any, Callable, Iterator, List, Optional, Tuple

from ._clock import _on_loop_thread, _resolve

__all__ = ["VirtualClock", "VirtualTimer"]


class VirtualTimer:
    """A timer armed on a :class:`VirtualClock`; ``cancel()`` disarms it."""

    __slots__ = ("due", "callback", "cancelled", "_clock")

    def __init__(self, due: int, callback: Callable[[], None], clock: "Optional[VirtualClock]" = None):
        self.due = due
        self.callback = callback
        self.cancelled = False
        # The clock whose queue holds it (None once taken out).
        self._clock = clock

    def cancel(self) -> None:
        """Disarms the timer (no effect once fired). It lets go of its
        callback at once, and its clock drops disarmed timers from its
        queue once they are most of it: a command's timeouts are disarmed
        by the thousand on a clock that never reaches them."""
        if self.cancelled:
            return
        self.cancelled = True
        self.callback = _nothing
        clock = self._clock
        if clock is not None:
            clock._disarmed()


def _nothing() -> None:
    """A disarmed timer's callback."""


def _whole_ms(ms: object, what: str) -> int:
    """``ms`` if it is a non-negative ``int`` (not a ``bool``), else a clear error."""
    if not isinstance(ms, int) or isinstance(ms, bool):
        raise TypeError(f"{what} takes whole milliseconds as an int, got {ms!r} ({type(ms).__name__})")
    if ms < 0:
        raise ValueError(f"{what} cannot go back in time: got {ms} ms (time never decreases)")
    return int(ms)


class VirtualClock:
    """A settable clock with its own timer queue. Thread-safe; time never
    decreases.

    Advances are serialised: an ``advance`` from another thread while one
    is under way waits for it, then continues from where it ended (so two
    threads advancing by 10 move the clock by 20). An advance from inside a
    timer callback (the same thread) moves on from that timer's instant; the
    outer advance then resumes, never moving the clock back. Under asyncio,
    ``advance_async`` calls run one after the other in the same way.
    """

    def __init__(self, start_ms: int = 0):
        self._now = _whole_ms(start_ms, "VirtualClock(start_ms)")
        self._heap: List[Tuple[int, int, VirtualTimer]] = []
        self._seq = itertools.count()
        # Disarmed timers still in the heap.
        self._cancelled = 0
        # Counts the times timers were looked for (``_pop_due``): a timer
        # armed late in a place kept for it (``_reserve``/``_push``) is where
        # it would have been if this did not change meanwhile.
        self._epoch = 0
        self._lock = threading.RLock()
        # Held for the whole of a sync advance (reentrant: a timer callback
        # may advance again on the same thread).
        self._advancing = threading.RLock()
        # Serialises advance_async calls on one loop.
        self._async_turn: Optional[Tuple[Any, asyncio.Lock]] = None

    def now(self) -> int:
        """The current virtual time in milliseconds."""
        return self._now

    def call_at(self, due: int, callback: Callable[[], None]) -> VirtualTimer:
        """Arms ``callback`` to run when the clock reaches ``due``."""
        return self._push(due, None, callback)

    def _reserve(self) -> int:
        """A place in the order of timers due at the same time, for a timer
        armed later with ``_push`` (hystrix's asyncio interpreter)."""
        with self._lock:
            return next(self._seq)

    def _push(self, due: int, seq: Optional[int], callback: Callable[[], None]) -> VirtualTimer:
        """Arms ``callback`` at ``due`` in the place ``seq`` (``_reserve``),
        or, with ``None``, after every timer armed so far."""
        timer = VirtualTimer(due, callback, self)
        with self._lock:
            heapq.heappush(self._heap, (due, next(self._seq) if seq is None else seq, timer))
        return timer

    def next_deadline(self) -> Optional[int]:
        """The earliest due time of an armed timer."""
        with self._lock:
            while self._heap and self._heap[0][2].cancelled:
                self._take()
            return self._heap[0][0] if self._heap else None

    def _take(self) -> VirtualTimer:
        """Takes the earliest timer out of the queue (the lock held)."""
        timer = heapq.heappop(self._heap)[2]
        timer._clock = None
        if timer.cancelled:
            self._cancelled -= 1
        return timer

    def _disarmed(self) -> None:
        """One of the queue's timers was disarmed: past 64 of them, and
        once they are half the queue, they are dropped from it (the order
        of the others is kept: it is by due time, then arming)."""
        with self._lock:
            self._cancelled += 1
            if self._cancelled > 64 and 2 * self._cancelled > len(self._heap):
                kept = []
                for entry in self._heap:
                    if entry[2].cancelled:
                        entry[2]._clock = None
                    else:
                        kept.append(entry)
                heapq.heapify(kept)
                self._heap = kept
                self._cancelled = 0

    def _pop_due(self, target: int) -> Optional[VirtualTimer]:
        """The next timer due by ``target`` (the clock moved to its due
        time), or ``None`` with the clock moved to ``target`` in the same
        step: a timer armed from another thread is either taken here or
        armed at a time that has already reached ``target``."""
        with self._lock:
            self._epoch += 1
            while self._heap:
                due = self._heap[0][0]
                if due > target:
                    break
                timer = self._take()
                if not timer.cancelled:
                    self._now = max(self._now, due)
                    return timer
            self._now = max(self._now, target)
            return None

    def _due(self, target: int) -> Iterator[VirtualTimer]:
        """The armed timers due by ``target``, one at a time, in order (each
        taken only when the previous one's callback has run)."""
        while True:
            timer = self._pop_due(target)
            if timer is None:
                return
            yield timer

    def _finish(self, target: int) -> None:
        with self._lock:
            self._now = max(self._now, target)

    def advance(self, ms: int) -> None:
        """Moves time forward by ``ms`` (a non-negative ``int``; anything
        else is a ``TypeError``/``ValueError``), running due timer callbacks
        in order on this thread (for synchronous code and threads). See the
        class docs for advances from several threads or from a callback."""
        ms = _whole_ms(ms, "advance")
        with self._advancing:
            target = self._now + ms
            for timer in self._due(target):
                timer.callback()
            self._finish(target)

    async def advance_async(self, ms: int) -> None:
        """Moves time forward by ``ms`` under asyncio, firing due timers one
        at a time and letting every reaction on the loop settle after each.
        ``ms`` as for :meth:`advance`; concurrent calls run one after the
        other (the second continues from where the first ended), and
        exclude sync advances from other threads meanwhile."""
        ms = _whole_ms(ms, "advance_async")
        loop = asyncio.get_running_loop()
        if self._async_turn is None or self._async_turn[0] is not loop:
            self._async_turn = (loop, asyncio.Lock())
        async with self._async_turn[1]:
            with self._advancing:
                await self._advance_async(ms)

    async def _advance_async(self, ms: int) -> None:
        await _settle()
        target = self._now + ms
        for timer in self._due(target):
            timer.callback()
            await _settle()
        self._finish(target)
        await _settle()

    # What commands use.
    def waiter(self, deadline: int, done: threading.Event) -> Callable[[], bool]:
        """Arms a timeout now; the returned function blocks until ``done`` is
        set (by the run finishing, or by this clock reaching the deadline
        from another thread's ``advance``) and says whether the deadline won.
        A deadline the clock has already reached has won (as on the real
        clock): no advance is waited for."""
        fired = []

        def fire() -> None:
            fired.append(True)
            done.set()

        timer = self.call_at(deadline, fire)
        if self._now >= deadline:
            # Reached before it was armed (read after arming: an advance
            # under way either fires it or has moved the time already).
            timer.cancel()
            fire()

        def wait() -> bool:
            done.wait()
            timer.cancel()
            return bool(fired)

        return wait

    def timer_future(self, deadline: int) -> "asyncio.Future[None]":
        """A future on the running loop completed when the clock reaches ``deadline``."""
        fut: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()

        def disarm(_f: "asyncio.Future[None]") -> None:
            timer.cancel()

        def fire() -> None:
            loop = fut.get_loop()
            if _on_loop_thread(loop):
                # Reached: nothing to disarm (one loop callback fewer).
                fut.remove_done_callback(disarm)
                _resolve(fut)
            else:
                # Advanced from another thread: resolved on the loop's own
                # thread, which is woken for it.
                loop.call_soon_threadsafe(_resolve, fut)

        timer = self.call_at(deadline, fire)
        fut.add_done_callback(disarm)
        return fut

    async def sleep(self, ms: int) -> None:
        """Waits ``ms`` virtual milliseconds (for fakes of slow dependencies)."""
        await self.timer_future(self._now + _whole_ms(ms, "sleep"))


async def _settle() -> None:
    """Runs the loop until nothing is ready to run: no callback queued and
    no loop timer due (a ``call_later(0, ...)``, a ``sleep`` of the real
    clock that is over); no pass at all if nothing is. A loop that does not
    show its queues (not an ``asyncio`` base loop) is given 50 passes."""
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)
    scheduled = getattr(loop, "_scheduled", None)
    if ready is None or scheduled is None:
        for _ in range(50):
            await asyncio.sleep(0)
        return
    resolution = getattr(loop, "_clock_resolution", 0.0)
    for _ in range(10_000):
        if not ready and not (scheduled and scheduled[0].when() <= loop.time() + resolution):
            return
        await asyncio.sleep(0)
