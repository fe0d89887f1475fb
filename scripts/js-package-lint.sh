#!/usr/bin/env bash
# Lints a packed npm tarball as the registry's users would meet it:
#   publint                      package.json fields, exports and files (errors and warnings fail);
#   @arethetypeswrong/cli (attw) every export resolves to types that match the JS.
# The package is ESM-only by design (Node ^20.19 / >= 22.12 require() it
# natively; js-pack-test.sh runs that), so attw uses its esm-only profile,
# which leaves out node10 and CommonJS-from-node16 resolution. The `./wasm`
# and `./observer-wasm` exports are the wasm binaries themselves, assets for
# build scripts (require.resolve), not modules: they have no types to check.
# Usage: scripts/js-package-lint.sh path/to/package.tgz
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/js-tools/node_modules/.bin"
tarball="${1:?usage: js-package-lint.sh path/to/package.tgz}"
[ -f "$tarball" ] || { echo "js-package-lint: no tarball at '$tarball'" >&2; exit 1; }
for tool in publint attw; do
  [ -x "$bin/$tool" ] || { echo "js-package-lint: $bin/$tool is missing (run scripts/setup.sh)" >&2; exit 1; }
done
if ! out="$("$bin/publint" run --strict "$tarball" 2>&1)"; then
  echo "js-package-lint: publint found problems in $tarball:" >&2
  echo "$out" >&2
  exit 1
fi
if ! out="$("$bin/attw" --profile esm-only --exclude-entrypoints ./wasm ./observer-wasm --no-emoji --no-color "$tarball" 2>&1)"; then
  echo "js-package-lint: @arethetypeswrong/cli found problems in $tarball:" >&2
  echo "$out" >&2
  exit 1
fi
echo "js-package-lint: publint and attw (esm-only profile) found nothing wrong in $(basename "$tarball")"
