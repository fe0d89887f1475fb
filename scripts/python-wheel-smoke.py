"""Smoke test of an installed hystrix wheel, run by scripts/python-wheel-test.sh
in a fresh venv with no Rust toolchain reachable.

Usage: python scripts/python-wheel-smoke.py EXPECTED_VERSION

Checks that hystrix imports from the venv (not from the source tree), carries
EXPECTED_VERSION, runs a command that succeeds and one that falls back, and
counts both in its snapshot. Exits non-zero, saying what differed, otherwise.
"""
import os
import sys


def main() -> None:
    """Runs the checks; raises SystemExit naming the first that fails."""
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} EXPECTED_VERSION")
    want = sys.argv[1]

    import hystrix
    from hystrix import _hystrix

    where = os.path.realpath(hystrix.__file__)
    if not where.startswith(os.path.realpath(sys.prefix) + os.sep):
        raise SystemExit(f"hystrix was imported from {where}, not from the venv {sys.prefix}")
    if not _hystrix.__file__.endswith(".abi3.so"):
        raise SystemExit(f"the native module is {_hystrix.__file__}, not an abi3 build")
    if hystrix.__version__ != want:
        raise SystemExit(f"hystrix.__version__ is {hystrix.__version__!r}, the workspace version is {want!r}")

    double = hystrix.Command(lambda x: x * 2, name="smoke-ok")
    got = double.execute(21)
    if got != 42:
        raise SystemExit(f"a succeeding command returned {got!r}, expected 42")

    def down(user_id):
        raise ConnectionError(f"user service down ({user_id})")

    users = hystrix.Command(down, lambda err, user_id: ("guest", type(err).__name__, user_id), name="smoke-fb")
    got = users.execute(7)
    if got != ("guest", "ConnectionError", 7):
        raise SystemExit(f"a failing command with a fallback returned {got!r}, expected ('guest', 'ConnectionError', 7)")

    counts = (double.snapshot()["cumulative"]["SUCCESS"], users.snapshot()["cumulative"]["FALLBACK_SUCCESS"])
    if counts != (1, 1):
        raise SystemExit(f"snapshots counted (SUCCESS, FALLBACK_SUCCESS) = {counts}, expected (1, 1)")
    print(f"python-wheel-smoke: hystrix {hystrix.__version__} from {os.path.dirname(where)}: success, fallback, snapshot ok")


if __name__ == "__main__":
    main()
