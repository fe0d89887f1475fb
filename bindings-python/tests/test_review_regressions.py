"""Regressions for problems a code review found (each reproduced first)."""
import asyncio
import subprocess
import sys
import textwrap
import time

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
    out = run_script(
        """
        import os, signal, threading, time, hystrix
        cmd = hystrix.Command(lambda: time.sleep(0.3) or 1, timeout_ms=2000, max_concurrent_requests=1)
        # A real SIGINT interrupts the caller's wait while the run still sleeps.
        threading.Timer(0.1, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            cmd()
        except KeyboardInterrupt:
            print("interrupted", cmd.snapshot()["concurrent"])
        time.sleep(0.6)
        print("after", cmd.snapshot()["concurrent"], cmd())
        """
    )
    assert out.split("\n")[:2] == ["interrupted 1", "after 0 1"]


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
