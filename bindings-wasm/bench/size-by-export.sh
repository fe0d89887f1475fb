#!/usr/bin/env bash
# What each group of the npm package's wasm exports weighs, gzipped
# (BENCHMARKS.md, "Session 10: package size — cuts and the floor"): the
# package's wasm with the group's exports taken out by binaryen's
# wasm-metadce (with everything only they reach), re-optimised with
# wasm-opt -O3, against the same module with nothing taken out (also
# re-optimised, so the two differ only by the group). Approximate: code
# two groups share counts for neither alone ("registry + configure").
#   bindings-wasm/bench/size-by-export.sh [PACKAGE_DIR]   (default target/npm/hystrix)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pkg="${1:-$root/target/npm/hystrix}"
wasm="$pkg/web/hystrix_wasm_bg.wasm"
bin="$root/target/js-tools/node_modules/.bin"
[ -x "$bin/wasm-metadce" ] || { echo "size-by-export: $bin/wasm-metadce is missing: run scripts/setup.sh" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
exports="$("$bin/wasm-dis" --all-features "$wasm" | sed -n 's/^ (export "\([^"]*\)" (func .*/\1/p')"

# The gzipped size of the module without the exports named in "$@".
without() {
  local keep=() e d
  for e in $exports; do
    for d in "$@"; do [ "$e" = "$d" ] && continue 2; done
    keep+=("{\"name\":\"e_$e\",\"root\":true,\"export\":\"$e\"}")
  done
  (IFS=,; echo "[${keep[*]}]") > "$work/graph.json"
  "$bin/wasm-metadce" --all-features "$wasm" --graph-file "$work/graph.json" -o "$work/dce.wasm" > /dev/null 2>&1
  "$bin/wasm-opt" --all-features -O3 "$work/dce.wasm" -o "$work/out.wasm"
  gzip -9 -c < "$work/out.wasm" | wc -c
}

snapshot=(wasmcommand_snapshot wasmcommand_eventNames)
observed=(wasmcommand_observed)
listeners=(wasmcommand_subscribe wasmcommand_unsubscribe wasmcommand_noteListenerError)
registry=(wasmcommand_named wasmcommand_refresh wasmcommand_unregister wasmcommand_removeNamed wasmcommand_registeredNames)
configure=(wasmcommand_configure)
context=(wasmcommand_context wasmcommand_contextSettings)
small=(wasmcommand_heapBytes wasmcommand_liveCommands wasmcommand_takeAllocFailure wasmcommand_busy wasmcommand_name errorCodes)

base="$(without)"
echo "the package's wasm, re-optimised: $base bytes gzipped (as shipped: $(gzip -9 -c < "$wasm" | wc -c))"
report() {
  local label="$1"; shift
  local n; n="$(without "$@")"
  printf '%-62s %6d (%+d)\n' "without $label" "$n" "$((n - base))"
}
report "snapshot (snapshot, eventNames)" "${snapshot[@]}"
report "observed (the observer module's wire)" "${observed[@]}"
report "listeners (subscribe, unsubscribe, noteListenerError)" "${listeners[@]}"
report "registry (named, refresh, unregister, removeNamed, ...)" "${registry[@]}"
report "configure" "${configure[@]}"
report "registry + configure" "${registry[@]}" "${configure[@]}"
report "error context (context, contextSettings)" "${context[@]}"
report "small (heapBytes, liveCommands, busy, name, ...)" "${small[@]}"
report "all of the above (new, begin, input, release left)" "${snapshot[@]}" "${observed[@]}" "${listeners[@]}" \
  "${registry[@]}" "${configure[@]}" "${context[@]}" "${small[@]}"
