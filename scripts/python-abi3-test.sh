#!/usr/bin/env bash
# Builds the one abi3 wheel (cp39-abi3) and runs the pytest suite with it on
# the oldest and newest CPython that pyenv has here (3.9 and 3.13).
# Skips (saying so) the versions that are not installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
wheels="$root/target/wheels"
rm -rf "$wheels"
"$root/target/py-test/bin/pip" wheel --quiet --no-deps -w "$wheels" "$root/bindings-python"
wheel="$(ls "$wheels"/hystrix-*.whl)"
for minor in 3.9 3.13; do
  py="$(ls -d "$HOME"/.pyenv/versions/"$minor".*/bin/python 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$py" ]; then
    echo "python-abi3-test: no CPython $minor under pyenv here; skipped"
    continue
  fi
  venv="$root/target/py-abi3-$minor"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet "$wheel" pytest
  echo "python-abi3-test: $(basename "$wheel") on $("$venv/bin/python" --version)"
  (cd "$root/target" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/bindings-python/tests")
done
