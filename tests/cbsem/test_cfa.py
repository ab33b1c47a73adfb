"""Tests of analysis.cbsem.cfa that are not comparisons with R: convergence and internal
consistency on the cases of tests/reference/lavaan_reference.json, analytic against numerical
derivatives, warnings, bad input, simulation. The comparisons with lavaan (fit measures,
estimates, SEs, standardised solution, reliability, HTMT, group labels) are in the parity
catalogue (``tests/parity/catalogue.py``, section ``lavaan``).
"""

from __future__ import annotations

import importlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import config
from analysis.cbsem import CFAResults, cfa, htmt
from analysis.errors import EstimationWarning, InputError

REF = json.loads((config.TESTS_REFERENCE_DIR / "lavaan_reference.json").read_text())
DATA = config.PROJECT_ROOT / "tests" / "data"
HS = pd.read_csv(DATA / "holzinger1939.csv")
HS_MISSING = pd.read_csv(DATA / "holzinger1939_missing.csv")
MODEL = REF["header"]["model"]

_CACHE: dict[str, CFAResults] = {}


def _fit(key: str, data: pd.DataFrame, kwargs: dict, model: str = MODEL) -> CFAResults:
    if key not in _CACHE:
        _CACHE[key] = cfa(model, data, **kwargs)
    return _CACHE[key]


_GRP = {"group": "school"}
# the cases of lavaan_reference.json: key, data, options, model (the parity catalogue compares
# each with lavaan; here: convergence and the internal consistency of the result)
CASES = {
    "ml": (HS, {}, MODEL),
    "ml_stdlv": (HS, {"std_lv": True}, MODEL),
    "ml_meanstructure": (HS, {"meanstructure": True}, MODEL),
    "mlr": (HS, {"estimator": "MLR"}, MODEL),
    "ml_configural": (HS, _GRP, MODEL),
    "ml_metric": (HS, {**_GRP, "group_equal": ("loadings",)}, MODEL),
    "ml_metric_stdlv": (HS, {**_GRP, "group_equal": ("loadings",), "std_lv": True}, MODEL),
    "ml_scalar": (HS, {**_GRP, "group_equal": ("loadings", "intercepts")}, MODEL),
    "ml_scalar_partial": (
        HS,
        {
            **_GRP,
            "group_equal": ("loadings", "intercepts"),
            "group_partial": ["visual =~ x2", "x3 ~ 1"],
        },
        MODEL,
    ),
    "ml_strict": (HS, {**_GRP, "group_equal": ("loadings", "intercepts", "residuals")}, MODEL),
    "mlr_scalar": (
        HS,
        {**_GRP, "group_equal": ("loadings", "intercepts"), "estimator": "MLR"},
        MODEL,
    ),
    "listwise_missing": (HS_MISSING, {}, MODEL),
    "fiml": (HS_MISSING, {"missing": "fiml"}, MODEL),
    "fiml_mlr": (HS_MISSING, {"missing": "fiml", "estimator": "MLR"}, MODEL),
    "fiml_mlr_scalar": (
        HS_MISSING,
        {
            "missing": "fiml",
            "estimator": "MLR",
            **_GRP,
            "group_equal": ("loadings", "intercepts"),
        },
        MODEL,
    ),
    "sem_pd": (pd.read_csv(DATA / "political_democracy.csv"), {}, REF["pd_model"]),
    "sem_pd_mlr": (
        pd.read_csv(DATA / "political_democracy.csv"),
        {"estimator": "MLR"},
        REF["pd_model"],
    ),
    "ml_second_order": (HS, {}, REF["model_second_order"]),
    "mlr_second_order_stdlv": (
        HS,
        {"estimator": "MLR", "std_lv": True},
        REF["model_second_order"],
    ),
    "bfi_listwise_mlr": (pd.read_csv(DATA / "bfi.csv"), {"estimator": "MLR"}, REF["bfi_model"]),
    "bfi_fiml_mlr": (
        pd.read_csv(DATA / "bfi.csv"),
        {"missing": "fiml", "estimator": "MLR"},
        REF["bfi_model"],
    ),
}
_SLOW = {"bfi_fiml_mlr"}


@pytest.mark.parametrize(
    "key", [pytest.param(k, marks=pytest.mark.slow) if k in _SLOW else k for k in CASES]
)
def test_converges_and_standardises_consistently(key):
    data, kwargs, model = CASES[key]
    res = _fit(key, data, kwargs, model)
    assert res.converged
    assert res.warnings == []
    assert_allclose(res.params["std_all"], res.std_solution["estimate"])
    loads = res.std_loadings
    assert (loads["op"] == "=~").all()
    if model == MODEL:
        assert len(loads) == 9 * len(res.group_labels)


def test_trace_h1_closed_form_equals_pattern_computation():
    mod = importlib.import_module("analysis.cbsem._ml")
    data = importlib.import_module("analysis.cbsem._ml_data")

    x = HS[[f"x{i}" for i in range(1, 10)]].to_numpy(dtype=float)
    pats = data._patterns(x)
    d = data._GroupData(x, len(x), pats, True, pats[0].mean, pats[0].cov)
    closed = mod._yb_trace_h1([d], True)[0]
    d.complete = False  # force the generic (observed information, casewise scores) path
    generic = mod._yb_trace_h1([d], True)[0]
    assert_allclose(closed, generic, rtol=1e-6)


def test_observed_information_analytic_equals_numerical():
    mod = importlib.import_module("analysis.cbsem._ml")
    data = importlib.import_module("analysis.cbsem._ml_data")

    res = _fit("fiml", HS_MISSING, {"missing": "fiml"})
    gd, _ = data._prepare(HS_MISSING, res.sem_model.ov_names, None, "fiml")
    prob = mod._MLProblem(res.sem_model, gd, True)
    x = res.x + 0.05  # away from the optimum the second-derivative term matters
    assert_allclose(prob.observed_information(x), prob.numerical_observed_information(x), atol=1e-6)


def test_htmt_absolute_correlations():
    bfi = pd.read_csv(DATA / "bfi.csv")
    h = htmt("a =~ A1 + A2 + A3; c =~ C1 + C2 + C4", bfi)
    raw = htmt("a =~ A1 + A2 + A3; c =~ C1 + C2 + C4", bfi, absolute=False)
    assert 0 < h.loc["a", "c"] < 1
    assert h.loc["a", "c"] != raw.loc["a", "c"]


def test_group_sizes_in_group_order():
    res = _fit("ml_configural", HS, {"group": "school"})
    assert res.nobs == [int((HS["school"] == g).sum()) for g in res.group_labels]


def test_htmt_of_the_results_is_htmt():
    res = _fit("ml", HS, {})
    assert_allclose(res.htmt.to_numpy(), htmt(MODEL, HS).to_numpy(), atol=1e-12)


def test_results_tables():
    res = _fit("ml", HS, {})
    cols = ["lhs", "op", "rhs", "group", "estimate", "se", "statistic", "p_value", "ci_low",
            "ci_high", "std_all"]  # fmt: skip
    assert set(cols) <= set(res.to_frame().columns)
    summ = res.summary_frame()
    assert list(summ.columns) == ["measure", "estimate"]
    assert "<table" in res._repr_html_()
    sigma, _mu = res.implied()[0]
    assert sigma.shape == (9, 9)


def test_bad_input():
    with pytest.raises(InputError):
        cfa(MODEL, HS, estimator="GLS")
    with pytest.raises(InputError):
        cfa(MODEL, HS, missing="pairwise")
    with pytest.raises(InputError):
        cfa("f =~ x1 + nope + x3", HS)
    with pytest.raises(InputError):
        cfa("f =~ x1 + + x3", HS)
    bad = HS.assign(x1=["a"] * len(HS))
    with pytest.raises(InputError):
        cfa(MODEL, bad)


def _heywood_data(n=400, seed=3):
    """Two-indicator factor with a third indicator nearly identical to the first: the
    residual variance of x1 goes negative (a Heywood case)."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    x1 = f + rng.normal(scale=0.05, size=n)
    x2 = 0.3 * f + rng.normal(size=n)
    x3 = 0.3 * f + rng.normal(size=n)
    x3 = x3 + 0.9 * x2  # x2 and x3 share variance that the factor cannot explain
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3})


def test_heywood_case_warns():
    df = _heywood_data()
    with pytest.warns(EstimationWarning, match="Heywood"):
        res = cfa("f =~ x1 + x2 + x3", df)
    assert any("Heywood" in w for w in res.warnings)


def test_non_convergence_warns(monkeypatch):
    mod = importlib.import_module("analysis.cbsem._ml_fit")

    orig = mod._minimize
    monkeypatch.setattr(
        mod, "_minimize", lambda problem, x0: (orig(problem, x0, max_iter=1)[0], False, 1)
    )
    with pytest.warns(EstimationWarning, match="converge"):
        res = cfa(MODEL, HS)
    assert not res.converged
    assert any("converge" in w for w in res.warnings)


def test_unidentified_model_warns():
    # a factor with two indicators and no covariance with another factor is not identified
    df = HS
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = cfa("f =~ x1 + x2", df)
    assert any(issubclass(w.category, EstimationWarning) for w in rec)
    assert any("not identified" in w for w in res.warnings)


def test_singular_sample_covariance_warns():
    df = HS.assign(x1b=HS["x1"])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = cfa("f =~ x1 + x1b + x2 + x3", df)
    assert any("sample covariance" in str(w.message) for w in rec)
    assert any("sample covariance" in w for w in res.warnings)


def test_simulation_recovers_parameters():
    rng = np.random.default_rng(7)
    n = 20000
    f = rng.multivariate_normal([0, 0], [[1.0, 0.4], [0.4, 1.0]], size=n)
    lam = np.array([0.9, 0.8, 0.7])
    cols = {}
    for j in range(3):
        cols[f"a{j}"] = lam[j] * f[:, 0] + rng.normal(scale=0.6, size=n)
        cols[f"b{j}"] = lam[j] * f[:, 1] + rng.normal(scale=0.6, size=n)
    res = cfa("A =~ a0 + a1 + a2; B =~ b0 + b1 + b2", pd.DataFrame(cols), std_lv=True)
    p = res.params.set_index(["lhs", "op", "rhs"])
    assert_allclose(p.loc[("A", "=~", "a1"), "estimate"], 0.8, atol=0.03)
    assert_allclose(p.loc[("A", "~~", "B"), "estimate"], 0.4, atol=0.03)
    assert_allclose(p.loc[("b2", "~~", "b2"), "estimate"], 0.36, atol=0.03)


def test_fiml_optimiser_reaches_the_tolerance_with_few_information_matrices(monkeypatch):
    """Two scoring steps then BFGS: the gradient at the estimates is below the tolerance and
    the optimiser takes few expected information matrices (no observed one)."""
    mod = importlib.import_module("analysis.cbsem._ml")
    data = importlib.import_module("analysis.cbsem._ml_data")

    res = _fit("fiml", HS_MISSING, {"missing": "fiml"})
    gd, _ = data._prepare(HS_MISSING, res.sem_model.ov_names, None, "fiml")
    prob = mod._MLProblem(res.sem_model, gd, True)
    calls = {"expected": 0, "observed": 0}
    expected, observed = prob.expected_information, prob.observed_information

    def count(kind, fun):
        def wrapped(x):
            calls[kind] += 1
            return fun(x)

        return wrapped

    monkeypatch.setattr(prob, "expected_information", count("expected", expected))
    monkeypatch.setattr(prob, "observed_information", count("observed", observed))
    x, converged, _ = mod._minimize(prob, res.sem_model.x_start())
    assert converged
    assert np.max(np.abs(prob.objective(x)[1])) < 1e-9
    assert_allclose(x, res.x, rtol=1e-7, atol=1e-9)
    assert calls["observed"] == 0 and calls["expected"] <= 6
