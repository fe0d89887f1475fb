#!/usr/bin/env bash
# Issue 9's must-hold table: the Rust core's closed, open and async paths
# and the C ABI, before the call protocol against after, in one sitting.
#
#   scripts/bench-protocol-before-after.sh [BEFORE [AFTER]]
#
# BEFORE defaults to a228d79 (before v2 and the call protocol), AFTER to
# HEAD. Each is checked out in a detached worktree under $WORK (default
# /tmp/musthold); the harness of this tree (scripts/bench-protocol/:
# a Rust crate using only API both have, and a C file using only functions
# whose signatures both have) is copied into each and built there with that
# commit's Cargo.lock, release profile, and with `cargo build --release -p
# hystrix-c` for libhystrix.a. Builds take /tmp/hystrix-build.lock.
#
# Then, per path:
# - instructions per call: `valgrind --tool=callgrind` of N and 2N calls on
#   a clock reading 0, (Ir(2N) - Ir(N)) / N; the callgrind files stay in
#   $OUT for per-function comparison (callgrind_annotate);
# - ns per call: ROUNDS rounds, in each the two builds' binaries run one
#   after the other (the order swapped every round), TIME_N calls each on
#   the real clock; the table gives each side's median and the median and
#   range of the per-round ratio after ÷ before.
#
# With PHASES including `python`, also Python's closed paths (see
# python_rounds; PY_BEFORE / PY_AFTER: venvs with each side's package).
#
# Environment: OUT (raw outputs, default $WORK/out), N (default 100000),
# TIME_N (default 2000000), ROUNDS (default 9), PHASES (default
# "build count time"), KINDS_RUST, KINDS_C, CARGO_TARGET_BASE (default
# $WORK/target: one target dir per side below it).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
BEFORE="${1:-a228d79}"
AFTER="${2:-HEAD}"
WORK="${WORK:-/tmp/musthold}"
OUT="${OUT:-$WORK/out}"
N="${N:-100000}"
TIME_N="${TIME_N:-2000000}"
ROUNDS="${ROUNDS:-9}"
PHASES="${PHASES:-build count time}"
KINDS_RUST="${KINDS_RUST:-sync open tripped async async_open}"
KINDS_C="${KINDS_C:-exec open}"
CARGO_TARGET_BASE="${CARGO_TARGET_BASE:-$WORK/target}"
mkdir -p "$WORK" "$OUT"

rev_of() { git -C "$here" rev-parse --short=7 "$1^{commit}"; }
before="$(rev_of "$BEFORE")"
after="$(rev_of "$AFTER")"
echo "before: $before  after: $after  (N=$N, TIME_N=$TIME_N, ROUNDS=$ROUNDS)" | tee "$OUT/sides.txt"

# Checks out `rev` under $WORK/<rev> with this tree's harness copied in.
checkout() {
    local rev="$1" dir="$WORK/$1"
    if [ ! -d "$dir" ]; then
        git -C "$here" worktree add --detach "$dir" "$rev" > /dev/null
    fi
    rm -rf "$dir/scripts/bench-protocol"
    mkdir -p "$dir/scripts"
    cp -r "$here/scripts/bench-protocol" "$dir/scripts/bench-protocol"
    rm -rf "$dir/scripts/bench-protocol/rust/target"
    cp "$dir/Cargo.lock" "$dir/scripts/bench-protocol/rust/Cargo.lock"
}

# Builds libhystrix.a, the Rust harness and the C harness of one side into
# $CARGO_TARGET_BASE/<rev>; the binaries go to $WORK/bin/<rev>/.
build() {
    local rev="$1" dir="$WORK/$1" target="$CARGO_TARGET_BASE/$1"
    mkdir -p "$WORK/bin/$rev"
    (cd "$dir" && CARGO_TARGET_DIR="$target" flock /tmp/hystrix-build.lock nice -n 10 \
        cargo build --quiet --release -p hystrix-c)
    (cd "$dir/scripts/bench-protocol/rust" && CARGO_TARGET_DIR="$target" flock /tmp/hystrix-build.lock nice -n 10 \
        cargo build --quiet --release)
    cp "$target/release/bench-protocol" "$WORK/bin/$rev/rust"
    nice -n 10 "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -Werror -I"$dir/bindings-c/include" \
        "$dir/scripts/bench-protocol/c/c_abi.c" "$target/release/libhystrix.a" \
        -lpthread -ldl -lm -o "$WORK/bin/$rev/c"
}

# Total instructions (Ir) of one run under callgrind; keeps the file.
instructions() {
    local file="$1"; shift
    valgrind --tool=callgrind --callgrind-out-file="$file" "$@" > /dev/null 2>"$file.log"
    sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$file" | head -1
}

count() {
    local counts="$OUT/instructions.tsv"
    printf 'side\tbinary\tkind\tIr_N\tIr_2N\tper_call\n' > "$counts"
    local side bin kind a b
    for side in before after; do
        for bin in rust c; do
            local kinds="$KINDS_RUST"
            [ "$bin" = c ] && kinds="$KINDS_C"
            for kind in $kinds; do
                a=$(instructions "$OUT/callgrind.$side.$bin.$kind.N" "$WORK/bin/${!side}/$bin" count "$kind" "$N")
                b=$(instructions "$OUT/callgrind.$side.$bin.$kind.2N" "$WORK/bin/${!side}/$bin" count "$kind" "$((2 * N))")
                printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$bin" "$kind" "$a" "$b" \
                    "$(awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')" | tee -a "$counts"
            done
        done
    done
}

timing() {
    local times="$OUT/times.tsv"
    printf 'round\tside\tbinary\tkind\tns_per_call\tload1\n' > "$times"
    local round bin kind side order
    for round in $(seq 1 "$ROUNDS"); do
        if [ $((round % 2)) -eq 1 ]; then order="before after"; else order="after before"; fi
        for bin in rust c; do
            local kinds="$KINDS_RUST"
            [ "$bin" = c ] && kinds="$KINDS_C"
            for kind in $kinds; do
                for side in $order; do
                    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$side" "$bin" "$kind" \
                        "$("$WORK/bin/${!side}/$bin" time "$kind" "$TIME_N")" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$times"
                done
            done
        done
    done
}

# Python (phase `python`): bindings-python/bench/closed_paths.py of AFTER,
# run by the venvs $PY_BEFORE and $PY_AFTER (each with its build of the
# package installed) alternately, ROUNDS rounds of PY_N calls per loop.
python_rounds() {
    local times="$OUT/py-times.tsv" bench="$WORK/$after/bindings-python/bench/closed_paths.py"
    printf 'round\tside\tbinary\tkind\tns_per_call\tload1\n' > "$times"
    local round side order venv
    for round in $(seq 1 "$ROUNDS"); do
        if [ $((round % 2)) -eq 1 ]; then order="before after"; else order="after before"; fi
        for side in $order; do
            venv="$PY_AFTER"
            [ "$side" = before ] && venv="$PY_BEFORE"
            (cd "$WORK" && "$venv/bin/python" "$here/scripts/bench-protocol/python/rounds.py" "$bench" "${PY_N:-8000}") |
                while IFS=$'\t' read -r kind ns; do
                    printf '%s\t%s\tpy\t%s\t%s\t%s\n' "$round" "$side" "$kind" "$ns" "$(cut -d' ' -f1 /proc/loadavg)"
                done | tee -a "$times"
        done
    done
}

for phase in $PHASES; do
    case "$phase" in
        build) checkout "$before"; checkout "$after"; build "$before"; build "$after" ;;
        count) count ;;
        time) timing ;;
        python) echo "python: before = $PY_BEFORE, after = $PY_AFTER" | tee -a "$OUT/sides.txt"; python_rounds ;;
        *) echo "unknown phase $phase" >&2; exit 2 ;;
    esac
done
python3 "$here/scripts/bench-protocol/summarize.py" "$OUT" "$before" "$after" | tee "$OUT/table.md"
