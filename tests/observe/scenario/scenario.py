"""The Python side of the cross-language observe check: the scenario of
README.md through ``hystrix`` on a VirtualClock (semaphore isolation), then
``metrics_text()``, ``#--stream--`` and ``stream_frames()``."""
import sys

import hystrix
from hystrix.observe import metrics_text, stream_frames
from hystrix.testing import VirtualClock

clock = VirtualClock()
hystrix.configure("beta", request_volume_threshold=2, health_snapshot_interval_ms=0)


def takes(ms, ok):
    """A run that takes ``ms`` on the clock, then succeeds or fails."""

    def run():
        clock.advance(ms)
        if not ok:
            raise RuntimeError("down")
        return 1

    return run


def call(name, ms, ok, fallback=None):
    try:
        hystrix.Command(takes(ms, ok), fallback, name=name, isolation="semaphore", clock=clock).execute()
    except Exception:  # noqa: BLE001 - failures without a fallback are part of the scenario
        pass


call("alpha", 5, True)
call("alpha", 40, True)
call("alpha", 2, False, lambda err: 0)
clock.advance(100)
call("beta", 1, False)
call("beta", 1, False)
call("beta", 1, True, lambda err: 0)
clock.advance(1000)
sys.stdout.write(metrics_text() + "#--stream--\n" + stream_frames(wall_clock_ms=1_700_000_000_000))
