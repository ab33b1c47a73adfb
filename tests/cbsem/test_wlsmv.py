"""Tests for analysis.cbsem._wlsmv against lavaan 0.6-14 (tests/reference/ordinal_reference.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.cbsem import (
    fit_wlsmv,
    ordinal_invariance,
    sample_statistics,
    wlsmv_difference_test,
)
from analysis.errors import InputError

HERE = Path(__file__).parents[1]
REF = json.loads((HERE / "reference" / "ordinal_reference.json").read_text())
MODEL = "N =~ N1 + N2 + N3 + N4 + N5\nC =~ C1 + C2 + C3 + C4 + C5"

# fit measures compared with lavaan's fitMeasures(); chi-squares relative, the rest absolute
CHISQ_LIKE = ["chisq", "chisq.scaled", "baseline.chisq", "baseline.chisq.scaled"]
INDICES = [
    "df",
    "npar",
    "fmin",
    "chisq.scaling.factor",
    "cfi",
    "tli",
    "cfi.scaled",
    "tli.scaled",
    "rmsea",
    "rmsea.scaled",
    "cfi.robust",
    "tli.robust",
    "rmsea.robust",
    "srmr",
    "srmr_bentler",
    "crmr",
    "wrmr",
    "pvalue.scaled",
]


@pytest.fixture(scope="module")
def fit(bfi):
    return fit_wlsmv(MODEL, bfi, ordered=True)


class CheckLavaanFit:
    """Comparison mixin: fit measures and parameters of a WLSMVResult vs lavaan's."""

    def check_fit_measures(self, res, ref_fit):
        for k in CHISQ_LIKE:
            # lavaan stops nlminb at ~1e-10 in F; we converge tighter -> 1e-6 relative is ample
            assert res.fit_measures[k] == pytest.approx(ref_fit[k], rel=1e-5), k
        for k in INDICES:
            if k in ref_fit and ref_fit[k] is not None:
                assert res.fit_measures[k] == pytest.approx(ref_fit[k], abs=1e-5, rel=1e-5), k

    def check_params(self, res, ref_params, est_col="est", tol_est=1e-4, tol_se=1e-4):
        ref = pd.DataFrame(ref_params)
        keys = ["lhs", "op", "rhs"] + (["group"] if "group" in ref.columns else [])
        m = res.params.merge(ref, on=keys, suffixes=("", "_ref"), validate="one_to_one")
        assert len(m) == len(ref)
        assert_allclose(m["estimate"], m[est_col], atol=tol_est)
        assert_allclose(m["se"], m["se_ref"], atol=tol_se)


class TestSingleGroup(CheckLavaanFit):
    ref = REF["cfa_NC"]

    def test_sample_statistics(self, fit):
        s = fit.sample[0]
        assert fit.nobs == [self.ref["nobs"]]
        assert_allclose(s.th, self.ref["sample_th"], atol=1e-12)
        # polychoric correlations: both iterate to full precision
        iu = np.tril_indices(10, -1)
        assert_allclose(s.R[iu], np.array(self.ref["sample_cor"]["values"])[iu], atol=1e-6)
        # asymptotic covariance matrix (lavInspect(fit, "gamma")); saturated thresholds:
        # the threshold x correlation block is not needed and not computed
        gamma = np.array(self.ref["gamma"])
        assert not s.cross_computed
        nth = len(s.th)
        assert_allclose(s.nacov[:nth, :nth], gamma[:nth, :nth], atol=1e-6)
        assert_allclose(s.nacov[nth:, nth:], gamma[nth:, nth:], atol=1e-6)

    def test_full_nacov(self, bfi):
        items = [f"N{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
        codes = bfi[items].dropna().to_numpy(dtype=int) - 1
        s = sample_statistics(codes, np.full(10, 6))
        assert s.cross_computed
        assert_allclose(s.nacov, np.array(self.ref["gamma"]), atol=1e-6)

    def test_fit_measures(self, fit):
        self.check_fit_measures(fit, self.ref["fit"])
        assert fit.converged and not fit.warnings

    def test_parameters(self, fit):
        self.check_params(fit, self.ref["params"])

    def test_standardized_loadings(self, fit):
        ref = pd.DataFrame(self.ref["std"])
        m = fit.params.merge(ref, on=["lhs", "op", "rhs"])
        assert_allclose(m["std_all"], m["est.std"], atol=1e-6)
        lo = fit.standardized()
        assert set(lo.columns) == {"lhs", "op", "rhs", "group", "std_all"}
        # standardizedSolution(): estimates and delta-method SEs
        m2 = fit.std_solution.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
        assert len(m2) == len(fit.std_solution)
        assert_allclose(m2["estimate"], m2["est.std"], atol=1e-6)
        assert_allclose(m2["se"], m2["se_ref"], atol=1e-6)
        assert len(fit.std_loadings) == 10

    def test_result_api(self, fit):
        t = fit.to_frame()
        for c in ["estimate", "se", "statistic", "p_value", "ci_low", "ci_high"]:
            assert c in t.columns
        assert "cfi_scaled" in fit.fit_frame().index
        assert fit.fit["scaling_factor"] == fit.fit_measures["chisq.scaling.factor"]
        assert list(fit.summary_frame().columns) == ["measure", "estimate"]
        assert "<table" in fit._repr_html_()
        assert "WLSMV" in repr(fit)


@pytest.fixture(scope="module")
def invariance(bfi):
    return ordinal_invariance(MODEL, bfi, group="gender")


class TestInvariance(CheckLavaanFit):
    ref = REF["invariance_gender"]

    @pytest.mark.parametrize("step", ["configural", "thresholds", "thresholds_loadings"])
    def test_fit_measures(self, invariance, step):
        fits, _ = invariance
        self.check_fit_measures(fits[step], self.ref[step]["fit"])

    @pytest.mark.parametrize("step", ["configural", "thresholds", "thresholds_loadings"])
    def test_parameters(self, invariance, step):
        fits, _ = invariance
        ref = pd.DataFrame(self.ref[step]["partable"])
        ref = ref[ref["op"] != "=="]  # lavaan's explicit equality rows
        ref = ref.rename(columns={"se": "se_ref"})[["lhs", "op", "rhs", "group", "est", "se_ref"]]
        m = fits[step].params.merge(ref, on=["lhs", "op", "rhs", "group"])
        assert len(m) == len(ref)
        # lavaan's nlminb stops ~2e-5 short in the constrained models (our F is lower there)
        assert_allclose(m["estimate"], m["est"], atol=1e-4)
        assert_allclose(m["se"], m["se_ref"], atol=1e-5)

    def test_difference_tests(self, invariance):
        _, table = invariance
        lrt = pd.DataFrame(self.ref["lrt"])
        # lavTestLRT(method = "satorra.2000"): 1e-3 relative is the acceptance bar
        assert_allclose(
            table["statistic"].iloc[1:], lrt["chisq_diff"].iloc[1:].astype(float), rtol=1e-4
        )
        assert_allclose(table["df_diff"].iloc[1:], lrt["df_diff"].iloc[1:].astype(float))
        assert_allclose(table["p_value"].iloc[1:], lrt["p_value"].iloc[1:].astype(float), rtol=1e-3)

    def test_measurement_invariance_hook(self, bfi):
        # measurement_invariance finds estimator="WLSMV" in the estimator table (small model: fast)
        from analysis.cbsem import measurement_invariance

        m = "N =~ N1 + N2 + N3 + N4 + N5"
        fits, table = ordinal_invariance(m, bfi, group="gender")
        mi = measurement_invariance(
            m,
            bfi,
            "gender",
            estimator="WLSMV",
            levels=["configural", "thresholds", "thresholds+loadings"],
        )
        assert_allclose(
            mi.comparison["delta_chisq"].iloc[1:], table["statistic"].iloc[1:], rtol=1e-8
        )
        assert_allclose(mi.comparison["chisq_scaled"], table["chisq_scaled"], rtol=1e-8)

    def test_difference_test_direction(self, invariance):
        fits, _ = invariance
        with pytest.raises(InputError):
            wlsmv_difference_test(fits["configural"], fits["thresholds"])


def test_bad_input(bfi):
    with pytest.raises(InputError):
        fit_wlsmv("F =~ N1 + N2 + nope", bfi)
    with pytest.raises(InputError):
        fit_wlsmv(MODEL, bfi, ordered=["N1"])
    with pytest.raises(InputError):
        fit_wlsmv(MODEL, bfi, missing="pairwise")
    with pytest.raises(InputError):
        fit_wlsmv(MODEL, bfi, ordered=False)


def test_recovers_simulated_loadings():
    rng = np.random.default_rng(11)
    n = 3000
    f = rng.normal(size=n)
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    y = f[:, None] * lam + rng.normal(size=(n, 4)) * np.sqrt(1 - lam**2)
    d = pd.DataFrame(np.digitize(y, [-1.0, 0.0, 1.0]) + 1, columns=["a", "b", "c", "d"])
    res = fit_wlsmv("F =~ a + b + c + d", d, std_lv=True)
    load = res.params.query("op == '=~'")["std_all"].to_numpy()
    assert_allclose(load, lam, atol=0.05)
    assert res.fit_measures["df"] == 2


class TestBinary(CheckLavaanFit):
    """Dichotomised N items: tetrachoric correlations inside WLSMV (lavaan 2 x 2 path)."""

    ref = REF["cfa_binary_N"]

    def test_fit_and_params(self, bfi):
        items = [f"N{i}" for i in range(1, 6)]
        b = (bfi[items] > 3).astype(float).where(bfi[items].notna())
        res = fit_wlsmv("N =~ N1 + N2 + N3 + N4 + N5", b)
        assert res.nobs == [self.ref["nobs"]]
        self.check_fit_measures(res, self.ref["fit"])
        self.check_params(res, self.ref["params"], tol_est=1e-6, tol_se=1e-6)


def test_zero_cell_2x2_keeps_margins():
    from analysis.cbsem._wlsmv_stats import _zero_cells_2x2

    tab = np.array([[[0.0, 5.0], [7.0, 20.0]], [[3.0, 0.0], [0.0, 9.0]]])
    out, fixed, n_adj = _zero_cells_2x2(tab, np.array([2, 2]), np.array([2, 2]))
    assert n_adj == 1
    assert_allclose(out[0], [[0.5, 4.5], [6.5, 20.5]])
    assert_allclose(out[0].sum(axis=0), tab[0].sum(axis=0))
    assert fixed[1] == 1.0 and np.isnan(fixed[0])


class TestCrossLoading(CheckLavaanFit):
    """A cross-loading (C =~ N4) and a residual covariance between latent responses."""

    ref = REF["cfa_crossloading"]

    def test_fit_params_std(self, bfi):
        m = MODEL + " + N4\nN1 ~~ N2"
        res = fit_wlsmv(m, bfi)
        self.check_fit_measures(res, self.ref["fit"])
        self.check_params(res, self.ref["params"], tol_est=1e-5, tol_se=1e-6)
        ref = pd.DataFrame(self.ref["std"])
        m2 = res.std_solution.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
        assert len(m2) == len(res.std_solution)
        # residual covariance standardised as a residual correlation, as lavaan
        assert_allclose(m2["estimate"], m2["est.std"], atol=1e-5)
        assert_allclose(m2["se"], m2["se_ref"], atol=1e-6)


class TestSecondOrder(CheckLavaanFit):
    """Second-order factor: loadings of factors on G (lavaan's beta), their std.all."""

    ref = REF["cfa_second_order"]

    def test_fit_params_std(self, bfi):
        m = MODEL + "\nE =~ E1 + E2 + E3 + E4 + E5\nA =~ A1 + A2 + A3 + A4 + A5\nG =~ N + C + E + A"
        res = fit_wlsmv(m, bfi)
        self.check_fit_measures(res, self.ref["fit"])
        self.check_params(res, self.ref["params"], tol_est=1e-4, tol_se=1e-5)
        ref = pd.DataFrame(self.ref["std"])
        m2 = res.std_solution.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
        assert len(m2) == len(res.std_solution)
        assert_allclose(m2["estimate"], m2["est.std"], atol=1e-5)
        assert_allclose(m2["se"], m2["se_ref"], atol=1e-6)


def test_cfa_dispatches_wlsmv():
    """cfa(..., estimator="WLSMV") and cfa(..., ordered=[...]) give the fit_wlsmv result."""
    import pandas as pd

    from analysis import config
    from analysis.cbsem import cfa

    bfi = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "bfi.csv")
    items = ["N1", "N2", "N3", "N4", "N5"]
    data = bfi[items].dropna()
    model = "N =~ N1 + N2 + N3 + N4 + N5"
    direct = fit_wlsmv(model, data, ordered=True)
    via_estimator = cfa(model, data, estimator="WLSMV")
    via_ordered = cfa(model, data, ordered=items)
    np.testing.assert_allclose(via_estimator.fit["chisq_scaled"], direct.fit["chisq_scaled"], rtol=1e-12)
    np.testing.assert_allclose(via_ordered.fit["chisq_scaled"], direct.fit["chisq_scaled"], rtol=1e-12)
