#!/usr/bin/env bash
# JS retry benchmark (issue 13): hystrix beside cockatiel's retry
# (bindings-wasm/bench/retry.mjs). Not part of `make test`. Builds the npm
# package from this tree (scripts/build-npm.sh) and installs the bench-only
# peers pinned in bindings-wasm/bench/package.json when they are missing.
# HYSTRIX_BENCH_ROUNDS / HYSTRIX_BENCH_SLOT_MS tune it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build-npm.sh"
cd "$root/bindings-wasm/bench"
if [ ! -d node_modules/cockatiel ]; then
  npm install --no-audit --no-fund
fi
exec node retry.mjs
