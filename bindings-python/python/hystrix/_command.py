"""``Command``: a run (and optional fallback) executed through one circuit,
bulkhead and set of metrics — synchronously (semaphore or thread
isolation), as a ``concurrent.futures.Future``, or under asyncio."""
import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
import sys
import threading
import types
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from . import _hystrix
from ._clock import DEFAULT_CLOCK
from ._errors import (
    BadRequest,
    CircuitOpenError,
    FallbackFailedError,
    FallbackRejectedError,
    InvalidConfigError,
    RejectedError,
    TimeoutError,
)

_hystrix._set_invalid_config_error(InvalidConfigError)
_hystrix._set_error_classes(
    {
        "timeout": TimeoutError,
        "short_circuited": CircuitOpenError,
        "rejected": RejectedError,
        "fallback_rejected": FallbackRejectedError,
        "fallback_failure": FallbackFailedError,
    }
)

_RUN, _FALLBACK, _DONE = _hystrix.STEP_RUN, _hystrix.STEP_FALLBACK, _hystrix.STEP_DONE
_SUCCESS, _FAILURE, _BAD_REQUEST = 0, 1, 2

_REFUSALS = {"short_circuited": CircuitOpenError, "rejected": RejectedError}


class Circuit:
    """The shared state behind one or more commands: circuit breaker,
    bulkhead, fallback limiter and rolling metrics."""

    def __init__(self, name: str, config: Dict[str, Any], clock: Any = None):
        self._native = _hystrix.NativeCommand(name, config, None if clock is None or clock is DEFAULT_CLOCK else clock)
        self._clock = clock if clock is not None else DEFAULT_CLOCK
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._pool_size = 0
        self._pool_lock = threading.Lock()

    @property
    def name(self) -> str:
        """The name ("" for an anonymous command)."""
        return self._native.name

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
        return self._native.snapshot(self.clock.now())

    def config(self) -> Dict[str, Any]:
        """The configuration in force."""
        return self._native.config()

    def configure(self, **config: Any) -> Dict[str, Any]:
        """Changes settings live (SPEC names); raises InvalidConfigError naming
        the key, and then nothing changes."""
        return self._native.configure(config)

    def on_event(self, callback: Callable[[str, str, int], None]) -> int:
        """Calls ``callback(command_name, event, at_ms)`` for every recorded
        event; returns an id for :meth:`unsubscribe`. Exceptions it raises are
        reported (``sys.unraisablehook``), never propagated."""
        _check_callable(callback)
        return self._native.subscribe("event", callback)

    def on_state_change(self, callback: Callable[[str, str, str, int], None]) -> int:
        """Calls ``callback(command_name, from_state, to_state, at_ms)`` on every transition."""
        _check_callable(callback)
        return self._native.subscribe("state", callback)

    def unsubscribe(self, listener_id: int) -> bool:
        """Removes a listener; whether it was subscribed (``False`` for an
        id that never was, whatever its value)."""
        if not isinstance(listener_id, int) or not 0 <= listener_id < 2**64:
            return False
        return self._native.unsubscribe(listener_id)

    def _submit(self, work: Callable[[], None]) -> "concurrent.futures.Future[None]":
        """Runs ``work`` on this circuit's pool, sized to the bulkhead. The
        pool is replaced when the bulkhead grows; the check, the replacement
        and the submit happen under one lock, so no call is handed a pool
        that was just shut down."""
        size = int(self._native.config()["max_concurrent_requests"])
        with self._pool_lock:
            if self._pool is None or size > self._pool_size:
                old = self._pool
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=size, thread_name_prefix=f"hystrix-{self.name or 'command'}"
                )
                self._pool_size = size
                if old is not None:
                    old.shutdown(wait=False)
            return self._pool.submit(work)


_registry: Dict[str, Circuit] = {}
_registry_lock = threading.Lock()


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


class Command:
    """A run, an optional fallback and the circuit they execute through.

    ``Command(run, fallback=None, *, name=None, isolation="thread", is_bad_request=None,
    clock=None, **config)``: ``config`` takes the SPEC settings as keyword
    arguments (``timeout_ms=250, request_volume_threshold=10, ...``),
    validated at once (:class:`InvalidConfigError`, also a ``ValueError``,
    naming the key). ``name`` shares one circuit between every command of that
    name. ``fallback(error, *args, **kwargs)`` gets the original error first.
    ``isolation``: ``"thread"`` (Hystrix's default: the run executes on a
    bounded per-circuit pool and ``execute`` returns at the timeout) or
    ``"semaphore"`` (on the caller's thread; a slow run is only judged a
    timeout once it returns). With semaphore isolation every fallback after
    a short-circuit receives the same ``CircuitOpenError`` instance (the
    open path allocates no exception); raise your own if you need one.
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
        if isolation not in ("thread", "semaphore"):
            raise ValueError(f"isolation must be 'thread' or 'semaphore', got {isolation!r}")
        if is_bad_request is not None and not callable(is_bad_request):
            raise TypeError("is_bad_request must be callable or None")
        if name is None:
            self.circuit = Circuit("", config, clock)
        else:
            if not isinstance(name, str):
                raise TypeError(f"name must be a str, got {type(name).__name__}")
            self.circuit = configure(name, **config) if config else get(name)
            if clock is not None:
                self.circuit.clock = clock
        self._run = run
        self._fallback = fallback
        self._isolation = isolation
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
        return f"<hystrix.Command {self.circuit.name or getattr(self._run, '__name__', 'run')!r} {self._isolation}>"

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

    def execute(self, /, *args: Any, **kwargs: Any) -> Any:
        """Runs through the command and returns the run's or the fallback's
        value; raises the run's own exception (failure without fallback), a
        :class:`HystrixError`, or the bad request the run raised."""
        circuit = self.circuit
        clock = circuit.clock
        ex, (kind, arg) = circuit._native.start(clock.now(), self._fallback is not None)
        if kind != _RUN:
            return self._settle(ex, (kind, arg), _REFUSALS[ex.cause](), args, kwargs)
        if self._isolation == "semaphore":
            try:
                value = self._run(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure of the run counts
                end = clock.now()
                if arg is not None and end >= arg:
                    return self._timed_out(ex, end, args, kwargs)
                step = ex.run_finished(end, _outcome_of(self._is_bad, exc))
                return self._settle(ex, step, exc, args, kwargs)
            except BaseException:
                ex.abandon(clock.now())
                raise
            end = clock.now()
            if arg is not None and end >= arg:
                return self._timed_out(ex, end, args, kwargs)
            ex.run_finished(end, _SUCCESS)
            return value
        return self._execute_in_thread(ex, arg, args, kwargs)

    def _timed_out(self, ex: Any, now: int, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        step = ex.timer_fired(now)
        ex.run_stopped()
        return self._settle(ex, step, TimeoutError("the run timed out"), args, kwargs)

    def _execute_in_thread(self, ex: Any, deadline: Optional[int], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        clock = self.circuit.clock
        done = threading.Event()
        wait = clock.waiter(deadline, done) if deadline is not None else done.wait
        outcome: List[Any] = []

        def work() -> None:
            try:
                outcome.append((True, self._run(*args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome.append((False, exc))
            finally:
                done.set()

        future = self.circuit._submit(work)
        try:
            timed_out = wait() if deadline is not None else not wait()
        except BaseException:
            # The caller was interrupted (KeyboardInterrupt…): nothing is
            # recorded, and the permit is held until the run really ends.
            future.add_done_callback(lambda _f: (ex.abandon(clock.now()), ex.run_stopped()))
            raise
        if timed_out and not outcome:
            step = ex.timer_fired(clock.now())
            # The permit is held until the run really ends (SPEC §3.4).
            future.add_done_callback(lambda _f: ex.run_stopped())
            return self._settle(ex, step, TimeoutError("the run timed out"), args, kwargs)
        ok, result = outcome[0]
        now = clock.now()
        if ok:
            ex.run_finished(now, _SUCCESS)
            return result
        step = ex.run_finished(now, _outcome_of(self._is_bad, result))
        return self._settle(ex, step, result, args, kwargs)

    def _settle(self, ex: Any, step: Tuple[int, Any], original: BaseException, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        kind, arg = step
        if kind == _FALLBACK:
            with _recording_fallback(ex, self.circuit.clock, original):
                return self._fallback(original, *args, **kwargs)  # type: ignore[misc]
        _raise_for(arg, original)

    def queue(self, /, *args: Any, **kwargs: Any) -> "concurrent.futures.Future[Any]":
        """Starts :meth:`execute` on a worker thread now; returns its future."""
        future: "concurrent.futures.Future[Any]" = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self.execute(*args, **kwargs))
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
        call (its run is cancelled, nothing is recorded)."""
        circuit = self.circuit
        clock = circuit.clock
        ex, (kind, arg) = circuit._native.start(clock.now(), self._fallback is not None)
        if kind != _RUN:
            return await self._settle_async(ex, (kind, arg), _REFUSALS[ex.cause](), args, kwargs)
        # The timeout is armed before the run starts (SPEC §1).
        timer = clock.timer_future(arg) if arg is not None else None
        try:
            started = self._run(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - non-Exceptions are re-raised by _settle_async
            if timer is not None:
                timer.cancel()
            end = clock.now()
            if isinstance(exc, Exception) and arg is not None and end >= arg:
                # A plain callable that blocked past its deadline: as with
                # semaphore isolation, a timeout, whatever it raised.
                return await self._timed_out_async(ex, end, args, kwargs)
            step = ex.run_finished(end, _outcome_of(self._is_bad, exc))
            return await self._settle_async(ex, step, exc, args, kwargs)
        if not inspect.isawaitable(started):
            if timer is not None:
                timer.cancel()
            end = clock.now()
            if arg is not None and end >= arg:
                return await self._timed_out_async(ex, end, args, kwargs)
            ex.run_finished(end, _SUCCESS)
            return started
        task = asyncio.ensure_future(started)
        waiting = {task} if timer is None else {task, timer}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            # The caller gave up: cancel the run; its permit is held until
            # the run has really stopped (SPEC §3.4), then nothing is recorded.
            if timer is not None:
                timer.cancel()

            def abandoned(t: "asyncio.Task[Any]") -> None:
                if not t.cancelled():
                    t.exception()
                ex.abandon(clock.now())

            if task.done():
                abandoned(task)
            else:
                task.add_done_callback(abandoned)
                task.cancel()
            raise
        if timer is not None and timer.done() and not timer.cancelled():
            step = ex.timer_fired(clock.now())
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
                return await self._settle_async(ex, step, TimeoutError("the run timed out"), args, kwargs)
        if timer is not None:
            timer.cancel()
        now = clock.now()
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

    async def _timed_out_async(self, ex: Any, now: int, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        step = ex.timer_fired(now)
        ex.run_stopped()
        return await self._settle_async(ex, step, TimeoutError("the run timed out"), args, kwargs)

    async def _settle_async(self, ex: Any, step: Tuple[int, Any], original: BaseException, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        kind, arg = step
        if kind == _FALLBACK:
            with _recording_fallback(ex, self.circuit.clock, original):
                value = self._fallback(original, *args, **kwargs)  # type: ignore[misc]
                return (await value) if inspect.isawaitable(value) else value
        _raise_for(arg, original)


@contextlib.contextmanager
def _recording_fallback(ex: Any, clock: Any, original: BaseException) -> Iterator[None]:
    """Around a fallback (sync or awaited): records how it settled. An
    ``Exception`` becomes :class:`FallbackFailedError`. Anything else
    (KeyboardInterrupt, SystemExit…) propagates unchanged and is recorded as
    a failed fallback, as with semaphore isolation; only a ``CancelledError``
    abandons the call (the caller may have been cancelled while awaiting)."""
    try:
        yield
    except Exception as fb_exc:  # noqa: BLE001
        ex.fallback_finished(clock.now(), False)
        raise FallbackFailedError(original, fb_exc) from fb_exc
    except asyncio.CancelledError:
        ex.abandon(clock.now())
        raise
    except BaseException:
        ex.fallback_finished(clock.now(), False)
        raise
    ex.fallback_finished(clock.now(), True)


def _raise_for(kind: str, original: BaseException) -> None:
    """Raises what the caller gets for a call settled with error ``kind``."""
    if kind == "fallback_rejected":
        raise FallbackRejectedError(original) from original
    raise original


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
    decorated function, shared by every instance)."""

    def wrap(f: Callable[..., Any]) -> Any:
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
