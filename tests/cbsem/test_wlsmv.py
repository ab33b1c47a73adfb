"""Tests of analysis.cbsem._wlsmv that are not comparisons with R: convergence, result
tables, the invariance hook, bad input, simulation, zero cells. The comparisons with lavaan
0.6-14 (tests/reference/ordinal_reference.json) are in the parity catalogue
(``tests/parity/catalogue.py``, section ``ordinal``).
"""

from __future__ import annotations

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

MODEL = "N =~ N1 + N2 + N3 + N4 + N5\nC =~ C1 + C2 + C3 + C4 + C5"


@pytest.fixture(scope="module")
def fit(bfi):
    return fit_wlsmv(MODEL, bfi, ordered=True)


class TestSingleGroup:
    def test_converges_without_warnings(self, fit):
        assert fit.converged and not fit.warnings

    def test_saturated_thresholds_skip_the_cross_block(self, fit, bfi):
        # lavInspect(fit, "gamma") is compared in the parity catalogue; with saturated
        # thresholds the threshold x correlation block is not needed and not computed
        assert not fit.sample[0].cross_computed
        items = [f"N{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
        codes = bfi[items].dropna().to_numpy(dtype=int) - 1
        s = sample_statistics(codes, np.full(10, 6))
        assert s.cross_computed
        nth = len(s.th)
        assert_allclose(s.nacov[nth:, nth:], fit.sample[0].nacov[nth:, nth:], atol=1e-10)

    def test_standardized_tables(self, fit):
        lo = fit.standardized()
        assert set(lo.columns) == {"lhs", "op", "rhs", "group", "std_all"}
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


class TestInvariance:
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


def test_zero_cell_2x2_keeps_margins():
    from analysis.cbsem._wlsmv_stats import _zero_cells_2x2

    tab = np.array([[[0.0, 5.0], [7.0, 20.0]], [[3.0, 0.0], [0.0, 9.0]]])
    out, fixed, n_adj = _zero_cells_2x2(tab, np.array([2, 2]), np.array([2, 2]))
    assert n_adj == 1
    assert_allclose(out[0], [[0.5, 4.5], [6.5, 20.5]])
    assert_allclose(out[0].sum(axis=0), tab[0].sum(axis=0))
    assert fixed[1] == 1.0 and np.isnan(fixed[0])


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
