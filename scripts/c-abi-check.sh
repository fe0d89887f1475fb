#!/usr/bin/env bash
# The C ABI baseline check (part of `make test`; see bindings-c/README.md).
#
# Builds libhystrix.so with the `abi` profile (the release build plus DWARF
# for the hystrix-c crate, so that abidw sees the types of every exported
# function), dumps its ABI with abidw and compares it with the committed
# baseline bindings-c/abi/libhystrix.abi using abidiff.
#   - exits 0 when the library's ABI is the baseline's or a compatible
#     extension of it (functions added);
#   - exits 1 when abidiff reports an incompatible change (a function or
#     symbol removed) or a change to an existing function or type (a field
#     of hystrix_config moved, a parameter changed...), printing the report.
#
#   scripts/c-abi-check.sh --update   rewrites the baseline from the current
#                                     library: a deliberate act, committed with
#                                     the change that alters the ABI (and a
#                                     major version bump if it breaks it).
#   scripts/c-abi-check.sh --lib PATH compares PATH instead of building, and
#                                     --baseline PATH against PATH (for
#                                     scripts/c-abi-check-test.sh).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2
baseline=bindings-c/abi/libhystrix.abi
supp=bindings-c/abi/suppressions.txt
mode=check lib=
while [ $# -gt 0 ]; do
    case "$1" in
        --update) mode=update ;;
        --lib) lib="$2"; shift ;;
        --baseline) baseline="$2"; shift ;;
        *) echo "c-abi-check: unknown argument '$1' (use --update, --lib PATH, --baseline PATH)" >&2; exit 2 ;;
    esac
    shift
done
for tool in abidw abidiff; do
    command -v "$tool" >/dev/null || { echo "c-abi-check: $tool is missing (scripts/setup.sh installs abigail-tools)" >&2; exit 2; }
done
if [ -z "$lib" ]; then
    cargo build --quiet --profile abi -p hystrix-c || { echo "c-abi-check: cargo build --profile abi failed" >&2; exit 2; }
    lib=target/abi/libhystrix.so
fi
dump() { abidw --no-show-locs --no-comp-dir-path --no-corpus-path --suppressions "$supp" "$1"; }

if [ "$mode" = update ]; then
    dump "$lib" > "$baseline.tmp" && mv "$baseline.tmp" "$baseline" || { echo "c-abi-check: abidw failed" >&2; exit 2; }
    echo "c-abi-check: wrote $baseline from $lib; review and commit it"
    exit 0
fi

[ -f "$baseline" ] || { echo "c-abi-check: no baseline $baseline (scripts/c-abi-check.sh --update makes it)" >&2; exit 2; }
current="$(mktemp)"
trap 'rm -f "$current"' EXIT
dump "$lib" > "$current" || { echo "c-abi-check: abidw failed on $lib" >&2; exit 2; }
report="$(abidiff --no-added-syms --suppressions "$supp" "$baseline" "$current")"
rc=$?
# abidiff's exit status is a bit field: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
if [ $((rc & 3)) -ne 0 ]; then
    echo "$report"
    echo "c-abi-check: abidiff failed (exit $rc)" >&2
    exit 2
fi
if [ $((rc & 12)) -ne 0 ]; then
    echo "$report"
    if [ $((rc & 8)) -ne 0 ]; then what="an INCOMPATIBLE change"; else what="a change to existing functions or types"; fi
    echo "c-abi-check: FAILED: libhystrix.so has $what against $baseline (above)." >&2
    echo "  If it is deliberate: bump the major version (a break) or keep the change additive, then" >&2
    echo "  refresh the baseline with scripts/c-abi-check.sh --update and commit it." >&2
    exit 1
fi
echo "c-abi-check: libhystrix.so's ABI is the baseline's ($baseline) or extends it"
