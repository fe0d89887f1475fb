"""The Python leg of scripts/soak.sh: CALLS calls through one command
(semaphore isolation, default settings: a quarter failing into a fallback,
a sixteenth failing with none), then CYCLES create/call/close cycles (one
in ten with thread isolation), printing the resident set (VmRSS) after a
warm-up tenth, halfway and at the end of each phase as
``soak <phase> <point> <rss_kb>``; the script judges the growth.

    python soak.py CALLS CYCLES
"""

import gc
import sys
import time

import hystrix


def rss_kb():
    """The resident set in KiB, from /proc/self/status (0 where there is none)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Boom(Exception):
    """What the failing runs raise."""


def ok(i):
    return i


def failing(i):
    raise Boom(i)


def fallback(error, i):
    return -i


def call(plain, with_fallback, i):
    """One call: success, failure into a fallback, or failure with none."""
    k = i % 16
    try:
        if k == 0:
            plain.execute(failing, i)
        elif k <= 4:
            with_fallback.execute(failing, i)
        else:
            plain.execute(ok, i)
    except (Boom, hystrix.CircuitOpenError):
        pass


def dispatch(run, i):
    return run(i)


def dispatch_fallback(error, run, i):
    return fallback(error, i)


def phase(name, n, step):
    """Runs ``n`` steps, reporting the resident set after the first tenth,
    halfway and at the end."""
    start = time.monotonic()
    warm = n // 10
    for i in range(n):
        if i == warm:
            gc.collect()
            print(f"soak {name} start {rss_kb()}", flush=True)
        elif i == warm + (n - warm) // 2:
            gc.collect()
            print(f"soak {name} middle {rss_kb()}", flush=True)
        step(i)
    gc.collect()
    print(f"soak {name} end {rss_kb()}", flush=True)
    print(f"soak {name} took {time.monotonic() - start:.1f} s for {n}", flush=True)


def main():
    try:
        calls, cycles = (int(a) for a in sys.argv[1:3])
        if len(sys.argv) != 3 or calls < 0 or cycles < 0:
            raise ValueError
    except ValueError:
        sys.exit("usage: soak.py CALLS CYCLES (two whole numbers)")
    plain = hystrix.Command(dispatch, isolation="semaphore")
    with_fallback = hystrix.Command(dispatch, dispatch_fallback, isolation="semaphore")
    phase("calls", calls, lambda i: call(plain, with_fallback, i))
    plain.close()
    with_fallback.close()

    def cycle(i):
        isolation = "thread" if i % 10 == 0 else "semaphore"
        with hystrix.Command(dispatch, dispatch_fallback, isolation=isolation) as cmd:
            cmd.execute(failing if i % 4 == 0 else ok, i)

    phase("cycles", cycles, cycle)


if __name__ == "__main__":
    main()
