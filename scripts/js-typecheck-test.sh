#!/usr/bin/env bash
# Tests scripts/js-typecheck.sh: it passes on a copy of bindings-wasm/js,
# and fails on a copy with seven type errors, each in its own file and each
# reported there with its TypeScript code: a misspelt wasm method, a wrong
# argument count, a possibly null value passed on, a parameter without a
# type, index.d.ts disagreeing with the glue (a setting the glue maps
# missing from CommandSettings), an export the .d.ts declares missing, and
# a Node API (Buffer) in a module browsers load.
# The copy shares this repository's target/npm (wasm-bindgen declarations)
# and target/js-tools (tsc, @types/node) through symlinks.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/r/target" "$tmp/r/bindings-wasm"
ln -s "$root/target/npm" "$tmp/r/target/npm"
ln -s "$root/target/js-tools" "$tmp/r/target/js-tools"
failed=0
fresh() {
    rm -rf "$tmp/r/bindings-wasm/js"
    cp -r "$root/bindings-wasm/js" "$tmp/r/bindings-wasm/js"
}
# mutate FILE SED-EXPRESSION: applies it, and fails the test if it changed nothing.
mutate() {
    local f="$tmp/r/bindings-wasm/js/$1"
    cp "$f" "$tmp/before"
    sed -i "$2" "$f"
    if cmp -s "$f" "$tmp/before"; then
        echo "FAILED: the mutation '$2' of $1 changed nothing (the glue moved on: update this test)"; failed=1
    fi
}
check() { # out-file: runs the check on the copy; pass or fail
    if "$root/scripts/js-typecheck.sh" "$tmp/r" >"$1" 2>&1; then echo pass; else echo fail; fi
}
# One copy for every error (one tsc run): each is in its own file, and each
# must be reported there with its code.
fresh
[ "$(check "$tmp/out")" = pass ] && echo "ok: the glue as it is type-checks" ||
    { echo "FAILED: the glue as it is does not type-check"; cat "$tmp/out"; failed=1; }
mutate call.mjs '0,/this\.circuit\.wasm\.input(/s//this.circuit.wasm.inputs(/'
mutate command.mjs 's/c\.wasm\.noteListenerError();/c.wasm.noteListenerError(1);/'
mutate timers.mjs 's|const t = /\*\* @type {Timer} \*/ (b.head);|const t = b.head;|'
printf '\nexport function untyped(x) {\n  return x;\n}\n' >>"$tmp/r/bindings-wasm/js/errors.mjs"
mutate index.d.ts '/^  gradient2QueueSize?: number;$/d'
mutate api.mjs 's/^export { configure, removeCommand } from/export { configure } from/'
printf '\n/** Node only. */\nexport const nodeOnly = Buffer.byteLength("x");\n' >>"$tmp/r/bindings-wasm/js/snapshot.mjs"
if [ "$(check "$tmp/out")" = pass ]; then
    echo "FAILED: the check passed a copy with seven type errors"; failed=1
fi
while IFS='|' read -r file code what; do
    if grep -q "js/$file([0-9]*,[0-9]*): error $code:" "$tmp/out"; then echo "ok: $what ($file, $code)"
    else echo "FAILED: $what: no $code in $file"; failed=1; fi
done <<'CASES'
call.mjs|TS2551|a misspelt WasmCommand method
command.mjs|TS2554|a wasm method called with a wrong argument count
timers.mjs|TS2345|a possibly null timer passed on
errors.mjs|TS7006|a parameter without a type (strict)
options.mjs|TS2353|index.d.ts missing a setting the glue maps
exports.check.ts|TS2322|an export index.d.ts declares missing from the glue
snapshot.mjs|TS2591|a Node API (Buffer) in a module browsers load
CASES
[ "$failed" -eq 0 ] || { cat "$tmp/out"; echo "js-typecheck-test: FAILED" >&2; exit 1; }
echo "js-typecheck-test: the check passes the glue and reports each of 7 type errors"
