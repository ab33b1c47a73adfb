"""Exploratory factor analysis as R's psych computes it (``psych::fa``).

:func:`efa` extracts the factors (:mod:`analysis.psychometrics._extraction`), rotates them
(:mod:`analysis.psychometrics._rotation`), computes the fit statistics
(:mod:`analysis.psychometrics._factor_fit`) and, on request, the factor scores
(:mod:`analysis.psychometrics._scores`). KMO and Bartlett's test are in
:mod:`analysis.psychometrics._adequacy`, parallel analysis in
:mod:`analysis.psychometrics._parallel`.

The correlation matrix is Pearson with pairwise-complete observations by default, as
``cor(x, use = "pairwise")``; ``n`` is the number of rows of the data, as psych uses it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.psychometrics import _rotation as _rot
from analysis.psychometrics._correlation import (
    _cor_smooth,
    _corr_and_n,
    _names,
    _numeric_frame,
    _warn,
)
from analysis.psychometrics._efa_result import EFAResult
from analysis.psychometrics._extraction import _LOWER, _METHOD_PREFIX, _extract
from analysis.psychometrics._factor_fit import _fit_stats
from analysis.psychometrics._scores import _scores
from analysis.utils.blas import one_blas_thread, single_blas_thread

__all__ = ["EFAResult", "efa"]

#: A communality at or above this is reported as a Heywood case: the unbounded solution
#: would have a uniqueness at or below zero, and the optimiser stops near psych's bound.
_HEYWOOD_H2 = 0.99


def _sign_and_order(L, phi):
    signed = np.sign(L.sum(axis=0))
    signed[signed == 0] = 1
    L = L * signed
    if phi is not None:
        phi = phi * np.outer(signed, signed)
    order = np.arange(L.shape[1])
    if L.shape[1] > 1:
        ev = np.diag(L.T @ L) if phi is None else np.diag(phi @ L.T @ L)
        order = np.argsort(-ev, kind="stable")
        L = L[:, order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]
    return L, phi, order


@single_blas_thread
def efa(data, n_factors: int, method: str = "minres", rotation: str = "oblimin",
        missing: str = "pairwise", corr: str = "pearson", scores: str | None = None,
        n: int | None = None, max_iter: int = 50) -> EFAResult:
    """Exploratory factor analysis, as ``psych::fa``.

    Parameters
    ----------
    data : DataFrame
        Items in columns (numeric), or a correlation matrix (then give ``n``).
    n_factors : int
        Number of factors.
    method : {"minres", "ml", "pa", "uls"}, default "minres"
        Minimum residual (psych's default: L-BFGS-B on the off-diagonal residuals),
        maximum likelihood, iterated principal axes, unweighted least squares.
    rotation : {"oblimin", "promax", "varimax", "geomin", "quartimin", "none"}
        psych's meanings: ``"oblimin"`` = ``GPArotation::oblimin``; ``"promax"`` = Promax
        (power 4) after Kaiser weighting (``psych::kaiser``); ``"varimax"`` =
        ``stats::varimax``; ``"geomin"`` = ``GPArotation::geominQ`` (delta .01);
        ``"quartimin"`` = ``GPArotation::quartimin``. ``"Promax"``, ``"Varimax"`` and
        ``"geominQ"`` are also accepted.
    missing : {"pairwise", "listwise"}, default "pairwise"
        Correlations from pairwise-complete observations (psych's default) or complete rows.
    corr : {"pearson", "spearman", "polychoric"}, default "pearson"
        Correlation type (``"polychoric"`` uses :mod:`analysis.psychometrics._polychoric`).
    scores : {None, "regression", "bartlett"}, default None
        Factor scores to compute for the rows of ``data``.
    n : int, optional
        Sample size when ``data`` is a correlation matrix.
    max_iter : int, default 50
        Iteration limit of principal-axis factoring (psych ``max.iter``).

    Returns
    -------
    EFAResult

    Notes
    -----
    minres minimises ``sum_{j<k} (r_jk - (L L')_jk)^2`` over the uniquenesses ``psi``
    (``L`` from the first ``k`` eigenpairs of ``R - diag(psi)``); ml minimises
    ``tr(S^{-1}R) - log|S^{-1}R| - p`` with ``S = L L' + diag(psi)``; both with L-BFGS-B,
    psi in ``[.005, 1]``, start ``1 - smc``, as psych. pa iterates the communalities from
    the SMCs until their sum changes by less than .001. After rotation the factors are
    reflected to positive column sums and ordered by ``diag(phi L'L)`` (psych's rules).
    Regression scores: ``Z R^{-1} L phi``; Bartlett: ``Z U^{-2} L (L' U^{-2} L)^{-1}``
    with standardised data ``Z``.

    References
    ----------
    Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing residuals (minres).
    *Psychometrika*, 31, 351-368.
    Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research. R package version 2.2.9.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> f = rng.normal(size=(300, 2))
    >>> L = np.array([[.8, 0], [.7, 0], [.6, 0], [0, .8], [0, .7], [0, .6]])
    >>> d = pd.DataFrame(f @ L.T + rng.normal(scale=.6, size=(300, 6)), columns=list("abcdef"))
    >>> res = efa(d, 2)  # R: psych::fa(d, 2)
    >>> list(res.loadings.columns)
    ['MR1', 'MR2']
    """
    if method not in _METHOD_PREFIX:
        raise InputError("unknown factoring method", value=method,
                         expected="'minres', 'ml', 'pa' or 'uls'")
    rot_name = {"geominQ": "geomin"}.get(rotation, rotation)
    if rotation not in _rot.ROTATIONS:
        raise InputError("unknown rotation", value=rotation,
                         expected="one of " + ", ".join(_rot.ROTATIONS))
    if missing not in ("pairwise", "listwise"):
        raise InputError("unknown missing-data option", value=missing,
                         expected="'pairwise' or 'listwise'")
    if scores not in (None, "regression", "bartlett", "Bartlett", "Thurstone"):
        raise InputError("unknown factor-score method", value=scores,
                         expected="None, 'regression' or 'bartlett'")
    msgs: list = []
    with one_blas_thread():
        R, n_rows, _ = _corr_and_n(data, corr, missing)
    is_matrix = n_rows is None
    if is_matrix:
        frame = None
        np_obs = None
        names = _names(data, R)
    else:
        frame = _numeric_frame(data)
        if missing == "listwise":
            frame = frame.dropna()
        names = list(frame.columns)
        if frame.isna().any().any():
            M = (~frame.isna()).to_numpy(dtype=float)
            np_obs = M.T @ M
        else:
            np_obs = M = None
            np_obs = np.full((len(names), len(names)), float(len(frame)))
        n = n_rows
    p = R.shape[0]
    if not (isinstance(n_factors, (int, np.integer)) and 1 <= n_factors < p):
        raise InputError("n_factors must be a whole number between 1 and the number of "
                         "items minus 1", value=n_factors, expected=f"1..{p - 1}")
    k = int(n_factors)
    if np.linalg.eigvalsh(R).min() < np.finfo(float).eps:
        _warn(msgs, "the correlation matrix is not positive definite")

    with one_blas_thread():
        return _efa_core(R, k, method, rotation, rot_name, n, np_obs, names, frame, scores,
                         max_iter, msgs)


def _efa_core(R, k, method, rotation, rot_name, n, np_obs, names, frame, scores, max_iter,
              msgs) -> EFAResult:
    L, values, info = _extract(R, k, method, msgs, max_iter=max_iter)
    if k > 1:
        signs = np.sign(L.sum(axis=0))
        signs[signs == 0] = 1
        L = L * signs
    elif L.sum() < 0:
        L = -L
    L = np.where(L == 0, 1e-15, L)
    model = L @ L.T
    h2 = np.diag(model).copy()
    u2 = np.diag(R) - h2

    phi = None
    rotmat = None
    converged = info["converged"]
    if rotation != "none" and k > 1:
        rot = _rot.rotate(L, rotation) if rotation not in ("geominQ",) else _rot.geomin(L)
        Lr = rot.loadings.to_numpy()
        phi = None if rot.phi is None else rot.phi.to_numpy()
        rotmat = rot.rotmat
        if not rot.converged:
            converged = False
            msgs.extend(rot.warnings)
    else:
        Lr = L
    Lr, phi, order = _sign_and_order(Lr, phi)
    # psych names the factors before sorting them, so the names follow the factors
    cols = [f"{_METHOD_PREFIX[method]}{i + 1}" for i in order]

    # Heywood cases
    if np.any(h2 > 1):
        _warn(msgs, "ultra-Heywood case: communality above 1 for "
                    + ", ".join(np.asarray(names)[h2 > 1]))
    elif method != "pa" and "psi" in info and np.any(info["psi"] <= _LOWER + 1e-8):
        bad = np.asarray(names)[info["psi"] <= _LOWER + 1e-8]
        _warn(msgs, "Heywood case: uniqueness at its lower bound (.005) for "
                    + ", ".join(bad))
    elif np.any(h2 >= _HEYWOOD_H2):
        _warn(msgs, "Heywood case: communality of .99 or more (uniqueness pushed to its "
                    "bound) for " + ", ".join(np.asarray(names)[h2 >= _HEYWOOD_H2]))

    fit = _fit_stats(R, Lr, phi, n, np_obs, alpha=0.1, msgs=msgs)

    S = Lr if phi is None else Lr @ phi
    Rs = _cor_smooth(R)
    try:
        W = np.linalg.solve(Rs, S)
    except np.linalg.LinAlgError:
        _warn(msgs, "correlation matrix is singular; factor-score weights approximated")
        W = np.linalg.pinv(Rs) @ S
    ev = np.diag(Lr.T @ Lr) if phi is None else np.diag(phi @ Lr.T @ Lr)
    vtotal = float(np.sum(h2 + u2))
    var_rows = {"ss_loadings": ev, "proportion": ev / vtotal}
    if k > 1:
        var_rows["cumulative"] = np.cumsum(ev / vtotal)
        var_rows["proportion_explained"] = ev / ev.sum()
        var_rows["cumulative_proportion"] = np.cumsum(ev / ev.sum())
    variance = pd.DataFrame(var_rows, index=cols).T

    loadings = pd.DataFrame(Lr, index=names, columns=cols)
    phi_frame = None if phi is None else pd.DataFrame(phi, index=cols, columns=cols)
    weights = pd.DataFrame(W, index=names, columns=cols)
    score_frame = None
    if scores is not None:
        if frame is None:
            raise InputError("factor scores need the raw data, not a correlation matrix")
        score_frame = _scores(frame, loadings, phi_frame, weights, h2, scores)
    return EFAResult(
        loadings=loadings,
        structure=pd.DataFrame(S, index=names, columns=cols),
        communalities=pd.Series(h2, index=names, name="h2"),
        uniquenesses=pd.Series(u2, index=names, name="u2"),
        phi=phi_frame, variance=variance, fit=fit, weights=weights, scores=score_frame,
        correlation=pd.DataFrame(R, index=names, columns=names),
        eigenvalues=np.linalg.eigvalsh(R)[::-1], reduced_eigenvalues=np.asarray(values),
        method=method, rotation=rot_name, n_factors=k, n=n, converged=bool(converged),
        iterations=int(info.get("iterations", 0)), rotmat=rotmat, warnings=msgs)
