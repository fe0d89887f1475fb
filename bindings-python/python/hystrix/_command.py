"""``Command``: a run (and optional fallback) executed through one circuit —
synchronously (semaphore or thread isolation), as a
``concurrent.futures.Future``, or under asyncio. Each way of running is one
small interpreter of the core's call protocol (``_sync``, ``_threads``,
``_asyncio``); this module only assembles them."""
from __future__ import annotations

import concurrent.futures
import contextvars
import threading
from typing import Any, Awaitable, Callable, Coroutine, Dict, Generic, NoReturn, Optional, TypeVar, cast, overload

from . import _asyncio, _hystrix, _sync, _threads
from ._circuit import Circuit
from ._errors import BadRequest
from ._options import _check_not_generator, _is_bad_request_default, _label_of
from ._protocol import Target
from ._registry import _hold, _release
from ._types import Clock, Isolation, Settings, Snapshot, State
from ._typing import Concatenate, ParamSpec, Unpack
from ._wrapping import update_wrapper

P = ParamSpec("P")
R = TypeVar("R", covariant=True)
T = TypeVar("T")

#: Serialises the check-and-clear in :meth:`Command.close`.
_CLOSING = threading.Lock()


class Command(Generic[P, R]):
    """A run, an optional fallback and the circuit they execute through.

    ``Command(run, fallback=None, *, name=None, isolation="thread", is_bad_request=None,
    clock=None, **config)``: ``config`` takes the SPEC settings as keyword
    arguments (``timeout_ms=250, request_volume_threshold=10, ...``),
    validated at once (:class:`InvalidConfigError`, also a ``ValueError``,
    naming the key). ``name`` shares one circuit between every command of that
    name; one name has one set of settings: settings given that differ from
    the existing circuit's raise :class:`SettingsConflictError` (naming the
    command, the setting and both values) and change nothing — change them
    with :func:`hystrix.configure`. ``fallback(error, *args, **kwargs)`` gets the original error first.
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

    The SPEC v2 strategies (``retry_*``, ``hedge_*``, ``deadline_ms``,
    ``rate_limit_*``, adaptive limits) work in every mode; the run learns
    which attempt it is from ``current_call().attempt``. With semaphore
    isolation attempts run one after another on the caller's thread (a
    hedge starts only once the attempt before it has returned) and timers
    are waited for on the command's clock; see ``hystrix._sync``.
    """

    def __init__(
        self,
        run: Callable[P, R],
        fallback: Optional[Callable[Concatenate[Exception, P], object]] = None,
        *,
        name: Optional[str] = None,
        isolation: Isolation = "thread",
        is_bad_request: Optional[Callable[[BaseException], bool]] = None,
        clock: Optional[Clock] = None,
        **config: Unpack[Settings],
    ) -> None:
        # ``config`` is this call's own dict (made for ``**config``), and
        # nothing keeps it: no copy.
        self._setup(run, fallback, name, isolation, is_bad_request, clock, cast(Dict[str, Any], config), "run")

    def _setup(
        self,
        run: Callable[P, R],
        fallback: Optional[Callable[Concatenate[Exception, P], object]],
        name: Optional[str],
        isolation: Isolation,
        is_bad_request: Optional[Callable[[BaseException], bool]],
        clock: Optional[Clock],
        settings: Dict[str, Any],
        what: Optional[str],
    ) -> None:
        """What ``__init__`` does; ``@command`` calls it directly (no second
        packing of the keywords). ``what``: how a generator function ``run``
        is named when refused (``None``: the caller has checked)."""
        if not callable(run):
            raise TypeError(f"run must be callable, got {type(run).__name__}")
        if fallback is not None and not callable(fallback):
            raise TypeError(f"fallback must be callable or None, got {type(fallback).__name__}")
        if what is not None:
            _check_not_generator(run, what)
        if isolation != "thread" and isolation != "semaphore":
            raise ValueError(f"isolation must be 'thread' or 'semaphore', got {isolation!r}")
        if is_bad_request is not None and not callable(is_bad_request):
            raise TypeError("is_bad_request must be callable or None")
        circuit: Circuit
        if name is None:
            label = _label_of(run)
            circuit = Circuit("", settings, clock, label=label)
            circuit._holders = 1
        else:
            if not isinstance(name, str):
                raise TypeError(f"name must be a str, got {type(name).__name__}")
            circuit = _hold(name, settings)
            label = name  # a named circuit is called by its name
            if clock is not None:
                circuit.clock = clock
        self._circuit: Optional[Circuit] = circuit
        if isolation == "thread":
            circuit._thread = True
        self._isolation = isolation
        self._label = label
        if is_bad_request is None:
            is_bad = _is_bad_request_default
        else:
            # BadRequest always counts; the predicate adds more.
            is_bad = lambda exc: isinstance(exc, BadRequest) or bool(is_bad_request(exc))  # noqa: E731
        if isolation == "semaphore":
            # The whole call in one crossing into the native layer; with a
            # call strategy on (retry, hedging, deadline, rate limiter) the
            # native layer hands it to the sync interpreter (`_sync`).
            target = _sync.SyncTarget(circuit, run, fallback, is_bad, label)
            self._target: Target = target
            self.execute = _hystrix.SemaphoreCall(  # type: ignore[method-assign]
                circuit._native, run, fallback, is_bad, target
            )
        else:
            self._target = Target(circuit, run, fallback, is_bad, label)
        update_wrapper(self, run)

    def __repr__(self) -> str:
        circuit = self._circuit
        if circuit is None:
            return f"<hystrix.Command {self._label!r} closed>"
        try:
            c = circuit._native.config()
            state = circuit.state
        except Exception as exc:  # noqa: BLE001 - a repr must not raise (e.g. a broken clock)
            return f"<hystrix.Command {self._label!r} {self._isolation} ({type(exc).__name__} reading it)>"
        timeout = f"{c['timeout_ms']}" if c["timeout_enabled"] else "off"
        return (
            f"<hystrix.Command {self._label!r} state={state} isolation={self._isolation} timeout_ms={timeout}"
            f" max_concurrent_requests={c['max_concurrent_requests']}>"
        )

    @property
    def circuit(self) -> Circuit:
        """The circuit this command executes through (shared by every
        command of its name); a ``RuntimeError`` once the command is closed."""
        circuit = self._circuit
        if circuit is None:
            self._closed()
        return circuit

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._circuit is None

    def close(self) -> None:
        """Releases the command (see the class docs); calls in flight finish
        normally. A second call does nothing."""
        with _CLOSING:  # two threads closing at once release it once
            circuit = self._circuit
            if circuit is None:
                return
            self._circuit = None
        # Methods that raise shadow the calling methods, so those need no
        # check; a call already past that lookup finds no `_target`.
        self.execute = self.queue = _closed_call(self._label)  # type: ignore[method-assign]
        self.execute_async = _closed_async(self._label)  # type: ignore[method-assign]
        del self._target
        if _release(circuit):
            circuit._close()

    def __enter__(self) -> Command[P, R]:
        self.circuit  # noqa: B018 - refuses a closed command
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _closed(self) -> NoReturn:
        raise _closed_error(self._label)

    @property
    def state(self) -> State:
        """See :attr:`Circuit.state`."""
        return self.circuit.state

    # Observing (delegated to the circuit).
    def snapshot(self) -> Snapshot:
        """See :meth:`Circuit.snapshot`."""
        return self.circuit.snapshot()

    def on_event(self, callback: Callable[[str, str, int], None]) -> int:
        """See :meth:`Circuit.on_event`."""
        return self.circuit.on_event(callback)

    def on_state_change(self, callback: Callable[[str, str, str, int], None]) -> int:
        """See :meth:`Circuit.on_state_change`."""
        return self.circuit.on_state_change(callback)

    def configure(self, **config: Unpack[Settings]) -> Settings:
        """See :meth:`Circuit.configure`."""
        return self.circuit.configure(**config)

    # Synchronous execution.
    def __call__(self, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Same as :meth:`execute`."""
        return self.execute(*args, **kwargs)

    def execute(self, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Runs through the command and returns the run's or the fallback's
        value; raises the run's own exception (failure without fallback), a
        :class:`HystrixError`, or the bad request the run raised."""
        try:
            target = self._target
        except AttributeError:
            self._closed()
        result: R = _threads.execute(target, args, kwargs)
        return result

    def queue(self, /, *args: P.args, **kwargs: P.kwargs) -> concurrent.futures.Future[R]:
        """Starts :meth:`execute` on a worker thread now, in a copy of the
        caller's ``contextvars`` context (the run and the fallback see it);
        returns its future. With thread isolation the future's ``cancel()``
        cancels the call if it has not settled yet (semantics §18: it settles
        ``cancelled``, its runs are told to stop through
        :func:`current_call`, no fallback, nothing counts in health) and
        returns ``True``; with semaphore isolation the run executes on that
        worker thread and only a call that has not started can be
        cancelled."""
        if self._isolation == "thread":
            try:
                target = self._target
            except AttributeError:
                self._closed()
            return _threads.queue(target, args, kwargs)
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
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
    @overload
    async def execute_async(self: Command[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T: ...

    @overload
    async def execute_async(self: Command[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...

    async def execute_async(self, /, *args: Any, **kwargs: Any) -> Any:
        """Awaits the run (a coroutine function, or any callable returning an
        awaitable or a value) through the command; each attempt is a task,
        cancelled when the attempt is aborted (its timeout, a hedge that
        lost); it keeps its permit until it really ends. The fallback may
        be sync or async. Cancelling this coroutine cancels the call
        (semantics §18: ``cancelled``, no fallback, nothing in health); a
        fallback already running is shielded and runs on.

        A plain (non-async) run is called on the event loop's thread: if it
        blocks, it blocks the loop, and like semaphore isolation it is only
        judged a timeout once it returns. Give blocking code to
        :meth:`execute` (thread isolation) or wrap it in
        ``asyncio.to_thread`` yourself.

        A run (or fallback) raising ``StopIteration`` reaches the caller as
        ``RuntimeError`` whose ``__cause__`` is that ``StopIteration``: a
        coroutine cannot raise it (PEP 479), here as in any ``async def``.
        :meth:`execute` passes it through unchanged."""
        try:
            target = self._target
        except AttributeError:
            self._closed()
        return await _asyncio.execute(target, args, kwargs)


def _closed_error(label: str) -> RuntimeError:
    """What any use of a closed command raises."""
    return RuntimeError(f"command {label!r} is closed: make a new Command to call it again")


# Closures over the label, not bound methods: a closed command holds no
# reference to itself (no cycle for the collector to find).
def _closed_call(label: str) -> Callable[..., NoReturn]:
    """``execute``/``queue`` of a closed command."""

    def closed(*_args: object, **_kwargs: object) -> NoReturn:
        raise _closed_error(label)

    return closed


def _closed_async(label: str) -> Callable[..., Coroutine[Any, Any, NoReturn]]:
    """``execute_async`` of a closed command."""

    async def closed(*_args: object, **_kwargs: object) -> NoReturn:
        raise _closed_error(label)

    return closed
