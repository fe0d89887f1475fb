#!/usr/bin/env bash
# Python retry benchmark (issue 13): hystrix beside tenacity and stamina
# (bindings-python/bench/retry.py). Not part of `make test`. Uses the venv
# target/py-test (made by scripts/python-env.sh when missing: rerun that
# after changing the binding) and installs the bench-only peers into it,
# pinned, when they are not there. HYSTRIX_BENCH_ROUNDS / _SLOT_MS tune it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$root/target/py-test/bin/python"
if ! "$py" -c "import hystrix" 2>/dev/null; then
  "$root/scripts/python-env.sh"
fi
peers=(tenacity==9.2.1 stamina==26.1.0)
if ! "$py" -c "
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    sys.exit(any(version(n) != v for n, v in (p.split('==') for p in sys.argv[1:])))
except PackageNotFoundError:
    sys.exit(1)
" "${peers[@]}"; then
  "$py" -m pip install --quiet "${peers[@]}"
fi
cd "$root/bindings-python/bench"
exec "$py" retry.py
