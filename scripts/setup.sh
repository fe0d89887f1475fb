#!/usr/bin/env bash
# Installs whatever a fresh machine lacks for `make demo` / `make test`.
# Idempotent: each step checks before it installs.
set -euo pipefail
need_component() {
  if ! cargo "$1" --version >/dev/null 2>&1; then
    rustup component add "$2"
  fi
}
command -v cargo >/dev/null || { echo "setup: cargo is required (rustup toolchain)" >&2; exit 1; }
need_component fmt rustfmt
need_component clippy clippy
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
# C toolchain and checkers (present on a fresh machine of this kind; installed if not).
missing=()
for tool in cc:gcc make:make valgrind:valgrind pkg-config:pkg-config python3:python3; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
