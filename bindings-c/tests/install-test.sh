#!/usr/bin/env bash
# The install as a user gets it (`make c-install-test`):
# 1. `make install DESTDIR=<scratch> PREFIX=/opt/hystrix-install-test` puts
#    exactly the header, libhystrix.a, libhystrix.so.X.Y.Z with its
#    symlinks libhystrix.so.X and libhystrix.so, and hystrix.pc there;
# 2. the shared library's SONAME is libhystrix.so.X (readelf -d) and every
#    symbol it exports starts with hystrix_ (nm -D --defined-only);
# 3. examples/c/flaky.c built with `pkg-config --cflags --libs hystrix`
#    against the staged install runs (with LD_LIBRARY_PATH: PREFIX itself
#    does not exist) and needs libhystrix.so.X;
# 4. built with `pkg-config --static --libs hystrix` against libhystrix.a it
#    runs and does not need libhystrix.so at all (ldd);
# 5. `make uninstall` with the same DESTDIR and PREFIX leaves no hystrix file.
# Exits non-zero, saying which step failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
make="${MAKE:-make}"
cc="${CC:-cc}"
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"
major="${version%%.*}"
prefix=/opt/hystrix-install-test
dest="$root/target/install-test"
lib="$dest$prefix/lib"
fail() { echo "c-install-test: FAILED: $*" >&2; exit 1; }
[ ! -e "$prefix" ] || fail "$prefix exists on this machine; the test needs it absent"

rm -rf "$dest"
mkdir -p "$dest"
# A relative PREFIX is refused with a message, before anything is installed.
if (cd "$dest" && "$make" --no-print-directory -s -C "$root" install DESTDIR="$dest" PREFIX=relative/prefix >"$dest/.out" 2>&1); then
    fail "make install accepted PREFIX=relative/prefix"
fi
grep -q "PREFIX must be an absolute path" "$dest/.out" || fail "make install PREFIX=relative/prefix said: $(cat "$dest/.out")"
[ -z "$(find "$dest" -name '*hystrix*')" ] || fail "make install with a relative PREFIX installed files"
rm -f "$dest/.out"
"$make" --no-print-directory -s install DESTDIR="$dest" PREFIX="$prefix" >/dev/null

# 1. Exactly these files, the .so symlinks pointing the usual way.
expected="$(printf '%s\n' "$prefix/include/hystrix.h" "$prefix/lib/libhystrix.a" "$prefix/lib/libhystrix.so" \
    "$prefix/lib/libhystrix.so.$major" "$prefix/lib/libhystrix.so.$version" "$prefix/lib/pkgconfig/hystrix.pc" | sort)"
got="$(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort)"
[ "$got" = "$expected" ] || fail "installed files differ; expected:
$expected
got:
$got"
[ -f "$lib/libhystrix.so.$version" ] && [ ! -L "$lib/libhystrix.so.$version" ] || fail "libhystrix.so.$version is not a file"
[ "$(readlink "$lib/libhystrix.so.$major")" = "libhystrix.so.$version" ] || fail "libhystrix.so.$major does not point to libhystrix.so.$version"
[ "$(readlink "$lib/libhystrix.so")" = "libhystrix.so.$major" ] || fail "libhystrix.so does not point to libhystrix.so.$major"

# 2. SONAME and exported symbols.
soname="$(readelf -d "$lib/libhystrix.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[ "$soname" = "libhystrix.so.$major" ] || fail "SONAME is '$soname', expected libhystrix.so.$major"
exported="$(nm -D --defined-only "$lib/libhystrix.so.$version" | awk '{print $NF}')"
[ -n "$exported" ] || fail "nm -D lists no symbol in libhystrix.so"
stray="$(grep -v '^hystrix_' <<<"$exported" || true)"
[ -z "$stray" ] || fail "libhystrix.so exports symbols outside hystrix_*: $(tr '\n' ' ' <<<"$stray")"
for sym in hystrix_version hystrix_config_default hystrix_command_execute; do
    grep -qx "$sym" <<<"$exported" || fail "libhystrix.so does not export $sym"
done

# 3. Dynamic: the pkg-config files name $prefix; the sysroot maps -I/-L into the staging dir.
export PKG_CONFIG_PATH="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_LIBDIR=
[ "$(pkg-config --modversion hystrix)" = "$version" ] || fail "hystrix.pc says version $(pkg-config --modversion hystrix), expected $version"
cflags=(-std=c11 -Wall -Wextra -Werror)
# shellcheck disable=SC2046
"$cc" "${cflags[@]}" examples/c/flaky.c $(pkg-config --cflags --libs hystrix) -o "$dest/flaky-dynamic"
ldd_dyn="$(LD_LIBRARY_PATH="$lib" ldd "$dest/flaky-dynamic")"
grep -q "libhystrix.so.$major => $lib/libhystrix.so.$major" <<<"$ldd_dyn" || fail "the dynamic example does not load $lib/libhystrix.so.$major:
$ldd_dyn"
LD_LIBRARY_PATH="$lib" "$dest/flaky-dynamic" >/dev/null || fail "the dynamically linked example failed"

# 4. Static: Libs.private must be enough to link the archive; -l:libhystrix.a
#    makes the linker take the archive although the .so sits next to it
#    (a fully -static glibc program cannot link libgcc_s, which rustc needs).
static_libs="$(pkg-config --static --libs hystrix)"
grep -q -- "-lhystrix" <<<"$static_libs" || fail "pkg-config --static --libs has no -lhystrix: $static_libs"
# shellcheck disable=SC2086
"$cc" "${cflags[@]}" examples/c/flaky.c $(pkg-config --cflags hystrix) ${static_libs//-lhystrix/-l:libhystrix.a} \
    -o "$dest/flaky-static" || fail "linking libhystrix.a with 'pkg-config --static --libs hystrix' ($static_libs) failed"
if ldd "$dest/flaky-static" | grep -q libhystrix; then fail "the statically linked example still needs libhystrix.so"; fi
"$dest/flaky-static" >/dev/null || fail "the statically linked example failed"

# 5. Uninstall removes every file install put there.
"$make" --no-print-directory -s uninstall DESTDIR="$dest" PREFIX="$prefix" >/dev/null
left="$(find "$dest$prefix" ! -type d)"
[ -z "$left" ] || fail "make uninstall left: $left"
rm -rf "$dest"
echo "c-install-test: DESTDIR install of $version (SONAME libhystrix.so.$major, only hystrix_* exported), dynamic and static pkg-config builds ran, uninstall left nothing"
