"""Closed path per call (a run that returns at once) of thread isolation,
semaphore isolation and asyncio, in CPU µs of the whole process (the
worker threads included), best of 3 passes of N calls. For comparing two
builds of the package in separate processes, alternately (two builds of
the native module cannot share a process):

    for i in 1 2 3 4 5 6; do old/bin/python closed_paths.py; new/bin/python closed_paths.py; done
"""
import asyncio
import sys
import time
from typing import Callable

import hystrix

N = int(sys.argv[1]) if len(sys.argv) > 1 else 8000


def run(x: int) -> int:
    return x + 1


async def arun(x: int) -> int:
    return x + 1


thread = hystrix.Command(run, name="closed-thread", isolation="thread")
semaphore = hystrix.Command(run, name="closed-semaphore", isolation="semaphore")
coroutine = hystrix.Command(arun, name="closed-async")


def thread_loop(n: int) -> None:
    for i in range(n):
        thread.execute(i)


def semaphore_loop(n: int) -> None:
    for i in range(n):
        semaphore.execute(i)


def async_loop(n: int) -> None:
    async def main() -> None:
        for i in range(n):
            await coroutine.execute_async(i)

    asyncio.run(main())


def cpu_us(f: Callable[[int], None], n: int) -> float:
    t = time.process_time()
    f(n)
    return (time.process_time() - t) / n * 1e6


if __name__ == "__main__":
    loops = (thread_loop, semaphore_loop, async_loop)
    for f in loops:
        f(2000)  # warm-up
    print(" ".join(f"{f.__name__}={min(cpu_us(f, N) for _ in range(3)):.2f}" for f in loops))
