#!/usr/bin/env bash
# tsc --checkJs, strict, over the hand-written JS glue (bindings-wasm/js/*.mjs):
# checked against the package's own index.d.ts, init.d.ts and observe.d.ts
# and against the wasm-bindgen declarations of scripts/build-npm.sh's output
# (bindings-wasm/js/tsconfig.json says how), and the modules browsers load
# once more without Node's types (tsconfig.web.json). Fails on any type error.
# Usage: scripts/js-typecheck.sh [ROOT]  (a tree laid out like this
# repository, with its target/; default: this repository).
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
tsc="$root/target/js-tools/node_modules/.bin/tsc"
[ -x "$tsc" ] || { echo "js-typecheck: $tsc is missing: run scripts/setup.sh" >&2; exit 1; }
[ -d "$root/target/js-tools/node_modules/@types/node" ] ||
  { echo "js-typecheck: @types/node is missing from target/js-tools: run scripts/setup.sh" >&2; exit 1; }
[ -f "$root/target/npm/hystrix/web/hystrix_wasm.d.ts" ] && [ -f "$root/target/npm/hystrix/bundler/hystrix_wasm.d.ts" ] ||
  { echo "js-typecheck: target/npm/hystrix has no wasm-bindgen declarations: run scripts/build-npm.sh" >&2; exit 1; }
# Every module with Node's types, then what browsers and bundlers load
# without them (tsconfig.web.json); both run, so every error is reported.
status=0
"$tsc" --pretty false -p "$root/bindings-wasm/js/tsconfig.json" || status=1
"$tsc" --pretty false -p "$root/bindings-wasm/js/tsconfig.web.json" || status=1
[ "$status" -eq 0 ] || { echo "js-typecheck: type errors in bindings-wasm/js (above)" >&2; exit 1; }
echo "js-typecheck: bindings-wasm/js/*.mjs type-check (strict; the browser modules without Node's types too)"
