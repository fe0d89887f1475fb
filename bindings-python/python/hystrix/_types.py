"""The shapes of what goes in and out of the package, for type checkers:
every setting with its type (:class:`Settings`), a snapshot
(:class:`Snapshot`) and a clock (:class:`Clock`). At runtime these are
plain dicts and any object with ``now()``; ``tests/test_typing.py`` checks
:class:`Settings` against the core's schema (``config_schema()``) and
:class:`Snapshot` against a real snapshot, so neither can drift."""
import asyncio
import threading

# TypedDict and Protocol: from typing (3.8+); the functional form of
# TypedDict is used where keys are not identifiers (event names).
from typing import Callable, Literal, Protocol, TypedDict

#: How a command's runs execute: on a bounded pool of worker threads, or on
#: the caller's thread.
Isolation = Literal["thread", "semaphore"]

#: A circuit's state as snapshots and ``Command.state`` report it.
State = Literal["closed", "open", "half_open"]


class Settings(TypedDict, total=False):
    """Every configuration key (SPEC names) with its type: what
    ``Command(...)``, ``@command(...)``, ``configure(...)`` take as keyword
    arguments and what ``config()`` returns (then with every key). Ranges
    are checked at runtime (``InvalidConfigError`` naming the key); see
    ``hystrix.config_schema()`` for them and the defaults."""

    timeout_enabled: bool
    timeout_ms: int
    max_concurrent_requests: int
    fallback_enabled: bool
    fallback_max_concurrent_requests: int
    circuit_breaker_enabled: bool
    request_volume_threshold: int
    error_threshold_percentage: int
    sleep_window_ms: int
    half_open_max_calls: int
    force_open: bool
    force_closed: bool
    rolling_window_ms: int
    rolling_window_buckets: int
    health_snapshot_interval_ms: int
    random_seed: int
    retry_max_attempts: int
    retry_on_timeout: bool
    retry_on_rejected: bool
    retry_base_delay_ms: int
    retry_multiplier_permille: int
    retry_max_delay_ms: int
    retry_jitter: Literal["none", "full", "equal", "decorrelated"]
    deadline_ms: int
    retry_budget_percent: int
    retry_budget_min_per_sec: int
    retry_budget_window_ms: int
    retry_budget_window_buckets: int
    rate_limit_for_period: int
    rate_limit_period_ms: int
    rate_limit_burst: int
    rate_limit_timeout_ms: int
    hedge_max_attempts: int
    hedge_delay_ms: int
    hedge_on_failure: bool
    concurrency_limit_mode: Literal["fixed", "aimd", "gradient2"]
    adaptive_initial_limit: int
    adaptive_min_limit: int
    adaptive_max_limit: int
    adaptive_window_ms: int
    adaptive_window_min_samples: int
    adaptive_drop_on_failure: bool
    aimd_backoff_permille: int
    aimd_timeout_ms: int
    gradient2_smoothing_permille: int
    gradient2_queue_size: int
    gradient2_long_window: int
    gradient2_rtt_tolerance_permille: int


#: Counts by event name (``SUCCESS``, ``FAILURE``, ``TIMEOUT``, ...): a
#: snapshot's ``rolling`` (the rolling window) and ``cumulative`` (since
#: creation) counts.
EventCounts = TypedDict(
    "EventCounts",
    {
        "SUCCESS": int,
        "FAILURE": int,
        "TIMEOUT": int,
        "SHORT_CIRCUITED": int,
        "SEMAPHORE_REJECTED": int,
        "BAD_REQUEST": int,
        "FALLBACK_SUCCESS": int,
        "FALLBACK_FAILURE": int,
        "FALLBACK_REJECTION": int,
        "FALLBACK_MISSING": int,
        "FALLBACK_DISABLED": int,
        "CANCELLED": int,
        "RATE_LIMITED": int,
        "RETRY": int,
        "HEDGE": int,
        "RETRY_BUDGET_EXHAUSTED": int,
    },
)


class Health(TypedDict):
    """The circuit's health over the rolling window, as last computed."""

    total: int
    errors: int
    error_percentage: int


# Percentile keys such as ``p99_5`` are identifiers, so the class form works.
class Latency(TypedDict):
    """Latency percentiles (ms) over the rolling window, with the sample
    count and mean."""

    count: int
    mean: float
    p0: int
    p25: int
    p50: int
    p75: int
    p90: int
    p95: int
    p99: int
    p99_5: int
    p100: int


class Snapshot(TypedDict):
    """What ``Command.snapshot()`` / ``Circuit.snapshot()`` return: the same
    field names in every binding."""

    name: str
    time_ms: int
    state: State
    health: Health
    rolling: EventCounts
    cumulative: EventCounts
    concurrent: int
    fallback_concurrent: int
    rolling_max_concurrent: int
    limit: int
    budget: int
    listener_panics: int
    latency_run: Latency
    latency_total: Latency


class Clock(Protocol):
    """Where a command reads time and waits: what
    :class:`hystrix.testing.VirtualClock` and the default real clock
    provide. ``now()`` gives whole milliseconds, never decreasing; the
    interpreters arm timeouts and backoffs with ``waiter`` (threads; a
    semaphore-isolated call makes one only when it has to wait, and not
    at all for a due time ``now()`` has already reached) and
    ``timer_future`` (asyncio; a ``VirtualClock`` that does not override
    ``call_at`` or ``timer_future`` is driven through its own timers)."""

    def now(self) -> int:
        """The current time in whole milliseconds."""
        ...

    def waiter(self, deadline: int, done: threading.Event) -> Callable[[], bool]:
        """Arms ``deadline`` now; the function returned blocks until ``done``
        is set or the deadline passes and says whether the deadline won."""
        ...

    def timer_future(self, deadline: int) -> "asyncio.Future[None]":
        """A future on the running loop completed at ``deadline``."""
        ...
