#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ (checked in; rerun after
changing the input format of a target: the old seeds stay valid inputs, but
would no longer mean what their names say).

config_json:   every configuration and configure patch in the conformance
               scenarios (tests/conformance/**/*.json, numbers spelled as
               there), plus hand-written edge cases.
call_protocol: named scenarios in the byte format documented in
               fuzz/src/protocol.rs (a configuration, then operations).
c_api:         named C-API call sequences in the byte format documented in
               fuzz/src/c_api.rs.
"""
import glob
import hashlib
import json
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


class Raw(str):
    """A JSON number kept as spelled."""


def dump(v):
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, dict):
        return "{" + ", ".join(json.dumps(k) + ": " + dump(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(dump(x) for x in v) + "]"
    return json.dumps(v)


def config_seeds():
    texts = set()
    for path in glob.glob(os.path.join(ROOT, "tests", "conformance", "**", "*.json"), recursive=True):
        try:
            with open(path) as f:
                doc = json.load(f, parse_float=Raw, parse_int=Raw, object_pairs_hook=dict)
        except ValueError:
            continue
        if not isinstance(doc, dict):
            continue
        if "config" in doc:
            texts.add(dump(doc["config"]))
        for step in doc.get("steps") or []:
            if isinstance(step, dict) and step.get("op") == "configure" and "config" in step:
                texts.add(dump(step["config"]))
    texts.update(
        [
            "",
            "{}",
            "[]",
            "null",
            "{",
            '{"timeout_ms": 1e3, "sleep_window_ms": 5000.0, "request_volume_threshold": -0}',
            '{"timeout_ms": 9007199254740991, "rolling_window_ms": 9007199254740991, "rolling_window_buckets": 1}',
            '{"timeout_ms": 9007199254740992}',
            '{"timeout_ms": 9.007199254740991e15}',
            '{"timeout_ms": 1000.5}',
            '{"timeout_ms": 18446744073709551616}',
            '{"timeout_ms": -1}',
            '{"rolling_window_buckets": 100000, "rolling_window_ms": 100000}',
            '{"rolling_window_buckets": 100001}',
            '{"rolling_window_ms": 1001, "health_snapshot_interval_ms": -1}',
            '{"timeout_ms": 0, "force_open": "yes"}',
            '{"zeta": 1, "alpha": 2, "timeout_ms": 0}',
            '{"timeout_ms": 5, "timeout_ms": 0}',
            '{"force_open": true, "force_closed": true, "circuit_breaker_enabled": false}',
            '{"error_threshold_percentage": 101}',
            '{"timeout_enabled": null}',
            '{"timeout_ms": "100"}',
            '{"timeout_ms": [100]}',
            '{"timeout_ms": {"ms": 100}}',
            '{"\\u0074imeout_ms": 7}',
            '  {"half_open_max_calls": 3}  ',
            '{"max_concurrent_requests": 1e-400}',
            '{"max_concurrent_requests": 1E400}',
        ]
    )
    return sorted(texts)


# --- call_protocol: the byte format of fuzz/src/protocol.rs -----------------

PCT = [0, 1, 25, 50, 51, 99, 100, 33]
INTERVAL = [0, 0, 1, 5, 10, 25]


def cfg(huge=False, timeout_enabled=True, timeout_ms=20, max_concurrent=2, fallback_enabled=True, fallback_max=2,
        breaker=True, volume=2, pct=50, sleep=30, half_open=1, force_open=False, force_closed=False, buckets=2,
        bucket_ms=10, interval=0):
    return bytes([
        31 if huge else 0,
        0 if timeout_enabled else 5,
        timeout_ms - 1,
        max_concurrent - 1,
        0 if fallback_enabled else 5,
        fallback_max - 1,
        0 if breaker else 7,
        volume,
        PCT.index(pct),
        sleep - 1,
        half_open - 1,
        11 if force_open else 0,
        11 if force_closed else 0,
        buckets - 1,
        bucket_ms - 1,
        INTERVAL.index(interval),
    ])


def advance(ms):
    out = b""
    while ms > 0:
        if ms >= 32:
            step = min(ms // 10, 249)
            out += bytes([2, step, 0])
            ms -= step * 10
        else:
            out += bytes([0, ms])
            ms = 0
    return out


def jump(power):
    return bytes([2, 250, power - 20])


def start(fallback=True, stops_at_once=True, instant_fallback=False, ok=True):
    return bytes([3, (1 if fallback else 0) | (2 if stops_at_once else 0) | (4 if instant_fallback else 0)
                  | (8 if ok else 0)])


SUCCESS, FAILURE, BAD_REQUEST = 0, 1, 2


def end_run(i, outcome):
    return bytes([5, i, outcome])


def stop(i):
    return bytes([7, i])


def end_fallback(i, ok=True):
    return bytes([8, i, 1 if ok else 0])


def fire(i, late=0):
    return bytes([9, i, late])


def cancel(i):
    return bytes([10, i])


def stale(i, which, attempt=0):
    return bytes([11, i, attempt, which])


def set_config(**kw):
    return bytes([12]) + cfg(**kw)


def patch(keys, **kw):
    order = ["timeout_enabled", "timeout_ms", "max_concurrent_requests", "fallback_enabled",
             "fallback_max_concurrent_requests", "circuit_breaker_enabled", "request_volume_threshold",
             "error_threshold_percentage", "sleep_window_ms", "half_open_max_calls", "force_open", "force_closed",
             "rolling_window_ms", "rolling_window_buckets", "health_snapshot_interval_ms"]
    return bytes([13]) + cfg(**kw) + bytes(2 if k in keys else 0 for k in order)


SNAP = bytes([14])


def drop(i):
    return bytes([15, i])


def fail_once(fallback=True):
    return start(fallback=fallback, instant_fallback=True) + end_run(0, FAILURE) + drop(0)


def protocol_seeds():
    s = {}
    s["success"] = cfg() + start() + end_run(0, SUCCESS) + SNAP
    s["failure_fallback_later"] = cfg() + start() + end_run(0, FAILURE) + SNAP + end_fallback(0) + SNAP
    s["failure_no_fallback"] = cfg() + start(fallback=False) + end_run(0, FAILURE) + SNAP
    s["fallback_fails"] = cfg() + start() + end_run(0, FAILURE) + end_fallback(0, ok=False) + SNAP
    s["bad_request"] = cfg() + start() + end_run(0, BAD_REQUEST) + SNAP
    s["timeout_run_stops_later"] = (cfg() + start(stops_at_once=False, instant_fallback=True) + fire(0) + SNAP
                                    + advance(5) + stop(0) + SNAP)
    s["timeout_run_ignores_abort"] = (cfg() + start(stops_at_once=False) + fire(0, 2) + SNAP + end_run(0, SUCCESS)
                                      + end_fallback(0) + SNAP)
    s["late_timer_success_is_timeout"] = cfg(timeout_ms=10) + start() + advance(10) + end_run(0, SUCCESS) + SNAP
    s["cancel_running"] = cfg() + start(stops_at_once=False) + advance(3) + cancel(0) + SNAP + stop(0) + SNAP
    s["cancel_in_fallback"] = (cfg() + start() + end_run(0, FAILURE) + advance(1) + cancel(0) + SNAP + advance(4)
                               + end_fallback(0) + SNAP)
    s["cancel_settled"] = cfg() + start() + end_run(0, SUCCESS) + cancel(0) + cancel(0) + SNAP
    s["cancel_after_timeout"] = (cfg() + start(stops_at_once=False) + fire(0) + cancel(0) + SNAP + end_run(0, FAILURE)
                                 + end_fallback(0) + SNAP)
    s["bulkhead_full"] = (cfg(max_concurrent=1) + start() + start(instant_fallback=True) + SNAP + end_run(0, SUCCESS)
                          + start() + SNAP)
    s["fallback_rejected"] = (cfg(max_concurrent=3, fallback_max=1) + start() + start() + end_run(0, FAILURE)
                              + end_run(1, FAILURE) + SNAP + end_fallback(0) + SNAP)
    s["trip_and_recover"] = (cfg(volume=2, pct=50, sleep=20) + fail_once() + fail_once() + SNAP
                             + start(instant_fallback=True) + SNAP + advance(20) + start() + SNAP + end_run(1, SUCCESS)
                             + SNAP)
    s["trip_probe_fails"] = (cfg(volume=1, pct=1, sleep=5) + fail_once() + advance(5) + start(fallback=False)
                             + end_run(0, FAILURE) + SNAP + advance(5) + start() + SNAP)
    s["probe_timeout_reopens"] = (cfg(volume=1, sleep=5, timeout_ms=3) + fail_once() + advance(6)
                                  + start(stops_at_once=False) + fire(0) + SNAP + stop(0) + SNAP)
    s["probe_cancel_frees_slot"] = (cfg(volume=1, sleep=5) + fail_once() + advance(5) + start() + cancel(0)
                                    + start() + SNAP + end_run(1, SUCCESS) + SNAP)
    s["probe_bad_request_frees_slot"] = (cfg(volume=1, sleep=5) + fail_once() + advance(5) + start()
                                         + end_run(0, BAD_REQUEST) + start() + end_run(1, SUCCESS) + SNAP)
    s["half_open_lowered_during_episode"] = (cfg(volume=1, sleep=5, half_open=3, max_concurrent=4) + fail_once()
                                             + advance(5) + start() + start() + end_run(0, SUCCESS)
                                             + set_config(volume=1, sleep=5, half_open=1, max_concurrent=4) + start()
                                             + SNAP)
    s["forced_open"] = cfg(force_open=True) + start() + start(fallback=False) + SNAP
    s["forced_closed_never_trips"] = (cfg(force_closed=True, volume=0, pct=0) + fail_once() + fail_once() + start()
                                      + SNAP)
    s["breaker_disabled"] = cfg(breaker=False, volume=0, pct=0) + fail_once() + fail_once() + start() + SNAP
    s["fallback_disabled"] = cfg(fallback_enabled=False) + start() + end_run(0, FAILURE) + SNAP
    s["timeouts_disabled"] = (cfg(timeout_enabled=False) + start() + fire(0) + advance(500) + end_run(0, SUCCESS)
                              + SNAP)
    s["huge_settings_and_jumps"] = (cfg(huge=True) + start() + jump(52) + SNAP + end_run(0, SUCCESS) + jump(60)
                                    + jump(60) + start() + fire(0) + SNAP)
    s["lower_bulkhead_while_held"] = (cfg(max_concurrent=4) + start() + start() + start() + SNAP
                                      + set_config(max_concurrent=1) + start(instant_fallback=True) + SNAP
                                      + end_run(0, SUCCESS) + end_run(1, SUCCESS) + end_run(2, SUCCESS) + start()
                                      + SNAP)
    s["patch_refused_divisibility"] = (cfg(buckets=2, bucket_ms=10) + patch({"rolling_window_buckets"}, buckets=3)
                                       + start() + SNAP)
    s["patch_reshapes_window"] = (cfg() + fail_once() + patch({"rolling_window_ms", "rolling_window_buckets"},
                                                              buckets=4, bucket_ms=7)
                                  + fail_once() + SNAP + patch({"rolling_window_ms", "rolling_window_buckets"}) + SNAP)
    s["drop_unfinished"] = (cfg(max_concurrent=3) + start() + start(stops_at_once=False) + start() + fire(1)
                            + end_run(2, FAILURE) + SNAP + drop(0) + drop(0) + drop(0) + SNAP)
    s["stale_inputs"] = (cfg() + start() + stale(0, 0, 5) + stale(0, 1) + stale(0, 2) + stale(0, 3) + stale(0, 4)
                         + end_run(0, SUCCESS) + end_run(0, FAILURE) + stop(0) + end_fallback(0) + SNAP)
    s["window_rolls"] = (cfg(volume=5, buckets=3, bucket_ms=4) + fail_once() + advance(4) + fail_once() + SNAP
                         + advance(12) + SNAP)
    s["cached_health"] = (cfg(volume=1, pct=50, interval=25) + start() + end_run(0, SUCCESS) + SNAP + fail_once()
                          + fail_once() + start() + SNAP + advance(25) + start() + SNAP)
    s["same_instant_end_and_cancel"] = (cfg(timeout_ms=5) + start() + start() + advance(5) + end_run(0, SUCCESS)
                                        + cancel(0) + fire(0) + SNAP)
    busy = cfg(max_concurrent=4, fallback_max=3, volume=3, pct=25, sleep=10, half_open=2, interval=5)
    for n in range(24):
        busy += start(fallback=n % 3 != 0, stops_at_once=n % 2 == 0, instant_fallback=n % 4 == 1, ok=n % 5 != 0)
        busy += advance(n % 7)
        if n % 3 == 1:
            busy += end_run(n % 5, n % 3)
        if n % 4 == 3:
            busy += fire(n % 3) + SNAP
        if n % 6 == 5:
            busy += cancel(n % 4)
    s["busy"] = busy + SNAP
    return s


def c_api_seeds():
    """Named C-API sequences in the byte format of fuzz/src/c_api.rs."""

    def cfg(timeout=10, maxc=2, fallback=True, volume=20, pct=2, sleep=10, buckets=2, bucket_ms=10, broken=0):
        return bytes([0, timeout - 1, maxc - 1, 0 if fallback else 5, 0, 0, volume % 5, pct, sleep - 1, 0, 0, 0,
                      buckets - 1, bucket_ms - 1, 0, broken])

    def op(n, *args):
        return bytes([n, *args])

    clock = op(0, 0)
    command = op(2, 0, 0) + cfg()
    setup = clock + command
    snap = op(10, 0)
    s = {}
    s["sync_outcomes"] = (setup + op(4, 0, 0, 0) + op(4, 0, 1, 0) + op(4, 0, 2, 0) + op(4, 0, 3, 0)
                          + op(4, 0, 8 | 1, 0) + op(4, 0, 8 | 16 | 1, 0) + op(4, 0, 4, 30) + op(4, 0, 8 | 4, 30) + snap)
    s["queue_and_complete"] = (setup + op(5, 0, 3) + op(5, 0, 0) + op(5, 0, 1) + op(5, 0, 4 | 1) + snap
                               + op(6, 0, 0) + op(6, 0, 1) + snap)
    s["timeout_fires"] = setup + op(5, 0, 4 | 16 | 3) + op(8, 0, 20) + snap + op(6, 0, 0) + op(6, 0, 0) + snap
    s["cancel_twice"] = setup + op(5, 0, 3) + op(7, 0) + op(7, 0) + op(6, 0, 0) + op(13, 0) + snap
    s["cancel_in_fallback"] = setup + op(5, 0, 4 | 16 | 3) + op(6, 0, 1) + op(7, 0) + op(6, 0, 0) + snap
    s["cancel_settled"] = setup + op(5, 0, 0) + op(7, 0) + snap
    s["double_free"] = (setup + op(3, 0) + op(3, 0) + op(14, 0, 0) + op(14, 0, 2) + op(14, 0, 4) + op(1, 0)
                        + op(1, 0) + op(14, 0, 1) + op(14, 0, 3) + op(14, 0, 5) + op(15))
    s["free_with_calls_pending"] = setup + op(5, 0, 3) + op(3, 0) + op(15) + op(6, 0, 0) + op(15)
    s["clock_freed_first"] = setup + op(1, 0) + op(4, 0, 4, 30) + op(5, 0, 3) + op(2, 1, 0) + cfg() + op(6, 0, 0)
    s["nulls"] = setup + b"".join(op(12, w) for w in range(10))
    s["invalid_configs"] = (clock + b"".join(op(2, 0, 0) + cfg(broken=3 + 4 * k) for k in range(7))
                            + command + b"".join(op(9, 0) + cfg(broken=3 + 4 * k) for k in range(7))
                            + op(9, 0) + cfg(maxc=1, timeout=3) + snap)
    s["listeners"] = setup + op(11, 0, 0) + op(11, 0, 0) + op(11, 0, 1) + op(11, 0, 1) + op(4, 0, 0, 0) + snap
    s["shutdown_cycle"] = clock + op(15) + op(1, 0) + op(15) + setup + op(4, 0, 0, 0) + op(3, 0) + op(1, 0) + op(15)
    trip = op(2, 0, 0) + cfg(volume=1, pct=1, sleep=5)
    s["trip_and_recover"] = (clock + trip + op(4, 0, 1, 0) + op(4, 0, 8, 0) + op(5, 0, 4) + snap + op(8, 0, 5)
                             + op(5, 0, 0) + snap)
    busy = clock + op(0, 1) + command + op(2, 1, 1) + cfg(maxc=1, timeout=5)
    for n in range(30):
        busy += op(5, n % 2, n * 7 % 32) + op(4, n % 2, n * 5 % 32, n % 9) + op(8, n % 2, n % 6)
        if n % 3 == 0:
            busy += op(6, n, n % 4)
        if n % 5 == 0:
            busy += op(7, n)
    s["busy"] = busy + snap + op(10, 1)
    return s


def write(target, files):
    path = os.path.join(CORPUS, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, data in files.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


def main():
    texts = config_seeds()
    write("config_json", {hashlib.sha1(t.encode()).hexdigest()[:12]: t.encode() for t in texts})
    write("call_protocol", protocol_seeds())
    write("c_api", c_api_seeds())
    for target in ("config_json", "call_protocol", "c_api"):
        path = os.path.join(CORPUS, target)
        files = os.listdir(path)
        size = sum(os.path.getsize(os.path.join(path, f)) for f in files)
        print(f"{target}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
