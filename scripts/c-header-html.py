#!/usr/bin/env python3
"""Renders the C header's comments as one HTML reference page.

    scripts/c-header-html.py [HEADER] OUT.html      (HEADER: bindings-c/include/hystrix.h)

Every declaration preceded by a `/** ... */` comment — functions, typedefs,
structs, enums, macros — becomes an entry with its declaration and its
comment, under an anchor named after it (`#hystrix_command_new`); the
header's opening comment is the page's introduction. Fails, naming the
line, if the header has a documented comment followed by no declaration,
or if a public function (`hystrix_*(`) has no comment at all.
"""
import html
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = re.compile(r"/\*\*(.*?)\*/", re.S)


def clean_comment(body: str) -> str:
    """A comment's text without the leading ` * `."""
    lines = [re.sub(r"^\s*\* ?", "", ln) for ln in body.strip("\n").splitlines()]
    return "\n".join(lines).strip()


def top_level_docs(text: str) -> list:
    """The `/** */` comments outside any braces (members' comments stay
    inside their struct's or enum's declaration). The braces of
    `extern "C" {` and its closing line do not count."""
    plain = re.sub(r'^extern "C" \{.*$|^\}\s*// extern "C".*$', lambda m: " " * len(m.group(0)), text, flags=re.M)
    out, depth, i = [], 0, 0
    while i < len(plain):
        if plain.startswith("/*", i):
            end = plain.index("*/", i) + 2
            if plain.startswith("/**", i) and depth == 0:
                out.append(DOC.match(text, i))
            i = end
            continue
        if plain.startswith("//", i):
            i = plain.index("\n", i)
            continue
        depth += {"{": 1, "}": -1}.get(plain[i], 0)
        i += 1
    return out


def declaration_after(text: str, pos: int):
    """The declaration starting at `pos` (after blank lines): a `#define`
    line, or everything up to the `;` that ends it outside braces. Returns
    (declaration, name, kind, end)."""
    m = re.compile(r"\s*").match(text, pos)
    start = m.end()
    if text.startswith("#define", start):
        end = text.index("\n", start)
        decl = text[start:end].strip()
        return decl, decl.split()[1].split("(")[0], "macro", end
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == ";" and depth == 0:
            break
        elif text.startswith("/**", i) and depth == 0:
            return None, None, None, start
        i += 1
    decl = text[start:i + 1].strip()
    if decl.startswith("typedef"):
        fn = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
        name = fn.group(1) if fn else re.findall(r"(\w+)\s*;$", decl)[0]
        kind = "type"
    elif "(" in decl:
        name, kind = re.search(r"(\w+)\s*\(", decl).group(1), "function"
    else:
        name, kind = re.findall(r"(\w+)\s*(?:\[[^\]]*\])?\s*;$", decl)[0], "constant"
    return decl, name, kind, i + 1


def paragraphs(text: str) -> str:
    """Comment text as HTML: blank lines separate paragraphs, lines starting
    with `- ` begin list items (continued by the lines under them), `code`
    spans are kept as code."""
    def inline(t: str) -> str:
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(t))

    out = []
    for para in re.split(r"\n\s*\n", text):
        lead, items = [], []
        for line in para.splitlines():
            if re.match(r"\s*- ", line):
                items.append(re.sub(r"^\s*- ", "", line))
            elif items:
                items[-1] += " " + line.strip()
            else:
                lead.append(line)
        if lead:
            out.append(f"<p>{inline(chr(10).join(lead))}</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(it)}</li>" for it in items) + "</ul>")
    return "\n".join(out)


def render(header: Path) -> str:
    text = header.read_text(encoding="utf-8")
    intro = clean_comment(re.match(r"\s*/\*(.*?)\*/", text, re.S).group(1))
    entries, problems = [], []
    for m in top_level_docs(text):
        decl, name, kind, _ = declaration_after(text, m.end())
        line = text.count("\n", 0, m.start()) + 1
        if decl is None:
            problems.append(f"{header}:{line}: doc comment followed by no declaration")
            continue
        entries.append((kind, name, decl, clean_comment(m.group(1))))
    documented = {name for _, name, _, _ in entries}
    for fn in sorted(set(re.findall(r"^[\w \*]*?\b(hystrix_\w+)\(", text, re.M))):
        if fn not in documented:
            problems.append(f"{header}: function {fn} has no doc comment")
    if problems:
        raise SystemExit("\n".join(problems))

    groups = [("function", "Functions"), ("type", "Types"), ("macro", "Macros"), ("constant", "Constants")]
    toc, body = [], []
    for kind, title in groups:
        items = [e for e in entries if e[0] == kind]
        if not items:
            continue
        toc.append(f'<li><a href="#{kind}s">{title}</a> ({len(items)})<ul class="names">'
                   + "".join(f'<li><a href="#{n}"><code>{n}</code></a></li>' for _, n, _, _ in items)
                   + "</ul></li>")
        body.append(f'<h2 id="{kind}s">{title}</h2>')
        for _, name, decl, doc in items:
            body.append(f'<section id="{name}"><h3><code>{name}</code></h3>'
                        f"<pre>{html.escape(decl)}</pre>{paragraphs(doc)}</section>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hystrix.h — C API reference</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }}
pre {{ background: #f4f4f4; padding: .6rem; overflow-x: auto; }}
section {{ border-top: 1px solid #ddd; margin-top: 1.5rem; }}
ul.names {{ columns: 2; font-size: .9rem; }}
</style></head><body>
<p><a href="../../book/index.html">← the hystrix guide</a></p>
<h1><code>hystrix.h</code> — C API reference</h1>
<p>Generated from the comments of <code>bindings-c/include/hystrix.h</code>.</p>
{paragraphs(intro)}
<h2 id="contents">Contents</h2><ul>{"".join(toc)}</ul>
{"".join(body)}
</body></html>
"""


def main() -> int:
    args = sys.argv[1:]
    if len(args) not in (1, 2):
        print("usage: scripts/c-header-html.py [HEADER] OUT.html", file=sys.stderr)
        return 2
    header = Path(args[0]) if len(args) == 2 else ROOT / "bindings-c" / "include" / "hystrix.h"
    out = Path(args[-1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(header), encoding="utf-8")
    print(f"c-header-html: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
