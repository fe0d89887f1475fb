#!/usr/bin/env bash
# The loom model checks of the core's lock-free parts (the bulkhead's
# permits, the bucket ring under recycling, the window's health reset, the
# circuit's trip gate against transitions and reconfiguration):
# the crate rebuilt with `--cfg loom` in its own target directory, then
# every `loom_` test (extra arguments go to the test binary, e.g.
# --include-ignored for the slow ones). LOOM_MAX_PREEMPTIONS etc. are
# loom's own knobs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$root/target/loom" \
  cargo test --quiet --release -p hystrix-core --lib loom_ -- --test-threads=1 "$@"
