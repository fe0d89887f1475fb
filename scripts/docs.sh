#!/usr/bin/env bash
# Builds the browsable documentation into target/docs (run by `make docs`,
# after mdbook, the npm package and the Python venv are in place):
#   target/docs/book/        the user guide (mdBook, docs/guide)
#   target/docs/api/rust/    rustdoc of hystrix-core
#   target/docs/api/js/      TypeDoc of the npm package's index.d.ts
#   target/docs/api/python/  pdoc of the Python package
#   target/docs/api/c/       the C header's comments (scripts/c-header-html.py)
#   target/docs/index.html   points at the book
# then checks every internal link of the result (scripts/docs-links.py --html).
# TypeDoc, pdoc and rustdoc's build dir live in target/docs-tools (made once).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/target/docs"
tools="$root/target/docs-tools"
py="$root/target/py-test/bin/python"

for need in target/npm/hystrix/index.d.ts "$py"; do
  [ -e "$need" ] || { echo "docs.sh: $need is missing (make js-build python-env)" >&2; exit 1; }
done
export PATH="$root/target/py-tools/bin:$PATH" # mdbook (scripts/py-tools.sh)
command -v mdbook > /dev/null || { echo "docs.sh: mdbook is not installed (make docs installs it)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/api"

echo "docs: the guide (mdbook)"
mdbook build docs/guide

echo "docs: Rust API (rustdoc)"
# Its own target dir (about 80 MB, built once): target/doc also holds the
# other workspace crates after `make doc`, and only hystrix-core is public.
cargo doc --quiet --no-deps -p hystrix-core --target-dir "$tools/rustdoc"
cp -r "$tools/rustdoc/doc" "$out/api/rust"

echo "docs: JavaScript API (TypeDoc)"
if [ ! -x "$tools/js/node_modules/.bin/typedoc" ]; then
  npm install --silent --no-audit --no-fund --prefix "$tools/js" typedoc@0.28 typescript@5
fi
"$tools/js/node_modules/.bin/typedoc" --logLevel Warn --treatWarningsAsErrors \
  --tsconfig docs/guide/typedoc-tsconfig.json --name "hystrix (npm)" \
  --readme none --out "$out/api/js" target/npm/hystrix/index.d.ts

echo "docs: Python API (pdoc)"
if [ ! -x "$tools/py/bin/pdoc" ]; then
  python3 -m venv "$tools/py"
  "$tools/py/bin/pip" install --quiet pdoc
fi
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
PYTHONPATH="$site" "$tools/py/bin/pdoc" --no-show-source -o "$out/api/python" hystrix

echo "docs: C API (hystrix.h)"
python3 scripts/c-header-html.py bindings-c/include/hystrix.h "$out/api/c/index.html" > /dev/null

cat > "$out/index.html" << 'EOF'
<!doctype html>
<meta charset="utf-8"><title>hystrix documentation</title>
<meta http-equiv="refresh" content="0; url=book/index.html">
<p>The hystrix documentation starts at <a href="book/index.html">the guide</a>.</p>
EOF

python3 scripts/docs-links.py --html "$out"
echo "docs: built $out ($(du -sh "$out" | cut -f1)); open $out/index.html"
