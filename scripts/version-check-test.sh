#!/usr/bin/env bash
# Tests scripts/version-check.sh: it passes on the repository, and fails on
# a copy where any one of the versioned files disagrees with Cargo.toml.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0
files=(Cargo.toml bindings-python/pyproject.toml bindings-wasm/js/package.json bindings-c/include/hystrix.h
       core/Cargo.toml bindings-c/Cargo.toml bindings-python/Cargo.toml bindings-wasm/Cargo.toml bindings-wasm/observer/Cargo.toml
       bindings-tower/Cargo.toml tests/conformance/rust/Cargo.toml)
fresh() {
    rm -rf "$tmp/r"
    for f in "${files[@]}"; do mkdir -p "$tmp/r/$(dirname "$f")" && cp "$root/$f" "$tmp/r/$f"; done
}
expect() { # pass|fail description
    if "$root/scripts/version-check.sh" "$tmp/r" >"$tmp/out" 2>&1; then got=pass; else got=fail; fi
    if [ "$got" = "$1" ]; then
        echo "ok: $2"
    else
        echo "FAILED: $2 (expected $1, got $got)"; cat "$tmp/out"; failed=1
    fi
}
fresh; expect pass "the repository's versions agree"
fresh; sed -i 's/^version = "\(.*\)"$/version = "9.9.9"/' "$tmp/r/bindings-python/pyproject.toml"
expect fail "pyproject.toml differs"
fresh; sed -i 's/"version": "[^"]*"/"version": "9.9.9"/' "$tmp/r/bindings-wasm/js/package.json"
expect fail "package.json differs"
fresh; sed -i 's/^#define HYSTRIX_VERSION_MINOR .*/#define HYSTRIX_VERSION_MINOR 99/' "$tmp/r/bindings-c/include/hystrix.h"
expect fail "the header's MINOR differs"
fresh; sed -i 's/^#define HYSTRIX_VERSION_STRING .*/#define HYSTRIX_VERSION_STRING "9.9.9"/' "$tmp/r/bindings-c/include/hystrix.h"
expect fail "the header's string differs"
fresh; sed -i '/^\[workspace.package\]/,/^\[/ s/^version = ".*"/version = "9.9.9"/' "$tmp/r/Cargo.toml"
expect fail "the workspace version moved alone"
fresh; sed -i 's/^version.workspace = true/version = "0.0.1"/' "$tmp/r/core/Cargo.toml"
expect fail "a crate states its own version"
fresh; sed -i 's/^\(hystrix-core = .*version = "\)[^"]*"/\10.0.9"/' "$tmp/r/bindings-tower/Cargo.toml"
expect fail "a path dependency requires another version"
fresh; sed -i '/^\[workspace.package\]/,/^\[/ {/^version = /d}' "$tmp/r/Cargo.toml"
expect fail "no workspace version"
[ "$failed" = 0 ] && echo "version-check-test: all cases passed"
exit "$failed"
