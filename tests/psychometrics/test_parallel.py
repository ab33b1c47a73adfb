"""Parallel analysis (analysis.psychometrics._parallel) against R psych 2.2.9
(values in tests/reference/psych_reference.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.config import PROJECT_ROOT
from analysis.errors import InputError
from analysis.psychometrics import parallel_analysis

REF = json.loads((PROJECT_ROOT / "tests" / "reference" / "psych_reference.json").read_text())


PAR = REF["parallel"]


@pytest.fixture(scope="module")
def parallel(bfi_items):
    return parallel_analysis(bfi_items, n_iter=100, seed=20261127)


def test_parallel_observed_eigenvalues_exact(parallel):
    assert_allclose(parallel.eigen["observed_fa"], PAR["fa_values"], atol=1e-8)
    assert_allclose(parallel.eigen["observed_pc"], PAR["pc_values"], atol=1e-10)


@pytest.mark.parametrize("fm", ["ml", "pa", "uls"])
def test_parallel_observed_other_methods(bfi_items, fm):
    res = parallel_analysis(bfi_items, n_iter=2, fm=fm, seed=1)
    assert_allclose(res.eigen["observed_fa"], REF["parallel_observed"][fm], atol=1e-8)


def test_parallel_suggested_numbers_match_psych(parallel):
    assert parallel.n_factors == PAR["nfact"]
    assert parallel.n_components == PAR["ncomp"]


def test_parallel_simulated_within_monte_carlo_error(parallel):
    values = np.array(PAR["values"])  # psych: 20 x (resampled pc, fa, simulated pc, fa)
    p = 25
    for j, col in [(2, "simulated_pc_mean"), (3, "simulated_fa_mean")]:
        theirs = values[:, j * p:(j + 1) * p]
        se = np.sqrt(theirs.var(axis=0, ddof=1) / theirs.shape[0]
                     + theirs.var(axis=0, ddof=1) / parallel.n_iter)
        # 5 standard errors per position (25 positions compared)
        assert np.all(np.abs(parallel.eigen[col].to_numpy() - theirs.mean(axis=0)) < 5 * se)


def test_parallel_is_reproducible_and_tidy(bfi_items):
    a = parallel_analysis(bfi_items, n_iter=5, seed=3)
    b = parallel_analysis(bfi_items, n_iter=5, seed=3)
    pd.testing.assert_frame_equal(a.eigen, b.eigen)
    assert "position" in a.to_frame().columns
    assert "Parallel analysis" in a._repr_html_()


def test_parallel_resample_columns(bfi_items):
    res = parallel_analysis(bfi_items, n_iter=3, seed=1, resample=True)
    assert {"resampled_fa_mean", "resampled_pc_quantile"} <= set(res.eigen.columns)


def test_parallel_recovers_known_structure():
    rng = np.random.default_rng(11)
    f = rng.normal(size=(600, 2))
    L = np.kron(np.eye(2), np.full((4, 1), 0.7))
    X = f @ L.T + rng.normal(scale=0.6, size=(600, 8))
    res = parallel_analysis(pd.DataFrame(X), seed=2)
    assert res.n_factors == 2
    assert res.n_components == 2


def test_parallel_input_errors(bfi_items):
    with pytest.raises(InputError):
        parallel_analysis(bfi_items, quantile=1.5)
    with pytest.raises(InputError):
        parallel_analysis(bfi_items, fm="pc")
