"""Whether two builds of the npm package's wasm run the same code on the
closed path: the functions reachable by direct calls from the exports
`wasmcommand_begin`, `wasmcommand_input` and `wasmcommand_release`,
compared instruction for instruction (32-bit constants of 65,536 or more
read as data addresses and ignored; differing 64-bit constants and load
offsets are shown). Each argument is a names-kept build disassembled:

  wasm-bindgen --target web --weak-refs --keep-debug --out-dir D \\
    target/wasm32-unknown-unknown/wasm-release/hystrix_wasm.wasm
  target/js-tools/node_modules/.bin/wasm-opt -O3 -g --strip-target-features \\
    D/hystrix_wasm_bg.wasm -o D/o.wasm
  target/js-tools/node_modules/.bin/wasm-dis D/o.wasm -o D/o.wat

  python3 bindings-wasm/bench/closed-path-diff.py BEFORE.wat AFTER.wat
(BENCHMARKS.md, "Session 11: package size")."""
import difflib
import re
import sys

ROOTS = ("wasmcommand_begin", "wasmcommand_input", "wasmcommand_release")


def load(path):
    """The module's functions by name (their text) and its function exports."""
    text = open(path).read()
    funcs, name, body = {}, None, []
    for line in text.split("\n"):
        m = re.match(r"^ \(func (\$\S+)", line)
        if m or (name is not None and line.startswith(" (") and not line.startswith("  ")):
            if name is not None:
                funcs[name] = "\n".join(body)
            name, body = (m.group(1), [line]) if m else (None, [])
        elif name is not None:
            body.append(line)
    if name is not None:
        funcs[name] = "\n".join(body)
    return funcs, dict(re.findall(r'\(export "([^"]+)" \(func (\$\S+)\)\)', text))


def reachable(funcs, roots):
    """The functions `roots` reach by direct calls."""
    seen, todo = set(), list(roots)
    while todo:
        f = todo.pop()
        if f not in seen and f in funcs:
            seen.add(f)
            todo += re.findall(r"\(call (\$\S+?)\)?[\s)]", funcs[f] + " ")
    return seen


def normal(body):
    """`body` with data addresses (large 32-bit constants) blanked."""
    return re.sub(r"i32\.const (-?\d+)", lambda m: "i32.const " + (m.group(1) if abs(int(m.group(1))) < 65536 else "ADDR"), body)


(a, ea), (b, eb) = load(sys.argv[1]), load(sys.argv[2])
ra, rb = reachable(a, [ea[r] for r in ROOTS]), reachable(b, [eb[r] for r in ROOTS])
print(f"reachable: {len(ra)} and {len(rb)}; only in the first: {sorted(ra - rb)}; only in the second: {sorted(rb - ra)}")
differ = [f for f in sorted(ra & rb) if normal(a[f]) != normal(b[f])]
print(f"{len(ra & rb) - len(differ)} identical, {len(differ)} differ:")
for f in differ:
    lines = difflib.unified_diff(normal(a[f]).split("\n"), normal(b[f]).split("\n"), lineterm="", n=0)
    print(f"  {f}: " + "; ".join(l.strip() for l in lines if l[:1] in "+-" and l[:3] not in ("---", "+++")))
