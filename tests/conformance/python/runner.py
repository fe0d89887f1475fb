"""Replays SPEC scenario files (v1 and v2: retry, hedging, deadline, rate
limiter, adaptive limits, caller cancellation) through the Python binding's
public API: ``hystrix.Command.execute_async`` with coroutine runs and
fallbacks on a ``hystrix.testing.VirtualClock``. Events are attributed to calls with a
context variable (each call runs in its own task, and a command records an
event synchronously inside the task of the call it belongs to).

    python runner.py PATH...   ->  one line per scenario, then "python: N passed, M failed"
"""
import asyncio
import inspect
import contextvars
import json
import os
import sys
from typing import Any, Dict, List, Optional

import hystrix
from hystrix.testing import VirtualClock

CURRENT: "contextvars.ContextVar[Optional[Call]]" = contextvars.ContextVar("current_call", default=None)
RUN_VALUE, FALLBACK_VALUE = object(), object()


class Failure(Exception):
    """What a simulated run or fallback fails with."""


class Expect:
    """What a call must end with (each part optional)."""

    def __init__(self, spec: Any):
        want = spec if isinstance(spec, dict) else {}
        self.result = text(want, "result")
        self.error = text(want, "error")
        events = opt(want, "events")
        if events is not None and not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
            raise ScenarioError("expect.events must be an array of strings")
        self.events: Optional[List[str]] = events
        # Semantics §17, read like counts.
        count = lambda key: None if opt(want, key) is None else uint(want[key], f"expect.{key}")  # noqa: E731
        self.attempts: Optional[int] = count("attempts")
        self.settled_at: Optional[int] = count("settled_at")
        starts = opt(want, "run_starts")
        if starts is not None and not isinstance(starts, list):
            raise ScenarioError("expect.run_starts must be an array")
        self.run_starts: Optional[List[int]] = (
            None if starts is None else [uint(t, f"expect.run_starts[{i}]") for i, t in enumerate(starts)]
        )


#: Attempt outcomes (semantics §17's `attempts` counts these).
ATTEMPT_EVENTS = frozenset(
    ("SUCCESS", "FAILURE", "TIMEOUT", "BAD_REQUEST", "SHORT_CIRCUITED", "SEMAPHORE_REJECTED", "CANCELLED")
)


class Call:
    def __init__(self, label: str, expect: Optional[Expect]):
        self.label = label
        self.expect = expect
        self.events: List[str] = []
        self.run_starts: List[int] = []
        self.settled = False
        self.settled_at: Optional[int] = None
        self.cancel_asked = False
        self.diff: Optional[str] = None


def opt(obj: Dict[str, Any], key: str, default: Any = None) -> Any:
    """An optional scenario field: absent and ``null`` both mean the default."""
    value = obj.get(key)
    return default if value is None else value


class ScenarioError(Exception):
    """A scenario file that breaks the format (SPEC §7)."""


def uint(value: Any, what: str) -> int:
    """A whole, non-negative number below 2**53 (``5.0`` reads as ``5``: JS
    writes no integers), as every runner reads it."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53:
        return value
    if isinstance(value, float) and value.is_integer() and 0 <= value < 2**53:
        return int(value)
    raise ScenarioError(f"{what} must be a non-negative integer, got {json.dumps(value)}")


def whole(value: Any) -> Any:
    """A check's expected count: ``5.0`` reads as ``5``; anything that is not
    a whole number (a bool, a string) stays as is and never matches."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return value


def flag(spec: Dict[str, Any], key: str, what: str) -> bool:
    value = opt(spec, key, False)
    if not isinstance(value, bool):
        raise ScenarioError(f"{what}.{key} must be a boolean, got {json.dumps(value)}")
    return value


def outcome_of(spec: Any, what: str, allowed: tuple) -> str:
    if not isinstance(spec, dict):
        raise ScenarioError(f"{what} must be an object")
    outcome = spec.get("outcome")
    if not isinstance(outcome, str):
        raise ScenarioError(f"{what}.outcome must be a string")
    if outcome not in allowed:
        raise ScenarioError(f"{what}: unknown outcome {json.dumps(outcome)}")
    return outcome


def text(want: Dict[str, Any], key: str) -> Optional[str]:
    value = opt(want, key)
    if value is not None and not isinstance(value, str):
        raise ScenarioError(f"expect.{key} must be a string")
    return value


def table(want: Dict[str, Any], key: str) -> Dict[str, Any]:
    value = opt(want, key, {})
    if not isinstance(value, dict):
        raise ScenarioError(f"check.{key} must be an object")
    return value


class Closing:
    """Set once a replay is over: runs that ignore cancellation then stop
    too, so the loop's teardown can cancel them (else it would wait forever)."""

    def __init__(self) -> None:
        self.now = False


def make_run(clock: VirtualClock, spec: Any, closing: Closing):
    """The run of a call step. §17: the k-th run a call invokes behaves as
    entry k of a ``run`` array (the last one beyond its end); each attempt
    runs as a task in a copy of its call's context, so ``CURRENT`` names
    the call and the entry is picked by how many runs it started."""
    specs = spec if isinstance(spec, list) else [spec]
    if not specs:
        raise ScenarioError("run must not be an empty array")
    behaviours = [behaviour(clock, entry, closing) for entry in specs]

    async def run():
        current = CURRENT.get()
        k = 0
        if current is not None:
            k = len(current.run_starts)
            current.run_starts.append(clock.now())
        return await behaviours[min(k, len(behaviours) - 1)]()

    return run


def behaviour(clock: VirtualClock, spec: Any, closing: Closing):
    outcome = outcome_of(spec, "run", ("success", "failure", "bad_request"))
    after = uint(opt(spec, "after_ms", 0), "run.after_ms")
    ignores_cancel = flag(spec, "ignores_cancel", "run")

    async def run():
        if after:
            done = clock.timer_future(clock.now() + after)
            while True:
                try:
                    await (asyncio.shield(done) if ignores_cancel else done)
                    break
                except asyncio.CancelledError:
                    if not ignores_cancel or closing.now:
                        raise
        if outcome == "success":
            return RUN_VALUE
        if outcome == "bad_request":
            raise hystrix.BadRequest("bad request")
        raise Failure("run failed")

    return run


def make_fallback(clock: VirtualClock, spec: Any):
    if spec is None:
        return None
    outcome = outcome_of(spec, "fallback", ("success", "failure"))
    after = uint(opt(spec, "after_ms", 0), "fallback.after_ms")

    async def fallback(_error):
        if after:
            await clock.sleep(after)
        if outcome == "success":
            return FALLBACK_VALUE
        raise Failure("fallback failed")

    return fallback


ERROR_KINDS = {
    hystrix.CircuitOpenError: "short_circuited",
    hystrix.RejectedError: "rejected",
    hystrix.TimeoutError: "timeout",
    hystrix.BadRequest: "bad_request",
    hystrix.FallbackRejectedError: "fallback_rejected",
    hystrix.FallbackFailedError: "fallback_failure",
    hystrix.RateLimitedError: "rate_limited",
    hystrix.CancelledError: "cancelled",
}


def kind_of(exc: BaseException) -> str:
    for cls, kind in ERROR_KINDS.items():
        if isinstance(exc, cls):
            return kind
    return "failure" if isinstance(exc, Failure) else f"unexpected {exc!r}"


def settle(clock: VirtualClock, call: Call, task: "asyncio.Task[Any]") -> None:
    call.settled_at = clock.now()
    try:
        compare(call, task)
    except Exception as exc:  # noqa: BLE001 - asyncio would only log it
        call.diff = f"runner error: {exc!r}"


def compare(call: Call, task: "asyncio.Task[Any]") -> None:
    call.settled = True
    events = list(call.events)  # those recorded up to the settlement (§18.2)
    if task.cancelled():
        if not call.cancel_asked:
            call.diff = "the call was cancelled"
            return
        # §18: the caller cancelled it (its task's cancellation).
        result, error = "error", "cancelled"
    elif task.exception() is None:
        result, error = ("run" if task.result() is RUN_VALUE else "fallback"), None
    else:
        result, error = "error", kind_of(task.exception())
    want = call.expect
    if want is None:
        return
    if want.result is not None and want.result != result:
        call.diff = f"result {result!r}, expected {want.result!r}"
    elif want.error is not None and want.error != error:
        call.diff = f"error {error!r}, expected {want.error!r}"
    elif want.events is not None and want.events != events:
        call.diff = f"events {events}, expected {want.events}"
    elif want.attempts is not None and want.attempts != sum(e in ATTEMPT_EVENTS for e in events):
        call.diff = f"attempts {sum(e in ATTEMPT_EVENTS for e in events)}, expected {want.attempts}"
    elif want.settled_at is not None and want.settled_at != call.settled_at:
        call.diff = f"settled at {call.settled_at}, expected {want.settled_at}"
    elif want.run_starts is not None and want.run_starts != call.run_starts:
        call.diff = f"runs started at {call.run_starts}, expected {want.run_starts}"


def check(step_no: int, clock: VirtualClock, cmd: hystrix.Command, want: Dict[str, Any]) -> Optional[str]:
    snap = cmd.snapshot()
    where = f"step {step_no} check at t={clock.now()}"
    # Fields given as null are not checked (as if absent).
    if opt(want, "state") is not None and snap["state"] != want["state"]:
        return f"{where}: state is {snap['state']}, expected {want['state']}"
    for key, exp in table(want, "health").items():
        if exp is not None and snap["health"][key] != whole(exp):
            return f"{where}: health.{key} is {snap['health'][key]}, expected {exp}"
    for event, exp in table(want, "rolling").items():
        if exp is not None and snap["rolling"][event] != whole(exp):
            return f"{where}: rolling.{event} is {snap['rolling'][event]}, expected {exp}"
    for key in ("concurrent", "fallback_concurrent", "limit"):
        if opt(want, key) is not None and snap[key] != whole(want[key]):
            return f"{where}: {key} is {snap[key]}, expected {want[key]}"
    # §17: the retry budget's balance may be negative.
    budget = opt(want, "budget")
    if budget is not None and (isinstance(budget, bool) or snap["budget"] != budget):
        return f"{where}: budget is {snap['budget']}, expected {budget}"
    return None


#: Keyword parameters of ``hystrix.Command`` besides the SPEC settings.
OWN_PARAMETERS = frozenset(inspect.signature(hystrix.Command).parameters) - {"config"}


async def replay(scenario: Any) -> Optional[str]:
    if not isinstance(scenario, dict):
        raise ScenarioError("a scenario must be a JSON object")
    config = opt(scenario, "config", {})
    if not isinstance(config, dict):
        raise ScenarioError("config must be a JSON object")
    expected_key = opt(scenario, "expect_config_error")
    steps = opt(scenario, "steps", [])
    if not isinstance(steps, list):
        raise ScenarioError("steps must be an array")
    clock = VirtualClock()
    if expected_key is not None:
        try:
            if OWN_PARAMETERS.isdisjoint(config):
                hystrix.Command(lambda: None, clock=clock, **config)
            else:
                # An unknown key spelled like one of Command's own parameters
                # (`name`, `clock`, ...): the dict-taking Circuit sees it as config.
                hystrix.Circuit("", dict(config), clock)
        except hystrix.InvalidConfigError as e:
            return None if e.key == expected_key else f"config error names {e.key!r}, expected {expected_key!r}"
        return f"config was accepted, expected invalid_config naming {expected_key!r}"
    name = f"conformance-{id(clock)}"
    hystrix.remove(name)
    cmd = hystrix.Command(lambda: None, name=name, clock=clock, **config)
    cmd.on_event(lambda _name, event, _at: CURRENT.get() is not None and CURRENT.get().events.append(event))
    calls: List[Call] = []
    closing = Closing()
    try:
        return await replay_steps(steps, clock, cmd, name, calls, closing)
    finally:
        # Whatever happens, runs that ignore cancellation must stop now.
        closing.now = True
        hystrix.remove(name)


async def replay_steps(
    steps: List[Any], clock: VirtualClock, cmd: hystrix.Command, name: str, calls: List[Call], closing: Closing
) -> Optional[str]:
    for i, step in enumerate(steps):
        op = step.get("op") if isinstance(step, dict) else None
        if not isinstance(op, str):
            raise ScenarioError(f"step {i}: missing op")
        if op == "call":
            if "run" not in step:
                raise ScenarioError(f"step {i}: call without run")
            run, fallback = make_run(clock, step["run"], closing), make_fallback(clock, step.get("fallback"))
            repeat = uint(opt(step, "repeat", 1), "repeat")
            expect = None if opt(step, "expect") is None else Expect(step["expect"])
            cancel_after = opt(step, "cancel_after_ms")
            cancel_after = None if cancel_after is None else uint(cancel_after, "cancel_after_ms")
            for k in range(repeat):
                call = Call(f"step {i} call {k + 1}", expect)
                calls.append(call)
                command = hystrix.Command(run, fallback, name=name, clock=clock)
                ctx = contextvars.copy_context()
                ctx.run(CURRENT.set, call)
                task = asyncio.get_running_loop().create_task(command.execute_async(), context=ctx) if sys.version_info >= (3, 11) else ctx.run(asyncio.ensure_future, command.execute_async())
                task.add_done_callback(lambda t, c=call: settle(clock, c, t))
                if cancel_after is not None:
                    # §18.2: the cancel timer is armed before anything the
                    # call arms (the task has not run yet).
                    def cancel(c: Call = call, t: "asyncio.Task[Any]" = task) -> None:
                        if not t.done():
                            c.cancel_asked = True
                            t.cancel()

                    clock.call_at(clock.now() + cancel_after, cancel)
                await clock.advance_async(0)
        elif op == "advance":
            await clock.advance_async(uint(step.get("ms"), "advance.ms"))
        elif op == "check":
            diff = check(i, clock, cmd, step)
            if diff:
                return diff
        elif op == "configure":
            patch = step.get("config")
            if not isinstance(patch, dict):
                raise ScenarioError(f"step {i}: configure needs a config object")
            cmd.configure(**patch)
        else:
            return f"step {i}: unknown op {op!r}"
        for call in calls:
            if call.diff:
                return f"{call.label}: {call.diff}"
    for call in calls:
        if call.expect is not None and not call.settled:
            return f"{call.label} never settled"
    return None


def collect(path: str) -> List[str]:
    if os.path.isdir(path):
        out: List[str] = []
        for entry in sorted(os.listdir(path)):
            out.extend(collect(os.path.join(path, entry)))
        return out
    return [path] if path.endswith(".json") else []


def main(argv: List[str]) -> int:
    files = [f for p in argv for f in collect(p)]
    passed = failed = 0
    for path in files:
        scenario: Dict[str, Any] = {"name": "(unreadable)"}
        try:
            with open(path, encoding="utf-8") as fh:
                parsed = json.load(fh)
            if isinstance(parsed, dict):
                scenario = parsed
            diff = asyncio.run(replay(parsed))
        except Exception as exc:  # noqa: BLE001 - a broken scenario is a failure, not a crash
            diff = f"runner error: {exc!r}"
        name = scenario.get("name", "(unnamed)")
        if diff is None:
            passed += 1
            print(f"ok   {path}: {name}")
        else:
            failed += 1
            print(f"FAIL {path}: {name}: {diff}")
    print(f"python: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
