#!/usr/bin/env bash
# `make test`'s runner: the shared builds once, then every named check as
# its own `make` run, going on past a failure, and at the end a summary of
# every step (ok / FAILED and its time). Exits 1 if any step failed.
#   scripts/test-steps.sh "BUILD..." STEP...
# The builds (the C library, the Python venv, the npm package) run first;
# the checks then run with `make -o BUILD` for each, so the builds they
# declare as prerequisites are not redone step after step (each no-op
# rebuild costs seconds).
# Steps run one at a time (several heavy builds at once do not fit a
# 2-core machine): a `-j` given to `make test`, and its jobserver, are not
# passed on, so each step's make runs one job without a jobserver warning.
set -uo pipefail
cd "$(dirname "$0")/.."
make_cmd="${HYSTRIX_MAKE:-make}"
MAKEFLAGS="$(printf '%s' "${MAKEFLAGS:-}" | sed -E 's/(^| )-j[0-9]*//g; s/(^| )--jobserver-(auth|fds)=[^ ]*//g')"
export MAKEFLAGS
builds=($1)
shift
old=()
for b in "${builds[@]}"; do old+=(-o "$b"); done

summary=()
failed=()
run() { # run NAME make-args...
  local name=$1 t0=$SECONDS status
  shift
  printf '\n==== make %s\n' "$name"
  if "$make_cmd" --no-print-directory "$@"; then status=ok; else status=FAILED; failed+=("$name"); fi
  summary+=("$(printf '  %-20s %-6s %5d s' "$name" "$status" $((SECONDS - t0)))")
}

for b in "${builds[@]}"; do run "$b" "$b"; done
for step in "$@"; do run "$step" "${old[@]}" "$step"; done

printf '\n==== make test: %d steps, %d s\n' $((${#builds[@]} + $#)) "$SECONDS"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'make test: FAILED: %s\n' "${failed[*]}"
  exit 1
fi
echo "make test: all checks passed"
