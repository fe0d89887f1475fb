"""Commands, circuits, runs and listeners are freed when dropped."""
import asyncio
import gc
import weakref

import pytest

import hystrix
from conftest import Boom, run_async, wait_until
from hystrix.testing import VirtualClock


class Payload:
    """A weak-referenceable object for closures to capture."""


def collect():
    for _ in range(3):
        gc.collect()


def alive_after_collect(refs):
    """The names in ``refs`` whose objects survive collection. Polled: with
    thread isolation a pool worker drops its last reference to the finished
    call (``del work_item``) only after the caller was woken, and on a loaded
    machine the caller can get here first. Anything really leaked is still
    alive when the bound runs out."""
    alive = []

    def freed():
        collect()
        alive[:] = [k for k, r in refs.items() if r() is not None]
        return not alive

    wait_until(freed, interval=0.01)
    return alive


def _build_and_use(isolation, fail):
    payload = Payload()

    def run():
        if fail:
            raise Boom(payload)
        return payload

    def fallback(err):
        return payload

    cmd = hystrix.Command(run, fallback, isolation=isolation, clock=VirtualClock())
    assert cmd.execute() is payload
    refs = {
        "command": weakref.ref(cmd),
        "circuit": weakref.ref(cmd.circuit),
        "run": weakref.ref(run),
        "fallback": weakref.ref(fallback),
        "payload": weakref.ref(payload),
    }
    return cmd, refs


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
@pytest.mark.parametrize("fail", [False, True])
def test_command_and_circuit_freed(isolation, fail):
    cmd, refs = _build_and_use(isolation, fail)
    collect()
    assert refs["command"]() is cmd  # alive while referenced
    del cmd
    assert alive_after_collect(refs) == []


def test_async_command_freed():
    refs = {}

    async def main():
        clock = VirtualClock()
        payload = Payload()

        async def run():
            await clock.sleep(1000)
            return payload

        cmd = hystrix.Command(run, lambda e: payload, clock=clock, timeout_ms=10)
        task = asyncio.ensure_future(cmd.execute_async())
        await clock.advance_async(10)
        assert task.result() is payload
        refs.update(command=weakref.ref(cmd), run=weakref.ref(run), payload=weakref.ref(payload))

    run_async(main())
    collect()
    assert [k for k, r in refs.items() if r() is not None] == []


def test_decorated_function_command_freed():
    def make():
        @hystrix.command(isolation="semaphore")
        def f():
            return 1

        assert f() == 1
        return weakref.ref(f), weakref.ref(f.command)

    rf, rc = make()
    collect()
    assert rf() is None and rc() is None


def _owner_pattern(isolation):
    class Service:
        def __init__(self):
            self.cmd = hystrix.Command(self.fetch, isolation=isolation, clock=VirtualClock())

        def fetch(self):
            return "data"

    svc = Service()
    assert svc.cmd.execute() == "data"
    return weakref.ref(svc), weakref.ref(svc.cmd)


@pytest.mark.parametrize(
    "isolation",
    [
        "semaphore",
        "thread",
    ],
)
def test_cycle_through_run_is_collected(isolation):
    r_svc, r_cmd = _owner_pattern(isolation)
    assert alive_after_collect({"service": r_svc, "command": r_cmd}) == []


def _listener_capturing(seen):
    payload = Payload()

    def listener(name, event, at):
        seen.append((payload, event))

    return listener, weakref.ref(listener), weakref.ref(payload)


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_listener_freed_after_unsubscribe(isolation):
    cmd = hystrix.Command(lambda: 1, isolation=isolation, clock=VirtualClock())
    seen = []
    listener, r_listener, r_payload = _listener_capturing(seen)
    lid = cmd.on_event(listener)
    sid = cmd.on_state_change(listener)
    del listener
    collect()
    assert r_listener() is not None  # held by the subscription
    cmd.execute()
    assert [e for _, e in seen] == ["SUCCESS"]
    assert cmd.circuit.unsubscribe(lid) is True
    assert cmd.circuit.unsubscribe(sid) is True
    seen.clear()
    collect()
    assert r_listener() is None
    assert r_payload() is None
    assert cmd.execute() == 1


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_listener_referencing_command_freed_after_unsubscribe(isolation):
    def make():
        cmd = hystrix.Command(lambda: 1, isolation=isolation, clock=VirtualClock())
        snaps = []
        lid = cmd.on_event(lambda n, e, at: snaps.append(cmd.snapshot()["state"]))
        cmd.execute()
        assert snaps == ["closed"]
        assert cmd.circuit.unsubscribe(lid)
        return weakref.ref(cmd), weakref.ref(cmd.circuit)

    r_cmd, r_circuit = make()
    assert alive_after_collect({"command": r_cmd, "circuit": r_circuit}) == []


def test_listeners_of_dropped_command_are_freed():
    payload = Payload()
    r_payload = weakref.ref(payload)
    cmd = hystrix.Command(lambda: 1, isolation="semaphore", clock=VirtualClock())
    cmd.on_event(lambda *a, p=payload: None)
    del payload
    collect()
    assert r_payload() is not None
    del cmd
    collect()
    assert r_payload() is None


def test_removed_named_circuit_is_freed(unique_name):
    name = unique_name("gc")
    cmd = hystrix.Command(lambda: 1, name=name, isolation="semaphore")
    cmd.execute()
    r_circuit = weakref.ref(cmd.circuit)
    del cmd
    collect()
    assert r_circuit() is not None  # the registry still holds it
    assert hystrix.remove(name) is True
    collect()
    assert r_circuit() is None


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
@pytest.mark.parametrize("topic", ["event", "state"])
def test_listener_referencing_its_own_command_does_not_pin_it(isolation, topic):
    """A listener that closes over its own command, never unsubscribed: the
    cycle runs through the native command, so the collector must see the
    listener there and free the command, its circuit and the listener."""

    def make():
        cmd = hystrix.Command(lambda: 1, isolation=isolation, clock=VirtualClock())
        payload = Payload()
        seen = []

        def listener(*args):
            seen.append((cmd.circuit, payload))

        if topic == "event":
            cmd.on_event(listener)
        else:
            cmd.on_state_change(listener)
        cmd.execute()
        assert len(seen) == (1 if topic == "event" else 0)
        return {
            "command": weakref.ref(cmd),
            "circuit": weakref.ref(cmd.circuit),
            "listener": weakref.ref(listener),
            "payload": weakref.ref(payload),
        }

    assert alive_after_collect(make()) == []


def test_listener_cycles_do_not_grow_memory():
    """20,000 commands whose listeners refer to them: memory comes back
    (before the fix every one stayed alive with its native state)."""
    import tracemalloc

    def one():
        cmd = hystrix.Command(lambda: 1, isolation="semaphore", clock=VirtualClock())
        cmd.on_event(lambda *a: cmd.circuit)
        cmd.execute()

    for _ in range(200):
        one()
    collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(20_000):
        one()
    collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 2_000_000, f"{grown} bytes still held after 20,000 listener cycles"
