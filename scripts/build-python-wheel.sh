#!/usr/bin/env bash
# Builds the hystrix abi3 wheel (CPython >= 3.9) for one Linux target,
# tagged manylinux2014 (glibc 2.17), with maturin and zig from
# target/py-tools (scripts/py-tools.sh), into OUTDIR; then checks it:
# the file name's tag, `auditwheel show`'s verdict, the native module's ELF
# machine (readelf -h) and the LICENSE in its dist-info. Prints the wheel's
# path as its last line.
#
# Usage: scripts/build-python-wheel.sh TARGET OUTDIR
#   TARGET: x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
me=build-python-wheel
[ $# -eq 2 ] || { echo "usage: $0 TARGET OUTDIR" >&2; exit 2; }
target="$1" out="$2"
case "$target" in
  x86_64-unknown-linux-gnu) arch=x86_64 machine="Advanced Micro Devices X86-64" ;;
  aarch64-unknown-linux-gnu) arch=aarch64 machine=AArch64 ;;
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

fail() { echo "$me: $(basename "$wheel"): $*" >&2; exit 1; }
shown="$("$tools/auditwheel" show "$wheel")"
grep -q "consistent with the following platform tag:" <<<"$shown" || fail "auditwheel show gave no platform tag: $shown"
tag="$(tr -s ' \n' ' ' <<<"$shown" | sed -n 's/.*consistent with the following platform tag: "\([^"]*\)".*/\1/p')"
[ "$tag" = "manylinux_2_17_$arch" ] || fail "auditwheel show says '$tag', expected manylinux_2_17_$arch (manylinux2014)"
listing="$(unzip -Z1 "$wheel")"
grep -qx "hystrix-$version.dist-info/licenses/LICENSE" <<<"$listing" || fail "no dist-info/licenses/LICENSE in: $listing"
so="$(grep -x 'hystrix/_hystrix.*\.so' <<<"$listing")" || fail "no native module hystrix/_hystrix*.so in: $listing"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
unzip -q -d "$scratch" "$wheel" "$so"
got="$(readelf -h "$scratch/$so" | sed -n 's/^ *Machine: *//p')"
[ "$got" = "$machine" ] || fail "$so is built for '$got', expected '$machine'"
echo "$me: $(basename "$wheel"): auditwheel: $tag, ELF machine: $got, LICENSE present, $(stat -c %s "$wheel") bytes" >&2
echo "$wheel"
