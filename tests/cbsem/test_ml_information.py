"""The fast information matrices of FIML equal the generic pattern-wise computation.

``_MLProblem`` uses low-rank factors of the covariance derivatives when the data have several
missing-data patterns, and a closed form (Gram matrices over patterns) for the saturated
model; both must equal the dense formulas to rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis.cbsem._ml as ml
import analysis.cbsem._ml_data as ml_data
from analysis import config
from analysis.cbsem._matrices import SEMModel
from analysis.cbsem._partable import build_partable, start_values

HS_MISSING = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939_missing.csv")
HS = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
ITEMS = [f"x{i}" for i in range(1, 10)]
MODELS = [
    "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9",
    "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9\n"
    "speed ~ visual + textual\nx1 ~~ x4",
    "visual =~ x1 + a*x2 + a*x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9",
]


@pytest.mark.parametrize("model", MODELS)
def test_lowrank_information_equals_dense(model, monkeypatch):
    gd, _ = ml_data._prepare(HS_MISSING, build_partable(model).attrs["ov_names"], None, "fiml")
    pt = build_partable(model, meanstructure=True)
    pt = start_values(pt, [d.cov for d in gd], [d.mean for d in gd])
    prob = ml._MLProblem(SEMModel(pt), gd, True)
    x = prob.model.x_start() + 0.05
    fast = prob.expected_information(x), prob.observed_information(x)
    monkeypatch.setattr(ml._MLProblem, "_lowrank", lambda self: False)
    dense = prob.expected_information(x), prob.observed_information(x)
    for a, b in zip(fast, dense):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("data, missing", [(HS_MISSING, "fiml"), (HS, "listwise")])
def test_saturated_closed_form_equals_generic(data, missing, monkeypatch):
    gd, _ = ml_data._prepare(data, ITEMS, None, missing)
    sat = ml._SaturatedModel(len(ITEMS))
    prob = ml._MLProblem(sat, gd, True)
    x = sat.pack(gd[0].cov, gd[0].mean) + 0.01
    fast = prob.expected_information(x), prob.observed_information(x)

    class NotSaturated:
        pass

    monkeypatch.setattr(ml, "_SaturatedModel", NotSaturated)
    generic = prob.expected_information(x), prob.observed_information(x)
    for a, b in zip(fast, generic):
        np.testing.assert_allclose(a, b, atol=1e-12)
