#!/usr/bin/env bash
# The declared minimum Rust versions hold: every workspace package is
# checked (`cargo check`, its library and binaries) with the toolchain of
# its own `rust-version`, installed with rustup's minimal profile if
# missing. Packages are grouped by version; the versions are read from the
# manifests (`cargo metadata`), never repeated here.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_MSRV:-$PWD/target/msrv}"

groups=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys, collections
by = collections.defaultdict(list)
for p in json.load(sys.stdin)["packages"]:
    if p.get("rust_version"):  # test-only packages may declare none
        by[p["rust_version"]].append(p["name"])
for v in sorted(by, key=lambda v: [int(x) for x in v.split(".")]):
    print(v, " ".join(sorted(by[v])))
')

while read -r version packages; do
  if ! rustup run "$version" rustc --version > /dev/null 2>&1; then
    echo "msrv: installing Rust $version (minimal profile)"
    rustup toolchain install "$version" --profile minimal > /dev/null
  fi
  args=()
  for p in $packages; do args+=(-p "$p"); done
  echo "msrv: Rust $version checks ${packages// /, }"
  if ! cargo "+$version" check --quiet "${args[@]}"; then
    echo "msrv: ${packages// /, } no longer build(s) with Rust $version, the rust-version declared: raise it in the manifest or avoid the newer feature" >&2
    exit 1
  fi
done <<< "$groups"
