#!/usr/bin/env bash
# The Python release artifacts, into OUTDIR: the abi3 (CPython >= 3.9)
# manylinux2014 wheels for x86_64 and aarch64 (scripts/build-python-wheel.sh
# builds each with maturin and zig and checks its auditwheel tag, ELF machine
# and LICENSE) and the sdist (checked for LICENSE and the in-tree build
# backend an install from it needs). Without the Rust target
# aarch64-unknown-linux-gnu, which it tries to add, it skips that wheel and
# says so. Prints each artifact with its size.
#
# Usage: scripts/dist-python.sh OUTDIR   (`make dist` passes target/dist)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
me=dist-python
[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out="$(cd "$1" && pwd)"
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml")"

built=()
for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu; do
  if ! rustup target list --installed | grep -qx "$target" && ! rustup target add "$target"; then
    echo "$me: SKIPPED the $target wheel: rustup could not add the target $target here" >&2
    continue
  fi
  built+=("$("$root/scripts/build-python-wheel.sh" "$target" "$out" | tail -1)")
done

"$root/scripts/py-tools.sh" >&2
sdist="$out/hystrix-$version.tar.gz"
rm -f "$sdist"
"$root/target/py-tools/bin/maturin" sdist -m "$root/bindings-python/Cargo.toml" --out "$out" >&2
[ -f "$sdist" ] || { echo "$me: maturin sdist did not write $sdist" >&2; exit 1; }
listing="$(tar tzf "$sdist")"
for need in LICENSE pyproject.toml build_backend/hystrix_build.py PKG-INFO; do
  grep -qx "hystrix-$version/$need" <<<"$listing" ||
    { echo "$me: $(basename "$sdist") has no hystrix-$version/$need" >&2; exit 1; }
done
tar xzOf "$sdist" "hystrix-$version/PKG-INFO" | grep -qx 'License-File: LICENSE' ||
  { echo "$me: $(basename "$sdist"): PKG-INFO names no License-File: LICENSE" >&2; exit 1; }
built+=("$sdist")

echo "$me: in $out:"
for f in "${built[@]}"; do
  printf '  %-75s %9s bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"
done
