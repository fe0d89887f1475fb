"""The Python host of tests/observe/: hystrix.observe's WSGI app on a
threading wsgiref server, with the Rust example's ``--demo states``
traffic on the real clock (``tripped`` always fails and stays open,
``healthy`` always succeeds).

    python tests/observe/hosts/python-server.py 127.0.0.1:0 [--interval-ms N] [--max-connections N] [--cors ORIGIN] [--demo states|none]

Prints "python-server: http://HOST:PORT/..." on stderr once it listens.
"""
import argparse
import socketserver
import sys
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import hystrix
from hystrix.observe import wsgi_app


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def demo_states():
    hystrix.configure("tripped", request_volume_threshold=3, health_snapshot_interval_ms=0, sleep_window_ms=60_000)

    def down():
        raise RuntimeError("down")

    tripped = hystrix.Command(down, lambda err: 0, name="tripped")
    healthy = hystrix.Command(lambda i: (time.sleep((i % 5) / 1000), i)[1], name="healthy")
    i = 0
    while True:
        tripped.execute()
        healthy.execute(i)
        i += 1
        time.sleep(0.025)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr", nargs="?", default="127.0.0.1:8080")
    p.add_argument("--interval-ms", type=int, default=500)
    p.add_argument("--max-connections", type=int, default=5)
    p.add_argument("--cors")
    p.add_argument("--demo", choices=["states", "none"], default="states")
    a = p.parse_args()
    host, port = a.addr.rsplit(":", 1)
    app = wsgi_app(interval_ms=a.interval_ms, max_connections=a.max_connections, cors=a.cors)
    server = make_server(host, int(port), app, server_class=ThreadingServer, handler_class=Quiet)
    if a.demo == "states":
        threading.Thread(target=demo_states, daemon=True).start()
    h, p_ = server.server_address[:2]
    print(f"python-server: http://{h}:{p_}/hystrix.stream, /dashboard, /metrics", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
