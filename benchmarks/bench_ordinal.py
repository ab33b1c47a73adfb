"""Benchmark: ordinal methods of si-survey against R (psych, lavaan), side by side.

Generates 100,000 respondents x 30 five-point items from a 3-factor model (10 items per
factor, seed fixed), then times in separate child processes (so that each peak memory is
its own):

* ``analysis.psychometrics.polychoric``           vs ``psych::polychoric``
* ``analysis.cbsem.fit_wlsmv`` (3-factor CFA)  vs ``lavaan::cfa(..., ordered = TRUE)``
* ``analysis.psychometrics.parallel_analysis(corr="pearson")`` vs ``psych::fa.parallel`` (if present)

Timings exclude imports and reading the data (the same CSV for both); each si-survey task
is run ``--repeat`` times in its child and the fastest run is reported (R: once, its runs
are long). Peak memory is the child's maximum resident set size (``wait4`` rusage).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_ordinal.py            # n = 100000, with R if present
    .venv/bin/python benchmarks/bench_ordinal.py --n 20000 --no-r
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
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MODEL = "\n".join(
    f"F{f + 1} =~ " + " + ".join(f"x{10 * f + i + 1}" for i in range(10)) for f in range(3)
)


def make_data(n: int, seed: int = 20261127) -> pd.DataFrame:
    """n x 30 five-point items from a correlated 3-factor model (loadings 0.5-0.8)."""
    rng = np.random.default_rng(seed)
    p = 30
    lam = np.zeros((p, 3))
    for f in range(3):
        lam[10 * f : 10 * f + 10, f] = rng.uniform(0.5, 0.8, 10)
    phi = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.4], [0.2, 0.4, 1.0]])
    eta = rng.multivariate_normal(np.zeros(3), phi, size=n)
    resid_sd = np.sqrt(1.0 - np.einsum("ij,jk,ik->i", lam, phi, lam))
    ystar = eta @ lam.T + rng.normal(size=(n, p)) * resid_sd
    cuts = np.sort(rng.uniform(-1.6, 1.6, size=(p, 4)), axis=1)
    items = np.empty((n, p), dtype=np.int64)
    for j in range(p):
        items[:, j] = np.searchsorted(cuts[j], ystar[:, j]) + 1
    return pd.DataFrame(items, columns=[f"x{j + 1}" for j in range(p)])


PY_TASKS = {
    "polychoric": "from analysis.psychometrics import polychoric\nrun = lambda: polychoric(df)",
    "wlsmv_cfa": "from analysis.cbsem import fit_wlsmv\nrun = lambda: fit_wlsmv(MODEL, df, ordered=True)",
    "parallel_pearson": (
        "from analysis.psychometrics import parallel_analysis\n"
        "run = lambda: parallel_analysis(df, corr='pearson', seed=1)"
    ),
}

R_TASKS = {
    "polychoric": "res <- psych::polychoric(x)",
    "wlsmv_cfa": "res <- lavaan::cfa(model, data = x, ordered = TRUE, estimator = 'WLSMV')",
    "parallel_pearson": "res <- psych::fa.parallel(x, plot = FALSE)",
}


def _child(cmd: list[str], env=None) -> tuple[dict, float]:
    """Run a child process; return its JSON output and its peak RSS in MB."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{err[-2000:]}")
    line = [ln for ln in out.splitlines() if ln.startswith("{")][-1]
    return json.loads(line), usage.ru_maxrss / 1024.0  # Linux: kilobytes


def run_python(task: str, csv: Path, repeat: int) -> tuple[float, float]:
    code = (
        textwrap.dedent(
            f"""
        import json, time, warnings
        import pandas as pd
        warnings.simplefilter("ignore")
        MODEL = {MODEL!r}
        df = pd.read_csv({str(csv)!r})
        """
        )
        + PY_TASKS[task]
        + textwrap.dedent(
            f"""
        best = float("inf")
        for _ in range({repeat}):
            t0 = time.perf_counter(); run(); best = min(best, time.perf_counter() - t0)
        print(json.dumps({{"seconds": best}}))
        """
        )
    )
    res, mb = _child([sys.executable, "-c", code])
    return res["seconds"], mb


def run_r(task: str, csv: Path) -> tuple[float, float]:
    model = MODEL.replace("\n", "\\n")
    code = (
        "suppressPackageStartupMessages({library(psych); library(lavaan)})\n"
        f"x <- read.csv('{csv}')\nmodel <- \"{model}\"\n"
        f"t <- system.time({{ {R_TASKS[task]} }})[['elapsed']]\n"
        "cat(sprintf('{\"seconds\": %.6f}\\n', t))\n"
    )
    res, mb = _child(["Rscript", "-e", code])
    return res["seconds"], mb


def r_versions() -> str:
    try:
        out = subprocess.run(
            [
                "Rscript",
                "-e",
                "cat(R.version.string, '| psych', as.character(packageVersion('psych')),"
                " '| lavaan', as.character(packageVersion('lavaan')))",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "R not available"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true", help="skip the R side")
    ap.add_argument("--tasks", default="polychoric,wlsmv_cfa,parallel_pearson")
    args = ap.parse_args(argv)
    have_r = not args.no_r and shutil.which("Rscript") is not None
    tmp = Path(tempfile.mkdtemp(prefix="bench_ordinal_"))
    csv = tmp / "items.csv"
    make_data(args.n).to_csv(csv, index=False)

    print(
        f"data: {args.n} x 30 five-point items, 3 factors; cores: {os.cpu_count()}; "
        f"load average at start: {os.getloadavg()[0]:.1f}"
    )
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}")
    print(r_versions() if have_r else "R: skipped")
    print(f"{'task':<18}{'si-survey s':>12}{'R s':>10}{'ratio':>8}{'py MB':>9}{'R MB':>9}")
    rows = []
    for task in args.tasks.split(","):
        try:
            t_py, mb_py = run_python(task, csv, args.repeat)
        except RuntimeError as exc:
            print(f"{task:<18} si-survey failed: {str(exc).splitlines()[-1]}")
            continue
        t_r = mb_r = float("nan")
        if have_r:
            try:
                t_r, mb_r = run_r(task, csv)
            except RuntimeError as exc:
                print(f"{task:<18} R failed: {str(exc).splitlines()[-1]}")
        ratio = t_r / t_py if t_py > 0 else float("nan")
        rows.append(dict(task=task, py_s=t_py, r_s=t_r, ratio=ratio, py_mb=mb_py, r_mb=mb_r))
        print(
            f"{task:<18}{t_py:>12.3f}{t_r:>10.3f}{ratio:>8.1f}{mb_py:>9.0f}{mb_r:>9.0f}", flush=True
        )
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
