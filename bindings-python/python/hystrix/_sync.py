"""Semaphore isolation through the call protocol: the interpreter the native
``SemaphoreCall`` hands a call to while retry, hedging, a deadline or a rate
limiter is on (without them the whole call is one native crossing).

Everything happens on the caller's thread:

- a run executes when its attempt is invoked and is judged when it returns:
  a run that returns at or after its deadline is a ``TIMEOUT`` (the core's
  late rule), as semaphore isolation always judged it;
- a timer (retry backoff, rate-limit wait, hedge delay) is waited for by
  blocking on the command's clock (``clock.waiter``; with a
  :class:`~hystrix.testing.VirtualClock` another thread advances it);
- **hedging cannot overlap attempts on one thread**: a hedge whose delay
  passes while an attempt runs starts after that attempt has returned (and
  only if it failed), so hedges run one after another — with
  ``hedge_on_failure`` that is a retry without backoff;
- an attempt is never aborted while it runs (nothing can interrupt it); an
  abort after it returned only gives its permit back.
"""
import collections
import threading
from typing import Any, Deque, Dict, Tuple

from ._options import SUCCESS, _now, _outcome_of
from ._protocol import (
    _CURRENT_CALL,
    ABORT,
    CLEAR_TIMER,
    FALLBACK,
    INVOKE,
    SET_TIMER,
    Call,
    Settling,
    Target,
)


class SyncTarget(Target):
    """The :class:`Target` of a semaphore-isolated command, also
    ``SemaphoreCall``'s ``general`` callable: ``(*args, **kwargs)`` runs one
    call of it through the interpreter below (one object per command, not
    a target and a callable holding it)."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return execute(self, args, kwargs)


def execute(target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """One call on the caller's thread (see the module docs)."""
    s = Settling(target, args, kwargs)
    clock = target.circuit.clock
    label = target.label
    # A timer's waiter is made only when it is waited for, not when it is
    # set: most timers (timeouts, 0 ms backoffs) never are. Nothing is lost
    # meanwhile: a clock that passed the due time (another thread advanced
    # a virtual clock while the run ran) is not waited on at all, and a
    # clock's waiter armed at or after its deadline returns at once.
    s.t0 = s.at = _now(clock, label)
    native, actions = target.circuit._native.call(s.t0, target.fallback is not None)
    pending: Deque[int] = collections.deque(actions)
    timers: Dict[int, int] = {}  # timer -> due, in arming order
    settled = None
    try:
        while True:
            while pending:
                code, x, y = pending.popleft(), pending.popleft(), pending.popleft()
                if code == SET_TIMER:
                    timers.pop(x, None)
                    timers[x] = y
                elif code == CLEAR_TIMER:
                    timers.pop(x, None)
                elif code == INVOKE:
                    pending.extend(_invoke(s, native, x))
                elif code == ABORT:
                    pending.extend(native.stopped(x))  # its run has returned already
                elif code == FALLBACK:
                    pending.extend(_fallback(s, native, x))
                else:
                    settled = (code, x, y)
            if settled is not None:
                break
            # The earliest timer (the first armed among equals) is waited for.
            timer, due = min(timers.items(), key=lambda kv: kv[1])
            now = _now(clock, label)
            if now < due:
                clock.waiter(due, threading.Event())()
                now = _now(clock, label)
            del timers[timer]
            s.at = now
            pending.extend(native.fired(now, timer))
    except BaseException:
        native.release()
        raise
    return s.result(*settled)


def _invoke(s: Settling, native: Any, attempt: int) -> Tuple[int, ...]:
    t = s.target
    token = _CURRENT_CALL.set(Call(t.label, attempt))
    try:
        s.outcomes[attempt] = t.run(*s.args, **s.kwargs)
        outcome = SUCCESS
    except BaseException as exc:  # noqa: BLE001 - classified; non-Exceptions reach the caller
        s.outcomes[attempt] = exc
        outcome = _outcome_of(t.is_bad, exc)
    finally:
        _CURRENT_CALL.reset(token)
    s.at = _now(t.circuit.clock, t.label)
    return native.ended(s.at, attempt, outcome)  # type: ignore[no-any-return]


def _fallback(s: Settling, native: Any, enc: int) -> Tuple[int, ...]:
    t = s.target
    original = s.original(enc)
    try:
        s.fb_value = t.fallback(original, *s.args, **s.kwargs)  # type: ignore[misc]
        ok = True
    except BaseException as exc:  # noqa: BLE001 - recorded, then converted or re-raised
        s.fallback_failed(original, exc)
        ok = False
    return native.fallback_ended(_now(t.circuit.clock, t.label), ok)  # type: ignore[no-any-return]
