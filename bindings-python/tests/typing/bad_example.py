"""Mistakes ``mypy --strict`` must REJECT (``tests/test_typing.py`` runs it
and checks each error below is reported, with its code, on its line).
Each line marked ``# expect: CODE`` is one deliberate mistake; this file is
never run."""
import hystrix


@hystrix.command(timeout_ms=100)
def lookup(uid: int) -> str:
    return str(uid)


@hystrix.command
async def fetch(uid: int) -> bytes:
    return b""


def mistakes() -> None:
    lookup("seven")  # expect: arg-type
    n: int = lookup(7)  # expect: assignment
    hystrix.Command(lookup, timeout=100)  # expect: call-arg
    hystrix.Command(lookup, timeout_ms="100")  # expect: arg-type
    hystrix.Command(lookup, retry_jitter="sometimes")  # expect: arg-type
    hystrix.Command(lookup, isolation="process")  # expect: arg-type
    hystrix.command(request_volume=3)  # expect: call-overload
    hystrix.Command(lookup).execute(1, 2)  # expect: call-arg
    s: str = hystrix.Command(lookup).snapshot()["health"]["total"]  # expect: assignment
    hystrix.Command(lookup).snapshot()["no_such_field"]  # expect: typeddict-item
    data: str = await_it()  # expect: assignment
    print(n, s, data)


async def await_it() -> bytes:
    return await fetch(1)
