"""Many threads through one command; nesting; real parallelism; thread
isolation's pool across interpreter exit and fork(); contextvars."""
import contextvars
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings

import hystrix
import pytest
from conftest import WAIT_S, Boom, LateTimers, counts, in_thread, wait_until


def test_many_threads_semaphore_counts_add_up(clock):
    threads_n, calls_n = 8, 500

    def run(i):
        if i % 5 == 0:
            raise Boom(i)
        return i

    cmd = hystrix.Command(run, lambda e, i: -i, clock=clock, isolation="semaphore", max_concurrent_requests=threads_n)
    results = [None] * threads_n
    errors = []
    start = threading.Barrier(threads_n, timeout=WAIT_S)

    def worker(k):
        try:
            start.wait()
            results[k] = [cmd.execute(i) for i in range(calls_n)]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S * 3)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    expected = [(-i if i % 5 == 0 else i) for i in range(calls_n)]
    assert all(r == expected for r in results)
    failures = threads_n * (calls_n // 5)
    snap = cmd.snapshot()
    total = threads_n * calls_n
    assert snap["cumulative"]["SUCCESS"] == total - failures
    assert snap["cumulative"]["FAILURE"] == failures
    assert snap["cumulative"]["FALLBACK_SUCCESS"] == failures
    assert snap["cumulative"]["SEMAPHORE_REJECTED"] == 0
    assert snap["rolling"]["SUCCESS"] == total - failures
    assert snap["concurrent"] == 0
    assert snap["fallback_concurrent"] == 0
    assert snap["state"] == "closed"
    assert snap["latency_total"]["count"] == total


def test_many_threads_thread_isolation(clock):
    threads_n, calls_n = 4, 50
    cmd = hystrix.Command(lambda i: i * i, clock=clock, isolation="thread", max_concurrent_requests=threads_n)
    out = [None] * threads_n

    def worker(k):
        out[k] = sum(cmd.execute(i) for i in range(calls_n))

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S * 3)
    assert out == [sum(i * i for i in range(calls_n))] * threads_n
    assert counts(cmd) == {"SUCCESS": threads_n * calls_n}
    assert cmd.snapshot()["concurrent"] == 0


@pytest.mark.parametrize("outer_iso", ["semaphore", "thread"])
@pytest.mark.parametrize("inner_iso", ["semaphore", "thread"])
def test_run_calling_another_command_does_not_deadlock(clock, outer_iso, inner_iso):
    inner = hystrix.Command(lambda x: x + 1, clock=clock, isolation=inner_iso, max_concurrent_requests=1)
    outer = hystrix.Command(
        lambda x: inner.execute(x) * 10, clock=clock, isolation=outer_iso, max_concurrent_requests=1
    )
    t, out = in_thread(lambda: [outer.execute(i) for i in range(20)])
    t.join(WAIT_S)
    assert not t.is_alive(), "nested execute deadlocked"
    assert out == [(True, [(i + 1) * 10 for i in range(20)])]
    assert counts(inner) == {"SUCCESS": 20}
    assert counts(outer) == {"SUCCESS": 20}
    assert inner.snapshot()["concurrent"] == 0 and outer.snapshot()["concurrent"] == 0


def test_run_calling_its_own_command_is_rejected_not_deadlocked(clock):
    holder = {}

    def run(depth):
        if depth == 0:
            return "leaf"
        return holder["cmd"].execute(depth - 1)

    cmd = hystrix.Command(run, clock=clock, isolation="thread", max_concurrent_requests=1)
    holder["cmd"] = cmd
    t, out = in_thread(cmd.execute, 1)
    t.join(WAIT_S)
    assert not t.is_alive()
    ok, value = out[0]
    assert not ok and isinstance(value, hystrix.RejectedError)
    assert cmd.snapshot()["concurrent"] == 0
    holder.clear()


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_two_runs_execute_in_parallel(clock, isolation):
    barrier = threading.Barrier(2, timeout=WAIT_S)
    # VirtualClock: the timeout never fires, the barrier's own timeout bounds the test.
    cmd = hystrix.Command(lambda: barrier.wait() is not None, clock=clock, isolation=isolation)
    (t1, o1), (t2, o2) = in_thread(cmd.execute), in_thread(cmd.execute)
    t1.join(WAIT_S * 2)
    t2.join(WAIT_S * 2)
    assert o1 == [(True, True)] and o2 == [(True, True)], (o1, o2)
    assert counts(cmd) == {"SUCCESS": 2}
    assert cmd.snapshot()["rolling_max_concurrent"] == 2


def test_two_runs_in_parallel_real_clock_thread_isolation():
    barrier = threading.Barrier(2, timeout=WAIT_S)
    cmd = hystrix.Command(lambda: barrier.wait() is not None, isolation="thread", timeout_ms=int(WAIT_S * 2000))
    f1, f2 = cmd.queue(), cmd.queue()
    assert f1.result(WAIT_S * 2) is True
    assert f2.result(WAIT_S * 2) is True


def test_queue_many_concurrently(clock):
    gate = threading.Event()

    def run(i):
        gate.wait(WAIT_S)
        return i

    cmd = hystrix.Command(run, clock=clock, isolation="thread", max_concurrent_requests=5)
    futures = [cmd.queue(i) for i in range(5)]
    assert all(not f.done() for f in futures)
    gate.set()
    assert [f.result(WAIT_S) for f in futures] == list(range(5))
    assert counts(cmd) == {"SUCCESS": 5}


# --- the interpreter's exit, fork() and contextvars (thread isolation) --------------------

_HUNG_RUN_SCRIPT = """
import threading, hystrix
never = threading.Event()
cmd = hystrix.Command(never.wait, timeout_ms=50)
try:
    cmd.execute()
except hystrix.TimeoutError:
    print("timed out", flush=True)
"""


# Fixed (issue 10.12): the pool's workers were concurrent.futures threads,
# which the interpreter joins at exit: a run that never returned kept the
# process alive forever after its call had timed out.
def test_a_run_that_never_returns_does_not_block_interpreter_exit():
    proc = subprocess.run(
        [sys.executable, "-c", _HUNG_RUN_SCRIPT], capture_output=True, text=True, timeout=WAIT_S * 3
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "timed out\n"


def _in_forked_child(check):
    """Runs ``check()`` in a child made by a real ``os.fork()``; returns its
    exit status (0: ``check`` returned True). The child never returns here."""
    with warnings.catch_warnings():
        # 3.12+ warns that forking a multi-threaded process is risky: that is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            code = 0 if check() else 2
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)
    deadline = time.monotonic() + WAIT_S * 3
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


# Fixed (issue 10.13): after fork() the child inherited a pool whose threads
# did not exist: every thread-isolated call there timed out.
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_thread_isolation_works_in_a_forked_child():
    cmd = hystrix.Command(lambda x: x * 2, isolation="thread", timeout_ms=int(WAIT_S * 1000), max_concurrent_requests=2)
    assert cmd.execute(1) == 2  # the parent's pool has a worker now
    assert _in_forked_child(lambda: [cmd.execute(i) for i in range(5)] == [0, 2, 4, 6, 8]) == 0
    assert cmd.execute(3) == 6  # the parent is unaffected


# The runs in flight on the parent's threads at the fork do not exist in the
# child: their permits must not stay taken there.
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_back_the_permits_of_runs_left_in_the_parent(clock):
    release = threading.Event()
    started = threading.Event()

    def run(block):
        if block:
            started.set()
            release.wait(WAIT_S)
        return "ran"

    cmd = hystrix.Command(run, clock=clock, isolation="thread", max_concurrent_requests=1)
    t, out = in_thread(cmd.execute, True)
    assert started.wait(WAIT_S)
    assert cmd.snapshot()["concurrent"] == 1

    def child():
        return cmd.snapshot()["concurrent"] == 0 and cmd.execute(False) == "ran"

    try:
        assert _in_forked_child(child) == 0
    finally:
        release.set()
        t.join(WAIT_S)
    assert out == [(True, "ran")]
    assert counts(cmd) == {"SUCCESS": 1}


# A thread that is working on a call without the GIL (here: in a listener
# the core calls while the call's lock is held) at the instant of the fork
# would leave that lock held forever in the child: the child's clean-up of
# the call (its run was on a parent thread) would deadlock. The fork waits
# for such threads to leave the core first.
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_waits_for_threads_inside_the_core(clock):
    release, started, entered = threading.Event(), threading.Event(), threading.Event()

    def run():
        started.set()
        release.wait(WAIT_S)
        return "late"

    cmd = hystrix.Command(run, lambda e: "fb", clock=clock, isolation="thread", timeout_ms=100)

    def listener(name, event, at):
        if event == "TIMEOUT" and not entered.is_set():
            entered.set()
            threading.Event().wait(2.0)  # holding the call's lock meanwhile; bounded

    cmd.on_event(listener)
    caller, out = in_thread(cmd.execute)
    try:
        assert started.wait(WAIT_S)
        clock.advance(100)
        assert entered.wait(WAIT_S)
        assert _in_forked_child(lambda: cmd.snapshot()["concurrent"] == 0) == 0
    finally:
        release.set()
        caller.join(WAIT_S)
    assert out == [(True, "fb")]
    assert wait_until(lambda: cmd.snapshot()["concurrent"] == 0)


REQUEST_ID = contextvars.ContextVar("request_id", default=None)


# Fixed (issue 10.14): thread isolation ran the run in the worker's own
# (empty) context: request ids, OpenTelemetry spans, structlog bindings lost.
def test_thread_isolated_run_sees_the_callers_contextvars(clock):
    cmd = hystrix.Command(REQUEST_ID.get, clock=clock, isolation="thread")
    token = REQUEST_ID.set("req-1")
    try:
        assert cmd.execute() == "req-1"
    finally:
        REQUEST_ID.reset(token)
    assert cmd.execute() is None  # a copy per call, not a leftover


def test_a_run_cannot_change_the_callers_context(clock):
    cmd = hystrix.Command(lambda: REQUEST_ID.set("from-run") and REQUEST_ID.get(), clock=clock, isolation="thread")
    assert cmd.execute() == "from-run"
    assert REQUEST_ID.get() is None


def test_queued_run_and_fallback_see_the_callers_contextvars(clock):
    def run():
        raise Boom(REQUEST_ID.get())

    cmd = hystrix.Command(run, lambda e: (str(e), REQUEST_ID.get()), clock=clock, isolation="thread")
    token = REQUEST_ID.set("req-2")
    try:
        future = cmd.queue()
    finally:
        REQUEST_ID.reset(token)
    assert future.result(WAIT_S) == ("req-2", "req-2")


# --- the cancellation signal of a thread-isolated run (issue 10.15) -----------------------


# Fixed: a thread-isolated run had no way to learn that its call had timed
# out, so it kept working (and holding its permit) for nobody.
def test_a_thread_isolated_run_sees_its_timeout_through_current_call(clock):
    seen = []
    started = threading.Event()

    def run():
        call = hystrix.current_call()
        seen.append((call.command.rsplit(".", 1)[-1], call.cancelled.is_set()))
        started.set()
        seen.append(call.cancelled.wait(WAIT_S))  # gives up as soon as nobody waits
        return "late"

    cmd = hystrix.Command(run, lambda e: type(e).__name__, clock=clock, isolation="thread", timeout_ms=100)
    advancer, _ = in_thread(lambda: started.wait(WAIT_S) and clock.advance(100))
    assert cmd.execute() == "TimeoutError"
    advancer.join(WAIT_S)
    assert wait_until(lambda: cmd.snapshot()["concurrent"] == 0)
    assert seen == [("run", False), True]
    assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_SUCCESS": 1}


def test_current_call_is_none_outside_a_thread_isolated_run(clock):
    assert hystrix.current_call() is None
    sem = hystrix.Command(hystrix.current_call, clock=clock, isolation="semaphore")
    assert sem.execute() is None
    thr = hystrix.Command(lambda: hystrix.current_call().cancelled.is_set(), clock=clock, isolation="thread")
    assert thr.execute() is False  # a run that finished in time is never cancelled
    assert hystrix.current_call() is None  # the caller's context is untouched


def test_a_thread_isolated_run_that_ends_past_its_deadline_before_the_wait_sees_it_is_a_timeout():
    clock = LateTimers()

    def run():
        clock.t = 300
        return "stale"

    cmd = hystrix.Command(run, clock=clock, timeout_ms=100)
    with pytest.raises(hystrix.TimeoutError):
        cmd.execute()
    assert counts(cmd) == {"TIMEOUT": 1, "FALLBACK_MISSING": 1}
    assert cmd.snapshot()["concurrent"] == 0
