"""The real clock: milliseconds from ``time.monotonic_ns``, waits on
``threading.Event`` and timers on the running asyncio loop."""
import asyncio
import threading
from typing import Callable, Optional

from ._hystrix import monotonic_ms


class RealClock:
    """Monotonic milliseconds; the default clock of every command. It reads
    the same process-wide clock as the native layer."""

    def now(self) -> int:
        """Milliseconds since an arbitrary origin (fixed for the process)."""
        return monotonic_ms()

    def waiter(self, deadline: int, done: threading.Event) -> Callable[[], bool]:
        """Arms a timeout now; the returned function blocks until ``done`` is
        set or the deadline passes, and says whether the deadline won."""

        def wait() -> bool:
            # Event.wait takes at most threading.TIMEOUT_MAX seconds; a
            # deadline further away (timeouts reach 2**53 - 1 ms) is waited
            # for in slices.
            while True:
                remaining = (deadline - self.now()) / 1000.0
                if remaining <= 0:
                    return not done.is_set()
                if done.wait(min(remaining, threading.TIMEOUT_MAX)):
                    return False

        return wait

    def timer_future(self, deadline: int) -> "asyncio.Future[None]":
        """A future on the running loop completed at ``deadline`` (armed now)."""
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[None]" = loop.create_future()
        delay = max(0.0, (deadline - self.now()) / 1000.0)
        handle = loop.call_later(delay, _resolve, fut)
        fut.add_done_callback(lambda _f: handle.cancel())
        return fut


def _on_loop_thread(loop: "asyncio.AbstractEventLoop") -> bool:
    """Whether ``loop`` is the loop running on this thread (else a callback
    for it must go through ``call_soon_threadsafe``, which wakes it)."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _resolve(fut: "asyncio.Future[None]", _value: Optional[object] = None) -> None:
    if not fut.done():
        fut.set_result(None)


DEFAULT_CLOCK = RealClock()
