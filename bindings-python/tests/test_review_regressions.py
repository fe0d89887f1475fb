"""Regressions for problems a code review found (each reproduced first)."""
import asyncio
import subprocess
import sys
import textwrap
import threading
import time

import hystrix
import pytest


def run_script(code: str, timeout: float = 60.0) -> str:
    # The timeout only ends a deadlocked child: a passing script takes well
    # under a second, even on a loaded machine.
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_setting_a_clock_while_a_slow_python_clock_is_read_does_not_deadlock():
    # The clock is replaced while the native layer is inside the old clock's
    # now() (the read waits there until the replacement has returned), so
    # the two always overlap, whatever the machine's speed. A deadlock hangs
    # the child (the GIL is held by the blocked setter): run_script's timeout
    # fails the test.
    out = run_script(
        """
        import threading, hystrix
        reading, replaced = threading.Event(), threading.Event()
        class SlowClock:
            armed = False
            def now(self):
                if self.armed:
                    reading.set()
                    replaced.wait(30)  # releases the GIL inside the native clock read
                return 0
        clock = SlowClock()
        cmd = hystrix.Command(lambda: 1, isolation="semaphore", clock=clock, timeout_enabled=False)
        clock.armed = True
        t = threading.Thread(target=cmd, daemon=True); t.start()
        assert reading.wait(30), "the command never read its clock"
        def replace():
            cmd.circuit.clock = SlowClock()
            replaced.set()
        s = threading.Thread(target=replace, daemon=True); s.start()
        s.join(30)
        t.join(30)
        print("deadlocked" if s.is_alive() or t.is_alive() else "ok")
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
    # The run ignores cancellation and ends only when released; the caller is
    # cancelled once its fallback has begun. Both follow events, not sleeps,
    # so the order holds however late the (real, 50 ms) timeout fires.
    async def main():
        release, in_fallback = asyncio.Event(), asyncio.Event()

        async def stubborn():
            while not release.is_set():
                try:
                    await release.wait()
                except asyncio.CancelledError:
                    pass  # ignores cancellation
            return 1

        async def slow_fallback(err):
            in_fallback.set()
            await asyncio.Event().wait()  # never ends by itself

        cmd = hystrix.Command(stubborn, slow_fallback, timeout_ms=50, max_concurrent_requests=1)
        task = asyncio.ensure_future(cmd.execute_async())
        await asyncio.wait_for(in_fallback.wait(), 30)  # the timeout fired
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the caller was not cancelled")
        during = cmd.snapshot()["concurrent"]
        release.set()
        deadline = time.monotonic() + 30
        while cmd.snapshot()["concurrent"] and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return during, cmd.snapshot()["concurrent"]

    assert asyncio.run(main()) == (1, 0)
