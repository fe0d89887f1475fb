#!/usr/bin/env bash
# The floor of the npm package's wasm (BENCHMARKS.md, "Session 10: package
# size — cuts and the floor"): builds bench/floor (a command from defaults
# and numbers driven by the package's call protocol, nothing else) like
# scripts/build-npm.sh builds the package's wasm — the wasm-release
# profile, wasm-bindgen without names or producers, wasm-opt -O3 without
# target features — and prints its size gzipped (gzip -9), with the whole
# call machine and (`single`) with single-attempt calls only; FLOOR_VARIANTS
# also takes full-std-alloc and single-std-alloc (std's allocator).
# CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=z builds them at opt-level "z".
#   bindings-wasm/bench/floor.sh        (a fat-LTO build each: run it under
#                                       the build lock, see scripts/build-npm.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root/bindings-wasm/bench/floor"
target="${CARGO_TARGET_DIR:-$root/target}"
wasm_opt="$root/target/js-tools/node_modules/.bin/wasm-opt"
[ -x "$wasm_opt" ] || { echo "floor: $wasm_opt is missing: run scripts/setup.sh" >&2; exit 1; }
out="$target/wasm-floor"
mkdir -p "$out"
for variant in ${FLOOR_VARIANTS:-full single}; do
  features=()
  case "$variant" in
    single) features=(--features single) ;;
    full-std-alloc) features=(--features std-alloc) ;;
    single-std-alloc) features=(--features single,std-alloc) ;;
  esac
  cargo build --quiet --profile wasm-release --target wasm32-unknown-unknown --target-dir "$target/floor" "${features[@]}"
  wasm-bindgen --target web --weak-refs --remove-name-section --remove-producers-section --out-dir "$out/$variant" \
    "$target/floor/wasm32-unknown-unknown/wasm-release/hystrix_wasm_floor.wasm"
  w="$out/$variant/hystrix_wasm_floor_bg.wasm"
  "$wasm_opt" -O3 --strip-target-features "$w" -o "$w"
  echo "floor ($variant): $(wc -c < "$w") bytes of wasm, $(gzip -9 -c < "$w" | wc -c) gzipped; its wasm-bindgen JS: $(gzip -9 -c < "$out/$variant/hystrix_wasm_floor.js" | wc -c) gzipped"
done
