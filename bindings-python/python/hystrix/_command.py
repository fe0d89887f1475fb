"""``Command``: a run (and optional fallback) executed through one circuit,
bulkhead and set of metrics — synchronously (semaphore or thread
isolation), as a ``concurrent.futures.Future``, or under asyncio."""
import asyncio
import collections
import concurrent.futures
import contextlib
import contextvars
import functools
import inspect
import json
import logging
import os
import sys
import threading
import types
import weakref
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Tuple

from . import _hystrix
from ._clock import DEFAULT_CLOCK
from ._errors import BadRequest, InvalidConfigError, _bad_clock, _new_error

#: The ``hystrix`` logger: listener errors (ERROR, with the traceback) and
#: circuit transitions (opened: WARNING; half-open, closed: INFO).
logger = logging.getLogger("hystrix")


def _listener_failed(command: str, listener: Any, exc: BaseException) -> None:
    """How the native layer reports an exception a listener raised."""
    logger.error(
        "listener %r of command %r raised %s",
        listener,
        command,
        type(exc).__name__,
        exc_info=(type(exc), exc, exc.__traceback__),
    )


def _log_transition(label: str, _name: str, from_state: str, to_state: str, at_ms: int) -> None:
    """Every circuit's own state listener (bound to its label): logs its transitions."""
    level = logging.WARNING if to_state == "open" else logging.INFO
    if logger.isEnabledFor(level):
        logger.log(level, "command %r: circuit %s -> %s at %d ms", label, from_state, to_state, at_ms)


_hystrix._set_invalid_config_error(InvalidConfigError)
_hystrix._set_error_factory(_new_error)
_hystrix._set_bad_clock_error(_bad_clock)
_hystrix._set_listener_error_hook(_listener_failed)

_RUN, _FALLBACK, _DONE = _hystrix.STEP_RUN, _hystrix.STEP_FALLBACK, _hystrix.STEP_DONE
_SUCCESS, _FAILURE, _BAD_REQUEST = 0, 1, 2


def _now(clock: Any, label: str) -> int:
    """Reads ``clock``: whole milliseconds, an ``int`` (not a ``bool``) from
    0 to 2**64 - 1; anything else is a ``TypeError``/``ValueError`` naming
    the command and the clock (as on the native semaphore path)."""
    t = clock.now()
    if type(t) is int and 0 <= t < 1 << 64:  # noqa: E721 - exact type: the fast path
        return t
    if isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 1 << 64:
        return int(t)
    raise _bad_clock(label, clock, t)


def _now_or_release(clock: Any, label: str, ex: Any) -> int:
    """:func:`_now` for a call under way (its run has ended, or a fallback
    has): a bad clock releases what the call holds (nothing is recorded)
    before its error reaches the caller."""
    try:
        return _now(clock, label)
    except BaseException:
        ex.abandon(0)
        raise


class Call:
    """The call a thread-isolated run is executing for; see :func:`current_call`."""

    __slots__ = ("command", "cancelled")

    def __init__(self, command: str):
        #: The command's name (as errors give it).
        self.command = command
        #: Set when the caller stops waiting for the run: at its timeout,
        #: or when the caller is interrupted. A run that can stop early polls
        #: ``cancelled.is_set()`` or waits on it (``cancelled.wait(t)``)
        #: instead of sleeping; what it returns after that is discarded.
        self.cancelled = threading.Event()

    def __repr__(self) -> str:
        return f"<hystrix.Call {self.command!r} cancelled={self.cancelled.is_set()}>"


_CURRENT_CALL: "contextvars.ContextVar[Optional[Call]]" = contextvars.ContextVar("hystrix_current_call", default=None)


def current_call() -> Optional[Call]:
    """The :class:`Call` of the thread-isolated run executing in this
    context (the innermost one, if runs nest), or ``None`` elsewhere —
    outside a run, and in semaphore-isolated and asyncio runs (an asyncio
    run's cancellation is its task being cancelled). Hystrix cannot stop a
    thread: this is how a sync run learns that nobody waits for it any more
    (SPEC §3 step 3), so that it can give its permit back sooner."""
    return _CURRENT_CALL.get()


def _run_as(call: Call, run: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """Runs ``run`` with ``call`` as :func:`current_call` (in the run's own context copy)."""
    _CURRENT_CALL.set(call)
    return run(*args, **kwargs)


def _label_of(run: Any) -> str:
    """What errors call an anonymous command: its run's name."""
    return str(getattr(run, "__qualname__", None) or getattr(run, "__name__", None) or type(run).__name__)


class _Pool:
    """The worker threads of one circuit's thread isolation: at most
    ``size``, started on demand, idle ones reused. They are daemon threads,
    so a run that never returns cannot keep the interpreter from exiting
    (``concurrent.futures`` joins its workers at exit). After ``fork()`` the
    child starts afresh (see :func:`_after_fork_in_child`)."""

    def __init__(self, size: int, prefix: str):
        self.size = size
        self._prefix = prefix
        self._reset()
        _POOLS.add(self)

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._work: Deque[Tuple[Callable[[], None], Callable[[], None], "concurrent.futures.Future[None]"]] = (
            collections.deque()
        )
        # Thread id -> the item it runs (what a fork leaves without a thread).
        self._running: Dict[int, Any] = {}
        self._idle = 0
        self._threads = 0
        self._closed = False

    def submit(self, work: Callable[[], None], lost: Callable[[], None]) -> "concurrent.futures.Future[None]":
        """Runs ``work`` (which must not raise) on a worker; the future
        completes when it has. ``lost()`` is called instead in a forked
        child for work whose thread did not survive the fork."""
        future: "concurrent.futures.Future[None]" = concurrent.futures.Future()
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
        """Idle workers exit; queued work still runs."""
        with self._cond:
            self._closed = True
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
                future = item[2]
                # An idle worker must not keep the last run's arguments alive.
                del item
                future.set_result(None)
                del future

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
_CIRCUITS: "weakref.WeakSet[Circuit]" = weakref.WeakSet()


class Circuit:
    """The shared state behind one or more commands: circuit breaker,
    bulkhead, fallback limiter and rolling metrics. ``label`` is what errors
    and logs call it (default: ``name``; an anonymous command passes its
    run's name). Every circuit logs its transitions to the ``hystrix``
    logger."""

    def __init__(self, name: str, config: Dict[str, Any], clock: Any = None, *, label: Optional[str] = None):
        self._native = _hystrix.NativeCommand(
            name, config, None if clock is None or clock is DEFAULT_CLOCK else clock, label or None
        )
        self._clock = clock if clock is not None else DEFAULT_CLOCK
        self._pool: Optional[_Pool] = None
        self._pool_lock = threading.Lock()
        self._native.subscribe("state", functools.partial(_log_transition, self._native.label))
        _CIRCUITS.add(self)

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
    def state(self) -> str:
        """The circuit's state now: ``closed``, ``open`` or ``half_open`` (as
        :meth:`snapshot` reports it)."""
        return self._native.state(self.now())

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

    def snapshot(self) -> Dict[str, Any]:
        """State, health, rolling and cumulative counts, latency percentiles,
        concurrency — as a dict with the same field names as every binding."""
        return self._native.snapshot(self.now())

    def config(self) -> Dict[str, Any]:
        """The configuration in force."""
        return self._native.config()

    def configure(self, **config: Any) -> Dict[str, Any]:
        """Changes settings live (SPEC names); raises InvalidConfigError naming
        the key, and then nothing changes."""
        return self._native.configure(config)

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

    def _submit(self, work: Callable[[], None], lost: Callable[[], None]) -> "concurrent.futures.Future[None]":
        """Runs ``work`` on this circuit's pool, sized to the bulkhead (see
        :meth:`_Pool.submit`). The pool is replaced when the bulkhead grows;
        the check, the replacement and the submit happen under one lock, so
        no call is handed a pool that was just shut down."""
        size = self._native.setting("max_concurrent_requests")
        with self._pool_lock:
            pool = self._pool
            if pool is None or size > pool.size:
                self._pool = _Pool(size, f"hystrix-{self.name or 'command'}")
                if pool is not None:
                    pool.shutdown()
                pool = self._pool
            return pool.submit(work, lost)


_registry: Dict[str, Circuit] = {}
_registry_lock = threading.Lock()


def config_schema() -> List[Dict[str, Any]]:
    """Every setting, in SPEC order, as the core describes it: ``name`` (the
    keyword argument), ``type`` (``"bool"``, ``"int"`` or ``"name"``),
    ``default``, and ``min``/``max`` (integers) or ``values`` (named
    settings such as ``retry_jitter``). A new list each call."""
    return json.loads(_hystrix.CONFIG_SCHEMA)  # type: ignore[no-any-return]


def configure(name: str, **config: Any) -> Circuit:
    """Sets the configuration of the named circuit (made if needed)."""
    with _registry_lock:
        circuit = _registry.get(name)
        if circuit is None:
            circuit = _registry[name] = Circuit(name, config)
            return circuit
    circuit.configure(**config)
    return circuit


def get(name: str) -> Circuit:
    """The named circuit (made with the defaults on first use)."""
    with _registry_lock:
        circuit = _registry.get(name)
        if circuit is None:
            circuit = _registry[name] = Circuit(name, {})
        return circuit


def remove(name: str) -> bool:
    """Forgets a name; its circuit is freed once no command uses it."""
    with _registry_lock:
        return _registry.pop(name, None) is not None


def _after_fork_in_child() -> None:
    """In a child made by ``fork()`` (gunicorn ``--preload``, multiprocessing,
    Celery prefork): the parent's worker threads do not exist here. Every
    pool starts afresh, the locks another thread may have held are new, and
    the calls whose runs were on those threads are released (nothing is
    recorded for them), so no permit stays taken for a run that cannot end."""
    global _registry_lock
    _hystrix._after_fork()
    _registry_lock = threading.Lock()
    for circuit in list(_CIRCUITS):
        circuit._pool_lock = threading.Lock()
    lost: List[Callable[[], None]] = []
    for pool in list(_POOLS):
        lost += pool._after_fork()
    for release in lost:
        release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_hystrix._before_fork, after_in_parent=_hystrix._after_fork, after_in_child=_after_fork_in_child
    )


def _check_callable(callback: Any) -> None:
    """Refuses a listener that cannot be called, at once rather than at
    every event."""
    if not callable(callback):
        raise TypeError(f"a listener must be callable, got {type(callback).__name__}")


def _is_bad_request_default(exc: BaseException) -> bool:
    return isinstance(exc, BadRequest)


def _outcome_of(is_bad: Callable[[BaseException], bool], exc: BaseException) -> int:
    """A run's exception as an outcome. KeyboardInterrupt, SystemExit and
    other non-``Exception``s are not the dependency's fault: like bad
    requests they skip the fallback and reach the caller unchanged. A
    classifier that raises (or answers with an object whose truth value
    raises) cannot hide the run's error: the error counts as a failure and
    the classifier's exception goes to ``sys.unraisablehook``, as with
    semaphore isolation."""
    if not isinstance(exc, Exception):
        return _BAD_REQUEST
    try:
        return _BAD_REQUEST if is_bad(exc) else _FAILURE
    except Exception as err:  # noqa: BLE001 - reported, never propagated
        sys.unraisablehook(
            types.SimpleNamespace(
                exc_type=type(err),
                exc_value=err,
                exc_traceback=err.__traceback__,
                err_msg="Exception ignored in the is_bad_request classifier",
                object=is_bad,
            )
        )
        return _FAILURE


def _check_not_generator(run: Any, what: str) -> None:
    """Refuses generator and async generator functions: a command would
    only protect the call that creates the generator, never its body."""
    target = run
    if not (inspect.isfunction(run) or inspect.ismethod(run) or isinstance(run, functools.partial)):
        target = getattr(type(run), "__call__", run)
    if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
        kind = "an async generator" if inspect.isasyncgenfunction(target) else "a generator"
        raise TypeError(
            f"{what} {_label_of(run)!r} is {kind} function: hystrix would only protect the call that creates"
            " the generator, not its body (failures and time spent while iterating would never count); wrap a"
            " function that consumes it instead (e.g. one returning list(...))"
        )


class Command:
    """A run, an optional fallback and the circuit they execute through.

    ``Command(run, fallback=None, *, name=None, isolation="thread", is_bad_request=None,
    clock=None, **config)``: ``config`` takes the SPEC settings as keyword
    arguments (``timeout_ms=250, request_volume_threshold=10, ...``),
    validated at once (:class:`InvalidConfigError`, also a ``ValueError``,
    naming the key). ``name`` shares one circuit between every command of that
    name. ``fallback(error, *args, **kwargs)`` gets the original error first.
    ``isolation``: ``"thread"`` (Hystrix's default: the run executes on a
    bounded per-circuit pool of daemon threads, in a copy of the caller's
    ``contextvars`` context, and ``execute`` returns at the timeout; a run
    that never returns cannot keep the interpreter from exiting; the run can
    see that its caller stopped waiting through :func:`current_call`) or
    ``"semaphore"`` (on the caller's thread; a slow run is only judged a
    timeout once it returns). With semaphore isolation every fallback after
    a short-circuit receives the same ``CircuitOpenError`` instance (the
    open path allocates no exception); raise your own if you need one.

    Generator and async generator functions are refused (``TypeError``):
    only the call creating the generator would go through the command.

    ``clock``: anything with ``now()`` returning whole milliseconds as an
    ``int``; any other value is a ``TypeError`` (``ValueError`` when
    negative) naming the command, raised to the caller whatever the
    isolation, and the call is settled (its permit given back).
    """

    def __init__(
        self,
        run: Callable[..., Any],
        fallback: Optional[Callable[..., Any]] = None,
        *,
        name: Optional[str] = None,
        isolation: str = "thread",
        is_bad_request: Optional[Callable[[BaseException], bool]] = None,
        clock: Any = None,
        **config: Any,
    ):
        if not callable(run):
            raise TypeError(f"run must be callable, got {type(run).__name__}")
        if fallback is not None and not callable(fallback):
            raise TypeError(f"fallback must be callable or None, got {type(fallback).__name__}")
        _check_not_generator(run, "run")
        if isolation not in ("thread", "semaphore"):
            raise ValueError(f"isolation must be 'thread' or 'semaphore', got {isolation!r}")
        if is_bad_request is not None and not callable(is_bad_request):
            raise TypeError("is_bad_request must be callable or None")
        if name is None:
            self.circuit = Circuit("", config, clock, label=_label_of(run))
        else:
            if not isinstance(name, str):
                raise TypeError(f"name must be a str, got {type(name).__name__}")
            self.circuit = configure(name, **config) if config else get(name)
            if clock is not None:
                self.circuit.clock = clock
        self._run = run
        self._fallback = fallback
        self._isolation = isolation
        self._label = self.circuit.label
        if is_bad_request is None:
            self._is_bad = _is_bad_request_default
        else:
            # BadRequest always counts; the predicate adds more.
            self._is_bad = lambda exc: isinstance(exc, BadRequest) or bool(is_bad_request(exc))
        if isolation == "semaphore":
            # The whole call in one crossing into the native layer.
            self.execute = _hystrix.SemaphoreCall(self.circuit._native, run, fallback, self._is_bad)  # type: ignore[method-assign]
        functools.update_wrapper(self, run, updated=())

    def __repr__(self) -> str:
        try:
            c = self.circuit._native.config()
            state = self.circuit.state
        except Exception as exc:  # noqa: BLE001 - a repr must not raise (e.g. a broken clock)
            return f"<hystrix.Command {self._label!r} {self._isolation} ({type(exc).__name__} reading it)>"
        timeout = f"{c['timeout_ms']}" if c["timeout_enabled"] else "off"
        return (
            f"<hystrix.Command {self._label!r} state={state} isolation={self._isolation} timeout_ms={timeout}"
            f" max_concurrent_requests={c['max_concurrent_requests']}>"
        )

    @property
    def state(self) -> str:
        """See :attr:`Circuit.state`."""
        return self.circuit.state

    # Observing (delegated to the circuit).
    def snapshot(self) -> Dict[str, Any]:
        """See :meth:`Circuit.snapshot`."""
        return self.circuit.snapshot()

    def on_event(self, callback: Callable[[str, str, int], None]) -> int:
        """See :meth:`Circuit.on_event`."""
        return self.circuit.on_event(callback)

    def on_state_change(self, callback: Callable[[str, str, str, int], None]) -> int:
        """See :meth:`Circuit.on_state_change`."""
        return self.circuit.on_state_change(callback)

    def configure(self, **config: Any) -> Dict[str, Any]:
        """See :meth:`Circuit.configure`."""
        return self.circuit.configure(**config)

    # Synchronous execution.
    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        return self.execute(*args, **kwargs)

    def _refusal(self, ex: Any) -> BaseException:
        """The error of a call the circuit or the bulkhead refused."""
        cause = ex.cause
        limit = self.circuit._native.setting("max_concurrent_requests") if cause == "rejected" else None
        return _new_error(cause, self._label, limit)

    def _timeout(self, start: int, deadline: int) -> BaseException:
        return _new_error("timeout", self._label, deadline - start)

    def execute(self, /, *args: Any, **kwargs: Any) -> Any:
        """Runs through the command and returns the run's or the fallback's
        value; raises the run's own exception (failure without fallback), a
        :class:`HystrixError`, or the bad request the run raised."""
        circuit = self.circuit
        clock = circuit.clock
        start = _now(clock, self._label)
        ex, (kind, arg) = circuit._native.start(start, self._fallback is not None)
        if kind != _RUN:
            return self._settle(ex, (kind, arg), self._refusal(ex), args, kwargs)
        if self._isolation == "semaphore":
            try:
                value = self._run(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure of the run counts
                end = _now_or_release(clock, self._label, ex)
                if arg is not None and end >= arg:
                    return self._timed_out(ex, start, end, arg, args, kwargs)
                step = ex.run_finished(end, _outcome_of(self._is_bad, exc))
                return self._settle(ex, step, exc, args, kwargs)
            except BaseException:
                ex.abandon(0)
                raise
            end = _now_or_release(clock, self._label, ex)
            if arg is not None and end >= arg:
                return self._timed_out(ex, start, end, arg, args, kwargs)
            ex.run_finished(end, _SUCCESS)
            return value
        return self._execute_in_thread(ex, start, arg, args, kwargs)

    def _timed_out(self, ex: Any, start: int, now: int, deadline: int, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        step = ex.timer_fired(now)
        ex.run_stopped()
        return self._settle(ex, step, self._timeout(start, deadline), args, kwargs)

    def _execute_in_thread(
        self, ex: Any, start: int, deadline: Optional[int], args: Tuple[Any, ...], kwargs: Dict[str, Any]
    ) -> Any:
        clock = self.circuit.clock
        label = self._label
        done = threading.Event()
        wait = clock.waiter(deadline, done) if deadline is not None else done.wait
        outcome: List[Any] = []
        run = self._run
        # The run sees the caller's context variables (request ids, spans…).
        context = contextvars.copy_context()
        call = Call(label)

        def work() -> None:
            try:
                outcome.append((True, context.run(_run_as, call, run, args, kwargs)))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome.append((False, exc))
            finally:
                done.set()

        def lost() -> None:
            # Forked child: the run's thread is gone; release the call.
            ex.abandon(0)
            ex.run_stopped()

        future = self.circuit._submit(work, lost)
        try:
            timed_out = wait() if deadline is not None else not wait()
            now = _now(clock, label) if (outcome or timed_out) else 0
        except BaseException:
            # The caller was interrupted (KeyboardInterrupt…) or the clock is
            # broken: nothing is recorded, and the permit is held until the
            # run really ends.
            call.cancelled.set()
            future.add_done_callback(lambda _f: (ex.abandon(0), ex.run_stopped()))
            raise
        if timed_out and not outcome:
            call.cancelled.set()
            step = ex.timer_fired(now)
            # The permit is held until the run really ends (SPEC §3.4).
            future.add_done_callback(lambda _f: ex.run_stopped())
            return self._settle(ex, step, self._timeout(start, deadline), args, kwargs)  # type: ignore[arg-type]
        ok, result = outcome[0]
        if deadline is not None and now >= deadline:
            # The run ended as the deadline passed, before the wait saw it:
            # a timeout, as on every path (its result is discarded).
            return self._timed_out(ex, start, now, deadline, args, kwargs)
        if ok:
            ex.run_finished(now, _SUCCESS)
            return result
        step = ex.run_finished(now, _outcome_of(self._is_bad, result))
        return self._settle(ex, step, result, args, kwargs)

    def _settle(self, ex: Any, step: Tuple[int, Any], original: BaseException, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        kind, arg = step
        if kind == _FALLBACK:
            with _recording_fallback(ex, self, original):
                return self._fallback(original, *args, **kwargs)  # type: ignore[misc]
        self._raise_for(arg, original)

    def _raise_for(self, kind: str, original: BaseException) -> None:
        """Raises what the caller gets for a call settled with error ``kind``."""
        if kind == "fallback_rejected":
            limit = self.circuit._native.setting("fallback_max_concurrent_requests")
            raise _new_error(kind, self._label, limit, original) from original
        raise original

    def queue(self, /, *args: Any, **kwargs: Any) -> "concurrent.futures.Future[Any]":
        """Starts :meth:`execute` on a worker thread now, in a copy of the
        caller's ``contextvars`` context (the run and the fallback see it);
        returns its future."""
        future: "concurrent.futures.Future[Any]" = concurrent.futures.Future()
        context = contextvars.copy_context()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(context.run(self.execute, *args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - delivered through the future
                future.set_exception(exc)

        threading.Thread(target=work, name="hystrix-queue", daemon=True).start()
        return future

    # asyncio.
    async def execute_async(self, /, *args: Any, **kwargs: Any) -> Any:
        """Awaits the run (a coroutine function, or any callable returning an
        awaitable or a value) through the command. At the timeout the run's
        task is cancelled; it keeps its permit until it really ends. The
        fallback may be sync or async. Cancelling this coroutine abandons the
        call (its run is cancelled, nothing is recorded).

        A plain (non-async) run is called on the event loop's thread: if it
        blocks, it blocks the loop, and like semaphore isolation it is only
        judged a timeout once it returns. Give blocking code to
        :meth:`execute` (thread isolation) or wrap it in
        ``asyncio.to_thread`` yourself."""
        circuit = self.circuit
        clock = circuit.clock
        label = self._label
        start = _now(clock, label)
        ex, (kind, arg) = circuit._native.start(start, self._fallback is not None)
        if kind != _RUN:
            return await self._settle_async(ex, (kind, arg), self._refusal(ex), args, kwargs)
        # The timeout is armed before the run starts (SPEC §1).
        timer = clock.timer_future(arg) if arg is not None else None
        try:
            started = self._run(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - non-Exceptions are re-raised by _settle_async
            if timer is not None:
                timer.cancel()
            end = _now_or_release(clock, label, ex)
            if isinstance(exc, Exception) and arg is not None and end >= arg:
                # A plain callable that blocked past its deadline: as with
                # semaphore isolation, a timeout, whatever it raised.
                return await self._timed_out_async(ex, start, end, arg, args, kwargs)
            step = ex.run_finished(end, _outcome_of(self._is_bad, exc))
            return await self._settle_async(ex, step, exc, args, kwargs)
        if not inspect.isawaitable(started):
            if timer is not None:
                timer.cancel()
            end = _now_or_release(clock, label, ex)
            if arg is not None and end >= arg:
                return await self._timed_out_async(ex, start, end, arg, args, kwargs)
            ex.run_finished(end, _SUCCESS)
            return started
        task = asyncio.ensure_future(started)
        waiting = {task} if timer is None else {task, timer}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except BaseException as exc:
            # The caller gave up: cancel the run; its permit is held until
            # the run has really stopped (semantics §3.4). A cancellation of
            # the caller's task is a caller cancellation (§18): the run
            # records CANCELLED (nothing in health, no fallback); anything
            # else (KeyboardInterrupt…) abandons the call unrecorded.
            if timer is not None:
                timer.cancel()
            cancelled = False
            if isinstance(exc, asyncio.CancelledError):
                try:
                    cancelled = ex.cancel(_now(clock, label))
                except BaseException:  # noqa: BLE001 - a broken clock: abandon instead
                    cancelled = False

            def abandoned(t: "asyncio.Task[Any]") -> None:
                if not t.cancelled():
                    t.exception()
                if cancelled:
                    ex.run_stopped()
                else:
                    ex.abandon(0)

            if task.done():
                abandoned(task)
            else:
                task.add_done_callback(abandoned)
                task.cancel()
            raise
        if timer is not None and timer.done() and not timer.cancelled():
            try:
                fired_at = _now(clock, label)
            except BaseException:
                # A bad clock at the timeout: stop the run; the call is
                # released (nothing recorded) once it has stopped.
                def released(t: "asyncio.Task[Any]") -> None:
                    if not t.cancelled():
                        t.exception()
                    ex.abandon(0)

                task.add_done_callback(released)
                task.cancel()
                raise
            step = ex.timer_fired(fired_at)
            if step[0] != _hystrix.STEP_NOTHING:
                def stopped(t: "asyncio.Task[Any]") -> None:
                    if not t.cancelled():
                        t.exception()  # the late outcome is discarded (and so retrieved)
                    ex.run_stopped()

                if task.done():
                    stopped(task)
                else:
                    task.add_done_callback(stopped)
                    task.cancel()
                return await self._settle_async(ex, step, self._timeout(start, arg), args, kwargs)  # type: ignore[arg-type]
        if timer is not None:
            timer.cancel()
        now = _now_or_release(clock, label, ex)
        if arg is not None and now >= arg and not task.cancelled():
            # The run ended past its deadline before the timer fired (a
            # blocked loop, a clock moved on): a timeout, as on every path.
            task.exception()  # retrieved: the late outcome is discarded
            return await self._timed_out_async(ex, start, now, arg, args, kwargs)
        if task.cancelled():
            # Nobody cancelled the run's task (a timeout and an abandoned call
            # are handled above): the run raised CancelledError itself. Like
            # any non-Exception from a run it reaches the caller unchanged
            # (the task hands back the run's own object) with no fallback.
            try:
                task.result()
            except asyncio.CancelledError as cancelled:
                own = cancelled
                if sys.version_info < (3, 11) and isinstance(cancelled.__context__, asyncio.CancelledError):
                    # Before 3.11 the task raises a new CancelledError whose
                    # context is the one the run raised.
                    own = cancelled.__context__
                step = ex.run_finished(now, _BAD_REQUEST)
                return await self._settle_async(ex, step, own, args, kwargs)
        exc = task.exception()
        if exc is None:
            ex.run_finished(now, _SUCCESS)
            return task.result()
        step = ex.run_finished(now, _outcome_of(self._is_bad, exc))
        return await self._settle_async(ex, step, exc, args, kwargs)

    async def _timed_out_async(
        self, ex: Any, start: int, now: int, deadline: int, args: Tuple[Any, ...], kwargs: Dict[str, Any]
    ) -> Any:
        step = ex.timer_fired(now)
        ex.run_stopped()
        return await self._settle_async(ex, step, self._timeout(start, deadline), args, kwargs)

    async def _settle_async(self, ex: Any, step: Tuple[int, Any], original: BaseException, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        kind, arg = step
        if kind == _FALLBACK:
            try:
                value = self._fallback(original, *args, **kwargs)  # type: ignore[misc]
            except BaseException:
                with _recording_fallback(ex, self, original):
                    raise  # recorded and converted as any failing fallback
            if inspect.isawaitable(value):
                return await self._await_fallback(ex, value, original)
            with _recording_fallback(ex, self, original):
                return value
        self._raise_for(arg, original)

    async def _await_fallback(self, ex: Any, value: Any, original: BaseException) -> Any:
        """Awaits an async fallback, shielded from the caller's cancellation
        (semantics §18.1): a caller cancelled meanwhile stops waiting at once,
        while the fallback runs on, keeps its slot, and has its outcome
        recorded when it ends (its result is then discarded)."""
        clock, label = self.circuit.clock, self._label
        task = asyncio.ensure_future(value)

        def recorded(t: "asyncio.Future[Any]") -> None:
            ok = not t.cancelled() and t.exception() is None
            try:
                now = _now(clock, label)
            except BaseException:  # noqa: BLE001 - a bad clock: release, record nothing
                ex.abandon(0)
                return
            ex.fallback_finished(now, ok)

        # Registered before shield's own callback: the outcome is recorded
        # before the caller resumes.
        task.add_done_callback(recorded)
        # A CancelledError (the caller's, or the fallback's own, which the
        # callback records as a failure) and other non-Exceptions pass on.
        try:
            return await asyncio.shield(task)
        except Exception as fb_exc:  # noqa: BLE001 - every failure of the fallback
            raise _new_error("fallback_failure", label, None, original, fb_exc) from fb_exc


@contextlib.contextmanager
def _recording_fallback(ex: Any, cmd: Command, original: BaseException) -> Iterator[None]:
    """Around a fallback (sync or awaited): records how it settled. An
    ``Exception`` becomes :class:`FallbackFailedError`. Anything else
    (KeyboardInterrupt, SystemExit…) propagates unchanged and is recorded as
    a failed fallback, as with semaphore isolation; only a ``CancelledError``
    abandons the call (the caller may have been cancelled while awaiting)."""
    clock, label = cmd.circuit.clock, cmd._label
    try:
        yield
    except Exception as fb_exc:  # noqa: BLE001
        ex.fallback_finished(_now_or_release(clock, label, ex), False)
        raise _new_error("fallback_failure", label, None, original, fb_exc) from fb_exc
    except asyncio.CancelledError:
        ex.abandon(0)
        raise
    except BaseException:
        ex.fallback_finished(_now_or_release(clock, label, ex), False)
        raise
    ex.fallback_finished(_now_or_release(clock, label, ex), True)


def command(
    fn: Optional[Callable[..., Any]] = None,
    *,
    fallback: Optional[Callable[..., Any]] = None,
    name: Optional[str] = None,
    isolation: str = "thread",
    is_bad_request: Optional[Callable[[BaseException], bool]] = None,
    clock: Any = None,
    **config: Any,
) -> Any:
    """Decorator: ``@hystrix.command(name="users", fallback=..., timeout_ms=200)``
    wraps a function (sync → :meth:`Command.execute`, ``async def`` →
    :meth:`Command.execute_async`). Works on methods too (one circuit per
    decorated function, shared by every instance). Generator and async
    generator functions are refused with a ``TypeError`` at decoration."""

    def wrap(f: Callable[..., Any]) -> Any:
        _check_not_generator(f, "@hystrix.command")
        cmd = Command(f, fallback, name=name, isolation=isolation, is_bad_request=is_bad_request, clock=clock, **config)
        if inspect.iscoroutinefunction(f):

            @functools.wraps(f)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await cmd.execute_async(*args, **kwargs)

            async_wrapper.command = cmd  # type: ignore[attr-defined]
            return async_wrapper

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return cmd.execute(*args, **kwargs)

        wrapper.command = cmd  # type: ignore[attr-defined]
        return wrapper

    return wrap(fn) if fn is not None else wrap
