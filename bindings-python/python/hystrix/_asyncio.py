"""asyncio through the call protocol: each attempt's run is a task (with a
:class:`Call` as :func:`current_call` in its own context copy); aborting an
attempt (its timeout, a hedge that lost, the caller's cancel) cancels its
task, which keeps its permit until it has really stopped. Timers are
futures on the command's clock (``clock.timer_future``), so a
:class:`~hystrix.testing.VirtualClock` drives every delay.

Cancelling the caller's task cancels the call (semantics §18): it settles
``cancelled`` at once and the ``CancelledError`` propagates; a fallback
already running is shielded (§18.1): it runs on, keeps its slot and has its
outcome recorded when it ends.

A plain (non-async) run is called on the event loop's thread: if it blocks,
it blocks the loop, and like semaphore isolation it is only judged a timeout
once it returns."""
import asyncio
import collections
import contextvars
import functools
import inspect
import sys
from typing import Any, Deque, Dict, Optional, Set, Tuple, Union

from ._clock import RealClock
from ._options import BAD_REQUEST, SUCCESS, _now, _outcome_of
from ._protocol import (
    _CURRENT_CALL,
    ABORT,
    CANCELLED_CODE,
    CLEAR_TIMER,
    FALLBACK,
    INVOKE,
    SET_TIMER,
    SETTLE_ERROR,
    Call,
    Settling,
    Target,
)

# Inbox entries: (_TIMER, timer, None), (_ENDED, attempt, task), (_FALLBACK_DONE, 0, task).
_TIMER, _ENDED, _FALLBACK_DONE = 0, 1, 2


class AsyncCall(Settling):
    """One call under asyncio (see the module docs)."""

    __slots__ = (
        "native",
        "inbox",
        "wake",
        "active",
        "abandoned",
        "tasks",
        "calls",
        "aborted",
        "timers",
        "fb_task",
        "fb_original",
    )

    def __init__(self, target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]):
        super().__init__(target, args, kwargs)
        self.native: Any = None
        self.inbox: Deque[Tuple[int, int, Any]] = collections.deque()
        self.wake: "Optional[asyncio.Future[None]]" = None
        self.active = True
        self.abandoned = False
        self.tasks: Dict[int, "asyncio.Future[Any]"] = {}
        self.calls: Dict[int, Call] = {}
        self.aborted: Set[int] = set()
        # Armed timers: futures from ``clock.timer_future``, or, on the real
        # clock, the loop's own timer handles (see ``_arm``).
        self.timers: Dict[int, Union["asyncio.Future[None]", asyncio.TimerHandle]] = {}
        self.fb_task: "Optional[asyncio.Future[Any]]" = None
        self.fb_original: Optional[BaseException] = None

    async def execute(self) -> Any:
        t = self.target
        clock = t.circuit.clock
        label = t.label
        loop = asyncio.get_running_loop()
        self.t0 = self.at = _now(clock, label)
        native, actions = t.circuit._native.call(self.t0, t.fallback is not None)
        self.native = native
        pending = list(actions)
        i = 0
        settled = None
        caller_cancel: Optional[BaseException] = None
        try:
            while True:
                while i < len(pending):
                    code, x, y = pending[i], pending[i + 1], pending[i + 2]
                    i += 3
                    if code == SET_TIMER:
                        self._arm(clock, x, y)
                    elif code == CLEAR_TIMER:
                        fut = self.timers.pop(x, None)
                        if fut is not None:
                            fut.cancel()
                    elif code == INVOKE:
                        pending += self._invoke(x)
                    elif code == ABORT:
                        pending += self._abort(x)
                    elif code == FALLBACK:
                        pending += self._fallback(x)
                    else:
                        settled = (code, x, y)
                if settled is not None:
                    break
                if self.inbox:
                    now = _now(clock, label)
                    while self.inbox:
                        pending += self._feed(now, self.inbox.popleft())
                    continue
                self.wake = loop.create_future()
                try:
                    await self.wake
                except asyncio.CancelledError as exc:
                    # The caller gave up (semantics §18).
                    caller_cancel = exc
                    pending += native.cancel(_now(clock, label))
                finally:
                    self.wake = None
        except BaseException:
            # Interrupted (KeyboardInterrupt…) or a broken clock: nothing
            # more is recorded; the call is released once its runs stopped.
            self._abandon()
            raise
        self._leave()
        if caller_cancel is not None and settled[0] == SETTLE_ERROR and settled[1] == CANCELLED_CODE:
            raise caller_cancel
        return self.result(*settled)

    # ----- carrying out actions -----

    def _arm(self, clock: Any, timer: int, due: int) -> None:
        old = self.timers.pop(timer, None)
        if old is not None:
            old.cancel()
        if type(clock) is RealClock:
            # What the real clock's timer_future arms, without the future:
            # the loop's timer posts the input itself (one loop turn sooner)
            # and a cleared timer is one handle cancelled (no callbacks
            # scheduled). Most timers (timeouts) are cleared, not fired.
            delay = max(0.0, (due - clock.now()) / 1000.0)
            self.timers[timer] = asyncio.get_running_loop().call_later(delay, self._timer_fired, timer)
            return
        fut = clock.timer_future(due)
        fut.add_done_callback(functools.partial(self._timer_done, timer))
        self.timers[timer] = fut

    def _invoke(self, attempt: int) -> Tuple[int, ...]:
        t = self.target
        call = Call(t.label, attempt)
        ctx = contextvars.copy_context()
        ctx.run(_CURRENT_CALL.set, call)
        try:
            started = ctx.run(t.run, *self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - classified; non-Exceptions reach the caller
            self.outcomes[attempt] = exc
            return self.native.ended(_now(t.circuit.clock, t.label), attempt, _outcome_of(t.is_bad, exc))  # type: ignore[no-any-return]
        if not inspect.isawaitable(started):
            self.outcomes[attempt] = started
            return self.native.ended(_now(t.circuit.clock, t.label), attempt, SUCCESS)  # type: ignore[no-any-return]
        task = ctx.run(asyncio.ensure_future, started)
        self.tasks[attempt] = task
        self.calls[attempt] = call
        task.add_done_callback(functools.partial(self._attempt_done, attempt))
        return ()

    def _abort(self, attempt: int) -> Tuple[int, ...]:
        task = self.tasks.get(attempt)
        if task is None:
            return self.native.stopped(attempt)  # type: ignore[no-any-return]
        self.aborted.add(attempt)
        self.calls[attempt].cancelled.set()
        task.cancel()
        return ()

    def _fallback(self, enc: int) -> Tuple[int, ...]:
        t = self.target
        original = self.original(enc)
        try:
            value = t.fallback(original, *self.args, **self.kwargs)  # type: ignore[misc]
        except BaseException as exc:  # noqa: BLE001 - recorded, then converted or re-raised
            self.fallback_failed(original, exc)
            return self.native.fallback_ended(_now(t.circuit.clock, t.label), False)  # type: ignore[no-any-return]
        if inspect.isawaitable(value):
            # Its own task: shielded from the caller's cancellation (§18.1).
            self.fb_original = original
            self.fb_task = asyncio.ensure_future(value)
            self.fb_task.add_done_callback(self._fallback_done)
            return ()
        self.fb_value = value
        return self.native.fallback_ended(_now(t.circuit.clock, t.label), True)  # type: ignore[no-any-return]

    # ----- inputs -----

    def _timer_done(self, timer: int, fut: "asyncio.Future[None]") -> None:
        if not fut.cancelled():
            self._post((_TIMER, timer, None))

    def _timer_fired(self, timer: int) -> None:
        self._post((_TIMER, timer, None))

    def _attempt_done(self, attempt: int, task: "asyncio.Future[Any]") -> None:
        self._post((_ENDED, attempt, task))

    def _fallback_done(self, task: "asyncio.Future[Any]") -> None:
        self._post((_FALLBACK_DONE, 0, task))

    def _post(self, item: Tuple[int, int, Any]) -> None:
        if not self.active:
            return self._late(item)
        self.inbox.append(item)
        wake = self.wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _feed(self, now: int, item: Tuple[int, int, Any]) -> Tuple[int, ...]:
        what, n, task = item
        native = self.native
        if what == _TIMER:
            self.at = now
            return native.fired(now, n) if self.timers.pop(n, None) is not None else ()
        if what == _FALLBACK_DONE:
            self.fb_task = None
            ok = self._fallback_outcome(task)
            return native.fallback_ended(now, ok)  # type: ignore[no-any-return]
        self.tasks.pop(n, None)
        self.calls.pop(n, None)
        if n in self.aborted:
            _retrieve(task)
            return native.stopped(n)  # type: ignore[no-any-return]
        if task.cancelled():
            # Nobody cancelled the run's task: the run raised CancelledError
            # itself. Like any non-Exception from a run it reaches the
            # caller unchanged (the run's own object) with no fallback.
            self.outcomes[n] = _own_cancellation(task)
            return native.ended(now, n, BAD_REQUEST)  # type: ignore[no-any-return]
        exc = task.exception()
        if exc is None:
            self.outcomes[n] = task.result()
            return native.ended(now, n, SUCCESS)  # type: ignore[no-any-return]
        self.outcomes[n] = exc
        return native.ended(now, n, _outcome_of(self.target.is_bad, exc))  # type: ignore[no-any-return]

    def _fallback_outcome(self, task: "asyncio.Future[Any]") -> bool:
        if task.cancelled():
            self.fallback_failed(self.fb_original, asyncio.CancelledError())
            return False
        exc = task.exception()
        if exc is not None:
            self.fallback_failed(self.fb_original, exc)
            return False
        self.fb_value = task.result()
        return True

    # ----- after the caller left -----

    def _leave(self) -> None:
        """The caller settled: what is still running reports to the call itself."""
        self.active = False
        for fut in self.timers.values():
            fut.cancel()
        self.timers.clear()
        while self.inbox:
            self._late(self.inbox.popleft())

    def _abandon(self) -> None:
        self.active = False
        for fut in self.timers.values():
            fut.cancel()
        self.timers.clear()
        self.inbox.clear()
        self.abandoned = True
        for attempt, task in list(self.tasks.items()):
            if task.done():
                _retrieve(task)
                del self.tasks[attempt]
            else:
                self.calls[attempt].cancelled.set()
                task.cancel()
        if self.fb_task is not None and self.fb_task.done():
            _retrieve(self.fb_task)
            self.fb_task = None
        self._release_if_idle()

    def _release_if_idle(self) -> None:
        if self.native is not None and not self.tasks and self.fb_task is None:
            self.native.release()

    def _late(self, item: Tuple[int, int, Any]) -> None:
        what, n, task = item
        if what == _TIMER:
            return
        if what == _FALLBACK_DONE:
            self.fb_task = None
            ok = not task.cancelled() and task.exception() is None
            if not self.abandoned:
                try:
                    now = _now(self.target.circuit.clock, self.target.label)
                except BaseException:  # noqa: BLE001 - a bad clock: release, record nothing
                    self.native.release()
                    return
                self.native.fallback_ended(now, ok)
                return
        else:
            self.tasks.pop(n, None)
            self.calls.pop(n, None)
            _retrieve(task)
            if not self.abandoned:
                self.native.stopped(n)
                return
        self._release_if_idle()


def _retrieve(task: "asyncio.Future[Any]") -> None:
    """Marks a discarded outcome as retrieved (no 'never retrieved' log)."""
    if not task.cancelled():
        task.exception()


def _own_cancellation(task: "asyncio.Future[Any]") -> BaseException:
    try:
        task.result()
    except asyncio.CancelledError as cancelled:
        if sys.version_info < (3, 11) and isinstance(cancelled.__context__, asyncio.CancelledError):
            # Before 3.11 the task raises a new CancelledError whose context
            # is the one the run raised.
            return cancelled.__context__
        return cancelled
    return asyncio.CancelledError()


async def execute(target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """One call under asyncio."""
    return await AsyncCall(target, args, kwargs).execute()
