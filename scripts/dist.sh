#!/usr/bin/env bash
# `make dist`: every release artifact of the project's one version in
# target/dist, with SHA256SUMS over them:
#   hystrix-resilience-<v>.tgz                 the npm package (npm pack; linted by publint and attw)
#   hystrix-{core,tower}-<v>.crate             each publishable crate (cargo package, verified by a build)
#   hystrix-c-<v>-linux-<arch>.tar.gz          the C release (scripts/dist-c.sh)
#   Python wheels and sdist                    from scripts/dist-python.sh
# target/dist is emptied first, so a rerun gives the same set of files.
# Not part of `make test` (the wheels alone take minutes).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/target/dist"
fail() { echo "make dist: $*" >&2; exit 1; }
# The Python artifacts come from their own script; without it there is no
# complete release, so stop before building anything.
[ -x scripts/dist-python.sh ] || fail "scripts/dist-python.sh is missing or not executable: it builds the Python wheels and sdist (scripts/dist-python.sh OUTDIR); nothing was built"
scripts/version-check.sh >/dev/null || fail "the packages carry different versions (scripts/version-check.sh says why)"
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"
rm -rf "$out"
mkdir -p "$out"

echo "== npm package"
scripts/build-npm.sh
(cd target/npm/hystrix && npm pack --silent --pack-destination "$out" >/dev/null)
npm_name="$(node -p 'require("./bindings-wasm/js/package.json").name')"
[ -f "$out/$npm_name-$version.tgz" ] || fail "npm pack did not write $out/$npm_name-$version.tgz"
scripts/js-package-lint.sh "$out/$npm_name-$version.tgz"

echo "== crates"
crates="$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(sys.stdin)["packages"] if p["publish"] != [])))')"
[ -n "$crates" ] || fail "no workspace crate is publishable"
# All at once: hystrix-tower's package is verified against hystrix-core's
# (not yet on crates.io).
# shellcheck disable=SC2046 # one -p per crate name
cargo package --quiet --allow-dirty $(printf -- '-p %s ' $crates)
for crate in $crates; do
  cp "target/package/$crate-$version.crate" "$out/"
done

echo "== C release tarball"
scripts/dist-c.sh "$out" >/dev/null

echo "== Python wheels and sdist"
scripts/dist-python.sh "$out"

(cd "$out" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
echo "== target/dist"
(cd "$out" && ls -l --time-style=+ | tail -n +2 && sha256sum --check --quiet SHA256SUMS)
