"""Hostile and unusual host values and call patterns, on every isolation
(semaphore, thread, asyncio). After every scenario the snapshot must show
every permit and fallback slot back and the counts adding up.

Comments marked ``# Fixed`` describe bugs these tests found; ``# BUG (known, open)``
marks xfail(strict=True) tests of bugs not fixed yet."""
import asyncio
import collections
import gc
import sys
import threading
import time

import hystrix
import pytest
from conftest import WAIT_S, Boom, counts, wait_until
from hystrix.testing import VirtualClock

MODES = ["semaphore", "thread", "async"]
EXECUTION_EVENTS = (
    "SUCCESS",
    "FAILURE",
    "TIMEOUT",
    "BAD_REQUEST",
    "SHORT_CIRCUITED",
    "SEMAPHORE_REJECTED",
    "CANCELLED",
)
FALLBACK_EVENTS = (
    "FALLBACK_SUCCESS",
    "FALLBACK_FAILURE",
    "FALLBACK_REJECTION",
    "FALLBACK_MISSING",
    "FALLBACK_DISABLED",
)


class Stop(BaseException):
    """A custom non-Exception BaseException."""


class BadStr(Exception):
    """An exception whose ``__str__`` and ``__repr__`` raise."""

    def __str__(self):
        raise ValueError("no str for you")

    def __repr__(self):
        raise ValueError("no repr for you")


class Unhashable(Exception):
    __hash__ = None

    def __eq__(self, other):
        raise RuntimeError("do not compare me")


def cyclic(msg="cyclic"):
    a, b = Boom(msg + "-a"), Boom(msg + "-b")
    a.__cause__, b.__cause__ = b, a
    a.__context__, b.__context__ = b, a
    return a


def make(run, fallback=None, mode="semaphore", **kw):
    kw.setdefault("clock", VirtualClock())
    return hystrix.Command(run, fallback, isolation="thread" if mode == "thread" else "semaphore", **kw)


def run_loop(coro):
    """Runs ``coro`` on a fresh loop, bounded by WAIT_S. Unlike asyncio.run, it
    retrieves the exception of a task that a KeyboardInterrupt/SystemExit
    escaped from (asyncio would log "Task exception was never retrieved" at
    some later garbage collection, whatever the library does)."""
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(coro)
        bound = loop.call_later(WAIT_S, task.cancel)
        try:
            return loop.run_until_complete(task)
        finally:
            bound.cancel()
            if task.done() and not task.cancelled():
                task.exception()
            pending = asyncio.all_tasks(loop)
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def call(cmd, mode, /, *args, **kwargs):
    """Executes ``cmd`` the way ``mode`` says; async on a fresh loop, bounded."""
    if mode == "async":
        return run_loop(cmd.execute_async(*args, **kwargs))
    return cmd.execute(*args, **kwargs)


def assert_settled(cmd, calls=None):
    """Every permit and fallback slot is back; each call recorded exactly one
    execution event and at most one fallback event."""
    snap = cmd.snapshot()
    assert snap["concurrent"] == 0, snap
    assert snap["fallback_concurrent"] == 0, snap
    cum = snap["cumulative"]
    executions = sum(cum[e] for e in EXECUTION_EVENTS)
    fallbacks = sum(cum[e] for e in FALLBACK_EVENTS)
    assert fallbacks <= executions, cum
    if calls is not None:
        assert executions == calls, cum


@pytest.fixture
def unraisable(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append((u.exc_type, u.exc_value, u.object)))
    return seen


# --- non-Exception BaseExceptions ----------------------------------------------------------


BASE_EXCEPTIONS = [KeyboardInterrupt, SystemExit, GeneratorExit, Stop]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("exc_type", BASE_EXCEPTIONS)
def test_base_exception_from_a_sync_run_reaches_the_caller_unchanged(mode, exc_type):
    raised = exc_type("from run")

    def run():
        raise raised

    _assert_reaches_the_caller_as_a_bad_request(run, mode, raised)


@pytest.mark.parametrize("exc_type", [GeneratorExit, Stop])
def test_base_exception_from_a_coroutine_run_reaches_the_caller_unchanged(exc_type):
    raised = exc_type("from coroutine")

    async def run():
        await asyncio.sleep(0)
        raise raised

    _assert_reaches_the_caller_as_a_bad_request(run, "async", raised)


def _assert_reaches_the_caller_as_a_bad_request(run, mode, raised):
    """A call of ``run`` raises ``raised`` itself, skips the fallback and
    records one BAD_REQUEST."""
    fallback_calls = []
    cmd = make(run, lambda e: fallback_calls.append(e) or "fb", mode)
    with pytest.raises(type(raised)) as info:
        call(cmd, mode)
    assert info.value is raised
    assert fallback_calls == []
    assert counts(cmd) == {"BAD_REQUEST": 1}
    assert_settled(cmd, calls=1)


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_interrupt_inside_the_run_task_escapes_the_loop_and_frees_the_permit(exc_type):
    async def run():
        await asyncio.sleep(0)
        raise exc_type("inside the task")

    cmd = make(run, lambda e: "fb", max_concurrent_requests=1)
    with pytest.raises(exc_type):
        run_loop(cmd.execute_async())
    gc.collect()
    assert_settled(cmd)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("exc_type", BASE_EXCEPTIONS)
def test_base_exception_from_the_fallback_propagates_and_frees_the_slot(mode, exc_type):
    raised = exc_type("from fallback")

    def run():
        raise Boom("run")

    def fallback(err):
        raise raised

    cmd = make(run, fallback, mode, fallback_max_concurrent_requests=1)
    # A leaked fallback slot would turn the later calls into FallbackRejectedError.
    for _ in range(3):
        with pytest.raises(exc_type) as info:
            call(cmd, mode)
        assert info.value is raised
    assert_settled(cmd, calls=3)


def test_base_exception_from_an_async_fallback_frees_the_slot():
    async def run():
        raise Boom("run")

    async def fallback(err):
        await asyncio.sleep(0)
        raise Stop("async fallback")

    cmd = make(run, fallback, fallback_max_concurrent_requests=1)
    for _ in range(3):
        with pytest.raises(Stop):
            call(cmd, "async")
    assert_settled(cmd, calls=3)


# Fixed (found by these tests): a fallback raising a non-Exception was
# recorded as FALLBACK_FAILURE with semaphore isolation but not at all
# (abandoned) with thread isolation and asyncio.
@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, Stop])
def test_base_exception_from_the_fallback_records_the_same_events_on_every_isolation(exc_type):
    def run():
        raise Boom("run")

    def fallback(err):
        raise exc_type("fallback")

    seen = {}
    for mode in MODES:
        cmd = make(run, fallback, mode)
        with pytest.raises(exc_type):
            call(cmd, mode)
        seen[mode] = counts(cmd)
    assert seen["thread"] == seen["semaphore"] == seen["async"], seen


# --- exceptions that are hard to handle ----------------------------------------------------


HOSTILE_EXCEPTIONS = {
    "bad_str": lambda: BadStr(),
    "unhashable": lambda: Unhashable("u"),
    "cyclic": cyclic,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", sorted(HOSTILE_EXCEPTIONS))
def test_hostile_run_exception_without_fallback_is_the_same_object(mode, kind):
    raised = HOSTILE_EXCEPTIONS[kind]()

    def run():
        raise raised

    cmd = make(run, None, mode)
    with pytest.raises(type(raised)) as info:
        call(cmd, mode)
    assert info.value is raised
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_MISSING": 1}
    assert_settled(cmd, calls=1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", sorted(HOSTILE_EXCEPTIONS))
def test_hostile_run_exception_reaches_the_fallback_unchanged(mode, kind):
    raised = HOSTILE_EXCEPTIONS[kind]()
    received = []

    def run(x):
        raise raised

    def fallback(err, x):
        received.append(err)
        return ("fb", x)

    cmd = make(run, fallback, mode)
    assert call(cmd, mode, 7) == ("fb", 7)
    assert received[0] is raised
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_SUCCESS": 1}
    assert_settled(cmd, calls=1)


# "unprintable": Fixed (found by these tests): FallbackFailedError.__init__
# formatted repr() of both errors, so an error whose __repr__ raises replaced
# the FallbackFailedError with that ValueError.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["unhashable", "cyclic", "unprintable"])
def test_hostile_fallback_exception_is_wrapped_with_both_errors(mode, kind):
    make_error = BadStr if kind == "unprintable" else HOSTILE_EXCEPTIONS[kind]
    original = make_error()
    from_fallback = make_error()

    def run():
        raise original

    def fallback(err):
        raise from_fallback

    cmd = make(run, fallback, mode)
    with pytest.raises(hystrix.FallbackFailedError) as info:
        call(cmd, mode)
    assert info.value.original is original
    assert info.value.fallback_error is from_fallback
    assert info.value.__cause__ is from_fallback
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_FAILURE": 1}
    assert_settled(cmd, calls=1)


# Fixed (found by these tests): FallbackRejectedError.__init__ formats repr(original): an original whose
# __repr__ raises turns the rejection into a bare ValueError.
@pytest.mark.parametrize("mode", ["semaphore", "thread"])
def test_fallback_rejection_with_an_unprintable_error_is_still_a_fallback_rejected_error(mode):
    original = BadStr()
    in_fallback, release = threading.Event(), threading.Event()

    def run(hold=False):
        raise original

    def fallback(err, hold=False):
        if hold:
            in_fallback.set()
            release.wait(WAIT_S)
        return "fb"

    cmd = make(run, fallback, mode, fallback_max_concurrent_requests=1)
    holder = threading.Thread(target=lambda: cmd.execute(hold=True), daemon=True)
    holder.start()
    try:
        assert in_fallback.wait(WAIT_S)
        with pytest.raises(hystrix.FallbackRejectedError) as info:
            cmd.execute()
        assert info.value.original is original
    finally:
        release.set()
        holder.join(WAIT_S)
    assert_settled(cmd, calls=2)


# --- is_bad_request classifiers that misbehave ---------------------------------------------


def _raising_classifier(exc):
    raise ZeroDivisionError("classifier broke")


class _BoolRaises:
    def __bool__(self):
        raise ZeroDivisionError("__bool__ broke")


CLASSIFIERS = {"raises": _raising_classifier, "bool_raises": lambda exc: _BoolRaises()}


# Fixed (found by these tests; thread, async): a classifier that raises replaces the run's exception
# with the classifier's, records nothing, and the run's permit stays held for
# as long as the caller keeps that exception (its traceback keeps the native
# execution alive). Semaphore isolation reports the classifier's error through
# sys.unraisablehook and settles the call as a FAILURE.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("classifier", sorted(CLASSIFIERS))
def test_a_broken_classifier_neither_hides_the_run_error_nor_holds_the_permit(mode, classifier, unraisable):
    raised = Boom("run")

    def run():
        raise raised

    cmd = make(run, None, mode, is_bad_request=CLASSIFIERS[classifier])
    caught = None
    try:
        call(cmd, mode)
    except BaseException as exc:  # noqa: BLE001 - inspected below
        caught = exc
    # The caller still holds what it caught: the permit must be back anyway.
    assert cmd.snapshot()["concurrent"] == 0
    assert caught is raised
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_MISSING": 1}
    assert [t for t, _, _ in unraisable] == [ZeroDivisionError]


# Fixed (found by these tests; semaphore): a KeyboardInterrupt raised inside
# the classifier was swallowed (written to sys.unraisablehook) instead of
# reaching the caller.
@pytest.mark.parametrize("mode", MODES)
def test_keyboard_interrupt_in_the_classifier_is_not_swallowed(mode, unraisable):
    def run():
        raise Boom("run")

    def classifier(exc):
        raise KeyboardInterrupt("ctrl-c while classifying")

    cmd = make(run, None, mode, is_bad_request=classifier)
    with pytest.raises(KeyboardInterrupt):
        call(cmd, mode)
    gc.collect()
    assert_settled(cmd)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("verdict", [1, "yes", [0], object()])
def test_truthy_non_bool_classifier_results_mean_bad_request(mode, verdict):
    raised = Boom("caller's fault")

    def run():
        raise raised

    cmd = make(run, lambda e: "fb", mode, is_bad_request=lambda e: verdict)
    with pytest.raises(Boom) as info:
        call(cmd, mode)
    assert info.value is raised
    assert counts(cmd) == {"BAD_REQUEST": 1}
    assert_settled(cmd, calls=1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("verdict", [0, "", [], None])
def test_falsy_non_bool_classifier_results_mean_failure(mode, verdict):
    cmd = make(lambda: (_ for _ in ()).throw(Boom("x")), lambda e: "fb", mode, is_bad_request=lambda e: verdict)
    assert call(cmd, mode) == "fb"
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_SUCCESS": 1}
    assert_settled(cmd, calls=1)


# --- asyncio: odd awaitables and cancellation ----------------------------------------------


class AwaitRaises:
    def __init__(self, exc):
        self.exc = exc

    def __await__(self):
        raise self.exc


class AwaitNotAnIterator:
    def __await__(self):
        return 42


def test_awaitable_whose_await_raises_is_a_failure_with_that_exception():
    raised = Boom("__await__")
    cmd = make(lambda: AwaitRaises(raised), None)
    with pytest.raises(Boom) as info:
        call(cmd, "async")
    assert info.value is raised
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_MISSING": 1}
    assert_settled(cmd, calls=1)


def test_awaitable_whose_await_returns_a_non_iterator_is_a_failure():
    received = []
    cmd = make(lambda: AwaitNotAnIterator(), lambda e: received.append(e) or "fb")
    assert call(cmd, "async") == "fb"
    assert isinstance(received[0], TypeError)
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_SUCCESS": 1}
    assert_settled(cmd, calls=1)


def test_awaitable_that_yields_forever_and_ignores_cancel_keeps_its_permit_until_it_stops(capfd):
    class Forever:
        stop = False
        cancels = 0

        def __await__(self):
            while not self.stop:
                try:
                    yield
                except asyncio.CancelledError:
                    self.cancels += 1
            return "late"

    async def main():
        clock = VirtualClock()
        aw = Forever()
        cmd = hystrix.Command(lambda: aw, lambda e: type(e).__name__, clock=clock, timeout_ms=100)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(100)
        assert task.done() and task.result() == "TimeoutError"
        assert aw.cancels == 1
        assert cmd.snapshot()["concurrent"] == 1
        aw.stop = True
        for _ in range(20):
            await asyncio.sleep(0)
        assert_settled(cmd, calls=1)
        assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}

    asyncio.run(asyncio.wait_for(main(), WAIT_S))
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("late", ["value", "exception"])
def test_coroutine_swallowing_cancellation_repeatedly_settles_once(late, capfd):
    async def main():
        clock = VirtualClock()
        swallowed = []

        async def stubborn():
            for _ in range(3):
                try:
                    await clock.sleep(1000)
                except asyncio.CancelledError:
                    swallowed.append(True)
            if late == "exception":
                raise Boom("too late")
            return "too late"

        cmd = hystrix.Command(stubborn, lambda e: "fb", clock=clock, timeout_ms=100, max_concurrent_requests=1)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(100)
        assert task.result() == "fb"
        assert cmd.snapshot()["concurrent"] == 1
        # The bulkhead is still full while the run goes on.
        assert await cmd.execute_async() == "fb"
        assert counts(cmd)["SEMAPHORE_REJECTED"] == 1
        await clock.advance_async(5000)
        assert swallowed == [True]
        assert_settled(cmd, calls=2)
        assert counts(cmd) == {"TIMEOUT": 1, "SEMAPHORE_REJECTED": 1, "FALLBACK_SUCCESS": 2}

    asyncio.run(asyncio.wait_for(main(), WAIT_S))
    assert capfd.readouterr().err == ""


def test_caller_cancelled_while_run_swallows_cancellation_keeps_permit_until_run_ends():
    async def main():
        clock = VirtualClock()
        release = asyncio.Event()

        async def stubborn():
            while not release.is_set():
                try:
                    await release.wait()
                except asyncio.CancelledError:
                    pass
            return 1

        cmd = hystrix.Command(stubborn, lambda e: "fb", clock=clock, timeout_ms=100)
        task = asyncio.ensure_future(cmd.execute_async())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cmd.snapshot()["concurrent"] == 1
        release.set()
        for _ in range(20):
            await asyncio.sleep(0)
        # A caller cancellation (semantics §18): CANCELLED, nothing else.
        assert_settled(cmd, calls=1)
        assert counts(cmd) == {"CANCELLED": 1}

    asyncio.run(asyncio.wait_for(main(), WAIT_S))


# Fixed (found by these tests): a coroutine run that raised CancelledError itself (nobody cancelled the
# caller) was recorded as FAILURE and the caller got a *new* CancelledError
# (message lost), unlike the thread/semaphore isolations where the run's own
# non-Exception reaches the caller unchanged as a BAD_REQUEST. The caller also
# could not tell it from its own cancellation.
def test_coroutine_raising_its_own_cancelled_error_reaches_the_caller_unchanged():
    raised = asyncio.CancelledError("the run's own")

    async def run():
        raise raised

    cmd = make(run, None)

    async def main():
        try:
            await cmd.execute_async()
        except asyncio.CancelledError as exc:
            return exc
        return None

    got = asyncio.run(asyncio.wait_for(main(), WAIT_S))
    assert got is raised
    assert_settled(cmd, calls=1)


# A run raising StopIteration: sync isolations give the caller the
# StopIteration itself. Under asyncio no coroutine can raise it (PEP 479
# turns it into RuntimeError; asyncio futures refuse it too), so the caller
# gets RuntimeError caused by the run's own StopIteration, as from any
# `async def` (documented on execute_async). Either way the call is counted
# as the run's failure and settled once.
def test_stop_iteration_from_a_sync_run_reaches_the_caller():
    raised = StopIteration("done")

    def run():
        raise raised

    for mode in ["semaphore", "thread"]:
        cmd = make(run, None, mode)
        with pytest.raises(StopIteration) as info:
            call(cmd, mode)
        assert info.value is raised
        assert counts(cmd) == {"FAILURE": 1, "FALLBACK_MISSING": 1}
        assert_settled(cmd, calls=1)
    cmd = make(run, None)
    with pytest.raises(RuntimeError) as rt:
        call(cmd, "async")
    assert rt.value.__cause__ is raised
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_MISSING": 1}
    assert_settled(cmd, calls=1)


def test_async_fallback_with_odd_awaitables_fails_as_fallback_failure():
    async def run():
        raise Boom("run")

    for bad, expected in [(AwaitRaises(Boom("fb await")), Boom), (AwaitNotAnIterator(), TypeError)]:
        cmd = make(run, lambda e, bad=bad: bad)
        with pytest.raises(hystrix.FallbackFailedError) as info:
            call(cmd, "async")
        assert isinstance(info.value.fallback_error, expected)
        assert counts(cmd) == {"FAILURE": 1, "FALLBACK_FAILURE": 1}
        assert_settled(cmd, calls=1)


def test_sync_run_returning_a_coroutine_in_execute_async_is_awaited():
    async def inner(x):
        await asyncio.sleep(0)
        return x * 3

    cmd = make(lambda x: inner(x), None)
    assert call(cmd, "async", 5) == 15
    assert counts(cmd) == {"SUCCESS": 1}


# --- arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 40])
def test_many_positional_and_keyword_arguments_reach_run_and_fallback_in_order(mode, n):
    args = tuple(object() for _ in range(n))
    kwargs = {f"k{i}": object() for i in range(n)}
    kwargs.update({"args": "a", "kwargs": "k", "error": "e", "fn": "f"})
    seen = {}

    def run(*a, **kw):
        seen["run"] = (a, kw)
        raise Boom("go to fallback")

    def fallback(err, *a, **kw):
        seen["fallback"] = (err, a, kw)
        return "fb"

    cmd = make(run, fallback, mode)
    assert call(cmd, mode, *args, **kwargs) == "fb"
    assert seen["run"][0] == args and all(x is y for x, y in zip(seen["run"][0], args))
    assert seen["run"][1] == kwargs
    err, fa, fkw = seen["fallback"]
    assert isinstance(err, Boom)
    assert fa == args and all(x is y for x, y in zip(fa, args))
    assert fkw == kwargs and list(fkw) == list(kwargs)
    assert_settled(cmd, calls=1)


# Fixed (found by these tests; thread, async): Command.execute/execute_async are declared
# ``(self, *args, **kwargs)`` without a positional-only marker, so a keyword
# argument named ``self`` meant for the run raises TypeError ("got multiple
# values for argument 'self'"); semaphore isolation passes it through.
@pytest.mark.parametrize("mode", MODES)
def test_a_keyword_argument_named_self_reaches_the_run(mode):
    cmd = make(lambda **kw: kw, None, mode)
    assert call(cmd, mode, self="me", cmd="c", mode="m") == {"self": "me", "cmd": "c", "mode": "m"}
    assert_settled(cmd, calls=1)


@pytest.mark.parametrize("mode", MODES)
def test_arguments_reach_the_fallback_after_a_short_circuit(mode):
    seen = []
    cmd = make(lambda *a, **k: 1, lambda e, *a, **k: seen.append((type(e), a, k)) or "fb", mode, force_open=True)
    for _ in range(3):
        assert call(cmd, mode, 1, 2, 3, z=4) == "fb"
    assert seen == [(hystrix.CircuitOpenError, (1, 2, 3), {"z": 4})] * 3
    assert_settled(cmd, calls=3)


# --- listeners -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("exc_type", [RuntimeError, BadStr])
def test_raising_listeners_are_logged_and_counted_never_propagated(mode, exc_type, caplog):
    def run(fail):
        if fail:
            raise Boom("x")
        return "ok"

    cmd = make(run, None, mode, request_volume_threshold=1, health_snapshot_interval_ms=0)

    def listener(*a):
        raise exc_type()

    cmd.on_event(listener)
    cmd.on_state_change(listener)
    assert call(cmd, mode, False) == "ok"
    with pytest.raises(Boom):
        call(cmd, mode, True)
    with pytest.raises(hystrix.CircuitOpenError):
        call(cmd, mode, False)
    # SUCCESS, FAILURE, FALLBACK_MISSING, closed->open, SHORT_CIRCUITED, FALLBACK_MISSING
    logged = [r for r in caplog.records if r.name == "hystrix" and r.levelname == "ERROR"]
    assert [r.exc_info[0] for r in logged] == [exc_type] * 6
    assert cmd.snapshot()["listener_panics"] == 6
    assert_settled(cmd, calls=3)


# Fixed (issue 11.9): a listener's KeyboardInterrupt or SystemExit was
# swallowed (written to sys.unraisablehook) — a lost Ctrl-C. It now reaches
# the caller, as from a run or a fallback, and the call is still settled.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("exc_type", [SystemExit, KeyboardInterrupt, Stop])
@pytest.mark.parametrize("topic", ["event", "state"])
def test_interrupts_in_listeners_reach_the_caller(mode, exc_type, topic, unraisable):
    def run(fail):
        if fail:
            raise Boom("x")
        return "ok"

    cmd = make(run, lambda e, fail: "fb", mode, request_volume_threshold=1, health_snapshot_interval_ms=0)
    armed = [False]

    def listener(*a):
        if armed[0]:
            armed[0] = False
            raise exc_type()

    (cmd.on_event if topic == "event" else cmd.on_state_change)(listener)
    armed[0] = True
    # The event listener interrupts at the run's outcome, the state one at the trip.
    with pytest.raises(exc_type):
        call(cmd, mode, topic == "state")
    assert unraisable == []
    assert_settled(cmd, calls=1)
    assert call(cmd, mode, False) == ("ok" if topic == "event" else "fb")
    assert_settled(cmd, calls=2)


@pytest.mark.parametrize("mode", MODES)
def test_listeners_reenter_execute_configure_and_snapshot(mode):
    def run(fail=True):
        if fail:
            raise Boom("x")
        return "ok"

    cmd = make(
        run,
        lambda e, fail=True: "fb",
        mode,
        request_volume_threshold=1,
        health_snapshot_interval_ms=0,
        sleep_window_ms=10,
    )
    log = []
    depth = [0]

    def on_event(name, event, at):
        log.append(event)
        if depth[0] == 0 and event == "FAILURE":
            depth[0] += 1
            try:
                log.append(("nested", call(cmd, mode, fail=False) if mode != "async" else cmd.execute(fail=False)))
                cmd.configure(timeout_ms=500)
                log.append(("state", cmd.snapshot()["state"]))
            finally:
                depth[0] -= 1

    def on_state(name, frm, to, at):
        log.append((frm, to, cmd.snapshot()["state"]))
        cmd.configure(sleep_window_ms=20)

    cmd.on_event(on_event)
    cmd.on_state_change(on_state)
    assert call(cmd, mode) == "fb"
    assert log == [
        "FAILURE",
        ("closed", "open", "open"),
        "SHORT_CIRCUITED",
        "FALLBACK_SUCCESS",
        ("nested", "fb"),
        ("state", "open"),
        "FALLBACK_SUCCESS",
    ]
    assert cmd.circuit.config()["timeout_ms"] == 500
    assert cmd.circuit.config()["sleep_window_ms"] == 20
    assert_settled(cmd, calls=2)


@pytest.mark.parametrize("mode", MODES)
def test_listeners_unsubscribing_themselves_and_others_mid_dispatch(mode):
    cmd = make(lambda: 1, None, mode)
    log = []
    ids = {}

    def first(n, e, t):
        log.append("first")
        assert cmd.circuit.unsubscribe(ids["first"]) is True
        assert cmd.circuit.unsubscribe(ids["second"]) is True
        assert cmd.circuit.unsubscribe(ids["first"]) is False

    def second(n, e, t):
        log.append("second")

    def third(n, e, t):
        log.append("third")
        if "fourth" not in ids:
            ids["fourth"] = cmd.on_event(lambda *a: log.append("fourth"))

    ids["first"] = cmd.on_event(first)
    ids["second"] = cmd.on_event(second)
    ids["third"] = cmd.on_event(third)
    call(cmd, mode)
    assert log[0] == "first" and "third" in log and "fourth" not in log
    log.clear()
    call(cmd, mode)
    assert log == ["third", "fourth"]
    assert cmd.circuit.unsubscribe(ids["third"]) and cmd.circuit.unsubscribe(ids["fourth"])
    log.clear()
    call(cmd, mode)
    assert log == []
    assert cmd.circuit.unsubscribe(10**15) is False
    assert_settled(cmd, calls=3)


def test_listener_on_a_timed_out_threaded_run_reentering_the_command():
    clock = VirtualClock()
    release = threading.Event()
    started = threading.Event()

    def run(block):
        if block:
            started.set()
            release.wait(WAIT_S)
        return "run"

    cmd = hystrix.Command(run, lambda e, block: "fb", clock=clock, isolation="thread", timeout_ms=100)
    nested = []

    def listener(name, event, at):
        if event == "TIMEOUT":
            nested.append(cmd.execute(False))
            nested.append(cmd.snapshot()["concurrent"])

    cmd.on_event(listener)
    advancer = threading.Thread(target=lambda: started.wait(WAIT_S) and clock.advance(100), daemon=True)
    advancer.start()
    assert cmd.execute(True) == "fb"
    advancer.join(WAIT_S)
    assert nested == ["run", 1]
    release.set()
    assert wait_until(lambda: cmd.snapshot()["concurrent"] == 0)
    assert_settled(cmd, calls=2)


# --- configure while calls are in flight ---------------------------------------------------


def _blocked_runs(cmd, n, started):
    threads = []
    for _ in range(n):
        t = threading.Thread(target=cmd.execute, args=(True,), daemon=True)
        t.start()
        threads.append(t)
    assert wait_until(lambda: len(started) == n)
    return threads


def _gated(mode, late_error=None, **config):
    """A command whose ``run(True)`` waits for the returned gate (then raises
    ``late_error``, if given) and whose ``run()`` returns "run" at once."""
    gate = threading.Event()
    started = []

    def run(block=False):
        if block:
            started.append(1)
            gate.wait(WAIT_S)
            if late_error is not None:
                raise late_error
        return "run"

    cmd = make(run, lambda e, block=False: "fb", mode, timeout_enabled=False, **config)
    return cmd, gate, started


@pytest.mark.parametrize("mode", ["semaphore", "thread"])
def test_shrinking_and_growing_the_bulkhead_with_runs_in_flight(mode):
    cmd, gate, started = _gated(mode, max_concurrent_requests=3)
    threads = _blocked_runs(cmd, 3, started)
    assert cmd.snapshot()["concurrent"] == 3
    cmd.configure(max_concurrent_requests=1)
    assert cmd.execute() == "fb"  # 3 in flight > 1
    cmd.configure(max_concurrent_requests=5)
    assert cmd.execute() == "run"  # 3 in flight < 5
    gate.set()
    for t in threads:
        t.join(WAIT_S)
    assert_settled(cmd, calls=5)
    cmd.configure(max_concurrent_requests=1)
    assert cmd.execute() == "run"
    assert counts(cmd) == {"SUCCESS": 5, "SEMAPHORE_REJECTED": 1, "FALLBACK_SUCCESS": 1}


@pytest.mark.parametrize("mode", ["semaphore", "thread"])
def test_reshaping_the_window_and_breaking_config_with_runs_in_flight(mode):
    cmd, gate, started = _gated(mode, Boom("late failure"), max_concurrent_requests=4)
    threads = _blocked_runs(cmd, 2, started)
    cmd.configure(rolling_window_ms=2000, rolling_window_buckets=4)
    with pytest.raises(hystrix.InvalidConfigError) as info:
        cmd.configure(rolling_window_ms=1001)
    assert info.value.key == "rolling_window_ms"
    with pytest.raises(hystrix.InvalidConfigError):
        cmd.configure(max_concurrent_requests=0)
    assert cmd.circuit.config()["max_concurrent_requests"] == 4
    gate.set()
    for t in threads:
        t.join(WAIT_S)
    snap = cmd.snapshot()
    assert snap["rolling"]["FAILURE"] == 2 and snap["rolling"]["FALLBACK_SUCCESS"] == 2
    assert_settled(cmd, calls=2)


def test_timeout_changed_while_a_threaded_run_is_in_flight_applies_to_later_calls():
    clock = VirtualClock()
    gate, started = threading.Event(), threading.Event()

    def run(block=False):
        if block:
            started.set()
            gate.wait(WAIT_S)
        return "run"

    cmd = hystrix.Command(run, lambda e, block=False: "fb", clock=clock, isolation="thread", timeout_ms=100)
    t, out = None, []
    t = threading.Thread(target=lambda: out.append(cmd.execute(True)), daemon=True)
    t.start()
    assert started.wait(WAIT_S)
    cmd.configure(timeout_ms=10_000, timeout_enabled=True)
    clock.advance(100)  # the in-flight call keeps its own deadline
    t.join(WAIT_S)
    assert out == ["fb"]
    gate.set()
    assert wait_until(lambda: cmd.snapshot()["concurrent"] == 0)
    assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}


# Fixed: growing max_concurrent_requests replaces the circuit's worker pool
# and shuts the old one down; a thread-isolated call that had fetched the old
# pool just before submitted to a shut-down executor, and its caller got a raw
# RuntimeError('cannot schedule new futures after shutdown'), recorded
# nowhere. Choosing the pool and submitting now happen under one lock. The
# interleaving is forced with a profiler hook: the first caller is held inside
# the pool's submit while another call grows the bulkhead and runs.
def test_growing_the_bulkhead_never_fails_a_call_with_a_shut_down_pool():
    cmd = hystrix.Command(lambda: "run", isolation="thread", max_concurrent_requests=1, clock=VirtualClock())
    assert cmd.execute() == "run"  # the first pool exists
    reached, proceed = threading.Event(), threading.Event()
    out, second = [], []

    def hook(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "submit" and not reached.is_set():
            reached.set()
            proceed.wait(WAIT_S)

    def caller():
        sys.setprofile(hook)
        try:
            out.append(cmd.execute())
        except BaseException as exc:  # noqa: BLE001 - inspected below
            out.append(exc)
        finally:
            sys.setprofile(None)

    def grower():
        try:
            second.append(cmd.execute())  # builds the new pool, shuts the old one
        except BaseException as exc:  # noqa: BLE001 - inspected below
            second.append(exc)

    t = threading.Thread(target=caller, daemon=True)
    t.start()
    g = threading.Thread(target=grower, daemon=True)
    try:
        assert reached.wait(WAIT_S)
        cmd.configure(max_concurrent_requests=4)
        g.start()
    finally:
        proceed.set()
        t.join(WAIT_S)
        if g.is_alive() or g.ident is not None:
            g.join(WAIT_S)
    gc.collect()
    assert out == ["run"]
    assert second == ["run"]
    assert_settled(cmd, calls=3)


# --- many threads at once ------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["semaphore", "thread"])
def test_many_threads_on_one_command_never_exceed_the_bulkhead_and_counts_add_up(mode):
    limit = 3
    lock = threading.Lock()
    inside = [0]
    peak = [0]

    def run(i):
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        try:
            time.sleep(0.0005)
            if i % 5 == 0:
                raise Boom(i)
            if i % 7 == 0:
                raise hystrix.BadRequest(i)
            return i
        finally:
            with lock:
                inside[0] -= 1

    def fallback(err, i):
        if i % 11 == 0:
            raise ValueError(i)
        return -i

    cmd = make(run, fallback, mode, max_concurrent_requests=limit, circuit_breaker_enabled=False, timeout_enabled=False)
    results = collections.Counter()
    n_threads, per_thread = 8, 60

    def worker(base):
        for k in range(per_thread):
            i = base * per_thread + k
            try:
                v = cmd.execute(i)
                results["run" if v == i else "fallback" if v == -i else "wrong"] += 1
            except hystrix.BadRequest:
                results["bad"] += 1
            except hystrix.FallbackFailedError:
                results["fbfail"] += 1
            except BaseException as exc:  # noqa: BLE001
                results[repr(exc)] += 1

    threads = [threading.Thread(target=worker, args=(b,), daemon=True) for b in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    total = n_threads * per_thread
    assert sum(results.values()) == total
    assert set(results) <= {"run", "fallback", "bad", "fbfail"}, results
    assert peak[0] <= limit
    assert_settled(cmd, calls=total)
    c = cmd.snapshot()["cumulative"]
    assert c["SUCCESS"] == results["run"]
    assert c["BAD_REQUEST"] == results["bad"]
    assert c["FALLBACK_FAILURE"] == results["fbfail"]
    assert c["FALLBACK_SUCCESS"] == results["fallback"]
    assert c["FAILURE"] + c["SEMAPHORE_REJECTED"] == results["fallback"] + results["fbfail"]


def test_many_event_loops_in_threads_share_one_command():
    limit = 2

    async def run(i):
        await asyncio.sleep(0)
        if i % 3 == 0:
            raise Boom(i)
        return i

    cmd = make(
        run, lambda e, i: -i, max_concurrent_requests=limit, circuit_breaker_enabled=False, timeout_enabled=False
    )
    out = collections.Counter()
    counting = threading.Lock()  # `+=` on a Counter is not atomic across threads

    def worker(b):
        async def main():
            for i in range(b * 50, b * 50 + 50):
                v = await cmd.execute_async(i)
                with counting:
                    out["ok" if abs(v) == i else "wrong"] += 1

        asyncio.run(asyncio.wait_for(main(), 60))

    _on_six_threads(worker)
    assert out == {"ok": 300}
    assert_settled(cmd, calls=300)


@pytest.mark.parametrize("mode", ["semaphore", "thread"])
def test_reentrant_execution_from_the_run_is_bounded_by_the_bulkhead(mode):
    depth = [0]

    def run():
        if depth[0] < 5:
            depth[0] += 1
            return cmd.execute()
        return "leaf"

    cmd = make(run, lambda e: "fb", mode, max_concurrent_requests=2)
    assert cmd.execute() == "fb"
    assert counts(cmd) == {"SUCCESS": 2, "SEMAPHORE_REJECTED": 1, "FALLBACK_SUCCESS": 1}
    assert_settled(cmd, calls=3)


def test_reentrant_execution_from_an_async_run_is_bounded_by_the_bulkhead():
    depth = [0]

    async def run():
        if depth[0] < 5:
            depth[0] += 1
            return await cmd.execute_async()
        return "leaf"

    cmd = make(run, lambda e: "fb", max_concurrent_requests=2)
    assert call(cmd, "async") == "fb"
    assert counts(cmd) == {"SUCCESS": 2, "SEMAPHORE_REJECTED": 1, "FALLBACK_SUCCESS": 1}
    assert_settled(cmd, calls=3)


# --- queue() with hostile outcomes ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["semaphore", "thread"])
def test_queue_delivers_base_exceptions_through_the_future(mode):
    raised = Stop("queued")

    def run():
        raise raised

    cmd = make(run, lambda e: "fb", mode)
    fut = cmd.queue()
    assert fut.exception(WAIT_S) is raised
    assert counts(cmd) == {"BAD_REQUEST": 1}
    assert_settled(cmd, calls=1)


# --- listener registration with odd values -------------------------------------------------


# Fixed (found by these tests): on_event/on_state_change accept anything (42, None): nothing is checked
# at subscription, and every later event reports a TypeError through
# sys.unraisablehook. Command() itself refuses non-callable run/fallback/
# is_bad_request with TypeError at once.
@pytest.mark.parametrize("register", ["on_event", "on_state_change"])
@pytest.mark.parametrize("value", [42, None, "listener"])
def test_subscribing_a_non_callable_is_refused_at_once(register, value):
    cmd = make(lambda: 1, None)
    with pytest.raises(TypeError):
        getattr(cmd, register)(value)


# Fixed (found by these tests): unsubscribe() with an id no subscription can have (negative, >= 2**64)
# raises OverflowError instead of answering False ("whether it was subscribed").
@pytest.mark.parametrize("bogus", [-1, 2**64, 10**30])
def test_unsubscribing_an_impossible_id_answers_false(bogus):
    cmd = make(lambda: 1, None)
    assert cmd.circuit.unsubscribe(bogus) is False


# --- nothing printed behind the caller's back ----------------------------------------------


def test_late_failure_of_a_timed_out_threaded_run_prints_nothing(capfd):
    release, started = threading.Event(), threading.Event()

    def run():
        started.set()
        release.wait(WAIT_S)
        raise Boom("after the timeout")

    cmd = hystrix.Command(run, lambda e: "fb", isolation="thread", timeout_ms=20)
    assert cmd.execute() == "fb"
    assert started.is_set()
    release.set()
    assert wait_until(lambda: cmd.snapshot()["concurrent"] == 0)
    gc.collect()
    assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}
    assert capfd.readouterr().err == ""


def test_late_failure_of_a_timed_out_coroutine_prints_nothing(capfd):
    async def main():
        clock = VirtualClock()

        async def run():
            try:
                await clock.sleep(1000)
            except asyncio.CancelledError:
                pass
            raise Boom("after the timeout")

        cmd = hystrix.Command(run, lambda e: "fb", clock=clock, timeout_ms=100)
        assert await asyncio.gather(cmd.execute_async(), clock.advance_async(100)) == ["fb", None]
        for _ in range(10):
            await asyncio.sleep(0)
        assert_settled(cmd, calls=1)

    run_loop(main())
    gc.collect()
    assert capfd.readouterr().err == ""


# --- the shared CircuitOpenError under threads ---------------------------------------------


def test_short_circuit_fallbacks_raising_and_catching_the_error_from_many_threads():
    def fallback(err, i):
        assert isinstance(err, hystrix.CircuitOpenError)
        try:
            raise err
        except hystrix.CircuitOpenError:
            pass
        return -i

    cmd = make(lambda i: i, fallback, "semaphore", force_open=True)
    out = collections.Counter()

    def worker(b):
        for i in range(b * 200, b * 200 + 200):
            out["ok" if cmd.execute(i) == -i else "wrong"] += 1

    _on_six_threads(worker)
    assert out == {"ok": 1200}
    assert counts(cmd) == {"SHORT_CIRCUITED": 1200, "FALLBACK_SUCCESS": 1200}
    assert_settled(cmd, calls=1200)


def _on_six_threads(worker):
    """Runs ``worker(0)`` … ``worker(5)`` on six threads at once and waits (bounded)."""
    threads = [threading.Thread(target=worker, args=(b,), daemon=True) for b in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


# --- a plain callable that overruns its timeout under execute_async ------------------------


# Fixed (found by these tests): under execute_async a plain (non-async) run that returns or raises
# after its deadline is recorded as SUCCESS/FAILURE: the deadline is never
# checked on that path. The same run with semaphore isolation, and a
# blocking coroutine under execute_async, are judged TIMEOUT (SPEC §1: a run
# finishing at its deadline loses).
@pytest.mark.parametrize("outcome", ["returns", "raises"])
@pytest.mark.parametrize("mode", ["semaphore", "async"])
def test_a_sync_run_overrunning_its_deadline_is_a_timeout_on_every_path(mode, outcome):
    clock = VirtualClock()

    def run():
        clock.advance(100)  # exactly the deadline, as a slow dependency would
        if outcome == "raises":
            raise Boom("late")
        return "run"

    cmd = make(run, lambda e: type(e).__name__, mode, clock=clock, timeout_ms=100)
    assert call(cmd, mode) == "TimeoutError"
    assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}
    assert_settled(cmd, calls=1)
