"""Values, fallbacks and every error kind (SPEC §3)."""
import builtins
import concurrent.futures
import copy
import pickle
import threading
import time
import traceback

import hystrix
import pytest
from conftest import WAIT_S, Boom, FallbackBoom, counts, in_thread, run_async, wait_until

SEM = {"isolation": "semaphore"}


# --- values ----------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_run_value_and_arguments(clock, isolation):
    cmd = hystrix.Command(lambda a, b=0: (a, b), clock=clock, isolation=isolation)
    assert cmd.execute(1, b=2) == (1, 2)
    assert cmd(3) == (3, 0)
    assert counts(cmd) == {"SUCCESS": 2}


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_fallback_receives_error_args_kwargs(clock, isolation):
    err = Boom("down")
    seen = []

    def run(uid, *, region):
        raise err

    def fallback(e, uid, *, region):
        seen.append((e, uid, region))
        return f"guest-{uid}-{region}"

    cmd = hystrix.Command(run, fallback, clock=clock, isolation=isolation)
    assert cmd.execute(7, region="eu") == "guest-7-eu"
    assert len(seen) == 1
    assert seen[0][0] is err
    assert seen[0][1:] == (7, "eu")
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_SUCCESS": 1}


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_fallback_receives_every_positional_argument_in_order(clock, isolation, n):
    # The semaphore path passes up to two arguments without building a list:
    # each count takes its own branch there.
    err = Boom("down")

    def run(*args):
        raise err

    def fallback(e, *args):
        return (e, args)

    cmd = hystrix.Command(run, fallback, clock=clock, isolation=isolation)
    args = tuple(f"a{i}" for i in range(n))
    got_err, got_args = cmd.execute(*args)
    assert got_err is err
    assert got_args == args
    forced = hystrix.Command(run, fallback, clock=clock, isolation=isolation, force_open=True)
    got_err, got_args = forced.execute(*args)
    assert isinstance(got_err, hystrix.CircuitOpenError)
    assert got_args == args


def test_success_does_not_call_fallback(clock):
    called = []
    cmd = hystrix.Command(lambda: "ok", lambda e: called.append(e), clock=clock, **SEM)
    assert cmd.execute() == "ok"
    assert called == []


def test_run_in_thread_isolation_runs_on_a_pool_thread(clock):
    caller = threading.current_thread()
    cmd = hystrix.Command(threading.current_thread, clock=clock, isolation="thread")
    worker = cmd.execute()
    assert worker is not caller
    sem = hystrix.Command(threading.current_thread, clock=clock, isolation="semaphore")
    assert sem.execute() is caller


# --- error codes -------------------------------------------------------------


@pytest.mark.parametrize(
    "cls,kind,code",
    [
        (hystrix.TimeoutError, "timeout", 2),
        (hystrix.CircuitOpenError, "short_circuited", 3),
        (hystrix.RejectedError, "rejected", 4),
        (hystrix.BadRequest, "bad_request", 5),
        (hystrix.FallbackRejectedError, "fallback_rejected", 6),
        (hystrix.FallbackFailedError, "fallback_failure", 7),
        (hystrix.InvalidConfigError, "invalid_config", 8),
    ],
)
def test_error_classes_have_spec_kind_and_code(cls, kind, code):
    assert issubclass(cls, hystrix.HystrixError)
    assert cls.kind == kind
    assert cls.code == code


def test_error_codes_are_distinct_and_builtin_compatible():
    classes = [
        hystrix.TimeoutError,
        hystrix.CircuitOpenError,
        hystrix.RejectedError,
        hystrix.BadRequest,
        hystrix.FallbackRejectedError,
        hystrix.FallbackFailedError,
        hystrix.InvalidConfigError,
    ]
    assert len({c.code for c in classes}) == len(classes)
    # "failure" (code 1) is the run's own exception: no hystrix class claims it.
    assert 1 not in {c.code for c in classes}
    assert issubclass(hystrix.TimeoutError, builtins.TimeoutError)
    assert issubclass(hystrix.InvalidConfigError, ValueError)


# --- failure -----------------------------------------------------------------


def _failing_run_frame():
    raise Boom("the run's own error")


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_failure_without_fallback_raises_runs_own_exception_with_traceback(clock, isolation):
    cmd = hystrix.Command(_failing_run_frame, clock=clock, isolation=isolation)
    with pytest.raises(Boom, match="the run's own error") as info:
        cmd.execute()
    exc = info.value
    assert not isinstance(exc, hystrix.HystrixError)
    names = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
    assert "_failing_run_frame" in names
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_MISSING": 1}


def test_failure_without_fallback_is_the_same_object(clock):
    err = Boom("same")

    def run():
        raise err

    cmd = hystrix.Command(run, clock=clock, **SEM)
    with pytest.raises(Boom) as info:
        cmd.execute()
    assert info.value is err


def test_fallback_disabled_raises_original(clock):
    called = []

    def run():
        raise Boom("x")

    cmd = hystrix.Command(run, lambda e: called.append(e), clock=clock, fallback_enabled=False, **SEM)
    with pytest.raises(Boom):
        cmd.execute()
    assert called == []
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_DISABLED": 1}


# --- short-circuited -----------------------------------------------------------


def test_circuit_open_error_with_force_open(clock):
    ran = []
    cmd = hystrix.Command(lambda: ran.append(1), clock=clock, force_open=True, **SEM)
    with pytest.raises(hystrix.CircuitOpenError) as info:
        cmd.execute()
    assert info.value.code == 3 and info.value.kind == "short_circuited"
    assert ran == []
    snap = cmd.snapshot()
    assert snap["state"] == "open"
    assert counts(cmd) == {"SHORT_CIRCUITED": 1, "FALLBACK_MISSING": 1}


def test_circuit_open_goes_to_fallback(clock):
    cmd = hystrix.Command(lambda: "run", lambda e: type(e), clock=clock, force_open=True, **SEM)
    assert cmd.execute() is hystrix.CircuitOpenError
    assert counts(cmd) == {"SHORT_CIRCUITED": 1, "FALLBACK_SUCCESS": 1}


def test_circuit_trips_on_errors_and_short_circuits(clock):
    def run():
        raise Boom()

    cmd = hystrix.Command(
        run, clock=clock, request_volume_threshold=3, health_snapshot_interval_ms=0, **SEM
    )
    for _ in range(3):
        with pytest.raises(Boom):
            cmd.execute()
    assert cmd.snapshot()["state"] == "open"
    with pytest.raises(hystrix.CircuitOpenError):
        cmd.execute()
    assert cmd.snapshot()["cumulative"]["SHORT_CIRCUITED"] == 1


# --- rejected ----------------------------------------------------------------


def test_rejected_when_bulkhead_full_thread_isolation(clock, unique_name):
    name = unique_name("bulkhead")
    release, started = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(WAIT_S)
        return "slow"

    holder = hystrix.Command(slow, name=name, clock=clock, max_concurrent_requests=1, timeout_enabled=False)
    plain = hystrix.Command(lambda: "never", name=name)
    with_fb = hystrix.Command(lambda: "never", lambda e: ("fb", e), name=name)
    future = holder.queue()
    try:
        assert started.wait(WAIT_S)
        assert holder.snapshot()["concurrent"] == 1
        with pytest.raises(hystrix.RejectedError) as info:
            plain.execute()
        assert info.value.code == 4 and info.value.kind == "rejected"
        tag, err = with_fb.execute()
        assert tag == "fb" and isinstance(err, hystrix.RejectedError)
    finally:
        release.set()
    assert future.result(WAIT_S) == "slow"
    assert holder.snapshot()["concurrent"] == 0
    c = counts(holder)
    assert c["SEMAPHORE_REJECTED"] == 2 and c["SUCCESS"] == 1
    assert c["FALLBACK_MISSING"] == 1 and c["FALLBACK_SUCCESS"] == 1


def test_rejected_when_bulkhead_full_semaphore_isolation(clock):
    release, started = threading.Event(), threading.Event()

    def run(hold):
        if hold:
            started.set()
            release.wait(WAIT_S)
        return hold

    cmd = hystrix.Command(run, clock=clock, max_concurrent_requests=1, **SEM)
    t, out = in_thread(cmd.execute, True)
    try:
        assert started.wait(WAIT_S)
        with pytest.raises(hystrix.RejectedError):
            cmd.execute(False)
    finally:
        release.set()
    t.join(WAIT_S)
    assert out == [(True, True)]
    assert cmd.execute(False) is False
    assert cmd.snapshot()["concurrent"] == 0


# --- timeout -------------------------------------------------------------------


def test_semaphore_timeout_virtual_clock(clock):
    def run():
        clock.advance(150)
        return "late"

    cmd = hystrix.Command(run, clock=clock, timeout_ms=100, **SEM)
    with pytest.raises(hystrix.TimeoutError) as info:
        cmd.execute()
    assert isinstance(info.value, builtins.TimeoutError)
    assert info.value.code == 2 and info.value.kind == "timeout"
    assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_MISSING": 1}
    assert cmd.snapshot()["concurrent"] == 0


def test_semaphore_timeout_goes_to_fallback_even_if_run_raises(clock):
    def run():
        clock.advance(200)
        raise Boom("too late")

    cmd = hystrix.Command(run, lambda e: type(e), clock=clock, timeout_ms=100, **SEM)
    assert cmd.execute() is hystrix.TimeoutError
    assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}


def test_semaphore_run_finishing_exactly_at_deadline_times_out(clock):
    def run(ms):
        clock.advance(ms)
        return ms

    cmd = hystrix.Command(run, lambda e, ms: "fb", clock=clock, timeout_ms=100, **SEM)
    assert cmd.execute(99) == 99
    assert cmd.execute(100) == "fb"
    assert counts(cmd) == {"SUCCESS": 1, "TIMEOUT": 1, "FALLBACK_SUCCESS": 1}


def test_thread_timeout_virtual_clock_keeps_permit_until_run_ends(clock):
    release, started = threading.Event(), threading.Event()

    def run():
        started.set()
        release.wait(WAIT_S)
        return "late"

    def advance():
        assert started.wait(WAIT_S)
        clock.advance(100)

    cmd = hystrix.Command(run, lambda e: ("fb", type(e)), clock=clock, timeout_ms=100, isolation="thread")
    t, _ = in_thread(advance)
    try:
        assert cmd.execute() == ("fb", hystrix.TimeoutError)
        t.join(WAIT_S)
        snap = cmd.snapshot()
        assert snap["concurrent"] == 1
        assert snap["cumulative"]["TIMEOUT"] == 1
        assert snap["cumulative"]["FALLBACK_SUCCESS"] == 1
    finally:
        release.set()
    assert wait_until_concurrent(cmd, 0)
    snap = cmd.snapshot()
    assert snap["cumulative"]["SUCCESS"] == 0  # the late value is discarded


def wait_until_concurrent(cmd, n):
    return wait_until(lambda: cmd.snapshot()["concurrent"] == n)


def test_thread_timeout_real_clock_returns_at_timeout():
    release, started = threading.Event(), threading.Event()

    def run():
        started.set()
        release.wait(WAIT_S * 6)  # held until released: only the timeout can end the call
        return "late"

    cmd = hystrix.Command(run, lambda e: ("fb", e), timeout_ms=100, isolation="thread")
    try:
        t0 = time.monotonic()
        tag, err = cmd.execute()
        elapsed = time.monotonic() - t0
        assert tag == "fb" and isinstance(err, hystrix.TimeoutError)
        # The worker may start the run late on a loaded machine; it runs.
        assert started.wait(WAIT_S)
        # Not before the deadline; and long before the run could end.
        assert 0.05 <= elapsed < WAIT_S * 3
        # The run ignores cancellation: it keeps its permit (SPEC §3.4).
        assert cmd.snapshot()["concurrent"] == 1
        time.sleep(0.05)
        assert cmd.snapshot()["concurrent"] == 1
    finally:
        release.set()
    assert wait_until_concurrent(cmd, 0)


def test_thread_timeout_without_fallback_raises_timeout_error(clock):
    release, started = threading.Event(), threading.Event()

    def run():
        started.set()
        release.wait(WAIT_S)

    def advance():
        assert started.wait(WAIT_S)
        clock.advance(50)

    cmd = hystrix.Command(run, clock=clock, timeout_ms=50, isolation="thread")
    t, _ = in_thread(advance)
    try:
        with pytest.raises(builtins.TimeoutError) as info:
            cmd.execute()
        assert isinstance(info.value, hystrix.TimeoutError)
    finally:
        release.set()
        t.join(WAIT_S)
    assert wait_until_concurrent(cmd, 0)


# --- fallback rejected / failed ------------------------------------------------------


@pytest.mark.parametrize(
    "isolation",
    [
        "semaphore",
        "thread",
    ],
)
def test_fallback_rejected_while_slow_fallback_held(clock, isolation):
    release, in_fallback = threading.Event(), threading.Event()

    def fallback(err, hold):
        if hold:
            in_fallback.set()
            release.wait(WAIT_S)
        return ("fb", hold)

    cmd = hystrix.Command(
        lambda hold: "run",
        fallback,
        clock=clock,
        force_open=True,
        fallback_max_concurrent_requests=1,
        isolation=isolation,
    )
    t, out = in_thread(cmd.execute, True)
    try:
        assert in_fallback.wait(WAIT_S)
        assert cmd.snapshot()["fallback_concurrent"] == 1
        with pytest.raises(hystrix.FallbackRejectedError) as info:
            cmd.execute(False)
        exc = info.value
        assert exc.code == 6 and exc.kind == "fallback_rejected"
        assert isinstance(exc.original, hystrix.CircuitOpenError)
        assert exc.__cause__ is exc.original
    finally:
        release.set()
    t.join(WAIT_S)
    assert out == [(True, ("fb", True))]
    assert cmd.snapshot()["fallback_concurrent"] == 0
    c = counts(cmd)
    assert c == {"SHORT_CIRCUITED": 2, "FALLBACK_SUCCESS": 1, "FALLBACK_REJECTION": 1}


def test_fallback_rejected_after_failure(clock):
    release, in_fallback = threading.Event(), threading.Event()
    err = Boom("run failed")

    def run(hold):
        raise err

    def fallback(e, hold):
        if hold:
            in_fallback.set()
            release.wait(WAIT_S)
        return "fb"

    cmd = hystrix.Command(run, fallback, clock=clock, fallback_max_concurrent_requests=1, **SEM)
    t, out = in_thread(cmd.execute, True)
    try:
        assert in_fallback.wait(WAIT_S)
        with pytest.raises(hystrix.FallbackRejectedError) as info:
            cmd.execute(False)
        assert info.value.original is err
        assert info.value.__cause__ is err
    finally:
        release.set()
    t.join(WAIT_S)
    assert out == [(True, "fb")]
    assert counts(cmd) == {"FAILURE": 2, "FALLBACK_SUCCESS": 1, "FALLBACK_REJECTION": 1}


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_fallback_failed_error(clock, isolation):
    run_err, fb_err = Boom("run"), FallbackBoom("fallback")

    def run():
        raise run_err

    def fallback(e):
        raise fb_err

    cmd = hystrix.Command(run, fallback, clock=clock, isolation=isolation)
    with pytest.raises(hystrix.FallbackFailedError) as info:
        cmd.execute()
    exc = info.value
    assert exc.code == 7 and exc.kind == "fallback_failure"
    assert exc.original is run_err
    assert exc.fallback_error is fb_err
    assert exc.__cause__ is fb_err
    assert counts(cmd) == {"FAILURE": 1, "FALLBACK_FAILURE": 1}
    assert cmd.snapshot()["fallback_concurrent"] == 0


def test_fallback_failed_after_short_circuit(clock):
    def fallback(e):
        raise FallbackBoom()

    cmd = hystrix.Command(lambda: 1, fallback, clock=clock, force_open=True, **SEM)
    with pytest.raises(hystrix.FallbackFailedError) as info:
        cmd.execute()
    assert isinstance(info.value.original, hystrix.CircuitOpenError)
    assert isinstance(info.value.fallback_error, FallbackBoom)


# --- bad request -----------------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_bad_request_raised_unchanged_without_fallback_or_health(clock, isolation):
    err = hystrix.BadRequest("your fault")
    called = []

    def run():
        raise err

    cmd = hystrix.Command(
        run, lambda e: called.append(e), clock=clock, isolation=isolation, health_snapshot_interval_ms=0
    )
    with pytest.raises(hystrix.BadRequest) as info:
        cmd.execute()
    assert info.value is err
    assert info.value.code == 5 and info.value.kind == "bad_request"
    assert called == []
    snap = cmd.snapshot()
    assert snap["health"] == {"total": 0, "errors": 0, "error_percentage": 0}
    assert counts(cmd) == {"BAD_REQUEST": 1}


def test_bad_request_subclass(clock):
    class NotFound(hystrix.BadRequest):
        pass

    def run():
        raise NotFound("missing")

    cmd = hystrix.Command(run, lambda e: "fb", clock=clock, **SEM)
    with pytest.raises(NotFound):
        cmd.execute()
    assert counts(cmd) == {"BAD_REQUEST": 1}


def test_is_bad_request_predicate(clock):
    called = []

    def run(key):
        if key == "bad":
            raise KeyError(key)
        raise Boom(key)

    cmd = hystrix.Command(
        run,
        lambda e, key: called.append(e) or "fb",
        clock=clock,
        is_bad_request=lambda e: isinstance(e, KeyError),
        health_snapshot_interval_ms=0,
        **SEM,
    )
    with pytest.raises(KeyError):
        cmd.execute("bad")
    assert called == []
    assert cmd.snapshot()["health"]["total"] == 0
    assert cmd.execute("other") == "fb"
    assert len(called) == 1 and isinstance(called[0], Boom)
    assert counts(cmd) == {"BAD_REQUEST": 1, "FAILURE": 1, "FALLBACK_SUCCESS": 1}
    assert cmd.snapshot()["health"] == {"total": 1, "errors": 1, "error_percentage": 100}


def test_is_bad_request_must_be_callable():
    with pytest.raises(TypeError):
        hystrix.Command(lambda: 1, is_bad_request=42)


# --- queue -------------------------------------------------------------------------------


def test_queue_returns_future_with_value(clock):
    cmd = hystrix.Command(lambda x: x * 2, clock=clock, isolation="thread")
    fut = cmd.queue(21)
    assert isinstance(fut, concurrent.futures.Future)
    assert fut.result(WAIT_S) == 42


def test_queue_returns_future_with_exception(clock):
    err = Boom("queued")

    def run():
        raise err

    cmd = hystrix.Command(run, clock=clock, **SEM)
    fut = cmd.queue()
    assert isinstance(fut, concurrent.futures.Future)
    assert fut.exception(WAIT_S) is err
    with pytest.raises(Boom):
        fut.result(WAIT_S)
    opened = hystrix.Command(lambda: 1, clock=clock, force_open=True)
    assert isinstance(opened.queue().exception(WAIT_S), hystrix.CircuitOpenError)
    with_fb = hystrix.Command(run, lambda e: "fb", clock=clock)
    assert with_fb.queue().result(WAIT_S) == "fb"


# --- BaseException (not Exception): never a dependency failure ---------------------------


class Stop(BaseException):
    """Like KeyboardInterrupt / SystemExit: not an Exception."""


@pytest.mark.parametrize(
    "isolation",
    [
        "semaphore",
        "thread",
    ],
)
def test_base_exception_from_run_propagates_without_fallback(clock, isolation):
    called = []

    def run():
        raise Stop("run")

    cmd = hystrix.Command(run, lambda e: called.append(e) or "fb", clock=clock, isolation=isolation)
    with pytest.raises(Stop):
        cmd.execute()
    assert called == []
    snap = cmd.snapshot()
    assert snap["concurrent"] == 0
    assert snap["cumulative"]["FAILURE"] == 0


@pytest.mark.parametrize(
    "isolation",
    [
        "semaphore",
        "thread",
    ],
)
def test_base_exception_from_fallback_propagates_unchanged(clock, isolation):
    def run():
        raise Boom("run")

    def fallback(e):
        raise Stop("fallback")

    cmd = hystrix.Command(run, fallback, clock=clock, isolation=isolation)
    with pytest.raises(Stop):
        cmd.execute()
    snap = cmd.snapshot()
    assert snap["concurrent"] == 0 and snap["fallback_concurrent"] == 0


# --- what every hystrix error says, and pickling ------------------------------------------

MODES3 = ["semaphore", "thread", "async"]


def _call(cmd, mode, *args):
    if mode == "async":
        return run_async(cmd.execute_async(*args))
    return cmd.execute(*args)


def _make(mode, run, fallback=None, **kw):
    return hystrix.Command(run, fallback, isolation="thread" if mode == "thread" else "semaphore", **kw)


def _errors_of_every_kind(mode, name):
    """One error of each kind hystrix raises, from real calls through ``mode``."""
    from hystrix.testing import VirtualClock

    clock = VirtualClock()
    late = threading.Event()

    def slow():
        clock.advance(250)  # past the deadline (thread isolation: the waiter fires)
        if mode == "thread":
            late.wait(WAIT_S)  # still going when the caller looks
        return "late"

    def failing():
        raise Boom("down")

    def bad_fallback(err):
        raise FallbackBoom("fb down")

    got = {}
    with pytest.raises(hystrix.TimeoutError) as info:
        _call(_make(mode, slow, name=f"{name}-timeout", clock=clock, timeout_ms=250), mode)
    late.set()
    got["timeout"] = info.value
    with pytest.raises(hystrix.CircuitOpenError) as info:
        _call(_make(mode, failing, name=f"{name}-open", clock=clock, force_open=True), mode)
    got["short_circuited"] = info.value
    gate = threading.Event()
    busy = _make(mode, lambda: gate.wait(WAIT_S), name=f"{name}-full", clock=clock, max_concurrent_requests=1)
    t, _ = in_thread(busy.execute)
    try:
        assert wait_until(lambda: busy.snapshot()["concurrent"] == 1)
        with pytest.raises(hystrix.RejectedError) as info:
            _call(busy, mode)
        got["rejected"] = info.value
    finally:
        gate.set()
        t.join(WAIT_S)
    with pytest.raises(hystrix.FallbackFailedError) as info:
        _call(_make(mode, failing, bad_fallback, name=f"{name}-fbfail", clock=clock), mode)
    got["fallback_failure"] = info.value
    fb_gate, fb_started = threading.Event(), threading.Event()

    def slow_fallback(err):
        fb_started.set()
        fb_gate.wait(WAIT_S)
        return "fb"

    fb_busy = _make(
        mode, failing, slow_fallback, name=f"{name}-fbfull", clock=clock, fallback_max_concurrent_requests=1
    )
    t, _ = in_thread(fb_busy.execute)
    try:
        assert fb_started.wait(WAIT_S)
        with pytest.raises(hystrix.FallbackRejectedError) as info:
            _call(fb_busy, mode)
        got["fallback_rejected"] = info.value
    finally:
        fb_gate.set()
        t.join(WAIT_S)
    with pytest.raises(hystrix.InvalidConfigError) as info:
        _make(mode, failing, name=f"{name}-config", timeout_ms=0)
    got["invalid_config"] = info.value
    for suffix in ("timeout", "open", "full", "fbfail", "fbfull", "config"):
        hystrix.remove(f"{name}-{suffix}")
    return got


# Fixed (issues 10.16, 10.8): CircuitOpenError and RejectedError had empty
# messages under thread isolation and asyncio, and no error named its command
# or the setting involved.
@pytest.mark.parametrize("mode", MODES3)
def test_every_error_names_its_command_and_the_setting_involved(mode, unique_name):
    name = unique_name("named")
    got = _errors_of_every_kind(mode, name)
    expected = {
        "timeout": "timed out after 250 ms (timeout_ms)",
        "short_circuited": ": circuit open (force_open)",
        "rejected": "rejected: bulkhead full (max_concurrent_requests 1)",
        "fallback_failure": ": the fallback failed: FallbackBoom('fb down') (after: Boom('down'))",
        "fallback_rejected": ": fallback rejected (fallback_max_concurrent_requests 1) (after: Boom('down'))",
    }
    for kind, text in expected.items():
        err = got[kind]
        assert err.kind == kind
        suffix = {
            "timeout": "timeout",
            "short_circuited": "open",
            "rejected": "full",
            "fallback_failure": "fbfail",
            "fallback_rejected": "fbfull",
        }[kind]
        assert err.command == f"{name}-{suffix}"
        assert str(err).startswith(f"command {err.command!r}"), str(err)
        assert text in str(err), (kind, str(err))
    assert got["invalid_config"].key == "timeout_ms" and "timeout_ms" in str(got["invalid_config"])


@pytest.mark.parametrize("mode", MODES3)
def test_an_anonymous_commands_errors_name_its_run(mode):
    def fetch_user():
        raise Boom("down")

    with pytest.raises(hystrix.CircuitOpenError, match="command '.*fetch_user': circuit open") as info:
        _call(_make(mode, fetch_user, force_open=True), mode)
    assert info.value.command.endswith("fetch_user")


def _same_error(a, b):
    assert type(a) is type(b)
    assert a.args == b.args and str(a) == str(b)
    assert a.kind == b.kind and a.code == b.code
    assert getattr(a, "command", None) == getattr(b, "command", None)
    for attr in ("original", "fallback_error"):
        if hasattr(a, attr):
            x, y = getattr(a, attr), getattr(b, attr)
            assert type(x) is type(y) and x.args == y.args
    if hasattr(a, "key"):
        assert a.key == b.key
    for attr in ("setting", "value", "existing", "given"):
        assert getattr(a, attr, None) == getattr(b, attr, None), attr


def _all_error_classes():
    seen, todo = [], [hystrix.HystrixError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return {c for c in seen if c.__module__.startswith("hystrix")}


# Fixed (issue 10.16): FallbackFailedError could not be pickled or
# deep-copied, and FallbackRejectedError unpickled with `.original` and its
# message corrupted: errors could not cross multiprocessing or Celery.
@pytest.mark.parametrize("mode", MODES3)
def test_every_error_pickles_and_deep_copies_with_its_attributes(mode, unique_name):
    got = _errors_of_every_kind(mode, unique_name("pickled"))
    # CancelledError: no Python call path cancels yet (the asyncio and
    # future cancellation of semantics §18 come with the call protocol).
    made_here = [
        hystrix.HystrixError("plain"),
        hystrix.BadRequest("caller's fault", 42),
        hystrix.CancelledError("the caller gave up"),
        hystrix.RateLimitedError("too many calls", command="svc"),
        _settings_conflict(unique_name("pickled-conflict")),
    ]
    errors = list(got.values()) + made_here
    # Every exception class of the package is covered.
    assert {type(e) for e in errors} == _all_error_classes()
    for err in errors:
        for copy_ in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err), copy.copy(err)):
            _same_error(err, copy_)
    assert pickle.loads(pickle.dumps(got["fallback_rejected"])).original.args == ("down",)


def _settings_conflict(name):
    hystrix.Command(lambda: 1, name=name, timeout_ms=100)
    try:
        with pytest.raises(hystrix.SettingsConflictError) as info:
            hystrix.Command(lambda: 1, name=name, timeout_ms=5000)
    finally:
        hystrix.remove(name)
    err = info.value
    assert (err.key, err.existing, err.given) == ("timeout_ms", "100", "5000")
    return err


def test_a_subclass_of_bad_request_pickles_with_its_own_attributes():
    class ItemMissing(hystrix.BadRequest):
        def __init__(self, item_id):
            super().__init__(f"no item {item_id}")
            self.item_id = item_id

    err = ItemMissing(7)
    back = copy.deepcopy(err)
    assert type(back) is ItemMissing and back.item_id == 7 and str(back) == "no item 7"


def test_every_core_error_kind_has_its_exception_class_with_the_core_code():
    # One vocabulary: the classes are drift-checked against the core's list.
    from hystrix import _hystrix

    classes = {c.kind: c for c in _all_error_classes()}
    assert len(_hystrix.ERROR_KINDS) >= 9
    for name, code in _hystrix.ERROR_KINDS:
        if name == "failure":
            continue  # a failure is the run's own exception, not a class of ours
        assert name in classes, f"no exception class for the core kind {name}"
        assert classes[name].code == code, name


def test_the_error_factory_makes_a_cancelled_error_of_its_kind():
    from hystrix._errors import _new_error

    err = _new_error("cancelled", "svc")
    assert type(err) is hystrix.CancelledError and err.code == 9 and err.command == "svc"
    assert "svc" in str(err)
