"""examples/python/flaky_service.py: a flaky HTTP service (stdlib http.server on
127.0.0.1) and a client that calls it through hystrix commands — with threads
(thread isolation) and with asyncio — printing what happens.

    python examples/python/flaky_service.py      (needs `pip install ./bindings-python`)

The service answers /data: "ok" for a while, then fails (HTTP 500) and hangs,
then recovers. The client's command times out hung calls, trips the circuit,
serves a cached answer while it is open, and closes again after a probe.
Exits 0 only if it saw a trip and a recovery.

The outage is counted in requests, not seconds, and the client keeps calling
until it has seen the recovery: the story is the same on a slow or loaded
machine (where a fixed schedule could miss the outage or end before the probe).
"""
import asyncio
import http.server
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import hystrix

START = time.monotonic()


def t() -> str:
    return f"t={int((time.monotonic() - START) * 1000):>5} ms"


HEALTHY_REQUESTS = 8  # answered fine at first
OUTAGE_REQUESTS = 8  # then failed (every other one after hanging), then fine again


class Flaky(http.server.BaseHTTPRequestHandler):
    """ok for 8 requests, then 500s and hangs for the next 8, then ok again."""

    hits = 0
    hits_lock = threading.Lock()

    def do_GET(self):  # noqa: N802 - http.server's naming
        with Flaky.hits_lock:
            Flaky.hits += 1
            n = Flaky.hits
        if HEALTHY_REQUESTS < n <= HEALTHY_REQUESTS + OUTAGE_REQUESTS:
            if n % 2:
                time.sleep(0.5)  # hang longer than the client's timeout
            self.send_response(500)
            self.end_headers()
            return
        body = b"fresh data"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/data"
    transitions = []

    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode()

    # The first request pays one-time costs (lazy imports: about 130 ms on
    # CPython 3.13, near the 150 ms timeout below), so it is made here, outside
    # the circuit, and not counted in the service's story.
    fetch()
    with Flaky.hits_lock:
        Flaky.hits = 0

    cmd = hystrix.Command(
        fetch,
        fallback=lambda err: f"cached data ({type(err).__name__})",
        name="flaky-service",
        isolation="thread",
        timeout_ms=150,
        request_volume_threshold=4,
        health_snapshot_interval_ms=0,
        sleep_window_ms=300,
    )
    cmd.on_state_change(lambda name, old, new, at: transitions.append(new) or print(f"{t()}  ** circuit {old} -> {new}"))

    def recovered() -> bool:
        return "open" in transitions and transitions[-1] == "closed"

    print(f"service at {url}\n-- sync calls, 4 client threads (thread isolation)")
    # Rounds of 4 calls until two rounds after the recovery; the deadline only
    # stops a build whose circuit never trips or never closes again.
    deadline = time.monotonic() + 60
    rounds_after_recovery = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        while rounds_after_recovery < 2 and time.monotonic() < deadline:
            for answer in pool.map(lambda _: cmd.execute(), range(4)):
                print(f"{t()}  {answer}")
            if recovered():
                rounds_after_recovery += 1
            time.sleep(0.1)

    async def run_async() -> None:
        async def fetch_async() -> str:
            return await asyncio.get_running_loop().run_in_executor(None, fetch)

        acmd = hystrix.Command(fetch_async, fallback=lambda err: "cached data (async)", name="flaky-service")
        print("-- asyncio calls through the same circuit")
        answers = await asyncio.gather(*(acmd.execute_async() for _ in range(4)))
        for answer in answers:
            print(f"{t()}  {answer}")

    asyncio.run(run_async())
    snap = cmd.snapshot()
    print(f"final: state={snap['state']} cumulative={ {k: v for k, v in snap['cumulative'].items() if v} }")
    server.shutdown()
    ok = recovered()
    print("saw a trip and a recovery" if ok else "did NOT see a trip and a recovery")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
