#!/usr/bin/env bash
# Soak of every binding (issue #11; not part of `make test`: minutes):
# CALLS calls through one command and CYCLES create/call/dispose cycles in
# Rust (core/examples/soak.rs), C (scripts/soak/soak.c), Python
# (scripts/soak/soak.py, semaphore isolation; one cycle in ten with thread
# isolation) and Node (scripts/soak/soak.mjs, the npm package). Each leg
# prints its resident set (and, for Node, the wasm memory and the wasm
# allocator's heap) after a warm-up tenth, halfway and at the end of each
# phase; this script prints them and fails if any grew from the warm-up
# to the end by more than its bound:
#   RSS        1 MiB (Rust, C), 4 MiB (Python), 64 MiB (Node: V8's heap
#              grows and shrinks with its GC, so only a gross leak shows)
#   wasm       0 bytes of wasm memory, 64 KiB of wasm heap
#   JS heap    16 MiB of V8's used heap after a forced GC (Node)
#
#   scripts/soak.sh [CALLS [CYCLES]]        defaults 10000000 and 100000
#   SOAK_LEGS="rust c python node"          the legs to run
# Needs scripts/python-env.sh and scripts/build-npm.sh to have run for the
# Python and Node legs (it runs neither: both rebuild from the tree).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
calls="${1:-10000000}"
cycles="${2:-100000}"
for n in "$calls" "$cycles"; do
    [[ "$n" =~ ^[0-9]+$ && "$n" -ge 20 ]] || { echo "soak.sh: CALLS and CYCLES must be whole numbers >= 20, got '$n'" >&2; exit 2; }
done
legs="${SOAK_LEGS:-rust c python node}"
out="$root/target/soak"
mkdir -p "$out"
failed=0

# judge LEG FILE RSS_BOUND_KB: prints the leg's numbers and checks each
# phase's growth from start to end (and the wasm columns, when present).
judge() {
    local leg="$1" file="$2" bound="$3"
    awk -v leg="$leg" -v bound="$bound" '
        $1 == "soak" && $3 == "took" { printf "%-7s %-6s took %s s for %s\n", leg, $2, $4, $7; next }
        $1 == "soak" {
            rss[$2, $3] = $4; wasm[$2, $3] = $5; heap[$2, $3] = $6; js[$2, $3] = $7
            printf "%-7s %-6s %-6s rss %7d KiB%s\n", leg, $2, $3, $4, (NF > 4 ? sprintf("  wasm memory %d B, wasm heap %d B, JS heap %d KiB", $5, $6, $7) : "")
            if ($3 == "end") {
                grow = $4 - rss[$2, "start"]
                if (grow > bound) { printf "%s %s: RSS grew %d KiB (bound %d KiB)\n", leg, $2, grow, bound; bad = 1 }
                if (NF > 4 && $5 != wasm[$2, "start"]) { printf "%s %s: wasm memory grew by %d B\n", leg, $2, $5 - wasm[$2, "start"]; bad = 1 }
                if (NF > 4 && $6 - heap[$2, "start"] > 65536) { printf "%s %s: wasm heap grew by %d B\n", leg, $2, $6 - heap[$2, "start"]; bad = 1 }
                if (NF > 4 && $7 - js[$2, "start"] > 16384) { printf "%s %s: JS heap grew by %d KiB\n", leg, $2, $7 - js[$2, "start"]; bad = 1 }
                phases++
            }
        }
        END { if (phases != 2) { printf "%s: expected 2 phases, saw %d\n", leg, phases; bad = 1 } exit bad }
    ' "$file"
}

# run LEG RSS_BOUND_KB COMMAND...: runs one leg into target/soak/LEG.out and judges it.
run() {
    local leg="$1" bound="$2"
    shift 2
    echo "== $leg: $calls calls, $cycles create/dispose cycles"
    if ! "$@" "$calls" "$cycles" >"$out/$leg.out" 2>"$out/$leg.err"; then
        cat "$out/$leg.out" "$out/$leg.err" >&2
        echo "$leg: FAILED (exit code)"
        failed=$((failed + 1))
        return
    fi
    judge "$leg" "$out/$leg.out" "$bound" || { echo "$leg: FAILED"; failed=$((failed + 1)); }
}

for leg in $legs; do
    case "$leg" in
        rust)
            cargo build --quiet --release -p hystrix-core --example soak
            run rust 1024 target/release/examples/soak ;;
        c)
            cargo build --quiet --release -p hystrix-c
            "${CC:-cc}" -std=c11 -Wall -Wextra -Werror -O2 -pthread -I bindings-c/include scripts/soak/soak.c \
                target/release/libhystrix.a -lpthread -ldl -lm -o "$out/soak-c"
            run c 1024 "$out/soak-c" ;;
        python)
            [ -x target/py-test/bin/python ] || { echo "soak.sh: run scripts/python-env.sh first" >&2; exit 2; }
            run python 4096 target/py-test/bin/python scripts/soak/soak.py ;;
        node)
            [ -f target/npm/hystrix/index.node.mjs ] || { echo "soak.sh: run scripts/build-npm.sh first" >&2; exit 2; }
            run node 65536 node --expose-gc scripts/soak/soak.mjs ;;
        *) echo "soak.sh: unknown leg '$leg' in SOAK_LEGS (rust, c, python, node)" >&2; exit 2 ;;
    esac
done

if [ "$failed" -ne 0 ]; then
    echo "soak: $failed leg(s) failed"
    exit 1
fi
echo "soak: every leg stayed within its bounds"
