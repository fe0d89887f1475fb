"""examples/python/strategies.py: retry and hedging on the real clock (the
Python twin of core/examples/retry_hedge.rs).

    python examples/python/strategies.py      (needs `pip install ./bindings-python`)

1. A flaky upstream fails for a 40 ms blip: without retry the calls made
   during it fail; with retry (jittered exponential backoff, a retry budget)
   they ride it out. Prints the successes and the RETRY /
   RETRY_BUDGET_EXHAUSTED counts from the command's snapshot.
2. An upstream with a slow tail (1 attempt in 20 takes 50 ms instead of
   2-4 ms): hedging after 8 ms (a second attempt on the command's thread
   pool) cuts p99. The losing attempt sees `current_call().cancelled` and
   stops early. Prints p50/p99 latency with and without hedging.

Latencies are printed, not asserted (they depend on the machine); exits
non-zero only if an unexpected exception escapes or retry never recovers.
Takes about a second.
"""
import random
import time
from concurrent.futures import ThreadPoolExecutor

import hystrix


class Blip(Exception):
    """The upstream's failure during its blip."""


def blip(cmd: hystrix.Command, upstream: dict) -> int:
    """40 calls, 5 ms apart, to an upstream failing for 40 ms from the first: how many succeed."""
    upstream["blip_ends"] = time.monotonic() + 0.040
    ok = 0
    for _ in range(40):
        try:
            cmd.execute()
            ok += 1
        except Blip:
            pass
        time.sleep(0.005)
    return ok


CALLS = 200
rng = random.Random(2024)
# Each call's first and second attempt durations, drawn up front: the same
# upstream for both runs, whatever order the caller threads run in.
PLAN = [tuple(0.050 if rng.random() < 0.05 else rng.uniform(0.002, 0.004) for _ in range(2)) for _ in range(CALLS)]


def slow_tail(i: int) -> str:
    call = hystrix.current_call()
    if call.cancelled.wait(PLAN[i][min(call.attempt, 2) - 1]):
        return "abandoned"  # another attempt won (or the caller gave up): stop early
    return f"reply {i} (attempt {call.attempt})"


def tail(cmd: hystrix.Command) -> list:
    """CALLS calls from 4 caller threads; their latencies in ms, sorted."""

    def one(i: int) -> float:
        started = time.perf_counter()
        cmd.execute(i)
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(max_workers=4) as pool:
        return sorted(pool.map(one, range(CALLS)))


def percentile(sorted_ms: list, p: float) -> float:
    rank = -(-p * len(sorted_ms) // 100)  # nearest rank
    return sorted_ms[int(min(max(rank, 1), len(sorted_ms))) - 1]


def main() -> int:
    started = time.monotonic()

    # 1. Retry rides out a blip.
    upstream = {"blip_ends": 0.0}

    def flaky() -> str:
        if time.monotonic() < upstream["blip_ends"]:
            raise Blip("upstream blip")
        return "fresh"

    plain = hystrix.Command(flaky, timeout_ms=1000)
    retrying = hystrix.Command(
        flaky,
        timeout_ms=1000,
        retry_max_attempts=5,
        retry_base_delay_ms=10,
        retry_multiplier_permille=2000,
        retry_max_delay_ms=80,
        retry_jitter="equal",
        retry_budget_percent=20,
        retry_budget_min_per_sec=5,
        random_seed=42,
    )
    ok_plain = blip(plain, upstream)
    ok_retry = blip(retrying, upstream)
    snap = retrying.snapshot()
    print("a 40 ms blip, 40 calls 5 ms apart:")
    print(f"  no retry:   {ok_plain:2}/40 succeeded")
    print(
        f"  with retry: {ok_retry:2}/40 succeeded ({snap['rolling']['RETRY']} retries,"
        f" {snap['rolling']['RETRY_BUDGET_EXHAUSTED']} refused by the budget; budget left for {snap['budget'] // 100} more)"
    )

    # 2. Hedging cuts the tail.
    unhedged = hystrix.Command(slow_tail, isolation="thread", timeout_ms=1000)
    hedged = hystrix.Command(slow_tail, isolation="thread", timeout_ms=1000, hedge_max_attempts=2, hedge_delay_ms=8)
    slow, fast = tail(unhedged), tail(hedged)
    snap = hedged.snapshot()
    print(f"a slow tail (1 attempt in 20 takes 50 ms instead of 2-4), {CALLS} calls from 4 threads:")
    print(f"  no hedging:          p50 {percentile(slow, 50):5.1f} ms, p99 {percentile(slow, 99):5.1f} ms")
    print(
        f"  hedging after 8 ms:  p50 {percentile(fast, 50):5.1f} ms, p99 {percentile(fast, 99):5.1f} ms"
        f" ({snap['cumulative']['HEDGE']} hedges, {snap['cumulative']['CANCELLED']} losers cancelled)"
    )
    print(f"done in {time.monotonic() - started:.2f} s")
    if ok_retry == 0:
        print("retry never recovered from the blip")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
