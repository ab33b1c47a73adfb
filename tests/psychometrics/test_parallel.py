"""Parallel analysis (analysis.psychometrics._parallel): reproducibility, tables, recovery of a
known structure, errors. The comparisons with R psych are in the parity catalogue
(tests/parity/catalogue.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.psychometrics import parallel_analysis


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
