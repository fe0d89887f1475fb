"""Regressions for problems a code review found (each reproduced first)."""
import asyncio
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import hystrix


def run_script(code: str, timeout: float = 10.0) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_setting_a_clock_while_a_slow_python_clock_is_read_does_not_deadlock():
    out = run_script(
        """
        import threading, time, hystrix
        class SlowClock:
            def now(self):
                time.sleep(0.2)  # releases the GIL inside the native clock read
                return 0
        cmd = hystrix.Command(lambda: 1, isolation="semaphore", clock=SlowClock(), timeout_enabled=False)
        t = threading.Thread(target=cmd, daemon=True); t.start()
        time.sleep(0.05)
        s = threading.Thread(target=lambda: setattr(cmd.circuit, "clock", SlowClock()), daemon=True); s.start()
        s.join(3)
        print("deadlocked" if s.is_alive() else "ok")
        """
    )
    assert out.strip() == "ok"


def test_an_interrupted_caller_keeps_the_permit_until_the_threaded_run_ends():
    # The caller's wait is interrupted (as by Ctrl-C) while the run is still
    # going; the run cannot end before the interrupt, whatever the machine's
    # speed, because it waits for the test to release it.
    started, release = threading.Event(), threading.Event()

    class InterruptedClock:
        def now(self) -> int:
            return 0

        def waiter(self, deadline, done):
            def wait() -> bool:
                assert started.wait(30), "the run never began"
                raise KeyboardInterrupt

            return wait

    calls = []

    def run() -> int:
        calls.append(1)
        if len(calls) == 1:
            started.set()
            assert release.wait(30)
            return 2
        return 1

    cmd = hystrix.Command(run, timeout_ms=60000, max_concurrent_requests=1, clock=InterruptedClock())
    try:
        cmd()
    except KeyboardInterrupt:
        held = cmd.snapshot()["concurrent"]
    else:
        raise AssertionError("the interrupt was swallowed")
    assert held == 1
    with pytest.raises(hystrix.RejectedError):
        cmd()  # the permit is still the first run's
    release.set()
    deadline = time.monotonic() + 30
    while cmd.snapshot()["concurrent"] and time.monotonic() < deadline:
        time.sleep(0.01)  # the permit is released when the run ends
    assert cmd.snapshot()["concurrent"] == 0
    cmd.circuit.clock = None  # back to the real clock for a normal call
    assert cmd() == 1
    snap = cmd.snapshot()
    assert snap["concurrent"] == 0


def test_a_base_exception_raised_synchronously_by_an_async_run_frees_its_permit():
    class Stop(BaseException):
        pass

    def run():
        raise Stop()

    cmd = hystrix.Command(run, max_concurrent_requests=1)

    async def main():
        try:
            await cmd.execute_async()
        except Stop:
            return cmd.snapshot()["concurrent"]
        raise AssertionError("Stop was swallowed")

    assert asyncio.run(main()) == 0


def test_cancelling_the_caller_during_the_fallback_keeps_a_timed_out_run_s_permit():
    async def stubborn():
        for _ in range(8):
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                pass  # ignores cancellation
        return 1

    async def slow_fallback(err):
        await asyncio.sleep(5)

    cmd = hystrix.Command(stubborn, slow_fallback, timeout_ms=50, max_concurrent_requests=1)

    async def main():
        task = asyncio.ensure_future(cmd.execute_async())
        await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.sleep(0.02)
        during = cmd.snapshot()["concurrent"]
        deadline = time.monotonic() + 3
        while cmd.snapshot()["concurrent"] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return during, cmd.snapshot()["concurrent"]

    assert asyncio.run(main()) == (1, 0)
