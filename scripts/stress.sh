#!/usr/bin/env bash
# Long exact-accounting soak of the core (not part of `make test`, which runs
# the same tests at scale 1): threads at 2/8/32 and window reshapes, with
# HYSTRIX_STRESS_SCALE times the calls (default 200: about 10^8 calls).
#   scripts/stress.sh [SCALE]
set -euo pipefail
cd "$(dirname "$0")/.."
HYSTRIX_STRESS_SCALE="${1:-200}" cargo test --release -p hystrix-core --test stress_accounting -- --test-threads 1
