"""@hystrix.command on functions, coroutine functions and methods."""
import asyncio
import inspect

import hystrix
import pytest
from conftest import Boom, counts, run_async
from hystrix.testing import VirtualClock


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_decorates_sync_function(isolation):
    clock = VirtualClock()

    @hystrix.command(isolation=isolation, clock=clock, fallback=lambda e, x: -x)
    def double(x):
        """Doubles."""
        if x < 0:
            raise Boom(x)
        return 2 * x

    assert double(4) == 8
    assert double(-3) == 3
    assert double.__name__ == "double"
    assert double.__doc__ == "Doubles."
    assert isinstance(double.command, hystrix.Command)
    assert counts(double.command) == {"SUCCESS": 1, "FAILURE": 1, "FALLBACK_SUCCESS": 1}


def test_bare_decorator_without_arguments():
    @hystrix.command
    def ident(x):
        return x

    assert ident.command.circuit.config()["timeout_ms"] == 1000  # the defaults
    # The default thread isolation runs on a pool thread against the real
    # clock: a loaded machine may start that thread later than the default
    # 1 s timeout. The call itself still goes through the bare decorator.
    ident.command.configure(timeout_ms=60_000)
    assert ident("v") == "v"
    assert counts(ident.command) == {"SUCCESS": 1}


def test_decorator_config_is_validated():
    with pytest.raises(hystrix.InvalidConfigError) as info:

        @hystrix.command(timeout_ms=0)
        def f():
            return 1

    assert info.value.key == "timeout_ms"


def test_decorates_async_function():
    clock = VirtualClock()

    @hystrix.command(clock=clock, timeout_ms=100, fallback=lambda e, x: ("fb", type(e)))
    async def fetch(x):
        await clock.sleep(x)
        return x

    assert inspect.iscoroutinefunction(fetch)
    assert fetch.__name__ == "fetch"

    async def main():
        fast = asyncio.ensure_future(fetch(10))
        slow = asyncio.ensure_future(fetch(500))
        await clock.advance_async(100)
        assert fast.result() == 10
        assert slow.result() == ("fb", hystrix.TimeoutError)

    run_async(main())
    assert counts(fetch.command) == {"SUCCESS": 1, "TIMEOUT": 1, "FALLBACK_SUCCESS": 1}


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_decorates_methods_shared_circuit(isolation):
    clock = VirtualClock()
    fallbacks = []

    def fallback(err, self, key):
        fallbacks.append((self.name, key, type(err)))
        return f"{self.name}:fallback"

    class Repo:
        def __init__(self, name, fail):
            self.name = name
            self.fail = fail

        @hystrix.command(
            isolation=isolation,
            clock=clock,
            fallback=fallback,
            request_volume_threshold=3,
            health_snapshot_interval_ms=0,
        )
        def lookup(self, key):
            if self.fail:
                raise Boom(key)
            return f"{self.name}:{key}"

    a, b = Repo("a", fail=False), Repo("b", fail=True)
    assert a.lookup("k") == "a:k"
    assert b.lookup("k") == "b:fallback"
    assert b.lookup("j") == "b:fallback"
    assert fallbacks == [("b", "k", Boom), ("b", "j", Boom)]
    # One circuit for the function: b's failures opened it for a too.
    cmd = Repo.lookup.command
    assert cmd.snapshot()["state"] == "open"
    assert a.lookup("k") == "a:fallback"
    assert fallbacks[-1] == ("a", "k", hystrix.CircuitOpenError)
    assert counts(cmd) == {"SUCCESS": 1, "FAILURE": 2, "SHORT_CIRCUITED": 1, "FALLBACK_SUCCESS": 3}


def test_decorates_async_methods():
    clock = VirtualClock()

    class Client:
        def __init__(self, base):
            self.base = base

        @hystrix.command(clock=clock)
        async def get(self, path):
            await asyncio.sleep(0)
            return self.base + path

    async def main():
        assert await Client("http://a").get("/x") == "http://a/x"
        assert await Client("http://b").get("/y") == "http://b/y"

    run_async(main())
    assert counts(Client.get.command) == {"SUCCESS": 2}


def test_decorator_with_name_uses_registry(unique_name):
    name = unique_name("deco")

    @hystrix.command(name=name, isolation="semaphore", force_open=True)
    def f():
        return 1

    assert hystrix.get(name) is f.command.circuit
    with pytest.raises(hystrix.CircuitOpenError):
        f()
    assert hystrix.get(name).snapshot()["cumulative"]["SHORT_CIRCUITED"] == 1


# Fixed (issue 10.17): a decorated generator (or async generator) function
# was silently unprotected: only the call creating the generator went through
# the command, so failures and time spent while iterating never counted.
# Such functions are now refused at decoration and by Command().
def _numbers():
    yield 1


async def _async_numbers():
    yield 1


class _GeneratorCallable:
    def __call__(self):
        yield 1


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
@pytest.mark.parametrize(
    "fn, kind",
    [(_numbers, "a generator"), (_async_numbers, "an async generator"), (_GeneratorCallable(), "a generator")],
)
def test_generator_functions_are_refused_with_a_clear_error(isolation, fn, kind):
    label = getattr(fn, "__qualname__", type(fn).__qualname__)
    with pytest.raises(TypeError, match=f"'{label}' is {kind} function: hystrix would only protect the call"):
        hystrix.command(fn, isolation=isolation)
    with pytest.raises(TypeError, match=f"'{label}' is {kind} function"):
        hystrix.command(isolation=isolation, timeout_ms=100)(fn)
    with pytest.raises(TypeError, match=f"'{label}' is {kind} function"):
        hystrix.Command(fn, isolation=isolation)


def test_a_function_returning_a_list_from_a_generator_is_protected(clock):
    @hystrix.command(clock=clock, isolation="semaphore")
    def numbers():
        return list(_numbers())

    assert numbers() == [1]
    assert numbers.command.snapshot()["cumulative"]["SUCCESS"] == 1
