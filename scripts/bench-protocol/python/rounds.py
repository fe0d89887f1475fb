"""One timed pass of bindings-python/bench/closed_paths.py's three loops,
printed as `path<TAB>ns` lines with more digits than that script prints
(the semaphore path is ~0.1 µs a call). Run by the venv of the package
being measured:

    VENV/bin/python rounds.py PATH/TO/closed_paths.py N
"""

import importlib.util
import sys

path, n = sys.argv[1], int(sys.argv[2])
sys.argv[1:] = [str(n)]  # closed_paths.py reads its N from argv[1]
spec = importlib.util.spec_from_file_location("closed_paths", path)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
loops = {"thread": bench.thread_loop, "semaphore": bench.semaphore_loop, "asyncio": bench.async_loop}
for f in loops.values():
    f(2000)  # warm-up
for name, f in loops.items():
    # CPU ns per call of the whole process, best of 3 passes (as closed_paths.py).
    print(f"{name}\t{min(bench.cpu_us(f, n) for _ in range(3)) * 1000:.1f}")
