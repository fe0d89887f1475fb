#!/usr/bin/env bash
# Tests scripts/c-abi-check.sh on the library it builds against doctored
# copies of the baseline: the library must pass against the baseline itself
# and against one lacking a function (the library adds it: compatible), and
# fail against one with a function the library lacks (removed: incompatible)
# and one where hystrix_config's fields sit elsewhere (a layout change).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2
cargo build --quiet --profile abi -p hystrix-c || exit 2
lib=target/abi/libhystrix.so
base=bindings-c/abi/libhystrix.abi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0
expect() { # 0|1 description baseline
    scripts/c-abi-check.sh --lib "$lib" --baseline "$3" >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" = "$1" ]; then echo "ok: $2"; else echo "FAILED: $2 (exit $rc, expected $1)"; cat "$tmp/out"; failed=1; fi
}
expect 0 "the library against its committed baseline" "$base"

# hystrix_version absent from the baseline: the library adds a function.
python3 - "$base" "$tmp/added.abi" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r"\n *<elf-symbol name='hystrix_version' [^\n]*", "", s)
s, n = re.subn(r"\n *<function-decl name='hystrix_version' .*?</function-decl>", "", s, flags=re.S)
assert n == 1, "no hystrix_version function-decl in the baseline"
open(sys.argv[2], "w").write(s)
PY
expect 0 "a function added since the baseline is compatible" "$tmp/added.abi"

# The baseline has a function the library lacks: removed.
python3 - "$base" "$tmp/removed.abi" <<'PY'
import sys
s = open(sys.argv[1]).read()
n = s.count("'hystrix_version'")
assert n >= 3, "hystrix_version not found in the baseline"
open(sys.argv[2], "w").write(s.replace("'hystrix_version'", "'hystrix_version_removed'"))
PY
expect 1 "a function removed since the baseline is an incompatible change" "$tmp/removed.abi"

# hystrix_config's timeout_ms and max_concurrent_requests swapped in the baseline.
python3 - "$base" "$tmp/layout.abi" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"<class-decl name='hystrix_config' .*?</class-decl>", s, flags=re.S)
assert m, "no hystrix_config in the baseline"
c = m.group(0).replace("name='timeout_ms'", "name='@T'").replace("name='max_concurrent_requests'", "name='timeout_ms'").replace("name='@T'", "name='max_concurrent_requests'")
assert c != m.group(0)
open(sys.argv[2], "w").write(s[:m.start()] + c + s[m.end():])
PY
expect 1 "a layout change of hystrix_config is refused" "$tmp/layout.abi"

# The Rust innards of the opaque hystrix_command differ (a field fewer): not the ABI.
python3 - "$base" "$tmp/opaque.abi" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"<class-decl name='hystrix_command' .*?</class-decl>", s, flags=re.S)
assert m, "no hystrix_command in the baseline"
c, n = re.subn(r"\n *<data-member [^\n]*\n *<var-decl name='magic'[^\n]*\n *</data-member>", "", m.group(0))
assert n == 1, "no field 'magic' in hystrix_command"
open(sys.argv[2], "w").write(s[:m.start()] + c + s[m.end():])
PY
expect 0 "the innards of the opaque hystrix_command are not the ABI" "$tmp/opaque.abi"

[ "$failed" = 0 ] && echo "c-abi-check-test: all cases passed"
exit "$failed"
