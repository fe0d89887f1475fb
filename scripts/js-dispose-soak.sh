#!/usr/bin/env bash
# The create/dispose soak of the npm package at full count: 10^6 cycles
# (`make test` runs bindings-wasm/test/memory.test.mjs with 20,000), after
# which the wasm memory must not have grown. Needs scripts/build-npm.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
HYSTRIX_DISPOSE_CYCLES="${1:-1000000}" node --test bindings-wasm/test/memory.test.mjs
