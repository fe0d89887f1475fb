"""Per-function instructions per call, before against after, from the
callgrind files scripts/bench-protocol-before-after.sh keeps in OUT:
(self Ir of 2N calls − self Ir of N calls) / N for each function, printed
side by side with the difference, largest first.

    python3 per_function.py OUT BINARY KIND N
"""

import collections
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+\S*?:(.*?)(?: \[.*\])?$")


def self_costs(path):
    """Self Ir per function name of one callgrind file."""
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
        check=True, capture_output=True, text=True,
    ).stdout
    costs = collections.Counter()
    for line in out.splitlines():
        m = LINE.match(line)
        if m and "PROGRAM TOTALS" not in line:
            costs[m.group(2)] += int(m.group(1).replace(",", ""))
    return costs


def per_call(out, side, binary, kind, n):
    """Instructions per call of each function on one side."""
    big = self_costs(f"{out}/callgrind.{side}.{binary}.{kind}.2N")
    small = self_costs(f"{out}/callgrind.{side}.{binary}.{kind}.N")
    return {f: (big[f] - small[f]) / n for f in big if abs(big[f] - small[f]) >= n / 2}


def main(out, binary, kind, n):
    """Prints the per-function comparison of one path."""
    n = int(n)
    before, after = per_call(out, "before", binary, kind, n), per_call(out, "after", binary, kind, n)
    print(f"{binary} {kind}: instructions per call, self cost")
    print(f"{'before':>8} {'after':>8} {'diff':>8}  function")
    rows = [(before.get(f, 0.0), after.get(f, 0.0), f) for f in set(before) | set(after)]
    rows.sort(key=lambda r: -abs(r[1] - r[0]))
    for b, a, f in rows:
        print(f"{b:8.1f} {a:8.1f} {a - b:+8.1f}  {f}")
    print(f"{sum(r[0] for r in rows):8.1f} {sum(r[1] for r in rows):8.1f} {sum(r[1] - r[0] for r in rows):+8.1f}  total")


if __name__ == "__main__":
    main(*sys.argv[1:5])
