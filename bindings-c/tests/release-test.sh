#!/usr/bin/env bash
# The C release tarball as a user without Rust gets it (`make c-release-test`):
# 1. scripts/dist-c.sh makes hystrix-c-<version>-linux-<arch>.tar.gz with
#    exactly the header, both libraries (the .so with its two symlinks),
#    hystrix.pc, LICENSE, README.md and examples/flaky.c;
# 2. unpacked into a scratch dir, with every PATH entry holding cargo or
#    rustc removed, examples/flaky.c builds with only cc and pkg-config
#    (PKG_CONFIG_PATH = the unpacked lib/pkgconfig; hystrix.pc is relocatable,
#    prefix=${pcfiledir}/../..), dynamically (it loads the unpacked
#    libhystrix.so.X through the run path, no LD_LIBRARY_PATH) and with
#    `pkg-config --static` against libhystrix.a (no libhystrix.so needed);
#    both programs run.
# Exits non-zero, saying which step failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"
major="${version%%.*}"
name="hystrix-c-$version-linux-$(uname -m)"
work="$root/target/c-release-test"
fail() { echo "c-release-test: FAILED: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/out" "$work/unpacked"

# 1. The tarball and its exact contents.
tarball="$(scripts/dist-c.sh "$work/out")"
[ "$tarball" = "$work/out/$name.tar.gz" ] || fail "dist-c.sh made '$tarball', expected $work/out/$name.tar.gz"
expected="$(printf '%s\n' LICENSE README.md examples/flaky.c include/hystrix.h lib/libhystrix.a lib/libhystrix.so \
    "lib/libhystrix.so.$major" "lib/libhystrix.so.$version" lib/pkgconfig/hystrix.pc | sed "s|^|$name/|" | sort)"
got="$(tar tzf "$tarball" | grep -v '/$' | sort)"
[ "$got" = "$expected" ] || fail "the tarball's files differ; expected:
$expected
got:
$got"
tar xzf "$tarball" -C "$work/unpacked"
u="$work/unpacked/$name"
[ "$(readlink "$u/lib/libhystrix.so.$major")" = "libhystrix.so.$version" ] || fail "libhystrix.so.$major does not point to libhystrix.so.$version"
[ "$(readlink "$u/lib/libhystrix.so")" = "libhystrix.so.$major" ] || fail "libhystrix.so does not point to libhystrix.so.$major"
grep -qx 'prefix=${pcfiledir}/../..' "$u/lib/pkgconfig/hystrix.pc" || fail "hystrix.pc is not relocatable: $(grep '^prefix=' "$u/lib/pkgconfig/hystrix.pc")"
grep -q "Apache License" "$u/LICENSE" || fail "LICENSE is not the Apache license"

# 2. A machine without Rust: drop every PATH entry that has cargo or rustc.
path=""
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
    [ -x "$d/cargo" ] || [ -x "$d/rustc" ] || path="${path:+$path:}$d"
done
cd "$u"
(
    export PATH="$path" PKG_CONFIG_PATH="$u/lib/pkgconfig" PKG_CONFIG_LIBDIR=
    unset PKG_CONFIG_SYSROOT_DIR LD_LIBRARY_PATH
    if command -v cargo >/dev/null || command -v rustc >/dev/null; then fail "cargo or rustc is still on PATH"; fi
    [ "$(pkg-config --modversion hystrix)" = "$version" ] || fail "pkg-config --modversion hystrix says $(pkg-config --modversion hystrix), expected $version"
    cflags=(-std=c11 -Wall -Wextra -Werror)
    # shellcheck disable=SC2046
    cc "${cflags[@]}" examples/flaky.c $(pkg-config --cflags --libs hystrix) -o "$work/flaky-dynamic" \
        || fail "the dynamic build with 'pkg-config --cflags --libs hystrix' failed"
    ldd_dyn="$(ldd "$work/flaky-dynamic")"
    # (the run path is ${libdir} as pkg-config expanded it: $u/lib/pkgconfig/../../lib)
    grep -q "libhystrix.so.$major => $u/lib/.*libhystrix.so.$major" <<<"$ldd_dyn" \
        || fail "the dynamic example does not load the unpacked libhystrix.so.$major:
$ldd_dyn"
    "$work/flaky-dynamic" >"$work/dynamic.out" || fail "the dynamically linked example failed"
    static_libs="$(pkg-config --static --libs hystrix)"
    # shellcheck disable=SC2086
    cc "${cflags[@]}" examples/flaky.c $(pkg-config --cflags hystrix) ${static_libs//-lhystrix/-l:libhystrix.a} \
        -o "$work/flaky-static" || fail "linking libhystrix.a with 'pkg-config --static --libs hystrix' ($static_libs) failed"
    if ldd "$work/flaky-static" | grep -q libhystrix; then fail "the statically linked example still needs libhystrix.so"; fi
    "$work/flaky-static" >"$work/static.out" || fail "the statically linked example failed"
    for out in dynamic static; do
        grep -q "circuit closed -> open" "$work/$out.out" && grep -q "^final: state=closed" "$work/$out.out" \
            || fail "the $out example did not trip and recover: $(cat "$work/$out.out")"
    done
)
rm -rf "$work"
echo "c-release-test: $name.tar.gz: exact contents, relocatable hystrix.pc; flaky.c built with cc + pkg-config only (no cargo/rustc on PATH), dynamic and static, both ran"
