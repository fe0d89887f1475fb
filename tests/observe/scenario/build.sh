#!/usr/bin/env bash
# Builds what tests/observe/ runs, when missing or older than its sources:
# the Rust examples (observe_server, observe_scenario), libhystrix.a and the
# C scenario program (target/observe/scenario-c), the npm package
# (scripts/build-npm.sh) and the Python venv target/py-test
# (scripts/python-env.sh). Used by `make observe-test`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"
cargo build --quiet -p hystrix-core --example observe_server --example observe_scenario
cargo build --quiet --release -p hystrix-c
mkdir -p target/observe
bin=target/observe/scenario-c
if [ ! -x "$bin" ] || [ target/release/libhystrix.a -nt "$bin" ] || [ "$here/scenario.c" -nt "$bin" ]; then
  ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I bindings-c/include "$here/scenario.c" target/release/libhystrix.a \
    -lpthread -ldl -lm -o "$bin.tmp"
  mv -f "$bin.tmp" "$bin"
fi
# The npm package: rebuilt when a source of it is newer than its glue.
pkg=target/npm/hystrix
if [ ! -f "$pkg/observe.mjs" ] || [ -n "$(find core/src bindings-wasm Cargo.lock -newer "$pkg/observe.mjs" -type f \
     \( -name '*.rs' -o -name '*.mjs' -o -name '*.d.ts' -o -name '*.json' -o -name '*.toml' -o -name '*.lock' -o -name '*.html' -o -name '*.js' \) \
     -not -path '*/test/*' -print -quit)" ]; then
  scripts/build-npm.sh >/dev/null
fi
# The venv: reinstalled when the package is missing or older than its
# sources (python-env.sh stamps it), as the Python conformance runner does.
venv=target/py-test
stamp="$venv/.hystrix-sources"
if ! "$venv/bin/python" -c "import hystrix.observe" >/dev/null 2>&1 || [ ! -f "$stamp" ] \
  || [ -n "$(find core/src bindings-python Cargo.toml Cargo.lock -newer "$stamp" -type f \
         \( -name '*.rs' -o -name '*.py' -o -name '*.pyi' -o -name '*.toml' -o -name '*.lock' -o -name '*.html' -o -name '*.js' \) \
         -not -path '*/tests/*' -print -quit)" ]; then
  scripts/python-env.sh >/dev/null
fi
