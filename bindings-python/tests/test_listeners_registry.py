"""Listeners, the named registry and the snapshot's shape."""
import subprocess
import sys
import textwrap

import hystrix
import pytest
from conftest import EVENT_NAMES, Boom, counts


def failing(fail=True):
    if fail:
        raise Boom()
    return "ok"


# --- on_event --------------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_on_event_in_order_with_name_and_time(clock, unique_name, isolation):
    name = unique_name("events")
    cmd = hystrix.Command(failing, lambda e, fail=True: "fb", name=name, clock=clock, isolation=isolation)
    seen = []
    lid = cmd.on_event(lambda *a: seen.append(a))
    assert isinstance(lid, int)
    clock.advance(5)
    assert cmd.execute(fail=False) == "ok"
    clock.advance(10)
    assert cmd.execute() == "fb"
    cmd.configure(force_open=True)
    assert cmd.execute() == "fb"
    assert seen == [
        (name, "SUCCESS", 5),
        (name, "FAILURE", 15),
        (name, "FALLBACK_SUCCESS", 15),
        (name, "SHORT_CIRCUITED", 15),
        (name, "FALLBACK_SUCCESS", 15),
    ]


def test_on_event_anonymous_command_name(clock):
    cmd = hystrix.Command(lambda: 1, clock=clock, isolation="semaphore")
    seen = []
    cmd.on_event(lambda *a: seen.append(a))
    cmd.execute()
    assert seen == [("", "SUCCESS", 0)]


def test_unsubscribe(clock):
    cmd = hystrix.Command(lambda: 1, clock=clock, isolation="semaphore")
    a, b = [], []
    ida = cmd.on_event(lambda *x: a.append(x[1]))
    idb = cmd.on_event(lambda *x: b.append(x[1]))
    assert ida != idb
    cmd.execute()
    assert cmd.circuit.unsubscribe(ida) is True
    assert cmd.circuit.unsubscribe(ida) is False
    cmd.execute()
    assert a == ["SUCCESS"]
    assert b == ["SUCCESS", "SUCCESS"]
    assert cmd.circuit.unsubscribe(idb) is True
    cmd.execute()
    assert b == ["SUCCESS", "SUCCESS"]
    assert cmd.circuit.unsubscribe(123456789) is False


# --- on_state_change ---------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_state_changes_closed_open_half_open_closed(clock, isolation):
    cmd = hystrix.Command(
        failing,
        lambda e, fail=True: "fb",
        clock=clock,
        isolation=isolation,
        request_volume_threshold=2,
        error_threshold_percentage=50,
        health_snapshot_interval_ms=0,
        sleep_window_ms=1000,
    )
    transitions = []
    cmd.on_state_change(lambda name, frm, to, at: transitions.append((name, frm, to, at)))
    clock.advance(10)
    cmd.execute()
    assert transitions == []
    cmd.execute()
    assert transitions == [("", "closed", "open", 10)]
    assert cmd.snapshot()["state"] == "open"
    clock.advance(500)
    assert cmd.execute(fail=False) == "fb"  # still open: short-circuited
    assert counts(cmd)["SHORT_CIRCUITED"] == 1
    clock.advance(500)  # t = 1010 = opened_at + sleep_window
    assert cmd.execute(fail=False) == "ok"  # the probe
    assert transitions == [
        ("", "closed", "open", 10),
        ("", "open", "half_open", 1010),
        ("", "half_open", "closed", 1010),
    ]
    snap = cmd.snapshot()
    assert snap["state"] == "closed"
    assert snap["health"] == {"total": 0, "errors": 0, "error_percentage": 0}


def test_failed_probe_reopens(clock):
    cmd = hystrix.Command(
        failing,
        lambda e, fail=True: "fb",
        clock=clock,
        isolation="semaphore",
        request_volume_threshold=1,
        health_snapshot_interval_ms=0,
        sleep_window_ms=100,
    )
    transitions = []
    cmd.on_state_change(lambda n, f, t, at: transitions.append((f, t, at)))
    cmd.execute()
    clock.advance(100)
    cmd.execute()
    assert transitions == [("closed", "open", 0), ("open", "half_open", 100), ("half_open", "open", 100)]
    clock.advance(99)
    cmd.execute(fail=False)
    assert cmd.snapshot()["state"] == "open"
    clock.advance(1)
    assert cmd.execute(fail=False) == "ok"
    assert cmd.snapshot()["state"] == "closed"


# --- listeners that raise ------------------------------------------------------------


def listener_records(caplog):
    """The hystrix logger's records about listeners that raised."""
    return [r for r in caplog.records if r.name == "hystrix" and "listener" in r.getMessage()]


@pytest.mark.parametrize("isolation", ["semaphore", "thread"])
def test_raising_listener_is_logged_counted_and_does_not_break_the_command(clock, caplog, isolation):
    def bad_listener(name, event, at):
        raise RuntimeError(f"listener broke on {event}")

    def bad_state_listener(*a):
        raise ZeroDivisionError("state listener broke")

    later = []
    cmd = hystrix.Command(
        failing, clock=clock, isolation=isolation, request_volume_threshold=1, health_snapshot_interval_ms=0
    )
    cmd.on_event(bad_listener)
    cmd.on_state_change(bad_state_listener)
    cmd.on_event(lambda *a: later.append(a[1]))
    assert cmd.execute(fail=False) == "ok"
    assert later == ["SUCCESS"]
    records = listener_records(caplog)
    assert len(records) == 1
    record = records[0]
    assert record.levelname == "ERROR"
    assert record.exc_info[0] is RuntimeError and "SUCCESS" in str(record.exc_info[1])
    # The message names the command and the listener; the traceback is kept.
    assert "'failing'" in record.getMessage() and "bad_listener" in record.getMessage()
    assert "listener broke on SUCCESS" in caplog.text and "Traceback" in caplog.text
    assert cmd.snapshot()["listener_panics"] == 1
    with pytest.raises(Boom):
        cmd.execute()
    assert cmd.snapshot()["state"] == "open"
    assert later == ["SUCCESS", "FAILURE", "FALLBACK_MISSING"]
    assert any(r.exc_info[0] is ZeroDivisionError for r in listener_records(caplog))
    # SUCCESS, FAILURE, FALLBACK_MISSING from the event listener, closed->open from the state one.
    assert cmd.snapshot()["listener_panics"] == 4
    assert counts(cmd) == {"SUCCESS": 1, "FAILURE": 1, "FALLBACK_MISSING": 1}


def test_transitions_are_logged_open_at_warning_others_at_info(clock, caplog, unique_name):
    caplog.set_level("INFO", logger="hystrix")
    name = unique_name("logged")
    cmd = hystrix.Command(
        failing,
        name=name,
        clock=clock,
        isolation="semaphore",
        request_volume_threshold=1,
        health_snapshot_interval_ms=0,
        sleep_window_ms=100,
    )
    with pytest.raises(Boom):
        cmd.execute()
    clock.advance(100)
    assert cmd.execute(fail=False) == "ok"
    got = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "hystrix"]
    assert got == [
        ("WARNING", f"command {name!r}: circuit closed -> open at 0 ms"),
        ("INFO", f"command {name!r}: circuit open -> half_open at 100 ms"),
        ("INFO", f"command {name!r}: circuit half_open -> closed at 100 ms"),
    ]


def test_listener_may_call_back_into_the_command(clock):
    cmd = hystrix.Command(lambda: 1, clock=clock, isolation="semaphore")
    seen = []
    cmd.on_event(lambda n, e, at: seen.append(cmd.snapshot()["cumulative"][e]))
    assert cmd.execute() == 1
    assert cmd.execute() == 1
    assert seen == [1, 2]


_GIL_DEADLOCK_SCRIPT = textwrap.dedent(
    """
    import threading, time, hystrix
    from hystrix.testing import VirtualClock
    clock = VirtualClock()
    release, started = threading.Event(), threading.Event()
    def run():
        started.set()
        release.wait(30)
        return "late"
    cmd = hystrix.Command(run, lambda e: "fb", clock=clock, timeout_ms=100, isolation="thread")
    def listener(name, event, at):
        if event == "FALLBACK_SUCCESS":
            release.set()     # the timed-out run ends now, its worker reports run_stopped()
            time.sleep(0.2)   # any I/O in a listener releases the GIL
    cmd.on_event(listener)
    def advance():
        started.wait(30)
        clock.advance(100)
    threading.Thread(target=advance, daemon=True).start()
    print(cmd.execute(), flush=True)
    """
)


def test_listener_releasing_gil_during_thread_timeout_does_not_deadlock():
    # The timeout only ends a deadlocked child (a passing one takes well under
    # a second); a child slowed down by a loaded machine must not be taken for one.
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _GIL_DEADLOCK_SCRIPT], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("execute() deadlocked")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "fb"


# --- registry ----------------------------------------------------------------------------


def test_registry_configure_get_and_commands_share_state(clock, unique_name):
    name = unique_name("reg")
    circuit = hystrix.configure(name, request_volume_threshold=1, health_snapshot_interval_ms=0)
    assert isinstance(circuit, hystrix.Circuit)
    assert circuit.name == name
    assert hystrix.get(name) is circuit
    assert circuit.config()["request_volume_threshold"] == 1
    # configure again: same circuit, updated.
    assert hystrix.configure(name, sleep_window_ms=777) is circuit
    assert circuit.config()["sleep_window_ms"] == 777
    assert circuit.config()["request_volume_threshold"] == 1

    bad = hystrix.Command(failing, name=name, clock=clock, isolation="semaphore")
    good = hystrix.Command(lambda: "good", name=name, isolation="thread")
    assert bad.circuit is circuit and good.circuit is circuit
    with pytest.raises(Boom):
        bad.execute()
    snap = hystrix.get(name).snapshot()
    assert snap["state"] == "open"
    assert snap["name"] == name
    with pytest.raises(hystrix.CircuitOpenError):
        good.execute()
    assert hystrix.get(name).snapshot()["cumulative"]["SHORT_CIRCUITED"] == 1


def test_command_with_name_and_other_config_is_refused_configure_changes_it(unique_name):
    # One command per name (semantics §2): other settings are a conflict,
    # not a silent reconfiguration of the shared circuit.
    name = unique_name("reg2")
    a = hystrix.Command(lambda: 1, name=name, isolation="semaphore")
    assert a.circuit.config()["force_open"] is False
    with pytest.raises(hystrix.SettingsConflictError, match="force_open=false; got force_open=true"):
        hystrix.Command(lambda: 2, name=name, isolation="semaphore", force_open=True)
    assert a.circuit.config()["force_open"] is False
    hystrix.configure(name, force_open=True)
    b = hystrix.Command(lambda: 2, name=name, isolation="semaphore", force_open=True)
    assert a.circuit is b.circuit
    with pytest.raises(hystrix.CircuitOpenError):
        a.execute()


def test_get_creates_with_defaults_and_remove(unique_name):
    name = unique_name("reg3")
    c1 = hystrix.get(name)
    assert c1.config()["timeout_ms"] == 1000
    assert hystrix.remove(name) is True
    assert hystrix.remove(name) is False
    c2 = hystrix.get(name)
    assert c2 is not c1
    cmd = hystrix.Command(lambda: 1, name=name, isolation="semaphore")
    assert cmd.circuit is c2
    cmd.execute()
    assert c2.snapshot()["cumulative"]["SUCCESS"] == 1
    assert c1.snapshot()["cumulative"]["SUCCESS"] == 0


def test_registry_listeners_on_circuit(clock, unique_name):
    name = unique_name("reg4")
    circuit = hystrix.configure(name)
    seen = []
    lid = circuit.on_event(lambda n, e, at: seen.append((n, e)))
    cmd = hystrix.Command(lambda: 1, name=name, clock=clock, isolation="semaphore")
    cmd.execute()
    assert seen == [(name, "SUCCESS")]
    assert circuit.unsubscribe(lid) is True


# --- snapshot ----------------------------------------------------------------------


def test_snapshot_shape(clock):
    cmd = hystrix.Command(lambda: 1, clock=clock, isolation="semaphore")
    cmd.execute()
    snap = cmd.snapshot()
    assert snap["state"] in ("closed", "open", "half_open")
    assert set(snap["health"]) == {"total", "errors", "error_percentage"}
    for kind in ("rolling", "cumulative"):
        assert set(snap[kind]) == set(EVENT_NAMES)
        assert all(isinstance(v, int) for v in snap[kind].values())
    assert snap["rolling"]["SUCCESS"] == 1 and snap["cumulative"]["SUCCESS"] == 1
    assert isinstance(snap["concurrent"], int) and snap["concurrent"] == 0
    assert isinstance(snap["fallback_concurrent"], int) and snap["fallback_concurrent"] == 0
    percentiles = {"p0", "p25", "p50", "p75", "p90", "p95", "p99", "p99_5", "p100"}
    for kind in ("latency_run", "latency_total"):
        assert percentiles <= set(snap[kind])
        assert snap[kind]["count"] == 1


def test_snapshot_latency_and_health_values(clock):
    def run(ms, fail=False):
        clock.advance(ms)
        if fail:
            raise Boom()
        return ms

    cmd = hystrix.Command(run, clock=clock, isolation="semaphore", health_snapshot_interval_ms=0, timeout_ms=5000)
    for ms in (10, 20, 30, 40):
        cmd.execute(ms)
    with pytest.raises(Boom):
        cmd.execute(0, fail=True)
    snap = cmd.snapshot()
    assert snap["health"] == {"total": 5, "errors": 1, "error_percentage": 20}
    lat = snap["latency_run"]
    assert lat["count"] == 5
    assert lat["p0"] == 0 and lat["p100"] == 40
    assert lat["p0"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p100"]


def test_rolling_window_expires_but_cumulative_stays(clock):
    cmd = hystrix.Command(
        lambda: 1, clock=clock, isolation="semaphore", rolling_window_ms=1000, rolling_window_buckets=10
    )
    cmd.execute()
    clock.advance(999)
    assert cmd.snapshot()["rolling"]["SUCCESS"] == 1
    clock.advance(101)
    snap = cmd.snapshot()
    assert snap["rolling"]["SUCCESS"] == 0
    assert snap["cumulative"]["SUCCESS"] == 1


def test_snapshot_state_follows_force_flags(clock):
    cmd = hystrix.Command(lambda: 1, clock=clock, isolation="semaphore")
    assert cmd.snapshot()["state"] == "closed"
    cmd.configure(force_open=True)
    assert cmd.snapshot()["state"] == "open"
    cmd.configure(force_open=False, force_closed=True)
    assert cmd.snapshot()["state"] == "closed"


# --- repr and state (issue 10.20) ---------------------------------------------------------


def test_repr_shows_name_state_and_key_settings(clock, unique_name):
    name = unique_name("shown")
    cmd = hystrix.Command(
        failing, name=name, clock=clock, isolation="semaphore", timeout_ms=250, max_concurrent_requests=3
    )
    assert repr(cmd) == (
        f"<hystrix.Command {name!r} state=closed isolation=semaphore timeout_ms=250 max_concurrent_requests=3>"
    )
    cmd.configure(force_open=True, timeout_enabled=False)
    assert repr(cmd) == (
        f"<hystrix.Command {name!r} state=open isolation=semaphore timeout_ms=off max_concurrent_requests=3>"
    )
    assert repr(cmd.circuit) == f"<hystrix.Circuit {name!r} state=open timeout_ms=250 max_concurrent_requests=3>"
    anonymous = hystrix.Command(failing, clock=clock)
    assert repr(anonymous).startswith("<hystrix.Command 'failing' state=closed isolation=thread timeout_ms=1000")


def test_repr_of_a_command_with_a_broken_clock_does_not_raise():
    class Broken:
        def now(self):
            raise RuntimeError("no time")

    cmd = hystrix.Command(failing, clock=Broken())
    assert repr(cmd) == "<hystrix.Command 'failing' thread (RuntimeError reading it)>"


def test_state_property_follows_the_circuit(clock):
    cmd = hystrix.Command(
        failing,
        clock=clock,
        isolation="semaphore",
        request_volume_threshold=1,
        health_snapshot_interval_ms=0,
        sleep_window_ms=100,
    )
    assert cmd.state == cmd.circuit.state == "closed"
    with pytest.raises(Boom):
        cmd.execute()
    assert cmd.state == "open"
    clock.advance(100)
    assert cmd.state == "open"  # like a snapshot: only a call moves it to half_open
    assert cmd.execute(fail=False) == "ok"
    assert cmd.state == "closed"
