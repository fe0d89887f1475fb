"""Deep recursion through semaphore-isolated commands raises RecursionError
instead of overflowing the native stack (issue 11 item 16).

Each case runs in a subprocess: before the guard, the process died with
SIGSEGV, which a test in this process could not report."""
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys, threading, hystrix
    sys.setrecursionlimit(1_000_000)
    depth, where = int(sys.argv[1]), sys.argv[2]
    cmd = None
    def run(n):
        return 0 if n == 0 else cmd.execute(n - 1) + 1
    cmd = hystrix.Command(run, isolation="semaphore", max_concurrent_requests=10**6,
                          timeout_enabled=False, circuit_breaker_enabled=False)
    result = {}
    def go():
        try:
            result["value"] = cmd.execute(depth)
        except RecursionError as e:
            result["value"] = "RecursionError: " + str(e)
    if where == "thread":
        threading.stack_size(4 * 1024 * 1024)
        t = threading.Thread(target=go); t.start(); t.join()
    else:
        go()
    snap = cmd.snapshot()
    print(result["value"])
    print("concurrent", snap["concurrent"], "after", cmd.execute(3))
    """
)


def run_script(depth, where):
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(depth), where], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("where", ["main", "thread"])
def test_deep_recursion_raises_recursion_error_and_leaves_the_command_usable(where):
    proc = run_script(100_000, where)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    first, second = proc.stdout.splitlines()[-2:]
    assert first.startswith("RecursionError: hystrix: maximum recursion depth exceeded")
    assert second == "concurrent 0 after 3"


def test_moderate_recursion_still_works():
    proc = run_script(1_000, "main")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-2:] == ["1000", "concurrent 0 after 3"]
