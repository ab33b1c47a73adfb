"""Tests for analysis.psychometrics._polychoric: the bivariate normal, recovery, smoothing,
errors. The comparisons with psych::polychoric and tetrachoric are in the parity catalogue
(tests/parity/catalogue.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats import multivariate_normal

from analysis.errors import EstimationWarning, InputError
from analysis.psychometrics._polychoric import bivariate_normal_cdf, polychoric, tetrachoric

N_ITEMS = [f"N{i}" for i in range(1, 6)]


def test_bivariate_normal_cdf_matches_scipy():
    rng = np.random.default_rng(0)
    h = rng.normal(size=60) * 2
    k = rng.normal(size=60) * 2
    r = rng.uniform(-0.99, 0.99, 60)
    h[:4] = 0.0
    k[2:6] = 0.0
    ref = [multivariate_normal(cov=[[1, c], [c, 1]]).cdf([a, b]) for a, b, c in zip(h, k, r)]
    # scipy's 2-d CDF is accurate to ~1e-12 here; ours is Owen's T to machine precision
    assert_allclose(bivariate_normal_cdf(h, k, r), ref, atol=1e-10)
    assert bivariate_normal_cdf(np.inf, 0.3, 0.2) == pytest.approx(0.6179114221889527)
    assert bivariate_normal_cdf(-np.inf, 0.3, 0.2) == 0.0
    assert bivariate_normal_cdf(0.0, 0.0, 0.5) == pytest.approx(1 / 3, abs=1e-14)


def test_polychoric_labels_and_no_smoothing(bfi):
    res = polychoric(bfi[N_ITEMS])
    assert list(res.rho.columns) == N_ITEMS
    assert not res.smoothed


def test_local_thresholds_report_corrected_cells(bfi):
    with pytest.warns(EstimationWarning, match="continuity correction"):
        res = polychoric(bfi[N_ITEMS], global_thresholds=False)
    assert res.corrected_cells == 1
    assert any("continuity" in w for w in res.warnings)


def test_recovers_simulated_correlation():
    rng = np.random.default_rng(3)
    z = rng.multivariate_normal([0, 0, 0], [[1, 0.6, 0.3], [0.6, 1, 0.1], [0.3, 0.1, 1]], 20000)
    d = pd.DataFrame(np.digitize(z, [-1.0, 0.0, 0.8]) + 1, columns=["a", "b", "c"])
    res = polychoric(d)
    assert_allclose(res.rho.to_numpy()[np.tril_indices(3, -1)], [0.6, 0.3, 0.1], atol=0.03)
    assert_allclose(res.thresholds.loc["a"].to_numpy(), [-1.0, 0.0, 0.8], atol=0.05)
    frame = res.to_frame()
    assert list(frame.columns) == ["item1", "item2", "estimate", "n"]
    assert frame["n"].eq(20000).all()
    assert "<table" in res._repr_html_()


def test_smoothing_is_reported():
    # pairwise-missing blocks: a~b and a~c strongly positive, b~c strongly negative -> not PD
    rng = np.random.default_rng(5)
    x = rng.integers(1, 4, 300).astype(float)
    nan = np.full(300, np.nan)
    d = pd.DataFrame(
        {
            "a": np.concatenate([x, x, nan]),
            "b": np.concatenate([x, nan, x]),
            "c": np.concatenate([nan, x, 4 - x]),
        }
    )
    with pytest.warns(EstimationWarning, match="smoothed"):
        res = polychoric(d)
    assert res.smoothed
    assert np.all(np.linalg.eigvalsh(res.rho.to_numpy()) > 0)
    assert any("smoothed" in w for w in res.warnings)


def test_bad_input():
    with pytest.raises(InputError):
        polychoric(pd.DataFrame({"a": [1.5, 2, 3], "b": [1, 2, 3]}))
    with pytest.raises(InputError):
        polychoric(pd.DataFrame({"a": ["x", "y", "z"], "b": [1, 2, 3]}))
    with pytest.raises(InputError):
        polychoric(pd.DataFrame({"a": range(30), "b": range(30)}))
    with pytest.raises(InputError):
        tetrachoric(pd.DataFrame({"a": [1, 2, 3], "b": [0, 1, 1]}))


def test_integer_and_float_columns_agree(bfi):
    items = bfi[N_ITEMS].dropna()
    a = polychoric(items.astype("int64"))
    b = polychoric(items.astype(float))
    assert_allclose(a.rho.to_numpy(), b.rho.to_numpy(), rtol=0, atol=0)
    assert_allclose(a.thresholds.to_numpy(), b.thresholds.to_numpy(), rtol=0, atol=0)
