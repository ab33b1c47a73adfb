"""Sample statistics of ordered indicators for WLSMV: thresholds, polychoric correlations and
their asymptotic covariance matrix (lavaan ``lav_samplestats`` for categorical data).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from analysis.errors import InputError
from analysis.psychometrics._polychoric import (
    _cell_probs,
    _cuts,
    _fit_rho,
    _pair_tables,
)
from analysis.utils.blas import single_blas_thread as _single_blas

__all__ = ["SampleStats", "sample_statistics"]


_PHI = 1.0 / np.sqrt(2.0 * np.pi)


def _dnorm(x):
    x = np.asarray(x, dtype=float)
    fin = np.isfinite(x)
    xx = np.where(fin, x, 0.0)
    return np.where(fin, _PHI * np.exp(-0.5 * xx * xx), 0.0)


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
    >>> from analysis.cbsem import sample_statistics
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
