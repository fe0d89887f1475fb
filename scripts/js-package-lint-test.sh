#!/usr/bin/env bash
# Checks that scripts/js-package-lint.sh fails on broken packages: a copy of
# target/npm/hystrix is packed with package.json broken one way at a time,
# and the lint must fail naming the tool that caught it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$root/target/npm/hystrix"
scratch="$root/target/npm/lint-test"
[ -f "$pkg/package.json" ] || { echo "js-package-lint-test: $pkg is missing (scripts/build-npm.sh)" >&2; exit 1; }
trap 'rm -rf "$scratch"' EXIT
# expect_fail TOOL DESCRIPTION NODE-EXPRESSION-EDITING-p
expect_fail() {
  rm -rf "$scratch" && mkdir -p "$scratch/out" && cp -r "$pkg" "$scratch/pkg"
  node -e '
    const fs = require("fs"); const f = process.argv[1];
    const p = JSON.parse(fs.readFileSync(f, "utf8")); (new Function("p", process.argv[2]))(p);
    fs.writeFileSync(f, JSON.stringify(p, null, 2));
  ' "$scratch/pkg/package.json" "$3"
  (cd "$scratch/pkg" && npm pack --silent --pack-destination "$scratch/out" >/dev/null)
  if out="$("$root/scripts/js-package-lint.sh" "$scratch"/out/*.tgz 2>&1)"; then
    echo "js-package-lint-test: FAILED: the lint passed a package with $2" >&2; exit 1
  fi
  grep -q "$1 found problems" <<<"$out" || { echo "js-package-lint-test: FAILED: $2: expected $1 to catch it, got: $out" >&2; exit 1; }
}
expect_fail publint "exports naming a missing file" 'p.exports["."].node = "./missing.mjs";'
expect_fail "@arethetypeswrong/cli" "an export without types" 'delete p.exports["./init"].types;'
echo "js-package-lint-test: a missing export target (publint) and an untyped export (attw) both fail the lint"
