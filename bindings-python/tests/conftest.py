"""Shared fixtures and helpers for the hystrix Python binding tests."""
import asyncio
import threading
import time
import uuid

import hystrix
import pytest
from hystrix.testing import VirtualClock

EVENT_NAMES = (
    "SUCCESS",
    "FAILURE",
    "TIMEOUT",
    "BAD_REQUEST",
    "SHORT_CIRCUITED",
    "SEMAPHORE_REJECTED",
    "FALLBACK_SUCCESS",
    "FALLBACK_FAILURE",
    "FALLBACK_REJECTION",
    "FALLBACK_MISSING",
    "FALLBACK_DISABLED",
    "CANCELLED",
    "RATE_LIMITED",
    "RETRY",
    "HEDGE",
    "RETRY_BUDGET_EXHAUSTED",
)

# Generous bound for anything that waits on real threads: a test that needs
# it has already failed, it only keeps a broken build from hanging.
WAIT_S = 10.0


class Boom(Exception):
    """What runs in these tests fail with."""


class FallbackBoom(Exception):
    """What fallbacks in these tests fail with."""


def wait_until(predicate, timeout=WAIT_S, interval=0.002):
    """Polls ``predicate`` until it holds; returns whether it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def counts(cmd, kind="cumulative"):
    """The non-zero event counts of a command's snapshot."""
    return {k: v for k, v in cmd.snapshot()[kind].items() if v}


def run_async(coro):
    """Runs a coroutine on a fresh event loop (no pytest-asyncio needed)."""
    return asyncio.run(asyncio.wait_for(coro, WAIT_S))


def in_thread(fn, *args, **kwargs):
    """Starts ``fn`` on a daemon thread; returns (thread, result-list)."""
    out = []

    def target():
        try:
            out.append((True, fn(*args, **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            out.append((False, exc))

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, out


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def unique_name():
    """A fresh circuit name, removed from the registry afterwards."""
    names = []

    def make(prefix="test"):
        name = f"{prefix}-{uuid.uuid4().hex}"
        names.append(name)
        return name

    yield make
    for name in names:
        hystrix.remove(name)


def pytest_configure(config):
    # An exception swallowed in a listener, a thread or a finalizer is a failure here.
    config.addinivalue_line("filterwarnings", "error::pytest.PytestUnraisableExceptionWarning")
    config.addinivalue_line("filterwarnings", "error::pytest.PytestUnhandledThreadExceptionWarning")


class LateTimers:
    """A clock whose timers never fire by themselves: an event loop (or a
    waiting thread) held up past them. ``t`` is set by the test."""

    def __init__(self):
        self.t = 0

    def now(self):
        return self.t

    def timer_future(self, deadline):
        return asyncio.get_running_loop().create_future()

    def waiter(self, deadline, done):
        return lambda: (done.wait(), False)[1]
