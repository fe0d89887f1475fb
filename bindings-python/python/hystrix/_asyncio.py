"""asyncio through the call protocol: each attempt's run has its own
context copy (with a :class:`Call` as :func:`current_call`). From Python
3.11 an attempt that overlaps no other (a single attempt, retries) runs in
the caller's own task (``_inline``); an overlapping one (a hedge), and
every attempt before 3.11, runs in a task of its own. Aborting an attempt
(its timeout, a hedge that lost, the caller's cancel) cancels the task it
runs in — for the caller's task, a cancellation the interpreter takes back
once the run has seen it, as ``asyncio.timeout()`` does — and it keeps its
permit until it has really stopped; a run that goes on after that goes on
in a task of its own, so it never holds the caller back. An
``asyncio.timeout()`` or ``TaskGroup`` a run entered before such a hand-over
stays bound to the caller's task: a run that must await at length after its
cancellation should not rely on them meanwhile. Timers are the
loop's own timers on the real clock, armed when the reaction that set them
ends (one set and cleared within a reaction, the timeout of a run that
ended at once, never reaches the loop). On a
:class:`~hystrix.testing.VirtualClock` (which drives every delay) they are
the clock's own timers, also armed when the reaction ends but in the place
in the clock's order they took when set, so at an equal instant the
command's timer still comes first (semantics §1.4), and one the clock
passed meanwhile fires at once. Any other clock gives futures
(``clock.timer_future``), armed when the core sets them.

Where the work happens. The caller's coroutine starts the call and carries
out what the call asks for at its start. After that, an input (an attempt's
end, a timer, an async fallback's end) is fed to the core where it arrives —
at the end of the attempt's own task, in the timer's callback — and the
actions it causes are carried out there, except those that must run in the
caller's task: calling the fallback, calling a run that is not a coroutine
function (it runs in the caller's task, as the first attempt does), and
settling. Those, and whatever follows them, wait for the caller's coroutine,
which is woken for them only; meanwhile later inputs queue behind them, so
actions are always carried out in the order the core gave them. A timer's
callback starts a coroutine attempt as the caller's task (made the current
task meanwhile, as asyncio does for an eager task's first step); the caller
takes the run on only if it suspends. A call whose attempts fail and retry
thus wakes its caller once, when it settles.
Listeners and the bad-request classifier called while feeding an input see
the caller's ``contextvars`` as they were when the call started.

Cancelling the caller's task cancels the call (semantics §18): it settles
``cancelled`` at once and the ``CancelledError`` propagates; a fallback
already running is shielded (§18.1): it runs on, keeps its slot and has its
outcome recorded when it ends. What the reaction before the cancellation
left to the caller (a fallback to call, a settlement) is carried out first:
the cancellation is a reaction of its own (§18.1).

A plain (non-async) run is called on the event loop's thread: if it blocks,
it blocks the loop, and like semaphore isolation it is only judged a timeout
once it returns."""
import asyncio
import collections
import contextvars
import functools
import inspect
import sys
from typing import Any, Deque, Dict, Generator, List, Optional, Set, Tuple, Union

from ._clock import RealClock, _on_loop_thread
from ._hystrix import monotonic_ms
from ._inline import AWAITABLE, ENDED, RAISED, RETURNED, SUSPENDED, Inline, Rest, drive, start
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
from .testing import VirtualClock, VirtualTimer


def _plain_virtual(clock: Any) -> bool:
    """Whether ``clock`` is a :class:`VirtualClock` whose timers are its own
    (a subclass that arms or hands out timers its own way is asked for
    futures, as any clock is)."""
    t = type(clock)
    return (
        issubclass(t, VirtualClock)
        and t.call_at is VirtualClock.call_at
        and t.timer_future is VirtualClock.timer_future
    )


# Inputs: (_TIMER, timer, None), (_RETURNED, attempt, value),
# (_RAISED, attempt, exception), (_FALLBACK_DONE, 0, task).
_TIMER, _RETURNED, _RAISED, _FALLBACK_DONE = 0, RETURNED, RAISED, 3

#: ``create_task(..., context=)`` exists from Python 3.11.
_TASK_CONTEXT = sys.version_info >= (3, 11)
#: Attempts' tasks start eagerly (their first step at once) from Python 3.12.
_EAGER = sys.version_info >= (3, 12)
#: An attempt may run in the caller's own task (``_inline``) from Python
#: 3.11: its cancellation is told from the caller's by ``Task.cancelling()``.
_INLINE = sys.version_info >= (3, 11)
#: How a timer's callback makes the caller's task the current one while it
#: starts an attempt for it (asyncio's own, for eager tasks; absent on
#: other asyncio implementations: the caller is woken to start it then).
_ENTER = getattr(asyncio.tasks, "_enter_task", None)
_LEAVE = getattr(asyncio.tasks, "_leave_task", None)
_BORROW = _ENTER is not None and _LEAVE is not None


class _Primed:
    """Awaited first by an attempt's wrapper: the interpreter steps the
    wrapper up to here before handing it to its task, so that even a task
    cancelled before its first step runs the wrapper's ``except``."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield None


_PRIMED = _Primed()


class AsyncCall(Settling):
    """One call under asyncio (see the module docs)."""

    __slots__ = (
        "native",
        "loop",
        "now",
        "base",
        "inbox",
        "held",
        "early",
        "vdue",
        "todo",
        "failure",
        "wake",
        "active",
        "abandoned",
        "tasks",
        "calls",
        "aborted",
        "timers",
        "due",
        "fb_task",
        "fb_original",
        "task",
        "cancel_base",
        "inline",
        "told",
    )

    def __init__(self, target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]):
        super().__init__(target, args, kwargs)
        self.native: Any = None
        self.loop: Any = None
        #: The time last read (ms): timers are armed relative to it.
        self.now = 0
        #: A copy of the caller's context at the start: timer callbacks and
        #: the inputs fed from attempts' tasks run in it.
        self.base: contextvars.Context = contextvars.copy_context()
        #: Inputs that arrived while actions were being carried out, or
        #: while the caller had actions to carry out (fed in order after them).
        self.inbox: Deque[Tuple[int, int, Any]] = collections.deque()
        #: Whether an input must queue in the inbox rather than be fed now.
        self.held = True
        #: Actions left to the caller's coroutine (flat triples).
        self.todo: List[int] = []
        #: What went wrong feeding an input outside the caller (raised to it).
        self.failure: Optional[BaseException] = None
        self.wake: "Optional[asyncio.Future[None]]" = None
        self.active = True
        self.abandoned = False
        self.tasks: Dict[int, "asyncio.Future[Any]"] = {}
        self.calls: Dict[int, Call] = {}
        self.aborted: Set[int] = set()
        # Armed timers: the loop's timer handles (real clock), a virtual
        # clock's timers, or futures from ``clock.timer_future`` (see ``_arm``).
        self.timers: Dict[int, Union["asyncio.Future[None]", asyncio.TimerHandle, VirtualTimer]] = {}
        #: Real-clock timers set in the current reaction, not armed yet: due time by timer.
        self.due: Dict[int, int] = {}
        #: Virtual-clock timers set in the current reaction, not armed yet:
        #: (due time, the clock's sequence number kept for it, the clock's
        #: epoch then) by timer (see ``_arm``).
        self.vdue: Dict[int, Tuple[int, int, int]] = {}
        self.fb_task: "Optional[asyncio.Future[Any]]" = None
        self.fb_original: Optional[BaseException] = None
        #: A virtual clock's timer that fired while the caller only waited,
        #: for the caller to feed first (see ``_virtual_fired``).
        self.early: Optional[Tuple[int, int, Any]] = None
        #: The caller's task when attempts may run in it (see ``_inline``),
        #: and its count of cancellations asked for when the first one started.
        self.task: "Optional[asyncio.Task[Any]]" = None
        self.cancel_base: int  # set with ``task``
        #: The attempt running in the caller's task, if any.
        self.inline: Optional[Inline] = None
        #: Attempts detached from the caller's task after a cancellation
        #: reached them: told to stop already (made on first use).
        self.told: Optional[Set[int]] = None

    async def execute(self) -> Any:
        t = self.target
        self.loop = loop = asyncio.get_running_loop()
        self.t0 = self.at = self._time()
        native, actions = t.circuit._native.call(self.t0, t.fallback is not None)
        self.native = native
        caller_cancel: Optional[BaseException] = None
        thrown: Optional[BaseException] = None
        try:
            settled = self._carry(actions, True)
            while settled is None:
                self.held = False
                inline = self.inline
                if inline is not None:
                    # An attempt runs in this task: its end (or the
                    # caller's cancellation) is this task's next input.
                    item, cancel = await drive(self, inline, thrown)
                    thrown = None
                    if item is not None:
                        self.inbox.append(item)
                    if cancel is not None:
                        caller_cancel = cancel
                else:
                    wake = self.wake = loop.create_future()
                    try:
                        await wake
                    except asyncio.CancelledError as exc:
                        if self.inline is None:
                            # The caller gave up (semantics §18).
                            caller_cancel = exc
                        else:
                            # An attempt a timer started in this task
                            # meanwhile gets it, as if this task ran it.
                            thrown = exc
                    finally:
                        self.wake = None
                self.held = True
                if self.failure is not None:
                    raise self.failure
                # What the last reaction left to the caller comes first (or
                # a timer the caller was woken to feed); a cancellation is a
                # reaction of its own (§18.1), before the inputs queued
                # behind it.
                todo = self._take_todo()
                early = self.early
                if early is not None:
                    self.early = None
                    if todo:
                        self.inbox.appendleft(early)
                    else:
                        todo = list(self._feed(self._time(), early))
                settled = self._carry(todo, True, inputs=caller_cancel is None)
                if thrown is not None and self.inline is None:
                    # The attempt it was for was stopped meanwhile: the
                    # caller's cancellation is the call's.
                    caller_cancel, thrown = thrown, None
                if settled is None and caller_cancel is not None:
                    settled = self._carry(native.cancel(self._time()), True)
        except BaseException:
            # Interrupted (KeyboardInterrupt…) or a broken clock: nothing
            # more is recorded; the call is released once its runs stopped
            # (one started in this task goes on stopping in a task of its own).
            self._abandon()
            raise
        self._leave()
        if caller_cancel is not None:
            # Settled ``cancelled``, or settled otherwise just before the
            # cancellation came: the caller's task was cancelled either way.
            raise caller_cancel
        return self.result(*settled)

    def _take_todo(self) -> List[int]:
        todo = self.todo
        self.todo = []
        return todo

    # ----- carrying out actions -----

    def _carry(self, actions: Any, in_caller: bool, inputs: bool = True) -> Optional[Tuple[int, int, int]]:
        """Carries out ``actions`` (flat triples), then feeds the inputs
        that queued meanwhile (unless ``inputs`` is false) and carries out
        theirs, until none are left or the call settles. In the caller, the
        settle action (after the actions that follow it); outside it, stops
        at the first action only the caller may carry out and leaves it and
        the rest in ``todo`` — returns ``_LEFT`` then — else ``None``. The
        loop's timers still set are armed at the end, in the order they
        were set (see ``_arm``) — or, when actions were left to the caller,
        once the caller has carried them out (the timeout of an attempt the
        caller runs at once and that ends at once never reaches the loop;
        due times are absolute, so arming later moves none)."""
        settled = self._carry_all(actions, in_caller, inputs)
        if self.due and settled is not _LEFT:
            self._arm_due()
        if self.vdue:
            self._arm_virtual()
        return settled

    def _carry_all(self, actions: Any, in_caller: bool, inputs: bool) -> Optional[Tuple[int, int, int]]:
        pending = list(actions)
        i = 0
        settled = None
        while True:
            n = len(pending)
            while i < n:
                code = pending[i]
                x = pending[i + 1]
                if code == SET_TIMER:
                    self._arm(x, pending[i + 2])
                elif code == CLEAR_TIMER:
                    if self.due.pop(x, None) is None and self.vdue.pop(x, None) is None:
                        timer = self.timers.pop(x, None)
                        if timer is not None:
                            timer.cancel()
                elif code == ABORT:
                    more = self._abort(x)
                    if more:
                        pending += more
                        n = len(pending)
                elif not in_caller and (
                    code != INVOKE
                    or not self._run_is_async()
                    or (not _BORROW and self.task is not None and self.inline is None)
                ):
                    # (An async run is left to the caller too when it can
                    # run the attempt in its own task but not start it
                    # from here: see ``_invoke``.)
                    self.todo = pending[i:]
                    return _LEFT
                elif code == INVOKE:
                    more = self._invoke(x, in_caller)
                    if more:
                        pending += more
                        n = len(pending)
                elif code == FALLBACK:
                    more = self._fallback(x)
                    if more:
                        pending += more
                        n = len(pending)
                else:
                    settled = (code, x, pending[i + 2])
                i += 3
            if settled is not None or not inputs or not self.inbox:
                return settled
            now = self._time()
            while self.inbox:
                pending += self._feed(now, self.inbox.popleft())

    def _time(self) -> int:
        """Reads the command's clock (see ``_now``), and keeps the reading."""
        clock = self.target.circuit._clock
        now = self.now = monotonic_ms() if type(clock) is RealClock else _now(clock, self.target.label)
        return now

    def _run_is_async(self) -> bool:
        t = self.target
        flag = t.run_is_async
        if flag is None:
            flag = t.run_is_async = inspect.iscoroutinefunction(t.run)
        return flag

    def _arm(self, timer: int, due: int) -> None:
        old = self.timers.pop(timer, None)
        if old is not None:
            old.cancel()
        clock = self.target.circuit._clock
        if type(clock) is RealClock:
            # Armed on the loop when the reaction ends (``_arm_due``): a
            # timer cleared within it (the timeout of a run that ended at
            # once) costs the loop nothing. No timer can fire meanwhile, and
            # no other call can arm one, so the loop's order is the same.
            self.due.pop(timer, None)
            self.due[timer] = due
            return
        if type(clock) is VirtualClock or _plain_virtual(clock):
            # The clock's own timer (no future, no loop callback to clear
            # it), armed when this reaction ends, in the place in the
            # clock's queue it takes now: its sequence number is kept now,
            # so a tie with a timer the run arms meanwhile still goes to
            # this one (semantics §1.4), and one cleared within the
            # reaction (the timeout of a run that ended at once) never
            # reaches the clock. Should the clock be advanced meanwhile (by
            # the run, a listener, another thread), ``_arm_virtual`` sees it.
            self.vdue.pop(timer, None)
            self.vdue[timer] = (due, clock._reserve(), clock._epoch)
            return
        fut = clock.timer_future(due)
        fut.add_done_callback(functools.partial(self._timer_done, timer), context=self.base)
        self.timers[timer] = fut

    def _arm_due(self) -> None:
        """Arms the real clock's timers set in this reaction, in that order:
        the loop's own timer feeds the input itself and a cleared timer is
        one handle cancelled (no future)."""
        loop = self.loop
        base = self.base
        now = loop.time()
        for timer, due in self.due.items():
            at = now + max(0.0, (due - self.now) / 1000.0)
            self.timers[timer] = loop.call_at(at, self._input, (_TIMER, timer, None), context=base)
        self.due.clear()

    def _arm_virtual(self) -> None:
        """Arms the virtual clock's timers set in this reaction in the
        places they took when set (see ``_arm``). One the clock has passed
        meanwhile fires now — if the clock took no timer out since it was
        set (its epoch), it is exactly where it would have been."""
        clock = self.target.circuit._clock
        for timer, (due, seq, epoch) in self.vdue.items():
            t = clock._push(due, seq, functools.partial(self._virtual_fired, timer))
            self.timers[timer] = t
            if clock._epoch != epoch and clock.now() >= due:
                t.cancel()
                self._virtual_fired(timer)
        self.vdue.clear()

    def _virtual_fired(self, timer: int) -> None:
        """A virtual clock reached timer ``timer``: its input is fed from
        the loop (never inside the task or thread that advanced the clock),
        as the real clock's timers are."""
        loop = self.loop
        item = (_TIMER, timer, None)
        if _on_loop_thread(loop):
            wake = self.wake
            if (
                self.active
                and not self.held
                and self.inline is None
                and wake is not None
                and not wake.done()
                and not getattr(loop, "_ready", True)
            ):
                # The caller only waits, and nothing else is queued on the
                # loop (an attempt's end that would come first): the caller
                # feeds the timer itself, before anything that comes after
                # it, a cancellation included. One loop hop, as a
                # callback's, and a reaction that settles the call needs no
                # second one to wake the caller.
                self.held = True
                self.early = item
                wake.set_result(None)
            else:
                loop.call_soon(self._input, item, context=self.base)
        else:
            loop.call_soon_threadsafe(self._input, item, context=self.base)

    def _invoke(self, attempt: int, in_caller: bool) -> Tuple[int, ...]:
        t = self.target
        call = Call(t.label, attempt)
        ctx = self.base.copy()
        # A coroutine attempt runs in the caller's task (``_inline``) when
        # that task is free: its first step now — from a timer's callback,
        # as that task (the caller waits for its wake meanwhile, and is
        # woken only if the run suspends). Otherwise it gets a task.
        task = None if t.run_is_async is False else self._task_for(in_caller)
        try:
            if task is None:
                ctx.run(_CURRENT_CALL.set, call)
                x = ctx.run(t.run, *self.args, **self.kwargs)
                state = AWAITABLE if inspect.isawaitable(x) else ENDED
            elif in_caller:
                state, x, yielded = ctx.run(start, call, t.run, self.args, self.kwargs)
            else:
                _ENTER(self.loop, task)  # type: ignore[misc]
                try:
                    state, x, yielded = ctx.run(start, call, t.run, self.args, self.kwargs)
                finally:
                    _LEAVE(self.loop, task)  # type: ignore[misc]
        except BaseException as exc:  # noqa: BLE001 - classified; non-Exceptions reach the caller
            self.outcomes[attempt] = exc
            return self.native.ended(self._time(), attempt, _outcome_of(t.is_bad, exc))  # type: ignore[no-any-return]
        if state == ENDED:
            self.outcomes[attempt] = x
            return self.native.ended(self._time(), attempt, SUCCESS)  # type: ignore[no-any-return]
        self.calls[attempt] = call
        if state == SUSPENDED:
            self.inline = Inline(attempt, x, yielded, ctx, task, self.cancel_base)  # type: ignore[arg-type]
        else:
            self._spawn(attempt, x, ctx, call)
        return ()

    def _task_for(self, in_caller: bool) -> "Optional[asyncio.Task[Any]]":
        """The caller's task if an attempt of a run that may be a coroutine
        function can start in it now (see ``_invoke``), else ``None``."""
        if self.inline is not None:
            return None
        task = self.task
        if task is None:
            if in_caller and _INLINE and self._run_is_async():
                task = self._caller_task()
            return task
        if not in_caller and asyncio.current_task(self.loop) is not None:
            # Not from a timer's callback but from inside another task (the
            # core starts attempts in timer reactions, but a clock's futures
            # may call back at once): no task can be entered there.
            return None
        return task

    def _caller_task(self) -> "Optional[asyncio.Task[Any]]":
        """The caller's task, kept when attempts can run in it (an asyncio
        task: ``uncancel()``), with its count of cancellations now."""
        task = asyncio.current_task(self.loop)
        if task is not None and hasattr(task, "uncancel"):
            self.task = task
            self.cancel_base = task.cancelling()
        return self.task

    def _spawn(self, attempt: int, started: Any, ctx: contextvars.Context, call: Call) -> None:
        """Runs attempt ``attempt``'s awaitable ``started`` in a task of its own, in ``ctx``."""
        body = self._attempt(attempt, started)
        if sys.version_info >= (3, 12):
            # Its first step runs now, as that task (asyncio's eager start):
            # a run that ends without suspending ends in this reaction, and
            # the loop never sees its timeout.
            task = asyncio.Task(body, loop=self.loop, context=ctx, eager_start=True)
        else:
            body.send(None)  # up to its first await (_PRIMED): nothing of the run yet
            if _TASK_CONTEXT:
                task = self.loop.create_task(body, context=ctx)
            else:
                task = ctx.run(self.loop.create_task, body)
        self.tasks[attempt] = task
        self.calls[attempt] = call

    def _stop_now(self, inline: Inline) -> bool:
        """Stops the run of ``inline``, which the caller's task does not
        wait for (it started in this reaction, or a timer started it):
        within this reaction, as a run that obeys cancellation does. Whether
        it stopped; if it goes on, it goes on in a task of its own."""
        self.inline = None
        try:
            inline.yielded = inline.throw()
        except BaseException:  # noqa: BLE001 - its end: the attempt was cancelled, nothing is recorded
            return True
        self.detach(inline)
        return False

    def detach(self, inline: Inline) -> None:
        """Hands the run of ``inline`` (told to stop, and still waiting) to
        a task of its own (see ``_inline``); the caller goes on."""
        self.inline = None
        attempt = inline.attempt
        if self.told is None:
            self.told = set()
        self.told.add(attempt)
        self._spawn(attempt, Rest(inline.it, inline.yielded), inline.ctx, self.calls[attempt])

    async def _attempt(self, attempt: int, started: Any) -> None:
        """Attempt ``attempt``'s task: awaits the run, then feeds its end."""
        begun = _EAGER
        try:
            if not begun:
                await _PRIMED
                begun = True
            value = await started
        except BaseException as exc:  # fed as the attempt's end, then re-raised if it must
            if not begun:
                _discard(started)
            self._report((_RAISED, attempt, exc))
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                # Escapes the loop, as from any task; marked retrieved.
                task = asyncio.current_task()
                if task is not None:
                    task.add_done_callback(_retrieve)
                raise
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        self._report((_RETURNED, attempt, value))

    def _abort(self, attempt: int) -> Tuple[int, ...]:
        inline = self.inline
        if inline is not None and inline.attempt == attempt:
            self.aborted.add(attempt)
            self.calls[attempt].cancelled.set()
            if inline.driving:
                inline.stop()
                return ()
            if self._stop_now(inline):
                self.calls.pop(attempt, None)
                return self.native.stopped(attempt)  # type: ignore[no-any-return]
            return ()
        task = self.tasks.get(attempt)
        if task is None:
            self.calls.pop(attempt, None)
            return self.native.stopped(attempt)  # type: ignore[no-any-return]
        self.aborted.add(attempt)
        self.calls[attempt].cancelled.set()
        if self.told is None or attempt not in self.told:
            task.cancel()
        return ()

    def _fallback(self, enc: int) -> Tuple[int, ...]:
        t = self.target
        original = self.original(enc)
        try:
            value = t.fallback(original, *self.args, **self.kwargs)  # type: ignore[misc]
        except BaseException as exc:  # noqa: BLE001 - recorded, then converted or re-raised
            self.fallback_failed(original, exc)
            return self.native.fallback_ended(self._time(), False)  # type: ignore[no-any-return]
        if inspect.isawaitable(value):
            # Its own task: shielded from the caller's cancellation (§18.1).
            self.fb_original = original
            self.fb_task = asyncio.ensure_future(value)
            self.fb_task.add_done_callback(self._fallback_done, context=self.base)
            return ()
        self.fb_value = value
        return self.native.fallback_ended(self._time(), True)  # type: ignore[no-any-return]

    # ----- inputs -----

    def _timer_done(self, timer: int, fut: "asyncio.Future[None]") -> None:
        if not fut.cancelled():
            self._input((_TIMER, timer, None))

    def _fallback_done(self, task: "asyncio.Future[Any]") -> None:
        self._input((_FALLBACK_DONE, 0, task))

    def _report(self, item: Tuple[int, int, Any]) -> None:
        """An attempt's end, from its task: fed in the call's base context."""
        if self.held:
            self.inbox.append(item)
        else:
            self.base.run(self._input, item)

    def _input(self, item: Tuple[int, int, Any]) -> None:
        """Feeds ``item`` now and carries out its actions (see the module
        docs), or queues it behind what is being carried out."""
        if self.held:
            self.inbox.append(item)
            return
        if not self.active:
            self._late(item)
            return
        self.held = True
        try:
            left = self._carry(self._feed(self._time(), item), False)
        except BaseException as exc:  # noqa: BLE001 - raised to the caller
            # A broken clock, a listener's KeyboardInterrupt: as if it had
            # happened in the caller's coroutine.
            self.failure = exc
            self._abandon()
            left = _LEFT
        if left is _LEFT:
            self._wake()
        else:
            self.held = False
            inline = self.inline
            if inline is not None and not inline.driving:
                # A timer started an attempt in the caller's task and it
                # suspended: the caller takes it on.
                self._wake()

    def _wake(self) -> None:
        wake = self.wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _feed(self, now: int, item: Tuple[int, int, Any]) -> Tuple[int, ...]:
        what, n, x = item
        native = self.native
        if what == _TIMER:
            self.at = now
            return native.fired(now, n) if self.timers.pop(n, None) is not None else ()
        if what == _FALLBACK_DONE:
            self.fb_task = None
            ok = self._fallback_outcome(x)
            return native.fallback_ended(now, ok)  # type: ignore[no-any-return]
        self.tasks.pop(n, None)
        self.calls.pop(n, None)
        if n in self.aborted:
            return native.stopped(n)  # type: ignore[no-any-return]
        self.outcomes[n] = x
        if what == _RETURNED:
            return native.ended(now, n, SUCCESS)  # type: ignore[no-any-return]
        # A CancelledError nobody asked for is the run's own: like any
        # non-Exception from a run it reaches the caller unchanged (the
        # run's own object) with no fallback.
        return native.ended(now, n, _outcome_of(self.target.is_bad, x))  # type: ignore[no-any-return]

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
        self.held = False
        for fut in self.timers.values():
            fut.cancel()
        self.timers.clear()
        self.due.clear()
        self.vdue.clear()
        while self.inbox:
            self._late(self.inbox.popleft())

    def _abandon(self) -> None:
        self.active = False
        self.held = False
        for fut in self.timers.values():
            fut.cancel()
        self.timers.clear()
        self.due.clear()
        self.vdue.clear()
        self.inbox.clear()
        self.early = None
        self.todo = []
        self.abandoned = True
        for attempt, task in list(self.tasks.items()):
            if task.done():
                del self.tasks[attempt]
            else:
                self.calls[attempt].cancelled.set()
                if self.told is None or attempt not in self.told:
                    task.cancel()
        inline = self.inline
        if inline is not None:
            self.aborted.add(inline.attempt)
            self.calls[inline.attempt].cancelled.set()
            if inline.driving:
                # The caller's task raises what went wrong once the run has
                # seen its cancellation (or detached it).
                inline.stop()
            elif self._stop_now(inline):
                self.calls.pop(inline.attempt, None)
        if self.fb_task is not None and self.fb_task.done():
            _retrieve(self.fb_task)
            self.fb_task = None
        self._release_if_idle()

    def _release_if_idle(self) -> None:
        if self.native is not None and not self.tasks and self.fb_task is None and self.inline is None:
            self.native.release()

    def _late(self, item: Tuple[int, int, Any]) -> None:
        what, n, x = item
        if what == _TIMER:
            return
        if what == _FALLBACK_DONE:
            self.fb_task = None
            ok = not x.cancelled() and x.exception() is None
            if not self.abandoned:
                try:
                    now = self._time()
                except BaseException:  # noqa: BLE001 - a bad clock: release, record nothing
                    self.native.release()
                    return
                self.native.fallback_ended(now, ok)
                return
        else:
            self.tasks.pop(n, None)
            self.calls.pop(n, None)
            if not self.abandoned:
                self.native.stopped(n)
                return
        self._release_if_idle()


#: What ``_carry`` returns outside the caller when it left actions to it.
_LEFT = (-1, 0, 0)


def _retrieve(task: "asyncio.Future[Any]") -> None:
    """Marks a discarded outcome as retrieved (no 'never retrieved' log)."""
    if not task.cancelled():
        task.exception()


def _discard(started: Any) -> None:
    """A run's awaitable that will never be awaited: closed (a coroutine:
    no 'never awaited' warning) or cancelled (a future)."""
    if inspect.iscoroutine(started) or isinstance(started, Rest):
        started.close()
    elif asyncio.isfuture(started):
        started.cancel()


async def execute(target: Target, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """One call under asyncio."""
    return await AsyncCall(target, args, kwargs).execute()
