"""Every error hystrix makes names its command and the setting behind it,
worded lazily from its attributes (semantics §3, "Error messages"); and one
command per name (semantics §2): a second ``Command`` with other settings is
a ``SettingsConflictError``, ``configure`` changes settings."""
import hystrix
import pytest
from hystrix._errors import _new_error
from hystrix.testing import VirtualClock


def test_errors_carry_the_setting_and_its_value_and_word_the_message_from_them(unique_name):
    name = unique_name("msg")
    clock = VirtualClock()
    cmd = hystrix.Command(lambda: 1, name=name, clock=clock, isolation="semaphore", force_open=True)
    with pytest.raises(hystrix.CircuitOpenError) as info:
        cmd.execute()
    err = info.value
    assert (err.command, err.setting, err.value) == (name, "force_open", 1)
    assert str(err) == f"command '{name}': circuit open (force_open)"
    assert err.args == (), "no message is built when the error is made"


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_a_short_circuit_after_a_trip_names_sleep_window_ms(isolation, unique_name):
    name = unique_name("msg-open")
    clock = VirtualClock()

    def down():
        raise ValueError("down")

    cmd = hystrix.Command(
        down, name=name, clock=clock, isolation=isolation, request_volume_threshold=1, sleep_window_ms=5000,
        health_snapshot_interval_ms=0,
    )
    with pytest.raises(ValueError):
        cmd.execute()
    with pytest.raises(hystrix.CircuitOpenError, match=r"^command '.*': circuit open \(sleep_window_ms 5000\)$"):
        cmd.execute()


def test_a_rate_limit_refusal_names_rate_limit_for_period(unique_name):
    name = unique_name("msg-rate")
    cmd = hystrix.Command(
        lambda: 1, name=name, clock=VirtualClock(), isolation="semaphore", rate_limit_for_period=1,
        rate_limit_period_ms=1000,
    )
    cmd.execute()
    with pytest.raises(hystrix.RateLimitedError) as info:
        cmd.execute()
    assert str(info.value) == f"command '{name}' rate limited (rate_limit_for_period 1)"
    assert (info.value.setting, info.value.value) == ("rate_limit_for_period", 1)


def test_a_cancelled_error_names_its_command():
    # What the drivers make for kind "cancelled" (a cancelled future or task
    # reaches its caller as the standard CancelledError of its library).
    err = _new_error("cancelled", "svc")
    assert type(err) is hystrix.CancelledError
    assert str(err) == "command 'svc': cancelled by the caller"


def test_a_second_command_with_other_settings_is_refused_and_changes_nothing(unique_name):
    name = unique_name("s")
    first = hystrix.Command(lambda: 1, name=name, timeout_ms=100)
    with pytest.raises(hystrix.SettingsConflictError) as info:
        hystrix.Command(lambda: 2, name=name, timeout_ms=5000)
    err = info.value
    assert (err.code, err.kind, err.command) == (11, "settings_conflict", name)
    assert (err.key, err.existing, err.given) == ("timeout_ms", "100", "5000")
    assert str(err) == (
        f"command '{name}' already exists with timeout_ms=100; got timeout_ms=5000"
        " — use configure() to change settings"
    )
    assert isinstance(err, ValueError) and isinstance(err, hystrix.HystrixError)
    assert first.circuit._native.config()["timeout_ms"] == 100


def test_the_same_settings_or_none_share_the_circuit(unique_name):
    name = unique_name("s")
    a = hystrix.Command(lambda: 1, name=name, isolation="semaphore", timeout_ms=100)
    b = hystrix.Command(lambda: 2, name=name, isolation="semaphore", timeout_ms=100)
    c = hystrix.Command(lambda: 3, name=name, isolation="semaphore")
    assert a.circuit is b.circuit is c.circuit
    a.execute()
    assert c.snapshot()["cumulative"]["SUCCESS"] == 1


def test_configure_changes_settings_and_later_commands_compare_with_them(unique_name):
    name = unique_name("s")
    hystrix.Command(lambda: 1, name=name, timeout_ms=100)
    hystrix.configure(name, timeout_ms=5000)
    b = hystrix.Command(lambda: 2, name=name, timeout_ms=5000)
    assert b.circuit._native.config()["timeout_ms"] == 5000
    with pytest.raises(hystrix.SettingsConflictError, match="timeout_ms=5000; got timeout_ms=100"):
        hystrix.Command(lambda: 3, name=name, timeout_ms=100)
    with pytest.raises(hystrix.InvalidConfigError):
        hystrix.Command(lambda: 4, name=name, timeout_ms=0)


def test_the_decorator_follows_the_same_rule(unique_name):
    name = unique_name("deco")

    @hystrix.command(name=name, timeout_ms=100)
    def f():
        return 1

    with pytest.raises(hystrix.SettingsConflictError):

        @hystrix.command(name=name, timeout_ms=200)
        def g():
            return 2


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_a_timeout_the_deadline_decided_names_deadline_ms(isolation, unique_name):
    import threading

    clock = VirtualClock()
    late = threading.Event()

    def slow():
        clock.advance(50)  # past the 40 ms deadline, well within timeout_ms
        if isolation == "thread":
            late.wait(10)
        return "late"

    cmd = hystrix.Command(
        slow, name=unique_name("deadline"), clock=clock, isolation=isolation, timeout_ms=1000, deadline_ms=40
    )
    try:
        with pytest.raises(hystrix.TimeoutError) as info:
            cmd.execute()
    finally:
        late.set()
    assert (info.value.setting, info.value.value) == ("deadline_ms", 40)
    assert str(info.value).endswith("timed out after 40 ms (deadline_ms)")
