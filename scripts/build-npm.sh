#!/usr/bin/env bash
# Builds the npm package directory target/npm/hystrix: the wasm module for
# Node (CommonJS, loaded synchronously), browsers (--target web) and
# bundlers, plus the hand-written JS glue, package.json and index.d.ts.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build --quiet --release -p hystrix-wasm --target wasm32-unknown-unknown
wasm="target/wasm32-unknown-unknown/release/hystrix_wasm.wasm"
out="target/npm/hystrix"
rm -rf "$out"
mkdir -p "$out"
for target in nodejs web bundler; do
  dir="$out/$([ "$target" = nodejs ] && echo node || echo "$target")"
  wasm-bindgen --target "$target" --weak-refs --out-dir "$dir" "$wasm"
done
# The Node build is CommonJS inside an ESM package.
echo '{"type":"commonjs"}' > "$out/node/package.json"
cp bindings-wasm/js/*.mjs bindings-wasm/js/package.json bindings-wasm/js/index.d.ts "$out/"
echo "build-npm: $out ($(gzip -9 -c "$out/web/hystrix_wasm_bg.wasm" | wc -c) bytes of gzipped wasm)"
