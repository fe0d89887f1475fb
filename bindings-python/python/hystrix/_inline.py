"""A coroutine attempt run in the caller's own task (Python 3.11+).

A call's attempts that do not overlap (a single attempt, retries) need no
task of their own: the caller's coroutine steps the run itself — each step
in the attempt's own ``contextvars`` copy, so what the run sets stays with
the run — and yields whatever the run waits on to the caller's task. The
run thus starts at once and its end reaches the core in the same step of
the loop, with no task to create and no loop turn to wait for.

Aborting such an attempt (its timeout, a hedge that won, the interpreter
giving up) cancels the caller's task, the way ``asyncio.timeout()`` does:
the ``CancelledError`` reaches the run at its current ``await``, and the
cancellation is taken back (``Task.uncancel()``) once the run has seen it.
A cancellation of the caller's task that is not the interpreter's is told
apart by the task's count of cancellations asked for
(``Task.cancelling()``) beyond the one when the first attempt started: it
is the caller's own (semantics §18) when it comes out of the run as a
``CancelledError``, or when the run catches it and waits again — except
inside a ``TaskGroup``'s exit, whose own cancellation of the task (a child
failed) looks the same until the group is done, and as far as the run's
own ``asyncio.timeout()``s that expired account for it (they take theirs
back when the run leaves them, found with ``gc.get_referrers``, only on
this rare path). A run that catches a
cancellation and ends otherwise has its end taken as it is (it swallowed
the cancellation, as any code of the caller's task can), and the caller's
task is left with the count the run found.

A run that goes on waiting after it was told to stop must not hold the
caller back: it is handed, as it stands, to a task of its own
(``detach``), which steps it to its end while the caller goes on. An
``asyncio.timeout()`` or ``TaskGroup`` the run entered before that stays
bound to the caller's task (see the module docs of ``_asyncio``)."""
import asyncio
import gc
import inspect
import types
from typing import Any, Callable, Dict, Generator, Optional, Tuple

from ._protocol import _CURRENT_CALL, Call

#: The inputs ``drive`` reports (as ``_asyncio`` feeds them): a run's value, its exception.
RETURNED, RAISED = 1, 2

#: What ``drive`` returns: the attempt's end as the interpreter feeds it,
#: ``(what, attempt, value or exception)``, and whether the caller's task
#: was cancelled by someone else meanwhile (its ``CancelledError``).
Ended = Tuple[Optional[Tuple[int, int, Any]], Optional[BaseException]]


class Inline:
    """The attempt run in the caller's task: the run's iterator (stepped in
    ``ctx``), what it last yielded, and the caller's task with its count of
    cancellations when the call started and those the interpreter asked for."""

    __slots__ = ("attempt", "it", "yielded", "ctx", "task", "base", "ours", "driving")

    def __init__(self, attempt: int, it: Any, yielded: Any, ctx: Any, task: "asyncio.Task[Any]", base: int):
        self.attempt = attempt
        self.it = it
        self.yielded = yielded
        self.ctx = ctx
        self.task = task
        self.base = base
        #: Cancellations of ``task`` the interpreter asked for, not taken back yet.
        self.ours = 0
        #: Whether ``task`` waits (in ``drive``) for what the run yielded.
        self.driving = False

    def stop(self) -> None:
        """Tells the run, which ``task`` waits for, to stop: cancels the
        caller's task (once)."""
        if self.ours == 0:
            self.ours = 1
            self.task.cancel()

    def throw(self) -> Any:
        """Tells the run, which nothing waits for, to stop: what it waited
        on is cancelled and a ``CancelledError`` thrown into it now. What it
        yields next, if it goes on; ``StopIteration`` or its exception if
        it ends."""
        yielded = self.yielded
        if asyncio.isfuture(yielded):
            yielded.cancel()
        return self.ctx.run(self.it.throw, asyncio.CancelledError())

    def settle_cancels(self) -> bool:
        """Takes back the interpreter's cancellations the run has seen;
        whether the caller's task is still being cancelled by someone else."""
        task = self.task
        while self.ours:
            self.ours -= 1
            task.uncancel()
        return task.cancelling() > self.base


#: How an attempt's start went: it ended, it gave an awaitable for a task, it suspended.
ENDED, AWAITABLE, SUSPENDED = 0, 1, 2


def start(
    call: Call, run: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]
) -> Tuple[int, Any, Any]:
    """Starts an attempt in the caller's task, in its own context
    (``ctx.run(start, ...)``): makes ``call`` current, calls ``run`` and
    steps what it returns up to its first suspension. ``(ENDED, value,
    None)`` or ``(SUSPENDED, iterator, yielded)``; what the run raises
    propagates."""
    _CURRENT_CALL.set(call)
    started = run(*args, **kwargs)
    if not inspect.isawaitable(started):
        return ENDED, started, None
    it = iterator(started)
    try:
        return SUSPENDED, it, it.send(None)
    except StopIteration as stop:
        return ENDED, stop.value, None


def iterator(started: Any) -> Any:
    """What steps the awaitable ``started``: a coroutine itself, else a
    coroutine awaiting it (so that its ``__await__`` is called, and fails,
    exactly as under ``await``, as part of the run)."""
    if type(started) is types.CoroutineType:
        return started
    return _awaiting(started)


async def _awaiting(awaitable: Any) -> Any:
    return await awaitable


@types.coroutine
def drive(call: Any, inline: Inline, thrown: Optional[BaseException] = None) -> Generator[Any, Any, Any]:
    """Steps ``inline``'s run in the caller's task until it ends or is
    detached, first throwing ``thrown`` into it if given (a cancellation
    of the caller's task that came before); returns ``(item, cancel)``
    (see ``Ended``). ``call`` is the ``AsyncCall``: its
    ``detach(inline)`` hands the run to a task; its ``aborted`` set says
    which attempts the core cancelled."""
    it = inline.it
    run_in = inline.ctx.run
    yielded = inline.yielded
    told: Optional[BaseException] = None  # a CancelledError that reached the run
    attempt = inline.attempt
    while True:
        if thrown is None:
            inline.driving = True
            try:
                value = yield yielded
            except BaseException as exc:  # noqa: BLE001 - thrown into the run, as its task would
                thrown = exc
            inline.driving = False
        if thrown is not None:
            if isinstance(thrown, asyncio.CancelledError):
                told = thrown
            step, arg = it.throw, thrown
            thrown = None
        else:
            step, arg = it.send, value
        try:
            yielded = run_in(step, arg)
        except StopIteration as stop:
            return _ended(call, inline, told, (RETURNED, attempt, stop.value))
        except BaseException as exc:  # noqa: BLE001 - the attempt's end, fed by the caller
            return _ended(call, inline, told, (RAISED, attempt, exc))
        if told is not None:
            # The run caught a cancellation and waits again.
            cancelled = inline.settle_cancels()
            if attempt in call.aborted or (cancelled and not _in_task_group_exit(it) and _callers(inline)):
                inline.yielded = yielded
                call.detach(inline)
                return None, (told if cancelled else None)
            if not cancelled:
                told = None


#: The code of ``asyncio.TaskGroup.__aexit__`` (Python 3.11+), if any.
_TASK_GROUP_EXIT = getattr(getattr(getattr(asyncio, "TaskGroup", None), "__aexit__", None), "__code__", None)


def _in_task_group_exit(it: Any) -> bool:
    """Whether the run waits in a ``TaskGroup``'s exit. A task group a run
    opened cancels the task it runs in when a child fails, waits there for
    its other children, then takes the cancellation back: until then it
    looks like the caller's own cancellation (the run caught one and waits
    again, the task's count is up), so the run goes on in the caller's task
    and its end decides."""
    aw = it
    while aw is not None:
        code = getattr(aw, "cr_code", None)
        if code is None:
            return False
        if code is _TASK_GROUP_EXIT:
            return True
        aw = aw.cr_await
    return False


#: ``asyncio.Timeout`` (Python 3.11+), if any.
_TIMEOUT = getattr(asyncio, "Timeout", None)


def _callers(inline: Inline) -> bool:
    """Whether the cancellations of the caller's task beyond the call's
    count are more than the run's own ``asyncio.timeout()``s that expired
    and have not taken theirs back yet (they wait for the run to leave
    them: a run cleaning up inside one waits again meanwhile). Looked up
    only when a run caught a cancellation and waits again."""
    task = inline.task
    excess = task.cancelling() - inline.base
    if _TIMEOUT is not None:
        for ref in gc.get_referrers(task):
            if type(ref) is _TIMEOUT and getattr(getattr(ref, "_state", None), "value", None) == "expiring":
                excess -= 1
    return excess > 0


def _ended(call: Any, inline: Inline, told: Optional[BaseException], item: Tuple[int, int, Any]) -> Ended:
    """The run ended with ``item``; a caller's cancellation that reached
    it (``told``, the ``CancelledError`` the run was given) comes with it."""
    call.inline = None
    if told is None:
        return item, None
    cancelled = inline.settle_cancels()
    if cancelled and item[0] == RAISED and isinstance(item[2], asyncio.CancelledError):
        # The caller's cancellation came out of the run: the call is
        # cancelled (§18); an attempt the core had already cancelled is
        # only reported stopped.
        return (item if item[1] in call.aborted else None), item[2]
    # Otherwise the run ended its own way: a cancellation it caught and
    # did not pass on was its own business, as it would be in a task of
    # its own, and so is what the count still holds (a task group of the
    # run whose child failed leaves it up on CPython 3.11 and 3.12.1):
    # the caller's task is left as the run found it.
    task = inline.task
    while task.cancelling() > inline.base:
        task.uncancel()
    return item, None


class Rest:
    """A detached run's remaining steps, awaited by its own task: first
    waits for what the run last yielded, then steps it (in the task's
    context, the attempt's) to its end. ``close()`` closes the run."""

    __slots__ = ("it", "yielded")

    def __init__(self, it: Any, yielded: Any):
        self.it = it
        self.yielded = yielded

    def close(self) -> None:
        self.it.close()

    def __await__(self) -> Generator[Any, Any, Any]:
        it = self.it
        yielded = self.yielded
        while True:
            try:
                value = yield yielded
            except BaseException as exc:  # noqa: BLE001 - thrown into the run, as its task would
                try:
                    yielded = it.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    yielded = it.send(value)
                except StopIteration as stop:
                    return stop.value
