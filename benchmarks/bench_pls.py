"""Benchmark of the PLS-SEM bootstrap (not a test).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_pls.py                 # 2,000 cases x 40 items, 5,000 draws
    .venv/bin/python benchmarks/bench_pls.py --n 500 --draws 1000 --seminr /tmp/seminr-venv/bin/python

Data: 8 constructs x 5 indicators (loadings 0.6-0.85) simulated with a fixed seed; a chain
of paths plus a shared predictor (7 paths, 4 endogenous constructs). Times exclude imports
and data simulation; each configuration is the fastest of ``--repeat`` runs. The target of
issue 18 is 5,000 draws on 2,000 x 40 in under 10 s on the 2-core project machine.

``--seminr PYTHON`` also times the PyPI package ``seminr`` (0.2.1; GPL-3, evaluated and not
used, see ``analysis/plssem/__init__.py``) with that interpreter, on a reduced number of draws
(``--seminr-draws``, default 100), extrapolated linearly to ``--draws``. R's seminr is not
installable on the project machine (``apt-cache policy r-cran-seminr``: no candidate).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

K, J = 8, 5
PATHS = [(0, 2), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7)]


def simulate(n: int, seed: int = 1) -> tuple[pd.DataFrame, str]:
    rng = np.random.default_rng(seed)
    eta = np.zeros((n, K))
    eta[:, 0] = rng.standard_normal(n)
    eta[:, 1] = 0.3 * eta[:, 0] + np.sqrt(1 - 0.09) * rng.standard_normal(n)
    for k in range(2, K):
        pred = [s for s, t in PATHS if t == k]
        lin = eta[:, pred].sum(axis=1) * 0.4
        eta[:, k] = lin + rng.standard_normal(n) * np.sqrt(max(0.2, 1 - lin.var()))
        eta[:, k] /= eta[:, k].std()
    lam = rng.uniform(0.6, 0.85, size=(K, J))
    cols = {}
    for k in range(K):
        for j in range(J):
            cols[f"x{k}_{j}"] = lam[k, j] * eta[:, k] + np.sqrt(1 - lam[k, j] ** 2) * rng.standard_normal(n)
    model = "\n".join(f"F{k} =~ " + " + ".join(f"x{k}_{j}" for j in range(J)) for k in range(K))
    targets = sorted({t for _, t in PATHS})
    model += "\n" + "\n".join(f"F{t} ~ " + " + ".join(f"F{s}" for s, tt in PATHS if tt == t)
                              for t in targets)
    return pd.DataFrame(cols), model


_SEMINR_CHILD = r"""
import sys, time, json, pandas as pd, seminr as s
from seminr.bootstrap import bootstrap_model
df = pd.read_csv(sys.argv[1]); K, J, draws = 8, 5, int(sys.argv[2])
paths = [(0, 2), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7)]
mm = s.constructs(*[s.composite(f"F{k}", [f"x{k}_{j}" for j in range(J)]) for k in range(K)])
sm = s.relationships(*[s.paths(from_=f"F{a}", to=f"F{b}") for a, b in paths])
t0 = time.perf_counter(); m = s.estimate_pls(df, mm, sm); t1 = time.perf_counter()
bootstrap_model(m, nboot=draws, seed=1); t2 = time.perf_counter()
print(json.dumps({"estimate": t1 - t0, "bootstrap": t2 - t1}))
"""


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--draws", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seminr", default=None, help="python interpreter with seminr installed")
    ap.add_argument("--seminr-draws", type=int, default=100)
    args = ap.parse_args(argv)

    from analysis.plssem import pls

    df, model = simulate(args.n)
    print(f"data: {args.n} cases x {df.shape[1]} indicators, {K} constructs, {len(PATHS)} paths; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for label, opts in (("PLS, path weighting", {}), ("PLSc, path weighting", {"consistent": True}),
                        ("PLS, factorial", {"scheme": "factorial"})):
        est = min(_time(pls, model, df, bootstrap=0, **opts) for _ in range(args.repeat))
        boot = min(_time(pls, model, df, bootstrap=args.draws, seed=1, **opts)
                   for _ in range(args.repeat))
        rows.append((label, est, boot))
        print(f"{label:24s} estimate {est * 1000:7.1f} ms   estimate + {args.draws} draws "
              f"{boot:6.2f} s   ({(boot - est) / args.draws * 1000:.2f} ms/draw)", flush=True)
    if args.seminr:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "data.csv"
            df.to_csv(path, index=False)
            out = subprocess.run([args.seminr, "-c", _SEMINR_CHILD, str(path),
                                  str(args.seminr_draws)], capture_output=True, text=True)
        if out.returncode:
            print("seminr (PyPI) failed:", out.stderr.strip().splitlines()[-1:])
        else:
            r = json.loads(out.stdout.strip().splitlines()[-1])
            per = r["bootstrap"] / args.seminr_draws
            ours = (rows[0][2] - rows[0][1]) / args.draws
            print(f"seminr 0.2.1 (PyPI)      estimate {r['estimate'] * 1000:7.1f} ms   "
                  f"{args.seminr_draws} draws {r['bootstrap']:.2f} s -> {args.draws} draws "
                  f"~{per * args.draws:.0f} s ({per * 1000:.1f} ms/draw, {per / ours:.0f}x ours)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def _time(fn, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main(sys.argv[1:])
