#!/usr/bin/env python3
"""Runs every code sample of the user guide (docs/guide/src/**/*.md).

    scripts/docs-samples.py [--only python|js|c|rust] [FILE.md ...]

Each fenced block is one whole program, run on its own:

- ```python  with target/py-test/bin/python (the venv of `make python-env`);
- ```js / ```mjs  as an ES module with node, `import ... from "hystrix-resilience"`
  resolving to the built npm package target/npm/hystrix (and prom-client and
  @opentelemetry/* to those installed for tests/observe);
- ```c  compiled with -std=c11 -Wall -Wextra -Werror against
  bindings-c/include and target/release/libhystrix.a, then run;
- ```rust  by rustdoc: core/src/guide_samples.rs includes every guide page
  that has Rust blocks as a doctest (`cargo test -p hystrix-core --doc
  guide_samples`); this script checks that no such page is left out.

A sample passes when it exits 0 within its time limit. Blocks in languages
that are not run (text, sh, console, toml, json) are left alone, and so is a
block whose info string carries `ignore` (```python,ignore). A fence with no
language at all is an error: rustdoc would run it as Rust.
Exits 1 naming every sample that failed, with its file and line.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide" / "src"
PY = ROOT / "target" / "py-test" / "bin" / "python"
NPM_PKG = ROOT / "target" / "npm" / "hystrix"
OBSERVE_MODULES = ROOT / "tests" / "observe" / "node_modules"
LIB_A = ROOT / "target" / "release" / "libhystrix.a"
RUST_INCLUDES = ROOT / "core" / "src" / "guide_samples.rs"
TIME_LIMIT_S = 60

RUN = {"python": "python", "js": "js", "mjs": "js", "javascript": "js", "c": "c", "rust": "rust"}
NOT_RUN = {"text", "sh", "bash", "console", "toml", "json", "ini", "diff", "ts", "typescript"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class Block:
    """One fenced code block: where it is, its language and its text."""

    def __init__(self, path: Path, line: int, info: str, text: str):
        self.path, self.line, self.info, self.text = path, line, info, text
        words = [w for w in re.split(r"[,\s]+", info.strip()) if w]
        self.lang = words[0].lower() if words else ""
        self.flags = set(w.lower() for w in words[1:])

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks_of(path: Path) -> list:
    """Every fenced block of one markdown file, in order."""
    out, lines, i = [], path.read_text(encoding="utf-8").splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start, body = m.group("fence"), i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        if i >= len(lines):
            raise SystemExit(f"{path.relative_to(ROOT)}:{start}: code block never closed")
        out.append(Block(path, start, m.group("info"), "\n".join(body) + "\n"))
        i += 1
    return out


def run(cmd: list, cwd: Path, block: Block, env=None) -> str:
    """Runs one command for a block; returns "" on success, else why it failed."""
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIME_LIMIT_S, env=env)
    except subprocess.TimeoutExpired:
        return f"still running after {TIME_LIMIT_S} s: {' '.join(map(str, cmd))}"
    if p.returncode != 0:
        return f"exit code {p.returncode} from {' '.join(map(str, cmd))}\n{p.stdout}{p.stderr}"
    return ""


def run_python(block: Block, scratch: Path) -> str:
    src = scratch / "sample.py"
    src.write_text(block.text)
    return run([str(PY), str(src)], scratch, block)


def run_js(block: Block, scratch: Path) -> str:
    modules = scratch / "node_modules"
    modules.mkdir(exist_ok=True)
    if not (modules / "hystrix-resilience").exists():
        (modules / "hystrix-resilience").symlink_to(NPM_PKG)
    # The metric libraries the bridge samples pass in (installed for tests/observe).
    for name in ("prom-client", "@opentelemetry"):
        if (OBSERVE_MODULES / name).exists() and not (modules / name).exists():
            (modules / name).symlink_to(OBSERVE_MODULES / name)
    src = scratch / "sample.mjs"
    src.write_text(block.text)
    return run(["node", str(src)], scratch, block)


def run_c(block: Block, scratch: Path) -> str:
    src, exe = scratch / "sample.c", scratch / "sample"
    src.write_text(block.text)
    cc = os.environ.get("CC", "cc")
    why = run(
        [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'bindings-c' / 'include'}", str(src),
         str(LIB_A), "-lpthread", "-ldl", "-lm", "-o", str(exe)],
        scratch, block)
    return why or run([str(exe)], scratch, block)


def check_rust_pages(pages: list) -> list:
    """Every page with Rust blocks must be included by core/src/guide_samples.rs."""
    included = RUST_INCLUDES.read_text(encoding="utf-8") if RUST_INCLUDES.exists() else ""
    problems = []
    for page in pages:
        rel = os.path.relpath(page, RUST_INCLUDES.parent).replace(os.sep, "/")
        if f'include_str!("{rel}")' not in included:
            problems.append(f"{page.relative_to(ROOT)}: has Rust samples but {RUST_INCLUDES.relative_to(ROOT)} "
                            f"does not include it (add #[doc = include_str!(\"{rel}\")])")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["python", "js", "c", "rust"], help="run only this language")
    ap.add_argument("files", nargs="*", type=Path, help="markdown files (default: the whole guide)")
    args = ap.parse_args()
    files = [f.resolve() for f in args.files] or sorted(GUIDE.rglob("*.md"))
    if not files:
        print(f"docs-samples: no markdown files under {GUIDE.relative_to(ROOT)}", file=sys.stderr)
        return 1

    blocks, failures = [], []
    for f in files:
        blocks.extend(blocks_of(f))
    for b in blocks:
        if not b.lang:
            failures.append(f"{b.where()}: code block without a language (write ```text for plain text)")
        elif b.lang not in RUN and b.lang not in NOT_RUN:
            failures.append(f"{b.where()}: unknown language {b.lang!r}: add it to RUN or NOT_RUN in this script")

    wanted = [b for b in blocks if RUN.get(b.lang) and "ignore" not in b.flags
              and (args.only is None or RUN[b.lang] == args.only)]
    need = {RUN[b.lang] for b in wanted}
    for lang, path, how in (("python", PY, "make python-env"), ("js", NPM_PKG, "make js-build"),
                            ("c", LIB_A, "make c-lib")):
        if lang in need and not path.exists():
            failures.append(f"docs-samples: {path.relative_to(ROOT)} is missing: run `{how}` first")
            need.discard(lang)

    counts = {}
    with tempfile.TemporaryDirectory(prefix="docs-samples-", dir=ROOT / "target") as tmp:
        for i, b in enumerate(wanted):
            lang = RUN[b.lang]
            if lang == "rust" or lang not in need:
                continue
            scratch = Path(tmp) / f"{lang}-{i}"
            scratch.mkdir()
            why = {"python": run_python, "js": run_js, "c": run_c}[lang](b, scratch)
            counts[lang] = counts.get(lang, 0) + 1
            if why:
                failures.append(f"{b.where()}: {lang} sample failed: {why}")

    rust_pages = sorted({b.path for b in wanted if RUN[b.lang] == "rust"})
    if rust_pages:
        failures.extend(check_rust_pages(rust_pages))
        env = dict(os.environ, CARGO_TERM_QUIET="true")
        p = subprocess.run(["cargo", "test", "--quiet", "-p", "hystrix-core", "--doc", "guide_samples"],
                           cwd=ROOT, capture_output=True, text=True, env=env)
        counts["rust"] = sum(1 for b in wanted if RUN[b.lang] == "rust")
        if p.returncode != 0:
            failures.append(f"rust samples failed (cargo test -p hystrix-core --doc guide_samples):\n"
                            f"{p.stdout}{p.stderr}")

    summary = ", ".join(f"{n} {lang}" for lang, n in sorted(counts.items())) or "none"
    if failures:
        print("\n\n".join(failures), file=sys.stderr)
        print(f"docs-samples: {len(failures)} problem(s); samples run: {summary}", file=sys.stderr)
        return 1
    print(f"docs-samples: every sample passed ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
