#!/usr/bin/env bash
# Shows that the guide's checkers can fail: scripts/docs-links.py must
# refuse a missing page and a missing #anchor; scripts/docs-samples.py a
# Python sample that raises, a Node sample that throws, a C sample that
# does not compile, and a code block without a language;
# scripts/docs-settings-check.py a wrong default and a missing setting. Each must also
# pass the same page once it is fixed. Run by `make docs-check`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d "$root/target/docs-check-test.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
fail() { echo "docs-check-test: $*" >&2; exit 1; }

# --- links -------------------------------------------------------------
mkdir -p "$scratch/guide/sub"
printf '# Page\n\n## Second part\n\nSee [sub](sub/other.md#a-heading).\n' > "$scratch/guide/index.md"
printf '# Other\n\n## A heading\n\nBack to [the second part](../index.md#second-part).\n' > "$scratch/guide/sub/other.md"
python3 "$root/scripts/docs-links.py" --guide "$scratch/guide" > /dev/null || fail "links: a good guide was refused"
printf 'And [a missing page](nowhere.md).\n' >> "$scratch/guide/index.md"
out="$(python3 "$root/scripts/docs-links.py" --guide "$scratch/guide" 2>&1)" && fail "links: a missing page passed"
grep -q "nowhere.md" <<< "$out" || fail "links: the error does not name the missing page: $out"
sed -i '$d' "$scratch/guide/index.md"
printf 'And [a missing anchor](sub/other.md#no-such-heading).\n' >> "$scratch/guide/index.md"
out="$(python3 "$root/scripts/docs-links.py" --guide "$scratch/guide" 2>&1)" && fail "links: a missing anchor passed"
grep -q "no-such-heading" <<< "$out" || fail "links: the error does not name the anchor: $out"

# --- links of a built site ----------------------------------------------
mkdir -p "$scratch/site/book/sub" "$scratch/site/api/c"
printf '<a href="sub/page.html#here">x</a> <a href="../api/c/index.html#fn">y</a>' > "$scratch/site/book/index.html"
printf '<h2 id="here">Here</h2>' > "$scratch/site/book/sub/page.html"
printf '<section id="fn"></section>' > "$scratch/site/api/c/index.html"
python3 "$root/scripts/docs-links.py" --html "$scratch/site" > /dev/null || fail "html: a good site was refused"
printf '<a href="sub/page.html#gone">z</a>' >> "$scratch/site/book/index.html"
out="$(python3 "$root/scripts/docs-links.py" --html "$scratch/site" 2>&1)" && fail "html: a missing id passed"
grep -q "gone" <<< "$out" || fail "html: the error does not name the id: $out"

# --- samples -----------------------------------------------------------
page="$scratch/page.md"
sample() { printf '# Samples\n\n```%s\n%s\n```\n' "$1" "$2" > "$page"; }
must_pass() { python3 "$root/scripts/docs-samples.py" "$page" > /dev/null 2>&1 || fail "samples: $1 was refused"; }
must_fail() { python3 "$root/scripts/docs-samples.py" "$page" > /dev/null 2>&1 && fail "samples: $1 passed"; true; }

sample python 'import hystrix
assert hystrix.Command(lambda: 1).execute() == 1'
must_pass "a working Python sample"
sample python 'import hystrix
assert hystrix.Command(lambda: 1).execute() == 2'
must_fail "a Python sample whose assertion fails"
sample js 'import { Command } from "hystrix-resilience";
if ((await new Command(async () => 1).execute()) !== 1) process.exit(1);'
must_pass "a working Node sample"
sample js 'import { Command } from "hystrix-resilience";
if ((await new Command(async () => 1).execute()) !== 2) throw new Error("wrong");'
must_fail "a Node sample that throws"
sample c '#include <hystrix.h>
int main(void) { return hystrix_version() ? 0 : 1; }'
must_pass "a working C sample"
sample c '#include <hystrix.h>
int main(void) { return hystrix_no_such_function(); }'
must_fail "a C sample that does not compile"
sample '' 'plain text'
must_fail "a block without a language"
sample 'python,ignore' 'this is not Python'
must_pass "an ignored block"
# --- settings ----------------------------------------------------------
settings="$root/docs/guide/src/operating/settings.md"
sed 's/^| `timeout_ms` | `timeoutMs` | `1000` |/| `timeout_ms` | `timeoutMs` | `2000` |/' "$settings" > "$scratch/settings.md"
cmp -s "$settings" "$scratch/settings.md" && fail "settings: the test could not change timeout_ms's default"
python3 "$root/scripts/docs-settings-check.py" "$scratch/settings.md" > /dev/null 2>&1 && fail "settings: a wrong default passed"
grep -v '^| `hedge_delay_ms` ' "$settings" > "$scratch/settings.md"
python3 "$root/scripts/docs-settings-check.py" "$scratch/settings.md" > /dev/null 2>&1 && fail "settings: a missing setting passed"
echo "docs-check-test: the link, sample and settings checkers fail on broken input"
