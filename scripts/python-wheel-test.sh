#!/usr/bin/env bash
# The release wheel works where there is no Rust. Builds the x86_64
# manylinux2014 abi3 wheel once (scripts/build-python-wheel.sh, which checks
# its tag with auditwheel, its ELF machine and its LICENSE; and
# scripts/check-python-wheel-test.sh shows those checks fail on doctored
# copies), then on the oldest and newest CPython that pyenv has here (3.9
# and 3.13), each in a fresh venv, with no cargo or rustc on PATH and CARGO, CARGO_HOME and
# RUSTUP_HOME pointing nowhere:
#   - `pip install --no-index WHEEL` (the package has no dependencies),
#   - scripts/python-wheel-smoke.py (import from the venv, __version__ is the
#     workspace version, a command that succeeds, one that falls back),
#   - examples/python/flaky_service.py and the pytest suite
#     (bindings-python/tests; pytest, prometheus-client and the OpenTelemetry
#     API and SDK come from the index, as wheels).
# Last, `pip install ./bindings-python` in that setting must fail at once
# with the build backend's message, not download a Rust toolchain.
# Skips (saying so) a CPython version that pyenv does not have here.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
me=python-wheel-test
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml")"
wheel="$("$root/scripts/build-python-wheel.sh" x86_64-unknown-linux-gnu "$root/target/py-wheel" | tail -1)"
# The checks on it can fail: doctored copies must be rejected. The native
# module that `make python-env` built against this machine's glibc (when it
# needs one newer than 2.17) stands in for a wheel that is not manylinux2014.
newer_so="$(ls "$root"/target/py-test/lib/python3*/site-packages/hystrix/_hystrix.abi3.so 2>/dev/null | head -1 || true)"
if [ -n "$newer_so" ] && ! readelf -V "$newer_so" | grep -q 'GLIBC_2\.\(1[89]\|[2-9][0-9]\)'; then
  newer_so=""
fi
"$root/scripts/check-python-wheel-test.sh" "$wheel" ${newer_so:+"$newer_so"}

# PATH less every directory that holds cargo or rustc.
norust_path=""
IFS=: read -ra dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  [ -n "$dir" ] && [ ! -e "$dir/cargo" ] && [ ! -e "$dir/rustc" ] && norust_path="${norust_path:+$norust_path:}$dir"
done
no_rust() { # VENV CMD...: CMD in VENV with no Rust toolchain reachable
  local venv="$1"
  shift
  env -u PYTHONPATH -u VIRTUAL_ENV PATH="$venv/bin:$norust_path" \
    CARGO=/nonexistent CARGO_HOME=/nonexistent RUSTUP_HOME=/nonexistent "$@"
}

last_venv=""
for minor in 3.9 3.13; do
  py="$(ls -d "$HOME"/.pyenv/versions/"$minor".*/bin/python 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$py" ]; then
    echo "$me: no CPython $minor under pyenv here; skipped"
    continue
  fi
  venv="$root/target/py-wheel-$minor"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  if no_rust "$venv" bash -c 'command -v cargo || command -v rustc'; then
    echo "$me: cargo or rustc is still reachable with PATH=$norust_path" >&2
    exit 1
  fi
  no_rust "$venv" pip install --quiet --disable-pip-version-check --no-index "$wheel"
  # And the metric libraries the observe bridges' tests pass in (pure-Python wheels).
  no_rust "$venv" pip install --quiet --disable-pip-version-check --only-binary :all: pytest \
    prometheus-client opentelemetry-api opentelemetry-sdk
  echo "$me: $(basename "$wheel") on $("$venv/bin/python" --version), no Rust on PATH"
  (cd "$root/target" && no_rust "$venv" python "$root/scripts/python-wheel-smoke.py" "$version")
  (cd "$root/target" && no_rust "$venv" python "$root/examples/python/flaky_service.py" > /dev/null)
  (cd "$root/target" && no_rust "$venv" python -m pytest -q -p no:cacheprovider "$root/bindings-python/tests")
  last_venv="$venv"
done
[ -n "$last_venv" ] || { echo "$me: neither CPython 3.9 nor 3.13 is under pyenv here" >&2; exit 1; }

# From source without Rust: a clear refusal, quickly, and nothing downloaded.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
start=$SECONDS
if no_rust "$last_venv" pip install --disable-pip-version-check "$root/bindings-python" > "$log" 2>&1; then
  echo "$me: pip install ./bindings-python succeeded with no Rust on PATH (what built it?)" >&2
  cat "$log" >&2
  exit 1
fi
if ! grep -q 'needs Rust, and no `cargo` was found on PATH' "$log" || grep -qi puccinialin "$log"; then
  echo "$me: pip install ./bindings-python without Rust did not fail with the build backend's message:" >&2
  cat "$log" >&2
  exit 1
fi
echo "$me: pip install ./bindings-python without Rust refused with the build backend's message in $((SECONDS - start)) s"
