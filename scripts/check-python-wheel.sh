#!/usr/bin/env bash
# Checks a built hystrix wheel for one architecture: its file name carries
# the abi3 manylinux2014 tags, its dist-info holds licenses/LICENSE, its
# native module is an ELF file for ARCH (readelf -h), and `auditwheel show`
# finds it consistent with manylinux_2_17_ARCH (glibc 2.17). Fails naming
# the first check that did not hold. Uses auditwheel from target/py-tools
# (scripts/py-tools.sh).
#
# Usage: scripts/check-python-wheel.sh WHEEL ARCH   (ARCH: x86_64 or aarch64)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 WHEEL ARCH" >&2; exit 2; }
wheel="$1" arch="$2"
case "$arch" in
  x86_64) machine="Advanced Micro Devices X86-64" ;;
  aarch64) machine=AArch64 ;;
  *) echo "check-python-wheel: unsupported ARCH '$arch' (x86_64 or aarch64)" >&2; exit 2 ;;
esac
fail() { echo "check-python-wheel: $(basename "$wheel"): $*" >&2; exit 1; }
[ -f "$wheel" ] || fail "no such file"
name="$(basename "$wheel")"
[[ "$name" =~ ^hystrix-([0-9]+\.[0-9]+\.[0-9]+)-cp39-abi3-manylinux2014_${arch}\.manylinux_2_17_${arch}\.whl$ ]] ||
  fail "the file name is not hystrix-VERSION-cp39-abi3-manylinux2014_$arch.manylinux_2_17_$arch.whl"
version="${BASH_REMATCH[1]}"

listing="$(unzip -Z1 "$wheel")"
grep -qx "hystrix-$version.dist-info/licenses/LICENSE" <<<"$listing" ||
  fail "no hystrix-$version.dist-info/licenses/LICENSE in the wheel"
so="$(grep -x 'hystrix/_hystrix\..*so' <<<"$listing")" || fail "no native module hystrix/_hystrix.*so in the wheel"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
unzip -q -d "$scratch" "$wheel" "$so"
got="$(readelf -h "$scratch/$so" | sed -n 's/^ *Machine: *//p')"
[ "$got" = "$machine" ] || fail "$so is built for '${got:-not ELF}', expected '$machine'"

"$root/scripts/py-tools.sh" >&2
shown="$("$root/target/py-tools/bin/auditwheel" show "$wheel" 2>&1)" || fail "auditwheel show failed: $shown"
tag="$(tr -s ' \n' ' ' <<<"$shown" | sed -n 's/.*consistent with the following platform tag: "\([^"]*\)".*/\1/p')"
[ "$tag" = "manylinux_2_17_$arch" ] ||
  fail "auditwheel show says '${tag:-no tag}', expected manylinux_2_17_$arch (manylinux2014): $shown"
echo "check-python-wheel: $name: auditwheel: $tag, ELF machine: $got, LICENSE present, $(stat -c %s "$wheel") bytes"
