"""Where the asyncio interpreter does its work (see ``hystrix._asyncio``):
inputs are fed where they arrive and the caller's coroutine is woken only
to settle or to run what must run in its task. These tests pin the loop
turns a retried call costs and what runs in which task and context."""
import asyncio
import contextvars
import sys

import hystrix
import pytest
from conftest import WAIT_S, Boom

RETRY = dict(retry_max_attempts=3, retry_base_delay_ms=0, retry_jitter="none", error_threshold_percentage=100)
REQUEST = contextvars.ContextVar("request", default=None)


def turns_of(make_call, calls=20):
    """Loop turns per call of ``await make_call()``: a ticker task counts
    the passes of the loop while the calls run one after another."""

    async def main():
        ticks = [0]
        stop = asyncio.Event()

        async def ticker():
            while not stop.is_set():
                ticks[0] += 1
                await asyncio.sleep(0)

        task = asyncio.ensure_future(ticker())
        await asyncio.sleep(0)
        start = ticks[0]
        for _ in range(calls):
            await make_call()
        spent = ticks[0] - start
        stop.set()
        await task
        return spent / calls

    return asyncio.run(asyncio.wait_for(main(), WAIT_S))


def flaky_twice():
    runs = [0]

    async def run():
        runs[0] += 1
        if runs[0] % 3:
            raise Boom("down")
        return "up"

    return run


def test_a_retried_call_takes_few_loop_turns():
    # 3 attempts, 0 ms backoff on the real loop: two backoff timers, whose
    # callbacks run the next attempt as the caller's task (Python 3.11+),
    # and one wake of the caller to settle. Before 3.11 each attempt has a
    # task and takes a turn to start. The interpreter used to take 13, then
    # 6 on 3.11.
    cmd = hystrix.Command(flaky_twice(), **RETRY)
    assert turns_of(cmd.execute_async) <= (3 if sys.version_info >= (3, 11) else 6)


def test_the_closed_path_takes_few_loop_turns():
    # Python 3.11+: the attempt runs in the caller's task and ends at once.
    async def ok():
        return 1

    cmd = hystrix.Command(ok)
    assert turns_of(cmd.execute_async) <= (0 if sys.version_info >= (3, 11) else 2)


def test_listeners_and_the_classifier_see_the_callers_context_not_the_attempts():
    seen = []

    def classifier(exc):
        seen.append(("classifier", REQUEST.get(), hystrix.current_call()))
        return False

    cmd = hystrix.Command(flaky_twice(), is_bad_request=classifier, **RETRY)
    cmd.on_event(lambda _name, event, _at: seen.append((event, REQUEST.get(), hystrix.current_call())))

    async def main():
        REQUEST.set("r-1")
        return await cmd.execute_async()

    assert asyncio.run(main()) == "up"
    assert seen == [
        ("classifier", "r-1", None),
        ("FAILURE", "r-1", None),
        ("RETRY", "r-1", None),
        ("classifier", "r-1", None),
        ("FAILURE", "r-1", None),
        ("RETRY", "r-1", None),
        ("SUCCESS", "r-1", None),
    ]


def test_a_plain_run_and_a_sync_fallback_run_in_the_callers_task():
    tasks = []

    def run():
        tasks.append(("run", asyncio.current_task(), hystrix.current_call().attempt))
        raise Boom("down")

    def fallback(err):
        tasks.append(("fallback", asyncio.current_task(), REQUEST.get()))
        return "fb"

    cmd = hystrix.Command(run, fallback, **RETRY)

    async def main():
        REQUEST.set("r-2")
        return await cmd.execute_async(), asyncio.current_task()

    value, caller = asyncio.run(main())
    assert value == "fb"
    assert tasks == [("run", caller, 1), ("run", caller, 2), ("run", caller, 3), ("fallback", caller, "r-2")]


def test_each_coroutine_attempt_runs_in_its_own_context_and_retries_in_the_callers_task():
    seen = []

    async def run():
        call = hystrix.current_call()
        seen.append((asyncio.current_task(), call.attempt, REQUEST.get()))
        REQUEST.set(f"set by attempt {call.attempt}")
        # asyncio.timeout binds to the current task (the caller's, from 3.11).
        async with asyncio.timeout(WAIT_S) if sys.version_info >= (3, 11) else _NoTimeout():
            await asyncio.sleep(0)
        if call.attempt < 3:
            raise Boom("down")
        return REQUEST.get()

    cmd = hystrix.Command(run, **RETRY)

    async def main():
        REQUEST.set("caller")
        value = await cmd.execute_async()
        return value, asyncio.current_task(), REQUEST.get()

    value, caller, after = asyncio.run(main())
    assert value == "set by attempt 3"
    assert after == "caller"
    assert [s[1:] for s in seen] == [(1, "caller"), (2, "caller"), (3, "caller")]
    tasks = [s[0] for s in seen]
    if sys.version_info >= (3, 11):
        # Attempts that do not overlap run in the caller's own task.
        assert tasks == [caller, caller, caller]
    else:
        assert caller not in tasks and len(set(map(id, tasks))) == 3


class _NoTimeout:
    """What stands for asyncio.timeout before Python 3.11."""

    async def __aenter__(self):
        return None

    async def __aexit__(self, *exc):
        return False


@pytest.mark.parametrize("suspends", [False, True])
def test_a_cancellation_asked_for_by_a_listener_comes_after_the_settlement(suspends):
    # Semantics §18.1: a cancellation asked for inside a reaction happens
    # once that reaction has settled; here the reaction settled the call
    # (SUCCESS), so the call is not cancelled, but the caller's task is:
    # in execute_async if the reaction ran while the caller waited, at its
    # next await if it ran in the caller (a run that ends at once, on
    # Python 3.12+).
    async def run():
        if suspends:
            await asyncio.sleep(0)
        return "value"

    cmd = hystrix.Command(run)
    events = []

    async def main():
        caller = asyncio.current_task()

        def on_event(_name, event, _at):
            events.append(event)
            if event == "SUCCESS":
                caller.cancel()

        cmd.on_event(on_event)
        await cmd.execute_async()
        await asyncio.sleep(0)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())
    assert events == ["SUCCESS"]
    assert cmd.snapshot()["concurrent"] == 0


@pytest.mark.skipif(sys.version_info < (3, 11), reason="attempts run in the caller's task from Python 3.11")
def test_without_asyncios_enter_task_the_caller_starts_timer_started_attempts(monkeypatch):
    # On an asyncio without ``asyncio.tasks._enter_task`` a timer's callback
    # cannot start an attempt as the caller's task: the caller is woken to
    # start it (one more turn per backoff), and the attempts still run in
    # the caller's task, in their own contexts.
    from hystrix import _asyncio

    monkeypatch.setattr(_asyncio, "_BORROW", False)
    cmd = hystrix.Command(flaky_twice(), **RETRY)
    assert turns_of(cmd.execute_async) <= 4
    tasks = []

    async def run():
        tasks.append((asyncio.current_task(), hystrix.current_call().attempt, REQUEST.get()))
        REQUEST.set("the run's own")
        await asyncio.sleep(0)
        if hystrix.current_call().attempt < 3:
            raise Boom("down")
        return "up"

    async def main():
        REQUEST.set("caller")
        return await hystrix.Command(run, **RETRY).execute_async(), asyncio.current_task(), REQUEST.get()

    value, caller, after = asyncio.run(main())
    assert (value, after) == ("up", "caller")
    assert tasks == [(caller, 1, "caller"), (caller, 2, "caller"), (caller, 3, "caller")]
