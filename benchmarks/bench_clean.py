"""Benchmark of the cleaning stage against pandas.read_csv (not a test).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_clean.py            # 100,000 organisations
    .venv/bin/python benchmarks/bench_clean.py 20000      # another size
    .venv/bin/python benchmarks/bench_clean.py 100000 --profile

Simulates a messy Kobo CSV export (seed 1) into a temporary folder, then
measures, in the same process and one after the other:

* ``pandas.read_csv`` of the raw file (default options, C engine, ``sep=';'``);
* ``analysis.cleaning.clean_data`` of the same file (reading, validation,
  every rule, flags, log, flow; nothing written).

Target: cleaning takes at most 5 times as long as ``read_csv``. The ratio is
printed; timings vary with the machine's load, so run it on a quiet machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 100_000
    profile = "--profile" in argv
    import pandas as pd

    from analysis import config
    from analysis.cleaning._clean import clean_data
    from analysis.cleaning._config import instrument as _instrument
    from analysis.simulate import simulate_export

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = simulate_export(n=n, seed=1, out_dir=Path(tmp), fmt="kobo-csv")
        t_sim = time.perf_counter() - t0
        raw = paths["export"]
        _instrument(config.QUESTIONNAIRE_DIR)  # questionnaire parsed once per process, as in a run
        t0 = time.perf_counter()
        df = pd.read_csv(raw, sep=";")
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
        result = clean_data([raw])
        t_clean = time.perf_counter() - t0
        if profile:
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
        print(f"rows: {len(df):,} ({raw.stat().st_size / 1e6:.1f} MB); simulated in {t_sim:.1f} s")
        print(f"pandas.read_csv : {t_read:8.2f} s")
        print(f"clean_data      : {t_clean:8.2f} s  ({len(result.log):,} log rows, "
              f"{int(result.data['analysed'].sum()):,} analysed)")
        ratio = t_clean / t_read
        print(f"ratio clean / read_csv = {ratio:.2f} (target <= 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
