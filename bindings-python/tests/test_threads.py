"""Many threads through one command; nesting; real parallelism."""
import threading

import pytest

import hystrix
from conftest import WAIT_S, Boom, counts, in_thread


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
    outer = hystrix.Command(lambda x: inner.execute(x) * 10, clock=clock, isolation=outer_iso, max_concurrent_requests=1)
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
