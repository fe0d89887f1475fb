"""Exact accounting under contention (issue #11): 2, 8 and 32 threads call
one circuit with random outcomes (success, failure, bad request, runs slow
enough to time out; fallbacks that succeed, fail or are missing) on a
program clock the calls move forward, so a 4-bucket window of 4-8 ms wraps
every few hundred calls, while one thread snapshots and (in some runs)
reconfigures the bulkhead limit and the window.

Checked: every cumulative count equals what the threads observed (which
callbacks ran, with what error, and what each call returned or raised);
execution events == calls; the listener heard exactly each call's events,
on its thread; run and fallback each ran at most once per call;
``concurrent`` never above the largest limit; every permit back; no
spurious rejection (each ``SEMAPHORE_REJECTED`` overlaps at least
``limit`` calls whose run was admitted, by an interval log on a global
sequence counter); cumulative counts never go down.

Sized for ``make python-test`` (a few seconds); ``HYSTRIX_STRESS_SCALE=N``
multiplies the calls.
"""
import bisect
import itertools
import os
import random
import threading
import time
import uuid

import hystrix
import pytest
from conftest import WAIT_S, Boom, FallbackBoom, wait_until

SCALE = max(1, int(os.environ.get("HYSTRIX_STRESS_SCALE", "1") or "1"))
LIMIT_LOW, LIMIT_HIGH, FALLBACK_LIMIT, TIMEOUT_MS = 2, 4, 2, 3
EXECUTIONS = ("SUCCESS", "FAILURE", "TIMEOUT", "BAD_REQUEST", "SHORT_CIRCUITED", "SEMAPHORE_REJECTED")
RAN = ("SUCCESS", "FAILURE", "TIMEOUT", "BAD_REQUEST")


class ProgramClock:
    """Whole milliseconds the calls move forward themselves (never back)."""

    def __init__(self):
        self.t = 0
        self._lock = threading.Lock()

    def now(self):
        return self.t

    def advance(self, ms):
        with self._lock:
            self.t += ms


class Counter:
    """A count kept under a lock, with the highest value it reached."""

    def __init__(self):
        self.n = self.max = 0
        self._lock = threading.Lock()

    def __enter__(self):
        with self._lock:
            self.n += 1
            self.max = max(self.max, self.n)

    def __exit__(self, *exc):
        with self._lock:
            self.n -= 1


class Record:
    """One call as its thread saw it."""

    __slots__ = ("start", "end", "decided", "runs", "fallbacks", "cause", "fallback_failed", "outcome", "heard")

    def __init__(self):
        self.runs = self.fallbacks = 0
        self.cause = self.outcome = self.decided = None
        self.fallback_failed = False
        self.heard = []


def settings(limit, window_ms, **extra):
    return dict(
        max_concurrent_requests=limit,
        fallback_max_concurrent_requests=FALLBACK_LIMIT,
        timeout_ms=TIMEOUT_MS,
        rolling_window_ms=window_ms,
        rolling_window_buckets=4,
        request_volume_threshold=5,
        error_threshold_percentage=70,
        sleep_window_ms=2,
        half_open_max_calls=2,
        health_snapshot_interval_ms=1,
        **extra,
    )


def event_of(error):
    """The execution event an original error stands for."""
    if isinstance(error, hystrix.CircuitOpenError):
        return "SHORT_CIRCUITED"
    if isinstance(error, hystrix.RejectedError):
        return "SEMAPHORE_REJECTED"
    if isinstance(error, hystrix.TimeoutError):
        return "TIMEOUT"
    if isinstance(error, hystrix.BadRequest):
        return "BAD_REQUEST"
    if isinstance(error, Boom):
        return "FAILURE"
    raise AssertionError(f"unexpected error {error!r}")


def derive(rec, has_fallback):
    """The events a finished call recorded, from what it observed:
    (execution event, fallback event or None)."""
    assert rec.runs <= 1 and rec.fallbacks <= 1, "run or fallback ran twice"
    ok, value = rec.outcome
    if rec.fallbacks:
        execution = event_of(rec.cause)
        if rec.fallback_failed:
            assert not ok and isinstance(value, hystrix.FallbackFailedError), value
            fallback = "FALLBACK_FAILURE"
        else:
            assert ok and value == "fallback", value
            fallback = "FALLBACK_SUCCESS"
    elif ok:
        assert value == "run", value
        execution, fallback = "SUCCESS", None
    elif isinstance(value, hystrix.FallbackRejectedError):
        assert has_fallback
        execution, fallback = event_of(value.original), "FALLBACK_REJECTION"
    else:
        execution = event_of(value)
        fallback = None if execution == "BAD_REQUEST" else "FALLBACK_MISSING"
        assert fallback is None or not has_fallback, f"fallback given but not run for {value!r}"
    assert (rec.runs == 1) == (execution in RAN), (rec.runs, execution)
    return execution, fallback


def spurious(admitted, rejected, configs, slack=0):
    """Rejections with fewer than ``limit + slack`` admitted calls overlapping
    them; ``limit`` is the smallest that may have been in force meanwhile."""
    admitted = sorted(admitted, key=lambda r: r.start)
    starts = [r.start for r in admitted]
    longest = max((r.end - r.start for r in admitted), default=0)
    found = []
    for r in rejected:
        lo = bisect.bisect_left(starts, r.start - longest)
        hi = bisect.bisect_right(starts, r.decided)
        overlap = sum(1 for a in admitted[lo:hi] if a.end >= r.start)
        limit = LIMIT_HIGH
        least = None
        for before, after, new in configs:
            if after < r.start:
                limit = new
            elif before <= r.decided:
                least = new if least is None else min(least, new)
        if least is not None:
            limit = min(limit, least)
        if overlap < limit + slack:
            found.append((r.start, r.decided, overlap, limit))
    return found


def stress(threads_n, calls_per_thread, reconfigure):
    clock = ProgramClock()
    seq = itertools.count(1)
    in_run, in_fallback = Counter(), Counter()
    local = threading.local()
    stray = []

    def run(rec, outcome, rng):
        rec.runs += 1
        with in_run:
            if rng.random() < 0.3:
                time.sleep(0.00005)  # lets other threads in while the permit is held
            if rng.random() < 0.125:
                clock.advance(1)
            if outcome == "slow":
                clock.advance(TIMEOUT_MS)
        if outcome == "failure":
            raise Boom()
        if outcome == "bad":
            raise hystrix.BadRequest("bad")
        return "run"

    def fallback(error, rec, outcome, rng):
        rec.fallbacks += 1
        rec.cause = error
        if isinstance(error, hystrix.RejectedError):
            rec.decided = next(seq)
        with in_fallback:
            if rng.random() < 0.25:
                time.sleep(0.00005)
        if rng.random() < 0.33:
            rec.fallback_failed = True
            raise FallbackBoom()
        return "fallback"

    name = f"stress-{uuid.uuid4().hex}"
    config = settings(LIMIT_HIGH, 4)
    with_fallback = hystrix.Command(run, fallback, name=name, isolation="semaphore", clock=clock, **config)
    without = hystrix.Command(run, None, name=name, isolation="semaphore", clock=clock, **config)

    def heard(_name, event, _at):
        rec = getattr(local, "rec", None)
        (stray if rec is None else rec.heard).append(event)

    with_fallback.on_event(heard)
    records = [[Record() for _ in range(calls_per_thread)] for _ in range(threads_n)]
    has_fallback = [[False] * calls_per_thread for _ in range(threads_n)]
    start = threading.Barrier(threads_n + 1, timeout=WAIT_S)
    stop = threading.Event()
    errors = []

    def worker(k):
        rng = random.Random(k + 1)
        start.wait()
        try:
            for i, rec in enumerate(records[k]):
                r = rng.randrange(20)
                outcome = "slow" if r == 0 else "bad" if r <= 2 else "failure" if r <= 5 else "ok"
                has_fallback[k][i] = use = rng.random() < 0.75
                if rng.random() < 0.125:
                    clock.advance(1)
                local.rec = rec
                rec.start = next(seq)
                try:
                    rec.outcome = (True, (with_fallback if use else without).execute(rec, outcome, rng))
                except Exception as exc:  # noqa: BLE001 - classified below
                    rec.outcome = (False, exc)
                rec.end = next(seq)
                local.rec = None
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    configs = []
    observed = {"worst": 0, "worst_fallback": 0, "dips": 0, "snapshots": 0}

    def observer():
        start.wait()
        last, flip = 0, False
        while not stop.is_set():
            snap = with_fallback.snapshot()
            observed["snapshots"] += 1
            observed["worst"] = max(observed["worst"], snap["concurrent"])
            observed["worst_fallback"] = max(observed["worst_fallback"], snap["fallback_concurrent"])
            total = sum(snap["cumulative"].values())
            if total < last:
                observed["dips"] += 1
            last = max(last, total)
            if reconfigure:
                flip = not flip
                limit = LIMIT_LOW if flip else LIMIT_HIGH
                before = next(seq)
                with_fallback.configure(**settings(limit, 8 if flip else 4))
                configs.append((before, next(seq), limit))
            threading.Event().wait(0.0005)

    workers = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads_n)]
    watcher = threading.Thread(target=observer, daemon=True)
    for t in [*workers, watcher]:
        t.start()
    for t in workers:
        t.join(WAIT_S * 6)
    stop.set()
    watcher.join(WAIT_S)
    assert not any(t.is_alive() for t in [*workers, watcher])
    assert errors == []

    expected = dict.fromkeys(hystrix_events(with_fallback), 0)
    admitted, rejected = [], []
    for k in range(threads_n):
        for rec, use in zip(records[k], has_fallback[k]):
            execution, fallback_event = derive(rec, use)
            events = [execution] + ([fallback_event] if fallback_event else [])
            assert rec.heard == events, f"listener heard {rec.heard}, the call observed {events}"
            for e in events:
                expected[e] += 1
            if rec.runs:
                admitted.append(rec)
            if execution == "SEMAPHORE_REJECTED":
                rec.decided = rec.decided or rec.end
                rejected.append(rec)
    assert stray == []
    snap = with_fallback.snapshot()
    assert snap["cumulative"] == expected
    assert sum(snap["cumulative"][e] for e in EXECUTIONS) == threads_n * calls_per_thread
    assert observed["worst"] <= LIMIT_HIGH and in_run.max <= LIMIT_HIGH
    assert observed["worst_fallback"] <= FALLBACK_LIMIT and in_fallback.max <= FALLBACK_LIMIT
    assert observed["dips"] == 0 and observed["snapshots"] > 0
    assert (snap["concurrent"], snap["fallback_concurrent"]) == (0, 0)
    assert spurious(admitted, rejected, configs) == []
    hystrix.remove(name)
    print(
        f"{threads_n} threads x {calls_per_thread}: {len(admitted)} admitted, {len(rejected)} rejected, "
        f"{len(configs)} reconfigurations, {observed['snapshots']} snapshots",
        {k: v for k, v in expected.items() if v},
    )


def hystrix_events(cmd):
    return cmd.snapshot()["cumulative"].keys()


@pytest.mark.parametrize(
    ("threads_n", "calls", "reconfigure"),
    [(2, 3000, False), (8, 750, False), (32, 200, False), (8, 750, True), (32, 200, True)],
)
def test_every_event_is_counted_once(threads_n, calls, reconfigure):
    stress(threads_n, calls * SCALE, reconfigure)


def test_the_rejection_check_has_teeth():
    """The interval check is tight: with exactly ``limit`` runs held open, a
    rejection overlaps exactly ``limit`` admitted calls, so it passes at the
    limit and is flagged when one more is demanded (an off-by-one bulkhead
    would be caught)."""
    seq = itertools.count(1)
    entered, release = threading.Semaphore(0), threading.Event()

    def run(rec):
        rec.runs += 1
        entered.release()
        release.wait(WAIT_S)
        return "run"

    def fallback(error, rec):
        rec.cause, rec.decided = error, next(seq)
        return "fallback"

    cmd = hystrix.Command(run, fallback, isolation="semaphore", max_concurrent_requests=LIMIT_HIGH)
    holders = [Record() for _ in range(LIMIT_HIGH)]

    def hold(rec):
        rec.start = next(seq)
        rec.outcome = (True, cmd.execute(rec))
        rec.end = next(seq)

    threads = [threading.Thread(target=hold, args=(rec,), daemon=True) for rec in holders]
    for t in threads:
        t.start()
    for _ in holders:
        assert entered.acquire(timeout=WAIT_S)
    rejected = Record()
    rejected.start = next(seq)
    assert cmd.execute(rejected) == "fallback"
    rejected.end = next(seq)
    release.set()
    for t in threads:
        t.join(WAIT_S)
    assert isinstance(rejected.cause, hystrix.RejectedError) and rejected.runs == 0
    assert spurious(holders, [rejected], []) == []
    assert spurious(holders, [rejected], [], slack=1) == [(rejected.start, rejected.decided, LIMIT_HIGH, LIMIT_HIGH)]
    # And a rejection while one permit fewer was held is reported.
    assert spurious(holders[1:], [rejected], []) != []
    cmd.close()


def test_thread_isolation_counts_add_up():
    """Thread isolation on the real clock: runs on the pool, some slower
    than the timeout (they keep their permit until they return)."""
    threads_n, calls_per_thread = 8, 40 * SCALE
    in_run = Counter()

    def run(outcome):
        with in_run:
            if outcome == "slow":
                threading.Event().wait(0.06)
        if outcome == "failure":
            raise Boom()
        if outcome == "bad":
            raise hystrix.BadRequest("bad")
        return "run"

    def fallback(error, outcome):
        fallback.causes.append(error)
        return "fallback"

    fallback.causes = []
    cmd = hystrix.Command(
        run, fallback, isolation="thread", timeout_ms=40, max_concurrent_requests=3, circuit_breaker_enabled=False
    )
    outcomes = [[], []]
    start = threading.Barrier(threads_n, timeout=WAIT_S)

    def worker(k):
        rng = random.Random(k)
        start.wait()
        for _ in range(calls_per_thread):
            r = rng.randrange(20)
            outcome = "slow" if r == 0 else "bad" if r <= 2 else "failure" if r <= 5 else "ok"
            try:
                outcomes[0].append(cmd.execute(outcome))
            except hystrix.BadRequest as exc:
                outcomes[1].append(exc)

    stop, worst = threading.Event(), [0]

    def observer():
        while not stop.is_set():
            worst[0] = max(worst[0], cmd.snapshot()["concurrent"])
            stop.wait(0.001)

    workers = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads_n)]
    watcher = threading.Thread(target=observer, daemon=True)
    for t in [*workers, watcher]:
        t.start()
    for t in workers:
        t.join(WAIT_S * 6)
    stop.set()
    watcher.join(WAIT_S)
    assert not any(t.is_alive() for t in [*workers, watcher])
    assert wait_until(lambda: cmd.snapshot()["concurrent"] == 0), "a permit never came back"
    calls = threads_n * calls_per_thread
    assert len(outcomes[0]) + len(outcomes[1]) == calls, "every call returned once"
    causes = [event_of(e) for e in fallback.causes]
    expected = {e: causes.count(e) for e in set(causes)}
    expected["SUCCESS"] = outcomes[0].count("run")
    expected["BAD_REQUEST"] = len(outcomes[1])
    expected["FALLBACK_SUCCESS"] = outcomes[0].count("fallback")
    assert expected["FALLBACK_SUCCESS"] == len(causes)
    cumulative = {k: v for k, v in cmd.snapshot()["cumulative"].items() if v}
    assert cumulative == {k: v for k, v in expected.items() if v}
    assert sum(cumulative.get(e, 0) for e in EXECUTIONS) == calls
    assert in_run.max <= 3 and worst[0] <= 3
    cmd.close()
