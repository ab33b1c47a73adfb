"""Factor rotations, as R's GPArotation, stats::varimax and psych::Promax compute them.

Every rotation takes an unrotated loading matrix ``A`` (items x factors) and returns a
:class:`RotationResult`: the rotated loadings ``L``, the rotation matrix ``T`` and, for an
oblique rotation, the factor correlations ``phi``.

* Orthogonal rotations: ``L = A T`` with ``T'T = I``.
* Oblique rotations: ``L = A (T')^{-1}`` with ``diag(T'T) = 1`` and ``phi = T'T``.

The gradient-projection algorithm (GPFoblq / GPForth of Bernaards & Jennrich, 2005) is
reproduced step for step (same start, step-size doubling and halving, same stopping rule
``||Gp|| < eps``), so the solutions agree with GPArotation to rounding error, not only to
the convergence tolerance.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import EstimationWarning, InputError
from analysis.utils.blas import single_blas_thread  # small matrices: one BLAS thread

__all__ = [
    "RotationResult",
    "rotate",
    "varimax",
    "gpa_varimax",
    "oblimin",
    "quartimin",
    "geomin",
    "promax",
    "kaiser_promax",
    "ROTATIONS",
]

#: Rotation names that :func:`rotate` understands (psych's spelling in brackets when different).
ROTATIONS = ("none", "varimax", "Varimax", "oblimin", "quartimin", "geomin", "geominQ",
             "promax", "Promax")


@dataclass(frozen=True)
class RotationResult:
    """A rotated loading matrix.

    Attributes
    ----------
    loadings : pandas.DataFrame
        Rotated loadings (pattern matrix for an oblique rotation), items x factors.
    rotmat : numpy.ndarray
        The rotation matrix: ``T`` (orthogonal, ``L = A T``), or the matrix ``U`` with
        ``L = A U`` for an oblique rotation (psych's ``rot.mat``).
    phi : pandas.DataFrame or None
        Factor correlations (``None`` for an orthogonal rotation).
    method : str
        Name of the rotation.
    orthogonal : bool
        Whether the rotation is orthogonal.
    converged : bool
        Whether the iterations met the convergence criterion.
    n_iter : int
        Number of iterations used.
    criterion : float
        Value of the rotation criterion at the solution (``nan`` for varimax/promax).
    warnings : list of str
        Problems met (non-convergence).
    """

    loadings: pd.DataFrame
    rotmat: np.ndarray
    phi: pd.DataFrame | None
    method: str
    orthogonal: bool
    converged: bool
    n_iter: int
    criterion: float = float("nan")
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Rotated loadings as a tidy table (``item``, ``factor``, ``estimate``)."""
        tidy = self.loadings.rename_axis(index="item", columns="factor").stack()
        return tidy.rename("estimate").reset_index()

    def _repr_html_(self) -> str:
        head = f"<p>{self.method} rotation ({'orthogonal' if self.orthogonal else 'oblique'})</p>"
        return head + self.loadings.to_html()





# ---------------------------------------------------------------- criteria ----
# Each criterion returns (f, Gq): the value and its gradient with respect to L.

def _vgq_oblimin(L: np.ndarray, gam: float = 0.0) -> tuple[float, np.ndarray]:
    k = L.shape[1]
    L2 = L * L
    X = L2 @ (1.0 - np.eye(k))
    if gam != 0:
        p = L.shape[0]
        X = (np.eye(p) - gam / p) @ X
    return float(np.sum(L2 * X) / 4.0), L * X


def _vgq_geomin(L: np.ndarray, delta: float = 0.01) -> tuple[float, np.ndarray]:
    k = L.shape[1]
    L2 = L * L + delta
    pro = np.exp(np.log(L2).sum(axis=1) / k)
    return float(pro.sum()), (2.0 / k) * (L / L2) * pro[:, None]


def _vgq_varimax(L: np.ndarray) -> tuple[float, np.ndarray]:
    QL = L * L
    QL = QL - QL.mean(axis=0)
    return float(-np.sum(QL * QL) / 4.0), -L * QL


def _gpf_oblique(A: np.ndarray, crit: Callable, T: np.ndarray | None = None,
                 normalize: bool = False, eps: float = 1e-5, maxit: int = 1000):
    """GPFoblq of GPArotation: returns (L, T, f, converged, n_iter)."""
    A = np.asarray(A, dtype=float)
    k = A.shape[1]
    if normalize:
        w = np.sqrt((A * A).sum(axis=1))[:, None]
        A = A / w
    T = np.eye(k) if T is None else np.array(T, dtype=float)
    al = 1.0
    Tinv = np.linalg.inv(T)
    L = A @ Tinv.T
    f, Gq = crit(L)
    G = -(L.T @ Gq @ Tinv).T
    s = np.inf
    it = 0
    for it in range(maxit + 1):  # noqa: B007 - it is reported after the loop
        Gp = G - T * (T * G).sum(axis=0)[None, :]
        s = float(np.sqrt(np.sum(Gp * Gp)))
        if s < eps:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt((X * X).sum(axis=0))[None, :]
            Ttinv = np.linalg.inv(Tt)
            L = A @ Ttinv.T
            ft, Gqt = crit(L)
            if f - ft > 0.5 * s * s * al:
                break
            al /= 2.0
        T = Tt
        f = ft
        G = -(L.T @ Gqt @ Ttinv).T
    converged = s < eps
    if normalize:
        L = L * w
    return L, T, f, converged, it


def _gpf_orthogonal(A: np.ndarray, crit: Callable, T: np.ndarray | None = None,
                    normalize: bool = False, eps: float = 1e-5, maxit: int = 1000):
    """GPForth of GPArotation: returns (L, T, f, converged, n_iter)."""
    A = np.asarray(A, dtype=float)
    k = A.shape[1]
    if normalize:
        w = np.sqrt((A * A).sum(axis=1))[:, None]
        A = A / w
    T = np.eye(k) if T is None else np.array(T, dtype=float)
    al = 1.0
    L = A @ T
    f, Gq = crit(L)
    G = A.T @ Gq
    s = np.inf
    it = 0
    for it in range(maxit + 1):  # noqa: B007 - it is reported after the loop
        M = T.T @ G
        S = (M + M.T) / 2.0
        Gp = G - T @ S
        s = float(np.sqrt(np.sum(Gp * Gp)))
        if s < eps:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            U, _d, Vt = np.linalg.svd(X)
            Tt = U @ Vt
            L = A @ Tt
            ft, Gqt = crit(L)
            if ft < f - 0.5 * s * s * al:
                break
            al /= 2.0
        T = Tt
        f = ft
        G = A.T @ Gqt
    converged = s < eps
    if normalize:
        L = L * w
    return L, T, f, converged, it


def _stats_varimax(x: np.ndarray, normalize: bool = True, eps: float = 1e-5):
    """stats::varimax: returns (loadings, rotmat, converged, n_iter)."""
    x = np.asarray(x, dtype=float)
    p, k = x.shape
    if k < 2:
        return x.copy(), np.eye(k), True, 0
    if normalize:
        sc = np.sqrt((x * x).sum(axis=1))[:, None]
        x = x / sc
    T = np.eye(k)
    d = 0.0
    converged = False
    it = 0
    for it in range(1, 1001):  # noqa: B007 - it is reported after the loop
        z = x @ T
        B = x.T @ (z ** 3 - z * ((z * z).sum(axis=0) / p)[None, :])
        U, sv, Vt = np.linalg.svd(B)
        T = U @ Vt
        dpast = d
        d = float(sv.sum())
        if d < dpast * (1 + eps):
            converged = True
            break
    z = x @ T
    if normalize:
        z = z * sc
    return z, T, converged, it


def _promax(x: np.ndarray, m: float = 4.0):
    """psych::Promax: varimax, then a least-squares fit to the powered target.

    Returns (loadings, rotmat U with L = A U, phi, converged-flag of the varimax step).
    """
    x = np.asarray(x, dtype=float)
    xv, TT, conv, _ = _stats_varimax(x)
    Q = xv * np.abs(xv) ** (m - 1)
    U = np.linalg.lstsq(xv, Q, rcond=None)[0]
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U * np.sqrt(d)[None, :]
    z = xv @ U
    U = TT @ U
    ui = np.linalg.inv(U)
    phi = ui @ ui.T
    return z, U, phi, conv


# ---------------------------------------------------------------- public ----

def _as_frame(A) -> pd.DataFrame:
    if isinstance(A, pd.DataFrame):
        frame = A.astype(float)
    else:
        arr = np.asarray(A, dtype=float)
        if arr.ndim != 2:
            raise InputError("loadings must be a two-dimensional matrix (items x factors)",
                             value=arr.shape, expected="a 2-D array")
        frame = pd.DataFrame(arr, columns=[f"F{i + 1}" for i in range(arr.shape[1])])
    if not np.all(np.isfinite(frame.to_numpy())):
        raise InputError("loadings contain missing or infinite values")
    return frame


def _result(frame: pd.DataFrame, L, T, phi, method, orthogonal, converged, it, f=np.nan):
    msgs = []
    if not converged:
        msg = f"{method} rotation did not converge in {it} iterations"
        warnings.warn(msg, EstimationWarning, stacklevel=3)
        msgs.append(msg)
    loads = pd.DataFrame(L, index=frame.index, columns=frame.columns)
    phi_frame = None if phi is None else pd.DataFrame(phi, index=frame.columns,
                                                      columns=frame.columns)
    return RotationResult(loads, np.asarray(T), phi_frame, method, orthogonal,
                          bool(converged), int(it), float(f), msgs)


@single_blas_thread
def varimax(loadings, normalize: bool = True, eps: float = 1e-5) -> RotationResult:
    """Varimax rotation as ``stats::varimax`` (Kaiser normalisation, its stopping rule).

    Parameters
    ----------
    loadings : array-like or DataFrame
        Unrotated loadings, items x factors.
    normalize : bool, default True
        Kaiser normalisation (rows scaled to unit length before rotating).
    eps : float, default 1e-5
        Stop when the criterion ``sum(singular values of B)`` grows by less than a
        relative ``eps``.

    Returns
    -------
    RotationResult
        ``rotmat`` is ``T`` with ``L = A T``.

    Notes
    -----
    Each iteration sets ``B = A'(Z^3 - Z diag(1'Z^2)/p)`` with ``Z = A T`` and replaces
    ``T`` by ``U V'`` from the singular value decomposition ``B = U D V'`` (Kaiser, 1958;
    the algorithm of R's ``stats::varimax``).

    References
    ----------
    Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor analysis.
    *Psychometrika*, 23, 187-200.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[.8, .3], [.7, .4], [.3, .7], [.2, .8]])
    >>> res = varimax(A)  # R: stats::varimax(A)
    >>> bool(np.allclose(res.rotmat.T @ res.rotmat, np.eye(2)))
    True
    """
    frame = _as_frame(loadings)
    L, T, conv, it = _stats_varimax(frame.to_numpy(), normalize=normalize, eps=eps)
    return _result(frame, L, T, None, "varimax", True, conv, it)


@single_blas_thread
def gpa_varimax(loadings, normalize: bool = False, eps: float = 1e-5,
                maxit: int = 1000) -> RotationResult:
    """Varimax by gradient projection, as ``GPArotation::Varimax`` (psych ``"Varimax"``).

    Parameters
    ----------
    loadings : array-like or DataFrame
        Unrotated loadings.
    normalize : bool, default False
        Kaiser normalisation.
    eps, maxit : float, int
        Convergence tolerance on the projected gradient and iteration limit.

    Returns
    -------
    RotationResult

    Notes
    -----
    Minimises ``-sum((L^2 - colmeans(L^2))^2)/4`` over orthogonal ``T`` (``L = A T``).

    References
    ----------
    Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms and software
    for arbitrary rotation criteria in factor analysis. *Educational and Psychological
    Measurement*, 65, 676-696.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[.8, .3], [.7, .4], [.3, .7], [.2, .8]])
    >>> res = gpa_varimax(A)  # R: GPArotation::Varimax(A)
    >>> res.converged
    True
    """
    frame = _as_frame(loadings)
    L, T, f, conv, it = _gpf_orthogonal(frame.to_numpy(), _vgq_varimax, normalize=normalize,
                                        eps=eps, maxit=maxit)
    return _result(frame, L, T, None, "Varimax", True, conv, it, f)


@single_blas_thread
def oblimin(loadings, gamma: float = 0.0, normalize: bool = False, eps: float = 1e-5,
            maxit: int = 1000) -> RotationResult:
    """Direct oblimin rotation, as ``GPArotation::oblimin`` (psych's default rotation).

    Parameters
    ----------
    loadings : array-like or DataFrame
        Unrotated loadings.
    gamma : float, default 0
        Oblimin parameter (0 = quartimin, 0.5 = biquartimin, 1 = covarimin).
    normalize : bool, default False
        Kaiser normalisation (GPArotation's default is no normalisation).
    eps, maxit : float, int
        Convergence tolerance on the projected gradient and iteration limit.

    Returns
    -------
    RotationResult
        With ``phi = T'T``; ``rotmat`` is ``(T')^{-1}``, psych's ``rot.mat``.

    Notes
    -----
    Minimises ``f(L) = sum(L^2 * ((I - gamma/p 11') L^2 (11' - I))) / 4`` over
    ``L = A (T')^{-1}`` with unit-length columns of ``T``, by gradient projection.

    References
    ----------
    Jennrich, R. I. (2002). A simple general method for oblique rotation.
    *Psychometrika*, 67, 7-19.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[.8, .3], [.7, .4], [.3, .7], [.2, .8], [.6, .5]])
    >>> res = oblimin(A)  # R: GPArotation::oblimin(A)
    >>> res.phi.shape
    (2, 2)
    """
    frame = _as_frame(loadings)
    L, T, f, conv, it = _gpf_oblique(frame.to_numpy(), lambda x: _vgq_oblimin(x, gamma),
                                     normalize=normalize, eps=eps, maxit=maxit)
    return _result(frame, L, np.linalg.inv(T).T, T.T @ T, "oblimin", False, conv, it, f)


@single_blas_thread
def quartimin(loadings, normalize: bool = False, eps: float = 1e-5,
              maxit: int = 1000) -> RotationResult:
    """Quartimin rotation (oblimin with gamma = 0), as ``GPArotation::quartimin``.

    Parameters
    ----------
    loadings : array-like or DataFrame
        Unrotated loadings.
    normalize, eps, maxit
        As :func:`oblimin`.

    Returns
    -------
    RotationResult

    Notes
    -----
    ``f(L) = sum_i sum_{j != k} l_ij^2 l_ik^2 / 4``.

    References
    ----------
    Carroll, J. B. (1953). An analytical solution for approximating simple structure in
    factor analysis. *Psychometrika*, 18, 23-38.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[.8, .3], [.7, .4], [.3, .7], [.2, .8], [.6, .5]])
    >>> quartimin(A).converged  # R: GPArotation::quartimin(A)
    True
    """
    frame = _as_frame(loadings)
    L, T, f, conv, it = _gpf_oblique(frame.to_numpy(), _vgq_oblimin, normalize=normalize,
                                     eps=eps, maxit=maxit)
    return _result(frame, L, np.linalg.inv(T).T, T.T @ T, "quartimin", False, conv, it, f)


@single_blas_thread
def geomin(loadings, delta: float = 0.01, normalize: bool = False, eps: float = 1e-5,
           maxit: int = 1000) -> RotationResult:
    """Oblique geomin rotation, as ``GPArotation::geominQ`` (psych ``rotate="geominQ"``).

    Parameters
    ----------
    loadings : array-like or DataFrame
        Unrotated loadings.
    delta : float, default 0.01
        Small constant added to the squared loadings.
    normalize, eps, maxit
        As :func:`oblimin`.

    Returns
    -------
    RotationResult

    Notes
    -----
    ``f(L) = sum_i (prod_j (l_ij^2 + delta))^(1/k)``.

    References
    ----------
    Yates, A. (1987). *Multivariate exploratory data analysis*. SUNY Press.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[.8, .3], [.7, .4], [.3, .7], [.2, .8], [.6, .5]])
    >>> geomin(A).phi.shape  # R: GPArotation::geominQ(A)
    (2, 2)
    """
    frame = _as_frame(loadings)
    L, T, f, conv, it = _gpf_oblique(frame.to_numpy(), lambda x: _vgq_geomin(x, delta),
                                     normalize=normalize, eps=eps, maxit=maxit)
    return _result(frame, L, np.linalg.inv(T).T, T.T @ T, "geomin", False, conv, it, f)


@single_blas_thread
def promax(loadings, power: float = 4.0) -> RotationResult:
    """Promax rotation as ``psych::Promax`` (no Kaiser weighting of its own).

    Parameters
    ----------
    loadings : array-like or DataFrame
        Unrotated loadings.
    power : float, default 4
        Power of the target ``Q = X |X|^(power-1)``.

    Returns
    -------
    RotationResult
        ``rotmat`` is ``U`` with ``L = A U``; ``phi = U^{-1} U^{-T}``.

    Notes
    -----
    ``X`` = varimax loadings (``stats::varimax``, normalised); ``U = (X'X)^{-1} X'Q``,
    columns rescaled by ``sqrt(diag((U'U)^{-1}))``; ``L = X U``.

    References
    ----------
    Hendrickson, A. E., & White, P. O. (1964). Promax: a quick method for rotation to
    oblique simple structure. *British Journal of Statistical Psychology*, 17, 65-70.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[.8, .3], [.7, .4], [.3, .7], [.2, .8], [.6, .5]])
    >>> promax(A).phi.shape  # R: psych::Promax(A)
    (2, 2)
    """
    frame = _as_frame(loadings)
    z, U, phi, conv = _promax(frame.to_numpy(), power)
    return _result(frame, z, U, phi, "Promax", False, conv, 0)


@single_blas_thread
def kaiser_promax(loadings, power: float = 4.0) -> RotationResult:
    """Promax with Kaiser row weighting, as psych's ``rotate="promax"`` (``psych::kaiser``).

    Parameters
    ----------
    loadings : array-like or DataFrame
        Unrotated loadings.
    power : float, default 4
        Promax power.

    Returns
    -------
    RotationResult

    Notes
    -----
    Rows are divided by ``h_i = sqrt(sum_j a_ij^2)``, rotated by :func:`promax` and
    multiplied back by ``h_i``.

    References
    ----------
    Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research (``kaiser``). R package version 2.2.9.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[.8, .3], [.7, .4], [.3, .7], [.2, .8], [.6, .5]])
    >>> kaiser_promax(A).method  # R: psych::kaiser(A, rotate = "Promax")
    'promax'
    """
    frame = _as_frame(loadings)
    A = frame.to_numpy()
    h = np.sqrt((A * A).sum(axis=1))[:, None]
    z, U, phi, conv = _promax(A / h, power)
    return _result(frame, z * h, U, phi, "promax", False, conv, 0)


_DISPATCH = {
    "varimax": varimax,
    "Varimax": gpa_varimax,
    "oblimin": oblimin,
    "quartimin": quartimin,
    "geomin": geomin,
    "geominQ": geomin,
    "promax": kaiser_promax,
    "Promax": promax,
}


@single_blas_thread
def rotate(loadings, method: str = "oblimin", **options) -> RotationResult:
    """Rotate a loading matrix by name, with psych's meaning of each name.

    Parameters
    ----------
    loadings : array-like or DataFrame
        Unrotated loadings, items x factors.
    method : str
        One of ``"varimax"`` (stats::varimax), ``"Varimax"`` (GPArotation), ``"oblimin"``,
        ``"quartimin"``, ``"geomin"`` (= ``"geominQ"``), ``"promax"`` (psych: Kaiser-weighted
        Promax), ``"Promax"`` or ``"none"``.
    **options
        Passed to the rotation function (``gamma``, ``delta``, ``power``, ``eps`` ...).

    Returns
    -------
    RotationResult

    Notes
    -----
    See the individual functions for each criterion.

    References
    ----------
    Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms and software
    for arbitrary rotation criteria in factor analysis. *Educational and Psychological
    Measurement*, 65, 676-696.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[.8, .3], [.7, .4], [.3, .7], [.2, .8], [.6, .5]])
    >>> rotate(A, "varimax").orthogonal  # R: stats::varimax(A)
    True
    """
    if method == "none":
        frame = _as_frame(loadings)
        k = frame.shape[1]
        return RotationResult(frame.copy(), np.eye(k), None, "none", True, True, 0)
    if method not in _DISPATCH:
        raise InputError("unknown rotation", value=method,
                         expected="one of " + ", ".join(ROTATIONS))
    if _as_frame(loadings).shape[1] < 2:
        raise InputError("a rotation needs at least two factors",
                         value=_as_frame(loadings).shape[1], expected="2 or more factors")
    return _DISPATCH[method](loadings, **options)
