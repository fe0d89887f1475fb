#!/usr/bin/env python3
"""Checks the guide's settings tables against the code.

    scripts/docs-settings-check.py [PAGE.md]   (default docs/guide/src/operating/settings.md)

Every row of the page's tables whose first cell is a key (`| \\`timeout_ms\\` |
\\`timeoutMs\\` | \\`1000\\` | ...`) must name a key of the core's schema
(`hystrix.config_schema()`, from `Config::schema_json`, read with
target/py-test/bin/python), give the JavaScript name that
bindings-wasm/js/options.mjs maps to that key, a field of `hystrix_config`
in bindings-c/include/hystrix.h, and the schema's default; every schema
key must have exactly one row. Exits 1 listing each mismatch.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "guide" / "src" / "operating" / "settings.md"
PY = ROOT / "target" / "py-test" / "bin" / "python"
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| `([A-Za-z0-9]+)` \| `([^`]*)` \|")


def main() -> int:
    page = Path(sys.argv[1]) if len(sys.argv) > 1 else PAGE
    schema_json = subprocess.run([str(PY), "-c", "import hystrix, json; print(json.dumps(hystrix.config_schema()))"],
                                 capture_output=True, text=True, check=True).stdout
    schema = {e["name"]: e for e in json.loads(schema_json)}
    options = (ROOT / "bindings-wasm" / "js" / "options.mjs").read_text(encoding="utf-8")
    js = {snake: camel for camel, snake in re.findall(r"^\s+(\w+): \"(\w+)\",$", options, re.M)}
    header = (ROOT / "bindings-c" / "include" / "hystrix.h").read_text(encoding="utf-8")
    config_struct = re.search(r"typedef struct \{(.*?)\} hystrix_config;", header, re.S).group(1)
    c_fields = set(re.findall(r"^\s+\w+ (\w+);", config_struct, re.M))

    problems, seen = [], {}
    for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        m = ROW.match(line)
        if not m:
            continue
        key, camel, default = m.groups()
        where = f"{page}:{n}"
        seen[key] = seen.get(key, 0) + 1
        if key not in schema:
            problems.append(f"{where}: `{key}` is not a setting of the core's schema")
            continue
        if js.get(key) != camel:
            problems.append(f"{where}: `{key}` is `{js.get(key)}` in JavaScript (options.mjs), the page says `{camel}`")
        if key not in c_fields:
            problems.append(f"{where}: `{key}` is not a field of hystrix_config in hystrix.h")
        if default != json.dumps(schema[key]["default"]):
            problems.append(f"{where}: `{key}` defaults to {json.dumps(schema[key]['default'])}, the page says {default}")
    for key in schema:
        if seen.get(key, 0) != 1:
            problems.append(f"{page}: setting `{key}` has {seen.get(key, 0)} rows (want exactly 1)")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"docs-settings-check: {len(problems)} mismatch(es)", file=sys.stderr)
        return 1
    print(f"docs-settings-check: {len(schema)} settings match the code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
