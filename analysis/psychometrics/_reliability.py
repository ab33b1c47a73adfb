"""Scale reliability as R's psych computes it: Cronbach's alpha and McDonald's omega.

* :func:`alpha` -- coefficient alpha with item statistics and "alpha if item deleted"
  (``psych::alpha``), Feldt confidence interval (``psych::alpha.ci``).
* :func:`omega` -- omega hierarchical and omega total from a Schmid-Leiman transformation of
  an oblique factor solution (``psych::omega``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import EstimationWarning, InputError
from analysis.psychometrics import _rotation as _rot
from analysis.psychometrics._correlation import (
    _as_float_or_none,
    _numeric_frame,
    _pairwise_cor,
    _warn,
    correlation_matrix,
    smc,
)
from analysis.psychometrics._factor import efa
from analysis.utils.blas import single_blas_thread

__all__ = ["AlphaResult", "OmegaResult", "alpha", "omega"]


def _pairwise_cov(X: np.ndarray) -> np.ndarray:
    """Covariances with pairwise-complete observations (R ``cov(x, use = "pairwise")``)."""
    M = ~np.isnan(X)
    if M.all():
        return np.cov(X, rowvar=False)
    mu = np.nanmean(X, axis=0)
    Xc = np.where(M, X - mu, 0.0)
    Mf = M.astype(float)
    n = Mf.T @ Mf
    S = Xc.T @ Mf
    C = (Xc.T @ Xc - S * S.T / n) / (n - 1)
    return (C + C.T) / 2


# ===================================================================== alpha ====

@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha of a scale, as ``psych::alpha``.

    Attributes
    ----------
    alpha : float
        Raw alpha (from covariances; psych ``raw_alpha``).
    std_alpha : float
        Standardised alpha (from correlations).
    g6 : float
        Guttman's lambda 6 (SMC based).
    average_r : float
        Mean inter-item correlation.
    signal_noise : float
        Signal-to-noise ratio ``k r / (1 - r)``.
    ase : float
        Asymptotic standard error of alpha (Duhachek & Iacobucci).
    ci_low, ci_high : float
        95 % Feldt confidence interval (``psych::alpha.ci``, as printed by psych).
    mean, sd : float
        Mean and SD of the scale score (mean of the available items of a row).
    median_r : float
        Median inter-item correlation.
    n : int
        Number of rows (respondents), as psych uses it.
    n_items : int
        Number of items.
    items : DataFrame
        One row per item: ``n`` (observed), ``raw_r``, ``std_r``, ``r_cor``, ``r_drop``
        (item-rest correlation, psych ``r.drop``), ``mean``, ``sd``, ``alpha_if_deleted``,
        ``std_alpha_if_deleted``, ``g6_if_deleted``, ``average_r_if_deleted``,
        ``signal_noise_if_deleted``, ``alpha_se_if_deleted``, ``var_r_if_deleted``,
        ``median_r_if_deleted``.
    keys : Series
        +1/-1 per item (items keyed -1 were reversed as ``(min + max) - x``).
    scores : Series
        Scale score of each row (mean of the available reversed items).
    warnings : list of str
        Problems met (negatively correlated items left unreversed...).
    """

    alpha: float
    std_alpha: float
    g6: float
    average_r: float
    signal_noise: float
    ase: float
    ci_low: float
    ci_high: float
    mean: float
    sd: float
    median_r: float
    n: int
    n_items: int
    items: pd.DataFrame
    keys: pd.Series
    scores: pd.Series
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table of the scale-level coefficients (``coefficient, estimate, se,
        ci_low, ci_high, n``)."""
        nan = np.nan
        rows = [
            ("alpha", self.alpha, self.ase, self.ci_low, self.ci_high),
            ("std_alpha", self.std_alpha, nan, nan, nan),
            ("g6", self.g6, nan, nan, nan),
            ("average_r", self.average_r, nan, nan, nan),
            ("median_r", self.median_r, nan, nan, nan),
            ("signal_noise", self.signal_noise, nan, nan, nan),
        ]
        out = pd.DataFrame(rows, columns=["coefficient", "estimate", "se", "ci_low", "ci_high"])
        out["n"] = self.n
        return out

    def _repr_html_(self) -> str:
        head = (f"<p>Cronbach's alpha = {self.alpha:.4f} "
                f"[{self.ci_low:.4f}, {self.ci_high:.4f}] (Feldt), "
                f"{self.n_items} items, n = {self.n}</p>")
        return head + self.items.to_html()


def _alpha_one(C: np.ndarray, R: np.ndarray) -> dict:
    """psych's alpha.1 on a covariance and its correlation matrix."""
    k = C.shape[0]
    sumC = C.sum()
    trC = np.trace(C)
    raw = (1 - trC / sumC) * (k / (k - 1))
    sumR = R.sum()
    std = (1 - k / sumR) * (k / (k - 1))
    g6 = 1 - (k - smc(R).sum()) / sumR
    av_r = (sumR - k) / (k * (k - 1))
    lower = R[np.tril_indices(k, -1)]
    var_r = float(np.var(lower, ddof=1)) if lower.size > 1 else np.nan
    med_r = float(np.median(lower))
    sn = k * av_r / (1 - av_r)
    CC = C @ C
    Q = (2 * k ** 2 / ((k - 1) ** 2 * sumC ** 3)) * (
        sumC * (np.trace(CC) + trC ** 2) - 2 * (trC * CC.sum()))
    return {"raw": raw, "std": std, "g6": g6, "av_r": av_r, "sn": sn, "Q": Q,
            "var_r": var_r, "med_r": med_r}


def _parse_keys(keys, columns: list) -> np.ndarray:
    p = len(columns)
    if keys is None:
        return np.ones(p)
    if isinstance(keys, pd.Series):
        keys = keys.reindex(columns).fillna(1).to_numpy()
    keys = list(keys)
    if all(isinstance(k, str) for k in keys):
        out = np.ones(p)
        for k in keys:
            name = k[1:] if k.startswith("-") else k
            if name not in columns:
                raise InputError("a key names an item that is not in the data", value=k,
                                 expected="one of " + ", ".join(columns))
            if k.startswith("-"):
                out[columns.index(name)] = -1
        return out
    arr = np.asarray(keys, dtype=float)
    if arr.shape != (p,) or not np.all(np.isin(arr, (-1, 1))):
        raise InputError("numeric keys must give -1 or 1 for every item", value=keys,
                         expected=f"{p} values of -1 or 1")
    return arr


@single_blas_thread
def alpha(data, keys=None, missing: str = "pairwise") -> AlphaResult:
    """Cronbach's alpha with item statistics, as ``psych::alpha(x, keys, check.keys=FALSE)``.

    Parameters
    ----------
    data : DataFrame
        Items of one scale in columns (numeric; empty cells are missing).
    keys : list, optional
        Reverse keying: a list of -1/1 per item, or item names, those with a leading
        ``'-'`` reversed (e.g. ``["-A1", "A2"]`` or just ``["-A1"]``); a bare name is keyed
        +1 (unlike ``psych::alpha(keys = "A1")``, where a bare name means reversed; the R
        equivalent of ``keys=["-A1"]`` is ``keys = "A1"``). Reversed items become
        ``(min + max) - x`` with ``min``/``max`` over all the items' values, as psych.
    missing : {"pairwise", "listwise"}, default "pairwise"
        Covariances from pairwise-complete observations (psych ``use = "pairwise"``) or
        from complete rows only.

    Returns
    -------
    AlphaResult

    Notes
    -----
    With ``C`` the item covariance matrix, ``R`` the correlations and ``k`` items:
    ``alpha = k/(k-1) (1 - tr C / 1'C1)``, standardised alpha the same on ``R``,
    ``lambda6 = 1 - (k - sum smc) / 1'R1``. ``r_drop`` = correlation of the item with the
    sum of the other items, from ``C``. Feldt interval:
    ``1 - (1 - alpha) F_{1-a/2, 1-a/2}(n-1, (n-1)(k-1))`` (lower) and
    ``1 - (1 - alpha) F_{a/2}(...)`` (upper), with ``n`` the number of rows.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16, 297-334.
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. *Applied Psychological Measurement*, 11, 93-103.
    Duhachek, A., & Iacobucci, D. (2004). Alpha's standard error (ASE). *Journal of Applied
    Psychology*, 89, 792-808.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [5, 4, 2, 2, 1]})
    >>> res = alpha(d, keys=["-c"])  # R: psych::alpha(d, keys = "c")
    >>> round(res.alpha, 4)
    0.9718
    """
    frame = _numeric_frame(data)
    if missing not in ("pairwise", "listwise"):
        raise InputError("unknown missing-data option", value=missing,
                         expected="'pairwise' or 'listwise'")
    if missing == "listwise":
        frame = frame.dropna()
    columns = list(frame.columns)
    k = len(columns)
    key = _parse_keys(keys, columns)
    X = frame.to_numpy(dtype=float)
    sd0 = np.nanstd(X, axis=0, ddof=1)
    bad = ~(sd0 > 0)
    if bad.any():
        raise InputError("item has no variance (or fewer than two answers); drop it before "
                         "computing alpha", column=columns[int(np.flatnonzero(bad)[0])])
    msgs: list = []
    if (key < 0).any():
        adjust = np.nanmin(X) + np.nanmax(X)
        X = X.copy()
        X[:, key < 0] = adjust - X[:, key < 0]
    n = X.shape[0]
    C = _pairwise_cov(X)
    d = np.sqrt(np.diag(C))
    R = C / np.outer(d, d)
    if np.any(np.linalg.eigvalsh(R) < 0) or np.any(C.sum(axis=0) - np.diag(C) < 0):
        if np.any((C.sum(axis=0) - np.diag(C)) < 0):
            _warn(msgs, "some items correlate negatively with the rest of the scale and "
                        "probably should be reversed (keys=...)")

    total_stats = _alpha_one(C, R)
    if k > 2:
        drops = [_alpha_one(np.delete(np.delete(C, i, 0), i, 1),
                            np.delete(np.delete(R, i, 0), i, 1)) for i in range(k)]
        drop = pd.DataFrame({
            "alpha_if_deleted": [x["raw"] for x in drops],
            "std_alpha_if_deleted": [x["std"] for x in drops],
            "g6_if_deleted": [x["g6"] for x in drops],
            "average_r_if_deleted": [x["av_r"] for x in drops],
            "signal_noise_if_deleted": [x["sn"] for x in drops],
            "alpha_se_if_deleted": [np.sqrt(x["Q"] / n) for x in drops],
            "var_r_if_deleted": [x["var_r"] for x in drops],
            "median_r_if_deleted": [x["med_r"] for x in drops],
        }, index=columns)
    else:
        r12 = R[0, 1]
        s = smc(R)[0]
        drop = pd.DataFrame({
            "alpha_if_deleted": [C[0, 1] / C[1, 1], C[0, 1] / C[0, 0]],
            "std_alpha_if_deleted": [r12, r12], "g6_if_deleted": [s, s],
            "average_r_if_deleted": [r12, r12],
            "signal_noise_if_deleted": [r12 / (1 - r12)] * 2,
            "alpha_se_if_deleted": [np.nan, np.nan], "var_r_if_deleted": [0.0, 0.0],
            "median_r_if_deleted": [r12, r12]}, index=columns)

    Vt = R.sum()
    std_r = R.sum(axis=0) / np.sqrt(Vt)
    RC = R.copy()
    np.fill_diagonal(RC, smc(R))
    r_cor = RC.sum(axis=0) / np.sqrt(RC.sum())
    r_drop = np.array([(C[:, i].sum() - C[i, i])
                       / np.sqrt(C[i, i] * np.delete(np.delete(C, i, 0), i, 1).sum())
                       for i in range(k)])
    with warnings.catch_warnings():  # rows with no answered item: score NaN, as R
        warnings.simplefilter("ignore", RuntimeWarning)
        total = np.nanmean(X, axis=1)
    ok = ~np.isnan(total)
    raw_r = np.empty(k)
    for j in range(k):
        m = ok & ~np.isnan(X[:, j])
        raw_r[j] = np.corrcoef(total[m], X[m, j])[0, 1]
    items = pd.DataFrame({
        "n": (~np.isnan(X)).sum(axis=0), "raw_r": raw_r, "std_r": std_r, "r_cor": r_cor,
        "r_drop": r_drop, "mean": np.nanmean(X, axis=0), "sd": np.nanstd(X, axis=0, ddof=1),
    }, index=columns).join(drop)
    items.index.name = "item"

    a = total_stats["raw"]
    df1, df2 = n - 1, (n - 1) * (k - 1)
    ci_high = 1 - (1 - a) * stats.f.ppf(0.025, df1, df2)
    ci_low = 1 - (1 - a) * stats.f.ppf(0.975, df1, df2)
    return AlphaResult(
        alpha=float(a), std_alpha=float(total_stats["std"]), g6=float(total_stats["g6"]),
        average_r=float(total_stats["av_r"]), signal_noise=float(total_stats["sn"]),
        ase=float(np.sqrt(total_stats["Q"] / n)), ci_low=float(ci_low),
        ci_high=float(ci_high), mean=float(np.nanmean(total)),
        sd=float(np.nanstd(total, ddof=1)), median_r=float(total_stats["med_r"]), n=int(n),
        n_items=k, items=items, keys=pd.Series(key.astype(int), index=columns, name="key"),
        scores=pd.Series(total, index=frame.index, name="score"), warnings=msgs)


# ===================================================================== omega ====

@dataclass(frozen=True)
class OmegaResult:
    """McDonald's omega from a Schmid-Leiman solution, as ``psych::omega``.

    Attributes
    ----------
    omega_h : float
        Omega hierarchical: ``(sum of g loadings)^2 / sum(R)``.
    omega_total : float
        ``(sum(R) - sum(u2)) / sum(R)``.
    omega_limit : float
        Asymptotic omega_h: ``(sum g)^2 / (sum(R) - sum(u2))``.
    alpha : float
        Standardised alpha of the (reflected) items.
    g6 : float
        Guttman's lambda 6.
    ecv : float
        Explained common variance of the general factor.
    group_omegas : DataFrame
        Rows ``g``, ``F1*``..; columns ``omega_total``, ``omega_general``, ``omega_group``
        (psych ``omega.group``: each item assigned to the group factor it loads most on).
    schmid_leiman : DataFrame
        Items x (``g``, ``F1*``.., ``h2``, ``u2``, ``p2``): the Schmid-Leiman loadings.
    oblique_loadings : DataFrame
        Oblique pattern loadings of the first-order factors.
    phi : DataFrame
        Correlations of the first-order factors.
    g_loadings : Series
        Loadings of the first-order factors on the general factor.
    keys : Series
        +1/-1: items reflected because their g loading was negative (psych ``flip``).
    n : int
        Number of rows of the data.
    warnings : list of str
        Problems met in the factor analyses.
    """

    omega_h: float
    omega_total: float
    omega_limit: float
    alpha: float
    g6: float
    ecv: float
    group_omegas: pd.DataFrame
    schmid_leiman: pd.DataFrame
    oblique_loadings: pd.DataFrame
    phi: pd.DataFrame
    g_loadings: pd.Series
    keys: pd.Series
    n: int | None
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table (``coefficient``, ``estimate``, ``n``) of the omega coefficients."""
        rows = [("omega_h", self.omega_h), ("omega_total", self.omega_total),
                ("omega_limit", self.omega_limit), ("alpha", self.alpha), ("g6", self.g6),
                ("ecv", self.ecv)]
        out = pd.DataFrame(rows, columns=["coefficient", "estimate"])
        out["n"] = self.n
        return out

    def _repr_html_(self) -> str:
        head = (f"<p>omega_h = {self.omega_h:.4f}, omega_total = {self.omega_total:.4f}, "
                f"alpha = {self.alpha:.4f}</p>")
        return head + self.schmid_leiman.to_html() + self.group_omegas.to_html()


_OMEGA_ROTATIONS = {"oblimin": _rot.oblimin, "promax": _rot.kaiser_promax,
                    "Promax": _rot.promax, "geomin": _rot.geomin, "geominQ": _rot.geomin,
                    "quartimin": _rot.quartimin}


@single_blas_thread
def omega(data, n_factors: int = 3, fm: str = "minres", rotation: str = "oblimin",
          missing: str = "pairwise", corr: str = "pearson") -> OmegaResult:
    """Omega hierarchical and omega total, as ``psych::omega`` (Schmid-Leiman).

    Parameters
    ----------
    data : DataFrame
        Items in columns (or a correlation matrix).
    n_factors : int, default 3
        Number of first-order (group) factors; at least 2 (3 or more identify g).
    fm : {"minres", "ml", "pa", "uls"}, default "minres"
        Factoring method of both factor analyses.
    rotation : {"oblimin", "promax", "geomin", "quartimin", "Promax"}, default "oblimin"
        Oblique rotation of the first-order factors.
    missing : {"pairwise", "listwise"}, default "pairwise"
        Missing-data rule for the correlations.
    corr : {"pearson", "spearman", "polychoric"}, default "pearson"
        Correlations analysed; ``"polychoric"`` is ``psych::omega(poly = TRUE)``.

    Returns
    -------
    OmegaResult

    Notes
    -----
    As psych: ``k`` factors are extracted and varimax-rotated, then obliquely rotated
    (pattern ``F``, correlations ``Phi``); one factor of ``Phi`` gives the loadings ``g`` of
    the factors on the general factor (with two factors both are ``sqrt(phi_12)``). The
    Schmid-Leiman loadings are ``F g`` on the general factor and ``F_j sqrt(1 - g_j^2)`` on
    the group factors; ``u2 = 1 - h2`` from the orthogonal solution. Items with a negative
    general loading are reflected. ``omega_h = (1'F g)^2 / 1'R1`` and
    ``omega_total = (1'R1 - sum u2) / 1'R1``.

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.
    Schmid, J., & Leiman, J. M. (1957). The development of hierarchical factor solutions.
    *Psychometrika*, 22, 53-61.
    Zinbarg, R. E., Revelle, W., Yovel, I., & Li, W. (2005). Cronbach's alpha, Revelle's
    beta, and McDonald's omega_h. *Psychometrika*, 70, 123-133.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(6)
    >>> g = rng.normal(size=(500, 1)); s = rng.normal(size=(500, 3))
    >>> X = .6 * g + .5 * np.repeat(s, 3, axis=1) + rng.normal(scale=.6, size=(500, 9))
    >>> res = omega(pd.DataFrame(X), n_factors=3)  # R: psych::omega(X, 3)
    >>> bool(0 < res.omega_h < res.omega_total < 1)
    True
    """
    if rotation not in _OMEGA_ROTATIONS:
        raise InputError("unknown rotation for omega", value=rotation,
                         expected="one of " + ", ".join(_OMEGA_ROTATIONS))
    if not (isinstance(n_factors, (int, np.integer)) and n_factors >= 2):
        raise InputError("omega needs at least two group factors", value=n_factors,
                         expected="an integer >= 2 (3 or more to identify g)")
    msgs: list = []
    arr = _as_float_or_none(data)
    if arr is not None and arr.ndim == 2 and arr.shape[0] == arr.shape[1] and not np.isnan(arr).any() and np.allclose(arr, arr.T) \
            and np.allclose(np.diag(arr), 1):
        R = arr.copy()
        n = None
        names = [str(c) for c in data.columns] if isinstance(data, pd.DataFrame) else \
            [f"V{i + 1}" for i in range(arr.shape[0])]
    else:
        frame = _numeric_frame(data)
        if missing == "listwise":
            frame = frame.dropna()
        R = _pairwise_cor(frame.to_numpy()) if corr == "pearson" else \
            correlation_matrix(frame, corr=corr, missing=missing).to_numpy()
        n = len(frame)
        names = list(frame.columns)
    p = R.shape[0]
    k = int(n_factors)
    Rf = pd.DataFrame(R, index=names, columns=names)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        fact = efa(Rf, k, method=fm, rotation="varimax", n=n)
    for w in fact.warnings:
        _warn(msgs, "first-order factors: " + w)
    orth = fact.loadings.to_numpy()
    obl = _OMEGA_ROTATIONS[rotation](orth)
    fload = obl.loadings.to_numpy()
    phi = obl.phi.to_numpy()
    for w in obl.warnings:
        _warn(msgs, w)
    fnames = [f"F{i + 1}" for i in range(k)]
    if k > 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimationWarning)
            gfac = efa(pd.DataFrame(phi, index=fnames, columns=fnames), 1, method=fm,
                       rotation="none")
        for w in gfac.warnings:
            _warn(msgs, "higher-order factor: " + w)
        gload = gfac.loadings.to_numpy()[:, 0]
    else:
        r12 = phi[0, 1]
        gload = np.array([np.sqrt(abs(r12)), np.sign(r12) * np.sqrt(abs(r12))])
        _warn(msgs, "three factors are required to identify a general factor; with two, "
                    "the general-factor loadings are set equal (psych option='equal')")

    g = fload @ gload
    h2 = (orth ** 2).sum(axis=1)
    u2 = np.diag(R) - h2
    uniq2 = np.diag(R)[:, None] - (np.diag(R)[:, None] - fload ** 2) - (fload * gload) ** 2
    uniq2 = np.clip(uniq2, 0, None)
    sm = np.sign(fload) * np.sqrt(uniq2)
    p2 = g ** 2 / h2

    # reflect items with negative general loadings (psych flip = TRUE)
    key = np.sign(g)
    key[key == 0] = 1
    m = R.copy()
    if key.sum() < p:
        m = R * np.outer(key, key)
        g = g * key
        sm = sm * key[:, None]
    Vt = m.sum()
    gsq = g.sum() ** 2
    uniq = u2.sum()
    om_tot = (Vt - uniq) / Vt
    om_h = gsq / Vt
    om_lim = gsq / (Vt - uniq)
    a = ((Vt - np.trace(m)) / Vt) * (p / (p - 1))
    g6 = (Vt + smc(m).sum() - np.trace(m)) / Vt
    ev = np.concatenate([[np.sum(g ** 2)], (sm ** 2).sum(axis=0)])
    ecv = ev[0] / ev.sum()

    sl_cols = ["g"] + [f"F{i + 1}*" for i in range(k)]
    sub = np.argmax(np.abs(sm), axis=1)
    total = np.full(k + 1, np.nan)
    general = np.full(k + 1, np.nan)
    group = np.full(k + 1, np.nan)
    grs = 0.0
    for j in range(k):
        gi = np.flatnonzero(sub == j)
        if gi.size:
            Vgr = m[np.ix_(gi, gi)].sum()
            gr = sm[gi, j].sum()
            grs += gr ** 2
            group[j + 1] = gr ** 2 / Vgr
            general[j + 1] = g[gi].sum() ** 2 / Vgr
            total[j + 1] = (gr ** 2 + g[gi].sum() ** 2) / Vgr
    general[0] = g.sum() ** 2 / m.sum()
    group[0] = grs / m.sum()
    total[0] = om_tot
    group_tab = pd.DataFrame({"omega_total": total, "omega_general": general,
                              "omega_group": group}, index=sl_cols)
    sl = pd.DataFrame(np.column_stack([g, sm, h2, u2, p2]), index=names,
                      columns=sl_cols + ["h2", "u2", "p2"])
    return OmegaResult(
        omega_h=float(om_h), omega_total=float(om_tot), omega_limit=float(om_lim),
        alpha=float(a), g6=float(g6), ecv=float(ecv), group_omegas=group_tab,
        schmid_leiman=sl, oblique_loadings=pd.DataFrame(fload, index=names, columns=fnames),
        phi=pd.DataFrame(phi, index=fnames, columns=fnames),
        g_loadings=pd.Series(gload, index=fnames, name="g"),
        keys=pd.Series(key.astype(int), index=names, name="key"), n=n, warnings=msgs)
