"""Parity of analysis.cbsem._cfa with R lavaan 0.6 (values in tests/reference/lavaan_reference.json).

One comparison mixin, several reference cases (ML, MLR, std.lv, mean structure, multi-group
configural/metric/scalar, FIML, listwise on the masked data). Tolerances:

* fit measures: 1e-4 relative (chisq, AIC, BIC, logl are large numbers; indices such as CFI
  or RMSEA are in [0, 1] where 1e-4 relative is tighter than 1e-4 absolute); p-values get an
  absolute 1e-8 floor because tiny p-values amplify the optimiser's last digits.
* estimates, SEs, standardised loadings: 1e-4 absolute (lavaan stops its optimiser at a
  relative tolerance near 1e-10 of the fit function, which moves estimates by ~1e-6).
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

# lavaan names of the fit measures compared (those we compute for the case)
_BASE_FIT = [
    "npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli",
    "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr", "aic", "bic", "bic2",
    "logl", "unrestricted.logl",
]  # fmt: skip
_SCALED_FIT = [
    "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.chisq.scaling.factor",
    "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust", "rmsea.scaled",
    "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled", "rmsea.robust",
    "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
]  # fmt: skip

_CACHE: dict[str, CFAResults] = {}


def _fit(key: str, data: pd.DataFrame, kwargs: dict, model: str = MODEL) -> CFAResults:
    if key not in _CACHE:
        _CACHE[key] = cfa(model, data, **kwargs)
    return _CACHE[key]


def _ref_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if "group" not in df:
        df["group"] = 1
    return df


class CheckLavaan:
    """Compare one fitted case with its lavaan reference."""

    key: str
    data = HS
    kwargs: dict = {}
    model = MODEL
    fit_names = _BASE_FIT

    @property
    def res(self) -> CFAResults:
        return _fit(self.key, self.data, self.kwargs, self.model)

    @property
    def ref(self) -> dict:
        return REF[self.key]

    def test_converged(self):
        assert self.res.converged
        assert self.res.warnings == []

    def test_fit_measures(self):
        for name in self.fit_names:
            want = self.ref["fit"][name]
            got = self.res.fit[name.replace(".", "_")]
            atol = 1e-8 if "pvalue" in name else 1e-12
            assert_allclose(got, want, rtol=1e-4, atol=atol, err_msg=name)

    def test_params(self):
        ref = _ref_frame(self.ref["params"])
        m = self.res.params.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
        assert len(m) == len(ref) == len(self.res.params)
        assert_allclose(m["estimate"], m["est"], atol=1e-4)
        assert_allclose(m["se"], m["se_r"], atol=1e-4)
        free = m["free"].to_numpy()
        assert_allclose(m["statistic"][free], m["z"][free].astype(float), rtol=1e-3, atol=1e-3)
        assert_allclose(m["ci_low"], m["ci.lower"], atol=1e-4)
        assert_allclose(m["ci_high"], m["ci.upper"], atol=1e-4)

    def test_standardized(self):
        ref = _ref_frame(self.ref["std"])
        m = self.res.std_solution.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
        assert len(m) == len(ref)
        assert_allclose(m["estimate"], m["est.std"], atol=1e-4)
        assert_allclose(m["se"], m["se_r"].astype(float).fillna(0.0), atol=1e-4)
        loads = self.res.std_loadings
        assert (loads["op"] == "=~").all() and len(loads) == 9 * len(self.res.group_labels)
        assert_allclose(self.res.params["std_all"], self.res.std_solution["estimate"])

    def test_reliability(self):
        ref = pd.DataFrame(self.ref["reliability"])
        for g, lab in enumerate(self.res.group_labels, start=1):
            r = ref[ref["group"] == g].set_index("factor")
            assert_allclose(
                self.res.composite_reliability[lab].loc[r.index],
                r["composite_reliability"],
                atol=1e-4,
            )
            assert_allclose(self.res.ave[lab].loc[r.index], r["ave"], atol=1e-4)


class TestML(CheckLavaan):
    key = "ml"


class TestMLStdLv(CheckLavaan):
    key = "ml_stdlv"
    kwargs = {"std_lv": True}


class TestMLMeanstructure(CheckLavaan):
    key = "ml_meanstructure"
    kwargs = {"meanstructure": True}


class TestMLR(CheckLavaan):
    key = "mlr"
    kwargs = {"estimator": "MLR"}
    fit_names = _BASE_FIT + _SCALED_FIT


class TestConfigural(CheckLavaan):
    key = "ml_configural"
    kwargs = {"group": "school"}


class TestMetric(CheckLavaan):
    key = "ml_metric"
    kwargs = {"group": "school", "group_equal": ("loadings",)}


class TestScalar(CheckLavaan):
    key = "ml_scalar"
    kwargs = {"group": "school", "group_equal": ("loadings", "intercepts")}


class TestScalarPartial(CheckLavaan):
    key = "ml_scalar_partial"
    kwargs = {
        "group": "school",
        "group_equal": ("loadings", "intercepts"),
        "group_partial": ["visual =~ x2", "x3 ~ 1"],
    }


class TestStrict(CheckLavaan):
    key = "ml_strict"
    kwargs = {"group": "school", "group_equal": ("loadings", "intercepts", "residuals")}


class TestMLRScalar(CheckLavaan):
    key = "mlr_scalar"
    kwargs = {"group": "school", "group_equal": ("loadings", "intercepts"), "estimator": "MLR"}
    fit_names = _BASE_FIT + _SCALED_FIT


class TestListwiseOnMasked(CheckLavaan):
    key = "listwise_missing"
    data = HS_MISSING


_ROBUST_FIT = [n for n in _SCALED_FIT if "robust" in n]


class TestFIML(CheckLavaan):
    key = "fiml"
    data = HS_MISSING
    kwargs = {"missing": "fiml"}
    # lavaan reports FIML-corrected robust CFI/TLI/RMSEA even for ML
    fit_names = _BASE_FIT + _ROBUST_FIT


class TestFIMLMLR(CheckLavaan):
    key = "fiml_mlr"
    data = HS_MISSING
    kwargs = {"missing": "fiml", "estimator": "MLR"}
    fit_names = _BASE_FIT + _SCALED_FIT


class TestFIMLMLRScalar(CheckLavaan):
    """Multiple groups with FIML and MLR (scalar invariance)."""

    key = "fiml_mlr_scalar"
    data = HS_MISSING
    kwargs = {
        "missing": "fiml",
        "estimator": "MLR",
        "group": "school",
        "group_equal": ("loadings", "intercepts"),
    }
    fit_names = _BASE_FIT + _SCALED_FIT


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


class TestSEMPoliticalDemocracy(CheckLavaan):
    """Latent regressions and residual covariances (lavaan's sem() example)."""

    key = "sem_pd"
    data = pd.read_csv(DATA / "political_democracy.csv")
    model = REF["pd_model"]

    def test_standardized(self):
        ref = _ref_frame(self.ref["std"])
        m = self.res.std_solution.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
        assert len(m) == len(ref)
        assert_allclose(m["estimate"], m["est.std"], atol=1e-4)
        assert_allclose(m["se"], m["se_r"].astype(float).fillna(0.0), atol=1e-4)


class TestSEMPoliticalDemocracyMLR(TestSEMPoliticalDemocracy):
    key = "sem_pd_mlr"
    kwargs = {"estimator": "MLR"}
    fit_names = _BASE_FIT + _SCALED_FIT


class TestSecondOrder(CheckLavaan):
    """A second-order factor (g =~ visual + textual + speed)."""

    key = "ml_second_order"
    model = REF["model_second_order"]

    def test_standardized(self):
        TestSEMPoliticalDemocracy.test_standardized(self)


class TestSecondOrderMLRStdLv(TestSecondOrder):
    key = "mlr_second_order_stdlv"
    kwargs = {"estimator": "MLR", "std_lv": True}
    fit_names = _BASE_FIT + _SCALED_FIT


class TestMetricStdLv(CheckLavaan):
    key = "ml_metric_stdlv"
    kwargs = {"group": "school", "group_equal": ("loadings",), "std_lv": True}


class TestBfiListwiseMLR(CheckLavaan):
    """Real data (psych::bfi, 25 items, 2,800 respondents), listwise deletion."""

    key = "bfi_listwise_mlr"
    data = pd.read_csv(DATA / "bfi.csv")
    model = REF["bfi_model"]
    kwargs = {"estimator": "MLR"}
    fit_names = _BASE_FIT + _SCALED_FIT

    def test_standardized(self):
        TestSEMPoliticalDemocracy.test_standardized(self)


@pytest.mark.slow
class TestBfiFIMLMLR(TestBfiListwiseMLR):
    """Real missing values (about 90 patterns) with FIML and MLR."""

    key = "bfi_fiml_mlr"
    kwargs = {"missing": "fiml", "estimator": "MLR"}
    fit_names = _BASE_FIT + _SCALED_FIT


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


def test_group_labels_in_data_order():
    res = _fit("ml_configural", HS, {"group": "school"})
    assert res.group_labels == REF["group_labels"]
    assert res.nobs == [int((HS["school"] == g).sum()) for g in res.group_labels]


def test_htmt_matches_reference():
    got = htmt(MODEL, HS)
    assert_allclose(got.to_numpy(), np.array(REF["htmt"]), atol=1e-10)
    res = _fit("ml", HS, {})
    assert_allclose(res.htmt.to_numpy(), np.array(REF["htmt"]), atol=1e-10)
    bfi = pd.read_csv(DATA / "bfi.csv")
    assert_allclose(htmt(REF["bfi_model"], bfi).to_numpy(), np.array(REF["bfi_htmt"]), atol=1e-10)


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
