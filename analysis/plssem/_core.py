"""The PLS path algorithm on item correlation matrices, for one sample or a batch of samples.

With standardised indicators every step of Lohmöller's / Wold's algorithm, as seminr's
``simplePLS`` runs it, depends on the data only through the item correlation matrix ``S``:
construct scores ``Z W`` have correlations ``W'SW``, the covariances of the items with an
inner proxy ``Z W E`` are ``S W E``, loadings are ``S W``, and path coefficients and R² come
from ``W'SW``. Every function here takes a stack of correlation matrices ``S`` of shape
``(B, p, p)``: ``B = 1`` for the estimate, ``B`` = a chunk of bootstrap draws otherwise, so
that the draws are estimated together with batched numpy linear algebra.

Notation: ``M`` (p x K, 0/1) says which item measures which construct; ``P`` (K x K, 0/1) has
``P[i, j] = 1`` for a path ``i -> j``; ``modes[k]`` is ``"A"`` (correlation weights) or
``"B"`` (regression weights).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "outer_weights",
    "inner_results",
    "rho_a",
    "htmt",
    "total_effects",
]

#: seminr's defaults: at most 300 iterations, stop when sum |W_new - W_old| < 1e-7
MAX_ITER = 300
TOL = 1e-7


def _normalise(S: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Scale each column of ``W`` so that the construct scores have unit variance."""
    var = np.einsum("bpk,bpk->bk", W, S @ W)
    with np.errstate(invalid="ignore", divide="ignore"):
        return W / np.sqrt(var)[:, None, :]


def _solve_blocks(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched ``solve(A, b)``; singular systems give NaN instead of raising."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan)
        for i in range(A.shape[0]):
            try:
                out[i] = np.linalg.solve(A[i], b[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _predecessors(P: np.ndarray) -> list[tuple[int, np.ndarray]]:
    return [(j, np.flatnonzero(P[:, j])) for j in range(P.shape[0]) if P[:, j].any()]


def _inner_weights(R: np.ndarray, P: np.ndarray, scheme: str, preds) -> np.ndarray:
    sym = (P + P.T).astype(float)
    if scheme == "factorial":
        return R * sym
    if scheme == "centroid":
        return np.sign(R) * sym
    # path weighting: correlations towards successors, regression weights from predecessors
    E = R * P.T.astype(float)
    for j, pr in preds:
        E[:, pr, j] = _solve_blocks(R[:, pr][:, :, pr], R[:, pr, j])
    return E


def outer_weights(S, M, modes, P, scheme, W0=None, max_iter=MAX_ITER, tol=TOL):
    """Iterate the PLS algorithm to its outer weights.

    Parameters
    ----------
    S : ndarray (B, p, p)
        Item correlation matrices.
    M : ndarray (p, K)
        0/1 block structure.
    modes : sequence of str
        ``"A"`` or ``"B"`` per construct.
    P : ndarray (K, K)
        0/1 path structure, ``P[i, j] = 1`` for ``i -> j``.
    scheme : {"path", "factorial", "centroid"}
    W0 : ndarray (B, p, K), optional
        Starting weights (warm start); default unit weights, as seminr.

    Returns
    -------
    W : ndarray (B, p, K)
        Outer weights scaled to unit-variance construct scores.
    iterations : ndarray (B,)
        Index of the last iteration (seminr's ``iterations``).
    converged : ndarray (B,) of bool

    Examples
    --------
    >>> S = np.array([[[1, .5, .3, .3], [.5, 1, .3, .3], [.3, .3, 1, .6], [.3, .3, .6, 1]]])
    >>> M = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    >>> W, it, ok = outer_weights(S, M, "AA", np.array([[0, 1], [0, 0]]), "path")
    >>> np.round(W[0], 3)
    array([[0.577, 0.   ],
           [0.577, 0.   ],
           [0.   , 0.559],
           [0.   , 0.559]])
    """
    S = np.asarray(S, dtype=float)
    B, p, _ = S.shape
    Mf = np.asarray(M, dtype=float)
    K = Mf.shape[1]
    P = np.asarray(P)
    preds = _predecessors(P)
    blocks = [np.flatnonzero(Mf[:, k]) for k in range(K)]
    mode_b = [k for k in range(K) if modes[k] == "B" and len(blocks[k]) > 1]
    W = np.broadcast_to(Mf, (B, p, K)).copy() if W0 is None else np.array(W0, dtype=float)
    active = np.ones(B, dtype=bool)
    iterations = np.zeros(B, dtype=int)
    for it in range(max_iter + 1):
        Wn = _normalise(S, W)
        SW = S @ Wn
        R = np.swapaxes(Wn, 1, 2) @ SW
        E = _inner_weights(R, P, scheme, preds)
        C = SW @ E
        W_new = C * Mf
        for k in mode_b:
            ib = blocks[k]
            W_new[:, ib, k] = _solve_blocks(S[:, ib][:, :, ib], C[:, ib, k])
        W_new = _normalise(S, W_new)
        diff = np.abs(W_new - W).sum(axis=(1, 2))
        W = np.where(active[:, None, None], W_new, W)
        iterations[active] = it
        active &= ~(diff < tol)
        if not active.any():
            break
    return W, iterations, ~active


def rho_a(S, W, M, eligible):
    """Dijkstra-Henseler's rho_A per construct (1 where ``eligible`` is False).

    ``rho_A = (w'w)^2 * w'(S - diag S)w / w'(ww' - diag(ww'))w`` on each block.
    """
    B = S.shape[0]
    K = M.shape[1]
    rho = np.ones((B, K))
    for k in range(K):
        ib = np.flatnonzero(M[:, k])
        if not eligible[k] or len(ib) < 2:
            continue
        w = W[:, ib, k]
        Sb = S[:, ib][:, :, ib]
        ww = np.sum(w * w, axis=1)
        off = np.einsum("bi,bij,bj->b", w, Sb, w) - np.einsum("bi,bii,bi->b", w, Sb, w)
        den = ww**2 - np.sum(w**4, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rho[:, k] = ww**2 * off / den
    return rho


def inner_results(S, W, M, P, *, scale=None, rho=None, reflective=None):
    """Loadings, construct correlations, path coefficients and R² from converged weights.

    Parameters
    ----------
    scale : ndarray (B, p), optional
        Standard deviations of the raw indicators of interaction constructs (others
        ignored); seminr rescales an interaction construct's scores by the mean of these,
        weighted by the absolute loadings (Henseler & Chin, 2010), which changes its
        loadings and path coefficient but not the R².
    rho : ndarray (B, K), optional
        rho_A per construct: when given, PLSc corrects the construct correlations
        (``R_ij / sqrt(rho_i rho_j)``), the paths, the R² and the loadings of the
        ``reflective`` constructs (``w sqrt(rho) / w'w``).

    Returns
    -------
    dict with ``L`` (B,p,K), ``R`` (B,K,K), ``paths`` (B,K,K), ``r2`` (B,K) (NaN for
    exogenous constructs) and ``a`` (B,K) interaction scale factors.
    """
    B, p, K = W.shape
    Mf = np.asarray(M, dtype=float)
    SW = S @ W
    R = np.swapaxes(W, 1, 2) @ SW
    L = SW * Mf
    a = np.ones((B, K))
    if scale is not None:
        for k in range(K):
            ib = np.flatnonzero(Mf[:, k])
            sd = scale[:, ib]
            if np.all(np.isnan(sd)):
                continue
            lab = np.abs(L[:, ib, k])
            a[:, k] = np.sum(sd * lab, axis=1) / np.sum(lab, axis=1)
            L[:, :, k] *= a[:, k][:, None]
    if rho is not None:
        adj = np.sqrt(rho[:, :, None] * rho[:, None, :])
        idx = np.arange(K)
        adj[:, idx, idx] = 1.0
        Rc = R / adj
        Rs = Rc
        for k in range(K):
            if reflective[k]:
                ib = np.flatnonzero(Mf[:, k])
                w = W[:, ib, k]
                ww = np.sum(w * w, axis=1)
                L[:, ib, k] = w * (np.sqrt(rho[:, k]) / ww)[:, None]
    else:
        Rc = R
        Rs = R * a[:, :, None] * a[:, None, :]
    paths = np.zeros((B, K, K))
    r2 = np.full((B, K), np.nan)
    for j, pr in _predecessors(np.asarray(P)):
        paths[:, pr, j] = _solve_blocks(Rs[:, pr][:, :, pr], Rs[:, pr, j])
        beta = _solve_blocks(Rc[:, pr][:, :, pr], Rc[:, pr, j])
        r2[:, j] = np.sum(beta * Rc[:, pr, j], axis=1)
    return {"L": L, "R": R, "Rc": Rc, "paths": paths, "r2": r2, "a": a}


def htmt(S, blocks):
    """Heterotrait-monotrait ratios (Henseler, Ringle & Sarstedt, 2015) from item correlations.

    Returns an array (B, K, K), symmetric, NaN on the diagonal. A single-item construct has
    a monotrait mean of 1, as in seminr.
    """
    A = np.abs(S)
    B = S.shape[0]
    K = len(blocks)
    mono = np.ones((B, K))
    for k, ib in enumerate(blocks):
        m = len(ib)
        if m > 1:
            sub = A[:, ib][:, :, ib]
            mono[:, k] = (sub.sum(axis=(1, 2)) - np.trace(sub, axis1=1, axis2=2)) / (m * (m - 1))
    out = np.full((B, K, K), np.nan)
    for i in range(K):
        for j in range(i + 1, K):
            hetero = A[:, blocks[i]][:, :, blocks[j]].mean(axis=(1, 2))
            out[:, i, j] = out[:, j, i] = hetero / np.sqrt(mono[:, i] * mono[:, j])
    return out


def total_effects(paths):
    """Total effects ``sum_k B^k = (I - B)^-1 - I`` of a recursive path matrix (batched)."""
    K = paths.shape[-1]
    eye = np.eye(K)
    return np.linalg.inv(eye - paths) - eye
