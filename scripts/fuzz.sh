#!/usr/bin/env bash
# Fuzzes the core with cargo-fuzz (fuzz/, see fuzz/src/*.rs for what each
# target checks): builds every target once, then runs each for SECONDS
# (default 60) from its seed corpus fuzz/corpus/<target>/. New inputs the
# fuzzer finds go to fuzz/work/<target>/ (not checked in), a failing input
# to fuzz/artifacts/<target>/; the full libFuzzer log to fuzz/work/<target>.log.
#   scripts/fuzz.sh [SECONDS [TARGET...]]
# `make fuzz-smoke` runs it for 20 s per target with FUZZ_SEED=1: a fixed
# seed and only the checked-in seeds (new finds go to a scratch directory),
# so every machine walks the same inputs in the same order and `make test`
# does not depend on luck; longer runs without a seed explore (`make fuzz`).
# Without a nightly toolchain
# (libFuzzer's instrumentation needs one) it says so and exits 0: a machine
# without nightly skips fuzzing, it does not fail.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS [TARGET...]]" >&2
  exit 2
fi
if ! nightly="$(cargo +nightly --version 2>&1)"; then
  echo "fuzz: SKIPPED: no nightly toolchain ('cargo +nightly --version' failed: ${nightly%%$'\n'*})."
  echo "fuzz: cargo fuzz needs nightly; 'rustup toolchain install nightly', then scripts/setup.sh installs cargo-fuzz."
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing although nightly is installed; scripts/setup.sh installs it" \
    "(cargo install cargo-fuzz --locked)." >&2
  exit 1
fi
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
# -a: debug assertions and overflow checks on, as in the unit tests.
flags=(-a)
start=$SECONDS
echo "fuzz: building ${targets[*]} ($nightly)"
nice -n 10 cargo +nightly fuzz build "${flags[@]}"
echo "fuzz: built in $((SECONDS - start)) s"
status=0
seed=()
[ -n "${FUZZ_SEED:-}" ] && seed=(-seed="$FUZZ_SEED")
for target in "${targets[@]}"; do
  work="fuzz/work/$target"
  log="fuzz/work/$target.log"
  mkdir -p "$work" "fuzz/artifacts/$target"
  scratch=""
  if [ -n "${FUZZ_SEED:-}" ]; then
    # Seeded: start from the checked-in seeds alone, every time.
    scratch="$(mktemp -d)"
    work="$scratch"
  fi
  # A dictionary of the target's tokens (fuzz/<target>.dict), if it has one.
  dict=()
  [ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
  echo "fuzz: $target for $seconds s (seeds fuzz/corpus/$target, log $log)"
  # The first corpus directory receives what the fuzzer finds; the seeds
  # are read only. -timeout: an input running 10 s is a hang.
  if nice -n 10 cargo +nightly fuzz run "${flags[@]}" "$target" "$work" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${seed[@]}" "${dict[@]}" >"$log" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
    echo "fuzz: $target: no failure in ${runs:-?} runs (${rate:-?}/s)"
  else
    status=1
    echo "fuzz: $target FAILED; the end of $log:" >&2
    grep -v '^#[0-9]' "$log" | tail -40 >&2
    echo "fuzz: replay with: cargo +nightly fuzz run ${flags[*]} $target fuzz/artifacts/$target/<file>" >&2
    echo "fuzz: or, with every operation traced: cd fuzz && HYSTRIX_FUZZ_TRACE=1 cargo run --example run_one --" \
      "$target artifacts/$target/<file>" >&2
  fi
  if [ -n "$scratch" ]; then rm -rf "$scratch"; fi
done
echo "fuzz: done in $((SECONDS - start)) s"
exit $status
