"""``Circuit``: the shared state behind one or more commands (circuit
breaker, bulkhead, fallback limiter, rolling metrics, v2 strategies), and
the worker threads of its thread isolation."""
from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import threading
import weakref
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, cast

from . import _hystrix
from ._clock import DEFAULT_CLOCK
from ._options import _check_callable, _now
from ._types import Settings, Snapshot, State
from ._typing import Unpack


class _Pool:
    """The worker threads of one circuit's thread isolation: at most
    ``size``, started on demand, idle ones reused. They are daemon threads,
    so a run that never returns cannot keep the interpreter from exiting
    (``concurrent.futures`` joins its workers at exit). After ``fork()`` the
    child starts afresh (see :func:`_after_fork_in_child`)."""

    def __init__(self, size: int, prefix: str):
        self.size = size
        self._prefix = prefix
        # Kept for the HystrixThreadPool stream frame (see :meth:`counts`);
        # updated under ``_cond``, which these steps hold anyway.
        self._completed = 0
        self._largest = 0
        self._reset()
        _POOLS.add(self)

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._work: Deque[
            Tuple[Callable[[], None], Callable[[], None], Optional["concurrent.futures.Future[None]"]]
        ] = collections.deque()
        # Thread id -> the item it runs (what a fork leaves without a thread).
        self._running: Dict[int, Any] = {}
        self._idle = 0
        self._threads = 0
        self._closed = False

    def submit(
        self, work: Callable[[], None], lost: Callable[[], None], tracked: bool = False
    ) -> Optional["concurrent.futures.Future[None]"]:
        """Runs ``work`` (which must not raise) on a worker; with ``tracked``
        returns a future that completes when it has (a thread-isolated call
        needs none: its work reports its own end). ``lost()`` is called
        instead in a forked child for work whose thread did not survive the
        fork."""
        future: Optional["concurrent.futures.Future[None]"] = concurrent.futures.Future() if tracked else None
        with self._cond:
            self._work.append((work, lost, future))
            if self._idle:
                self._idle -= 1
                self._cond.notify()
                return future
            if self._threads >= self.size:
                return future  # a busy worker takes it next
            self._threads += 1
            n = self._threads
            if n > self._largest:
                self._largest = n
        try:
            threading.Thread(target=self._worker, name=f"{self._prefix}-{n}", daemon=True).start()
        except BaseException:
            with self._cond:
                self._threads -= 1
                with contextlib.suppress(ValueError):
                    self._work.remove((work, lost, future))
            raise
        return future

    def shutdown(self) -> None:
        """Idle workers exit; queued work still runs, and work submitted
        later still runs too (on a worker started for it, which then exits)."""
        with self._cond:
            self._closed = True
            # Every idle worker is woken here: none may be counted on by a
            # later submit (it would notify nobody and its work would wait).
            self._idle = 0
            self._cond.notify_all()

    def _worker(self) -> None:
        me = threading.get_ident()
        while True:
            with self._cond:
                while not self._work:
                    if self._closed:
                        self._threads -= 1
                        return
                    self._idle += 1
                    self._cond.wait()
                item = self._work.popleft()
                self._running[me] = item
            try:
                item[0]()
            finally:
                with self._cond:
                    self._running.pop(me, None)
                    self._completed += 1
                future = item[2]
                # An idle worker must not keep the last run's arguments alive.
                del item
                if future is not None:
                    future.set_result(None)
                    del future

    def counts(self) -> Tuple[int, int, int, int, int]:
        """``(active, completed, queued, threads, largest)`` now: work
        running, work finished since the pool was made, work waiting for a
        worker, workers alive, most workers alive at once. Read without the
        lock (a stream tick must not hold up calls), so the figures may be
        a moment apart."""
        return len(self._running), self._completed, len(self._work), self._threads, self._largest

    def _after_fork(self) -> List[Callable[[], None]]:
        """In a forked child: forgets the parent's threads; returns the
        ``lost`` callbacks of the work they had (queued or running), except
        the work of the thread that forked, which goes on here."""
        me = threading.get_ident()
        lost = [item[1] for item in self._work]
        lost += [item[1] for ident, item in self._running.items() if ident != me]
        mine = self._running.get(me)
        self._reset()
        if mine is not None:
            self._running[me] = mine
            self._threads = 1
        return lost


_POOLS: "weakref.WeakSet[_Pool]" = weakref.WeakSet()
#: The circuits that have a ``_pool_lock`` (a forked child replaces them).
_CIRCUITS: "weakref.WeakSet[Circuit]" = weakref.WeakSet()
#: Serialises making a circuit's ``_pool_lock`` (see :meth:`Circuit._lock`).
_LOCKS_MADE = threading.Lock()


def _after_fork_in_child() -> None:
    """In a forked child: the locks another thread may have held are new."""
    global _LOCKS_MADE
    _LOCKS_MADE = threading.Lock()
    for circuit in list(_CIRCUITS):
        circuit._pool_lock = threading.Lock()


class Circuit:
    """The shared state behind one or more commands: circuit breaker,
    bulkhead, fallback limiter and rolling metrics. ``label`` is what errors
    and logs call it (default: ``name``; an anonymous command passes its
    run's name). Every circuit logs its transitions to the ``hystrix``
    logger."""

    # No per-instance dict: a command's memory (issue 10 item 7).
    __slots__ = ("_native", "_clock", "_pool", "_pool_lock", "_thread", "_pools", "_holders", "__weakref__")

    def __init__(
        self, name: str, config: Dict[str, Any], clock: Any = None, *, label: Optional[str] = None, native: Any = None
    ):
        # ``native``: the command the registry made for a named circuit. The
        # native command logs its transitions itself (``_log_transition``).
        self._native = native if native is not None else _hystrix.NativeCommand(
            name, config, None if clock is None or clock is DEFAULT_CLOCK else clock, label or None
        )
        self._clock = clock if clock is not None else DEFAULT_CLOCK
        self._pool: Optional[_Pool] = None
        # Made with the first pool (see :meth:`_lock`): most circuits never
        # have one, and creating a command stays cheap.
        self._pool_lock: Optional[threading.Lock] = None
        #: Whether a thread-isolated command executes through this circuit
        #: (its stream then has a HystrixThreadPool frame).
        self._thread = False
        # What the stream counts, published as one tuple (replaced whole
        # under ``_pool_lock``, read lock-free in one load): the pool, the
        # pools replaced when the bulkhead grew that may still have work,
        # the tasks completed by replaced pools with none left, and the
        # most workers any replaced pool had. One load sees a pool either
        # as current or as replaced, never both, so counts never go back.
        self._pools: Tuple[Optional[_Pool], Tuple[_Pool, ...], int, int] = (None, (), 0, 0)
        #: How many open commands execute through this circuit.
        self._holders = 0

    def _lock(self) -> threading.Lock:
        """``_pool_lock``, made on first use; the circuit is then known to
        :func:`_after_fork_in_child`, which replaces it in a forked child."""
        with _LOCKS_MADE:
            lock = self._pool_lock
            if lock is None:
                lock = self._pool_lock = threading.Lock()
                _CIRCUITS.add(self)
            return lock

    def _close(self) -> None:
        """Its last command closed: idle workers exit (queued and running
        work still completes). A circuit with no lock yet has had no pool."""
        lock = self._pool_lock
        if lock is None:
            return
        with lock:
            if self._pool is not None:
                self._pool.shutdown()

    @property
    def name(self) -> str:
        """The name ("" for an anonymous command)."""
        return self._native.name

    @property
    def label(self) -> str:
        """What errors and logs call this circuit: its name, or for an
        anonymous command its run's name."""
        return self._native.label

    @property
    def state(self) -> State:
        """The circuit's state now: ``closed``, ``open`` or ``half_open`` (as
        :meth:`snapshot` reports it)."""
        return cast(State, self._native.state(self.now()))

    def now(self) -> int:
        """The circuit's clock, read and checked (whole milliseconds)."""
        clock = self._clock
        return _now(clock, self._native.label) if clock is not DEFAULT_CLOCK else _hystrix.monotonic_ms()

    def __repr__(self) -> str:
        try:
            c = self._native.config()
            state = self.state
        except Exception as exc:  # noqa: BLE001 - a repr must not raise (e.g. a broken clock)
            return f"<hystrix.Circuit {self.label!r} ({type(exc).__name__} reading it)>"
        return (
            f"<hystrix.Circuit {self.label!r} state={state} timeout_ms={c['timeout_ms']}"
            f" max_concurrent_requests={c['max_concurrent_requests']}>"
        )

    @property
    def clock(self) -> Any:
        """Where the circuit reads time (anything with ``now()`` in ms;
        :class:`hystrix.testing.VirtualClock` for tests)."""
        return self._clock

    @clock.setter
    def clock(self, clock: Any) -> None:
        self._clock = clock if clock is not None else DEFAULT_CLOCK
        self._native.set_clock(None if self._clock is DEFAULT_CLOCK else self._clock)

    def snapshot(self) -> Snapshot:
        """State, health, rolling and cumulative counts, latency percentiles,
        concurrency, the bulkhead ``limit`` in force (the adaptive limit when
        one is on) and the retry ``budget`` balance — as a dict with the same
        field names as every binding."""
        return cast(Snapshot, self._native.snapshot(self.now()))

    def config(self) -> Settings:
        """The configuration in force (every key)."""
        return cast(Settings, self._native.config())

    def configure(self, **config: Unpack[Settings]) -> Settings:
        """Changes settings live (SPEC names); raises InvalidConfigError naming
        the key, and then nothing changes."""
        return cast(Settings, self._native.configure(dict(config)))

    def on_event(self, callback: Callable[[str, str, int], None]) -> int:
        """Calls ``callback(command_name, event, at_ms)`` for every recorded
        event; returns an id for :meth:`unsubscribe`. An ``Exception`` it
        raises is logged (the ``hystrix`` logger, ERROR, with the traceback)
        and counted in the snapshot's ``listener_panics``, never propagated;
        ``KeyboardInterrupt`` and ``SystemExit`` reach the caller of the
        call that notified it (that call has been recorded)."""
        _check_callable(callback)
        return self._native.subscribe("event", callback)

    def on_state_change(self, callback: Callable[[str, str, str, int], None]) -> int:
        """Calls ``callback(command_name, from_state, to_state, at_ms)`` on
        every transition; exceptions as for :meth:`on_event`."""
        _check_callable(callback)
        return self._native.subscribe("state", callback)

    def unsubscribe(self, listener_id: int) -> bool:
        """Removes a listener; whether it was subscribed (``False`` for an
        id that never was, whatever its value)."""
        if not isinstance(listener_id, int) or not 0 <= listener_id < 2**64:
            return False
        return self._native.unsubscribe(listener_id)

    def _submit(
        self, work: Callable[[], None], lost: Callable[[], None], tracked: bool = False
    ) -> Optional["concurrent.futures.Future[None]"]:
        """Runs ``work`` on this circuit's pool, sized to the bulkhead (see
        :meth:`_Pool.submit`). The pool is replaced when the bulkhead grows;
        the check, the replacement and the submit happen under one lock, so
        no call is handed a pool that was just shut down."""
        size = self._native.setting("max_concurrent_requests")
        lock = self._pool_lock
        with lock if lock is not None else self._lock():
            pool = self._pool
            if pool is None or size > pool.size:
                new = _Pool(size, f"hystrix-{self.name or 'command'}")
                self._pools = self._replaced(pool, new)
                self._pool = new
                if pool is not None:
                    pool.shutdown()
                pool = new
            return pool.submit(work, lost, tracked)

    def _replaced(self, old: Optional[_Pool], new: _Pool) -> Tuple[Optional[_Pool], Tuple[_Pool, ...], int, int]:
        """``_pools`` once ``new`` replaces ``old`` (under ``_pool_lock``):
        ``old`` keeps being counted among the replaced pools; replaced pools
        with no work left are folded into the totals (their counts are
        final)."""
        _, retired, completed, largest = self._pools
        done = [p for p in retired if not p._threads and not p._work]
        kept = tuple(p for p in retired if p not in done) + ((old,) if old is not None else ())
        completed += sum(p._completed for p in done)
        largest = max([largest] + [p._largest for p in done])
        return (new, kept, completed, largest)

    def _pool_stats(self) -> Optional[Tuple[int, int, int, int, int, int, int, int, int]]:
        """The thread pool's figures for the stream (``None`` when no
        thread-isolated command uses this circuit), in the order of the
        core's ``PoolStats``: active, completed tasks, core size, largest
        size, maximum size, current size, queue size, task count, queue
        rejection threshold. All zero before the pool is made. The pool
        queues nothing past its bulkhead (the bulkhead rejects first), so
        its rejection threshold is 0. Lock-free reads."""
        pool, retired, completed_before, largest = self._pools
        if pool is None:
            return (0,) * 9 if self._thread else None
        active, completed, queued, threads, current_largest = pool.counts()
        largest = max(largest, current_largest)
        for old in retired:
            a, c, q, t, most = old.counts()
            active, completed, queued, threads = active + a, completed + c, queued + q, threads + t
            largest = max(largest, most)
        completed += completed_before
        # Replaced pools' workers still finishing count in the pool's size.
        largest = max(largest, threads)
        size = pool.size
        return (active, completed, size, largest, size, threads, queued, completed + active + queued, 0)
