"""Thread isolation through the call protocol: each attempt's run executes
on the circuit's pool of daemon threads (several at once when hedging) in
its own copy of the caller's ``contextvars`` context, with a :class:`Call`
as :func:`current_call`; the caller's thread interprets the actions,
waiting on the command's clock for whichever comes first — a run ending,
a timer, or (for :meth:`Command.queue`) the caller's cancel. An aborted
attempt (timed out, a hedge that lost, a cancelled call) has its
``current_call().cancelled`` set; it keeps its permit until its run
returns."""
import collections
import concurrent.futures
import contextvars
import threading
from typing import Any, Deque, Dict, Optional, Set, Tuple

from ._clock import DEFAULT_CLOCK
from ._options import SUCCESS, _now, _outcome_of
from ._protocol import (
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
    _run_as,
    settles,
)

#: An inbox entry for actions the caller's cancel caused: ``(_ACTIONS, actions, None)``.
_ACTIONS = 0


class CallCancelled(Exception):
    """Raised out of :func:`execute` when :meth:`ThreadCall.cancel` settled
    the call (``queue()`` then leaves its future cancelled)."""


class ThreadCall(Settling):
    """One thread-isolated call (see the module docs)."""

    __slots__ = ("native", "lock", "inbox", "waiting", "active", "abandoned", "running", "context")

    def __init__(self, target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]):
        super().__init__(target, args, kwargs)
        self.native: Any = None
        self.lock = threading.Lock()
        # (attempt, ok, value) for runs that ended; (_ACTIONS, actions, None)
        # for what a cancel from another thread caused.
        self.inbox: Deque[Tuple[int, Any, Any]] = collections.deque()
        # What the caller's thread waits on (set by the timer it waits for,
        # or by whatever else wakes the caller): a relay or an event.
        self.waiting: Any = None
        # Whether the caller's thread still interprets (else runs that end
        # are reported from their own thread).
        self.active = True
        self.abandoned = False
        self.running: Dict[int, Call] = {}
        # The run sees the caller's context variables (request ids, spans…).
        self.context = contextvars.copy_context()

    def execute(self) -> Any:
        t = self.target
        clock = t.circuit.clock
        label = t.label
        now = _now(clock, label)
        self.t0 = self.at = now
        native, actions = t.circuit._native.call(now, t.fallback is not None)
        self.native = native
        pending = list(actions)
        i, n = 0, len(pending)
        timers: Dict[int, int] = {}
        waits: Dict[int, Tuple[Any, Any]] = {}
        # Timers armed since the clock was last read: before waiting for one
        # the clock is read again, as a run or another thread may have moved
        # it past the due time meanwhile (a virtual clock would then never
        # fire it). The start's own timers need no such read: no run of
        # this call has started yet.
        unread: Set[int] = set()
        first = True
        settled = None
        try:
            while True:
                while i < n:
                    code, x, y = pending[i], pending[i + 1], pending[i + 2]
                    i += 3
                    if code == SET_TIMER:
                        if x in timers:
                            del timers[x]
                        timers[x] = y
                        # Armed now (before a run starts that may see the
                        # clock move), waited for later.
                        waits[x] = _arm(clock, y)
                        if not first:
                            unread.add(x)
                    elif code == CLEAR_TIMER:
                        timers.pop(x, None)
                        waits.pop(x, None)
                    elif code == INVOKE:
                        self._submit(x)
                    elif code == ABORT:
                        self._abort(x)
                    elif code == FALLBACK:
                        pending += self._fallback(x)
                        n = len(pending)
                    else:
                        settled = (code, x, y)
                if settled is not None:
                    break
                first = False
                with self.lock:
                    items = list(self.inbox)
                    self.inbox.clear()
                if items:
                    for attempt, _ok, _value in items:
                        self.running.pop(attempt, None)  # ended: nothing to wait for
                    now = _now(clock, label)
                    for attempt, ok, value in items:
                        if attempt == _ACTIONS:
                            pending += ok
                            n = len(pending)
                            continue
                        self.outcomes[attempt] = value
                        outcome = SUCCESS if ok else _outcome_of(t.is_bad, value)
                        pending += native.ended(now, attempt, outcome)
                    n = len(pending)
                    continue
                if not timers:
                    event = _relay(clock)
                    with self.lock:
                        if self.inbox:
                            continue
                        self.waiting = event
                    event.wait()
                    continue
                if len(timers) == 1:
                    timer, due = next(iter(timers.items()))
                else:
                    timer, due = min(timers.items(), key=lambda kv: kv[1])
                entry = waits.get(timer)
                if entry is None:
                    entry = waits[timer] = _arm(clock, due)
                    unread.add(timer)
                if timer in unread:
                    now = _now(clock, label)
                    unread.clear()
                if now < due:
                    # (The clock is read only after waiting: a closed call
                    # reads it twice, at its start and when its run ended.)
                    wait, relay = entry
                    with self.lock:
                        if self.inbox:
                            continue
                        self.waiting = relay
                    won = wait()  # a wait is used once (armed again if needed)
                    self.waiting = None
                    del waits[timer]
                    if not won:
                        continue  # something else came first: a run ended, a cancel
                    now = _now(clock, label)
                del timers[timer]
                waits.pop(timer, None)
                self.at = now
                pending += native.fired(now, timer)
                n = len(pending)
        except BaseException:
            # The caller was interrupted (KeyboardInterrupt…) or the clock is
            # broken: nothing more is recorded, and what the call holds is
            # given back once its runs have really stopped.
            self._abandon()
            raise
        self._leave()
        if settled[0] == SETTLE_ERROR and settled[1] == CANCELLED_CODE:
            raise CallCancelled()
        return self.result(*settled)

    def cancel(self) -> bool:
        """The caller cancels the call (semantics §18): whether it had not
        settled (it then settles ``cancelled``)."""
        with self.lock:
            if not self.active or self.native is None:
                return False
            try:
                now = _now(self.target.circuit.clock, self.target.label)
            except Exception:  # noqa: BLE001 - a broken clock cannot cancel
                return False
            actions = self.native.cancel(now)
            if not actions:
                return False
            self.inbox.append((_ACTIONS, actions, None))
            self._wake()
        return settles(actions)

    def _wake(self) -> None:
        """(Under the lock.) Wakes the caller's thread, whatever it waits on."""
        waiting = self.waiting
        if waiting is not None:
            waiting.set()

    def _submit(self, attempt: int) -> None:
        t = self.target
        call = Call(t.label, attempt)
        context = self.context if not self.running and attempt == 1 else self.context.copy()
        run, args, kwargs = t.run, self.args, self.kwargs
        self.running[attempt] = call

        def work() -> None:
            try:
                value = context.run(_run_as, call, run, args, kwargs)
                ok = True
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                value, ok = exc, False
            self._ended(attempt, ok, value)

        try:
            t.circuit._submit(work, lambda: self._lost(attempt))
        except BaseException:
            del self.running[attempt]
            raise

    def _ended(self, attempt: int, ok: bool, value: Any) -> None:
        """On the run's thread: hands the outcome to the caller's thread, or
        once that has left, reports the run's stop itself."""
        with self.lock:
            if self.active:
                self.inbox.append((attempt, ok, value))
                self._wake()
                return
            self.running.pop(attempt, None)
            last = self.abandoned and not self.running
        if self.abandoned:
            if last:
                self.native.release()
        else:
            self.native.stopped(attempt)

    def _lost(self, attempt: int) -> None:
        """Forked child: the run's thread is gone; release the call."""
        self.native.release()

    def _abort(self, attempt: int) -> None:
        call = self.running.get(attempt)
        if call is None:
            self.native.stopped(attempt)
            return
        call.cancelled.set()

    def _leave(self) -> None:
        """The caller settled: runs still going report their stop themselves."""
        if not self.running and not self.inbox:
            self.active = False  # no run can report any more: no lock needed
            return
        with self.lock:
            self.active = False
            late = list(self.inbox)
            self.inbox.clear()
        for attempt, _ok, _value in late:
            if attempt != _ACTIONS:
                self.running.pop(attempt, None)
                self.native.stopped(attempt)

    def _abandon(self) -> None:
        with self.lock:
            self.active = False
            self.abandoned = True
            for attempt, _ok, _value in self.inbox:
                self.running.pop(attempt, None)  # ended: nothing to wait for
            self.inbox.clear()
            for call in self.running.values():
                call.cancelled.set()
            last = not self.running
        if self.native is not None and last:
            self.native.release()

    def _fallback(self, enc: int) -> Tuple[int, ...]:
        t = self.target
        original = self.original(enc)
        try:
            self.fb_value = t.fallback(original, *self.args, **self.kwargs)  # type: ignore[misc]
            ok = True
        except BaseException as exc:  # noqa: BLE001 - recorded, then converted or re-raised
            self.fallback_failed(original, exc)
            ok = False
        return self.native.fallback_ended(_now(t.circuit.clock, t.label), ok)  # type: ignore[no-any-return]


class _Relay:
    """A one-shot wake-up for the caller's thread, set at most once (always
    under the call's lock): a lock held until :meth:`set` releases it. It
    does what the real clock's waiter asks of a ``threading.Event``
    (``is_set``, ``wait``) for about half the cost of one (an event is a
    ``Condition`` with a lock made per wait)."""

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Whether it was set, waiting at most ``timeout`` seconds (forever
        with ``None``). Used by one thread; once it said ``True``, not again."""
        if timeout is None:
            return self._lock.acquire()
        return self._lock.acquire(True, timeout)


def _relay(clock: Any) -> Any:
    """What the caller's thread waits on: a :class:`_Relay` on the real
    clock, whose waiter only asks ``is_set``/``wait``; a
    ``threading.Event`` for any other clock (the clock protocol's type)."""
    return _Relay() if clock is DEFAULT_CLOCK else threading.Event()


def _arm(clock: Any, due: int) -> Tuple[Any, Any]:
    """A timer due at ``due`` on ``clock``, armed now: ``(wait, relay)``,
    where ``wait()`` blocks until ``due`` or until ``relay`` is set and says
    whether ``due`` came first."""
    relay = _relay(clock)
    return clock.waiter(due, relay), relay


def execute(target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """One thread-isolated call, the caller waiting."""
    return ThreadCall(target, args, kwargs).execute()


class CallFuture(concurrent.futures.Future):  # type: ignore[type-arg]
    """What :meth:`Command.queue` returns: ``cancel()`` also cancels a call
    under way that has not settled (semantics §18): it then settles
    ``cancelled`` (nothing counts in health, no fallback), its runs are told
    to stop and keep their permits until they do, and the future ends
    cancelled. A call that settled already is not affected (``False``)."""

    def __init__(self) -> None:
        super().__init__()
        self._hystrix_call: Optional[ThreadCall] = None

    def cancel(self) -> bool:
        call = self._hystrix_call
        if call is not None and not self.done() and call.cancel():
            with self._condition:
                if self._state == concurrent.futures._base.RUNNING:
                    self._state = concurrent.futures._base.PENDING
        return super().cancel()


def queue(target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> "concurrent.futures.Future[Any]":
    """Starts a thread-isolated call on a worker thread now, in a copy of the
    caller's ``contextvars`` context; returns its :class:`CallFuture`."""
    future = CallFuture()
    context = contextvars.copy_context()
    call = context.run(ThreadCall, target, args, kwargs)
    future._hystrix_call = call

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            value = context.run(call.execute)
        except CallCancelled:
            return  # the future was cancelled by its cancel()
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            if not future.cancelled():
                future.set_exception(exc)
            return
        if not future.cancelled():
            future.set_result(value)

    threading.Thread(target=work, name="hystrix-queue", daemon=True).start()
    return future
