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


def _likert_missing(n=3000, p=6, seed=3):
    """Integer answers 1-5 with a large complete pattern and a few incomplete ones."""
    rng = np.random.default_rng(seed)
    lat = rng.normal(size=(n, 1))
    x = np.clip(np.round(3 + lat + rng.normal(size=(n, p))), 1, 5)
    x[rng.random(n) < 0.1, 0] = np.nan
    x[rng.random(n) < 0.05, 3] = np.nan
    return pd.DataFrame(x, columns=[f"y{i}" for i in range(p)])


@pytest.mark.parametrize("shift", [0.0, 0.37])
def test_saturated_score_cross_integer_route(shift, monkeypatch):
    """The exact raw-moment route of large integer patterns equals the casewise product; data
    that are not integers (shift) take the casewise product."""
    data = _likert_missing() + shift
    gd, _ = ml_data._prepare(data, list(data.columns), None, "fiml")
    d = gd[0]
    assert max(pat.n for pat in d.patterns) >= 4 * (6 * 9 // 2 + 1)  # the route is taken
    fast = ml._saturated_score_cross(d)
    monkeypatch.setattr(ml, "_integer_moment_cross", lambda *a: None)
    casewise = ml._saturated_score_cross(d)
    np.testing.assert_allclose(fast, casewise, rtol=1e-11, atol=1e-11 * np.abs(casewise).max())


def test_unique_rows_equals_numpy_unique():
    rng = np.random.default_rng(4)
    for p in (5, 64, 70):
        obs = rng.random((400, p)) < 0.95
        keys, inv = ml_data._unique_rows(obs)
        ref_keys, ref_inv = np.unique(obs, axis=0, return_inverse=True)
        np.testing.assert_array_equal(keys, ref_keys)
        np.testing.assert_array_equal(inv, np.asarray(ref_inv).ravel())


def test_objective_from_cases_equals_pattern_moments():
    """Size groups of patterns with few cases take the fit function and its gradient from the
    cases; the pattern moments give the same values."""
    model = MODELS[1]
    gd, _ = ml_data._prepare(HS_MISSING, build_partable(model).attrs["ov_names"], None, "fiml")
    pt = start_values(build_partable(model, meanstructure=True), [d.cov for d in gd],
                      [d.mean for d in gd])
    prob = ml._MLProblem(SEMModel(pt), gd, True)
    x = prob.model.x_start() + 0.05
    groups = ml._size_groups(gd[0])
    assert any(b.case_x is not None for b in groups)  # the case route is taken
    f1, g1 = prob.objective(x)
    for b in groups:
        b.case_x = None
    prob._inv_cache = {}
    f2, g2 = prob.objective(x)
    np.testing.assert_allclose(f1, f2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-12)
