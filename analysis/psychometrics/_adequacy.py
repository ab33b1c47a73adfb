"""Sampling adequacy of a correlation matrix: KMO (``psych::KMO``) and Bartlett's test of
sphericity (``psych::cortest.bartlett``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import InputError
from analysis.psychometrics._correlation import _corr_and_n, _names, _warn
from analysis.utils.blas import single_blas_thread

__all__ = ["KMOResult", "BartlettResult", "kmo", "bartlett"]


@dataclass(frozen=True)
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes
    ----------
    overall : float
        Overall MSA.
    items : pandas.Series
        MSA of each item.
    n : int
        Number of rows of the data.
    warnings : list of str
        Problems met (singular correlation matrix).
    """

    overall: float
    items: pd.Series
    n: int
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Table with columns ``item``, ``estimate`` (MSA); the last row is ``overall``."""
        rows = list(self.items.index) + ["overall"]
        return pd.DataFrame({"item": rows,
                             "estimate": list(self.items.to_numpy()) + [self.overall],
                             "n": self.n})

    def _repr_html_(self) -> str:
        return f"<p>KMO overall MSA = {self.overall:.4f}</p>" + self.to_frame().to_html(
            index=False)


@single_blas_thread
def kmo(data, corr: str = "pearson", missing: str = "pairwise") -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy (``psych::KMO``).

    Parameters
    ----------
    data : DataFrame
        Items in columns (or a correlation matrix as a square DataFrame with unit diagonal).
    corr, missing : str
        Correlation type and missing-data rule, see :func:`correlation_matrix`.

    Returns
    -------
    KMOResult

    Notes
    -----
    With ``Q`` the anti-image correlations (``R^{-1}`` scaled to unit diagonal),
    ``MSA = sum_{j!=k} r_jk^2 / (sum_{j!=k} r_jk^2 + sum_{j!=k} q_jk^2)``; the item MSA
    restricts both sums to column ``j``.

    References
    ----------
    Kaiser, H. F. (1970). A second generation little jiffy. *Psychometrika*, 35, 401-415.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(200, 1))
    >>> d = pd.DataFrame(f + rng.normal(size=(200, 4)), columns=list("abcd"))
    >>> 0 < kmo(d).overall < 1  # R: psych::KMO(d)$MSA
    True
    """
    R, n, msgs = _corr_and_n(data, corr, missing)
    try:
        Q = np.linalg.inv(R)
    except np.linalg.LinAlgError:
        _warn(msgs, "correlation matrix is not invertible; the anti-image was not found")
        Q = R.copy()
    d = np.sqrt(np.diag(Q))
    Q = Q / np.outer(d, d)
    np.fill_diagonal(Q, 0.0)
    R0 = R.copy()
    np.fill_diagonal(R0, 0.0)
    r2 = (R0 ** 2).sum(axis=0)
    q2 = (Q ** 2).sum(axis=0)
    overall = r2.sum() / (r2.sum() + q2.sum())
    names = _names(data, R)
    return KMOResult(float(overall), pd.Series(r2 / (r2 + q2), index=names, name="msa"),
                     n, msgs)


@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test that the correlation matrix is an identity matrix.

    Attributes
    ----------
    statistic : float
        Chi-square statistic.
    df : float
        Degrees of freedom ``p(p-1)/2``.
    p_value : float
        Upper-tail chi-square probability.
    n : int
        Sample size used (rows of the data).
    """

    statistic: float
    df: float
    p_value: float
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One-row table: ``statistic, df, p_value, n``."""
        return pd.DataFrame([{"test": "Bartlett sphericity", "statistic": self.statistic,
                              "df": self.df, "p_value": self.p_value, "n": self.n}])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


@single_blas_thread
def bartlett(data, n: int | None = None, corr: str = "pearson",
             missing: str = "pairwise") -> BartlettResult:
    """Bartlett's test of sphericity (``psych::cortest.bartlett``).

    Parameters
    ----------
    data : DataFrame
        Items in columns, or a correlation matrix (then ``n`` is required).
    n : int, optional
        Sample size; by default the number of rows of the data, as psych.
    corr, missing : str
        See :func:`correlation_matrix`.

    Returns
    -------
    BartlettResult

    Notes
    -----
    ``chi2 = -(n - 1 - (2p + 5)/6) log|R|`` on ``p(p-1)/2`` degrees of freedom.

    References
    ----------
    Bartlett, M. S. (1951). The effect of standardization on a chi square approximation in
    factor analysis. *Biometrika*, 38, 337-344.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame(rng.normal(size=(100, 3)) + rng.normal(size=(100, 1)))
    >>> res = bartlett(d)  # R: psych::cortest.bartlett(d)
    >>> res.df
    3.0
    """
    R, n_data, _ = _corr_and_n(data, corr, missing)
    if n is None:
        if n_data is None:
            raise InputError("a correlation matrix was given without the sample size n",
                             expected="n=<number of observations>")
        n = n_data
    p = R.shape[0]
    sign, logdet = np.linalg.slogdet(R)
    stat = -logdet * (n - 1 - (2 * p + 5) / 6)
    df = p * (p - 1) / 2
    return BartlettResult(float(stat), float(df), float(stats.chi2.sf(stat, df)), int(n))
