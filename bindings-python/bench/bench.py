"""Python benchmark: hystrix beside pybreaker and circuitbreaker, same
process, same trivial function. Prints medians (µs per call) and ratios.

    target/py-test/bin/python bindings-python/bench/bench.py
(installs pybreaker and circuitbreaker into that venv if missing).
"""
import statistics
import subprocess
import sys
import threading
import time
import timeit

try:
    import circuitbreaker
    import pybreaker
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "pybreaker", "circuitbreaker"])
    import circuitbreaker
    import pybreaker

import hystrix

N = 100_000
REPEAT = 9


def trivial(x=1):
    return x + 1


def medians_us(contenders):
    """Medians (µs per call) of ``contenders`` ({name: (fn, calls)}), timed
    round-robin: each round times every contender once, so machine noise
    (these are shared 2-core VMs) hits them all alike and ratios hold."""
    runs = {name: [] for name in contenders}
    for name, (fn, n) in contenders.items():
        timeit.timeit(fn, number=max(1, n // 10))  # warm-up
    for _ in range(REPEAT):
        for name, (fn, n) in contenders.items():
            runs[name].append(timeit.timeit(fn, number=n) / n * 1e6)
    return {name: statistics.median(r) for name, r in runs.items()}


def closed_path():
    sem = hystrix.Command(trivial, isolation="semaphore")
    thr = hystrix.Command(trivial, isolation="thread")
    cb = circuitbreaker.CircuitBreaker(failure_threshold=5)(trivial)
    pb = pybreaker.CircuitBreaker(fail_max=5)
    out = medians_us(
        {
            "hystrix semaphore": (lambda: sem.execute(1), N),
            "circuitbreaker": (lambda: cb(1), N),
            "pybreaker": (lambda: pb.call(trivial, 1), N),
        }
    )
    # Thread isolation is ~500x slower: timed on its own.
    out.update(medians_us({"hystrix thread": (lambda: thr.execute(1), 2_000)}))
    return out


def open_path():
    sem = hystrix.Command(trivial, fallback=lambda err, x: 0, isolation="semaphore", force_open=True)

    @circuitbreaker.circuit(failure_threshold=1, recovery_timeout=3600, fallback_function=lambda x: 0)
    def cb_fn(x):
        raise ValueError("down")

    try:
        cb_fn(1)  # trips (circuitbreaker re-raises the failure that trips it)
    except ValueError:
        pass

    pb = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=3600)

    def failing(x):
        raise ValueError("down")

    try:
        pb.call(failing, 1)
    except Exception:  # noqa: BLE001 - trips the breaker
        pass

    def pb_call():
        try:
            return pb.call(trivial, 1)
        except pybreaker.CircuitBreakerError:
            return 0

    assert sem.execute(1) == 0 and cb_fn(1) == 0 and pb_call() == 0
    return medians_us(
        {
            "hystrix semaphore": (lambda: sem.execute(1), N),
            "circuitbreaker": (lambda: cb_fn(1), N),
            "pybreaker": (pb_call, N),
        }
    )


def two_threads():
    """A run that sleeps 1 ms (releasing the GIL): are two threads serialised?"""

    def slow(x=1):
        time.sleep(0.001)
        return x

    sem = hystrix.Command(slow, isolation="semaphore")
    pb = pybreaker.CircuitBreaker(fail_max=5)
    cb = circuitbreaker.CircuitBreaker(failure_threshold=5)(slow)
    calls = 200

    def wall(call, threads):
        def work():
            for _ in range(calls):
                call()

        ts = [threading.Thread(target=work) for _ in range(threads)]
        start = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.perf_counter() - start

    out = {}
    for name, call in (("hystrix semaphore", lambda: sem.execute(1)), ("circuitbreaker", lambda: cb(1)), ("pybreaker", lambda: pb.call(slow, 1))):
        one = statistics.median(wall(call, 1) for _ in range(3))
        two = statistics.median(wall(call, 2) for _ in range(3))
        out[name] = two / one
    return out


def main():
    print(f"python {sys.version.split()[0]}; medians of {REPEAT} round-robin rounds")
    closed = closed_path()
    print("\nclosed path (µs per call)")
    for k, v in closed.items():
        print(f"  {k:<20} {v:8.2f}")
    print(f"  ratio hystrix semaphore / circuitbreaker = {closed['hystrix semaphore'] / closed['circuitbreaker']:.2f} (target <= 0.5)")
    print(f"  ratio hystrix semaphore / pybreaker      = {closed['hystrix semaphore'] / closed['pybreaker']:.2f} (target <= 0.25)")
    opened = open_path()
    print("\nopen path with fallback (µs per call)")
    for k, v in opened.items():
        print(f"  {k:<20} {v:8.2f}")
    print(f"  ratio hystrix / circuitbreaker = {opened['hystrix semaphore'] / opened['circuitbreaker']:.2f} (target <= 0.5)")
    print(f"  ratio hystrix / pybreaker      = {opened['hystrix semaphore'] / opened['pybreaker']:.2f} (target <= 0.25)")
    print("\ntwo threads, run sleeps 1 ms: wall(2 threads) / wall(1 thread), same calls per thread (1.0 = parallel, 2.0 = serialised)")
    for k, v in two_threads().items():
        print(f"  {k:<20} {v:8.2f}")


if __name__ == "__main__":
    main()
