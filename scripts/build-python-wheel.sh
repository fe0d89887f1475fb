#!/usr/bin/env bash
# Builds the hystrix abi3 wheel (CPython >= 3.9) for one Linux target,
# tagged manylinux2014 (glibc 2.17), with maturin and zig from
# target/py-tools (scripts/py-tools.sh), into OUTDIR; then checks it with
# scripts/check-python-wheel.sh (tags, auditwheel, ELF machine, LICENSE).
# Prints the wheel's path as its last line.
#
# Usage: scripts/build-python-wheel.sh TARGET OUTDIR
#   TARGET: x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
me=build-python-wheel
[ $# -eq 2 ] || { echo "usage: $0 TARGET OUTDIR" >&2; exit 2; }
target="$1" out="$2"
case "$target" in
  x86_64-unknown-linux-gnu) arch=x86_64 ;;
  aarch64-unknown-linux-gnu) arch=aarch64 ;;
  *) echo "$me: unsupported TARGET '$target' (x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu)" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx "$target"; then
  echo "$me: the Rust target $target is not installed (rustup target add $target)" >&2
  exit 1
fi
"$root/scripts/py-tools.sh" >&2
tools="$root/target/py-tools/bin"
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml")"
mkdir -p "$out"
wheel="$out/hystrix-$version-cp39-abi3-manylinux2014_$arch.manylinux_2_17_$arch.whl"
rm -f "$out"/hystrix-*_"$arch".whl
# zig links against glibc 2.17's symbols; --locked keeps Cargo.lock's versions.
PATH="$tools:$PATH" "$tools/maturin" build --release --strip --locked --zig \
  --compatibility manylinux2014 --target "$target" \
  -m "$root/bindings-python/Cargo.toml" --out "$out" >&2
[ -f "$wheel" ] || { echo "$me: maturin did not write $wheel; $out has: $(ls "$out")" >&2; exit 1; }

"$root/scripts/check-python-wheel.sh" "$wheel" "$arch" >&2
echo "$wheel"
