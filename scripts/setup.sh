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
