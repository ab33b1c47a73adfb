"""Factor scores of an exploratory factor analysis: regression (Thurstone) or Bartlett
(``psych::factor.scores``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.psychometrics._correlation import _numeric_frame
from analysis.psychometrics._efa_result import EFAResult
from analysis.utils.blas import single_blas_thread

__all__ = ["factor_scores"]


def _standardize(frame: pd.DataFrame) -> np.ndarray:
    X = frame.to_numpy(dtype=float)
    mu = np.nanmean(X, axis=0)
    sd = np.nanstd(X, axis=0, ddof=1)
    return (X - mu) / sd


def _scores(frame, loadings, phi, weights, h2, method) -> pd.DataFrame:
    Z = _standardize(frame)
    if method in ("regression", "Thurstone"):
        W = weights.to_numpy()
    else:  # Bartlett
        L = loadings.to_numpy()
        inv_u2 = 1.0 / (1.0 - h2)
        LU = L * inv_u2[:, None]
        W = LU @ np.linalg.inv(L.T @ LU)
    return pd.DataFrame(Z @ W, index=frame.index, columns=loadings.columns)


@single_blas_thread
def factor_scores(data, result: EFAResult, method: str = "regression") -> pd.DataFrame:
    """Factor scores of new or the same data from a fitted :func:`efa` result.

    Parameters
    ----------
    data : DataFrame
        Items (same columns as the analysis).
    result : EFAResult
        A fitted factor analysis.
    method : {"regression", "bartlett"}, default "regression"
        Thurstone regression scores (psych ``scores="regression"``) or Bartlett scores.

    Returns
    -------
    DataFrame
        One row per row of ``data``; rows with a missing item get missing scores (psych
        with ``impute = "none"``).

    Notes
    -----
    ``Z`` = items standardised by their own means and SDs; regression weights
    ``W = R^{-1} L phi``; Bartlett weights ``U^{-2} L (L' U^{-2} L)^{-1}``.

    References
    ----------
    Thurstone, L. L. (1935). *The vectors of mind*. University of Chicago Press.
    Bartlett, M. S. (1937). The statistical conception of mental factors. *British Journal
    of Psychology*, 28, 97-104.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.psychometrics import efa
    >>> rng = np.random.default_rng(4)
    >>> d = pd.DataFrame(rng.normal(size=(100, 1)) + rng.normal(size=(100, 4)))
    >>> res = efa(d, 1)
    >>> factor_scores(d, res).shape  # R: psych::factor.scores(d, fa(d))$scores
    (100, 1)
    """
    frame = _numeric_frame(data)[list(result.loadings.index)]
    method = {"Thurstone": "regression", "Bartlett": "bartlett"}.get(method, method)
    if method not in ("regression", "bartlett"):
        raise InputError("unknown factor-score method", value=method,
                         expected="'regression' or 'bartlett'")
    return _scores(frame, result.loadings, result.phi, result.weights,
                   result.communalities.to_numpy(), method)
