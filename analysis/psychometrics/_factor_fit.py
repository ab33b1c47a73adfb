"""Fit statistics of an exploratory factor model (``psych::fa``): chi-square, RMSEA with its
interval, TLI, BIC, RMSR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.psychometrics._correlation import _cor_smooth, _warn

__all__ = ["FactorFit"]


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
