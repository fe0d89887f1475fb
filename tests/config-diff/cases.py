"""Writes the configurations the differential check feeds every binding,
one JSON object per line, from the core's schema (argv[1], a file with the
output of `config_verdicts schema`) and a fixed seed: per key its default,
bounds and just past them, wrong types (strings, booleans, floats with and
without a fraction, null, arrays, objects), numbers past 2^53 and 2^64, and
an unknown key; then random mixtures of up to four keys, so the order in
which several wrong keys are named is compared too."""
import json
import random
import sys

schema = json.load(open(sys.argv[1]))
count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
rng = random.Random(20261202)

ODD = ["5", "", True, False, None, [], {}, [1], {"a": 1}, 1.5, -0.0, 0.0, 5.0, 1e3, 1e300,
       -1, 2**53 - 1, 2**53, 2**53 + 1, 2**63, 2**64, 2**64 + 1, -(2**63), 9007199254740991.0]


def values(entry):
    if entry["type"] == "bool":
        return [True, False] + ODD
    if entry["type"] == "name":
        return list(entry["values"]) + ["NONE", "random", " full"] + ODD
    lo, hi = entry["min"], entry["max"]
    vals = [lo, hi, entry["default"], lo + 1, (lo + hi) // 2, float(lo), float(hi)]
    vals += [lo - 1] if lo > 0 else [-1]
    vals += [hi + 1] if hi < 2**64 - 1 else []
    return vals + ODD


keys = [e["name"] for e in schema]
by_key = {e["name"]: values(e) for e in schema}
cases = []
for k in keys:
    for v in by_key[k]:
        cases.append({k: v})
cases += [{"no_such_key": 1}, {"timeout": 5}, {"zzz": 1, "aaa": 2, "timeout_ms": -1},
          # Several unknown keys: named by code point (UTF-16 order differs here).
          {"\U0001F600": 1, "\uFFFF": 1}, {"\u00e9": 1, "z": 1, "timeout_ms": "x"}]
while len(cases) < count:
    n = rng.randint(2, 4)
    chosen = rng.sample(keys, n)
    case = {}
    for k in chosen:
        pool = by_key[k]
        # Mostly valid values (the cross-key rules see real settings).
        case[k] = pool[rng.randrange(min(len(pool), 7))] if rng.random() < 0.8 else rng.choice(pool)
    if rng.random() < 0.03:
        case["unknown_" + rng.choice("abc")] = 1
    cases.append(case)
for c in cases:
    print(json.dumps(c))
