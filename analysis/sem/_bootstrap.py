"""Case-resampling bootstrap of an ML fit (lavaan ``se = "bootstrap"``), fast.

Each draw resamples the cases of every group with replacement; with complete data the draw
is reduced at once to its sample moments (counts of the resampled cases times the data:
no copy of the data), the observed exogenous moments (fixed.x) are set to the draw's, and the
model is refitted by Fisher scoring from the full-sample estimates (warm start, a few
iterations). With missing data (FIML) the draw's missing-data patterns are rebuilt.

Percentile intervals (lavaan ``boot.ci.type = "perc"``) and BCa intervals (bias correction
from the share of draws below the estimate, acceleration from the jackknife of the
estimate; Efron, 1987) are computed from the draws.

References
----------
Efron, B. (1987). Better bootstrap confidence intervals. *Journal of the American Statistical
Association*, 82(397), 171-185.
Efron, B., & Tibshirani, R. J. (1993). *An introduction to the bootstrap*. Chapman & Hall.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis.sem._matrices import SEMModel
from analysis.sem._ml import _GroupData, _MLProblem, _Pattern, _patterns

__all__ = ["bootstrap_fits", "jackknife_fits", "percentile_ci", "bca_ci"]


class _FixedX:
    """The fixed exogenous moments of a :class:`SEMModel`, updated in place per draw."""

    def __init__(self, sem: SEMModel):
        ov_x = list(sem.partable.attrs.get("ov_x", []))
        self.sem = sem
        self.entries = []  # (group, matrix, position, ov i, ov j or -1)
        lv_to_ov = {sem.lv_names.index(v): sem.ov_names.index(v) for v in ov_x}
        for g, (fixed, _free) in enumerate(sem._index):
            r, c, _v = fixed["psi"]
            for k in range(len(r)):
                if r[k] in lv_to_ov and c[k] in lv_to_ov:
                    self.entries.append((g, "psi", k, lv_to_ov[r[k]], lv_to_ov[c[k]]))
            r, c, _v = fixed["alpha"]
            for k in range(len(r)):
                if r[k] in lv_to_ov:
                    self.entries.append((g, "alpha", k, lv_to_ov[r[k]], -1))
        self.orig = [self._array(g, m)[k] for g, m, k, _i, _j in self.entries]

    def _array(self, g, name):
        return self.sem._index[g][0][name][2]

    def set(self, gdata) -> None:
        for g, name, k, i, j in self.entries:
            d = gdata[g]
            self._array(g, name)[k] = d.cov[i, j] if j >= 0 else d.mean[i]

    def restore(self) -> None:
        for (g, name, k, _i, _j), v in zip(self.entries, self.orig):
            self._array(g, name)[k] = v


def _scoring(problem: _MLProblem, x0: np.ndarray, tol: float = 1e-8, max_iter: int = 200):
    """Fisher scoring with backtracking from a warm start; ``(x, converged)``."""
    x = x0.copy()
    f, g = problem.objective(x)
    if not np.isfinite(f):
        return x, False
    for _ in range(max_iter):
        if np.max(np.abs(g)) < tol:
            return x, True
        try:
            step = np.linalg.solve(problem.expected_information(x), g)
        except np.linalg.LinAlgError:
            return x, False
        t = 1.0
        while True:
            xn = x - t * step
            fn, gn = problem.objective(xn)
            if np.isfinite(fn) and fn <= f + 1e-4 * t * (g @ -step) + 1e-15:
                break
            t *= 0.5
            if t < 1e-8:
                return x, bool(np.max(np.abs(g)) < 1e-6)
        x, f, g = xn, fn, gn
    return x, bool(np.max(np.abs(g)) < 1e-6)


def _moments_group(d: _GroupData, weights: np.ndarray) -> _GroupData:
    """Complete-data group whose moments are those of the cases weighted by ``weights``."""
    n = float(weights.sum())
    mean = weights @ d.x / n
    xc = d.x - mean
    cov = (xc * weights[:, None]).T @ xc / n
    p = d.x.shape[1]
    pat = _Pattern(np.arange(p), int(round(n)), mean, cov, np.zeros(0, dtype=int))
    return _GroupData(d.x[:0], int(round(n)), [pat], True, mean, cov)


def _missing_group(xg: np.ndarray) -> _GroupData:
    """Group with missing cells: patterns rebuilt; moments pairwise (for fixed.x only)."""
    pats = _patterns(xg)
    mean = np.nanmean(xg, axis=0)
    xc = np.where(np.isnan(xg), 0.0, xg - mean)
    cov = xc.T @ xc / len(xg)
    return _GroupData(xg, len(xg), pats, False, mean, cov)


def _fit_all(sem, ms, x0, groups_iter):
    fx = _FixedX(sem)
    out = []
    try:
        for gd in groups_iter:
            if fx.entries:
                fx.set(gd)
            xb, ok = _scoring(_MLProblem(sem, gd, ms), x0)
            out.append(xb if ok else np.full(len(x0), np.nan))
    finally:
        fx.restore()
    return np.array(out).reshape(-1, len(x0))


def bootstrap_fits(sem: SEMModel, gdata, ms: bool, xhat: np.ndarray, draws: int, rng):
    """Free-parameter estimates of ``draws`` case-resampled fits (failed draws are NaN rows)."""

    def groups():
        for _ in range(draws):
            out = []
            for d in gdata:
                idx = rng.integers(0, d.n, d.n)
                if d.complete:
                    out.append(_moments_group(d, np.bincount(idx, minlength=d.n).astype(float)))
                else:
                    out.append(_missing_group(d.x[idx]))
            yield out

    return _fit_all(sem, ms, xhat, groups())


def jackknife_fits(sem: SEMModel, gdata, ms: bool, xhat: np.ndarray):
    """Leave-one-case-out estimates (for the BCa acceleration), one row per case."""

    def groups():
        for g, d in enumerate(gdata):
            for i in range(d.n):
                out = []
                for h, e in enumerate(gdata):
                    if h != g:
                        out.append(e)
                    elif e.complete:
                        w = np.ones(e.n)
                        w[i] = 0.0
                        out.append(_moments_group(e, w))
                    else:
                        out.append(_missing_group(np.delete(e.x, i, axis=0)))
                yield out

    return _fit_all(sem, ms, xhat, groups())


def percentile_ci(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column (type-7 quantiles, NaN draws dropped)."""
    a = (1 - level) / 2
    lo, hi = np.nanquantile(draws, [a, 1 - a], axis=0)
    return lo, hi


def bca_ci(draws: np.ndarray, estimate: np.ndarray, jack: np.ndarray, level: float):
    """BCa interval of each column: bias correction ``z0`` and jackknife acceleration."""
    a = (1 - level) / 2
    lo = np.full(draws.shape[1], np.nan)
    hi = np.full(draws.shape[1], np.nan)
    za = stats.norm.ppf([a, 1 - a])
    for j in range(draws.shape[1]):
        d = draws[:, j]
        d = d[np.isfinite(d)]
        if len(d) < 2 or np.ptp(d) == 0:
            lo[j] = hi[j] = estimate[j]
            continue
        prop = np.clip(np.mean(d < estimate[j]), 1.0 / len(d), 1 - 1.0 / len(d))
        z0 = stats.norm.ppf(prop)
        jk = jack[:, j][np.isfinite(jack[:, j])]
        u = jk.mean() - jk
        den = 6.0 * np.sum(u**2) ** 1.5
        acc = np.sum(u**3) / den if den > 0 else 0.0
        adj = stats.norm.cdf(z0 + (z0 + za) / (1 - acc * (z0 + za)))
        lo[j], hi[j] = np.quantile(d, adj)
    return lo, hi
