"""Item data and correlation matrices for factor analysis, as R's psych prepares them.

Numeric item tables (:func:`_numeric_frame`), Pearson correlations with pairwise-complete
observations (``cor(x, use = "pairwise")``), polychoric ones through
:mod:`analysis.psychometrics._polychoric`, squared multiple correlations (:func:`smc`) and
psych's smoothing of a non positive definite matrix (``cor.smooth``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from analysis.errors import EstimationWarning, InputError
from analysis.utils.blas import single_blas_thread

__all__ = ["correlation_matrix", "smc"]


def _warn(msgs: list, text: str) -> None:
    msgs.append(text)
    warnings.warn(text, EstimationWarning, stacklevel=3)


def _numeric_frame(data, what: str = "data") -> pd.DataFrame:
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise InputError(f"{what} must be a two-dimensional table", value=data.shape)
        data = pd.DataFrame(data, columns=[f"V{i + 1}" for i in range(data.shape[1])])
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame or a 2-D numpy array",
                         value=type(data).__name__, expected="a DataFrame")
    if data.shape[1] < 2:
        raise InputError(f"{what} needs at least two items (columns)", value=data.shape[1],
                         expected="2 or more columns")
    out = {}
    for col in data.columns:
        s = data[col]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            converted = pd.to_numeric(s, errors="coerce")
            bad = s[converted.isna() & s.notna()]
            if len(bad):
                raise InputError("item values must be numeric", column=str(col),
                                 row=str(bad.index[0]), value=bad.iloc[0],
                                 expected="a number or an empty cell")
            s = converted
        out[str(col)] = s.astype("float64")
    frame = pd.DataFrame(out, index=data.index)
    return frame


def _is_correlation(x: np.ndarray) -> bool:
    return (x.shape[0] == x.shape[1] and np.allclose(x, x.T, equal_nan=False)
            and np.allclose(np.diag(x), 1.0))


def _pairwise_cor(X: np.ndarray) -> np.ndarray:
    """Pearson correlations with pairwise-complete observations (R ``use = "pairwise"``)."""
    M = ~np.isnan(X)
    if M.all():
        Xc = X - X.mean(axis=0)
        C = Xc.T @ Xc
        d = np.sqrt(np.diag(C))
        R = C / np.outer(d, d)
    else:
        # centre each column first (exact shift, keeps the sums well conditioned)
        mu = np.nanmean(X, axis=0)
        Xc = np.where(M, X - mu, 0.0)
        Mf = M.astype(float)
        n = Mf.T @ Mf
        S = Xc.T @ Mf                 # S[j, k] = sum of x_j over rows where x_k is seen
        SS = (Xc * Xc).T @ Mf          # sum of x_j^2 over rows where x_k is seen
        P = Xc.T @ Xc
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = P - S * S.T / n
            vj = SS - S * S / n        # variance of x_j over the pair's rows
            R = cov / np.sqrt(vj * vj.T)
    np.fill_diagonal(R, 1.0)
    R = (R + R.T) / 2.0
    return R


@single_blas_thread
def correlation_matrix(data, corr: str = "pearson", missing: str = "pairwise") -> pd.DataFrame:
    """Item correlation matrix as psych builds it for ``fa`` and friends.

    Parameters
    ----------
    data : DataFrame
        Items in columns.
    corr : {"pearson", "spearman", "polychoric"}
        ``"pearson"`` = ``cor(x, use = "pairwise")``; ``"spearman"`` = rank correlations;
        ``"polychoric"`` = :func:`analysis.psychometrics._polychoric.polychoric` (``psych::polychoric``).
    missing : {"pairwise", "listwise"}
        Pairwise-complete observations (R's default in psych) or complete rows only.

    Returns
    -------
    DataFrame
        Items x items correlations.

    Notes
    -----
    ``r_jk = sum (x_j - m_j)(x_k - m_k) / sqrt(sum (x_j - m_j)^2 sum (x_k - m_k)^2)`` over the
    rows where both items are observed, with the means ``m`` of those rows.

    References
    ----------
    R Core Team. ``stats::cor``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4.], "b": [2, 1, 4, 3.]})
    >>> round(float(correlation_matrix(d).iloc[0, 1]), 12)  # R: cor(d, use = "pairwise")[1, 2]
    0.6
    """
    frame = _numeric_frame(data)
    if missing not in ("pairwise", "listwise"):
        raise InputError("unknown missing-data option", value=missing,
                         expected="'pairwise' or 'listwise'")
    if missing == "listwise":
        frame = frame.dropna()
    X = frame.to_numpy()
    if corr == "pearson":
        R = _pairwise_cor(X)
    elif corr == "spearman":
        ranks = frame.rank(method="average").to_numpy()
        R = _pairwise_cor(ranks) if missing == "listwise" or not np.isnan(X).any() else \
            frame.corr(method="spearman").to_numpy()
    elif corr == "polychoric":
        from analysis.psychometrics._polychoric import polychoric  # lazy: optional sibling module
        R = np.asarray(polychoric(frame).rho, dtype=float)
    else:
        raise InputError("unknown correlation type", value=corr,
                         expected="'pearson', 'spearman' or 'polychoric'")
    if np.isnan(R).any():
        raise InputError("some pairs of items have no observations in common (or no "
                         "variance), so their correlation is undefined")
    return pd.DataFrame(R, index=frame.columns, columns=frame.columns)


def smc(R) -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^{-1})`` (``psych::smc``).

    Parameters
    ----------
    R : array-like
        Correlation matrix.

    Returns
    -------
    numpy.ndarray
        SMC of each item with all others, clipped to [0, 1].

    Notes
    -----
    ``smc_j = 1 - 1 / (R^{-1})_jj``, with the Moore-Penrose inverse as psych uses.

    References
    ----------
    Guttman, L. (1940). Multiple rectilinear prediction and the resolution into components.
    *Psychometrika*, 5, 75-99.

    Examples
    --------
    >>> import numpy as np
    >>> smc(np.array([[1, .5], [.5, 1]]))  # R: psych::smc(R)
    array([0.25, 0.25])
    """
    R = np.asarray(R, dtype=float)
    d = np.sqrt(np.diag(R))
    R = R / np.outer(d, d)
    out = 1.0 - 1.0 / np.diag(np.linalg.pinv(R, hermitian=True))
    return np.clip(out, 0.0, 1.0)


def _cor_smooth(R: np.ndarray, msgs: list | None = None) -> np.ndarray:
    """psych::cor.smooth: make a not positive definite matrix positive definite."""
    vals, vecs = np.linalg.eigh(R)
    if vals.min() >= np.finfo(float).eps:
        return R
    if msgs is not None:
        _warn(msgs, "correlation matrix was not positive definite; smoothing was done "
                    "(psych::cor.smooth)")
    vals = np.where(vals < 1e-12, 100 * 1e-12, vals)
    vals = vals * R.shape[0] / vals.sum()
    S = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(S))
    return S / np.outer(d, d)


def _eig_desc(S: np.ndarray):
    vals, vecs = np.linalg.eigh(S)
    return vals[::-1], vecs[:, ::-1]




def _names(data, R) -> list:
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    return [f"V{i + 1}" for i in range(R.shape[0])]


def _as_float_or_none(data):
    try:
        return data.to_numpy(dtype=float) if isinstance(data, pd.DataFrame) else np.asarray(
            data, dtype=float)
    except (TypeError, ValueError):
        return None  # not all numeric: _numeric_frame reports where


def _corr_and_n(data, corr, missing):
    """Correlation matrix (ndarray), n (rows, or None for a matrix) and a warnings list."""
    msgs: list = []
    arr = _as_float_or_none(data)
    if arr is not None and arr.ndim == 2 and arr.shape[0] == arr.shape[1] and not np.isnan(arr).any() \
            and _is_correlation(arr):
        return arr.copy(), None, msgs
    frame = _numeric_frame(data)
    n = len(frame.dropna()) if missing == "listwise" else len(frame)
    R = correlation_matrix(frame, corr=corr, missing=missing).to_numpy()
    return R, n, msgs
