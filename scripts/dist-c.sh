#!/usr/bin/env bash
# The C release tarball, hystrix-c-<version>-linux-<arch>.tar.gz, written
# into OUTDIR: the header, libhystrix.a, libhystrix.so.X.Y.Z with its
# symlinks (the archive without debug info), a relocatable hystrix.pc (prefix=${pcfiledir}/../..), the
# LICENSE, a README for C users (bindings-c/dist/README.md) and
# examples/flaky.c. The files come from `make install` into a staging dir;
# the archive is sorted, owned by root and dated by the last commit, so the
# same build gives the same bytes.
# Usage: scripts/dist-c.sh OUTDIR   (prints the tarball's path)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
outdir="${1:?usage: scripts/dist-c.sh OUTDIR}"
[ "$(uname -s)" = Linux ] || { echo "dist-c: only Linux tarballs are made (this is $(uname -s))" >&2; exit 1; }
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"
[ -n "$version" ] || { echo "dist-c: no [workspace.package] version in Cargo.toml" >&2; exit 1; }
name="hystrix-c-$version-linux-$(uname -m)"
stage="$root/target/dist-c-stage"
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
rm -rf "$stage"
trap 'rm -rf "$stage"' EXIT
"${MAKE:-make}" --no-print-directory -s install DESTDIR="$stage" PREFIX="/$name" >/dev/null
# The archive carries the Rust standard library's debug info (about a third
# of its size); programs linking it do not need it.
strip --strip-debug "$stage/$name/lib/libhystrix.a"
pc="$stage/$name/lib/pkgconfig/hystrix.pc"
sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$pc"
grep -qx 'prefix=${pcfiledir}/../..' "$pc" || { echo "dist-c: $pc has no prefix= line to make relocatable" >&2; exit 1; }
install -m 644 LICENSE "$stage/$name/LICENSE"
install -m 644 bindings-c/dist/README.md "$stage/$name/README.md"
install -D -m 644 examples/c/flaky.c "$stage/$name/examples/flaky.c"
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$stage" -cf - "$name" \
  | gzip -n -9 > "$outdir/$name.tar.gz.tmp"
mv "$outdir/$name.tar.gz.tmp" "$outdir/$name.tar.gz"
echo "$outdir/$name.tar.gz"
