#!/usr/bin/env bash
# The crates meant for crates.io, as crates.io would get them (`make crate-check`):
# 1. every workspace crate that is not `publish = false` has the metadata
#    crates.io and docs.rs show (description, license, repository, readme,
#    keywords, categories, [package.metadata.docs.rs]); a missing field is
#    named with its crate;
# 2. `cargo publish --dry-run` packages each of them and builds the packaged
#    sources on their own (a file left out of `include` fails here);
# --allow-dirty: a working tree with uncommitted changes is checked as it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo="${CARGO:-cargo}"
crates="$("$cargo" metadata --no-deps --format-version 1 | python3 -c '
import json, sys
meta = json.load(sys.stdin)
problems, publishable = [], []
for p in meta["packages"]:
    if p["publish"] == []:  # publish = false
        continue
    name, manifest = p["name"], p["manifest_path"]
    publishable.append(name)
    for field in ("description", "license", "repository", "readme", "keywords", "categories"):
        if not p.get(field):
            problems.append(f"{name}: no {field} in {manifest}")
    if not (p.get("metadata") or {}).get("docs", {}).get("rs"):
        problems.append(f"{name}: no [package.metadata.docs.rs] in {manifest}")
if problems:
    sys.exit("crate-check: crates.io metadata missing:\n  " + "\n  ".join(problems))
if not publishable:
    sys.exit("crate-check: no workspace crate is publishable (all are publish = false)")
print(" ".join(sorted(publishable)))
')"
# 3. the packaged crate's doc tests pass outside the workspace (nothing they
#    read may lie outside the package), built in the workspace's target dir.
#    One dry run packages them all, so a crate depending on another one of
#    them (hystrix-tower on hystrix-core) is verified against that package
#    before either is on crates.io; its doc tests then take the dependency
#    from the extracted package ([patch], so not --locked: its Cargo.lock
#    names crates.io for it).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# The dry run builds in a target dir of its own, emptied first, and our
# crates' copies that cargo unpacked into $CARGO_HOME/registry/src by an
# earlier dry run are removed: cargo unpacks the dry run's own packages (a
# local registry under the target dir) into registry/src/-<hash of that
# path>/ once and never again, and treats a registry crate it built once as
# unchanged, so a checkout at the same path verified hystrix-tower against
# the hystrix-core of an earlier run (this failed when hystrix-core gained
# an export). crates.io's directories are not named with a leading '-'.
pkg_target="$root/target/crate-check"
rm -rf "$pkg_target"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
for crate in $crates; do
  rm -rf "$cargo_home"/registry/src/-*/"$crate"-[0-9]*
done
# shellcheck disable=SC2046 # one -p per crate name (names have no spaces)
CARGO_TARGET_DIR="$pkg_target" "$cargo" publish --dry-run --allow-dirty --quiet $(printf -- '-p %s ' $crates)
for crate in $crates; do
  version="$("$cargo" pkgid -p "$crate" | sed 's/.*[@#]//')"
  # Where the dry run leaves the .crate differs between cargo versions
  # (package/ or package/tmp-crate/): take the fresh one.
  crate_file="$(ls -t "$pkg_target/package/$crate-$version.crate" "$pkg_target/package/tmp-crate/$crate-$version.crate" 2>/dev/null | head -1 || true)"
  [ -n "$crate_file" ] || { echo "crate-check: cargo publish --dry-run left no $crate-$version.crate under $pkg_target/package" >&2; exit 1; }
  tar xzf "$crate_file" -C "$scratch"
  flags=()
  for other in $crates; do
    if grep -q "^\[dependencies\.$other\]" "$scratch/$crate-$version/Cargo.toml"; then
      [ -d "$scratch/$other-$version" ] || { echo "crate-check: $crate depends on $other, packaged after it" >&2; exit 1; }
      flags+=(--config "patch.crates-io.$other.path=\"$scratch/$other-$version\"")
    fi
  done
  [ ${#flags[@]} -gt 0 ] || flags=(--locked)
  (cd "$scratch/$crate-$version" && CARGO_TARGET_DIR="$root/target" "$cargo" test --quiet "${flags[@]}" --doc >/dev/null) \
    || { echo "crate-check: the doc tests of the packaged $crate fail outside the workspace (above)" >&2; exit 1; }
done
echo "crate-check: $crates: metadata complete, packaged, built and doc-tested from the package"
