"""Named commands live in the core registry (issue #9 §5): its list of names
is what observation shows, ``configure`` before or after first use goes
through it, and closing the last command of a name or ``remove`` takes the
name out of it; a forked child keeps it usable."""
import os
import warnings

import hystrix
import pytest
from hystrix import _hystrix
from hystrix.observe import metrics_text


def test_the_core_registry_lists_named_commands_and_observation_follows_it(unique_name):
    a, b = unique_name("reg-b"), unique_name("reg-a")
    ca = hystrix.Command(lambda: 1, name=a)
    cb = hystrix.Command(lambda: 1, name=b)
    anon = hystrix.Command(lambda: 1)
    mine = [n for n in _hystrix.registry_names() if n in (a, b)]
    assert mine == sorted([a, b])
    text = metrics_text()
    assert a in text and b in text
    cb.close()
    assert b not in _hystrix.registry_names()
    assert b not in metrics_text(), "observation lists what the core registry holds"
    ca.close()
    anon.close()


def test_closing_the_last_holder_frees_the_name_for_other_settings(unique_name):
    name = unique_name("reg-reuse")
    first = hystrix.Command(lambda: 1, name=name, timeout_ms=100)
    second = hystrix.Command(lambda: 2, name=name)
    first.close()
    assert name in _hystrix.registry_names(), "a holder is left"
    with pytest.raises(hystrix.SettingsConflictError):
        hystrix.Command(lambda: 3, name=name, timeout_ms=200)
    second.close()
    assert name not in _hystrix.registry_names()
    third = hystrix.Command(lambda: 3, name=name, timeout_ms=200)
    assert third.circuit.config()["timeout_ms"] == 200
    third.close()


def test_remove_forgets_the_name_in_the_core_and_a_stale_release_keeps_the_successor(unique_name):
    name = unique_name("reg-removed")
    held = hystrix.Command(lambda: 3, name=name, timeout_ms=50)
    assert hystrix.remove(name) is True
    assert hystrix.remove(name) is False
    assert held.execute() == 3
    fresh = hystrix.Command(lambda: 4, name=name, timeout_ms=60)
    held.close()
    assert name in _hystrix.registry_names(), "closing the removed command does not take its successor's name"
    assert fresh.execute() == 4
    fresh.close()


def test_configure_after_first_use_turns_a_strategy_on_for_the_existing_command(unique_name):
    name = unique_name("reg-retry")
    attempts = []

    def flaky():
        attempts.append(1)
        raise RuntimeError("flaky")

    cmd = hystrix.Command(flaky, lambda e: "fb", name=name, isolation="semaphore")
    assert cmd.execute() == "fb" and len(attempts) == 1
    circuit = hystrix.configure(name, retry_max_attempts=3, retry_base_delay_ms=0)
    assert circuit is cmd.circuit
    attempts.clear()
    assert cmd.execute() == "fb"
    assert len(attempts) == 3
    with pytest.raises(hystrix.SettingsConflictError) as err:
        hystrix.Command(flaky, name=name, retry_max_attempts=2)
    assert "retry_max_attempts=3" in str(err.value)
    cmd.close()


def test_configure_before_first_use_is_what_the_command_is_made_with(unique_name):
    name = unique_name("reg-early")
    hystrix.configure(name, timeout_ms=123)
    assert name in _hystrix.registry_names()
    cmd = hystrix.Command(lambda: 1, name=name)
    assert cmd.circuit.config()["timeout_ms"] == 123
    with pytest.raises(hystrix.InvalidConfigError) as err:
        hystrix.configure(name, timeout_ms=-1)
    assert err.value.key == "timeout_ms" and name in str(err.value)
    assert cmd.circuit.config()["timeout_ms"] == 123
    cmd.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_names_commands_through_the_inherited_registry(unique_name):
    name, other = unique_name("reg-fork"), unique_name("reg-fork-child")
    cmd = hystrix.Command(lambda: 1, name=name, timeout_ms=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            again = hystrix.Command(lambda: 2, name=name, timeout_ms=100)
            new = hystrix.Command(lambda: 3, name=other)
            ok = again.circuit is cmd.circuit and again.execute() == 2 and new.execute() == 3
            ok = ok and name in _hystrix.registry_names() and other in _hystrix.registry_names()
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert other not in _hystrix.registry_names(), "the child's names stay in the child"
    cmd.close()
