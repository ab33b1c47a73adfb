"""Benchmark: bootstrap of the PoliticalDemocracy SEM, si-survey vs lavaan, in one run.

``analysis.cbsem.sem(model, data, se="bootstrap", bootstrap=1000)`` against
``lavaan::sem(model, data, se = "bootstrap", bootstrap = 1000)`` on the same model (latent
regressions, equality constraints, residual covariances, defined indirect and total effects)
and the same number of draws; both on one BLAS thread. Prints the two wall times and the ratio.

With ``--fiml-demo`` it times instead the demo CFA with FIML (issue 15: the first-order
measurement model of ``constructs.yaml`` on the demo data, 60 items, 290 missing-data patterns,
``estimator="MLR"``) against ``lavaan::cfa(..., estimator = "MLR", missing = "ml")``; the demo
data must have been prepared (``python -m analysis run``).

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/bench_sem.py [--draws 1000] [--fiml-demo]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "political_democracy.csv"
MODEL = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ g1*ind60
  dem65 ~ g2*ind60 + g3*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  indirect := g1*g3
  total := g2 + g1*g3
"""

R_SCRIPT = """
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{data}")
m <- readLines("{model}")
set.seed(1)
t0 <- Sys.time()
fit <- sem(paste(m, collapse = "\\n"), data = d, se = "bootstrap", bootstrap = {draws})
el <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
pe <- parameterEstimates(fit)
cat(el, pe$se[pe$lhs == "indirect"], "\\n")
"""


def run_python(draws: int) -> tuple[float, float]:
    from analysis.cbsem import sem

    data = pd.read_csv(DATA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = sem(MODEL, data, se="bootstrap", bootstrap=draws, seed=1)
        el = time.perf_counter() - t0
    se = float(res.params.set_index("lhs").loc["indirect", "se"])
    return el, se


def run_r(draws: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        mfile = Path(tmp) / "model.txt"
        mfile.write_text(MODEL)
        sfile = Path(tmp) / "bench.R"
        sfile.write_text(R_SCRIPT.format(data=DATA, model=mfile, draws=draws))
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        out = subprocess.run(
            ["Rscript", str(sfile)], capture_output=True, text=True, check=True, env=env
        )
    el, se = out.stdout.split()[-2:]
    return float(el), float(se)


R_FIML = """
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{data}")
m <- paste(readLines("{model}"), collapse = "\\n")
t0 <- Sys.time()
fit <- cfa(m, data = d, estimator = "MLR", missing = "ml")
el <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
cat(el, fitMeasures(fit, "chisq"), "\\n")
"""


def demo_cfa_inputs() -> tuple[str, pd.DataFrame]:
    """The demo CFA of the report (model and items), as ``report.build_cfa`` fits it."""
    from analysis.report._common import cached_items as _cached_items
    from analysis.report._common import first_order_model as _first_order_model
    from analysis.report._context import ReportContext
    from analysis.report._plan import load_table_plan
    from analysis.report._texts import load_study_labels, load_texts
    from analysis.study._constructs import load_constructs
    from analysis.study._dataset import load_survey, prepare_analysis_data
    from analysis.study._instrument import codebook

    spec = load_constructs()
    data = prepare_analysis_data(load_survey(), spec)
    ctx = ReportContext(data=data, flow=None, codebook=codebook(), spec=spec, plan=load_table_plan(),
                        lang="fr", demo=True, texts=load_texts("fr", None),
                        labels=load_study_labels(None))  # fmt: skip
    names = [c.name for c in ctx.spec.reflective]
    model, _ = _first_order_model(ctx, names)
    items = _cached_items(ctx)
    return model, items[[i for i in items.columns if any(i in ctx.spec[c].items for c in names)]]


def run_fiml_demo() -> None:
    from analysis.cbsem import cfa

    model, items = demo_cfa_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = cfa(model, items, estimator="MLR", missing="fiml")
        py_t = time.perf_counter() - t0
    print(json.dumps({"si_survey_seconds": round(py_t, 2), "chisq": float(res.fit["chisq"])}))
    with tempfile.TemporaryDirectory() as tmp:
        dfile, mfile, sfile = (Path(tmp) / n for n in ("items.csv", "model.txt", "fiml.R"))
        items.to_csv(dfile, index=False)
        mfile.write_text(model)
        sfile.write_text(R_FIML.format(data=dfile, model=mfile))
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        out = subprocess.run(
            ["Rscript", str(sfile)], capture_output=True, text=True, check=True, env=env
        )
    r_t, r_chisq = (float(v) for v in out.stdout.split()[-2:])
    print(json.dumps({"lavaan_seconds": round(r_t, 2), "chisq": r_chisq}))
    print(f"demo CFA, FIML, MLR: si-survey {py_t:.2f} s, lavaan {r_t:.2f} s, "
          f"lavaan / si-survey = {r_t / py_t:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--fiml-demo", action="store_true", help="time the demo CFA with FIML")
    args = ap.parse_args()
    if args.fiml_demo:
        run_fiml_demo()
        return
    py_t, py_se = run_python(args.draws)
    print(json.dumps({"si_survey_seconds": round(py_t, 2), "si_survey_se_indirect": py_se}))
    r_t, r_se = run_r(args.draws)
    print(json.dumps({"lavaan_seconds": round(r_t, 2), "lavaan_se_indirect": r_se}))
    print(
        f"bootstrap {args.draws} draws: si-survey {py_t:.2f} s, lavaan {r_t:.2f} s, "
        f"lavaan / si-survey = {r_t / py_t:.1f}x"
    )


if __name__ == "__main__":
    main()
