#!/usr/bin/env bash
# Runs tests under Miri, the interpreter that reports undefined behaviour
# (out-of-bounds or uninitialised reads, use after free, aliasing
# violations, data races) as it happens:
# - bindings-c/tests/miri_abi/: the whole C ABI driven from Rust (configs
#   with bad boolean bytes and short structs, sync and async execution with
#   C callbacks, virtual-clock timers, listeners that re-enter, text
#   buffers, misuse);
# - a subset of hystrix-core's unit tests (core_filters below): the
#   lock-free window, ring and permits, the command's window swap (its
#   `unsafe`), the call state machine, the policies and the timer queue.
#   Left to the ordinary `cargo test`: the renderers (observe::, pure
#   string formatting, a minute per test under Miri), config (proptest),
#   the property tests (core_skips) and the few marked
#   `#[cfg_attr(miri, ignore)]` (millions of iterations, no memory to check).
#   scripts/miri.sh [EXTRA TEST ARGS...]    e.g. scripts/miri.sh --exact NAME
# Built in target/miri, niced. Without a nightly toolchain with the miri
# component it says so and exits 0: such a machine skips Miri, it does not
# fail. scripts/setup.sh adds the components where nightly exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! nightly="$(cargo +nightly --version 2>&1)"; then
  echo "miri: SKIPPED: no nightly toolchain ('cargo +nightly --version' failed: ${nightly%%$'\n'*})."
  echo "miri: Miri needs nightly; 'rustup toolchain install nightly', then scripts/setup.sh adds miri and rust-src."
  exit 0
fi
if ! miri="$(cargo +nightly miri --version 2>&1)"; then
  echo "miri: SKIPPED: nightly has no miri component ('cargo +nightly miri --version' failed: ${miri%%$'\n'*})."
  echo "miri: 'rustup component add miri rust-src --toolchain nightly' (scripts/setup.sh does it)."
  exit 0
fi
if [ ! -d "$(rustc +nightly --print sysroot)/lib/rustlib/src/rust/library" ]; then
  echo "miri: SKIPPED: nightly has no rust-src component (Miri builds its standard library from it)."
  echo "miri: 'rustup component add miri rust-src --toolchain nightly' (scripts/setup.sh does it)."
  exit 0
fi
# -Zmiri-strict-provenance: no integer-to-pointer casts anywhere (the
# library hands out numbers, never pointers made from numbers), so Miri can
# check every pointer's provenance exactly instead of guessing.
# Stacked Borrows (the default aliasing model) stays on.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"
export CARGO_TARGET_DIR="$PWD/target/miri"
# The core's unit tests that run under Miri, by module path, and those skipped.
core_filters=(metrics:: policy:: call:: command:: time::timers drivers::future_box)
core_skips=(--skip property_)
start=$SECONDS
echo "miri: $miri, MIRIFLAGS=$MIRIFLAGS"
nice -n 10 cargo +nightly miri setup --quiet
echo "miri: sysroot ready after $((SECONDS - start)) s"
status=0
echo "miri: hystrix-c: tests/miri_abi (the C ABI)"
nice -n 10 cargo +nightly miri test --quiet -p hystrix-c --test miri_abi -- "$@" || status=1
echo "miri: hystrix-c: tests/freed_handles (every function given a freed handle)"
nice -n 10 cargo +nightly miri test --quiet -p hystrix-c --test freed_handles -- "$@" || status=1
echo "miri: hystrix-core: lib tests matching ${core_filters[*]} (${core_skips[*]})"
nice -n 10 cargo +nightly miri test --quiet -p hystrix-core --lib -- "${core_filters[@]}" "${core_skips[@]}" "$@" || status=1
echo "miri: done in $((SECONDS - start)) s"
if [ $status -ne 0 ]; then
  echo "miri: FAILED: undefined behaviour or a failing test above (MIRIFLAGS=$MIRIFLAGS)" >&2
fi
exit $status
