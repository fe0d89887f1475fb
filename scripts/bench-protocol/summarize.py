"""The must-hold table of scripts/bench-protocol-before-after.sh.

Reads OUT/instructions.tsv, OUT/times.tsv and OUT/py-times.tsv (any may
be missing; their `side` is `before` or `after`) and
prints one Markdown table: per path, instructions per call before / after
and their ratio, then the median ns per call of each side and the median
and range of the per-round ratio after / before.

    python3 summarize.py OUT BEFORE AFTER
"""

import csv
import os
import statistics
import sys

# (binary, kind) -> the path's name in the table, in the table's order.
PATHS = [
    (("rust", "sync"), "Rust `execute`, success (closed path)"),
    (("rust", "open"), "Rust `execute_or`, `force_open` (open path)"),
    (("rust", "tripped"), "Rust `execute_or`, circuit tripped by failures"),
    (("rust", "async"), "Rust `execute_async`, success"),
    (("rust", "async_open"), "Rust `execute_async_or`, `force_open`"),
    (("c", "exec"), "C `hystrix_command_execute`, success"),
    (("c", "open"), "C `hystrix_command_execute`, `force_open` + fallback"),
    (("py", "semaphore"), "Python semaphore isolation (CPU)"),
    (("py", "thread"), "Python thread isolation (CPU)"),
    (("py", "asyncio"), "Python `execute_async` (CPU)"),
]


def rows(path):
    """The rows of a TSV file, or none if it does not exist."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def main(out, before, after):
    """Prints the table for the outputs in `out`."""
    ir = {(r["side"], r["binary"], r["kind"]): float(r["per_call"]) for r in rows(os.path.join(out, "instructions.tsv"))}
    times = {}
    loads = []
    timed = rows(os.path.join(out, "times.tsv")) + rows(os.path.join(out, "py-times.tsv"))
    for r in timed:
        times.setdefault((r["binary"], r["kind"]), {}).setdefault(r["round"], {})[r["side"]] = float(r["ns_per_call"])
        loads.append(float(r["load1"]))
    print(f"before `{before}`, after `{after}` (the Python rows: the two venvs named in sides.txt)")
    print()
    print("| path | instr. before | instr. after | ratio | ns before (median) | ns after (median) | ratio, median of rounds (range) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key, name in PATHS:
        a, b = ir.get(("before",) + key), ir.get(("after",) + key)
        cells = [name]
        if a is not None and b is not None:
            cells += [f"{a:.0f}", f"{b:.0f}", f"{b / a:.3f}"]
        else:
            cells += ["", "", ""]
        per_round = [r for r in times.get(key, {}).values() if "before" in r and "after" in r]
        if per_round:
            ratios = sorted(r["after"] / r["before"] for r in per_round)
            cells += [
                f"{statistics.median(r['before'] for r in per_round):.1f}",
                f"{statistics.median(r['after'] for r in per_round):.1f}",
                f"{statistics.median(ratios):.3f} ({ratios[0]:.2f}–{ratios[-1]:.2f})",
            ]
        else:
            cells += ["", "", ""]
        print("| " + " | ".join(cells) + " |")
    if loads:
        rounds = max((len(v) for v in times.values()), default=0)
        print()
        print(f"{rounds} interleaved rounds; load average (1 min) {min(loads):.1f}–{max(loads):.1f} during the timed runs.")


if __name__ == "__main__":
    main(*sys.argv[1:4])
