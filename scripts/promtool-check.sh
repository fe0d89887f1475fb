#!/usr/bin/env bash
# `promtool check metrics` on the Prometheus exposition of a sample registry
# (a tripped command, a healthy one, a name that needs escaping), rendered by
# core/examples/observe_server.rs --dump-metrics. promtool comes with
# Debian's `prometheus` package (scripts/setup.sh installs it); without it
# the check is skipped with a message, not failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if ! command -v promtool >/dev/null; then
    echo "promtool-check: SKIPPED: promtool not found (apt-get install prometheus, or run scripts/setup.sh)"
    exit 0
fi
out="$root/target/promtool-check"
mkdir -p "$out"
cargo run --quiet -p hystrix-core --example observe_server -- --dump-metrics > "$out/metrics.txt"
# promtool prints lint findings and exits non-zero on any of them.
if ! promtool check metrics < "$out/metrics.txt"; then
    echo "promtool-check: FAILED on $out/metrics.txt"
    exit 1
fi
grep -q '^hystrix_latency_seconds_bucket{name="healthy",group="healthy",kind="run",le="+Inf"} 12$' "$out/metrics.txt" \
    || { echo "promtool-check: FAILED: the sample's histogram is not in the exposition"; exit 1; }
grep -q '^hystrix_circuitbreaker_state{name="tripped",group="tripped",state="open"} 1$' "$out/metrics.txt" \
    || { echo "promtool-check: FAILED: the sample's tripped command is not open"; exit 1; }
echo "promtool-check: 1 passed, 0 failed"
