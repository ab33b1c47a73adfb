"""Confirmatory factor analysis of ordered indicators: DWLS estimation with WLSMV inference.

The estimator of lavaan's ``cfa(..., ordered = TRUE)`` (``estimator = "WLSMV"``): the sample
statistics are the thresholds and polychoric correlations of the ordered indicators
(:mod:`analysis.psychometrics._polychoric`), the model is fitted by diagonally weighted least squares with
the inverse diagonal of their asymptotic covariance matrix as weights, standard errors are
robust (sandwich), and the test statistic is mean-and-variance adjusted ("scaled and
shifted", Asparouhov & Muthen, 2010).

Public functions
----------------
:func:`fit_wlsmv`
    Fit a model given in lavaan syntax; returns a :class:`WLSMVResult`.
:func:`wlsmv_difference_test`
    Scaled difference test between nested WLSMV fits (lavaan's ``lavTestLRT`` default,
    method ``"satorra.2000"``).
:func:`ordinal_invariance`
    Configural, thresholds and thresholds+loadings models across groups, with the tests.

The model is written with :mod:`analysis.sem._model` (parser, parameter table, matrices);
the delta parameterisation is used (lavaan's default): the latent responses ``y*`` have unit
variance in the first group, residual variances are ``1/delta^2 - diag(Lambda Psi Lambda')``.
"""

from __future__ import annotations

import html
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtr

from analysis.errors import EstimationWarning, InputError
from analysis.psychometrics._polychoric import (
    _as_codes,
    _cell_probs,
    _cuts,
    _fit_rho,
    _pair_tables,
)
from analysis.sem._model import SEMModel, build_partable, parse_syntax
from analysis.utils.blas import one_blas_thread as _one_blas_thread
from analysis.utils.blas import single_blas_thread as _single_blas

__all__ = [
    "WLSMVResult",
    "DifferenceTest",
    "fit_wlsmv",
    "wlsmv_difference_test",
    "ordinal_invariance",
    "sample_statistics",
]

_PHI = 1.0 / np.sqrt(2.0 * np.pi)


def _dnorm(x):
    x = np.asarray(x, dtype=float)
    fin = np.isfinite(x)
    xx = np.where(fin, x, 0.0)
    return np.where(fin, _PHI * np.exp(-0.5 * xx * xx), 0.0)


# ----------------------------------------------------------------------------------------------
# sample statistics: thresholds, polychoric correlations, their asymptotic covariance (NACOV)
# ----------------------------------------------------------------------------------------------
@dataclass
class SampleStats:
    """Sample statistics of one group (see :func:`sample_statistics`).

    Attributes
    ----------
    n : int
        Number of cases.
    th : ndarray
        Thresholds, variable by variable (``nth``).
    th_var : ndarray of int
        Variable index (0-based) of each threshold.
    cor : ndarray
        Polychoric correlations, lavaan order (column-major lower triangle).
    R : ndarray
        Polychoric correlation matrix (p x p).
    nacov : ndarray
        Asymptotic covariance matrix of ``sqrt(n) (th, cor)`` (lavaan's ``gamma``).
    """

    n: int
    th: np.ndarray
    th_var: np.ndarray
    cor: np.ndarray
    R: np.ndarray
    nacov: np.ndarray
    warnings: list = field(default_factory=list)
    cross_computed: bool = True

    @property
    def obs(self):
        return np.concatenate([self.th, self.cor])


def _lavaan_pairs(p):
    ii, jj = [], []
    for j in range(p):
        for i in range(j + 1, p):
            ii.append(i)
            jj.append(j)
    return np.array(ii, dtype=int), np.array(jj, dtype=int)


@_single_blas
def sample_statistics(
    codes: np.ndarray, nlev: np.ndarray, chunk: int = 4096, cross: bool = True
) -> SampleStats:
    """Thresholds, polychoric correlations and their asymptotic covariance (Muthen, 1984).

    Parameters
    ----------
    codes : ndarray of int, (n, p)
        Category codes ``0 .. nlev[j]-1`` (complete cases).
    nlev : ndarray of int, (p,)
        Number of categories of each variable.
    chunk : int
        Rows per block when accumulating the casewise cross-products.
    cross : bool, default True
        Compute the threshold x correlation block of NACOV. It is not needed when the
        thresholds are saturated (one free parameter each, single group: the scaled test and
        the standard errors then use only the two diagonal blocks), and skipping it saves a
        third of the time on large data; the block is then left at zero
        (``SampleStats.cross_computed`` is False).

    Returns
    -------
    SampleStats

    Notes
    -----
    As lavaan's ``muthen1984``: with casewise scores :math:`s_\\tau` of the univariate
    probit likelihoods and :math:`s_\\rho, s_{\\rho\\tau}` of the bivariate likelihoods (thresholds
    fixed), :math:`A_{11}=\\sum s_\\tau s_\\tau'` (per variable),
    :math:`A_{21}=\\sum s_\\rho s_{\\rho\\tau}'`, :math:`A_{22}=\\sum s_\\rho^2`, the influence of a
    case is :math:`(A_{11}^{-1}s_\\tau,\\; A_{22}^{-1}(s_\\rho - A_{21}A_{11}^{-1}s_\\tau))` and
    ``NACOV = n * sum(IF IF')``. Every score depends on the case only through its categories,
    so they are tabulated once per category (pair of categories) and gathered.

    References
    ----------
    Muthen, B. (1984). A general structural equation model with dichotomous, ordered
    categorical, and continuous latent variable indicators. *Psychometrika*, 49, 115-132.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.sem._wlsmv import sample_statistics
    >>> rng = np.random.default_rng(0)
    >>> z = rng.multivariate_normal([0, 0, 0], 0.5 * np.eye(3) + 0.5, size=1000)
    >>> codes = np.digitize(z, [-0.5, 0.5]).astype(np.int8)
    >>> s = sample_statistics(codes, np.array([3, 3, 3]))  # R: lavInspect(fit, "gamma")
    >>> s.nacov.shape, bool(np.allclose(s.cor, 0.5, atol=0.1))
    ((9, 9), True)
    """
    n, p = codes.shape
    K = int(nlev.max())
    tables = _pair_tables(codes, K)
    counts = np.einsum("jjkk->jk", tables)
    # thresholds, padded with +inf beyond each variable's categories
    cum = np.cumsum(counts, axis=1)[:, :-1] / n
    with np.errstate(divide="ignore"):
        from scipy.special import ndtri

        tau = ndtri(np.clip(cum, 0.0, 1.0))
    active = np.arange(K - 1)[None, :] < (nlev - 1)[:, None]  # (p, K-1)
    tau = np.where(active, tau, np.inf)
    msgs: list[str] = []
    if not np.all(np.isfinite(tau[active])):
        raise InputError(
            "a category of an ordered variable is empty in this group",
            expected="every category observed (recode or merge sparse categories)",
        )
    ii, jj = _lavaan_pairs(p)
    tab = tables[ii, jj]  # (P, K, K), rows variable ii
    tab_fit, fixed_rho, n_adj = _zero_cells_2x2(tab, nlev[ii], nlev[jj])
    if n_adj:
        msgs.append(
            f"{n_adj} 2 x 2 table(s) had an empty cell; 0.5 was moved into it keeping the "
            "margins (lavaan zero.add = 0.5, zero.keep.margins = TRUE)"
        )
    rho, conv = _fit_rho(tau[ii], tau[jj], tab_fit, rho_max=0.999)  # lavaan's bounds
    done = ~np.isnan(fixed_rho)
    if done.any():
        rho[done] = fixed_rho[done]
        conv[done] = True
        msgs.append(
            f"{int(done.sum())} 2 x 2 table(s) had two empty cells: correlation set to +/-1"
        )
    if not conv.all():
        msgs.append(f"polychoric correlation did not converge for {int((~conv).sum())} pair(s)")
    # ---- univariate scores per category: S[v, c, k] = d log P_c / d tau_k
    cuts = _cuts(tau)  # (p, K+1)
    Pc = ndtr(cuts[:, 1:]) - ndtr(cuts[:, :-1])  # (p, K)
    dn = _dnorm(tau)  # (p, K-1)
    eye = np.eye(K - 1)
    up = np.zeros((K, K - 1))
    up[: K - 1] = eye  # category c has upper threshold c
    lo = np.zeros((K, K - 1))
    lo[1:] = eye  # and lower threshold c-1
    with np.errstate(divide="ignore", invalid="ignore"):
        S = (dn[:, None, :] * (up - lo)[None]) / Pc[:, :, None]
    S = np.where(np.isfinite(S), S, 0.0)
    A11 = np.einsum("vc,vck,vcl->vkl", counts, S, S)
    IFth = np.zeros_like(S)  # (p, K, K-1): A11^-1 s
    for v in range(p):
        a = nlev[v] - 1
        IFth[v, :, :a] = np.linalg.solve(A11[v, :a, :a], S[v, :, :a].T).T
    # ---- bivariate scores per cell
    prob, dprob = _cell_probs(rho, tau[ii], tau[jj], with_derivs=True)
    pos = prob > 0
    safe = np.where(pos, prob, 1.0)
    srho = np.where(pos, dprob / safe, 0.0)  # (P, K, K)
    A22 = (tab * srho * srho).sum(axis=(1, 2))
    s = np.sqrt((1.0 - rho) * (1.0 + rho))[:, None, None]
    Q = np.where(pos, tab * dprob / (safe * safe), 0.0)  # n_ab * dP/drho / P^2

    def a21(t_row, t_col_cuts, Qm):
        # G[k, b] = phi(t_k) [Phi((B_{b+1} - rho t_k)/s) - Phi((B_b - rho t_k)/s)]
        tk = t_row[:, :, None]
        r = rho[:, None, None]
        with np.errstate(invalid="ignore"):
            hi = ndtr((t_col_cuts[:, None, 1:] - r * tk) / s)
            lo_ = ndtr((t_col_cuts[:, None, :-1] - r * tk) / s)
        G = _dnorm(t_row)[:, :, None] * np.where(np.isfinite(tk), hi - lo_, 0.0)
        return (G * (Qm[:, :-1, :] - Qm[:, 1:, :])).sum(axis=2)  # (P, K-1)

    cut_all = _cuts(tau)
    A21_i = a21(tau[ii], cut_all[jj], Q)
    A21_j = a21(tau[jj], cut_all[ii], Q.transpose(0, 2, 1))
    # influence of cell (a, b) on rho_p
    corr_i = np.einsum("pk,pak->pa", A21_i, IFth[ii])  # (P, K)
    corr_j = np.einsum("pk,pbk->pb", A21_j, IFth[jj])
    IFrho = (srho - corr_i[:, :, None] - corr_j[:, None, :]) / A22[:, None, None]  # (P, K, K)
    # ---- casewise accumulation of sum(IF IF')
    th_idx = [(v, k) for v in range(p) for k in range(nlev[v] - 1)]
    th_var = np.array([v for v, _ in th_idx], dtype=int)
    nth = len(th_idx)
    P = len(ii)
    m = nth + P
    # threshold part via one-hot matmul: Z (n, p*K) @ T (p*K, nth)
    T = np.zeros((p * K, nth))
    for col, (v, k) in enumerate(th_idx):
        T[v * K : (v + 1) * K, col] = IFth[v, :, k]
    flat = IFrho.reshape(-1)
    off = (np.arange(P) * K * K)[None, :]
    inner = np.zeros((m, m))
    levels = np.arange(K, dtype=codes.dtype)
    if cross:
        for start in range(0, n, chunk):
            c = codes[start : start + chunk]
            b = c.shape[0]
            Z = np.empty((b, p, K))
            np.equal(c[:, :, None], levels, out=Z, casting="unsafe")
            IF = np.empty((b, m))
            IF[:, :nth] = Z.reshape(b, p * K) @ T
            ci = c.astype(np.intp)
            idx = ci[:, ii] * K
            idx += ci[:, jj]
            idx += off
            IF[:, nth:] = np.take(flat, idx)
            inner += IF.T @ IF
    else:
        # threshold block exactly from the pair tables; correlation block casewise
        Gtt = np.einsum("vuab,vak,ubl->vkul", tables, IFth, IFth)  # (p, K-1, p, K-1)
        vv = th_var
        kk = np.array([k for _, k in th_idx], dtype=int)
        inner[:nth, :nth] = Gtt[vv[:, None], kk[:, None], vv[None, :], kk[None, :]]
        acc = np.zeros((P, P))
        small = K * K < 128 and codes.dtype == np.int8
        off32 = off.astype(np.int32)
        for start in range(0, n, chunk):
            c = codes[start : start + chunk]
            if small:  # pair codes a*K+b fit in int8: cheap arithmetic, one widening
                pc = c[:, ii] * np.int8(K)
                pc += c[:, jj]
                idx = pc.astype(np.int32)
                idx += off32
            else:
                ci = c.astype(np.intp)
                idx = ci[:, ii] * K
                idx += ci[:, jj]
                idx += off
            IF = np.take(flat, idx)
            acc += IF.T @ IF
        inner[nth:, nth:] = acc
    nacov = n * inner
    th = tau[active]  # variable by variable
    R = np.eye(p)
    R[ii, jj] = rho
    R[jj, ii] = rho
    return SampleStats(
        n=n, th=th, th_var=th_var, cor=rho, R=R, nacov=nacov, warnings=msgs, cross_computed=cross
    )


def _zero_cells_2x2(tab, na, nb):
    """lavaan's handling of empty cells in 2 x 2 tables (``zero.add = c(0.5, 0)``).

    One empty cell: 0.5 is added to it and to the opposite cell and taken from the two
    others (margins kept). Two empty cells: the correlation is +1 (or -1). Larger tables are
    left unchanged (``zero.add[2] = 0``).
    """
    tab = tab.copy()
    fixed = np.full(tab.shape[0], np.nan)
    n_adj = 0
    for p in np.nonzero((na == 2) & (nb == 2))[0]:
        t = tab[p, :2, :2]
        zero = t == 0
        if zero.sum() == 2:
            fixed[p] = 1.0 if t[0, 0] > 0 else -1.0
        elif zero.sum() == 1:
            n_adj += 1
            sign = 1.0 if (zero[0, 0] or zero[1, 1]) else -1.0
            t[0, 0] += 0.5 * sign
            t[1, 1] += 0.5 * sign
            t[0, 1] -= 0.5 * sign
            t[1, 0] -= 0.5 * sign
            tab[p, :2, :2] = t
    return tab, fixed, n_adj


# ----------------------------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------------------------
class _OrdinalModel:
    """Implied thresholds and polychoric correlations (delta parameterisation) and Jacobian."""

    def __init__(self, partable: pd.DataFrame, group_labels):
        self.model = SEMModel(partable, group_labels)
        self.pt = partable
        self.p = len(self.model.ov_names)
        self.ii, self.jj = _lavaan_pairs(self.p)
        thr = partable.attrs["thresholds"]
        pos = {v: i for i, v in enumerate(self.model.ov_names)}
        self.th_var = np.array([pos[v] for v, _ in thr], dtype=int)
        self.npar = self.model.npar
        self.extra = []  # (group, matrix, row, free_idx) for tau and delta
        for r in partable.itertuples():
            if r.free > 0 and r.matrix in ("tau", "delta"):
                self.extra.append((r.group - 1, r.matrix, r.row, r.free - 1))

    def implied(self, x):
        out = []
        for mats in self.model.matrices(x):
            lam, psi, alpha, nu = mats["lambda"], mats["psi"], mats["alpha"], mats["nu"]
            a = self.model._ia(mats)
            la = lam @ a
            th_off = mats["theta"] - np.diag(np.diag(mats["theta"]))  # residual covariances
            S = la @ psi @ la.T + th_off
            mu = nu + la @ alpha
            d = mats["delta"]
            cor = (d[:, None] * d[None, :] * S)[self.ii, self.jj]
            th = d[self.th_var] * (mats["tau"] - mu[self.th_var])
            out.append(np.concatenate([th, cor]))
        return out

    def jacobian(self, x):
        mats_all = self.model.matrices(x)
        jac = self.model.jacobian(x)
        out = []
        for g, (mats, (ds, dm)) in enumerate(zip(mats_all, jac)):
            d = mats["delta"]
            a = self.model._ia(mats)
            la = mats["lambda"] @ a
            S = la @ mats["psi"] @ la.T
            S = S + mats["theta"] - np.diag(np.diag(mats["theta"]))
            mu = mats["nu"] + la @ mats["alpha"]
            dd = (d[:, None] * d[None, :])[self.ii, self.jj]
            Jc = ds[:, self.ii, self.jj] * dd[None, :]  # (npar, P)
            Jt = -dm[:, self.th_var] * d[self.th_var][None, :]  # (npar, nth)
            J = np.concatenate([Jt, Jc], axis=1)
            nth = len(self.th_var)
            for gg, name, row, k in self.extra:
                if gg != g:
                    continue
                if name == "tau":
                    J[k, row] += d[self.th_var[row]]
                else:  # delta of variable `row`
                    sel = np.nonzero(self.th_var == row)[0]
                    J[k, sel] += mats["tau"][sel] - mu[row]
                    on_i = self.ii == row
                    on_j = self.jj == row
                    J[k, nth + np.nonzero(on_i)[0]] += (d[self.jj] * S[self.ii, self.jj])[on_i]
                    J[k, nth + np.nonzero(on_j)[0]] += (d[self.ii] * S[self.ii, self.jj])[on_j]
            out.append(J.T)  # (nstat, npar)
        return out


def _start_values(pt: pd.DataFrame, samples) -> pd.DataFrame:
    """Starting values from the polychoric correlations (numpy only, no per-row pandas).

    Loadings: ratio of mean correlations with the other indicators (FABIN-like); latent
    variances: the marker's mean correlation with its co-indicators; covariances 0;
    thresholds at their sample values; scaling factors 1; latent means 0.
    """
    ov = list(pt.attrs["ov_names"])
    pos = {v: i for i, v in enumerate(ov)}
    lhs = pt["lhs"].to_numpy(dtype=object)
    rhs = pt["rhs"].to_numpy(dtype=object)
    op = pt["op"].to_numpy(dtype=object)
    grp = pt["group"].to_numpy()
    free = pt["free"].to_numpy()
    mtx = pt["matrix"].to_numpy(dtype=object)
    row = pt["row"].to_numpy()
    vals = pt["value"].to_numpy(dtype=float).copy()
    todo = (free > 0) & np.isnan(vals)
    # indicators per (group, factor): list of (row index, variable position)
    ind: dict = {}
    for i in np.nonzero(op == "=~")[0]:
        if rhs[i] in pos:  # observed indicators (second-order loadings start at 1)
            ind.setdefault((grp[i], lhs[i]), []).append(i)
    lam_start: dict = {}
    for (g, f), rows in ind.items():
        R = samples[g - 1].R
        vs = [pos[rhs[i]] for i in rows]
        marker = vs[0]
        marker_fixed = free[rows[0]] == 0 and vals[rows[0]] != 0
        base = vals[rows[0]] if marker_fixed else 1.0
        for i, v in zip(rows, vs):
            others = [u for u in vs if u not in (v, marker)]
            if marker_fixed and v != marker and others:
                num = np.mean(R[v, others])
                den = np.mean(R[marker, others])
                lam = num / den if abs(den) > 1e-8 else 1.0
                lam = float(np.clip(lam, -3, 3)) * base
            elif marker_fixed:
                lam = base
            else:
                co = [u for u in vs if u != v]
                lam = float(np.sqrt(max(abs(np.mean(R[v, co])) if co else 0.5, 0.05)))
                if co and np.mean(R[v, co]) < 0:
                    lam = -lam
            lam_start[i] = lam
        if marker_fixed:
            co = [u for u in vs if u != marker]
            lv = float(np.clip(np.mean(np.abs(R[marker, co])) if co else 0.5, 0.05, 1.0))
        else:
            lv = 1.0
        lam_start[("var", g, f)] = lv
    for i in np.nonzero(todo)[0]:
        g = grp[i]
        if op[i] == "=~":
            vals[i] = lam_start.get(i, 1.0)
        elif op[i] == "|":
            vals[i] = samples[g - 1].th[row[i]]
        elif op[i] == "~~" and lhs[i] == rhs[i]:
            vals[i] = lam_start.get(("var", g, lhs[i]), 0.5) if lhs[i] not in pos else 1.0
        elif mtx[i] == "delta":
            vals[i] = 1.0
        else:
            vals[i] = 0.0
    # rows sharing a free index share the start of the first one
    first: dict = {}
    for i in np.nonzero(free > 0)[0]:
        first.setdefault(free[i], vals[i])
        vals[i] = first[free[i]]
    attrs = dict(pt.attrs)
    pt = pt.copy()
    pt["value"] = vals
    pt.attrs = attrs
    return pt


def _free_deltas(pt: pd.DataFrame) -> pd.DataFrame:
    """lavaan: with equal thresholds across groups, scaling factors of groups 2..G are free."""
    pt = pt.copy()
    attrs = dict(pt.attrs)
    nxt = int(pt["free"].max())
    sel = (pt["matrix"] == "delta") & (pt["group"] > 1) & (pt["free"] == 0)
    free = pt["free"].to_numpy().copy()
    value = pt["value"].to_numpy(dtype=float).copy()
    for i in np.nonzero(sel.to_numpy())[0]:
        nxt += 1
        free[i] = nxt
        value[i] = 1.0
    pt["free"] = free
    pt["value"] = value
    pt.attrs = attrs
    return pt


# ----------------------------------------------------------------------------------------------
# result objects
# ----------------------------------------------------------------------------------------------
@dataclass
class WLSMVResult:
    """A fitted CFA of ordered indicators (DWLS estimation, WLSMV inference).

    Attributes
    ----------
    params : pandas.DataFrame
        One row per model parameter (and group): ``lhs, op, rhs, group, label, free,
        estimate, se, statistic, p_value, ci_low, ci_high, std_all`` (``std_all`` is the
        completely standardised solution, lavaan's ``est.std``). Residual variances of the
        latent responses are derived (``1/delta^2 - diag(Lambda Psi Lambda')``), se 0.
    std_solution : pandas.DataFrame
        lavaan ``standardizedSolution()``: ``lhs, op, rhs, group, estimate, se, statistic,
        p_value, ci_low, ci_high`` (delta-method SEs); ``std_loadings`` holds its ``=~`` rows.
    fit : pandas.Series
        ``fit_measures`` with ``_`` for ``.``, plus ``scaling_factor`` and
        ``shift_parameter`` (the vocabulary of :class:`analysis.sem._cfa.CFAResults`).
    model : str
        The model syntax.
    missing : str
        ``"listwise"``.
    iterations : int
        Gauss-Newton iterations.
    fit_measures : dict
        lavaan's names: ``npar, fmin, chisq, df, pvalue, chisq.scaled, df.scaled,
        pvalue.scaled, chisq.scaling.factor, chisq.shift.parameter, baseline.chisq,
        baseline.df, baseline.pvalue, baseline.chisq.scaled, baseline.pvalue.scaled,
        baseline.chisq.scaling.factor, cfi, tli, cfi.scaled, tli.scaled, cfi.robust,
        tli.robust, rmsea, rmsea.scaled, rmsea.robust, srmr, srmr_bentler,
        srmr_bentler_nomean, crmr, crmr_nomean, wrmr``. The ``.robust`` indices
        (Savalei, 2021, as lavaan 0.6-13+) are NaN where lavaan gives NA (free scaling
        factors or latent means, e.g. equal thresholds across groups). The same with ``_``
        for ``.`` is :attr:`fit` (and :meth:`fit_frame`).
    nobs : list of int
        Cases per group (after listwise deletion).
    group_labels : list
        Group labels (order of first appearance in the data).
    converged : bool
        Whether the DWLS minimisation converged.
    partable : pandas.DataFrame
        The parameter table (from :func:`analysis.sem._model.build_partable`).
    sample : list of SampleStats
        Thresholds, polychoric correlations and NACOV per group.
    x : numpy.ndarray
        Free parameter estimates.
    vcov : numpy.ndarray
        Robust covariance matrix of ``x``.
    warnings : list of str
        Problems met (non-convergence, empty cells, negative residual variances ...).
    """

    params: pd.DataFrame
    fit_measures: dict
    nobs: list
    group_labels: list
    converged: bool
    partable: pd.DataFrame
    sample: list
    x: np.ndarray
    vcov: np.ndarray
    std_solution: pd.DataFrame = field(default_factory=pd.DataFrame)
    model: str = ""
    missing: str = "listwise"
    iterations: int = 0
    estimator: str = "WLSMV"
    warnings: list = field(default_factory=list)
    # internals for difference tests
    _delta: list = field(default_factory=list, repr=False)
    _w: list = field(default_factory=list, repr=False)
    _resid: list = field(default_factory=list, repr=False)

    @property
    def fit(self) -> pd.Series:
        """Fit measures as a Series, lavaan names with ``_`` for ``.`` (``cfi_scaled`` ...).

        Also ``scaling_factor`` (= ``chisq_scaling_factor``) and ``shift_parameter``, the names
        :mod:`analysis.sem._cfa` and :mod:`analysis.sem._invariance` use.
        """
        out = {k.replace(".", "_"): v for k, v in self.fit_measures.items()}
        out["scaling_factor"] = self.fit_measures["chisq.scaling.factor"]
        out["shift_parameter"] = self.fit_measures["chisq.shift.parameter"]
        return pd.Series(out, dtype=float)

    @property
    def std_loadings(self) -> pd.DataFrame:
        """Standardised loadings (std.all) with delta-method SEs."""
        return self.std_solution[self.std_solution["op"] == "=~"].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Parameter table (see ``params``)."""
        return self.params.copy()

    def summary_frame(self) -> pd.DataFrame:
        """Fit measures as a one-column tidy table (``measure``, ``estimate``)."""
        return self.fit.rename("estimate").rename_axis("measure").reset_index()

    def fit_frame(self) -> pd.DataFrame:
        """Fit measures as a one-column table (index: names with ``_`` instead of ``.``)."""
        return pd.DataFrame(
            {"estimate": pd.Series({k.replace(".", "_"): v for k, v in self.fit_measures.items()})}
        )

    def standardized(self) -> pd.DataFrame:
        """Completely standardised loadings and (co)variances (lavaan ``std.all``)."""
        cols = ["lhs", "op", "rhs", "group", "std_all"]
        return self.params.loc[self.params["op"].isin(["=~", "~~"]), cols].reset_index(drop=True)

    def __repr__(self) -> str:
        f = self.fit_measures
        return (
            f"WLSMV CFA: n = {sum(self.nobs)}, groups = {len(self.nobs)}, "
            f"chisq.scaled = {f['chisq.scaled']:.3f} (df = {f['df']:g}), "
            f"CFI.scaled = {f['cfi.scaled']:.3f}, RMSEA.scaled = {f['rmsea.scaled']:.3f}"
        )

    def _repr_html_(self) -> str:
        notes = "".join(f"<p><em>{html.escape(w)}</em></p>" for w in self.warnings)
        return (
            f"<p><strong>{html.escape(repr(self))}</strong></p>"
            + self.params.to_html(index=False)
            + notes
        )


@dataclass(frozen=True)
class DifferenceTest:
    """Scaled chi-square difference test between two nested WLSMV models.

    Attributes
    ----------
    statistic : float
        Scaled difference statistic (lavaan's ``Chisq diff``).
    df : float
        Difference in degrees of freedom.
    p_value : float
        Upper-tail chi-square probability.
    chisq_h0, chisq_h1 : float
        Standard (unscaled) statistics of the restricted and the less restricted model.
    method : str
        ``"satorra.2000"`` (scaled-shifted version, lavaan's default for WLSMV).
    """

    statistic: float
    df: float
    p_value: float
    chisq_h0: float
    chisq_h1: float
    method: str = "satorra.2000"

    def to_frame(self) -> pd.DataFrame:
        """One-row table: ``statistic, df, p_value, chisq_h0, chisq_h1, method``."""
        return pd.DataFrame([self.__dict__])


# ----------------------------------------------------------------------------------------------
# fitting
# ----------------------------------------------------------------------------------------------
def _prepare(data, ov, ordered, group):
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a DataFrame", value=type(data).__name__)
    missing = [v for v in ov if v not in data.columns]
    if missing:
        raise InputError(
            "a variable of the model is not in the data", column=missing[0], expected="a column"
        )
    if ordered is False:
        raise InputError(
            "the WLSMV estimator is for ordered indicators",
            value=ordered,
            expected="ordered=True or a list of item names (continuous items: analysis.sem._cfa.cfa)",
        )
    if ordered is not True and ordered is not None:
        if isinstance(ordered, str):
            ordered = [ordered]
        not_ord = [v for v in ov if v not in set(ordered)]
        if not_ord:
            raise InputError(
                "only ordered indicators are supported by the WLSMV estimator here",
                column=not_ord[0],
                expected="every observed variable listed in `ordered` (or ordered=True)",
            )
    cols = list(ov) + ([group] if group is not None else [])
    if group is not None and group not in data.columns:
        raise InputError("group variable not found", column=group, expected="a column")
    d = data[cols].dropna()  # listwise, as lavaan's default for categorical data
    if len(d) == 0:
        raise InputError("no complete cases", expected="rows observed on every model variable")
    codes, _, _, _ = _as_codes(d[list(ov)], max_categories=50)
    # dense recode per variable (lavaan: levels = observed values of the variable)
    nlev = np.zeros(len(ov), dtype=int)
    for j in range(len(ov)):
        present = np.bincount(codes[:, j]) > 0
        recode = (np.cumsum(present) - 1).astype(codes.dtype)
        codes[:, j] = recode[codes[:, j]]
        nlev[j] = int(present.sum())
        if nlev[j] < 2:
            raise InputError("an ordered variable has a single category", column=ov[j])
    if group is None:
        return [codes], nlev, [None], [len(d)]
    gv = d[group].to_numpy()
    labels = list(pd.unique(gv))
    out = [codes[gv == g] for g in labels]
    return out, nlev, labels, [len(c) for c in out]


def _dwls_fit(model: _OrdinalModel, obs, w, fg, x0, maxiter=500, tol=1e-10):
    """Gauss-Newton / Levenberg-Marquardt on F = sum_g fg (s-sigma)' W (s-sigma)."""
    x = x0.copy()

    def fval(x):
        return sum(
            f * np.sum(ww * (o - s) ** 2) for f, ww, o, s in zip(fg, w, obs, model.implied(x))
        )

    F = fval(x)
    lam = 1e-4
    converged = False
    it = 0
    for it in range(1, maxiter + 1):  # noqa: B007
        J = model.jacobian(x)
        sig = model.implied(x)
        H = sum(f * (Jg.T * ww) @ Jg for f, Jg, ww in zip(fg, J, w))
        grad = sum(f * Jg.T @ (ww * (o - s)) for f, Jg, ww, o, s in zip(fg, J, w, obs, sig))
        if np.max(np.abs(grad)) < tol:
            converged = True
            break
        for _ls in range(30):
            Hd = H + lam * np.diag(np.diag(H) + 1e-12)
            try:
                step = np.linalg.solve(Hd, grad)
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            xn = x + step
            Fn = fval(xn)
            if np.isfinite(Fn) and Fn <= F:
                break
            lam *= 10
        else:
            break
        rel = abs(F - Fn)
        x, F = xn, Fn
        lam = max(lam / 10, 1e-12)
        if rel < 1e-16 and np.max(np.abs(step)) < 1e-10:
            converged = True
            break
    return x, F, converged, it


def _ugamma_traces(delta, w, gam, fg, idx_free=None):
    """tr(U Gamma), tr((U Gamma)^2) with lavaan's group weighting (W*fg, Gamma/fg)."""
    Wd = np.concatenate([ww * f for ww, f in zip(w, fg)])
    G = _blockdiag([gg / f for gg, f in zip(gam, fg)])
    D = np.vstack(delta)
    WD = Wd[:, None] * D
    E = D.T @ WD
    try:
        Einv = np.linalg.inv(E)
    except np.linalg.LinAlgError:
        Einv = np.linalg.pinv(E)
    # U Gamma = W Gamma - W D Einv D' W Gamma
    WG = Wd[:, None] * G
    UG = WG - WD @ (Einv @ (WD.T @ G))
    return np.trace(UG), np.sum(UG * UG.T), UG


def _blockdiag(mats):
    n = sum(m.shape[0] for m in mats)
    out = np.zeros((n, n))
    k = 0
    for m in mats:
        s = m.shape[0]
        out[k : k + s, k : k + s] = m
        k += s
    return out


@_single_blas
def fit_wlsmv(
    model: str,
    data: pd.DataFrame,
    ordered: Sequence[str] | bool | None = True,
    group: str | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    std_lv: bool = False,
    missing: str = "listwise",
    level: float = 0.95,
) -> WLSMVResult:
    """CFA of ordered indicators by DWLS with robust (WLSMV) inference, as lavaan.

    Parameters
    ----------
    model : str
        Lavaan model syntax (``f =~ x1 + x2 + x3``; thresholds ``x1 | t1 + t2`` optional).
    data : pandas.DataFrame
        Item responses (integer category codes).
    ordered : sequence of str or True, default True
        The ordered indicators; ``True`` (or None) = every observed variable of the model
        (lavaan ``ordered = TRUE``). Continuous indicators are not supported.
    group : str, optional
        Grouping column for a multi-group model.
    group_equal : sequence of str
        Parameters constrained equal across groups (lavaan ``group.equal``), e.g.
        ``["thresholds"]`` or ``["thresholds", "loadings"]``. With equal thresholds the
        scaling factors (delta) and latent means of groups 2..G are freed, as lavaan does.
    group_partial : sequence of str
        Parameters released from ``group_equal`` (lavaan ``group.partial``).
    std_lv : bool
        Identify factors by unit variances instead of marker loadings.
    missing : {"listwise"}
        Missing-data handling (lavaan's default for categorical data).
    level : float
        Confidence level of ``ci_low``/``ci_high``.

    Returns
    -------
    WLSMVResult

    Notes
    -----
    With sample statistics :math:`s_g=(\\hat\\tau_g,\\hat\\rho_g)`, their asymptotic covariance
    :math:`\\Gamma_g` (:func:`sample_statistics`) and :math:`W_g=\\mathrm{diag}(\\Gamma_g)^{-1}`,
    the estimate minimises :math:`F=\\sum_g \\tfrac{n_g}{n}(s_g-\\sigma_g(\\theta))'W_g
    (s_g-\\sigma_g(\\theta))` (Gauss-Newton with analytic Jacobian :math:`\\Delta_g`).
    ``chisq`` :math:`=nF`; robust covariance
    :math:`n^{-1}H^{-1}(\\sum_g f_g\\Delta_g'W_g\\Gamma_gW_g\\Delta_g)H^{-1}` with
    :math:`H=\\sum_g f_g\\Delta_g'W_g\\Delta_g`, :math:`f_g = n_g/n`. Scaled and shifted
    statistic: with :math:`U=W-W\\Delta(\\Delta'W\\Delta)^{-1}\\Delta'W`,
    :math:`a=\\sqrt{df/\\mathrm{tr}(U\\Gamma)^2}`, ``chisq.scaled`` :math:`=a\\,T+df-a\\,
    \\mathrm{tr}(U\\Gamma)`, ``chisq.scaling.factor`` :math:`=1/a`. The baseline model has
    free thresholds and zero correlations. Implied thresholds :math:`\\delta_j(\\tau_{jk}-
    \\nu_j-(\\Lambda\\alpha)_j)` and correlations :math:`\\delta_i\\delta_j(\\Lambda\\Psi
    \\Lambda')_{ij}` (delta parameterisation).

    References
    ----------
    Muthen, B. (1984). A general structural equation model with dichotomous, ordered
    categorical, and continuous latent variable indicators. *Psychometrika*, 49, 115-132.

    Muthen, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted
    least squares and quadratic estimating equations in latent variable modeling with
    categorical and continuous outcomes. Unpublished manuscript.

    Asparouhov, T., & Muthen, B. (2010). Simple second order chi-square correction.
    Mplus technical appendix.

    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.sem._wlsmv import fit_wlsmv
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(2000, 1))
    >>> y = 0.7 * f + rng.normal(size=(2000, 4)) * np.sqrt(1 - 0.49)
    >>> d = pd.DataFrame(np.digitize(y, [-1, 0, 1]) + 1, columns=["a", "b", "c", "d"])
    >>> fit = fit_wlsmv("F =~ a + b + c + d", d)  # R: lavaan::cfa(model, d, ordered = TRUE)
    >>> fit.fit_measures["df"]
    2.0
    >>> bool(np.allclose(fit.std_loadings["estimate"], 0.7, atol=0.05))
    True
    """
    if missing != "listwise":
        raise InputError(
            "only listwise deletion is available for WLSMV", value=missing, expected="'listwise'"
        )
    msgs: list[str] = []
    stmts = parse_syntax(model)
    lvs = {st.lhs for st in stmts if st.op == "=~"}
    ov = []
    for st in stmts:
        for name in (st.rhs, st.lhs) if st.op == "=~" else (st.lhs, st.rhs):
            if name and name not in lvs and name not in ov and st.op in ("=~", "~~", "~", "|"):
                if st.op == "|" and name == st.rhs:
                    continue
                ov.append(name)
    groups_codes, nlev, labels, nobs = _prepare(data, ov, ordered, group)
    G = len(groups_codes)
    if G > 1 and any(
        len(np.unique(c[:, j])) < nlev[j] for c in groups_codes for j in range(len(ov))
    ):
        raise InputError(
            "a category of an ordered variable is empty in one group",
            expected="every category observed in every group (merge sparse categories)",
        )
    pt = build_partable(
        stmts,
        ngroups=G,
        std_lv=std_lv,
        group_equal=list(group_equal),
        group_partial=list(group_partial),
        ordered={v: int(nlev[j] - 1) for j, v in enumerate(ov)},
    )
    if list(pt.attrs["ov_names"]) != ov:  # keep the data columns in the table's order
        order = [ov.index(v) for v in pt.attrs["ov_names"]]
        groups_codes = [c[:, order] for c in groups_codes]
        nlev = nlev[order]
        ov = list(pt.attrs["ov_names"])
    if G > 1 and "thresholds" in group_equal:
        pt = _free_deltas(pt)
    mtx = pt["matrix"].to_numpy(dtype=object)
    fr = pt["free"].to_numpy()
    thr_free = fr[mtx == "tau"]
    saturated = (
        G == 1
        and np.all(thr_free > 0)
        and len(np.unique(thr_free)) == len(thr_free)
        and not np.any(np.isin(thr_free, fr[mtx != "tau"]))
        and not np.any((fr > 0) & np.isin(mtx, ["delta", "nu", "alpha"]))
    )
    samples = [sample_statistics(c, nlev, cross=not saturated) for c in groups_codes]
    for g, s in enumerate(samples):
        where = f" (group {labels[g]})" if G > 1 else ""
        for text in s.warnings:
            _warn(msgs, text + where)
        if np.linalg.eigvalsh(s.R).min() <= 0:
            _warn(
                msgs,
                "The polychoric correlation matrix is not positive definite" + where + "; "
                "DWLS does not need it to be, but check the items (the robust indices are NA).",
            )
    ntot = sum(nobs)
    fg = [n_ / ntot for n_ in nobs]
    obs = [s.obs for s in samples]
    # lavaan weights and sandwiches with NACOV * n / (n - 1) (its "gamma" output is NACOV)
    gam = [s.nacov * (s.n / (s.n - 1.0)) for s in samples]
    w = [1.0 / np.diag(gg) for gg in gam]
    pt = _start_values(pt, samples)
    with _one_blas_thread():
        om = _OrdinalModel(pt, labels)
        x0 = om.model.x_start()
        x, F, converged, iterations = _dwls_fit(om, obs, w, fg, x0)
        if not converged:
            _warn(msgs, "The DWLS minimisation did not converge; estimates are doubtful.")
        sig = om.implied(x)
        resid = [o - s for o, s in zip(obs, sig)]
        delta = om.jacobian(x)
        # robust covariance of the estimates
        H = sum(f * (D.T * ww) @ D for f, D, ww in zip(fg, delta, w))
        try:
            Hinv = np.linalg.inv(H)
        except np.linalg.LinAlgError:
            Hinv = np.linalg.pinv(H)
            _warn(msgs, "The information matrix is singular (model not identified?); SEs doubtful.")
        # lavaan's sandwich uses NACOV * N / (N - G) (N total) in every group, whereas its
        # weights and test use n_g / (n_g - 1) per group (identical in one group)
        c_se = ntot / (ntot - G)
        meat = sum(
            f * (D.T * ww) @ (s_.nacov * c_se) @ (ww[:, None] * D)
            for f, D, ww, s_ in zip(fg, delta, w, samples)
        )
        vcov = Hinv @ meat @ Hinv / ntot
        # test statistics
        chisq_g = [n_ * np.sum(ww * r * r) for n_, ww, r in zip(nobs, w, resid)]
        chisq = float(sum(chisq_g))
        nstat = sum(len(o) for o in obs)
        npar = om.npar
        df = nstat - npar
        trUG, trUG2, _ = _ugamma_traces(delta, w, gam, fg)
        fm = _fit_measures(chisq, df, npar, F, trUG, trUG2, samples, w, gam, fg, nobs, resid)
        # catML-based robust indices (lavaan): models without free scaling factors / means
        if not np.any((fr > 0) & np.isin(mtx, ["delta", "alpha", "nu"])):
            fm.update(_robust_indices(samples, resid, delta, w, Hinv, fg, nobs, df))
        else:
            fm.update({k: np.nan for k in ("cfi.robust", "tli.robust", "rmsea.robust")})
        # parameter table with estimates
        params = _param_table(pt, om, x, vcov, level, samples)
        std_solution = _std_solution(pt, om, x, vcov, level)
        # Heywood check: negative residual variances (delta parameterisation)
        neg = params[
            (params["op"] == "~~")
            & (params["lhs"] == params["rhs"])
            & params["lhs"].isin(ov)
            & (params["estimate"] < 0)
        ]
        if len(neg):
            _warn(
                msgs, f"Negative residual variance(s) of latent responses: {', '.join(neg['lhs'])}."
            )
    return WLSMVResult(
        params=params,
        fit_measures=fm,
        nobs=list(nobs),
        group_labels=labels,
        converged=converged,
        partable=pt,
        sample=samples,
        x=x,
        vcov=vcov,
        std_solution=std_solution,
        model=model,
        missing=missing,
        iterations=iterations,
        warnings=msgs,
        _delta=delta,
        _w=w,
        _resid=resid,
    )


def _warn(msgs, text):
    msgs.append(text)
    _warnings.warn(text, EstimationWarning, stacklevel=3)


def _robust_indices(samples, resid, delta, w, Hinv, fg, nobs, df):
    """lavaan 0.6's ``cfi.robust``, ``tli.robust``, ``rmsea.robust`` for categorical data.

    Savalei (2021): the normal-theory ML discrepancy between the polychoric matrix ``R`` and
    the DWLS-implied correlation matrix ``Sigma`` (``catML``, not re-optimised),
    ``X3 = sum_g n_g (log|Sigma| + tr(R Sigma^-1) - log|R| - p)``, is corrected by
    ``c = tr(U' V U Gamma) / df`` with ``U = I - Delta E^-1 Delta' W`` (correlation rows),
    ``V`` the normal-theory information of the off-diagonal correlations; the baseline uses
    ``-log|R|`` and ``tr(Gamma) / df_null``. Not available (NaN) if a matrix is not PD.
    """
    nan = {k: np.nan for k in ("cfi.robust", "tli.robust", "rmsea.robust")}
    G = len(nobs)
    X3 = Xn = 0.0
    blocks_d, blocks_w, blocks_v, blocks_g = [], [], [], []
    for s, r, D, ww, f, n_ in zip(samples, resid, delta, w, fg, nobs):
        nth = len(s.th)
        p = s.R.shape[0]
        ii, jj = _lavaan_pairs(p)
        sig = np.eye(p)
        sig[ii, jj] = s.cor - r[nth:]
        sig[jj, ii] = sig[ii, jj]
        ev_r = np.linalg.eigvalsh(s.R)
        ev_s = np.linalg.eigvalsh(sig)
        if ev_r.min() < np.sqrt(np.finfo(float).eps) or ev_s.min() <= 0:
            return nan
        A = np.linalg.inv(sig)
        ld_s = np.sum(np.log(ev_s))
        ld_r = np.sum(np.log(ev_r))
        X3 += n_ * (ld_s + np.trace(s.R @ A) - ld_r - p)
        Xn += n_ * (-ld_r)
        V = A[ii][:, ii] * A[jj][:, jj] + A[ii][:, jj] * A[jj][:, ii]
        blocks_d.append(D[nth:])
        blocks_w.append(f * ww[nth:])
        blocks_v.append(f * V)
        blocks_g.append(s.nacov[nth:, nth:] / f)
    Dc = np.vstack(blocks_d)
    Wc = np.concatenate(blocks_w)
    Vc = _blockdiag(blocks_v)
    Gc = _blockdiag(blocks_g)
    WiU = np.eye(len(Wc)) - (Dc @ Hinv @ Dc.T) * Wc[None, :]
    c = np.trace(WiU.T @ Vc @ WiU @ Gc) / df if df > 0 else np.nan
    df_null = float(len(Wc))
    cn = np.trace(Gc) / df_null
    ntot = sum(nobs)
    t1 = max(X3 - c * df, 0.0)
    t2 = max(X3 - c * df, Xn - cn * df_null, 0.0)
    cfi = 1.0 - t1 / t2 if t2 > 0 else 1.0
    tli = 1.0 - ((X3 - c * df) * df_null) / ((Xn - cn * df_null) * df) if df > 0 else 1.0
    rmsea = np.sqrt(max((X3 - c * df) / ((ntot - G) * df), 0.0)) * np.sqrt(G) if df > 0 else 0.0
    return {"cfi.robust": float(cfi), "tli.robust": float(tli), "rmsea.robust": float(rmsea)}


def _fit_measures(chisq, df, npar, F, trUG, trUG2, samples, w, gam, fg, nobs, resid):
    ntot = sum(nobs)
    G = len(nobs)
    out: dict[str, float] = {"npar": float(npar), "fmin": F / 2.0, "chisq": chisq, "df": float(df)}
    out["pvalue"] = float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan
    if df > 0:
        a = np.sqrt(df / trUG2)
        shift = df - a * trUG
        chisq_s = a * chisq + shift
    else:
        a, shift, chisq_s = np.nan, np.nan, chisq
    out.update(
        {
            "chisq.scaled": float(chisq_s),
            "df.scaled": float(df),
            "pvalue.scaled": float(stats.chi2.sf(chisq_s, df)) if df > 0 else np.nan,
            "chisq.scaling.factor": float(1.0 / a),
            "chisq.shift.parameter": float(shift),
        }
    )
    # baseline: free thresholds (per group), zero correlations
    b_chisq = 0.0
    b_delta = []
    for s, ww, n_ in zip(samples, w, nobs):
        nth = len(s.th)
        b_chisq += n_ * np.sum(ww[nth:] * s.cor**2)
    nth_tot = sum(len(s.th) for s in samples)
    col = 0
    for s in samples:
        nth = len(s.th)
        D = np.zeros((len(s.obs), nth_tot))
        D[np.arange(nth), col + np.arange(nth)] = 1.0
        col += nth
        b_delta.append(D)
    b_df = sum(len(s.cor) for s in samples)
    btr, btr2, _ = _ugamma_traces(b_delta, w, gam, fg)
    ab = np.sqrt(b_df / btr2)
    b_chisq_s = ab * b_chisq + (b_df - ab * btr)
    out.update(
        {
            "baseline.chisq": float(b_chisq),
            "baseline.df": float(b_df),
            "baseline.pvalue": float(stats.chi2.sf(b_chisq, b_df)),
            "baseline.chisq.scaled": float(b_chisq_s),
            "baseline.df.scaled": float(b_df),
            "baseline.pvalue.scaled": float(stats.chi2.sf(b_chisq_s, b_df)),
            "baseline.chisq.scaling.factor": float(1.0 / ab),
        }
    )

    def cfi(x2, d, xb, db):
        num = max(x2 - d, 0.0)
        den = max(x2 - d, xb - db, 0.0)
        return 1.0 - num / den if den > 0 else 1.0

    def tli(x2, d, xb, db):
        if d <= 0:
            return 1.0
        return (xb / db - x2 / d) / (xb / db - 1.0)

    def rmsea(x2, d):
        if d <= 0:
            return 0.0
        return float(np.sqrt(max((x2 - d) / ((ntot - G) * d), 0.0)) * np.sqrt(G))

    out["cfi"] = cfi(chisq, df, b_chisq, b_df)
    out["tli"] = tli(chisq, df, b_chisq, b_df)
    out["cfi.scaled"] = cfi(chisq_s, df, b_chisq_s, b_df)
    out["tli.scaled"] = tli(chisq_s, df, b_chisq_s, b_df)
    out["rmsea"] = rmsea(chisq, df)
    out["rmsea.scaled"] = rmsea(chisq_s, df)
    # residual-based measures (lavaan: "srmr" = srmr_bentler_nomean for categorical data)
    srm, srb, crm, crb = [], [], [], []
    for s, r in zip(samples, resid):
        nth = len(s.th)
        ssc = np.sum(r[nth:] ** 2)
        sst = np.sum(r[:nth] ** 2)
        p = s.R.shape[0]
        srm.append(np.sqrt(ssc / (p * (p + 1) / 2)))
        srb.append(np.sqrt((ssc + sst) / (p * (p + 1) / 2 + nth)))
        crm.append(np.sqrt(ssc / (p * (p - 1) / 2)))
        crb.append(np.sqrt((ssc + sst) / (p * (p - 1) / 2 + nth)))
    wsum = lambda v: float(np.sum(np.array(v) * np.array(fg)))  # noqa: E731
    out["srmr"] = wsum(srm)
    out["srmr_bentler"] = wsum(srb)
    out["srmr_bentler_nomean"] = wsum(srm)
    out["crmr"] = wsum(crb)
    out["crmr_nomean"] = wsum(crm)
    nstat = sum(len(s.obs) for s in samples) / G  # lavaan: statistics per group
    out["wrmr"] = float(
        np.sqrt(sum(n_ * np.sum(ww * r * r) for n_, r, ww in zip(nobs, resid, w)) / nstat)
    )
    return out


def _table_arrays(pt):
    return dict(
        mtx=pt["matrix"].to_numpy(dtype=object),
        row=pt["row"].to_numpy().astype(int),
        col=pt["col"].to_numpy().astype(int),
        grp=pt["group"].to_numpy().astype(int),
        free=pt["free"].to_numpy().astype(int),
        value=pt["value"].to_numpy(dtype=float),
    )


def _std_values(arr, om: _OrdinalModel, x):
    """Estimates (residual variances filled in) and completely standardised values per row."""
    mtx, r, c, grp, fr = arr["mtx"], arr["row"], arr["col"], arr["grp"], arr["free"]
    est = arr["value"].copy()
    est[fr > 0] = np.asarray(x)[fr[fr > 0] - 1]
    std = est.copy()
    for g, mats in enumerate(om.model.matrices(x)):
        a = om.model._ia(mats)
        la = mats["lambda"] @ a
        S = la @ mats["psi"] @ la.T
        d = mats["delta"]
        theta = 1.0 / d**2 - np.diag(S)
        vy = np.diag(S) + theta  # = 1/delta^2, variance of y*
        lvv = np.diag(a @ mats["psi"] @ a.T)
        ing = grp == g + 1
        sel = ing & (mtx == "theta") & (r == c) & (fr == 0)
        est[sel] = theta[r[sel]]
        std[sel] = est[sel]
        sel = ing & (mtx == "lambda")
        std[sel] = est[sel] * np.sqrt(lvv[c[sel]]) / np.sqrt(vy[r[sel]])
        sel = ing & (mtx == "psi")
        std[sel] = est[sel] / np.sqrt(lvv[r[sel]] * lvv[c[sel]])
        sel = ing & (mtx == "theta") & (r == c)
        std[sel] = est[sel] / vy[r[sel]]
        # residual covariances: lavaan's std.all is the residual correlation
        sel = ing & (mtx == "theta") & (r != c)
        std[sel] = est[sel] / np.sqrt(theta[r[sel]] * theta[c[sel]])
        sel = ing & (mtx == "tau")
        std[sel] = est[sel] / np.sqrt(vy[om.th_var[r[sel]]])
        sel = ing & (mtx == "alpha")
        std[sel] = est[sel] / np.sqrt(lvv[r[sel]])
        # latent regressions / second-order loadings (beta[r, c]: effect of c on r)
        sel = ing & (mtx == "beta")
        std[sel] = est[sel] * np.sqrt(lvv[c[sel]]) / np.sqrt(lvv[r[sel]])
    return est, std


def _param_table(pt, om: _OrdinalModel, x, vcov, level, samples):
    est, std = _std_values(_table_arrays(pt), om, x)
    fr = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    sev = np.sqrt(np.clip(np.diag(vcov), 0, None))
    se[fr > 0] = sev[fr[fr > 0] - 1]
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(fr > 0, est / np.where(se > 0, se, np.nan), np.nan)
    pval = np.where(np.isfinite(stat), 2 * stats.norm.sf(np.abs(stat)), np.nan)
    out = pd.DataFrame(
        {
            "lhs": pt["lhs"].to_numpy(),
            "op": pt["op"].to_numpy(),
            "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(),
            "label": pt["label"].to_numpy(),
            "free": fr,
            "estimate": est,
            "se": np.where(fr > 0, se, 0.0),
            "statistic": stat,
            "p_value": pval,
            "ci_low": np.where(fr > 0, est - z * se, est),
            "ci_high": np.where(fr > 0, est + z * se, est),
            "std_all": std,
        }
    )
    return out


def _std_solution(pt, om: _OrdinalModel, x, vcov, level):
    """lavaan ``standardizedSolution()``: std.all with delta-method SEs (numeric Jacobian)."""
    arr = _table_arrays(pt)
    _, std0 = _std_values(arr, om, x)
    keep = np.isin(pt["op"].to_numpy(dtype=object), ["=~", "~~", "|", "~1"])
    J = np.zeros((len(pt), len(x)))
    for k in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[k]))
        xp = x.copy()
        xm = x.copy()
        xp[k] += h
        xm[k] -= h
        J[:, k] = (_std_values(arr, om, xp)[1] - _std_values(arr, om, xm)[1]) / (2 * h)
    var = np.einsum("ik,kl,il->i", J, vcov, J)
    se = np.sqrt(np.clip(var, 0.0, None))
    se = np.where(se < 1e-10, 0.0, se)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, std0 / se, np.nan)
    out = pd.DataFrame(
        {
            "lhs": pt["lhs"].to_numpy(),
            "op": pt["op"].to_numpy(),
            "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(),
            "estimate": std0,
            "se": se,
            "statistic": stat,
            "p_value": np.where(np.isfinite(stat), 2 * stats.norm.sf(np.abs(stat)), np.nan),
            "ci_low": std0 - z * se,
            "ci_high": std0 + z * se,
        }
    )
    return out[keep].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# difference test and invariance
# ----------------------------------------------------------------------------------------------
def wlsmv_difference_test(h0: WLSMVResult, h1: WLSMVResult) -> DifferenceTest:
    """Scaled chi-square difference test of nested WLSMV models (lavaan ``lavTestLRT``).

    Parameters
    ----------
    h0 : WLSMVResult
        The restricted model (more degrees of freedom).
    h1 : WLSMVResult
        The less restricted model, fitted to the same data.

    Returns
    -------
    DifferenceTest

    Notes
    -----
    Satorra (2000), scaled-shifted version as lavaan 0.6 (``method = "satorra.2000"``,
    ``scaled.shifted = TRUE``): with :math:`A` the constraints that take ``h1`` to ``h0``
    (here obtained numerically as the Jacobian of ``h0``'s parameters in terms of ``h1``'s,
    :math:`\\Delta_0 = \\Delta_1 K`), :math:`P = \\Delta_1'W\\Delta_1`,
    :math:`M = P^{-1} - K(K'PK)^{-1}K'`, :math:`B = \\Delta_1'W\\Gamma W\\Delta_1`,
    :math:`U\\Gamma` traces :math:`t_1 = \\mathrm{tr}(MB)`, :math:`t_2 = \\mathrm{tr}((MB)^2)`,
    :math:`a = \\sqrt{m/t_2}`, statistic :math:`a(T_0 - T_1) + m - a t_1` with :math:`m` the
    df difference.

    References
    ----------
    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
    moment structures. In *Innovations in multivariate statistical analysis* (pp. 233-247).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.sem._wlsmv import fit_wlsmv, wlsmv_difference_test
    >>> rng = np.random.default_rng(2)
    >>> y = 0.7 * rng.normal(size=(3000, 1)) + rng.normal(size=(3000, 4)) * 0.71
    >>> d = pd.DataFrame(np.digitize(y, [-1, 0, 1]) + 1, columns=list("abcd"))
    >>> d["g"] = np.repeat([1, 2], 1500)
    >>> m = "F =~ a + b + c + d"
    >>> free = fit_wlsmv(m, d, group="g")
    >>> equal = fit_wlsmv(m, d, group="g", group_equal=["thresholds"])
    >>> t = wlsmv_difference_test(equal, free)  # R: lavaan::lavTestLRT(free, equal)
    >>> t.df
    7.0
    """
    m = h0.fit_measures["df"] - h1.fit_measures["df"]
    if m <= 0:
        raise InputError(
            "h0 must have more degrees of freedom than h1",
            value=m,
            expected="a positive df difference",
        )
    fg = [n_ / sum(h1.nobs) for n_ in h1.nobs]
    D1 = np.vstack(h1._delta)
    D0 = np.vstack(h0._delta)
    Wd = np.concatenate([ww * f for ww, f in zip(h1._w, fg)])
    Gm = _blockdiag([s.nacov * (s.n / (s.n - 1.0)) / f for s, f in zip(h1.sample, fg)])
    # K: columns of D0 expressed in D1's parameter space (least squares, exact for nesting)
    K, *_ = np.linalg.lstsq(D1, D0, rcond=None)
    P = D1.T @ (Wd[:, None] * D1)
    Pinv = np.linalg.pinv(P)
    KPK = K.T @ P @ K
    M = Pinv - K @ np.linalg.pinv(KPK) @ K.T
    WD = Wd[:, None] * D1
    B = WD.T @ Gm @ WD
    MB = M @ B
    t1 = np.trace(MB)
    t2 = np.sum(MB * MB.T)
    a = np.sqrt(m / t2)
    T = h0.fit_measures["chisq"] - h1.fit_measures["chisq"]
    stat = a * T + (m - a * t1)
    return DifferenceTest(
        statistic=float(stat),
        df=float(m),
        p_value=float(stats.chi2.sf(stat, m)),
        chisq_h0=float(h0.fit_measures["chisq"]),
        chisq_h1=float(h1.fit_measures["chisq"]),
    )


def ordinal_invariance(
    model: str,
    data: pd.DataFrame,
    group: str,
    ordered: Sequence[str] | bool | None = True,
    std_lv: bool = False,
) -> tuple[dict, pd.DataFrame]:
    """Measurement invariance of ordered indicators: configural, thresholds, thresholds+loadings.

    Parameters
    ----------
    model : str
        Lavaan syntax.
    data : pandas.DataFrame
        Items and the group column.
    group : str
        Grouping column.
    ordered, std_lv
        As :func:`fit_wlsmv`.

    Returns
    -------
    fits : dict
        ``{"configural": WLSMVResult, "thresholds": ..., "thresholds_loadings": ...}``.
    table : pandas.DataFrame
        One row per model: ``model, chisq, df, chisq_scaled, cfi_scaled, rmsea_scaled,
        statistic, df_diff, p_value`` (the last three: scaled difference test against the
        previous model, lavaan ``lavTestLRT``).

    Notes
    -----
    ``group.equal = "thresholds"`` then ``c("thresholds", "loadings")`` as lavaan; see
    :func:`wlsmv_difference_test` for the test.

    References
    ----------
    Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. *Psychometrika*, 81,
    1014-1045.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.sem._wlsmv import ordinal_invariance
    >>> rng = np.random.default_rng(3)
    >>> y = 0.7 * rng.normal(size=(3000, 1)) + rng.normal(size=(3000, 4)) * 0.71
    >>> d = pd.DataFrame(np.digitize(y, [-1, 0, 1]) + 1, columns=list("abcd"))
    >>> d["g"] = np.repeat([1, 2], 1500)
    >>> fits, table = ordinal_invariance("F =~ a + b + c + d", d, "g")
    >>> # R: lavTestLRT(cfa(m, d, ordered = TRUE, group = "g"), ... group.equal = "thresholds" ...)
    >>> table["df"].tolist()
    [4.0, 11.0, 14.0]
    """
    steps = {
        "configural": [],
        "thresholds": ["thresholds"],
        "thresholds_loadings": ["thresholds", "loadings"],
    }
    fits = {
        k: fit_wlsmv(model, data, ordered=ordered, group=group, group_equal=v, std_lv=std_lv)
        for k, v in steps.items()
    }
    rows = []
    prev = None
    for k, f in fits.items():
        fm = f.fit_measures
        row = {
            "model": k,
            "chisq": fm["chisq"],
            "df": fm["df"],
            "chisq_scaled": fm["chisq.scaled"],
            "cfi_scaled": fm["cfi.scaled"],
            "rmsea_scaled": fm["rmsea.scaled"],
            "statistic": np.nan,
            "df_diff": np.nan,
            "p_value": np.nan,
        }
        if prev is not None:
            t = wlsmv_difference_test(f, prev)
            row.update(statistic=t.statistic, df_diff=t.df, p_value=t.p_value)
        rows.append(row)
        prev = f
    return fits, pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# hook into analysis.sem._invariance.measurement_invariance(estimator="WLSMV")
# ----------------------------------------------------------------------------------------------
def _engine_difference(res0: WLSMVResult, res1: WLSMVResult):
    """(delta_chisq, delta_df, p_value) of the more restricted ``res1`` against ``res0``."""
    t = wlsmv_difference_test(res1, res0)
    return t.statistic, t.df, t.p_value


def _engine_fit(model, data, group=None, group_equal=(), **kw):
    return fit_wlsmv(model, data, group=group, group_equal=group_equal, **kw)


def _register() -> None:
    try:
        from analysis.sem._invariance import ORDERED_LEVELS, InvarianceEngine, register_engine
    except ImportError:  # pragma: no cover - invariance module absent
        return
    register_engine(
        "WLSMV",
        InvarianceEngine(fit=_engine_fit, levels=ORDERED_LEVELS, difference=_engine_difference),
    )


_register()
