#!/usr/bin/env bash
# Shows that scripts/check-python-wheel.sh can fail: it passes the real
# x86_64 wheel, then rejects doctored copies of it, each for its own reason
# (a file name without the manylinux tags, a wheel checked as the wrong
# architecture, one without its LICENSE, one whose native module needs a
# newer glibc than 2.17). Run by scripts/python-wheel-test.sh.
#
# Usage: scripts/check-python-wheel-test.sh WHEEL [NEWER_GLIBC_SO]
#   WHEEL: the x86_64 manylinux2014 wheel; NEWER_GLIBC_SO: a build of
#   hystrix/_hystrix.abi3.so linked against this machine's glibc (the case
#   is skipped, saying so, without it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
me=check-python-wheel-test
[ $# -ge 1 ] || { echo "usage: $0 WHEEL [NEWER_GLIBC_SO]" >&2; exit 2; }
good="$1" newer_so="${2:-}"
check="$root/scripts/check-python-wheel.sh"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
name="$(basename "$good")"

# doctor SRC DEST [DROP_SUFFIX [REPLACE_SUFFIX FILE]]: copies a wheel,
# leaving out the member ending in DROP_SUFFIX, or replacing the member
# ending in REPLACE_SUFFIX with FILE.
doctor() {
  python3 - "$@" <<'PY'
import sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
drop = sys.argv[3] if len(sys.argv) > 3 else None
replace = sys.argv[4:6] if len(sys.argv) > 5 else None
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        if drop and item.filename.endswith(drop):
            continue
        data = zin.read(item)
        if replace and item.filename.endswith(replace[0]):
            data = open(replace[1], "rb").read()
        zout.writestr(item, data)
PY
}

"$check" "$good" x86_64 > /dev/null || { echo "$me: the real wheel $name did not pass" >&2; exit 1; }

failures=0
must_fail() { # WHAT EXPECTED_MESSAGE WHEEL ARCH
  local out
  if out="$("$check" "$3" "$4" 2>&1)"; then
    echo "$me: $1: passed, but must fail" >&2
    failures=$((failures + 1))
  elif ! grep -qF -- "$2" <<<"$out"; then
    echo "$me: $1: failed without saying '$2': $out" >&2
    failures=$((failures + 1))
  fi
}

cp "$good" "$scratch/hystrix-0.1.0-cp39-abi3-linux_x86_64.whl"
must_fail "a plain linux_x86_64 name" "the file name is not" "$scratch/hystrix-0.1.0-cp39-abi3-linux_x86_64.whl" x86_64

arm_name="${name//x86_64/aarch64}"
cp "$good" "$scratch/$arm_name"
must_fail "the x86_64 wheel checked as aarch64" "expected 'AArch64'" "$scratch/$arm_name" aarch64

mkdir "$scratch/no-license"
doctor "$good" "$scratch/no-license/$name" dist-info/licenses/LICENSE
must_fail "a wheel without LICENSE" "licenses/LICENSE in the wheel" "$scratch/no-license/$name" x86_64

if [ -n "$newer_so" ] && [ -f "$newer_so" ]; then
  mkdir "$scratch/newer-glibc"
  doctor "$good" "$scratch/newer-glibc/$name" "" .abi3.so "$newer_so"
  must_fail "a native module linked against a newer glibc" "expected manylinux_2_17_x86_64" "$scratch/newer-glibc/$name" x86_64
else
  echo "$me: no native module built against this machine's glibc given; that case skipped"
fi

[ "$failures" -eq 0 ] || exit 1
echo "$me: the real wheel passes; every doctored copy is rejected for its reason"
