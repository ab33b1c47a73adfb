"""Exploratory factor analysis as R's psych computes it.

* :func:`kmo` -- Kaiser-Meyer-Olkin measure of sampling adequacy (``psych::KMO``).
* :func:`bartlett` -- Bartlett's test of sphericity (``psych::cortest.bartlett``).
* :func:`parallel_analysis` -- Horn's parallel analysis (``psych::fa.parallel``).
* :func:`efa` -- factor extraction (minres, ml, pa, uls), rotation, fit statistics and
  factor scores (``psych::fa``).
* :func:`factor_scores` -- regression (Thurstone) or Bartlett factor scores.

The correlation matrix is Pearson with pairwise-complete observations by default, as
``cor(x, use = "pairwise")``; ``n`` is the number of rows of the data, as psych uses it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.errors import EstimationWarning, InputError
from analysis.psychometrics import _rotation as _rot
from analysis.utils.blas import one_blas_thread, single_blas_thread

__all__ = [
    "KMOResult",
    "BartlettResult",
    "ParallelResult",
    "FactorFit",
    "EFAResult",
    "kmo",
    "bartlett",
    "parallel_analysis",
    "efa",
    "factor_scores",
    "correlation_matrix",
    "smc",
]

_METHOD_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA", "uls": "ULS"}
_LOWER = 0.005  # psych's lower bound on the uniquenesses in optim(..., lower = .005)
#: A communality at or above this is reported as a Heywood case: the unbounded solution
#: would have a uniqueness at or below zero, and the optimiser stops near psych's bound.
_HEYWOOD_H2 = 0.99


# ===================================================================== helpers ====

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


# ============================================================ KMO / Bartlett ====

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


# ========================================================== factor extraction ====

def _lbfgsb(fun_grad, start, upper, maxit=100):
    """L-BFGS-B with R optim's settings for psych (parscale .01, factr 1e7, m 5).

    ``fun_grad(psi)`` returns the objective and psych's gradient from one eigen
    decomposition.
    """
    scale = 0.01

    def fg(x):
        f, g = fun_grad(x * scale)
        return f, g * scale

    res = optimize.minimize(
        fg, start / scale, jac=True, method="L-BFGS-B",
        bounds=[(_LOWER / scale, upper / scale)] * len(start),
        options={"maxcor": 5, "ftol": 1e7 * np.finfo(float).eps, "gtol": 0.0,
                 "maxiter": maxit})
    return res.x * scale, res


def _minres_fun_grad(psi, S, nf, uls=False):
    """minres objective (psych fit.residuals) and psych's gradient (FAgr.minres).

    For a correlation matrix both use the eigen decomposition of ``S - diag(psi)``.
    """
    Sd = S.copy()
    np.fill_diagonal(Sd, 1.0 - psi)
    vals, vecs = _eig_desc(Sd)
    v1 = np.where(vals[:nf] < np.finfo(float).eps, 100 * np.finfo(float).eps, vals[:nf])
    L = vecs[:, :nf] * np.sqrt(v1)
    resid = Sd - L @ L.T
    # psych: minres sums the squared lower-triangle residuals, uls all squared residuals
    f = float(np.sum(resid ** 2)) if uls else float(np.sum(np.tril(resid, -1) ** 2))
    if not np.allclose(np.diag(S), 1.0):  # covariance input: psych's gradient uses S - psi
        return f, _minres_gradient(psi, S, nf)
    L2 = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))
    return f, np.sum(L2 * L2, axis=1) + psi - np.diag(S)


def _minres_gradient(psi, S, nf):
    vals, vecs = _eig_desc(S - np.diag(psi))
    L = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))
    return np.sum(L * L, axis=1) + psi - np.diag(S)


def _ml_fun_grad(psi, S, nf):
    """ML objective (psych FAfn) and gradient (FAgr) from one eigen decomposition."""
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eig_desc(S * np.outer(sc, sc))
    e = vals[nf:]
    f = float(-(np.sum(np.log(e) - e) - nf + S.shape[0]))
    L = np.sqrt(psi)[:, None] * (vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0)))
    g = (np.sum(L * L, axis=1) + psi - np.diag(S)) / psi ** 2
    return f, g


def _ml_loadings(psi, S, nf):
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _eig_desc(S * np.outer(sc, sc))
    L = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0))
    return np.sqrt(psi)[:, None] * L


def _ml_gradient(psi, S, nf):
    L = _ml_loadings(psi, S, nf)
    g = np.sum(L * L, axis=1) + psi - np.diag(S)
    return g / psi ** 2


def _wls_loadings(psi, S, nf):
    vals, vecs = _eig_desc(S - np.diag(psi))
    return vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))


def _extract(R: np.ndarray, nf: int, method: str, msgs: list, max_iter: int = 50,
             min_err: float = 0.001, smc_start: bool = True):
    """Unrotated loadings, reduced-matrix eigenvalues and convergence info.

    ``smc_start=False`` starts principal axes from unit communalities (psych ``SMC=FALSE``,
    which fa.parallel uses for the simulated matrices); the other methods always start
    from the SMCs, as in psych.
    """
    s = smc(R)
    info: dict = {"converged": True}
    if method in ("minres", "uls", "ml"):
        start = np.diag(R) - s
        upper = max(s.max(), 1.0)
        if method == "ml":
            psi, res = _lbfgsb(lambda x: _ml_fun_grad(x, R, nf), start, upper)
            L = _ml_loadings(psi, R, nf)
            grad = _ml_gradient(psi, R, nf)
        else:
            uls = method == "uls"
            psi, res = _lbfgsb(lambda x: _minres_fun_grad(x, R, nf, uls), start, upper)
            L = _wls_loadings(psi, R, nf)
            grad = _minres_gradient(psi, R, nf)
        # projected gradient at the solution (zero where a bound is active and pushes out)
        free = ~(((psi <= _LOWER + 1e-10) & (grad > 0)) | ((psi >= upper - 1e-10) & (grad < 0)))
        pg = np.max(np.abs(grad[free])) if free.any() else 0.0
        info.update(psi=psi, iterations=int(res.nit), optimizer=str(res.message),
                    projected_gradient=float(pg))
        if res.nit >= 100 and not res.success:
            info["converged"] = False
            _warn(msgs, f"{method} factoring did not converge in 100 iterations "
                        f"(largest projected gradient {pg:.2g})")
        elif pg > 1e-3:
            info["converged"] = False
            _warn(msgs, f"{method} factoring stopped away from a stationary point "
                        f"(largest projected gradient {pg:.2g}; optimizer: {res.message})")
        model = L @ L.T
        Sd = R.copy()
        np.fill_diagonal(Sd, np.diag(model))
        values = np.linalg.eigvalsh(Sd)[::-1]
        info["communalities"] = 1.0 - psi
    elif method == "pa":
        rmat = R.copy()
        start = s if smc_start else np.ones_like(s)
        np.fill_diagonal(rmat, start)
        comm = float(np.sum(start))
        err = comm
        i = 1
        history = []
        while err > min_err:
            vals, vecs = _eig_desc(rmat)
            if np.any(vals[:nf] < 0):  # psych stops here too ("imaginary eigen value")
                L = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0.0))
                info["converged"] = False
                _warn(msgs, "negative eigenvalue in principal-axis iterations; stopped "
                            "(imaginary loadings set to zero)")
                break
            L = vecs[:, :nf] * np.sqrt(vals[:nf])
            new = np.sum(L * L, axis=1)
            comm1 = float(new.sum())
            np.fill_diagonal(rmat, new)
            err = abs(comm - comm1)
            comm = comm1
            history.append(comm1)
            i += 1
            if i > max_iter:
                info["converged"] = False
                _warn(msgs, f"principal-axis factoring: maximum iterations ({max_iter}) "
                            "exceeded")
                err = 0
        values = vals
        info.update(iterations=len(history), communality_iterations=history,
                    communalities=np.sum(L * L, axis=1))
    else:  # pragma: no cover - checked by the caller
        raise InputError("unknown factoring method", value=method)
    return L, values, info


# ============================================================= fit statistics ====

@dataclass(frozen=True)
class FactorFit:
    """Fit statistics of a factor model, as ``psych::fa`` (``fa.stats``) reports them.

    Attributes
    ----------
    objective : float
        ML discrepancy ``tr(M^{-1} R) - log|M^{-1} R| - p`` of the model ``M``.
    statistic : float
        Likelihood chi-square ``objective * (n - 1 - (2p + 5)/6 - 2k/3)``.
    df : float
        Degrees of freedom ``p(p-1)/2 - pk + k(k-1)/2``.
    p_value : float
        Upper-tail chi-square probability of ``statistic``.
    null_statistic, null_df : float
        Chi-square and df of the independence model.
    tli : float
        Tucker-Lewis index.
    rmsea, rmsea_ci_low, rmsea_ci_high : float
        RMSEA and its (1 - alpha) confidence interval (90 % by default).
    bic, sabic : float
        ``statistic - df log n`` and the sample-size adjusted version.
    rmsr : float
        Root mean square of the off-diagonal residuals (psych ``rms``).
    crms : float
        df-corrected RMSR.
    chi_empirical : float
        Empirical chi-square (sum of squared residuals weighted by pairwise n).
    e_p_value : float
        p value of the empirical chi-square.
    harmonic_n : float
        Harmonic mean of the pairwise sample sizes.
    fit, fit_off : float
        ``1 - sum(residual^2)/sum(R^2)`` (all cells, off-diagonal cells).
    n : int
        Number of observations.
    """

    objective: float
    statistic: float
    df: float
    p_value: float
    null_statistic: float
    null_df: float
    tli: float
    rmsea: float
    rmsea_ci_low: float
    rmsea_ci_high: float
    bic: float
    sabic: float
    rmsr: float
    crms: float
    chi_empirical: float
    e_p_value: float
    harmonic_n: float
    fit: float
    fit_off: float
    n: float

    @property
    def chi_square(self) -> float:
        """Alias of ``statistic`` (the likelihood chi-square)."""
        return self.statistic

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per index (``index``, ``estimate``, ``df``, ``p_value``,
        ``ci_low``, ``ci_high``, ``n``)."""
        nan = np.nan
        rows = [
            ("chi_square", self.statistic, self.df, self.p_value, nan, nan),
            ("null_chi_square", self.null_statistic, self.null_df, nan, nan, nan),
            ("empirical_chi_square", self.chi_empirical, self.df, self.e_p_value, nan, nan),
            ("objective", self.objective, nan, nan, nan, nan),
            ("tli", self.tli, nan, nan, nan, nan),
            ("rmsea", self.rmsea, nan, nan, self.rmsea_ci_low, self.rmsea_ci_high),
            ("bic", self.bic, nan, nan, nan, nan),
            ("sabic", self.sabic, nan, nan, nan, nan),
            ("rmsr", self.rmsr, nan, nan, nan, nan),
            ("crms", self.crms, nan, nan, nan, nan),
            ("fit", self.fit, nan, nan, nan, nan),
            ("fit_off", self.fit_off, nan, nan, nan, nan),
        ]
        out = pd.DataFrame(rows, columns=["index", "estimate", "df", "p_value", "ci_low",
                                          "ci_high"])
        out["n"] = self.n
        return out

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _rmsea_bound(stat, df, n, target):
    upper = max(n, stat) + 2 * n
    f = lambda x: stats.ncx2.cdf(stat, df, x) - target if x > 0 else \
        stats.chi2.cdf(stat, df) - target  # noqa: E731
    try:
        root = optimize.brentq(f, 0.0, upper, xtol=1e-12, rtol=1e-14, maxiter=500)
    except ValueError:
        return np.nan
    return float(np.sqrt(root / (n - 1) / df))


def _fit_stats(R, L, phi, n, np_obs, alpha=0.1, msgs=None) -> FactorFit:
    p, k = L.shape
    model = L @ L.T if phi is None else L @ phi @ L.T
    residual = R - model
    r2 = float(np.sum(R * R))
    rstar2 = float(np.sum(residual * residual))
    dof = p * (p - 1) / 2 - p * k + k * (k - 1) / 2
    np.fill_diagonal(residual, 0.0)
    if np_obs is None:
        rstar_off = float(np.sum(residual ** 2))
        r2_off = r2 - float(np.trace(R))
        nh = n
        chi = rstar_off * n if n is not None else np.nan
        rms = np.sqrt(rstar_off / (p * (p - 1)))
        crms = np.sqrt(rstar_off / (2 * dof)) if dof > 0 else np.nan
    else:
        rstar_off = float(np.sum(residual ** 2 * np_obs))
        w = R * R * np_obs
        r2_off = float(w.sum() - np.trace(w))
        chi = rstar_off
        nh = float(1.0 / np.mean(1.0 / np_obs))
        rms = np.sqrt(rstar_off / (nh * p * (p - 1)))
        crms = np.sqrt(rstar_off / (2 * nh * dof)) if dof > 0 else np.nan
    e_p = float(stats.chi2.sf(chi, dof)) if dof > 0 else np.nan
    fit = 1 - rstar2 / r2
    fit_off = 1 - rstar_off / r2_off
    M = model.copy()
    np.fill_diagonal(M, np.diag(R))
    M = _cor_smooth(M, msgs)
    Rs = _cor_smooth(R, msgs)
    try:
        mir = np.linalg.solve(M, Rs)
    except np.linalg.LinAlgError:
        if msgs is not None:
            _warn(msgs, "the model matrix is singular; fit statistics are not valid")
        mir = np.eye(p)
    objective = float(np.trace(mir) - np.linalg.slogdet(mir)[1] - p)
    nan = np.nan
    stat = pval = null_chi = tli = rmsea = lo = hi = bic = sabic = nan
    F0 = float(np.trace(Rs) - np.linalg.slogdet(Rs)[1] - p)
    if n is not None:
        stat = objective * ((n - 1) - (2 * p + 5) / 6 - (2 * k) / 3)
        if stat < 0:
            stat = 0.0
        pval = float(stats.chi2.sf(stat, dof)) if dof > 0 else nan
        Mm = objective / dof if dof != 0 else nan
        M0 = F0 * 2 / (p * (p - 1))
        nm = (n - 1) - (2 * p + 5) / 6 - (2 * k) / 3
        null_chi = F0 * ((n - 1) - (2 * p + 5) / 6)
        tli = (M0 - Mm) / (M0 - 1 / nm)
        if dof > 0:
            rmsea = np.sqrt(max(stat / (dof * n) - 1 / (n - 1), 0.0))
            tail = alpha / 2
            hi = 0.0
            if stats.chi2.cdf(stat, dof) > tail:
                hi = _rmsea_bound(stat, dof, n, tail)
            lo = 0.0
            if stats.chi2.cdf(stat, dof) > 1 - tail:
                lo = _rmsea_bound(stat, dof, n, 1 - tail)
            if not np.isnan(hi) and hi < rmsea:
                hi = nan
            if not np.isnan(lo) and lo > rmsea:
                lo = nan
            bic = stat - dof * np.log(n)
            sabic = stat - dof * np.log((n + 2) / 24)
    return FactorFit(objective, float(stat), float(dof), float(pval), float(null_chi),
                     float(p * (p - 1) / 2), float(tli), float(rmsea), float(lo), float(hi),
                     float(bic), float(sabic), float(rms), float(crms), float(chi), e_p,
                     float(nh) if nh is not None else nan, float(fit), float(fit_off),
                     float(n) if n is not None else nan)


# ======================================================================= efa ====

@dataclass(frozen=True)
class EFAResult:
    """Result of :func:`efa`.

    Attributes
    ----------
    loadings : DataFrame
        Rotated loadings (pattern matrix), items x factors, columns ``MR1..``/``ML1..``/
        ``PA1..``/``ULS1..`` as psych names them, ordered and signed as psych does.
    structure : DataFrame
        Structure matrix ``loadings @ phi``.
    communalities : Series
        ``h2`` = diagonal of ``L L'`` of the unrotated solution (psych ``communality``).
    uniquenesses : Series
        ``u2 = diag(R) - h2`` (psych ``uniquenesses``).
    phi : DataFrame or None
        Factor correlations of an oblique rotation.
    variance : DataFrame
        Rows ``ss_loadings, proportion, cumulative, proportion_explained,
        cumulative_proportion``, one column per factor (psych ``Vaccounted``).
    fit : FactorFit
        Chi-square, df, p value, RMSEA with CI, TLI, RMSR, BIC... as psych reports.
    weights : DataFrame
        Regression (Thurstone) factor-score weights ``R^{-1} L phi``.
    scores : DataFrame or None
        Factor scores of the rows (``scores="regression"`` or ``"bartlett"``).
    correlation : DataFrame
        The correlation matrix analysed.
    eigenvalues : numpy.ndarray
        Eigenvalues of the correlation matrix (psych ``e.values``).
    reduced_eigenvalues : numpy.ndarray
        Eigenvalues of the correlation matrix with communalities on the diagonal
        (psych ``values``).
    method, rotation : str
        Factoring method and rotation.
    n_factors : int
        Number of factors.
    n : int
        Number of observations (rows).
    converged : bool
        Whether extraction and rotation converged.
    iterations : int
        Iterations of the extraction.
    rotmat : numpy.ndarray or None
        Rotation matrix (psych ``rot.mat``).
    warnings : list of str
        Heywood cases, non-convergence, smoothing of non-positive-definite matrices.
    """

    loadings: pd.DataFrame
    structure: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    phi: pd.DataFrame | None
    variance: pd.DataFrame
    fit: FactorFit
    weights: pd.DataFrame
    scores: pd.DataFrame | None
    correlation: pd.DataFrame
    eigenvalues: np.ndarray
    reduced_eigenvalues: np.ndarray
    method: str
    rotation: str
    n_factors: int
    n: int | None
    converged: bool
    iterations: int
    rotmat: np.ndarray | None
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Loadings in a wide table with ``h2``, ``u2`` and ``complexity`` (psych print)."""
        out = self.loadings.copy()
        out["h2"] = self.communalities
        out["u2"] = self.uniquenesses
        L = self.loadings.to_numpy()
        out["complexity"] = (L ** 2).sum(axis=1) ** 2 / (L ** 4).sum(axis=1)
        return out

    def tidy(self) -> pd.DataFrame:
        """Long table: ``item, factor, estimate`` (one row per loading)."""
        tidy = self.loadings.rename_axis(index="item", columns="factor").stack()
        return tidy.rename("estimate").reset_index()

    def _repr_html_(self) -> str:
        head = (f"<p>Factor analysis: {self.method}, {self.rotation} rotation, "
                f"{self.n_factors} factors, n = {self.n}</p>")
        warn = "".join(f"<p><b>Warning:</b> {w}</p>" for w in self.warnings)
        return head + warn + self.to_frame().to_html() + self.fit._repr_html_()


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


# ============================================================= parallel analysis ====

@dataclass(frozen=True)
class ParallelResult:
    """Horn's parallel analysis (psych ``fa.parallel``).

    Attributes
    ----------
    n_factors : int
        Suggested number of factors: observed factor eigenvalues above the simulated
        quantile, counted from the first until the first one that is not.
    n_components : int
        Same rule for principal-component eigenvalues.
    eigen : DataFrame
        One row per position ``1..p`` with columns ``observed_fa``, ``observed_pc``,
        ``simulated_fa_mean``, ``simulated_fa_quantile``, ``simulated_pc_mean``,
        ``simulated_pc_quantile`` and, with ``resample=True``, the ``resampled_*`` columns.
    n_iter : int
        Number of simulated data sets.
    quantile : float
        Quantile of the simulated eigenvalues used in the rule.
    n : int
        Number of rows simulated (rows of the data).
    seed : int or None
        Seed of the simulation.
    warnings : list of str
        Problems met.
    """

    n_factors: int
    n_components: int
    eigen: pd.DataFrame
    n_iter: int
    quantile: float
    n: int
    seed: int | None
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The eigenvalue table (see ``eigen``) with a ``position`` column."""
        return self.eigen.reset_index()

    def _repr_html_(self) -> str:
        return (f"<p>Parallel analysis suggests {self.n_factors} factors and "
                f"{self.n_components} components ({self.n_iter} simulations)</p>"
                + self.eigen.to_html())


def _fa_values(R: np.ndarray, fm: str, smc_start: bool = True) -> np.ndarray:
    """Eigenvalues of R with one-factor communalities on the diagonal (psych fa()$values)."""
    sink: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        _, values, _ = _extract(R, 1, fm, sink, smc_start=smc_start)
    return values


def _wishart_correlations(rng, n: int, p: int, n_iter: int) -> np.ndarray:
    """Correlation matrices of ``n`` iid N(0, I_p) rows, drawn via Bartlett's decomposition.

    The cross-product matrix of centred normal data is Wishart(n - 1, I); with ``A`` lower
    triangular, ``A_ii^2 ~ chi2(n - i)`` (i = 1..p), ``A_ij ~ N(0, 1)`` below the diagonal,
    ``A A'`` has exactly that distribution.
    """
    out = np.empty((n_iter, p, p))
    df = (n - 1) - np.arange(p)
    il = np.tril_indices(p, -1)
    for it in range(n_iter):
        A = np.zeros((p, p))
        A[np.diag_indices(p)] = np.sqrt(rng.chisquare(df))
        A[il] = rng.standard_normal(len(il[0]))
        W = A @ A.T
        d = np.sqrt(np.diag(W))
        out[it] = W / np.outer(d, d)
    return out


@single_blas_thread
def parallel_analysis(data, n_iter: int = 20, fm: str = "minres", corr: str = "pearson",
                      quantile: float = 0.95, seed: int | None = None,
                      missing: str = "pairwise", resample: bool = False) -> ParallelResult:
    """Horn's parallel analysis for the number of factors and components (``psych::fa.parallel``).

    Parameters
    ----------
    data : DataFrame
        Items in columns.
    n_iter : int, default 20
        Number of simulated data sets.
    fm : {"minres", "ml", "pa", "uls"}, default "minres"
        Factoring method for the one-factor reduced eigenvalues (psych ``fm``).
    corr : {"pearson", "spearman", "polychoric"}, default "pearson"
        Correlation of the observed data (simulated data always use Pearson, as psych).
    quantile : float, default 0.95
        Quantile of the simulated eigenvalues the observed ones must exceed.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`.
    missing : {"pairwise", "listwise"}, default "pairwise"
        Missing-data rule for the observed correlations.
    resample : bool, default False
        Also resample each column independently (psych's "resampled data" lines, which do
        not enter its suggested numbers when simulation is on). Costs ``n x p`` random draws
        per iteration.

    Returns
    -------
    ParallelResult

    Notes
    -----
    Observed: eigenvalues of ``R`` (components) and of ``R`` with the communalities of a
    one-factor ``fm`` solution on the diagonal (factors), as psych. Simulated: the same for
    correlation matrices of ``n`` independent standard-normal rows; these are drawn
    directly from their exact distribution (the cross-product matrix is Wishart(n - 1, I),
    generated by Bartlett's decomposition) instead of generating ``n x p`` normal numbers.
    The suggested number is the count of leading observed eigenvalues greater than the
    ``quantile`` of the simulated ones (psych: ``which(!(obs > sim.ci))[1] - 1``).

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika*, 30, 179-185.
    Bartlett, M. S. (1933). On the theory of statistical regression. *Proceedings of the
    Royal Society of Edinburgh*, 53, 260-283.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> d = pd.DataFrame(rng.normal(size=(300, 1)) + rng.normal(size=(300, 6)))
    >>> parallel_analysis(d, seed=1).n_factors  # R: psych::fa.parallel(d)$nfact
    1
    """
    if fm not in _METHOD_PREFIX:
        raise InputError("unknown factoring method", value=fm,
                         expected="'minres', 'ml', 'pa' or 'uls'")
    if not (0 < quantile < 1):
        raise InputError("quantile must be between 0 and 1", value=quantile)
    if not (isinstance(n_iter, (int, np.integer)) and n_iter >= 1):
        raise InputError("n_iter must be a positive whole number", value=n_iter)
    msgs: list = []
    frame = _numeric_frame(data)
    if missing == "listwise":
        frame = frame.dropna()
    n, p = frame.shape
    rng = np.random.default_rng(seed)
    # one BLAS thread throughout: the work is many small matrices plus one n x p product,
    # and on a shared machine a second thread mostly waits
    with one_blas_thread():
        if corr == "pearson":  # the frame is already numeric: skip a second conversion
            R = _pairwise_cor(frame.to_numpy())
            if np.isnan(R).any():
                raise InputError("some pairs of items have no observations in common (or no "
                                 "variance), so their correlation is undefined")
        else:
            R = correlation_matrix(frame, corr=corr, missing=missing).to_numpy()
        obs_pc = np.linalg.eigvalsh(R)[::-1]
        obs_fa = _fa_values(R, fm)
        sims = _wishart_correlations(rng, n, p, n_iter)
        sim_pc = np.empty((n_iter, p))
        sim_fa = np.empty((n_iter, p))
        for i in range(n_iter):
            sim_pc[i] = np.linalg.eigvalsh(sims[i])[::-1]
            sim_fa[i] = _fa_values(sims[i], fm, smc_start=False)
        if resample:
            X = np.asfortranarray(frame.to_numpy())
            Xs = np.empty_like(X, order="F")
            rs_pc = np.empty((n_iter, p))
            rs_fa = np.empty((n_iter, p))
            for i in range(n_iter):
                # each column resampled on its own, missing cells included (psych sample(y))
                for j in range(p):
                    np.take(X[:, j], rng.integers(0, n, size=n), out=Xs[:, j])
                C = _pairwise_cor(Xs)
                rs_pc[i] = np.linalg.eigvalsh(C)[::-1]
                rs_fa[i] = _fa_values(C, fm, smc_start=False)

    def q(a):  # R's quantile type 7 = numpy's default "linear"
        return np.quantile(a, quantile, axis=0)

    table = {
        "observed_fa": obs_fa, "observed_pc": obs_pc,
        "simulated_fa_mean": sim_fa.mean(axis=0), "simulated_fa_quantile": q(sim_fa),
        "simulated_pc_mean": sim_pc.mean(axis=0), "simulated_pc_quantile": q(sim_pc),
    }
    if resample:
        table.update({"resampled_fa_mean": rs_fa.mean(axis=0),
                      "resampled_fa_quantile": q(rs_fa),
                      "resampled_pc_mean": rs_pc.mean(axis=0),
                      "resampled_pc_quantile": q(rs_pc)})
    eigen = pd.DataFrame(table, index=pd.RangeIndex(1, p + 1, name="position"))

    def count(obs, ref):
        below = np.flatnonzero(~(obs > ref))
        return int(below[0]) if below.size else int(len(obs))

    return ParallelResult(count(obs_fa, table["simulated_fa_quantile"]),
                          count(obs_pc, table["simulated_pc_quantile"]), eigen, int(n_iter),
                          float(quantile), int(n), seed, msgs)
