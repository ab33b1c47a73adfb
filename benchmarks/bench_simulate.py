"""Benchmark of the simulator: wall time and peak memory (not a test).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_simulate.py            # 100,000 and 1,000,000 organisations
    .venv/bin/python benchmarks/bench_simulate.py 20000      # chosen sizes

Each size runs in a fresh process (so that peak RSS is that run's own) and
writes a messy kobo-csv export with its truth files to a temporary folder.
Targets: 100,000 organisations in under a minute; 1,000,000 without running
out of memory. ``seconds`` is wall time of ``simulate_export`` (imports
excluded); ``cpu_seconds`` (user + system, imports included) is less sensitive
to other jobs sharing the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, resource, sys, time, tempfile
from analysis.simulate import simulate_export
n = int(sys.argv[1]); out = sys.argv[2]
t0 = time.perf_counter()
paths = simulate_export(n=n, seed=1, out_dir=out, fmt="kobo-csv")
t1 = time.perf_counter()
import os
size = os.path.getsize(paths["export"])
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"n": n, "seconds": round(t1 - t0, 2), "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "export_mb": round(size / 2**20, 1)}))
"""


def run(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run([sys.executable, "-c", _CHILD, str(n), tmp], capture_output=True, text=True)
        if res.returncode != 0:
            return {"n": n, "error": res.stderr.strip().splitlines()[-1] if res.stderr else "failed"}
        return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [100_000, 1_000_000]
    for n in sizes:
        print(json.dumps(run(n)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
