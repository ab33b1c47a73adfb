"""Benchmark: ``analysis.psychometrics.parallel_analysis`` against ``psych::fa.parallel`` (not a test).

Generates 100,000 respondents x 30 items from a 3-factor model (seed fixed), writes them to
one CSV read by both sides, then times, excluding imports and reading the data:

* si-survey ``parallel_analysis(x, n_iter=20)`` (simulated data only, the part psych's
  suggested numbers use), best of ``--repeat`` runs;
* si-survey ``parallel_analysis(x, n_iter=20, resample=True)`` (also psych's resampled
  data), best of ``--repeat`` runs;
* R ``psych::fa.parallel(x, n.iter = 20, plot = FALSE)`` (which always resamples raw data
  as well), once, via ``Rscript`` when it is installed.

It prints both timings, the ratio (target: si-survey at least 10 x faster) and checks that
both sides see the same observed eigenvalues and suggest the same numbers.

Why it is fast: the correlation matrix of ``n`` independent normal rows is drawn from its
exact distribution (Bartlett's decomposition of the Wishart(n - 1, I) cross-product
matrix: p(p+1)/2 random numbers instead of n x p), the observed correlations are one BLAS
product, and the one-factor minres fits on 30 x 30 matrices run on one BLAS thread.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_parallel.py              # n = 100000, p = 30, with R
    .venv/bin/python benchmarks/bench_parallel.py --n 20000 --no-r
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.psychometrics import parallel_analysis  # noqa: E402

R_SCRIPT = textwrap.dedent("""
    suppressPackageStartupMessages(library(psych))
    args <- commandArgs(trailingOnly = TRUE)
    x <- read.csv(args[1])
    set.seed(1)
    t <- system.time(pa <- fa.parallel(x, n.iter = 20, plot = FALSE))[["elapsed"]]
    cat(jsonlite::toJSON(list(seconds = t, nfact = pa$nfact, ncomp = pa$ncomp,
                              fa_values = pa$fa.values, pc_values = pa$pc.values,
                              psych = as.character(packageVersion("psych")),
                              R = R.version.string),
                         auto_unbox = TRUE, digits = NA), "\\n")
""")


def make_data(n: int, p: int, seed: int) -> pd.DataFrame:
    """Items from a 3-factor model (loadings .5-.8, factor correlations .3)."""
    rng = np.random.default_rng(seed)
    k = 3
    phi = np.full((k, k), 0.3) + 0.7 * np.eye(k)
    factors = rng.multivariate_normal(np.zeros(k), phi, size=n)
    L = np.zeros((p, k))
    for j in range(p):
        L[j, j % k] = rng.uniform(0.5, 0.8)
    unique = np.sqrt(1 - (L @ phi * L).sum(axis=1))
    X = factors @ L.T + rng.standard_normal((n, p)) * unique
    return pd.DataFrame(X, columns=[f"x{j + 1}" for j in range(p)])


def best_time(func, repeat: int):
    best, result = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--p", type=int, default=30)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true", help="skip the R side")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "items.csv"
        make_data(args.n, args.p, args.seed).to_csv(csv, index=False)
        data = pd.read_csv(csv)
        print(f"data: {args.n} rows x {args.p} items (3-factor model, seed {args.seed}); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(timings scale with it)")

        t_sim, res = best_time(lambda: parallel_analysis(data, n_iter=20, seed=1),
                               args.repeat)
        t_both, res_both = best_time(
            lambda: parallel_analysis(data, n_iter=20, seed=1, resample=True), args.repeat)
        print(f"si-survey parallel_analysis (simulated only)   : {t_sim:8.3f} s  "
              f"-> {res.n_factors} factors, {res.n_components} components")
        print(f"si-survey parallel_analysis (resample=True)    : {t_both:8.3f} s  "
              f"-> {res_both.n_factors} factors, {res_both.n_components} components")

        rscript = shutil.which("Rscript")
        if args.no_r or rscript is None:
            print("R side skipped" + (" (Rscript not found)" if rscript is None else ""))
            return
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        out = subprocess.run([rscript, str(script), str(csv)], capture_output=True, text=True,
                             check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"R psych::fa.parallel ({r['psych']}, {r['R']}): {r['seconds']:8.3f} s  "
              f"-> {r['nfact']} factors, {r['ncomp']} components")
        print(f"load average after the R run: {os.getloadavg()[0]:.1f}")
        print(f"speed-up (R / si-survey, simulated only)       : {r['seconds'] / t_sim:8.1f} x")
        print(f"speed-up (R / si-survey, resample=True)        : {r['seconds'] / t_both:8.1f} x")
        d_fa = np.max(np.abs(res.eigen["observed_fa"].to_numpy() - np.array(r["fa_values"])))
        d_pc = np.max(np.abs(res.eigen["observed_pc"].to_numpy() - np.array(r["pc_values"])))
        print(f"observed eigenvalues, largest |difference|: factors {d_fa:.2e}, "
              f"components {d_pc:.2e}")
        same = (res.n_factors, res.n_components) == (r["nfact"], r["ncomp"])
        print("suggested numbers agree with psych" if same else
              "suggested numbers DIFFER from psych (simulation noise near the boundary?)")


if __name__ == "__main__":
    main()
