"""How an application uses hystrix, written to pass ``mypy --strict``
(``make python-test`` checks it, then runs it). ``assert_type`` states what
the type checker must infer: that decorated functions and commands keep
their parameters and result types."""
import asyncio
import sys
from typing import Any, Coroutine

import hystrix
from hystrix.testing import VirtualClock

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # only type-checked on 3.11+; a no-op at runtime before
    def assert_type(value: object, _typ: object) -> object:
        return value


class User:
    def __init__(self, uid: int, name: str) -> None:
        self.uid = uid
        self.name = name


GUEST = User(0, "guest")


def fetch_user(uid: int, *, region: str = "eu") -> User:
    return User(uid, f"user-{uid}@{region}")


def guest(err: Exception, uid: int, *, region: str = "eu") -> User:
    return GUEST


@hystrix.command(name="example-users", timeout_ms=250, request_volume_threshold=5, retry_jitter="none")
def load_user(uid: int) -> User:
    return fetch_user(uid)


@hystrix.command
def bare(a: str, b: int = 1) -> str:
    return a * b


@hystrix.command(isolation="semaphore", fallback=lambda err, n: -1)
async def slow_double(n: int) -> int:
    await asyncio.sleep(0)
    return n * 2


def main() -> None:
    # Decorated functions keep their signature and result type.
    assert_type(load_user(7), User)
    assert_type(bare("x", b=3), str)
    pending: Coroutine[Any, Any, int] = slow_double(2)
    pending.close()
    assert_type(asyncio.run(slow_double(1)), int)
    assert load_user(7).uid == 7
    assert bare("ab", 2) == "abab"
    assert asyncio.run(slow_double(21)) == 42

    # The command behind a decorated function.
    cmd_of_load: hystrix.Command[[int], User] = load_user.command
    snap = cmd_of_load.snapshot()
    assert_type(snap, hystrix.Snapshot)
    successes: int = snap["cumulative"]["SUCCESS"]
    p99: int = snap["latency_run"]["p99"]
    assert successes >= 1 and p99 >= 0 and snap["state"] in ("closed", "open", "half_open")

    # A Command made directly, with a fallback, on a virtual clock, used as a context manager.
    clock = VirtualClock()
    with hystrix.Command(fetch_user, guest, isolation="semaphore", clock=clock, timeout_ms=100) as users:
        user = users.execute(3, region="us")
        assert_type(user, User)
        assert user.name == "user-3@us"
        assert_type(users(4), User)
        future = users.queue(5)
        assert future.result(timeout=5).uid == 5
        config: hystrix.Settings = users.configure(timeout_ms=200, hedge_on_failure=False)
        assert config["timeout_ms"] == 200
        clock.advance(10)
        state: hystrix.State = users.state
        assert state == "closed"
    assert users.closed

    # An async run awaited through execute_async gives its value's type.
    async def fetch_async(uid: int) -> User:
        await asyncio.sleep(0)
        return fetch_user(uid)

    async def use_async() -> User:
        with hystrix.Command(fetch_async, timeout_ms=1000) as acmd:
            got = await acmd.execute_async(9)
            assert_type(got, User)
            return got

    assert asyncio.run(use_async()).uid == 9

    # Settings as a typed dict, splatted into a command.
    settings: hystrix.Settings = {"timeout_ms": 50, "concurrency_limit_mode": "aimd"}
    tuned = hystrix.Command(fetch_user, **settings)
    tuned.close()
    hystrix.configure("example-tuned", max_concurrent_requests=3, force_closed=True)
    hystrix.remove("example-tuned")
    load_user.command.close()


if __name__ == "__main__":
    main()
    print("user_example: ok")
