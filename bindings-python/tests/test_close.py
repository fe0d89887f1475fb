"""``Command.close()`` and ``with Command(...) as cmd:``: the command is
released (worker threads exit, native state freed, a named circuit leaves
the registry with its last command), later use raises an error naming it,
calls in flight finish, and create/close cycles leave memory flat."""
import asyncio
import gc
import threading
import time
import tracemalloc
import uuid
import weakref

import hystrix
import pytest
from conftest import WAIT_S, in_thread, run_async, wait_until
from hystrix.testing import VirtualClock


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def double(x):
    return 2 * x


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_every_use_after_close_names_the_command(isolation):
    name = unique("closed")
    cmd = hystrix.Command(double, name=name, isolation=isolation, clock=VirtualClock())
    assert cmd.execute(2) == 4
    cmd.close()
    assert cmd.closed
    uses = [
        lambda: cmd.execute(1),
        lambda: cmd(1),
        lambda: cmd.queue(1),
        lambda: run_async(cmd.execute_async(1)),
        lambda: cmd.snapshot(),
        lambda: cmd.state,
        lambda: cmd.configure(timeout_ms=5),
        lambda: cmd.on_event(print),
        lambda: cmd.circuit,
    ]
    for use in uses:
        with pytest.raises(RuntimeError, match=f"command '{name}' is closed"):
            use()
    assert "closed" in repr(cmd)


def test_anonymous_command_is_named_by_its_run():
    cmd = hystrix.Command(double, isolation="semaphore")
    cmd.close()
    with pytest.raises(RuntimeError, match="command 'double' is closed"):
        cmd(1)


def test_decorated_function_after_its_command_closed():
    @hystrix.command(isolation="semaphore")
    def triple(x: int) -> int:
        return 3 * x

    @hystrix.command
    async def quadruple(x: int) -> int:
        return 4 * x

    assert triple(1) == 3 and run_async(quadruple(1)) == 4
    triple.command.close()
    quadruple.command.close()
    with pytest.raises(RuntimeError, match="triple' is closed"):
        triple(1)
    with pytest.raises(RuntimeError, match="quadruple' is closed"):
        run_async(quadruple(1))


def test_with_block_closes_even_on_error_and_close_is_idempotent():
    with hystrix.Command(double, isolation="semaphore") as cmd:
        assert cmd(5) == 10
    assert cmd.closed
    cmd.close()  # a second close does nothing
    with pytest.raises(ValueError):
        with hystrix.Command(double, isolation="semaphore") as other:
            raise ValueError("inside")
    assert other.closed
    with pytest.raises(RuntimeError, match="is closed"):
        with cmd:
            pass


def test_named_circuit_leaves_the_registry_with_its_last_command():
    name = unique("shared")
    hystrix.configure(name, timeout_ms=123)
    a = hystrix.Command(double, name=name, isolation="semaphore")
    b = hystrix.Command(double, name=name, isolation="semaphore")
    circuit = a.circuit
    assert b.circuit is circuit and hystrix.get(name) is circuit
    a.close()
    assert hystrix.get(name) is circuit, "b still holds it"
    assert b(1) == 2
    b.close()
    fresh = hystrix.get(name)
    assert fresh is not circuit
    assert fresh.config()["timeout_ms"] == 1000, "a later command of that name starts afresh"
    c = hystrix.Command(double, name=name, isolation="semaphore")
    assert c.circuit is fresh
    c.close()
    hystrix.remove(name)


def test_close_frees_the_native_state_while_the_command_object_lives():
    cmd = hystrix.Command(double, isolation="semaphore")
    named = hystrix.Command(double, name=unique("freed"), isolation="thread")
    cmd(1), named(1)
    refs = [weakref.ref(cmd.circuit), weakref.ref(cmd.circuit._native), weakref.ref(named.circuit._native)]
    cmd.close()
    named.close()
    gc.collect()
    assert wait_until(lambda: all(r() is None for r in refs)), "circuit or native command still alive after close()"
    assert cmd.closed and named.closed  # the command objects themselves are still here


def _pool_threads(prefix):
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_close_lets_idle_worker_threads_exit():
    name = unique("pool")
    cmd = hystrix.Command(double, name=name, isolation="thread", max_concurrent_requests=8)
    futures = [cmd.queue(i) for i in range(8)]
    assert [f.result(WAIT_S) for f in futures] == [2 * i for i in range(8)]
    assert _pool_threads(f"hystrix-{name}-")
    cmd.close()
    assert wait_until(lambda: not _pool_threads(f"hystrix-{name}-")), "worker threads survived close()"


def test_a_call_in_flight_finishes_after_close():
    started, release = threading.Event(), threading.Event()

    def slow(x):
        started.set()
        release.wait(WAIT_S)
        return x

    cmd = hystrix.Command(slow, isolation="thread", timeout_ms=60_000)
    t, out = in_thread(cmd.execute, 7)
    assert started.wait(WAIT_S)
    cmd.close()
    release.set()
    t.join(WAIT_S)
    assert out == [(True, 7)], out


def test_an_async_call_in_flight_finishes_after_close():
    async def main():
        gate = asyncio.Event()

        async def run():
            await gate.wait()
            return "done"

        cmd = hystrix.Command(run, timeout_ms=60_000)
        task = asyncio.ensure_future(cmd.execute_async())
        await asyncio.sleep(0)
        cmd.close()
        gate.set()
        return await task

    assert run_async(main()) == "done"


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _cycle(i):
    """One create/use/close cycle: named and anonymous, semaphore and (now
    and then) thread isolation, with a listener."""
    if i % 100 == 0:
        with hystrix.Command(double, name=f"cycle-{i}", isolation="thread") as cmd:
            cmd(i)
        return
    if i % 2:
        cmd = hystrix.Command(double, name=f"cycle-{i}", isolation="semaphore")
    else:
        cmd = hystrix.Command(double, isolation="semaphore", timeout_ms=50)
    cmd.on_event(lambda *_: None)
    cmd(i)
    cmd.close()


def test_create_close_cycles_leave_memory_flat():
    """10^5 cycles after a warm-up: RSS grows by less than 8 MB (80 bytes a
    cycle; one leaked command costs kilobytes), and Python allocations over
    10^4 traced cycles by less than 256 KB."""
    for i in range(5_000):
        _cycle(i)
    gc.collect()
    before = _rss_bytes()
    for i in range(100_000):
        _cycle(i)
    gc.collect()
    grown = _rss_bytes() - before
    assert grown < 8 << 20, f"RSS grew by {grown / 1e6:.1f} MB over 10^5 create/close cycles"

    tracemalloc.start()
    try:
        for i in range(1_000):
            _cycle(i)
        gc.collect()
        start, _ = tracemalloc.get_traced_memory()
        for i in range(10_000):
            _cycle(i)
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 256 << 10, f"Python allocations grew by {(end - start) / 1e3:.0f} KB over 10^4 cycles"


def test_a_shut_down_pool_still_runs_work_submitted_later():
    """What a call in flight at close() may still submit (a hedge, a retry):
    idle workers exited, so a new one must be started for it."""
    from hystrix._circuit import _Pool

    pool = _Pool(2, unique("late"))
    ran = threading.Event()
    pool.submit(lambda: None, lambda: None, tracked=True).result(WAIT_S)
    assert wait_until(lambda: pool._idle == 1)  # the worker waits for work
    pool.shutdown()
    assert wait_until(lambda: pool._threads == 0)  # the idle worker exited
    pool.submit(ran.set, lambda: None)
    assert ran.wait(WAIT_S), "work submitted after shutdown never ran"


class SlowToRead(hystrix.Command):
    """A command whose ``_circuit`` takes a while to read: widens the window
    between two closing threads' check and clear."""

    @property
    def _circuit(self):
        value = self.__dict__["_slow_circuit"]
        time.sleep(0.002)
        return value

    @_circuit.setter
    def _circuit(self, value):
        self.__dict__["_slow_circuit"] = value


def test_closing_from_many_threads_releases_once():
    name = unique("racing")
    keep = hystrix.Command(double, name=name, isolation="semaphore")
    for _ in range(5):
        cmd = SlowToRead(double, name=name, isolation="semaphore")
        barrier = threading.Barrier(4)

        def close(c=cmd, b=barrier):
            b.wait(WAIT_S)
            c.close()

        threads = [threading.Thread(target=close) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT_S)
        assert keep.circuit._holders == 1, "a racing close released another command's hold"
        assert hystrix.get(name) is keep.circuit
    keep.close()


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_a_closed_command_is_freed_without_the_cycle_collector(isolation):
    cmd = hystrix.Command(double, isolation=isolation)
    cmd(1)
    cmd.close()
    ref = weakref.ref(cmd)
    gc.disable()
    try:
        del cmd
        assert ref() is None, "a closed command refers to itself (only the cycle collector frees it)"
    finally:
        gc.enable()
