"""Polychoric and tetrachoric correlations (two-step maximum likelihood).

The latent-response model behind ordinal items: item ``j`` with categories
``0 .. K-1`` is the coarsened version of a standard normal ``y*_j`` cut at the
thresholds ``tau_j1 < ... < tau_j,K-1``; two items are bivariate normal with
correlation ``rho``.  The thresholds are estimated first from each item's
margin, then ``rho`` by maximum likelihood with the thresholds held fixed
(Olsson, 1979, "two-step" estimator), as ``psych::polychoric`` and lavaan do.

Everything is vectorised over all pairs of items at once: the contingency
tables of all pairs come from one matrix product of one-hot codes, the
bivariate normal probabilities from Owen's T function
(:func:`scipy.special.owens_t`, accurate to machine precision) and ``rho`` by
Fisher scoring run on all pairs simultaneously.
"""

from __future__ import annotations

import html
import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri, owens_t

from analysis.errors import EstimationWarning, InputError
from analysis.utils.blas import single_blas_thread

__all__ = [
    "PolychoricResult",
    "polychoric",
    "tetrachoric",
    "bivariate_normal_cdf",
]

_TWO_PI = 2.0 * np.pi




_RHO_MAX = 1.0 - 1e-10


# ----------------------------------------------------------------------------------------------
# bivariate normal
# ----------------------------------------------------------------------------------------------
def bivariate_normal_cdf(h, k, rho):
    """Standard bivariate normal distribution function ``P(X <= h, Y <= k)``.

    Parameters
    ----------
    h, k : array_like
        Upper limits (may be ``-inf`` or ``+inf``); broadcast together.
    rho : array_like
        Correlation, ``-1 < rho < 1``; broadcast with ``h`` and ``k``.

    Returns
    -------
    numpy.ndarray
        ``Phi_2(h, k; rho)``, accurate to about ``1e-15`` absolute.

    Notes
    -----
    Owen's (1956) identity with his T function,

    .. math::

        \\Phi_2(h, k; \\rho) = \\tfrac12\\{\\Phi(h) + \\Phi(k)\\}
            - T(h, a_h) - T(k, a_k) - \\beta,
        \\quad a_h = \\frac{k - \\rho h}{h\\sqrt{1-\\rho^2}},
        \\quad a_k = \\frac{h - \\rho k}{k\\sqrt{1-\\rho^2}},

    with :math:`\\beta = 1/2` when :math:`hk < 0`, or :math:`hk = 0` and
    :math:`h + k < 0`, and 0 otherwise.  ``T`` is evaluated by
    :func:`scipy.special.owens_t` (Patefield & Tandy, 2000).  A zero limit is
    moved to ``1e-300`` (an error far below double precision).

    References
    ----------
    Owen, D. B. (1956). Tables for computing bivariate normal probabilities.
    *Annals of Mathematical Statistics*, 27, 1075-1090.

    Patefield, M., & Tandy, D. (2000). Fast and accurate calculation of Owen's
    T function. *Journal of Statistical Software*, 5(5).

    Examples
    --------
    >>> from analysis.psychometrics._polychoric import bivariate_normal_cdf
    >>> round(float(bivariate_normal_cdf(0.0, 0.0, 0.5)), 12)  # R: mnormt::pmnorm(c(0, 0), varcov = matrix(c(1, .5, .5, 1), 2))
    0.333333333333
    """
    h, k, rho = np.broadcast_arrays(
        np.asarray(h, dtype=float), np.asarray(k, dtype=float), np.asarray(rho, dtype=float)
    )
    out = np.zeros(h.shape)
    fin = np.isfinite(h) & np.isfinite(k)
    # infinite limits
    hi_h = h == np.inf
    hi_k = k == np.inf
    out = np.where(hi_h & np.isfinite(k), ndtr(np.where(np.isfinite(k), k, 0.0)), out)
    out = np.where(hi_k & np.isfinite(h), ndtr(np.where(np.isfinite(h), h, 0.0)), out)
    out = np.where(hi_h & hi_k, 1.0, out)
    if fin.any():
        hf = h[fin]
        kf = k[fin]
        r = rho[fin]
        hf = np.where(hf == 0.0, 1e-300, hf)
        kf = np.where(kf == 0.0, 1e-300, kf)
        s = np.sqrt((1.0 - r) * (1.0 + r))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            ah = (kf - r * hf) / (hf * s)
            ak = (hf - r * kf) / (kf * s)
        ah = np.clip(ah, -1e300, 1e300)
        ak = np.clip(ak, -1e300, 1e300)
        beta = np.where(hf * kf < 0.0, 0.5, 0.0)
        val = 0.5 * (ndtr(hf) + ndtr(kf)) - owens_t(hf, ah) - owens_t(kf, ak) - beta
        out[fin] = np.clip(val, 0.0, 1.0)
    return out


def _bvn_pdf(h, k, rho):
    """Bivariate normal density; zero when a limit is infinite."""
    h, k, rho = np.broadcast_arrays(
        np.asarray(h, dtype=float), np.asarray(k, dtype=float), np.asarray(rho, dtype=float)
    )
    fin = np.isfinite(h) & np.isfinite(k)
    hh = np.where(fin, h, 0.0)
    kk = np.where(fin, k, 0.0)
    om = (1.0 - rho) * (1.0 + rho)
    q = (hh * hh - 2.0 * rho * hh * kk + kk * kk) / om
    return np.where(fin, np.exp(-0.5 * q) / (_TWO_PI * np.sqrt(om)), 0.0)


def _cuts(tau):
    """Pad thresholds (..., K-1) with -inf/+inf to cut points (..., K+1)."""
    shape = tau.shape[:-1] + (1,)
    return np.concatenate([np.full(shape, -np.inf), tau, np.full(shape, np.inf)], axis=-1)


def _cell_probs(rho, ta, tb, with_derivs=False):
    """Cell probabilities of bivariate ordinal tables for many pairs at once.

    Parameters
    ----------
    rho : (P,) correlations
    ta, tb : (P, K-1) thresholds of the row and column item of each pair
    with_derivs : also return dP/drho, dP/dtau_a, dP/dtau_b

    Returns
    -------
    prob : (P, K, K)
    dprob : (P, K, K), optional -- derivative with respect to rho
    dpa : (P, K-1, K) -- d F(tau_a[k], cut_b[j]) / d tau_a[k] differences (see _scores)
    """
    A = _cuts(ta)  # (P, K+1)
    B = _cuts(tb)
    r = rho[:, None, None]
    F = bivariate_normal_cdf(A[:, :, None], B[:, None, :], r)  # (P, K+1, K+1)
    prob = F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]
    if not with_derivs:
        return prob
    f = _bvn_pdf(A[:, :, None], B[:, None, :], r)
    dprob = f[:, 1:, 1:] - f[:, :-1, 1:] - f[:, 1:, :-1] + f[:, :-1, :-1]
    return prob, dprob


# ----------------------------------------------------------------------------------------------
# data preparation
# ----------------------------------------------------------------------------------------------
def _as_codes(data, max_categories):
    """Integer category codes 0..K-1 (global minimum subtracted), -1 for missing."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(
            "polychoric correlations need a DataFrame of items",
            value=type(data).__name__,
            expected="a pandas DataFrame with one column per item",
        )
    if data.shape[1] < 2:
        raise InputError(
            "at least two items are needed", value=data.shape[1], expected="two or more columns"
        )
    cols = [str(c) for c in data.columns]
    if all(
        pd.api.types.is_integer_dtype(t) and not pd.api.types.is_extension_array_dtype(t)
        for t in data.dtypes
    ):
        # integer columns without missing values: no float round trip needed
        X = data.to_numpy()
        xmin, xmax = int(X.min()), int(X.max())
        nvalues = xmax - xmin + 1
        if nvalues > max_categories:
            raise InputError(
                f"items span {nvalues} values; polychoric correlations are meant for ordinal items",
                value=nvalues,
                expected=f"at most {max_categories} categories (raise max_categories if intended)",
            )
        codes = (X - xmin).astype(np.int8 if nvalues < 127 else np.int64)
        return codes, cols, xmin, nvalues
    if all(
        pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in data.dtypes
    ):
        X = data.to_numpy(dtype=float, na_value=np.nan)
        return _codes_from_float(X, cols, max_categories)
    arrays = []
    for c in data.columns:
        s = data[c]
        try:
            x = pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            bad = s[pd.to_numeric(s, errors="coerce").isna() & s.notna()]
            raise InputError(
                "ordinal items must hold integer category codes",
                column=str(c),
                value=None if bad.empty else bad.iloc[0],
                expected="integers such as 1..5",
            ) from exc
        ok = ~np.isnan(x)
        if np.any(x[ok] != np.round(x[ok])):
            raise InputError(
                "ordinal items must hold integer category codes",
                column=str(c),
                value=float(x[ok][x[ok] != np.round(x[ok])][0]),
                expected="integers such as 1..5",
            )
        arrays.append(x)
    return _codes_from_float(np.column_stack(arrays), cols, max_categories)


def _codes_from_float(X, cols, max_categories):
    ok = ~np.isnan(X)
    if np.any(X[ok] != np.round(X[ok])):
        bad = np.argwhere(ok & (X != np.round(np.where(ok, X, 0.0))))[0]
        raise InputError(
            "ordinal items must hold integer category codes",
            column=cols[bad[1]],
            row=int(bad[0]) + 1,
            value=float(X[bad[0], bad[1]]),
            expected="integers such as 1..5",
        )
    if not ok.any():
        raise InputError("all values are missing", expected="observed item responses")
    xmin = np.nanmin(X)
    xmax = np.nanmax(X)
    nvalues = int(xmax - xmin) + 1
    if nvalues > max_categories:
        raise InputError(
            f"items span {nvalues} values; polychoric correlations are meant for ordinal items",
            value=nvalues,
            expected=f"at most {max_categories} categories (raise max_categories if intended)",
        )
    codes = np.where(ok, X - xmin, -1).astype(np.int8 if nvalues < 127 else np.int64)
    return codes, cols, int(xmin), nvalues


def _one_hot(codes, K, dtype):
    """(n, p*K) indicator matrix of the categories; a missing code (-1) gives a zero block."""
    n, p = codes.shape
    Z = np.zeros(n * p * K, dtype=dtype)
    idx = np.arange(n * p, dtype=np.int64) * K + codes.ravel()
    ok = codes.ravel() >= 0
    Z[idx[ok] if not ok.all() else idx] = 1.0
    return Z.reshape(n, p * K)


def _pair_tables(codes, K, chunk=20_000):
    """Contingency tables of all item pairs (pairwise complete), shape (p, p, K, K)."""
    n, p = codes.shape
    dtype = np.float32 if n < 2**24 else np.float64  # integer counts are exact in float32
    M = np.zeros((p * K, p * K), dtype=np.float64)
    for start in range(0, n, chunk):
        Z = _one_hot(codes[start : start + chunk], K, dtype)
        M += (Z.T @ Z).astype(np.float64)
    return M.reshape(p, K, p, K).transpose(0, 2, 1, 3)


def _thresholds_from_counts(counts):
    """qnorm of cumulative proportions, (..., K) counts -> (..., K-1) thresholds."""
    tot = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        cum = np.cumsum(counts, axis=-1)[..., :-1] / tot
    return ndtri(np.clip(cum, 0.0, 1.0))


# ----------------------------------------------------------------------------------------------
# two-step ML for rho, vectorised over pairs
# ----------------------------------------------------------------------------------------------
def _loglik(rho, ta, tb, tab):
    prob = _cell_probs(rho, ta, tb)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.where((prob > 0) & (tab > 0), np.log(np.where(prob > 0, prob, 1.0)), 0.0)
    return (tab * lp).sum(axis=(1, 2))


def _fit_rho(ta, tb, tab, start=None, tol=1e-10, maxiter=100, rho_max=_RHO_MAX):
    """Maximise sum(tab * log P(rho)) for each pair with thresholds fixed (Fisher scoring).

    Returns (rho, converged) arrays.
    """
    P = tab.shape[0]
    tot = tab.sum(axis=(1, 2))
    if start is None:
        rho = np.zeros(P)
    else:
        rho = np.clip(np.asarray(start, dtype=float), -0.99, 0.99)
    active = tot > 0
    converged = np.zeros(P, dtype=bool)
    ll = np.full(P, -np.inf)
    ll[active] = _loglik(rho[active], ta[active], tb[active], tab[active])
    for _ in range(maxiter):
        idx = np.nonzero(active & ~converged)[0]
        if idx.size == 0:
            break
        prob, dprob = _cell_probs(rho[idx], ta[idx], tb[idx], with_derivs=True)
        t = tab[idx]
        pos = prob > 1e-300
        safe = np.where(pos, prob, 1.0)
        score = np.where(pos & (t > 0), t * dprob / safe, 0.0).sum(axis=(1, 2))
        info = tot[idx] * np.where(pos, dprob * dprob / safe, 0.0).sum(axis=(1, 2))
        info = np.where(info > 0, info, 1.0)
        step = score / info
        new = np.clip(rho[idx] + step, -rho_max, rho_max)
        new_ll = _loglik(new, ta[idx], tb[idx], t)
        # step halving where the likelihood went down
        for _h in range(30):
            worse = new_ll < ll[idx] - 1e-12 * np.abs(ll[idx])
            if not worse.any():
                break
            step = np.where(worse, step / 2.0, step)
            new = np.where(worse, np.clip(rho[idx] + step, -rho_max, rho_max), new)
            w = np.nonzero(worse)[0]
            new_ll[w] = _loglik(new[w], ta[idx][w], tb[idx][w], t[w])
        done = np.abs(new - rho[idx]) < tol
        rho[idx] = new
        ll[idx] = new_ll
        converged[idx[done]] = True
    rho[~active] = np.nan
    return rho, converged | ~active


def _smooth(R):
    """psych::cor.smooth: eigenvalues below 1e-12 set to 1e-10, rescaled, back to correlations."""
    vals, vecs = np.linalg.eigh(R)
    if vals.min() >= np.finfo(float).eps:
        return R, False
    vals = np.where(vals < 1e-12, 100 * 1e-12, vals)
    vals = vals * R.shape[0] / vals.sum()
    S = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(S))
    S = S / np.outer(d, d)
    np.fill_diagonal(S, 1.0)
    return S, True


# ----------------------------------------------------------------------------------------------
# result
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolychoricResult:
    """Polychoric (or tetrachoric) correlation matrix.

    Attributes
    ----------
    rho : pandas.DataFrame
        Items x items correlation matrix (after smoothing when ``smoothed``).
    thresholds : pandas.DataFrame
        Items x thresholds (``psych``'s ``tau``): row ``j`` holds
        ``qnorm`` of the cumulative proportions of item ``j``'s categories.
    n : pandas.DataFrame
        Items x items number of complete pairs behind each correlation.
    n_obs : int
        Number of rows of the data.
    smoothed : bool
        True when the matrix was not positive definite and was smoothed
        (``psych::cor.smooth``).
    corrected_cells : int
        Number of empty cells replaced by ``correct`` (continuity correction).
    converged : bool
        Whether the likelihood maximisation converged for every pair.
    method : str
        ``"polychoric"`` or ``"tetrachoric"``.
    warnings : list of str
        Problems met (smoothing, corrected cells, non-convergence).
    """

    rho: pd.DataFrame
    thresholds: pd.DataFrame
    n: pd.DataFrame
    n_obs: int
    smoothed: bool
    corrected_cells: int
    converged: bool
    method: str = "polychoric"
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per pair of items.

        Returns
        -------
        pandas.DataFrame
            Columns ``item1``, ``item2``, ``estimate`` (the correlation) and
            ``n`` (complete pairs).
        """
        items = list(self.rho.columns)
        i, j = np.tril_indices(len(items), -1)
        R = self.rho.to_numpy()
        N = self.n.to_numpy()
        return pd.DataFrame(
            {
                "item1": [items[a] for a in j],
                "item2": [items[b] for b in i],
                "estimate": R[i, j],
                "n": N[i, j].astype(int),
            }
        )

    def __repr__(self) -> str:
        head = (
            f"{self.method.capitalize()} correlations ({self.rho.shape[0]} items, n = {self.n_obs})"
        )
        if self.smoothed:
            head += " [smoothed]"
        return head + "\n" + self.rho.to_string()

    def _repr_html_(self) -> str:
        head = html.escape(
            f"{self.method.capitalize()} correlations ({self.rho.shape[0]} items, n = {self.n_obs})"
        )
        notes = "".join(f"<p><em>{html.escape(w)}</em></p>" for w in self.warnings)
        return f"<p><strong>{head}</strong></p>{self.rho.to_html()}{notes}"


def _warn(msgs, text):
    msgs.append(text)
    _warnings.warn(text, EstimationWarning, stacklevel=3)


def _pair_index(p):
    i, j = np.tril_indices(p, -1)  # row-wise lower triangle
    return i, j


@single_blas_thread
def polychoric(
    data: pd.DataFrame,
    correct: float = 0.5,
    smooth: bool = True,
    global_thresholds: bool = True,
    max_categories: int = 10,
) -> PolychoricResult:
    """Polychoric correlation matrix of ordinal items (two-step maximum likelihood).

    Parameters
    ----------
    data : pandas.DataFrame
        One column per item, integer category codes (e.g. 1..6); missing
        values allowed (each correlation uses the complete pairs).
    correct : float, default 0.5
        Continuity correction for empty cells, used only with
        ``global_thresholds=False`` (as in ``psych``): empty cells of a pair's
        table (after dropping empty rows and columns) get ``correct / n_pair``.
        ``0`` turns it off.
    smooth : bool, default True
        Smooth a non-positive-definite matrix as ``psych::cor.smooth``.
    global_thresholds : bool, default True
        Use each item's thresholds from all its observed values for every pair
        (``psych::polychoric(global = TRUE)``, lavaan's approach);
        ``False`` re-estimates the thresholds from each pair's table.  Forced to
        ``False`` (with a warning) when items differ in their highest category,
        as psych does.
    max_categories : int, default 10
        Refuse items spanning more distinct values than this.

    Returns
    -------
    PolychoricResult
        ``.rho``, ``.thresholds``, ``.n``, ``.smoothed``, ``.warnings``, ...

    Notes
    -----
    For a pair with thresholds :math:`a_0=-\\infty<a_1<\\dots<a_{K}=\\infty`
    and :math:`b`, the cell probability is

    .. math:: \\pi_{rs}(\\rho) = \\Phi_2(a_r,b_s;\\rho) - \\Phi_2(a_{r-1},b_s;\\rho)
              - \\Phi_2(a_r,b_{s-1};\\rho) + \\Phi_2(a_{r-1},b_{s-1};\\rho)

    and :math:`\\hat\\rho` maximises :math:`\\sum_{rs} n_{rs}\\log\\pi_{rs}(\\rho)`
    with the thresholds fixed at :math:`a_r = \\Phi^{-1}(\\text{cumulative
    proportion})`.  Fisher scoring uses
    :math:`\\partial\\pi_{rs}/\\partial\\rho` from the bivariate normal density
    (:math:`\\partial\\Phi_2/\\partial\\rho = \\phi_2`) and is iterated to
    :math:`|\\Delta\\rho| < 10^{-10}`; ``psych`` stops ``optimize`` at about
    :math:`10^{-4}`, so the two agree to that order.

    References
    ----------
    Olsson, U. (1979). Maximum likelihood estimation of the polychoric
    correlation coefficient. *Psychometrika*, 44, 443-460.

    Revelle, W. (2022). *psych: Procedures for Psychological, Psychometric, and
    Personality Research* (version 2.2.9), ``polychoric``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.psychometrics._polychoric import polychoric
    >>> rng = np.random.default_rng(1)
    >>> z = rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], size=2000)
    >>> d = pd.DataFrame(np.digitize(z, [-1, 0, 1]) + 1, columns=["a", "b"])
    >>> res = polychoric(d)  # R: psych::polychoric(d)
    >>> round(float(res.rho.loc["a", "b"]), 1)
    0.5
    """
    codes, cols, xmin, K = _as_codes(data, max_categories)
    n, p = codes.shape
    msgs: list[str] = []
    tables = _pair_tables(codes, K)
    counts = np.einsum("jjkk->jk", tables)  # each item's own margin (all its observed values)
    tau = _thresholds_from_counts(counts)  # (p, K-1), psych's global tau
    # psych: if the items' highest observed values differ, global is switched off
    top = np.array([np.max(np.nonzero(c)[0]) if c.any() else -1 for c in counts])
    if global_thresholds and np.unique(top).size > 1:
        global_thresholds = False
        _warn(
            msgs,
            "The items do not have an equal number of response alternatives; "
            "thresholds were re-estimated per pair (global_thresholds=False), as psych does.",
        )
    ii, jj = _pair_index(p)
    tab = tables[ii, jj]  # (P, K, K): rows item ii, cols item jj
    npair = tab.sum(axis=(1, 2))
    fixed = 0
    if global_thresholds:
        ta, tb = tau[ii], tau[jj]
        t_use = tab
    else:
        t_use = tab.copy()
        rowz = t_use.sum(axis=2) == 0  # (P, K)
        colz = t_use.sum(axis=1) == 0
        if correct > 0:
            zero = (t_use == 0) & ~rowz[:, :, None] & ~colz[:, None, :]
            fixed = int(np.count_nonzero(zero.any(axis=(1, 2))))
            t_use = np.where(zero, correct, t_use)  # counts scale: correct/tot in proportions
        tot = np.where(npair > 0, npair, 1.0)[:, None]
        rs = t_use.sum(axis=2) / tot
        cs = t_use.sum(axis=1) / tot
        ta = _local_tau(rs, rowz)
        tb = _local_tau(cs, colz)
    rho_p, conv = _fit_rho(ta, tb, t_use)
    if fixed:
        _warn(
            msgs,
            f"{fixed} pair table(s) had empty cells replaced by the continuity correction "
            f"({correct}); examine the data carefully.",
        )
    if not conv.all():
        _warn(
            msgs, f"The likelihood maximisation did not converge for {int((~conv).sum())} pair(s)."
        )
    R = np.eye(p)
    R[ii, jj] = rho_p
    R[jj, ii] = rho_p
    smoothed = False
    if np.isnan(R).any():
        _warn(
            msgs, "Some correlations could not be estimated (no complete pairs); smoothing skipped."
        )
    elif smooth:
        R, smoothed = _smooth(R)
        if smoothed:
            _warn(
                msgs,
                "The polychoric matrix was not positive definite and was smoothed "
                "(eigenvalues below 1e-12 raised, as psych::cor.smooth).",
            )
    Nmat = tables.sum(axis=(2, 3))
    tau_df = pd.DataFrame(tau, index=cols, columns=[str(c) for c in range(1, K)])
    return PolychoricResult(
        rho=pd.DataFrame(R, index=cols, columns=cols),
        thresholds=tau_df,
        n=pd.DataFrame(Nmat.astype(int), index=cols, columns=cols),
        n_obs=n,
        smoothed=smoothed,
        corrected_cells=fixed,
        converged=bool(conv.all()),
        method="polychoric",
        warnings=msgs,
    )


def _local_tau(marg, empty):
    """Thresholds of a pair's margin (psych, global=FALSE): empty categories collapse."""
    cum = np.cumsum(marg, axis=1)[:, :-1]
    K = marg.shape[1]
    nonempty = ~empty
    first = np.argmax(nonempty, axis=1)
    last = K - 1 - np.argmax(nonempty[:, ::-1], axis=1)
    pos = np.arange(K - 1)[None, :]
    t = ndtri(np.clip(cum, 0.0, 1.0))
    t = np.where(pos < first[:, None], -np.inf, t)
    t = np.where(pos >= last[:, None], np.inf, t)
    return t


@single_blas_thread
def tetrachoric(data: pd.DataFrame, correct: float = 0.5, smooth: bool = True) -> PolychoricResult:
    """Tetrachoric correlation matrix of binary items (``psych::tetrachoric``).

    Parameters
    ----------
    data : pandas.DataFrame
        One column per item, two values per item (e.g. 0/1); missing allowed.
    correct : float, default 0.5
        Added to empty cells of a pair's 2 x 2 table (counts), as psych.
    smooth : bool, default True
        Smooth a non-positive-definite matrix (``psych::cor.smooth``).

    Returns
    -------
    PolychoricResult
        ``thresholds`` has one column: :math:`\\tau_j = \\Phi^{-1}(1 - \\bar x_j)`.

    Notes
    -----
    Same two-step likelihood as :func:`polychoric` with two categories; the
    thresholds are global (each item's own margin).  A zero cell is replaced
    by ``correct`` before maximising
    :math:`\\sum n_{rs}\\log\\pi_{rs}(\\rho)`.

    References
    ----------
    Pearson, K. (1900). Mathematical contributions to the theory of evolution
    VII. *Philosophical Transactions A*, 195, 1-47.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.psychometrics._polychoric import tetrachoric
    >>> rng = np.random.default_rng(2)
    >>> z = rng.multivariate_normal([0, 0], [[1, .6], [.6, 1]], size=4000)
    >>> d = pd.DataFrame((z > [0.2, -0.3]).astype(int), columns=["a", "b"])
    >>> round(float(tetrachoric(d).rho.loc["a", "b"]), 1)  # R: psych::tetrachoric(d)
    0.6
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(
            "tetrachoric correlations need a DataFrame of items", expected="a DataFrame"
        )
    shifted = data.apply(
        lambda s: pd.to_numeric(s, errors="coerce") - pd.to_numeric(s, errors="coerce").min()
    )
    for c in shifted.columns:
        vals = shifted[c].dropna().unique()
        if len(vals) > 2 or (len(vals) and vals.max() > 1):
            raise InputError(
                "tetrachoric correlations need dichotomous items",
                column=str(c),
                value=sorted(data[c].dropna().unique().tolist())[:5],
                expected="two distinct values",
            )
    codes, cols, _, K = _as_codes(shifted, 2)
    K = 2
    n, p = codes.shape
    msgs: list[str] = []
    counts = np.stack([np.bincount(codes[:, j][codes[:, j] >= 0], minlength=2) for j in range(p)])
    tau = _thresholds_from_counts(counts.astype(float))
    tables = _pair_tables(codes, K)
    ii, jj = _pair_index(p)
    tab = tables[ii, jj].copy()
    fixed = 0
    if correct > 0:
        zero = (tab == 0) & (tab.sum(axis=(1, 2)) > 1)[:, None, None]
        fixed = int(np.count_nonzero(zero.any(axis=(1, 2))))
        tab = np.where(zero, correct, tab)
    rho_p, conv = _fit_rho(tau[ii], tau[jj], tab)
    if fixed:
        _warn(msgs, f"{fixed} 2 x 2 table(s) had empty cells replaced by {correct}.")
    if not conv.all():
        _warn(
            msgs, f"The likelihood maximisation did not converge for {int((~conv).sum())} pair(s)."
        )
    R = np.eye(p)
    R[ii, jj] = rho_p
    R[jj, ii] = rho_p
    smoothed = False
    if smooth and not np.isnan(R).any():
        R, smoothed = _smooth(R)
        if smoothed:
            _warn(msgs, "The tetrachoric matrix was not positive definite and was smoothed.")
    return PolychoricResult(
        rho=pd.DataFrame(R, index=cols, columns=cols),
        thresholds=pd.DataFrame(tau, index=cols, columns=["1"]),
        n=pd.DataFrame(tables.sum(axis=(2, 3)).astype(int), index=cols, columns=cols),
        n_obs=n,
        smoothed=smoothed,
        corrected_cells=fixed,
        converged=bool(conv.all()),
        method="tetrachoric",
        warnings=msgs,
    )
