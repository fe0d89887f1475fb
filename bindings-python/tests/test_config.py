"""Configuration: defaults, validation (SPEC §2), live configure()."""
import threading
import time

import hystrix
import pytest
from conftest import WAIT_S, in_thread

DEFAULTS = {
    "timeout_enabled": True,
    "timeout_ms": 1000,
    "max_concurrent_requests": 10,
    "fallback_enabled": True,
    "fallback_max_concurrent_requests": 10,
    "circuit_breaker_enabled": True,
    "request_volume_threshold": 20,
    "error_threshold_percentage": 50,
    "sleep_window_ms": 5000,
    "half_open_max_calls": 1,
    "force_open": False,
    "force_closed": False,
    "rolling_window_ms": 10000,
    "rolling_window_buckets": 10,
    "health_snapshot_interval_ms": 500,
    # SPEC v2 (§8): every default leaves its feature off.
    "random_seed": 0,
    "retry_max_attempts": 1,
    "retry_on_timeout": True,
    "retry_on_rejected": False,
    "retry_base_delay_ms": 100,
    "retry_multiplier_permille": 2000,
    "retry_max_delay_ms": 5000,
    "retry_jitter": "full",
    "deadline_ms": 0,
    "retry_budget_percent": 0,
    "retry_budget_min_per_sec": 10,
    "retry_budget_window_ms": 10000,
    "retry_budget_window_buckets": 10,
    "rate_limit_for_period": 0,
    "rate_limit_period_ms": 1000,
    "rate_limit_burst": 0,
    "rate_limit_timeout_ms": 0,
    "hedge_max_attempts": 1,
    "hedge_delay_ms": 500,
    "hedge_on_failure": True,
    "concurrency_limit_mode": "fixed",
    "adaptive_initial_limit": 20,
    "adaptive_min_limit": 20,
    "adaptive_max_limit": 200,
    "adaptive_window_ms": 1000,
    "adaptive_window_min_samples": 10,
    "adaptive_drop_on_failure": False,
    "aimd_backoff_permille": 900,
    "aimd_timeout_ms": 5000,
    "gradient2_smoothing_permille": 200,
    "gradient2_queue_size": 4,
    "gradient2_long_window": 600,
    "gradient2_rtt_tolerance_permille": 1500,
}

INT_KEYS = [
    "timeout_ms",
    "max_concurrent_requests",
    "fallback_max_concurrent_requests",
    "request_volume_threshold",
    "error_threshold_percentage",
    "sleep_window_ms",
    "half_open_max_calls",
    "rolling_window_ms",
    "rolling_window_buckets",
    "health_snapshot_interval_ms",
]
BOOL_KEYS = ["timeout_enabled", "fallback_enabled", "circuit_breaker_enabled", "force_open", "force_closed"]


def run():
    return 1


def test_defaults_are_netflix_defaults():
    assert hystrix.Command(run).circuit.config() == DEFAULTS


def test_config_keywords_are_applied():
    cmd = hystrix.Command(run, timeout_ms=250, request_volume_threshold=0, force_closed=True)
    cfg = cmd.circuit.config()
    assert cfg["timeout_ms"] == 250
    assert cfg["request_volume_threshold"] == 0
    assert cfg["force_closed"] is True
    assert cfg["max_concurrent_requests"] == 10


def assert_invalid(key, **config):
    with pytest.raises(hystrix.InvalidConfigError) as info:
        hystrix.Command(run, **config)
    exc = info.value
    assert isinstance(exc, ValueError)
    assert exc.key == key
    assert key in str(exc)
    assert exc.code == 8 and exc.kind == "invalid_config"
    return exc


@pytest.mark.parametrize(
    "key",
    [
        "timeout_ms",
        "sleep_window_ms",
        "rolling_window_ms",
        "max_concurrent_requests",
        "fallback_max_concurrent_requests",
        "half_open_max_calls",
        "rolling_window_buckets",
    ],
)
def test_zero_refused_for_positive_keys(key):
    assert_invalid(key, **{key: 0})


@pytest.mark.parametrize("key", INT_KEYS)
def test_negative_refused(key):
    assert_invalid(key, **{key: -1})


@pytest.mark.parametrize("key", INT_KEYS)
@pytest.mark.parametrize("value", [2**64, 2**63, 10**30])
def test_huge_refused(key, value):
    assert_invalid(key, **{key: value})


def test_error_threshold_percentage_range():
    assert_invalid("error_threshold_percentage", error_threshold_percentage=101)
    assert hystrix.Command(run, error_threshold_percentage=0).circuit.config()["error_threshold_percentage"] == 0
    assert hystrix.Command(run, error_threshold_percentage=100).circuit.config()["error_threshold_percentage"] == 100


def test_zero_allowed_where_spec_allows():
    cfg = hystrix.Command(run, request_volume_threshold=0, health_snapshot_interval_ms=0).circuit.config()
    assert cfg["request_volume_threshold"] == 0 and cfg["health_snapshot_interval_ms"] == 0


@pytest.mark.parametrize("key", INT_KEYS)
@pytest.mark.parametrize("value", ["5", 1.5, True, False, None, [1], object()])
def test_wrong_types_for_int_keys(key, value):
    assert_invalid(key, **{key: value})


@pytest.mark.parametrize("key", BOOL_KEYS)
@pytest.mark.parametrize("value", [1, 0, "true", 1.0, None])
def test_wrong_types_for_bool_keys(key, value):
    assert_invalid(key, **{key: value})


def test_unknown_key():
    assert_invalid("timeout", timeout=100)
    assert_invalid("bogus_key", bogus_key=True)


def test_window_not_divisible():
    exc = assert_invalid("rolling_window_ms", rolling_window_ms=1000, rolling_window_buckets=3)
    assert "rolling_window_ms" in str(exc)
    cfg = hystrix.Command(run, rolling_window_ms=1000, rolling_window_buckets=4).circuit.config()
    assert cfg["rolling_window_ms"] == 1000 and cfg["rolling_window_buckets"] == 4


def test_non_callable_run_and_fallback():
    with pytest.raises(TypeError):
        hystrix.Command(42)
    with pytest.raises(TypeError):
        hystrix.Command("not a function")
    with pytest.raises(TypeError):
        hystrix.Command(run, fallback="nope")
    with pytest.raises(TypeError):
        hystrix.command(fallback=3)(run)


@pytest.mark.parametrize("isolation", ["threads", "process", "", None, 1])
def test_bad_isolation(isolation):
    with pytest.raises(ValueError):
        hystrix.Command(run, isolation=isolation)


def test_name_must_be_str():
    with pytest.raises(TypeError):
        hystrix.Command(run, name=123)


def test_configure_applies_live(clock):
    cmd = hystrix.Command(run, clock=clock, isolation="semaphore")
    new = cmd.configure(force_open=True, timeout_ms=300)
    assert new["force_open"] is True and new["timeout_ms"] == 300
    assert cmd.circuit.config() == new
    with pytest.raises(hystrix.CircuitOpenError):
        cmd.execute()
    cmd.configure(force_open=False)
    assert cmd.execute() == 1


def test_configure_new_bulkhead_size_applies(clock, unique_name):
    name = unique_name("resize")
    release, started = threading.Event(), threading.Event()

    def hold():
        started.set()
        release.wait(WAIT_S)
        return "held"

    cmd = hystrix.Command(hold, name=name, clock=clock, isolation="semaphore", max_concurrent_requests=1)
    quick = hystrix.Command(run, name=name, isolation="semaphore")  # same circuit, same bulkhead
    t, out = in_thread(cmd.execute)
    try:
        assert started.wait(WAIT_S)
        with pytest.raises(hystrix.RejectedError):
            quick.execute()
        cmd.configure(max_concurrent_requests=2)
        assert quick.execute() == 1
    finally:
        release.set()
        t.join(WAIT_S)
    assert out == [(True, "held")]


@pytest.mark.parametrize(
    "patch,key",
    [
        ({"timeout_ms": 0}, "timeout_ms"),
        ({"timeout_ms": 5, "max_concurrent_requests": -3}, "max_concurrent_requests"),
        ({"force_open": 1}, "force_open"),
        ({"sleep_window_ms": "10"}, "sleep_window_ms"),
        ({"request_volume_threshold": True}, "request_volume_threshold"),
        ({"rolling_window_buckets": 7}, "rolling_window_ms"),
        ({"timeout_ms": 5, "nope": 1}, "nope"),
        ({"error_threshold_percentage": 1.5}, "error_threshold_percentage"),
    ],
)
def test_configure_with_bad_values_changes_nothing(clock, patch, key):
    cmd = hystrix.Command(run, clock=clock, isolation="semaphore", timeout_ms=700, max_concurrent_requests=3)
    cmd.execute()
    before_cfg = cmd.circuit.config()
    before_snap = cmd.snapshot()
    with pytest.raises(hystrix.InvalidConfigError) as info:
        cmd.configure(**patch)
    assert info.value.key == key
    assert cmd.circuit.config() == before_cfg
    assert cmd.snapshot() == before_snap
    assert cmd.execute() == 1


def test_configure_registry_with_bad_values_creates_nothing(unique_name):
    name = unique_name("badcfg")
    with pytest.raises(hystrix.InvalidConfigError):
        hystrix.configure(name, timeout_ms=0)
    assert hystrix.remove(name) is False
    with pytest.raises(hystrix.InvalidConfigError):
        hystrix.Command(run, name=name, half_open_max_calls=0)
    assert hystrix.remove(name) is False


def test_changing_window_shape_starts_fresh_window(clock):
    cmd = hystrix.Command(run, clock=clock, isolation="semaphore")
    cmd.execute()
    assert cmd.snapshot()["rolling"]["SUCCESS"] == 1
    cmd.configure(rolling_window_ms=2000, rolling_window_buckets=4)
    snap = cmd.snapshot()
    assert snap["rolling"]["SUCCESS"] == 0
    assert snap["cumulative"]["SUCCESS"] == 1


def test_largest_exact_integers_are_accepted():
    # SPEC §2 sets no upper bound; 2**53 - 1 is the largest integer every
    # host carries exactly.
    big = 2**53 - 1
    cmd = hystrix.Command(run, timeout_ms=big, sleep_window_ms=big, request_volume_threshold=2**32)
    assert cmd.circuit.config()["timeout_ms"] == big
    assert_invalid("timeout_ms", timeout_ms=2**53)


def test_a_timeout_beyond_what_event_wait_takes_still_runs_the_call():
    # threading.Event.wait refuses timeouts over threading.TIMEOUT_MAX
    # (about 292 years); a 2**53 - 1 ms deadline is waited for in slices.
    def slow():
        time.sleep(0.05)  # still running when the caller starts waiting
        return "done"

    cmd = hystrix.Command(slow, timeout_ms=2**53 - 1)
    assert cmd.execute() == "done"


# Issue 10.8: an invalid configuration names the command as well as the key.
def test_invalid_config_names_the_command_and_the_key(unique_name):
    name = unique_name("conf")
    with pytest.raises(hystrix.InvalidConfigError, match=f"^command {name!r}: .*timeout_ms") as info:
        hystrix.Command(lambda: 1, name=name, timeout_ms=0)
    assert info.value.key == "timeout_ms" and info.value.command == name
    cmd = hystrix.Command(lambda: 1, name=name)
    with pytest.raises(hystrix.InvalidConfigError, match=f"^command {name!r}: .*max_concurrent_requests") as info:
        cmd.configure(max_concurrent_requests=0)
    assert info.value.command == name

    def fetch_user():
        return 1

    with pytest.raises(hystrix.InvalidConfigError, match="^command '.*fetch_user': .*sleep_window_ms") as info:
        hystrix.Command(fetch_user, sleep_window_ms=0)
    assert info.value.command.endswith("fetch_user")
