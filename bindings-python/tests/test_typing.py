"""The typed API against the running package: ``Settings`` against the
core's schema and ``Snapshot`` against a real snapshot (so a setting or a
field added to the core without a Python type fails here), and
``mypy --strict`` rejecting the mistakes in ``typing/bad_example.py``.
(``make python-test`` also runs ``mypy --strict`` on the package and on
``typing/user_example.py``, which must pass.)"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal, get_args, get_origin, get_type_hints

import hystrix
import pytest
from hystrix.testing import VirtualClock

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

SCHEMA_TYPES = {"bool": bool, "int": int}


def test_settings_has_every_core_setting_with_its_type():
    hints = get_type_hints(hystrix.Settings)
    schema = hystrix.config_schema()
    assert list(hints) == [entry["name"] for entry in schema], "Settings must list the core's keys in SPEC order"
    for entry in schema:
        hint = hints[entry["name"]]
        if entry["type"] == "name":
            assert get_origin(hint) is Literal, entry["name"]
            assert list(get_args(hint)) == entry["values"], entry["name"]
        else:
            assert hint is SCHEMA_TYPES[entry["type"]], f"{entry['name']}: {hint} for a {entry['type']}"
    assert hystrix.Settings.__total__ is False  # any subset is a valid patch


def _check_shape(value, typed, where):
    hints = get_type_hints(typed)
    assert sorted(value) == sorted(hints), f"{where}: fields differ from {typed.__name__}"
    for key, hint in hints.items():
        got = value[key]
        if isinstance(hint, type) and issubclass(hint, dict):  # a nested TypedDict
            _check_shape(got, hint, f"{where}.{key}")
        elif get_origin(hint) is Literal:
            assert got in get_args(hint), f"{where}.{key}: {got!r}"
        else:
            assert type(got) is hint, f"{where}.{key}: {type(got).__name__}, typed {hint}"


def test_snapshot_type_matches_a_real_snapshot():
    cmd = hystrix.Command(lambda: 1, isolation="semaphore", clock=VirtualClock())
    cmd.execute()
    _check_shape(cmd.snapshot(), hystrix.Snapshot, "snapshot")


def test_config_returns_every_setting():
    config = hystrix.Command(lambda: 1).circuit.config()
    assert sorted(config) == sorted(get_type_hints(hystrix.Settings))


def _expected_errors(path):
    expected = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        m = re.search(r"# expect: ([a-z-]+)$", line)
        if m:
            expected[number] = m.group(1)
    return expected


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed here")
def test_mypy_strict_rejects_the_mistakes():
    bad = HERE / "typing" / "bad_example.py"
    expected = _expected_errors(bad)
    assert len(expected) >= 10
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir",
         str(ROOT / "target" / "mypy-cache"), str(bad)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "MYPYPATH": ""}, timeout=300,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    reported = {}
    for line in out.stdout.splitlines():
        m = re.match(r".*bad_example\.py:(\d+): error: .*\[([a-z-]+)\]$", line)
        if m:
            reported.setdefault(int(m.group(1)), set()).add(m.group(2))
    missing = {n: code for n, code in expected.items() if code not in reported.get(n, set())}
    assert not missing, f"mypy accepted these mistakes: {missing}\n{out.stdout}"
    unexpected = sorted(set(reported) - set(expected))
    assert not unexpected, f"errors on lines without a mistake: {unexpected}\n{out.stdout}"
