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

from analysis.cbsem._matrices import SEMModel
from analysis.cbsem._ml import _MLProblem
from analysis.cbsem._ml_data import _GroupData, _Pattern, _patterns

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


def _scoring_complete(
    sem, gdata, ms: bool, x0: np.ndarray, hess0: np.ndarray, tol: float = 1e-6, max_iter: int = 200
):
    """Quasi-Newton (BFGS) fit for complete-data groups from a warm start.

    ``hess0`` (the expected information of the full-sample fit, shared by all draws) starts
    the Hessian approximation, updated by BFGS from the gradients; the gradient is the chain
    rule through the implied moments (:meth:`SEMModel.jacobian_dot`, no Jacobian array) and
    the line search evaluates the fit function only. Converged when the step is below
    ``tol`` (relative to the parameters) or the gradient below 1e-9.
    """
    ntotal = float(sum(d.n for d in gdata))

    def fval_grad(x):
        f = 0.0
        gs, gm = [], []
        for d, (sigma, mu) in zip(gdata, sem.implied(x)):
            try:
                c = np.linalg.cholesky(sigma)
            except np.linalg.LinAlgError:
                return np.inf, None
            ci = np.linalg.inv(c)
            inv = ci.T @ ci
            r = d.mean - mu if ms else np.zeros(len(mu))
            m2 = d.cov + np.outer(r, r)
            f += d.n * (2.0 * np.sum(np.log(np.diag(c))) + np.sum(inv * m2))
            gs.append(0.5 * d.n / ntotal * (inv - inv @ m2 @ inv))
            gm.append(-d.n / ntotal * (inv @ r))
        return 0.5 * f / ntotal, (gs, gm if ms else None)

    x = x0.copy()
    f, pieces = fval_grad(x)
    if not np.isfinite(f):
        return x, False
    g = sem.jacobian_dot(x, *pieces)
    hess = hess0.copy()
    for _ in range(max_iter):
        if np.max(np.abs(g)) < 1e-9:
            return x, True
        try:
            step = np.linalg.solve(hess, g)
        except np.linalg.LinAlgError:
            return x, False
        if g @ step <= 0:  # not a descent direction: restart from the initial metric
            hess = hess0.copy()
            step = np.linalg.solve(hess, g)
        t = 1.0
        while True:
            xn = x - t * step
            fn, pieces = fval_grad(xn)
            if np.isfinite(fn) and fn <= f + 1e-4 * t * (g @ -step) + 1e-15:
                break
            t *= 0.5
            if t < 1e-8:
                return x, bool(np.max(np.abs(g)) < 1e-6)
        gn = sem.jacobian_dot(xn, *pieces)
        s, y = xn - x, gn - g
        sy = s @ y
        if sy > 1e-14:
            hs = hess @ s
            hess = hess + np.outer(y, y) / sy - np.outer(hs, hs) / (s @ hs)
        x, f, g = xn, fn, gn
        if np.max(np.abs(s) / (1.0 + np.abs(x))) < tol:
            return x, True
    return x, False


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


class _LastMatrices(SEMModel):
    """A :class:`SEMModel` that remembers the matrices of the last parameter vector (the
    fit function and its gradient are evaluated at the same point)."""

    def matrices(self, x):
        key = np.asarray(x, dtype=float).tobytes()
        if getattr(self, "_last", (None,))[0] != key:
            self._last = (key, super().matrices(x))
        return self._last[1]

    def forget(self) -> None:
        self._last = (None,)


def _fit_all(sem, ms, x0, groups_iter, hess0=None):
    model = object.__new__(_LastMatrices)
    model.__dict__.update(sem.__dict__)
    model._index = sem._index  # the fixed values are updated in place for every draw
    fx = _FixedX(sem)
    out = []
    try:
        for gd in groups_iter:
            model.forget()
            if fx.entries:
                fx.set(gd)
            if all(d.complete for d in gd):
                if hess0 is None:
                    hess0 = _MLProblem(sem, gd, ms).expected_information(x0)
                xb, ok = _scoring_complete(model, gd, ms, x0, hess0)
            else:
                xb, ok = _scoring(_MLProblem(sem, gd, ms), x0)
            out.append(xb if ok else np.full(len(x0), np.nan))
    finally:
        fx.restore()
    return np.array(out).reshape(-1, len(x0))


_CHUNK = 250  # draws fitted together


def bootstrap_fits(sem: SEMModel, gdata, ms: bool, xhat: np.ndarray, draws: int, rng):
    """Free-parameter estimates of ``draws`` case-resampled fits (failed draws are NaN rows).

    Complete data: the draws are fitted together, ``_CHUNK`` at a time (:class:`_Batched`);
    with missing data one after the other.
    """
    if all(d.complete for d in gdata):
        hess0 = _MLProblem(sem, gdata, ms).expected_information(xhat)
        out = []
        for start in range(0, draws, _CHUNK):
            nb = min(_CHUNK, draws - start)
            moments = []
            for d in gdata:
                idx = rng.integers(0, d.n, (nb, d.n))
                offs = (idx + d.n * np.arange(nb)[:, None]).ravel()
                w = np.bincount(offs, minlength=nb * d.n).reshape(nb, d.n).astype(float)
                _tot, means, covs = _weighted_moments(d, w)
                moments.append((d.n, means, covs))
            out.append(_batched_fits(sem, ms, xhat, hess0, moments))
        return np.vstack(out)

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
    if all(d.complete for d in gdata):
        hess0 = _MLProblem(sem, gdata, ms).expected_information(xhat)
        out = []
        for g, d in enumerate(gdata):
            for start in range(0, d.n, _CHUNK):
                rows = np.arange(start, min(start + _CHUNK, d.n))
                w = np.ones((len(rows), d.n))
                w[np.arange(len(rows)), rows] = 0.0
                moments = []
                for h, e in enumerate(gdata):
                    if h == g:
                        _tot, means, covs = _weighted_moments(e, w)
                        moments.append((e.n - 1, means, covs))
                    else:
                        moments.append(
                            (
                                e.n,
                                np.repeat(e.mean[None], len(rows), axis=0),
                                np.repeat(e.cov[None], len(rows), axis=0),
                            )
                        )
                out.append(_batched_fits(sem, ms, xhat, hess0, moments))
        return np.vstack(out)

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


# --------------------------------------------------------------------------- vectorised fits
class _Batched:
    """Many fits of one model to complete-data moments at once (one row per draw).

    The matrices, implied moments, fit function and gradient (the chain rule of
    :meth:`SEMModel.jacobian_dot`) are computed for all draws with batched array operations;
    the fixed exogenous moments (fixed.x) follow each draw's moments.
    """

    _SYM = ("theta", "psi")

    def __init__(self, sem: SEMModel, ms: bool):
        self.sem, self.ms, self.k = sem, ms, sem.npar
        self.shapes = {n: sem._shapes[n] for n in ("lambda", "theta", "psi", "beta", "nu", "alpha")}
        base = sem.matrices(np.zeros(sem.npar))  # fixed values (free ones are zero here)
        ov_x = list(sem.partable.attrs.get("ov_x", []))
        lv_to_ov = {sem.lv_names.index(v): sem.ov_names.index(v) for v in ov_x}
        self.groups = []
        for g, (_fixed, free) in enumerate(sem._index):
            fx_psi = [(r, c, lv_to_ov[r], lv_to_ov[c]) for r in lv_to_ov for c in lv_to_ov]
            fx_alpha = [(r, lv_to_ov[r]) for r in lv_to_ov]
            self.groups.append(dict(base=base[g], free=free, fx_psi=fx_psi, fx_alpha=fx_alpha))
        # parameter scatter: one-hot rows for each part of the gradient
        self.has_beta = sem.has_beta

    def matrices(self, x: np.ndarray, g: int, means, covs):
        grp = self.groups[g]
        nb = len(x)
        mats = {}
        for name in self.shapes:
            b = np.asarray(grp["base"][name], dtype=float)
            m = np.repeat(b[None], nb, axis=0)
            r, c, k = grp["free"][name]
            if len(k):
                if m.ndim == 2:
                    m[:, r] = x[:, k]
                else:
                    m[:, r, c] = x[:, k]
                    if name in self._SYM:
                        m[:, c, r] = x[:, k]
            mats[name] = m
        for r, c, i, j in grp["fx_psi"]:
            mats["psi"][:, r, c] = covs[:, i, j]
        if self.ms:
            for r, i in grp["fx_alpha"]:
                mats["alpha"][:, r] = means[:, i]
        nlv = mats["beta"].shape[1]
        if self.has_beta:
            a = np.linalg.inv(np.eye(nlv)[None] - mats["beta"])
        else:
            a = np.repeat(np.eye(nlv)[None], nb, axis=0)
        mats["a"] = a
        mats["lam_a"] = mats["lambda"] @ a
        return mats

    def implied(self, mats):
        la = mats["lam_a"]
        sigma = la @ mats["psi"] @ np.swapaxes(la, 1, 2) + mats["theta"]
        mu = mats["nu"] + np.einsum("bpm,bm->bp", la, mats["alpha"])
        return sigma, mu

    def gradient(self, mats, g: int, gs, gm):
        """``J' vec(G)`` for every draw (as :meth:`SEMModel.jacobian_dot`)."""
        free = self.groups[g]["free"]
        nb = gs.shape[0]
        out = np.zeros((nb, self.k))
        a, la, psi = mats["a"], mats["lam_a"], mats["psi"]
        sym = gs + np.swapaxes(gs, 1, 2)
        at = np.swapaxes(a, 1, 2)
        lat = np.swapaxes(la, 1, 2)

        def add(k, v):
            for j in range(len(k)):
                out[:, k[j]] += v[:, j]

        r, c, k = free["lambda"]
        if len(k):
            lm = la @ psi @ at
            add(k, (sym @ lm)[:, r, c])
        r, c, k = free["theta"]
        if len(k):
            add(k, np.where(r == c, gs[:, r, c], sym[:, r, c]))
        r, c, k = free["psi"]
        if len(k):
            m = lat @ gs @ la
            add(k, np.where(r == c, m[:, r, c], m[:, r, c] + m[:, c, r]))
        r, c, k = free["beta"]
        if len(k):
            rows = a @ psi @ lat
            add(k, (lat @ sym @ np.swapaxes(rows, 1, 2))[:, r, c])
        if gm is not None:
            a_alpha = np.einsum("bmn,bn->bm", a, mats["alpha"])
            gl = np.einsum("bp,bpm->bm", gm, la)
            r, c, k = free["lambda"]
            if len(k):
                add(k, gm[:, r] * a_alpha[:, c])
            r, c, k = free["beta"]
            if len(k):
                add(k, gl[:, r] * a_alpha[:, c])
            r, c, k = free["nu"]
            if len(k):
                add(k, gm[:, r])
            r, c, k = free["alpha"]
            if len(k):
                add(k, gl[:, r])
        return out

    def fval_grad(self, x, moments, ntotal, want_grad=True):
        """Fit function (inf where Sigma is not positive definite) and gradient per draw."""
        nb = len(x)
        f = np.zeros(nb)
        grad = np.zeros((nb, self.k)) if want_grad else None
        for g, (n, means, covs) in enumerate(moments):
            mats = self.matrices(x, g, means, covs)
            sigma, mu = self.implied(mats)
            sign, logdet = np.linalg.slogdet(sigma)
            bad = sign <= 0
            if bad.any():
                sigma = np.where(bad[:, None, None], np.eye(sigma.shape[1])[None], sigma)
            inv = np.linalg.inv(sigma)
            r = means - mu if self.ms else np.zeros_like(mu)
            m2 = covs + r[:, :, None] * r[:, None, :]
            f += n * (logdet + np.einsum("bij,bji->b", inv, m2))
            f[bad] = np.inf
            if want_grad:
                gs = 0.5 * n / ntotal * (inv - inv @ m2 @ inv)
                gm = -n / ntotal * np.einsum("bij,bj->bi", inv, r) if self.ms else None
                grad += self.gradient(mats, g, gs, gm)
        return 0.5 * f / ntotal, grad


def _batched_fits(sem, ms, x0, hess0, moments, tol=1e-6, max_iter=200):
    """BFGS from ``x0`` (metric ``hess0``) for every draw; NaN rows where a fit failed.

    ``moments``: per group ``(n, means (B, p), covs (B, p, p))``.
    """
    bat = _Batched(sem, ms)
    ntotal = float(sum(m[0] for m in moments))
    nb = moments[0][1].shape[0]
    x = np.repeat(x0[None], nb, axis=0)
    f, g = bat.fval_grad(x, moments, ntotal)
    hess = np.repeat(hess0[None], nb, axis=0)
    done = ~np.isfinite(f)
    ok = np.zeros(nb, dtype=bool)

    def sub(idx):
        return [(n, mm[idx], cc[idx]) for n, mm, cc in moments]

    for _ in range(max_iter):
        small = ~done & (np.max(np.abs(g), axis=1) < 1e-9)
        ok |= small
        done |= small
        act = np.flatnonzero(~done)
        if not len(act):
            break
        ga = g[act]
        step = np.linalg.solve(hess[act], ga[:, :, None])[:, :, 0]
        wrong = np.einsum("bk,bk->b", ga, step) <= 0
        if wrong.any():
            hess[act[wrong]] = hess0
            step[wrong] = np.linalg.solve(hess0, ga[wrong].T).T
        t = np.ones(len(act))
        xn = x[act].copy()
        fn = f[act].copy()
        pending = np.arange(len(act))
        slope = np.einsum("bk,bk->b", ga, -step)
        while len(pending):
            trial = x[act[pending]] - t[pending, None] * step[pending]
            ft, _ = bat.fval_grad(trial, sub(act[pending]), ntotal, want_grad=False)
            acc = np.isfinite(ft) & (
                ft <= f[act[pending]] + 1e-4 * t[pending] * slope[pending] + 1e-15
            )
            xn[pending[acc]] = trial[acc]
            fn[pending[acc]] = ft[acc]
            t[pending[~acc]] *= 0.5
            pending = pending[~acc]
            stuck = t[pending] < 1e-8
            if stuck.any():
                idx = act[pending[stuck]]
                ok[idx] = np.max(np.abs(g[idx]), axis=1) < 1e-6
                done[idx] = True
                pending = pending[~stuck]
        moved = act[~done[act]]
        if not len(moved):
            break
        sel = np.searchsorted(act, moved)
        _f2, gn = bat.fval_grad(xn[sel], sub(moved), ntotal)
        s = xn[sel] - x[moved]
        y = gn - g[moved]
        sy = np.einsum("bk,bk->b", s, y)
        hm = hess[moved]
        hs = (hm @ s[:, :, None])[:, :, 0]
        shs = np.einsum("bk,bk->b", s, hs)
        upd = sy > 1e-14
        if upd.any():
            hm[upd] += (
                y[upd, :, None] * y[upd, None, :] / sy[upd, None, None]
                - hs[upd, :, None] * hs[upd, None, :] / shs[upd, None, None]
            )
            hess[moved] = hm
        x[moved], f[moved], g[moved] = xn[sel], fn[sel], gn
        conv = np.max(np.abs(s) / (1.0 + np.abs(xn[sel])), axis=1) < tol
        ok[moved[conv]] = True
        done[moved[conv]] = True
    x[~ok] = np.nan
    return x


def _weighted_moments(d: _GroupData, w: np.ndarray):
    """Means ``(B, p)`` and covariances ``(B, p, p)`` (divisor = total weight) per row of ``w``."""
    tot = w.sum(axis=1)
    means = w @ d.x / tot[:, None]
    p = d.x.shape[1]
    rows, cols = np.tril_indices(p)
    # sum_i w_bi x_ij x_ik for j >= k: one matrix product per block of cases (the products
    # x_ij x_ik held for at most ``block`` cases at once)
    vech = np.zeros((len(w), len(rows)))
    block = max(256, 2_000_000 // max(len(rows), 1))
    for start in range(0, d.x.shape[0], block):
        xb = d.x[start : start + block]
        vech += w[:, start : start + block] @ (xb[:, rows] * xb[:, cols])
    second = np.empty((len(w), p, p))
    second[:, rows, cols] = vech
    second[:, cols, rows] = vech
    second /= tot[:, None, None]
    return tot, means, second - means[:, :, None] * means[:, None, :]
