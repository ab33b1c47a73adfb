"""analysis.psychometrics._reliability (alpha, omega): key spellings, edge cases, tables, errors
and properties. The comparisons with R psych 2.2.9 are in the parity catalogue
(tests/parity/catalogue.py); the scales' keys are read from tests/reference/psych_reference.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis.config import PROJECT_ROOT
from analysis.errors import EstimationWarning, InputError
from analysis.psychometrics._reliability import AlphaResult, OmegaResult, alpha, omega

REF = json.loads((PROJECT_ROOT / "tests" / "reference" / "psych_reference.json").read_text())


@pytest.fixture(scope="module", params=list(REF["alpha"]))
def scale(request, bfi_items):
    ref = REF["alpha"][request.param]
    cols = [k.lstrip("-") for k in ref["keys"]]
    return alpha(bfi_items[cols], keys=ref["keys"]), ref


def test_n_keys_and_interval(scale):
    """The five bfi scales, reverse-keyed items A1, C4, C5, E1, E2, O2, O5."""
    res, ref = scale
    assert res.n == 2800
    assert res.n_items == 5
    assert list(res.keys) == [-1 if k.startswith("-") else 1 for k in ref["keys"]]
    assert res.ci_low < res.alpha < res.ci_high


def test_key_spellings_agree(bfi_items):
    items = bfi_items[["C1", "C2", "C3", "C4", "C5"]]
    a = alpha(items, keys=["C1", "C2", "C3", "-C4", "-C5"])
    b = alpha(items, keys=["-C4", "-C5"])
    c = alpha(items, keys=[1, 1, 1, -1, -1])
    assert a.alpha == b.alpha == c.alpha
    pd.testing.assert_frame_equal(a.items, c.items)


def test_reversal_uses_data_range(bfi_items):
    items = bfi_items[["A1", "A2"]].dropna()
    res = alpha(items, keys=["-A1"])
    lo, hi = items.to_numpy().min(), items.to_numpy().max()
    assert_allclose(res.items.loc["A1", "mean"], lo + hi - items["A1"].mean())


def test_two_items(bfi_items):
    res = alpha(bfi_items[["A2", "A3"]])
    C = bfi_items[["A2", "A3"]].cov().to_numpy()  # pairwise covariances, as psych (cov2cor(C))
    r = C[0, 1] / np.sqrt(C[0, 0] * C[1, 1])
    assert_allclose(res.std_alpha, 2 * r / (1 + r), atol=1e-12)
    assert_allclose(res.items["std_alpha_if_deleted"], r)


def test_unreversed_item_warns(bfi_items):
    with pytest.warns(EstimationWarning, match="reversed"):
        res = alpha(bfi_items[["A1", "A2", "A3", "A4", "A5"]])
    assert res.warnings


def test_listwise(bfi_items):
    items = bfi_items[["N1", "N2", "N3", "N4", "N5"]]
    res = alpha(items, missing="listwise")
    assert res.n == len(items.dropna())
    assert_allclose(res.alpha, alpha(items.dropna()).alpha, atol=1e-12)


def test_alpha_tables(bfi_items):
    res = alpha(bfi_items[["N1", "N2", "N3", "N4", "N5"]])
    assert isinstance(res, AlphaResult)
    frame = res.to_frame()
    assert list(frame.columns) == ["coefficient", "estimate", "se", "ci_low", "ci_high", "n"]
    assert frame.loc[0, "coefficient"] == "alpha"
    assert "Cronbach" in res._repr_html_()
    assert len(res.scores) == len(bfi_items)


def test_alpha_input_errors(bfi_items):
    with pytest.raises(InputError):
        alpha(bfi_items[["A1", "A2"]], keys=["-Z9"])
    with pytest.raises(InputError):
        alpha(bfi_items[["A1", "A2"]], keys=[1, 0])
    const = pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 2, 2], "c": [1.0, 3, 2]})
    with pytest.raises(InputError) as err:
        alpha(const)
    assert err.value.column == "b"
    with pytest.raises(InputError):
        alpha(bfi_items[["A1", "A2"]], missing="fiml")


# ------------------------------------------------------------------------ omega ----

@pytest.fixture(scope="module")
def omega_bfi(bfi_items):
    return omega(bfi_items, n_factors=5)


def test_omega_flips_reverse_keyed_items(omega_bfi):
    # bfi has reverse-keyed items with negative general loadings: psych reflects them
    assert (omega_bfi.keys == -1).any()
    assert (omega_bfi.schmid_leiman["g"] >= 0).all()


def test_omega_two_factors_warns(bfi_items):
    with pytest.warns(EstimationWarning, match="three factors"):
        res = omega(bfi_items.iloc[:, :10], n_factors=2)
    assert res.warnings


def test_omega_tables_and_errors(omega_bfi, bfi_items):
    assert isinstance(omega_bfi, OmegaResult)
    frame = omega_bfi.to_frame()
    assert list(frame.columns) == ["coefficient", "estimate", "n"]
    assert "omega_h" in omega_bfi._repr_html_()
    with pytest.raises(InputError):
        omega(bfi_items, n_factors=1)
    with pytest.raises(InputError):
        omega(bfi_items, rotation="varimax")


# ------------------------------------------------------------- properties ----

@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 7))
def test_alpha_formula_and_std_alpha_invariance(seed, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 1)) + rng.normal(size=(60, k))
    d = pd.DataFrame(X, columns=[f"i{j}" for j in range(k)])
    res = alpha(d)
    total_var = X.sum(axis=1).var(ddof=1)
    expected = k / (k - 1) * (1 - X.var(axis=0, ddof=1).sum() / total_var)
    assert_allclose(res.alpha, expected, atol=1e-12)
    # standardised alpha ignores each item's scale and location
    scaled = d * rng.uniform(0.5, 3, size=k) + rng.uniform(-5, 5, size=k)
    assert_allclose(alpha(scaled).std_alpha, res.std_alpha, atol=1e-12)
