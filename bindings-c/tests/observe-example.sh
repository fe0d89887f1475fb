#!/usr/bin/env bash
# examples/c/observe_server.c for real: built like a user builds it, run on a
# free port, then asked over HTTP as Prometheus, the dashboard and a browser
# would ask: /metrics (checked by promtool when it is installed), a
# /hystrix.stream frame naming both demo commands followed by "ping:", the
# dashboard page, and a 404; finally the server must exit 0 on its own.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/target/examples"
mkdir -p "$out"
cc -std=c11 -Wall -Wextra -Werror -pthread -I"$root/bindings-c/include" "$root/examples/c/observe_server.c" \
  "$root/target/release/libhystrix.a" -lpthread -ldl -lm -o "$out/observe-server-c"
log="$out/observe-server-c.log"
"$out/observe-server-c" 0 6 > "$log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '127.0.0.1:' "$log" && break; sleep 0.1; done
port="$(sed -n 's|.*127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log")"
[ -n "$port" ] || { echo "observe-example: the server printed no address" >&2; cat "$log" >&2; exit 1; }
base="http://127.0.0.1:$port"
fail() { echo "observe-example: $*" >&2; exit 1; }

sleep 0.5 # some demo traffic first
metrics="$(curl -fsS "$base/metrics")"
grep -q '^hystrix_circuitbreaker_state{name="payments",group="payments",state="open"} ' <<<"$metrics" \
  || fail "/metrics has no circuit state for payments"
grep -q 'name="inventory"' <<<"$metrics" || fail "/metrics does not name inventory"
if command -v promtool >/dev/null; then
  promtool check metrics <<<"$metrics" || fail "promtool rejects /metrics"
fi
stream="$(curl -sN --max-time 1.5 "$base/hystrix.stream" || true)"
grep -q '^data: {"type":"HystrixCommand","name":"inventory"' <<<"$stream" || fail "no inventory frame on the stream"
grep -q '^data: {"type":"HystrixCommand","name":"payments"' <<<"$stream" || fail "no payments frame on the stream"
grep -q '^ping: ' <<<"$stream" || fail "no ping after the frames"
page="$(curl -fsS "$base/hystrix")"
grep -q '<html' <<<"$page" || fail "/hystrix is not the dashboard page"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/nope")" = 404 ] || fail "/nope is not a 404"
wait $server || fail "the server exited with status $?"
trap - EXIT
echo "observe-example: /metrics, /hystrix.stream, /hystrix served by examples/c/observe_server.c on port $port"
