#!/usr/bin/env bash
# One version for the whole project: `[workspace.package] version` in the
# workspace Cargo.toml. Fails (naming the file and both versions) when the
# Python package, the npm package, the C header's macros, or any crate that
# does not inherit it disagrees.
#
# Usage: scripts/version-check.sh [ROOT]   (ROOT defaults to the repository;
# the test of this script points it at a doctored copy).
set -uo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root" || exit 2

# The `version = "..."` line of the [workspace.package] table.
want="$(awk '/^\[/{t=$0} t=="[workspace.package]" && /^version *= *"/{gsub(/^version *= *"|".*$/,""); print; exit}' Cargo.toml)"
if ! [[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "version-check: Cargo.toml has no [workspace.package] version = \"MAJOR.MINOR.PATCH\" (found '${want}')" >&2
    exit 1
fi
IFS=. read -r major minor patch <<<"$want"
bad=0
differs() { # file what found
    echo "version-check: $1: $2 is '$3', the workspace version (Cargo.toml) is '$want'" >&2
    bad=1
}

py="$(awk '/^\[/{t=$0} t=="[project]" && /^version *= *"/{gsub(/^version *= *"|".*$/,""); print; exit}' bindings-python/pyproject.toml)"
[ "$py" = "$want" ] || differs bindings-python/pyproject.toml "[project] version" "$py"

js="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' bindings-wasm/js/package.json 2>/dev/null)"
[ "$js" = "$want" ] || differs bindings-wasm/js/package.json '"version"' "$js"

h=bindings-c/include/hystrix.h
for part in MAJOR:$major MINOR:$minor PATCH:$patch STRING:\"$want\"; do
    name="${part%%:*}" value="${part#*:}"
    got="$(sed -n "s/^#define HYSTRIX_VERSION_$name \(.*\)$/\1/p" "$h")"
    [ "$got" = "$value" ] || differs "$h" "HYSTRIX_VERSION_$name" "$got (make header regenerates it)"
done

# Every crate inherits the version rather than stating its own.
members="$(sed -n 's/^members *= *\[\(.*\)\]/\1/p' Cargo.toml | tr -d '"' | tr ',' ' ')"
for m in $members; do
    grep -q '^version\.workspace *= *true' "$m/Cargo.toml" ||
        differs "$m/Cargo.toml" "the package version" "$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$m/Cargo.toml" | head -1) (use version.workspace = true)"
done

# A path dependency that also states a version (so the crate can be
# published, e.g. hystrix-tower on hystrix-core) requires this version.
for m in $members; do
    while IFS= read -r line; do
        got="$(sed -n 's/.*version *= *"[=^~]*\([^"]*\)".*/\1/p' <<<"$line")"
        [ "$got" = "$want" ] || differs "$m/Cargo.toml" "the version of path dependency ${line%%[ =]*}" "$got"
    done < <(grep -E '^[A-Za-z0-9_-]+ *= *\{.*path *= *"' "$m/Cargo.toml" | grep -E 'version *= *"')
done

[ "$bad" = 0 ] || exit 1
echo "version-check: every package carries version $want"
