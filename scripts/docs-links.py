#!/usr/bin/env python3
"""Checks the internal links of the user guide.

    scripts/docs-links.py              the markdown sources, docs/guide/src/**/*.md
    scripts/docs-links.py --html DIR   the built site (make docs: target/docs)

Markdown: every relative link must name an existing file (relative to the
page), and a `#anchor` must be a heading of the page it points at, with the
heading ids mdBook gives (lower case; letters, digits, `_` and `-` kept,
spaces made `-`, everything else dropped; a repeated id gets `-1`, `-2`...).
Pages brought in by `{{#include ...}}` count as part of the including page.
Links to `.html` pages exist only once the site is built (the API
reference), so only the --html pass checks them.

HTML: every relative `href`/`src` of the book (DIR/book) and of our C
reference page (DIR/api/c) must name a file that exists, and a `#fragment`
must be an `id` (or `name`) in the page it points at. Pages of rustdoc,
TypeDoc and pdoc are checked only as link targets.

External links (http:, https:, mailto:) are not fetched. Exits 1 listing
every broken link with its file (and line, for markdown).
"""
import argparse
import html.parser
import re
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide" / "src"
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
INCLUDE = re.compile(r"\{\{#include\s+([^}\s:]+)[^}]*\}\}")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and [text](target "title"); images too. Not reference-style links.
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`+[^`]*`+")


def expanded(path: Path, seen=()) -> list:
    """The page's lines with `{{#include}}`d files put in place, each line
    paired with the file and line it came from."""
    if path in seen:
        raise SystemExit(f"{path}: includes itself")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = INCLUDE.search(line)
        if m:
            out.extend(expanded((path.parent / m.group(1)).resolve(), seen + (path,)))
        else:
            out.append((path, n, line))
    return out


def heading_id(text: str) -> str:
    """The id mdBook gives a heading with this markdown text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"<[^>]+>", "", text)
    out = []
    for ch in text.lower():
        if ch.isalnum() or ch in "_-":
            out.append(ch)
        elif ch.isspace():
            out.append("-")
    return "".join(out)


def anchors_of(lines: list) -> set:
    """Heading ids (deduplicated as mdBook does) and explicit id= anchors."""
    ids, counts, in_code = set(), {}, False
    for _, _, line in lines:
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        ids.update(re.findall(r"""\bid=["']([^"']+)["']""", line))
        m = HEADING.match(line)
        if m:
            base = heading_id(m.group(2))
            n = counts.get(base, 0)
            counts[base] = n + 1
            ids.add(base if n == 0 else f"{base}-{n}")
    return ids


def links_of(lines: list):
    """(file, line, target) for every inline link outside code."""
    in_code = False
    for path, n, line in lines:
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        for m in LINK.finditer(INLINE_CODE.sub("", line)):
            yield path, n, m.group(1)


def check_markdown(guide: Path) -> list:
    problems, cache = [], {}

    def anchors(page: Path) -> set:
        if page not in cache:
            cache[page] = anchors_of(expanded(page))
        return cache[page]

    pages = sorted(guide.rglob("*.md"))
    if not pages:
        return [f"no markdown pages under {guide}"]
    for page in pages:
        lines = expanded(page)
        for src, n, target in links_of(lines):
            where = f"{src}:{n}"
            if EXTERNAL.match(target):
                continue
            path_part, _, frag = target.partition("#")
            path_part = urllib.parse.unquote(path_part)
            if path_part.endswith(".html"):
                continue  # built output only: checked by --html
            dest = (src.parent / path_part).resolve() if path_part else page
            if not dest.exists():
                problems.append(f"{where}: link to {target!r}: no file {dest}")
                continue
            if frag and dest.suffix == ".md" and frag not in anchors(dest):
                problems.append(f"{where}: link to {target!r}: no heading with id {frag!r} in {dest}")
    return problems


class _Page(html.parser.HTMLParser):
    """Collects a page's ids and the links it makes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])


def check_html(site: Path) -> list:
    problems, cache = [], {}

    def page(p: Path) -> _Page:
        if p not in cache:
            parsed = _Page()
            parsed.feed(p.read_text(encoding="utf-8", errors="replace"))
            cache[p] = parsed
        return cache[p]

    roots = [site / "book", site / "api" / "c"]
    sources = [p for r in roots if r.exists() for p in sorted(r.rglob("*.html"))]
    sources += [p for p in [site / "index.html"] if p.exists()]
    if not (site / "book" / "index.html").exists():
        return [f"{site}: no book/index.html (run make docs)"]
    checked = 0
    for src in sources:
        if src.name in ("404.html", "print.html"):
            continue  # site-absolute links / the one-page copy of every chapter
        for target in page(src).links:
            if EXTERNAL.match(target) or target.startswith("javascript:"):
                continue
            checked += 1
            path_part, _, frag = target.partition("#")
            path_part = urllib.parse.unquote(path_part.split("?")[0])
            dest = (src.parent / path_part).resolve() if path_part else src
            if dest.is_dir():
                dest = dest / "index.html"
            where = src.relative_to(site)
            if not dest.exists():
                problems.append(f"{where}: link to {target!r}: no file {dest}")
            elif frag and dest.suffix == ".html" and frag not in page(dest).ids:
                problems.append(f"{where}: link to {target!r}: no id {frag!r} in {dest.relative_to(site)}")
    if checked == 0:
        problems.append(f"{site}: found no links at all")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, metavar="DIR", help="check the built site in DIR instead")
    ap.add_argument("--guide", type=Path, default=GUIDE, metavar="DIR", help="markdown sources (default docs/guide/src)")
    args = ap.parse_args()
    problems = check_html(args.html.resolve()) if args.html else check_markdown(args.guide.resolve())
    what = f"built site {args.html}" if args.html else "guide sources"
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"docs-links: {len(problems)} broken link(s) in the {what}", file=sys.stderr)
        return 1
    print(f"docs-links: every internal link of the {what} resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
