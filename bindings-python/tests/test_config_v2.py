"""SPEC v2 settings (§8, §8.1) as keyword arguments, the v2 vocabulary
(RateLimitedError, the v2 events), and a drift check of the Python surface
against the core's config_schema()."""
import copy
import json
import pickle

import hystrix
import pytest
from conftest import EVENT_NAMES
from hystrix import _hystrix
from hystrix._errors import _new_error

V2_KEYS = (
    "random_seed", "retry_max_attempts", "retry_on_timeout", "retry_on_rejected", "retry_base_delay_ms",
    "retry_multiplier_permille", "retry_max_delay_ms", "retry_jitter", "deadline_ms", "retry_budget_percent",
    "retry_budget_min_per_sec", "retry_budget_window_ms", "retry_budget_window_buckets", "rate_limit_for_period",
    "rate_limit_period_ms", "rate_limit_burst", "rate_limit_timeout_ms", "hedge_max_attempts", "hedge_delay_ms",
    "hedge_on_failure", "concurrency_limit_mode", "adaptive_initial_limit", "adaptive_min_limit",
    "adaptive_max_limit", "adaptive_window_ms", "adaptive_window_min_samples", "adaptive_drop_on_failure",
    "aimd_backoff_permille", "aimd_timeout_ms", "gradient2_smoothing_permille", "gradient2_queue_size",
    "gradient2_long_window", "gradient2_rtt_tolerance_permille",
)  # fmt: skip


def refused(**config):
    with pytest.raises(hystrix.InvalidConfigError) as info:
        hystrix.Command(lambda: 1, **config)
    return info.value


def test_config_schema_is_the_cores_and_the_full_configuration_follows_it():
    schema = hystrix.config_schema()
    assert schema == json.loads(_hystrix.CONFIG_SCHEMA)
    names = [e["name"] for e in schema]
    assert names[-len(V2_KEYS):] == list(V2_KEYS)
    full = _hystrix.validate_config({})
    assert sorted(full) == sorted(names), "the configuration dict has every key"
    for entry in schema:
        assert full[entry["name"]] == entry["default"], entry["name"]
        assert entry["type"] in ("bool", "int", "name")
    schema[0]["name"] = "changed"
    assert hystrix.config_schema()[0]["name"] == "timeout_enabled", "a new list each call"


def test_every_keyword_is_accepted_at_its_default_and_refused_past_its_bounds(unique_name):
    for entry in hystrix.config_schema():
        key = entry["name"]
        cmd = hystrix.Command(lambda: 1, **{key: entry["default"]})
        assert cmd.configure()[key] == entry["default"]
        if entry["type"] == "int":
            err = refused(**{key: entry["max"] + 1})
            assert err.key == key and f"{key} must be an integer from {entry['min']} to {entry['max']}" in str(err)
            if entry["min"] > 0:
                assert refused(**{key: entry["min"] - 1}).key == key
            assert refused(**{key: "1"}).key == key
        elif entry["type"] == "bool":
            hystrix.Command(lambda: 1, **{key: not entry["default"]})
            assert refused(**{key: 1}).key == key
        else:
            for value in entry["values"]:
                assert hystrix.Command(lambda: 1, **{key: value}).configure()[key] == value
            for bad in (entry["values"][0].upper(), "", 0, None):
                err = refused(**{key: bad})
                assert err.key == key and "must be one of" in str(err), err


def test_named_settings_and_cross_key_rules_name_the_keyword():
    cmd = hystrix.Command(lambda: 1, retry_jitter="equal", concurrency_limit_mode="gradient2", retry_max_attempts=3)
    assert cmd.configure()["retry_jitter"] == "equal"
    err = refused(retry_jitter="FULL")
    assert str(err).endswith(
        ': invalid config: retry_jitter must be one of "none", "full", "equal" or "decorrelated", got "FULL"'
    )
    assert refused(retry_budget_window_buckets=3).key == "retry_budget_window_ms"
    assert refused(retry_max_attempts=2, hedge_max_attempts=2).key == "hedge_max_attempts"
    assert refused(adaptive_max_limit=10).key == "adaptive_max_limit"
    assert refused(adaptive_initial_limit=201).key == "adaptive_initial_limit"
    # A live change is checked against the settings in force; nothing changes on error.
    with pytest.raises(hystrix.InvalidConfigError) as info:
        cmd.configure(hedge_max_attempts=2)
    assert info.value.key == "hedge_max_attempts"
    assert cmd.configure()["hedge_max_attempts"] == 1
    assert cmd.configure(hedge_max_attempts=2, retry_max_attempts=1)["hedge_max_attempts"] == 2


def test_v2_settings_change_nothing_yet_and_snapshots_count_every_event(unique_name):
    cmd = hystrix.Command(lambda: "ok", name=unique_name("v2"), random_seed=7, deadline_ms=100, rate_limit_for_period=5)
    assert cmd.execute() == "ok"
    snap = cmd.snapshot()
    for kind in ("rolling", "cumulative"):
        assert set(snap[kind]) == set(EVENT_NAMES)
        for name in ("RATE_LIMITED", "RETRY", "HEDGE", "RETRY_BUDGET_EXHAUSTED"):
            assert snap[kind][name] == 0
    assert snap["rolling"]["SUCCESS"] == 1


def test_rate_limited_error_names_its_command_and_pickles():
    err = _new_error("rate_limited", "svc", "rate_limit_for_period", 5)
    assert type(err) is hystrix.RateLimitedError and err.code == 10 and err.kind == "rate_limited"
    assert err.command == "svc" and "svc" in str(err) and "rate_limit_for_period 5" in str(err)
    assert isinstance(err, hystrix.HystrixError)
    for back in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err)):
        assert type(back) is hystrix.RateLimitedError and back.command == "svc" and str(back) == str(err)
    assert ("rate_limited", 10) in _hystrix.ERROR_KINDS
