"""What creating a command does, which its fast path (issue 10 item 7:
≤ 5 µs) must keep: the wrapper's identity is the run's (as
``functools.update_wrapper`` gives it), bad settings fail at construction
naming the key, every circuit logs its transitions, and the thread pool's
lock, made on first use, is replaced in a forked child."""
import functools
import os
import threading

import hystrix
import pytest
from conftest import WAIT_S, Boom
from test_threads import _in_forked_child


def documented(x: int, *, scale: float = 1.0) -> int:
    """Documented run."""
    return x


documented.marker = "set on the run"  # type: ignore[attr-defined]


class CallableRun:
    """A callable object: no ``__name__`` of its own."""

    def __call__(self, x: int) -> int:
        return x


IDENTITY = ("__module__", "__name__", "__qualname__", "__doc__", "__annotations__")


def make_command(run, **kw):
    return hystrix.Command(run, **kw)


def make_decorated(run, **kw):
    return hystrix.command(**kw)(run)


@pytest.mark.parametrize("isolation", ["thread", "semaphore"])
@pytest.mark.parametrize(
    "run",
    [documented, CallableRun(), functools.partial(documented, scale=2.0), lambda x: x],
    ids=["function", "callable-object", "partial", "lambda"],
)
def test_command_has_the_identity_update_wrapper_gives(run, isolation):
    cmd = hystrix.Command(run, isolation=isolation)
    reference = functools.update_wrapper(CallableRun(), run, updated=())
    for attr in IDENTITY:
        assert getattr(cmd, attr, "missing") == getattr(reference, attr, "missing"), attr
    assert cmd.__wrapped__ is run
    # update_wrapper(updated=()): the run's own attributes are not copied.
    assert "marker" not in vars(cmd)
    assert {k for k in vars(cmd) if k.startswith("__")} == {k for k in vars(reference) if k.startswith("__")}
    cmd.close()


def test_command_identity_can_be_changed_per_command():
    a, b = hystrix.Command(documented), hystrix.Command(documented)
    a.__doc__ = "changed"
    a.__name__ = "renamed"
    assert (b.__doc__, b.__name__) == ("Documented run.", "documented")
    assert documented.__doc__ == "Documented run."
    assert hystrix.Command.__doc__.startswith("A run, an optional fallback")
    a.close()
    b.close()


@pytest.mark.parametrize("isolation", ["thread", "semaphore"])
def test_decorated_function_has_the_identity_functools_wraps_gives(isolation):
    decorated = hystrix.command(isolation=isolation)(documented)

    @functools.wraps(documented)
    def reference(*args, **kwargs):
        return documented(*args, **kwargs)

    for attr in IDENTITY:
        assert getattr(decorated, attr) == getattr(reference, attr), attr
    assert decorated.__wrapped__ is documented
    assert decorated.marker == "set on the run"  # wraps copies the run's __dict__
    assert set(vars(decorated)) == set(vars(reference)) | {"command"}
    assert decorated.command.__wrapped__ is documented
    decorated.command.close()


def test_decorating_a_wrapper_points_wrapped_at_that_wrapper():
    @functools.wraps(documented)
    def outer(*args, **kwargs):
        return documented(*args, **kwargs)

    decorated = hystrix.command(isolation="semaphore")(outer)
    # outer's __dict__ holds __wrapped__ = documented: it must not win.
    assert decorated.__wrapped__ is outer
    assert decorated.command.__wrapped__ is outer
    assert decorated(3) == 3
    decorated.command.close()


def test_decorated_coroutine_function_keeps_its_identity():
    async def fetch(x: int) -> int:
        """Fetches."""
        return x

    decorated = hystrix.command(fetch)
    assert (decorated.__name__, decorated.__doc__, decorated.__wrapped__) == ("fetch", "Fetches.", fetch)
    assert decorated.__annotations__ == {"x": int, "return": int}
    decorated.command.close()


BAD_SETTINGS = [
    ({"timeout_ms": 0}, "timeout_ms"),
    ({"timeout_ms": "250"}, "timeout_ms"),
    ({"force_open": 1}, "force_open"),
    ({"retry_jitter": "sometimes"}, "retry_jitter"),
    ({"no_such_setting": 1}, "no_such_setting"),
    ({"adaptive_min_limit": 50, "adaptive_max_limit": 10}, "adaptive_max_limit"),
]


@pytest.mark.parametrize("make", [make_command, make_decorated], ids=["Command", "decorator"])
@pytest.mark.parametrize("named", [False, True], ids=["anonymous", "named"])
@pytest.mark.parametrize("settings, key", BAD_SETTINGS)
def test_bad_settings_fail_at_construction_naming_the_key(make, named, settings, key, unique_name):
    name = unique_name("bad") if named else None
    with pytest.raises(hystrix.InvalidConfigError) as info:
        make(documented, name=name, **settings)
    assert info.value.key == key
    assert key in str(info.value)
    if named:  # nothing was registered under the name
        assert hystrix.remove(name) is False


def test_settings_given_are_not_kept_by_reference():
    settings = {"timeout_ms": 250}
    cmd = hystrix.Command(documented, **settings)
    settings["timeout_ms"] = 5
    assert cmd.circuit.config()["timeout_ms"] == 250
    cmd.close()


def test_anonymous_command_logs_its_transitions_before_its_listeners_see_them(caplog, clock):
    caplog.set_level("INFO", logger="hystrix")

    def flaky():
        raise Boom()

    cmd = hystrix.Command(
        flaky, clock=clock, isolation="semaphore", request_volume_threshold=1, health_snapshot_interval_ms=0
    )
    logged_before = []
    cmd.on_state_change(lambda *_: logged_before.append(len(caplog.records)))
    with pytest.raises(Boom):
        cmd.execute()
    label = flaky.__qualname__  # an anonymous command is called by its run
    got = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "hystrix"]
    assert got == [("WARNING", f"command {label!r}: circuit closed -> open at 0 ms")]
    assert logged_before == [1]
    cmd.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_command_first_used_in_a_forked_child_works():
    cmd = hystrix.Command(lambda x: x * 2, timeout_ms=int(WAIT_S * 1000))
    assert _in_forked_child(lambda: cmd.execute(4) == 8) == 0
    assert cmd.execute(5) == 10
    cmd.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_pool_lock_held_at_the_fork_is_replaced_in_the_child():
    cmd = hystrix.Command(lambda x: x * 2, timeout_ms=int(WAIT_S * 1000))
    assert cmd.execute(1) == 2  # the circuit has its pool and its lock now
    lock = cmd.circuit._pool_lock
    assert lock is not None
    holding, release = threading.Event(), threading.Event()

    def hold():
        with lock:
            holding.set()
            release.wait(WAIT_S)

    t = threading.Thread(target=hold)
    t.start()
    assert holding.wait(WAIT_S)
    try:
        # The thread holding the lock does not exist in the child.
        assert _in_forked_child(lambda: cmd.execute(4) == 8) == 0
    finally:
        release.set()
        t.join(WAIT_S)
    assert cmd.execute(5) == 10
    cmd.close()
