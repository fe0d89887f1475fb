"""Time to create one command (issue 10 item 7: target ≤ 5 µs), as users
create them: ``hystrix.Command(...)`` and ``@hystrix.command``, at default
settings and with a few settings, anonymous and named. Each slot creates
``N`` commands and keeps them alive while it is timed (the cyclic
collector runs as it would in a program holding its commands), then closes
them untimed. CPU time (``time.process_time_ns``), interleaved rounds, the
order reversed every other round (see ``interleaved.py``).

    target/py-test/bin/python bindings-python/bench/create.py [--base DIR] [--rounds R] [--calls]

``--base DIR``: a copy of another build of the package (the ``hystrix``
directory of an install, its ``_hystrix*.so`` included, copied elsewhere:
the same file cannot be loaded twice) is imported as ``hystrix_base`` and
timed against this one in the same process, round for round; the ratios
are this build over that one. ``--calls`` times the closed path of such
commands instead (a call through ``Command.execute`` and through the
decorated function, semaphore and thread isolation), to check that a
cheaper creation did not cost the calls. Not part of ``make test``."""
import argparse
import gc
import importlib.util
import os
import sys
import time
from types import ModuleType
from typing import Any, Callable, Dict, List, Tuple

import hystrix
from interleaved import interleaved, report, sync_slot

N = 10_000

#: Settings of the "with settings" cases.
SETTINGS: Dict[str, Any] = {"timeout_ms": 250, "request_volume_threshold": 10, "error_threshold_percentage": 40}


def run(x: int) -> int:
    """The run of every command."""
    return x


def fallback(_err: Exception, x: int) -> int:
    """The fallback of the "with settings" cases."""
    return -x


def cases(h: ModuleType) -> Dict[str, Callable[[int], Any]]:
    """What one creation is, per case, in package ``h`` (``i``: its index,
    for a unique name)."""
    names = [f"create-bench-{i}" for i in range(N)]
    return {
        "Command(run)": lambda i: h.Command(run),
        "Command(run, semaphore)": lambda i: h.Command(run, isolation="semaphore"),
        "Command(run, fallback, 3 settings)": lambda i: h.Command(run, fallback, **SETTINGS),
        "Command(run, name=...)": lambda i: h.Command(run, name=names[i]),
        "@command": lambda i: h.command(run).command,
        "@command(fallback=..., 3 settings)": lambda i: h.command(fallback=fallback, **SETTINGS)(run).command,
    }


def slot(make: Callable[[int], Any]) -> Callable[[], float]:
    """Times ``N`` creations kept alive (ns each), then closes them."""

    def measure() -> float:
        made: List[Any] = []
        append = made.append
        gc.collect()
        start = time.process_time_ns()
        for i in range(N):
            append(make(i))
        ns = (time.process_time_ns() - start) / N
        for cmd in made:
            cmd.close()
        return ns

    return measure


def load_base(path: str) -> ModuleType:
    """The package copy at ``path`` imported as ``hystrix_base``."""
    init = os.path.join(path, "__init__.py")
    spec = importlib.util.spec_from_file_location("hystrix_base", init, submodule_search_locations=[path])
    if spec is None or spec.loader is None:
        raise SystemExit(f"--base: no package at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hystrix_base"] = module
    spec.loader.exec_module(module)
    return module


def call_slots(label: str, h: ModuleType) -> Dict[str, Callable[[int], float]]:
    """Closed-path calls of commands made by package ``h``, as slots."""
    sem = h.Command(run, isolation="semaphore")
    thr = h.Command(run, timeout_ms=60_000)
    dec = h.command(isolation="semaphore")(run)
    return {
        f"semaphore execute [{label}]": sync_slot(lambda: sem.execute(1)),
        f"semaphore decorated [{label}]": sync_slot(lambda: dec(1)),
        f"thread execute [{label}]": sync_slot(lambda: thr.execute(1)),
    }


def calls(packages: List[Tuple[str, ModuleType]], rounds: int) -> None:
    """Times the closed path of every package's commands, interleaved."""
    slots: Dict[str, Callable[[int], float]] = {}
    for label, package in packages:
        slots.update(call_slots(label, package))
    # Each case's contenders adjacent: sorted by case, then package.
    runs = interleaved(dict(sorted(slots.items())), rounds, slot_ms=100.0)
    cases_ = sorted({name.rsplit(" [", 1)[0] for name in slots})
    ratios = [(f"{c} [this]", f"{c} [base]", None) for c in cases_] if len(packages) > 1 else []
    report("the closed path of such commands", runs, ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a copy of another build's package directory, timed against this one")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", action="store_true", help="time the closed path instead")
    args = parser.parse_args()
    packages: List[Tuple[str, ModuleType]] = [("this", hystrix)]
    if args.base:
        packages.append(("base", load_base(args.base)))
    if args.calls:
        calls(packages, args.rounds)
        return
    slots: Dict[str, Callable[[], float]] = {}
    for label, package in packages:
        for case, make in cases(package).items():
            make(0).close()  # first-use caches are not the command's
            slots[f"{case} [{label}]"] = slot(make)
    print(f"python {sys.version.split()[0]}; {N} live commands per slot, collector on")
    runs: Dict[str, List[float]] = {name: [] for name in slots}
    names = list(slots)
    for r in range(args.rounds):
        # Each case's contenders adjacent, their order reversed every other round.
        for case in cases(hystrix):
            group = [n for n in names if n.startswith(case + " [")]
            for name in group if r % 2 == 0 else reversed(group):
                runs[name].append(slots[name]())
    ratios = [(f"{case} [this]", f"{case} [base]", None) for case in cases(hystrix)] if args.base else []
    report("creating a command", runs, ratios)


if __name__ == "__main__":
    main()
