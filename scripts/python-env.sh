#!/usr/bin/env bash
# Makes a FRESH virtualenv at target/py-test and installs the Python binding
# into it the way a user would (`pip install ./bindings-python`), plus the
# test tools. Used by `make test`; the Python conformance runner reuses it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/py-test"
rm -rf "$venv"
stamp_tmp="$(mktemp)"
if ! python3 -m venv "$venv" 2>/dev/null; then
  # Debian's own python3 needs python3-venv for this.
  rm -rf "$venv"
  apt-get update -qq && apt-get install -y -qq python3-venv
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "$root/bindings-python" pytest mypy ruff prometheus-client opentelemetry-api opentelemetry-sdk
"$venv/bin/python" -c "import hystrix, sys; print('python-env: hystrix installed into', sys.prefix)"
# The conformance runner reinstalls when sources are newer than this stamp,
# taken before the install so an edit made during it is not missed.
mv "$stamp_tmp" "$venv/.hystrix-sources"
