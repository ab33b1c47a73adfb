"""Parity of the exploratory factor analysis (analysis.psychometrics._factor: efa, factor scores,
correlation matrices) with R psych 2.2.9
(values in tests/reference/psych_reference.json).

The reference values come from ``tests/reference/psych_reference.R``. Our extraction repeats
psych's algorithm step by step (same start values, same L-BFGS-B settings, same rotation
iterations), so agreement is far tighter than the 1e-3 asked for; tolerances below leave
room only for floating-point differences between BLAS/LAPACK builds.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.config import PROJECT_ROOT
from analysis.errors import EstimationWarning, InputError
from analysis.psychometrics import (
    EFAResult,
    correlation_matrix,
    efa,
    factor_scores,
    kmo,
    smc,
)

DATA = PROJECT_ROOT / "tests" / "data"
REF = json.loads((PROJECT_ROOT / "tests" / "reference" / "psych_reference.json").read_text())

# Loadings, communalities, Phi: psych's own convergence tolerances (optim factr 1e7,
# GPArotation eps 1e-5) are met identically by our code, so only rounding differs.
TOL_LOAD = 1e-6
# chi-square-type statistics are large numbers (thousands): relative tolerance.
RTOL_STAT = 1e-7
# RMSEA confidence bounds: R's uniroot stops at tol = eps^0.25 on the noncentrality scale.
TOL_RMSEA_CI = 1e-6


def _mat(m) -> np.ndarray:
    return np.array(m["values"], dtype=float)


def _cols(m) -> list:
    return list(np.atleast_1d(m["cols"]))


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(DATA / "holzinger1939.csv")[[f"x{i}" for i in range(1, 10)]]


# ------------------------------------------------------------------------- EFA ----

CASES = {
    "minres_oblimin": ("bfi", "minres", "oblimin"),
    "ml_promax": ("bfi", "ml", "promax"),
    "pa_varimax": ("bfi", "pa", "varimax"),
    "uls_quartimin": ("bfi", "uls", "quartimin"),
    "minres_geomin": ("bfi", "minres", "geomin"),
    "minres_none": ("bfi", "minres", "none"),
    "hs_ml_oblimin": ("hs", "ml", "oblimin"),
    "hs_minres_1": ("hs", "minres", "oblimin"),
}


@pytest.fixture(scope="module", params=list(CASES))
def fitted(request, bfi_items, hs):
    name = request.param
    data_name, method, rotation = CASES[name]
    data = bfi_items if data_name == "bfi" else hs
    ref = REF["fa"][name]
    k = len(_cols(ref["loadings"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", EstimationWarning)  # none expected on these data
        res = efa(data, k, method=method, rotation=rotation, scores="regression")
    return name, res, ref


class TestEFAParity:
    """One comparison class, eight reference fits (statsmodels' mixin pattern)."""

    def test_names(self, fitted):
        _, res, ref = fitted
        assert list(res.loadings.columns) == _cols(ref["loadings"])
        assert list(res.loadings.index) == ref["loadings"]["rows"]

    def test_loadings(self, fitted):
        _, res, ref = fitted
        assert_allclose(res.loadings.to_numpy(), _mat(ref["loadings"]), atol=TOL_LOAD)

    def test_communalities(self, fitted):
        _, res, ref = fitted
        assert_allclose(res.communalities.to_numpy(), ref["communality"], atol=TOL_LOAD)
        assert_allclose(res.uniquenesses.to_numpy(), ref["uniquenesses"], atol=TOL_LOAD)

    def test_phi(self, fitted):
        _, res, ref = fitted
        if ref["phi"] is None:
            assert res.phi is None
        else:
            assert_allclose(res.phi.to_numpy(), _mat(ref["phi"]), atol=TOL_LOAD)
            assert list(res.phi.columns) == _cols(ref["phi"])

    def test_variance(self, fitted):
        _, res, ref = fitted
        assert_allclose(res.variance.to_numpy(), _mat(ref["vaccounted"]), atol=TOL_LOAD)

    def test_eigenvalues(self, fitted):
        _, res, ref = fitted
        assert_allclose(res.reduced_eigenvalues, ref["values"], atol=TOL_LOAD)
        assert_allclose(res.eigenvalues, ref["e_values"], atol=1e-10)

    def test_fit(self, fitted):
        _, res, ref = fitted
        f, r = res.fit, ref["fit"]
        assert f.df == r["df"]
        assert f.n == r["n"]
        for ours, theirs in [(f.objective, "objective"), (f.statistic, "statistic"),
                             (f.null_statistic, "null_chisq"), (f.bic, "bic"),
                             (f.sabic, "sabic"), (f.chi_empirical, "chi_empirical"),
                             (f.harmonic_n, "harmonic_n")]:
            assert_allclose(ours, r[theirs], rtol=RTOL_STAT, err_msg=theirs)
        for ours, theirs in [(f.tli, "tli"), (f.rmsea, "rmsea"), (f.rmsr, "rms"),
                             (f.crms, "crms"), (f.fit, "fit"), (f.fit_off, "fit_off"),
                             (f.p_value, "p_value"), (f.e_p_value, "e_p_value")]:
            assert_allclose(ours, r[theirs], atol=1e-9, err_msg=theirs)
        assert_allclose(f.rmsea_ci_low, r["rmsea_low"], atol=TOL_RMSEA_CI)
        assert_allclose(f.rmsea_ci_high, r["rmsea_high"], atol=TOL_RMSEA_CI)

    def test_scores(self, fitted):
        _, res, ref = fitted
        assert_allclose(res.weights.to_numpy(), _mat(ref["weights"]), atol=TOL_LOAD)
        head = np.array(ref["scores_head"]["values"], dtype=float)
        ours = res.scores.to_numpy()[: len(head)]
        assert_allclose(ours, head, atol=1e-6, equal_nan=True)


def test_polychoric_efa_matches_psych(bfi_items):
    pytest.importorskip("analysis.psychometrics._polychoric")
    ref = REF["fa"]["poly_minres_oblimin"]
    res = efa(bfi_items, 5, corr="polychoric")
    # depends on the polychoric module's own agreement with psych::polychoric (the largest
    # loading difference was 4.6e-5 when this test was written)
    assert list(res.loadings.columns) == _cols(ref["loadings"])
    assert_allclose(res.loadings.to_numpy(), _mat(ref["loadings"]), atol=5e-4)
    assert_allclose(res.communalities.to_numpy(), ref["communality"], atol=5e-4)
    assert_allclose(res.phi.to_numpy(), _mat(ref["phi"]), atol=5e-4)
    assert res.fit.chi_square == res.fit.statistic


def test_efa_result_tables(bfi_items):
    res = efa(bfi_items, 5)
    assert isinstance(res, EFAResult)
    wide = res.to_frame()
    assert {"h2", "u2", "complexity"} <= set(wide.columns)
    tidy = res.tidy()
    assert list(tidy.columns) == ["item", "factor", "estimate"]
    assert len(tidy) == 125
    fit = res.fit.to_frame()
    assert {"estimate", "df", "p_value", "ci_low", "ci_high", "n"} <= set(fit.columns)
    assert "rmsea" in set(fit["index"])
    assert "Factor analysis" in res._repr_html_()


def test_bartlett_scores_and_factor_scores(bfi_items):
    res = efa(bfi_items, 5, method="ml", rotation="varimax", scores="bartlett")
    again = factor_scores(bfi_items, res, method="bartlett")
    pd.testing.assert_frame_equal(res.scores, again)
    reg = factor_scores(bfi_items, res)
    # rows with a missing item have missing scores (psych impute = "none")
    assert reg.isna().any(axis=1).sum() == bfi_items.isna().any(axis=1).sum()


def test_listwise_uses_complete_rows(bfi_items):
    res = efa(bfi_items, 5, missing="listwise")
    assert res.n == len(bfi_items.dropna())
    complete = efa(bfi_items.dropna(), 5)
    assert_allclose(res.loadings.to_numpy(), complete.loadings.to_numpy(), atol=1e-12)


def test_efa_on_correlation_matrix(bfi_items):
    R = correlation_matrix(bfi_items)
    res = efa(R, 5, n=2800)
    ref = REF["fa"]["minres_oblimin"]
    assert_allclose(res.loadings.to_numpy(), _mat(ref["loadings"]), atol=TOL_LOAD)
    assert_allclose(res.fit.statistic, ref["fit"]["statistic"], rtol=RTOL_STAT)


# ------------------------------------------------------------ warnings / errors ----

def _heywood_matrix() -> pd.DataFrame:
    # one factor: l1*l2 = .9, l1*l3 = .9, l2*l3 = .8  =>  l1^2 = 1.0125 > 1
    R = np.array([[1.0, 0.9, 0.9, 0.3], [0.9, 1.0, 0.8, 0.3], [0.9, 0.8, 1.0, 0.3],
                  [0.3, 0.3, 0.3, 1.0]])
    return pd.DataFrame(R, index=list("abcd"), columns=list("abcd"))


@pytest.mark.parametrize("method", ["minres", "ml"])
def test_heywood_case_warns(method):
    with pytest.warns(EstimationWarning, match="Heywood"):
        res = efa(_heywood_matrix(), 1, method=method, n=200)
    assert any("Heywood" in w for w in res.warnings)


def test_non_convergence_warns(bfi_items):
    with pytest.warns(EstimationWarning, match="maximum iterations"):
        res = efa(bfi_items, 5, method="pa", rotation="none", max_iter=2)
    assert not res.converged
    assert any("maximum iterations" in w for w in res.warnings)


def test_non_positive_definite_warns():
    R = np.array([[1, .9, .9], [.9, 1, -.9], [.9, -.9, 1.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        res = efa(pd.DataFrame(R, columns=list("abc"), index=list("abc")), 1, n=100)
    assert any("not positive definite" in str(w.message) for w in caught)
    assert any("not positive definite" in w for w in res.warnings)
    assert len(caught) == len(res.warnings)  # every warning is recorded on the result


def test_principal_axes_negative_eigenvalue_warns():
    R = np.array([[1, .9, .9], [.9, 1, -.9], [.9, -.9, 1.0]])
    frame = pd.DataFrame(R, columns=list("abc"), index=list("abc"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        res = efa(frame, 2, method="pa", rotation="none", n=100)
    assert caught
    assert res.warnings


def test_input_errors(bfi_items):
    with pytest.raises(InputError):
        efa(bfi_items, 5, method="principal")
    with pytest.raises(InputError):
        efa(bfi_items, 5, rotation="bogus")
    with pytest.raises(InputError):
        efa(bfi_items, 0)
    with pytest.raises(InputError):
        efa(bfi_items, 25)
    bad = bfi_items.iloc[:50, :4].astype(object)
    bad.iloc[3, 2] = "three"
    with pytest.raises(InputError) as err:
        kmo(bad)
    assert err.value.column == "A3"
    with pytest.raises(InputError):
        efa(bfi_items, 2, missing="fiml")


def test_correlation_matrix_pairwise_matches_pandas(bfi_items):
    ours = correlation_matrix(bfi_items)
    assert_allclose(ours.to_numpy(), bfi_items.corr().to_numpy(), atol=1e-12)


def test_smc_of_identity_is_zero():
    assert_allclose(smc(np.eye(3)), 0.0)


def test_ml_recovers_simulated_loadings():
    rng = np.random.default_rng(7)
    L = np.zeros((9, 3))
    for j in range(9):
        L[j, j // 3] = 0.5 + 0.1 * (j % 3)
    phi = np.array([[1, .3, .2], [.3, 1, .25], [.2, .25, 1]])
    f = rng.multivariate_normal(np.zeros(3), phi, size=20_000)
    X = f @ L.T + rng.normal(size=(20_000, 9)) * np.sqrt(1 - (L @ phi * L).sum(axis=1))
    res = efa(pd.DataFrame(X), 3, method="ml", rotation="oblimin")
    est = res.loadings.to_numpy()
    # match factors to the truth by their largest loadings, then compare
    order = [int(np.argmax(np.abs(est[3 * i:3 * i + 3]).sum(axis=0))) for i in range(3)]
    assert sorted(order) == [0, 1, 2]
    assert_allclose(est[:, order], L, atol=0.05)
    assert_allclose(res.phi.to_numpy()[np.ix_(order, order)], phi, atol=0.05)
