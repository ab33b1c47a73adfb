"""analysis.psychometrics._rotation: convergence, invariances, dispatch and errors.

The unrotated bfi minres solution from psych (``fa(..., rotate = "none")``) is the input here;
the rotated solutions are compared with psych's (GPArotation) in the parity catalogue
(tests/parity/catalogue.py).
"""

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
from analysis.psychometrics._rotation import (
    RotationResult,
    geomin,
    gpa_varimax,
    kaiser_promax,
    oblimin,
    promax,
    quartimin,
    rotate,
    varimax,
)

REF = json.loads((PROJECT_ROOT / "tests" / "reference" / "psych_reference.json").read_text())


def _mat(m):
    return np.array(m["values"], dtype=float)


@pytest.fixture(scope="module")
def unrotated():
    return _mat(REF["fa"]["minres_none"]["loadings"])


@pytest.mark.parametrize("func", [oblimin, geomin, quartimin])
def test_oblique_rotations_converge(unrotated, func):
    res = func(unrotated)
    assert res.converged and not res.orthogonal


def test_rotation_reproduces_pattern(unrotated):
    res = oblimin(unrotated)
    # L = A (T')^{-1} = A rotmat ; A A' = L phi L'
    assert_allclose(unrotated @ res.rotmat, res.loadings.to_numpy(), atol=1e-12)
    L, phi = res.loadings.to_numpy(), res.phi.to_numpy()
    assert_allclose(L @ phi @ L.T, unrotated @ unrotated.T, atol=1e-12)


def test_varimax_is_orthogonal_and_keeps_communalities(unrotated):
    for func in (varimax, gpa_varimax):
        res = func(unrotated)
        assert res.orthogonal and res.phi is None
        T = res.rotmat
        assert_allclose(T.T @ T, np.eye(5), atol=1e-12)
        assert_allclose((res.loadings.to_numpy() ** 2).sum(axis=1),
                        (unrotated ** 2).sum(axis=1), atol=1e-12)


def test_varimax_versions_agree(unrotated):
    # stats::varimax (Kaiser-normalised, loose stop) vs GPA varimax normalised
    a = varimax(unrotated).loadings.to_numpy()
    b = gpa_varimax(unrotated, normalize=True).loadings.to_numpy()
    # stats::varimax stops once its criterion grows by less than 1e-5 (relative), so the
    # two agree only to about 1e-3
    assert_allclose(np.abs(a), np.abs(b), atol=5e-3)


def test_promax_variants(unrotated):
    for func in (promax, kaiser_promax):
        res = func(unrotated)
        U = res.rotmat
        ui = np.linalg.inv(U)
        assert_allclose(res.phi.to_numpy(), ui @ ui.T, atol=1e-12)
        assert_allclose(np.diag(res.phi.to_numpy()), 1.0, atol=1e-12)


def test_non_convergence_warns(unrotated):
    with pytest.warns(EstimationWarning, match="did not converge"):
        res = oblimin(unrotated, maxit=2)
    assert not res.converged
    assert res.warnings


def test_rotate_dispatch_and_tables(unrotated):
    frame = pd.DataFrame(unrotated, index=[f"i{j}" for j in range(25)],
                         columns=[f"MR{j}" for j in range(1, 6)])
    res = rotate(frame, "geominQ")
    assert isinstance(res, RotationResult)
    assert list(res.loadings.index) == list(frame.index)
    tidy = res.to_frame()
    assert list(tidy.columns) == ["item", "factor", "estimate"]
    assert "oblique" in res._repr_html_()
    none = rotate(frame, "none")
    assert_allclose(none.loadings.to_numpy(), unrotated)
    with pytest.raises(InputError):
        rotate(frame, "bogus")
    with pytest.raises(InputError):
        rotate(frame.iloc[:, :1], "varimax")
    with pytest.raises(InputError):
        rotate(np.array([[np.nan, 1.0], [1.0, 0.0]]), "varimax")


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_oblique_rotation_invariants(seed):
    rng = np.random.default_rng(seed)
    A = rng.uniform(-0.9, 0.9, size=(8, 3))
    res = oblimin(A)
    T = np.linalg.inv(res.rotmat.T)
    # unit-length columns of T, phi = T'T, model-implied matrix unchanged
    assert_allclose(np.diag(res.phi.to_numpy()), 1.0, atol=1e-10)
    assert_allclose(T.T @ T, res.phi.to_numpy(), atol=1e-10)
    L = res.loadings.to_numpy()
    assert_allclose(L @ res.phi.to_numpy() @ L.T, A @ A.T, atol=1e-9)
