#!/usr/bin/env bash
# Builds libhystrix, compiles every bindings-c/tests/*.c against the static
# library into target/c-tests/<name>, runs each under valgrind (memory
# errors and leaks of every kind fail the run: each program ends with
# hystrix_shutdown, after which nothing may be left but the blocks that
# valgrind.supp names, kept on purpose by a dependency), prints
# each program's summary line, and exits non-zero if any program failed.
#
# Each program is also built with AddressSanitizer and UndefinedBehavior-
# Sanitizer (when the compiler has them; ASan alone if it lacks UBSan) and
# run with freed memory filled with garbage: the Rust library is not
# instrumented, but a read of freed memory then crashes instead of quietly
# seeing stale values, and undefined behaviour in a test program (signed
# overflow, a misaligned or NULL access, a bad shift...) stops it
# (-fno-sanitize-recover=undefined), failing the run.
#
# Environment: CC (default cc), VALGRIND=0 to run without valgrind,
# ASAN=0 to skip the sanitizer builds, TEST_TIMEOUT seconds per
# program (default 120).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root" || exit 2
out="$root/target/c-tests"
mkdir -p "$out"

cargo build --quiet --release -p hystrix-c || { echo "run.sh: cargo build failed" >&2; exit 2; }

cc="${CC:-cc}"
cflags=(-std=c11 -Wall -Wextra -Werror -pthread -I bindings-c/include)
libs=(target/release/libhystrix.a -lpthread -ldl -lm)
vg=(valgrind -q --error-exitcode=9 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all
    --suppressions=bindings-c/tests/valgrind.supp)
[ "${VALGRIND:-1}" = 0 ] && vg=()
limit="${TEST_TIMEOUT:-120}"
asan="${ASAN:-1}"
# Whether $cc accepts these flags (and links a program with them).
accepts() {
    echo 'int main(void) { return 0; }' | "$cc" "$@" -x c - -o "$out/sanitizer-probe" 2>/dev/null
}
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
if [ "$asan" = 1 ] && ! accepts "${sanitize[@]}"; then
    sanitize=(-fsanitize=address)
    if accepts "${sanitize[@]}"; then
        echo "run.sh: $cc has no -fsanitize=undefined; sanitizer builds use AddressSanitizer alone"
    else
        echo "run.sh: $cc has no -fsanitize=address; sanitizer builds skipped"
        asan=0
    fi
fi
export ASAN_OPTIONS="detect_leaks=0:max_free_fill_size=65536:free_fill_byte=190"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

failed=0
programs=0
for src in bindings-c/tests/*.c; do
    name="$(basename "$src" .c)"
    programs=$((programs + 1))
    if ! "$cc" "${cflags[@]}" "$src" "${libs[@]}" -o "$out/$name" 2>"$out/$name.build.log"; then
        cat "$out/$name.build.log" >&2
        echo "$name: FAILED to compile"
        failed=$((failed + 1))
        continue
    fi
    timeout "$limit" "${vg[@]}" "$out/$name" >"$out/$name.out" 2>"$out/$name.err"
    rc=$?
    summary="$(tail -n 1 "$out/$name.out")"
    if [ "$rc" -eq 0 ]; then
        echo "${summary:-$name: (no summary line)}"
    else
        case "$rc" in
            9) why="valgrind reported errors" ;;
            124) why="timed out after ${limit}s" ;;
            *) why="exit code $rc" ;;
        esac
        echo "----- $name stderr -----" >&2
        cat "$out/$name.err" >&2
        echo "${summary:-$name: (no summary line)}"
        echo "$name: FAILED ($why)"
        failed=$((failed + 1))
        continue
    fi
    [ "$asan" = 1 ] || continue
    if ! "$cc" "${cflags[@]}" "${sanitize[@]}" -g "$src" "${libs[@]}" -o "$out/$name-asan" 2>"$out/$name-asan.build.log"; then
        cat "$out/$name-asan.build.log" >&2
        echo "$name (sanitizers): FAILED to compile"
        failed=$((failed + 1))
        continue
    fi
    if ! timeout "$limit" "$out/$name-asan" >"$out/$name-asan.out" 2>"$out/$name-asan.err"; then
        echo "----- $name (sanitizers) stderr -----" >&2
        cat "$out/$name-asan.err" >&2
        echo "$name (sanitizers): FAILED"
        failed=$((failed + 1))
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "c tests: $failed of $programs programs failed"
    exit 1
fi
echo "c tests: all $programs programs passed"
