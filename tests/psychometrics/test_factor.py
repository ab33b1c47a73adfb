"""The exploratory factor analysis (analysis.psychometrics._factor: efa, factor scores,
correlation matrices): tables, missing data, warnings, errors and recovery of a known structure.

The comparisons with R psych 2.2.9 (``tests/reference/psych_reference.R``) are in the parity
catalogue (tests/parity/catalogue.py).
"""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(DATA / "holzinger1939.csv")[[f"x{i}" for i in range(1, 10)]]


# ------------------------------------------------------------------------- EFA ----

# the fits compared with psych in the parity catalogue: data, factors, method, rotation
CASES = {
    "minres_oblimin": ("bfi", 5, "minres", "oblimin"),
    "ml_promax": ("bfi", 5, "ml", "promax"),
    "pa_varimax": ("bfi", 5, "pa", "varimax"),
    "uls_quartimin": ("bfi", 5, "uls", "quartimin"),
    "minres_geomin": ("bfi", 5, "minres", "geomin"),
    "minres_none": ("bfi", 5, "minres", "none"),
    "hs_ml_oblimin": ("hs", 3, "ml", "oblimin"),
    "hs_minres_1": ("hs", 1, "minres", "oblimin"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_reference_fits_warn_nothing(name, bfi_items, hs):
    data_name, k, method, rotation = CASES[name]
    data = bfi_items if data_name == "bfi" else hs
    with warnings.catch_warnings():
        warnings.simplefilter("error", EstimationWarning)  # none expected on these data
        res = efa(data, k, method=method, rotation=rotation, scores="regression")
    # factor correlations only for an oblique rotation of several factors
    assert (res.phi is None) == (rotation in ("varimax", "none") or k == 1)


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
    assert res.fit.chi_square == res.fit.statistic


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
