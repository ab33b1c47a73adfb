"""Confirmatory factor analysis by maximum likelihood, matching R lavaan.

:func:`cfa` fits a measurement model written in lavaan syntax (see :mod:`analysis.sem._model`)
by normal-theory maximum likelihood (``estimator="ML"``) or by ML with robust (Huber-White
sandwich) standard errors and the Yuan-Bentler (Mplus variant) scaled test statistic
(``estimator="MLR"``), on complete cases (``missing="listwise"``) or by full-information ML
over the missing-data patterns (``missing="fiml"``, lavaan ``missing = "ml"``), in one group
or several groups with equality constraints (``group_equal``).

The heavy work is only the sample moments: the fit function, its analytic gradient and the
information matrices use the per-pattern sufficient statistics, so that a model on 100,000 rows
is as quick to fit as one on 300. Casewise quantities (MLR scores) are accumulated in chunks.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
structure analysis with nonnormal missing data. *Sociological Methodology*, 30, 165-200.
Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for nonnormality.
*Multivariate Behavioral Research*, 49(5), 460-470.
Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI following FIML and TS
estimation with missing data. *Psychological Methods*, 28(2), 263-283.
Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with unobservable
variables and measurement error. *Journal of Marketing Research*, 18(1), 39-50.
Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing discriminant
validity in variance-based structural equation modeling. *Journal of the Academy of Marketing
Science*, 43(1), 115-135.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.errors import EstimationWarning, InputError
from analysis.sem._model import SEMModel, build_partable, start_values
from analysis.utils.blas import one_blas_thread as _one_blas_thread

__all__ = ["cfa", "CFAResults", "htmt", "FIT_MEASURES", "SCALED_FIT_MEASURES"]

#: names of the fit measures in :attr:`CFAResults.fit` (lavaan names, dots as underscores)
FIT_MEASURES = (
    "npar",
    "fmin",
    "chisq",
    "df",
    "pvalue",
    "baseline_chisq",
    "baseline_df",
    "baseline_pvalue",
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci_lower",
    "rmsea_ci_upper",
    "rmsea_pvalue",
    "srmr",
    "aic",
    "bic",
    "bic2",
    "logl",
    "unrestricted_logl",
    "ntotal",
)
#: additional fit measures of ``estimator="MLR"`` (robust ones also with FIML)
SCALED_FIT_MEASURES = (
    "chisq_scaled",
    "df_scaled",
    "pvalue_scaled",
    "chisq_scaling_factor",
    "scaling_factor",
    "baseline_chisq_scaled",
    "baseline_df_scaled",
    "baseline_pvalue_scaled",
    "baseline_chisq_scaling_factor",
    "cfi_scaled",
    "tli_scaled",
    "cfi_robust",
    "tli_robust",
    "rmsea_scaled",
    "rmsea_ci_lower_scaled",
    "rmsea_ci_upper_scaled",
    "rmsea_pvalue_scaled",
    "rmsea_robust",
    "rmsea_ci_lower_robust",
    "rmsea_ci_upper_robust",
    "rmsea_pvalue_robust",
)

_LOG2PI = np.log(2.0 * np.pi)


# --------------------------------------------------------------------------- data
@dataclass
class _Pattern:
    """Sufficient statistics of the cases of one group sharing a missing-data pattern."""

    idx: np.ndarray  # observed variable positions
    n: int
    mean: np.ndarray
    cov: np.ndarray  # divisor n
    rows: np.ndarray  # positions of the cases in the group's data matrix

    def __post_init__(self):
        self.ix = np.ix_(self.idx, self.idx)


@dataclass
class _GroupData:
    x: np.ndarray  # n x p, NaN = missing
    n: int
    patterns: list[_Pattern]
    complete: bool
    mean: np.ndarray  # h1 mean (sample, or EM)
    cov: np.ndarray  # h1 covariance (divisor n, or EM)
    h1_info: tuple | None = None  # cached saturated-model information (missing data)


def _patterns(x: np.ndarray) -> list[_Pattern]:
    obs = ~np.isnan(x)
    if obs.all():
        rows = np.arange(len(x))
        return [_Pattern(np.arange(x.shape[1]), len(x), *_moments(x), rows)]
    keys, inverse = np.unique(obs, axis=0, return_inverse=True)
    out = []
    for k, key in enumerate(keys):
        rows = np.flatnonzero(inverse.ravel() == k)
        idx = np.flatnonzero(key)
        sub = x[np.ix_(rows, idx)]
        out.append(_Pattern(idx, len(rows), *_moments(sub), rows))
    return out


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = x.mean(axis=0)
    d = x - m
    return m, (d.T @ d) / len(x)


def _em_h1(x: np.ndarray, patterns: list[_Pattern], tol: float = 1e-5, max_iter: int = 500):
    """Saturated ML mean and covariance with missing data (EM algorithm).

    As lavaan's ``lav_mvnorm_missing_h1_estimate_moments``: start from the available-case
    means and variances (no covariances), stop when no mean or (co)variance changes by more
    than ``tol`` (lavaan's default 1e-5) between two iterations.
    """
    p = x.shape[1]
    mu = np.nanmean(x, axis=0)
    var0 = np.nanvar(x, axis=0)
    var0[~np.isfinite(var0) | (var0 == 0)] = 1.0
    sigma = np.diag(var0)
    n = len(x)
    rows, cols = np.tril_indices(p)
    for _ in range(max_iter):
        prev = np.concatenate([mu, sigma[rows, cols]])
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for pat in patterns:
            o = pat.idx
            m = np.setdiff1d(np.arange(p), o)
            if len(m) == 0:
                t1 += pat.n * pat.mean
                t2 += pat.n * (pat.cov + np.outer(pat.mean, pat.mean))
                continue
            soo_inv = np.linalg.inv(sigma[np.ix_(o, o)])
            b = sigma[np.ix_(m, o)] @ soo_inv
            cmean_m = mu[m] + b @ (pat.mean - mu[o])  # mean of the conditional means
            # E[y y'] summed over the cases of the pattern
            c = sigma[np.ix_(m, m)] - b @ sigma[np.ix_(o, m)]
            ey = np.zeros(p)
            ey[o], ey[m] = pat.mean, cmean_m
            sxx = pat.cov + np.outer(pat.mean, pat.mean)  # E_o[y_o y_o']
            e2 = np.zeros((p, p))
            e2[np.ix_(o, o)] = sxx
            # y_m = mu_m + b (y_o - mu_o): cross and square moments
            a0 = mu[m] - b @ mu[o]
            e2[np.ix_(m, o)] = np.outer(a0, pat.mean) + b @ sxx
            e2[np.ix_(o, m)] = e2[np.ix_(m, o)].T
            e2[np.ix_(m, m)] = (
                np.outer(a0, a0)
                + np.outer(a0, pat.mean @ b.T)
                + np.outer(b @ pat.mean, a0)
                + b @ sxx @ b.T
                + c
            )
            t1 += pat.n * ey
            t2 += pat.n * e2
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
        if np.linalg.eigvalsh(sigma).min() < 1e-6:
            sigma[np.diag_indices(p)] += np.max(np.diag(sigma)) * 1e-8
        if np.max(np.abs(np.concatenate([mu, sigma[rows, cols]]) - prev)) < tol:
            break
    return mu, sigma


def _loglik_patterns(sigma, mu, patterns) -> float:
    total = 0.0
    for pat in patterns:
        o = pat.idx
        s = sigma[np.ix_(o, o)]
        sign, logdet = np.linalg.slogdet(s)
        if sign <= 0:
            return -np.inf
        d = pat.mean - mu[o]
        inv = np.linalg.inv(s)
        total += -0.5 * pat.n * (len(o) * _LOG2PI + logdet + np.sum(inv * pat.cov) + d @ inv @ d)
    return float(total)


# --------------------------------------------------------------------------- baseline model
class _IndependenceModel:
    """Baseline model: uncorrelated observed variables (free variances and means)."""

    def __init__(self, p: int, ngroups: int, meanstructure: bool):
        self.p, self.ngroups, self.meanstructure = p, ngroups, meanstructure
        self.linear = True  # moments are linear in the parameters
        self.per = p * (2 if meanstructure else 1)
        self.npar = self.per * ngroups

    def implied(self, x):
        out = []
        for g in range(self.ngroups):
            v = x[g * self.per : g * self.per + self.p]
            mu = x[g * self.per + self.p : (g + 1) * self.per] if self.meanstructure else None
            out.append((np.diag(v), mu if mu is not None else np.zeros(self.p)))
        return out

    def jacobian_factors(self, x):
        eye = np.eye(self.p)
        idx = np.array([g * self.per + j for g in range(self.ngroups) for j in range(self.p)])
        return [
            (eye, eye, np.full(self.p, 0.5), idx[g * self.p : (g + 1) * self.p])
            for g in range(self.ngroups)
        ]

    def jacobian(self, x):
        out = []
        for g in range(self.ngroups):
            ds = np.zeros((self.npar, self.p, self.p))
            dm = np.zeros((self.npar, self.p))
            for j in range(self.p):
                ds[g * self.per + j, j, j] = 1.0
                if self.meanstructure:
                    dm[g * self.per + self.p + j, j] = 1.0
            out.append((ds, dm))
        return out


# --------------------------------------------------------------------------- core ML machinery
class _MLProblem:
    """ML fit function, gradient and information matrices of a model on grouped data."""

    def __init__(self, model, data: list[_GroupData], meanstructure: bool):
        self.model = model
        self.data = data
        self.meanstructure = meanstructure
        self.ntotal = sum(d.n for d in data)

    def _mu(self, g, mu):
        # without a mean structure the means are saturated: mu = sample mean
        return mu if self.meanstructure else self.data[g].mean

    def objective(self, x, grad: bool = True):
        """f(x) = -loglik(x)/N up to a constant (0.5 * sum_g n_g/N * F_ML,g); and gradient."""
        f = 0.0
        try:
            impl = self.model.implied(x)
        except np.linalg.LinAlgError:
            return (np.inf, None) if grad else np.inf
        jac = self.model.jacobian(x) if grad else None
        gvec = np.zeros(len(x)) if grad else None
        for g, (sigma, mu) in enumerate(impl):
            mu = self._mu(g, mu)
            gfull = np.zeros_like(sigma)
            gmu = np.zeros(len(mu))
            for pat in self.data[g].patterns:
                o = pat.idx
                try:
                    c = np.linalg.cholesky(sigma[pat.ix])
                except np.linalg.LinAlgError:
                    return (np.inf, None) if grad else np.inf
                logdet = 2.0 * np.sum(np.log(np.diag(c)))
                cinv = np.linalg.inv(c)
                inv = cinv.T @ cinv
                d = pat.mean - mu[o]
                m2 = pat.cov + np.outer(d, d)
                f += pat.n * (logdet + np.sum(inv * m2))
                if grad:
                    gfull[pat.ix] += pat.n * (inv - inv @ m2 @ inv)
                    gmu[o] += pat.n * (inv @ d)
            if grad:
                ds, dm = jac[g]
                gvec += np.tensordot(ds, gfull, axes=([1, 2], [0, 1]))
                if self.meanstructure:
                    gvec -= 2.0 * dm @ gmu
        f = 0.5 * f / self.ntotal
        if grad:
            return f, 0.5 * gvec / self.ntotal
        return f

    def loglik(self, x) -> float:
        impl = self.model.implied(x)
        return sum(
            _loglik_patterns(sigma, self._mu(g, mu), self.data[g].patterns)
            for g, (sigma, mu) in enumerate(impl)
        )

    def expected_information(self, x) -> np.ndarray:
        """Sum_g n_g/N * [0.5 tr(S^-1 dS_k S^-1 dS_l) + dmu_k' S^-1 dmu_l] (pattern-wise)."""
        info = np.zeros((len(x), len(x)))
        for g, ((sigma, _mu), (ds, dm)) in enumerate(
            zip(self.model.implied(x), self.model.jacobian(x))
        ):
            for pat in self.data[g].patterns:
                o = pat.idx
                inv = np.linalg.inv(sigma[np.ix_(o, o)])
                dso = ds[:, o][:, :, o]
                m = np.matmul(inv, dso)  # k x po x po
                mf = m.reshape(len(x), -1)
                mt = np.transpose(m, (0, 2, 1)).reshape(len(x), -1)
                blk = 0.5 * (mf @ mt.T)
                if self.meanstructure:
                    dmo = dm[:, o]
                    blk = blk + dmo @ inv @ dmo.T
                info += pat.n * blk
        return info / self.ntotal

    def numerical_observed_information(self, x) -> np.ndarray:
        """Hessian of f(x) by central differences of the analytic gradient."""
        k = len(x)
        h = np.empty((k, k))
        for j in range(k):
            step = 1e-5 * max(1.0, abs(x[j]))
            xp, xm = x.copy(), x.copy()
            xp[j] += step
            xm[j] -= step
            h[:, j] = (self.objective(xp)[1] - self.objective(xm)[1]) / (2 * step)
        return 0.5 * (h + h.T)

    def _pattern_terms(self, x):
        """Per group and pattern: (pattern, A = Sigma_oo^-1, B = A M A, a = A d), and the
        gradient of f with respect to the full Sigma (p x p) and mu of each group."""
        out = []
        for g, (sigma, mu) in enumerate(self.model.implied(x)):
            mu = self._mu(g, mu)
            terms = []
            gfull = np.zeros_like(sigma)
            gmu = np.zeros(len(mu))
            for pat in self.data[g].patterns:
                o = pat.idx
                a_inv = np.linalg.inv(sigma[pat.ix])
                d = pat.mean - mu[o]
                b = a_inv @ (pat.cov + np.outer(d, d)) @ a_inv
                ad = a_inv @ d
                terms.append((pat, a_inv, b, ad))
                gfull[pat.ix] += pat.n * (a_inv - b)
                gmu[o] += pat.n * ad
            out.append((terms, 0.5 * gfull / self.ntotal, -gmu / self.ntotal))
        return out

    def observed_information(self, x) -> np.ndarray:
        """Hessian of f(x) (the observed information per case), analytically.

        ``H = sum_pattern n/(2N) [-tr(A X_k A X_l) + 2 tr(A X_k B X_l) + 2 a' X_k A m_l
        + 2 a' X_l A m_k + 2 m_k' A m_l] + d/dx_l (J_k(x)' G)`` with ``A = Sigma_oo^-1``,
        ``B = A (S + d d') A``, ``a = A d``, ``X_k``/``m_k`` the derivatives of ``Sigma_oo``
        and ``mu_o``, and ``G`` the gradient of ``f`` with respect to the moments (held fixed
        in the last term, whose derivative is taken numerically on the model Jacobian only).
        """
        k = len(x)
        h = np.zeros((k, k))
        pterms = self._pattern_terms(x)
        for (ds, dm), (terms, _gs, _gm) in zip(self.model.jacobian(x), pterms):
            for pat, a_inv, b, ad in terms:
                o = pat.idx
                xo = ds[:, o][:, :, o]
                pa = np.matmul(a_inv, xo)
                qb = np.matmul(b, xo)
                paf = pa.reshape(k, -1)
                pat_t = np.transpose(pa, (0, 2, 1)).reshape(k, -1)
                qbt = np.transpose(qb, (0, 2, 1)).reshape(k, -1)
                blk = -(paf @ pat_t.T) + 2.0 * (paf @ qbt.T)
                if self.meanstructure:
                    mo = dm[:, o]
                    u = xo @ ad  # k x po : X_k a
                    w = mo @ a_inv  # k x po : A m_l
                    cross = u @ w.T
                    blk = blk + 2.0 * (cross + cross.T) + 2.0 * (mo @ a_inv @ mo.T)
                h += pat.n / (2.0 * self.ntotal) * blk

        # second-derivative part: derivative of J(x)' G with the moment gradient G fixed
        gs_all = [gs for _t, gs, _gm in pterms]
        gm_all = [gm for _t, _gs, gm in pterms] if self.meanstructure else None
        dot = getattr(self.model, "jacobian_dot", None)

        def jg(z):
            if dot is not None:  # J(z)' G without building J(z)
                return dot(z, gs_all, gm_all)
            tot = np.zeros(k)
            for (dsz, dmz), (_t, gs, gm) in zip(self.model.jacobian(z), pterms):
                tot += np.tensordot(dsz, gs, axes=([1, 2], [0, 1]))
                if self.meanstructure:
                    tot += dmz @ gm
            return tot

        if not getattr(self.model, "linear", False):
            for j in range(k):
                step = 1e-5 * max(1.0, abs(x[j]))
                xp, xm = x.copy(), x.copy()
                xp[j] += step
                xm[j] -= step
                h[:, j] += (jg(xp) - jg(xm)) / (2 * step)
        return 0.5 * (h + h.T)

    def casewise_scores(self, x, group: int, chunk: int = 50000) -> np.ndarray:
        """Scores d loglik_i / d x of the cases of one group (n_g x npar).

        ``s_ik = 0.5 z_i' dSigma_k z_i - 0.5 tr(Sigma_oo^-1 dSigma_k) + z_i' dmu_k`` with
        ``z_i = Sigma_oo^-1 (y_i,o - mu_o)`` (zero for the missing entries); the quadratic
        forms use the low-rank factors of :meth:`SEMModel.jacobian_factors`.
        """
        sigma, mu = self.model.implied(x)[group]
        mu = self._mu(group, mu)
        ds, dm = self.model.jacobian(x)[group]
        u, v, coef, index = self.model.jacobian_factors(x)[group]
        npar = len(x)
        # q x npar matrix that adds the pieces of each parameter; when every parameter has at
        # most one piece (no equality constraint within the group) a scatter does the same
        unique = len(np.unique(index)) == len(index)
        identity = len(index) == npar and np.array_equal(index, np.arange(npar))
        agg = np.zeros((len(index), npar))
        agg[np.arange(len(index)), index] = coef
        data = self.data[group]
        p = data.x.shape[1]
        q = u.shape[1]
        products = _column_products(np.concatenate([u, v], axis=1))
        out = np.zeros((data.n, npar))
        for pat in data.patterns:
            o = pat.idx
            inv = np.linalg.inv(sigma[np.ix_(o, o)])
            inv_full = np.zeros((p, p))
            inv_full[np.ix_(o, o)] = inv
            const = -0.5 * np.tensordot(ds, inv_full, axes=([1, 2], [0, 1]))  # npar
            for start in range(0, pat.n, chunk):
                rows = pat.rows[start : start + chunk]
                z = np.zeros((len(rows), p))
                z[:, o] = (data.x[np.ix_(rows, o)] - mu[o]) @ inv
                zuv = products(z)  # [z @ u, z @ v]
                if identity:
                    sc = zuv[:, :q] * zuv[:, q:] * coef
                    sc += const
                elif unique:
                    sc = np.zeros((len(rows), npar))
                    sc[:, index] = zuv[:, :q] * zuv[:, q:] * coef
                    sc += const
                else:
                    sc = (zuv[:, :q] * zuv[:, q:]) @ agg + const
                if self.meanstructure:
                    sc += z @ dm.T
                out[rows] = sc
        return out


def _score_cross(problem: _MLProblem, x, group: int) -> np.ndarray:
    """``s' s`` for the casewise scores ``s`` of one group.

    The scores of the parameters that do not enter the group's moments (those of the other
    groups) are zero: the product is taken over the other columns only.
    """
    s = problem.casewise_scores(x, group)
    used = np.flatnonzero(np.any(s != 0, axis=0))
    if len(used) == s.shape[1]:
        return s.T @ s
    sub = s[:, used]
    out = np.zeros((s.shape[1], s.shape[1]))
    out[np.ix_(used, used)] = sub.T @ sub
    return out


def _column_products(cols: np.ndarray):
    """A function ``z -> z @ cols`` that computes each distinct column once.

    The low-rank factors of the Jacobian repeat columns (a column of ``Lambda Psi`` for every
    loading of a factor) and hold unit vectors (residual variances, loadings): those are
    copied from ``z``, the other distinct columns come from one matrix product.
    """
    uniq, inv = np.unique(cols, axis=1, return_inverse=True)
    inv = np.asarray(inv).ravel()
    unit = ((uniq != 0).sum(axis=0) == 1) & (uniq.max(axis=0) == 1.0)
    pos = np.argmax(uniq[:, unit] != 0, axis=0)
    other = uniq[:, ~unit]

    def products(z):
        res = np.empty((len(z), uniq.shape[1]))
        res[:, unit] = z[:, pos]
        if other.shape[1]:
            res[:, ~unit] = z @ other
        return res[:, inv]

    return products


def _minimize(problem: _MLProblem, x0: np.ndarray, max_iter: int = 500, tol: float = 1e-10):
    """Minimise the ML fit function; returns ``(x, converged, iterations)``.

    Fisher scoring (expected information) with backtracking until the gradient is small,
    then Newton steps with the observed information (numerical Hessian of the analytic
    gradient, recomputed when progress stalls); L-BFGS as a fallback.
    """
    x = x0.copy()
    f, g = problem.objective(x)
    if not np.isfinite(f):
        # inadmissible start (Sigma not positive definite): a derivative-free search first
        res = optimize.minimize(
            lambda z: problem.objective(z, grad=False),
            x,
            method="Nelder-Mead",
            options={"maxiter": 2000},
        )
        x = res.x
        f, g = problem.objective(x)
    converged = False
    it = 0
    hess = None
    while it < max_iter:
        it += 1
        gmax = np.max(np.abs(g))
        if gmax > 1e-4 or hess is None and gmax > 1e-3:
            metric = problem.expected_information(x)
        else:
            if hess is None:
                hess = problem.observed_information(x)
            metric = hess
        try:
            step = np.linalg.solve(metric + 1e-12 * np.eye(len(x)), g)
            if g @ step <= 0:  # not a descent direction (Hessian not PD): use scoring
                step = np.linalg.solve(problem.expected_information(x), g)
        except np.linalg.LinAlgError:
            step = g
        t = 1.0
        while True:
            xn = x - t * step
            fn, gn = problem.objective(xn)
            if np.isfinite(fn) and fn <= f + 1e-4 * t * (g @ -step) + 1e-15:
                break
            t *= 0.5
            if t < 1e-10:
                break
        if t < 1e-10:
            break
        if hess is not None and np.max(np.abs(gn)) > 0.1 * gmax:
            hess = None  # slow progress: refresh the Hessian
        x, fprev, f, g = xn, f, fn, gn
        if np.max(np.abs(g)) < tol or (abs(fprev - f) < 1e-16 and np.max(np.abs(g)) < 1e-7):
            converged = True
            break
    if not converged:
        res = optimize.minimize(
            problem.objective,
            x,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 20000, "ftol": 1e-16, "gtol": 1e-11},
        )
        if np.isfinite(res.fun) and res.fun <= f:
            x, f = res.x, res.fun
            g = problem.objective(x)[1]
        converged = bool(np.max(np.abs(g)) < 1e-6)
        it += int(res.nit)
    return x, converged, it


# --------------------------------------------------------------------------- fit helpers
def _rmsea(x2, df, n, g=1, c_hat=1.0):
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(x2 / n / df - c_hat / n, 0.0)) * np.sqrt(g))


def _rmsea_ci(x2, df, n, g=1, c_hat=1.0, level=0.90):
    if not (np.isfinite(x2) and np.isfinite(df) and np.isfinite(c_hat)):
        return np.nan, np.nan
    try:
        return _rmsea_ci_finite(x2, df, n, g, c_hat, level)
    except ValueError:  # root not bracketed (numerically extreme statistics)
        return np.nan, np.nan


def _rmsea_ci_finite(x2, df, n, g, c_hat, level):
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def lo(lam):
        return (
            stats.ncx2.cdf(x2, df, lam) - upper_p if lam > 0 else stats.chi2.cdf(x2, df) - upper_p
        )

    def up(lam):
        return (
            stats.ncx2.cdf(x2, df, lam) - lower_p if lam > 0 else stats.chi2.cdf(x2, df) - lower_p
        )

    if df < 1 or lo(0) < 0:
        lower = 0.0
    else:
        lam = optimize.brentq(lo, 0, x2, xtol=1e-12)
        lower = np.sqrt(c_hat * lam / (n * df)) * np.sqrt(g)
    n_r = max(n, x2 * 4)
    if df < 1 or up(n_r) > 0 or up(0) < 0:
        upper = 0.0
    else:
        lam = optimize.brentq(up, 0, n_r, xtol=1e-12)
        upper = np.sqrt(c_hat * lam / (n * df)) * np.sqrt(g)
    return float(lower), float(upper)


def _rmsea_pvalue(x2, df, n, g=1, c_hat=1.0, h0=0.05):
    if df <= 0:
        return np.nan
    ncp = n * df / c_hat * h0**2 / g
    return float(stats.ncx2.sf(x2, df, ncp))


def _cfi(x2, df, x2b, dfb, c=1.0, cb=1.0):
    t1 = max(x2 - c * df, 0.0)
    t2 = max(x2 - c * df, x2b - cb * dfb, 0.0)
    if np.isclose(t1, 0) and np.isclose(t2, 0):
        return 1.0
    return float(1 - t1 / t2)


def _tli(x2, df, x2b, dfb, c=1.0, cb=1.0):
    t1 = (x2 - c * df) * dfb
    t2 = (x2b - cb * dfb) * df
    if df > 0 and abs(t2) > 0:
        return float(1 - t1 / t2)
    return 1.0


def _cov2cor(s):
    d = np.sqrt(np.diag(s))
    return s / np.outer(d, d)


# --------------------------------------------------------------------------- results
@dataclass
class CFAResults:
    """Results of :func:`cfa`.

    Attributes
    ----------
    model : str
        The model syntax.
    estimator, missing : str
        Options used (``"ML"``/``"MLR"``, ``"listwise"``/``"fiml"``).
    fit : pandas.Series
        Fit measures with lavaan's ``fitMeasures`` names, dots replaced by underscores (see
        :data:`FIT_MEASURES`; for MLR also :data:`SCALED_FIT_MEASURES`: the ``_scaled`` and
        ``_robust`` variants and ``scaling_factor``; with FIML the ``_robust`` ones also
        for ML).
    params : pandas.DataFrame
        Parameter table: ``lhs, op, rhs, group, group_label, label, free, estimate, se,
        statistic, p_value, ci_low, ci_high, std_all`` (fixed parameters have ``se`` 0 and
        ``ci_low == ci_high == estimate`` as in lavaan's ``parameterEstimates``).
    std_solution : pandas.DataFrame
        Completely standardised solution (lavaan ``standardizedSolution(type = "std.all")``):
        ``lhs, op, rhs, group, estimate, se, statistic, p_value, ci_low, ci_high``.
        Loadings and regressions are scaled by the implied standard deviations, variances
        by the implied variances, and covariances by the square roots of their own variance
        parameters (residual correlations, lavaan's ``cov.std = TRUE``).
    std_loadings : pandas.DataFrame
        The ``=~`` rows of ``std_solution``.
    composite_reliability, ave : pandas.DataFrame
        Per factor (rows) and group (columns): composite reliability
        ``(sum l)^2 / ((sum l)^2 + sum theta)`` and average variance extracted ``mean(l^2)``
        from the standardised loadings ``l`` and residual variances ``theta``.
    htmt : pandas.DataFrame
        Heterotrait-monotrait ratios between factors, from the whole data (pooled over
        groups), see :func:`htmt`.
    vcov : numpy.ndarray
        Covariance matrix of the free parameters.
    converged : bool
        Whether the optimiser converged.
    iterations : int
        Number of iterations.
    warnings : list of str
        Problems found (non-convergence, Heywood cases, non-positive-definite matrices);
        each was also emitted as an :class:`~analysis.errors.EstimationWarning`.
    nobs : list of int
        Number of cases used per group.
    group_labels : list
        Labels of the groups.
    sem_model : analysis.sem._model.SEMModel
        The model (parameter table, matrices); ``sem_model.matrices(x)`` gives the
        estimated Lambda, Theta, Psi, ... per group.
    x : numpy.ndarray
        Estimates of the free parameters (order of ``sem_model.partable["free"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis import config
    >>> from analysis.sem._cfa import cfa
    >>> hs = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
    >>> res = cfa("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6", hs)
    >>> # R: lavaan::standardizedSolution(fit)
    >>> list(res.std_loadings["rhs"][:3]), bool((res.std_loadings["estimate"] > 0).all())
    (['x1', 'x2', 'x3'], True)
    """

    model: str
    estimator: str
    missing: str
    fit: pd.Series
    params: pd.DataFrame
    std_solution: pd.DataFrame
    composite_reliability: pd.DataFrame
    ave: pd.DataFrame
    htmt: pd.DataFrame
    vcov: np.ndarray
    converged: bool
    iterations: int
    nobs: list
    group_labels: list
    warnings: list = field(default_factory=list)
    sem_model: SEMModel | None = field(default=None, repr=False)
    x: np.ndarray | None = field(default=None, repr=False)
    _trace_h1: list | None = field(default=None, repr=False)

    @property
    def std_loadings(self) -> pd.DataFrame:
        """Standardised loadings (std.all) with delta-method SEs."""
        return self.std_solution[self.std_solution["op"] == "=~"].reset_index(drop=True)

    def implied(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Model-implied covariance matrix and mean vector per group."""
        return self.sem_model.implied(self.x)

    def to_frame(self) -> pd.DataFrame:
        """The parameter table (same as :attr:`params`)."""
        return self.params.copy()

    def summary_frame(self) -> pd.DataFrame:
        """Fit measures as a one-column tidy table (``measure``, ``estimate``)."""
        return self.fit.rename("estimate").rename_axis("measure").reset_index()

    def _repr_html_(self) -> str:
        f = self.fit
        head = (
            f"<p><b>CFA ({self.estimator}, missing={self.missing})</b>: "
            f"N = {int(f['ntotal'])}, chisq = {f['chisq']:.3f}, df = {int(f['df'])}, "
            f"CFI = {f['cfi']:.3f}, RMSEA = {f['rmsea']:.3f}, SRMR = {f['srmr']:.3f}"
            f"{'' if self.converged else ' (NOT converged)'}</p>"
        )
        return head + self.params.to_html(index=False, float_format=lambda v: f"{v:.3f}")


# --------------------------------------------------------------------------- main entry
def _prepare(data, ov, group, missing):
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a pandas DataFrame", value=type(data).__name__)
    cols = list(ov) + ([group] if group is not None else [])
    for c in cols:
        if c not in data.columns:
            raise InputError("column not found in the data", column=c, expected="a column name")
    x = data[list(ov)]
    try:
        x = x.apply(pd.to_numeric, errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise InputError(f"indicators must be numeric ({exc})", expected="numbers") from exc
    if group is not None:
        gcol = data[group]
        keep_g = gcol.notna().to_numpy()
        labels = list(pd.unique(gcol[keep_g]))
    else:
        keep_g = np.ones(len(data), dtype=bool)
        labels = [1]
    arr = x.to_numpy(dtype=float)
    if missing == "listwise":
        keep = keep_g & ~np.isnan(arr).any(axis=1)
    else:
        keep = keep_g & ~np.isnan(arr).all(axis=1)
    out = []
    for lab in labels:
        rows = keep & ((data[group] == lab).to_numpy() if group is not None else True)
        xg = arr[rows]
        if len(xg) < 2:
            raise InputError("a group has fewer than 2 usable cases", column=group, value=lab)
        pats = _patterns(xg)
        complete = len(pats) == 1 and len(pats[0].idx) == xg.shape[1]
        if complete:
            mean, cov = pats[0].mean, pats[0].cov
        else:
            mean, cov = _em_h1(xg, pats)
        out.append(_GroupData(xg, len(xg), pats, complete, mean, cov))
    return out, labels




def _ml_one_blas_thread(func):
    """Decorator of :func:`cfa`: the ML/MLR fits on one BLAS thread (WLSMV unchanged)."""

    @functools.wraps(func)
    def wrapper(model, data, *args, **kwargs):
        est = str(kwargs.get("estimator", "ML")).upper()
        if est in ("WLSMV", "DWLS") or kwargs.get("ordered") not in (None, False):
            return func(model, data, *args, **kwargs)
        with _one_blas_thread():
            return func(model, data, *args, **kwargs)

    return wrapper


@_ml_one_blas_thread
def cfa(
    model: str,
    data: pd.DataFrame,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    group: str | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    std_lv: bool = False,
    meanstructure: bool | None = None,
    level: float = 0.95,
    ordered: Sequence[str] | bool | None = None,
    _shared: dict | None = None,
) -> CFAResults:
    """Confirmatory factor analysis (lavaan ``cfa()``).

    Parameters
    ----------
    model : str
        Model in lavaan syntax, e.g. ``"visual =~ x1 + x2 + x3"``.
    data : pandas.DataFrame
        One row per respondent; the indicators must be numeric.
    estimator : {"ML", "MLR", "WLSMV"}
        ``"ML"``: normal-theory ML, SEs from the expected information (observed with FIML).
        ``"MLR"``: same estimates, Huber-White sandwich SEs (observed information) and the
        Yuan-Bentler scaled chi-square (Mplus variant), with scaled and robust fit indices.
        ``"WLSMV"`` (or any ``ordered``): DWLS on polychoric correlations and thresholds with
        robust SEs and the scaled-and-shifted test, as lavaan with ``ordered = TRUE``
        (:func:`analysis.sem._wlsmv.fit_wlsmv`, which returns a ``WLSMVResult`` with the same
        core attributes).
    missing : {"listwise", "fiml"}
        ``"listwise"`` (lavaan's default) drops incomplete rows; ``"fiml"`` uses every
        observed value (casewise ML, lavaan ``missing = "ml"``).
    group : str, optional
        Column defining groups (multiple-group CFA); groups in order of appearance.
    group_equal : sequence of str
        Parameters held equal across groups, e.g. ``("loadings",)`` (metric) or
        ``("loadings", "intercepts")`` (scalar); see
        :data:`analysis.sem._model.GROUP_EQUAL_CHOICES`.
    group_partial : sequence of str
        Parameters released from ``group_equal`` (e.g. ``["visual =~ x2"]``).
    std_lv : bool
        Fix factor variances to 1 instead of the first loadings.
    meanstructure : bool, optional
        Estimate intercepts; default as lavaan (yes with groups or FIML).
    level : float
        Confidence level of the intervals.
    ordered : sequence of str or bool, optional
        Ordered-categorical indicators (``True``: all of them); implies ``"WLSMV"``.
    _shared : dict, optional
        Private: a dict kept across several fits of models of the *same* data object (as
        :func:`analysis.sem._invariance.measurement_invariance` does), holding what does not
        depend on the model (prepared data and sample moments, baseline model, HTMT).

    Returns
    -------
    CFAResults
        With ``fit``, ``params``, ``std_loadings``, ``composite_reliability``, ``ave``,
        ``htmt``, ``warnings``, ``converged``.

    Raises
    ------
    InputError
        For a syntax error, unknown columns, non-numeric indicators or unknown options.

    Notes
    -----
    ML minimises ``F = sum_g n_g/N [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p +
    (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]`` (``S`` with divisor ``n``); the test
    statistic is ``chisq = N F_min``; with FIML ``chisq = 2 (logl_h1 - logl_h0)`` where the
    saturated ``h1`` is fitted by EM. Standard errors: ``Var = I^-1 / N`` with ``I`` the
    expected (ML, complete data) or observed information (analytic Hessian of the fit
    function, as lavaan's ``information = "observed"`` for MLR and FIML); MLR uses
    ``Var = H^-1 B H^-1 / N`` with ``B`` the mean outer product of the casewise scores.
    The MLR scaling factor is ``c = [tr(B1 A1^-1) - sum_g n_g/N tr(B0_g H^-1)] / df``
    (Yuan-Bentler, Mplus variant; ``A1``, ``B1`` the expected and first-order information
    of the saturated model). CFI/TLI/RMSEA follow lavaan's ``fitMeasures``: RMSEA
    ``sqrt(max(chisq/(N df) - 1/N, 0)) sqrt(G)``; robust versions as Brosseau-Liard &
    Savalei (2014) with ``chisq - c df``; with FIML the robust CFI/TLI/RMSEA use the
    FIML-corrected statistic of Zhang & Savalei (as lavaan, also for ``estimator="ML"``),
    and the EM algorithm for the saturated model stops as lavaan's (changes below 1e-5).

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2), 1-36.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis import config
    >>> from analysis.sem._cfa import cfa
    >>> hs = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
    >>> model = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
    >>> res = cfa(model, hs)  # R: lavaan::cfa(model, data = HolzingerSwineford1939)
    >>> round(float(res.fit["chisq"]), 3), int(res.fit["df"])
    (85.306, 24)
    """
    est = str(estimator).upper()
    if est in ("WLSMV", "DWLS") or ordered not in (None, False):
        from analysis.sem._wlsmv import fit_wlsmv

        return fit_wlsmv(model, data, ordered=True if ordered in (None, True) else ordered,
                         group=group, group_equal=group_equal, group_partial=group_partial,
                         std_lv=std_lv, missing=missing, level=level)
    if est not in ("ML", "MLR"):
        raise InputError("unknown estimator", value=estimator, expected='"ML", "MLR" or "WLSMV"')
    miss = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml"}.get(str(missing).lower())
    if miss is None:
        raise InputError("unknown missing option", value=missing, expected='"listwise" or "fiml"')
    if not 0 < level < 1:
        raise InputError("level must be in (0, 1)", value=level)

    stmts_pt = build_partable(
        model,
        ngroups=1,
        std_lv=std_lv,
        observed=list(data.columns) if isinstance(data, pd.DataFrame) else None,
    )
    ov = stmts_pt.attrs["ov_names"]
    if _shared is not None and _shared.get("data") is not data:
        _shared.clear()
        _shared["data"] = data
    shared = (
        _shared.setdefault(("fit", tuple(ov), group, miss), {}) if _shared is not None else {}
    )
    if "prepared" not in shared:
        shared["prepared"] = _prepare(data, ov, group, miss)
    gdata, labels = shared["prepared"]
    ngroups = len(labels)
    ms = (ngroups > 1 or miss == "fiml") if meanstructure is None else bool(meanstructure)
    if miss == "fiml" and not ms:
        raise InputError("FIML needs a mean structure", value=meanstructure, expected="True")
    pt = build_partable(
        model,
        ngroups=ngroups,
        std_lv=std_lv,
        meanstructure=ms,
        group_equal=group_equal,
        group_partial=group_partial,
    )
    ms = bool(pt.attrs["meanstructure"])
    pt = start_values(pt, [d.cov for d in gdata], [d.mean for d in gdata])
    sem = SEMModel(pt, group_labels=labels)
    problem = _MLProblem(sem, gdata, ms)
    warn_list: list[str] = []

    def _warn(msg):
        warn_list.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=3)

    for d, lab in zip(gdata, labels):
        ev = np.linalg.eigvalsh(d.cov)
        if ev.min() <= 1e-10 * max(ev.max(), 1e-300):
            gl = f" (group {lab})" if ngroups > 1 else ""
            _warn(
                f"the sample covariance matrix is not positive definite{gl}: some indicators "
                "are constant or linearly dependent; the chi-square is not defined"
            )

    x0 = sem.x_start()
    xhat, converged, nit = _minimize(problem, x0)
    if not converged:
        _warn("the optimiser did not converge; estimates are not trustworthy")

    ntotal = problem.ntotal
    # ---- information and vcov
    if miss == "listwise" and est == "ML":
        info = problem.expected_information(xhat)
    else:
        info = problem.observed_information(xhat)
    vcov = None
    try:
        ev = np.linalg.eigvalsh(info)
        if ev.min() <= 1e-10 * max(ev.max(), 1.0):
            _warn(
                "the information matrix is not positive definite: the model may not be "
                "identified; standard errors are not trustworthy"
            )
        info_inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        info_inv = np.full_like(info, np.nan)
    cross = None
    if est == "MLR":
        # per group: sum of the outer products of the casewise scores (used twice)
        cross = [_score_cross(problem, xhat, g) for g in range(ngroups)]
        b = sum(cross) / ntotal
        vcov = info_inv @ b @ info_inv / ntotal
    else:
        vcov = info_inv / ntotal

    # ---- checks: Heywood cases, non-PD matrices
    for g, mats in enumerate(sem.matrices(xhat)):
        gl = f" (group {labels[g]})" if ngroups > 1 else ""
        th = np.diag(mats["theta"])
        for v, val in zip(sem.ov_names, th):
            if val < 0:
                _warn(f"Heywood case: negative residual variance of {v} ({val:.4g}){gl}")
        ps = np.diag(mats["psi"])
        for f, val in zip(sem.lv_names, ps):
            if val < 0:
                _warn(f"Heywood case: negative variance of factor {f} ({val:.4g}){gl}")
        if len(ps) and (ps >= 0).all() and np.linalg.eigvalsh(mats["psi"]).min() < -1e-10:
            _warn(f"the covariance matrix of the factors is not positive definite{gl}")
        if (th >= 0).all() and np.linalg.eigvalsh(mats["theta"]).min() < -1e-10:
            _warn(f"the residual covariance matrix is not positive definite{gl}")

    # ---- fit measures
    fit = _fit_measures(problem, sem, xhat, gdata, ms, est, miss, info_inv, cross, labels,
                        shared=shared.setdefault(("measures", est), {}))
    if fit["df"] < 0:
        _warn(
            f"the model has more free parameters ({int(fit['npar'])}) than sample moments "
            f"(df = {int(fit['df'])}): it is not identified"
        )

    # ---- parameter table
    est_all = sem.x_to_table(xhat)
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    fr = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    se[fr > 0] = se_free[fr[fr > 0] - 1]
    zq = stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(fr > 0, est_all / se, np.nan)
    params = pd.DataFrame(
        {
            "lhs": pt["lhs"].to_numpy(),
            "op": pt["op"].to_numpy(),
            "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(),
            "group_label": [labels[g - 1] for g in pt["group"]],
            "label": pt["label"].to_numpy(),
            "free": fr > 0,
            "estimate": est_all,
            "se": se,
            "statistic": z,
            "p_value": np.where(fr > 0, 2 * stats.norm.sf(np.abs(z)), np.nan),
            "ci_low": est_all - zq * se,
            "ci_high": est_all + zq * se,
        }
    )
    std = _standardized(sem, xhat, vcov, pt, level)
    params["std_all"] = std["estimate"].to_numpy()
    cr, ave = _reliability(std, sem, labels)
    if ("htmt", model) not in shared:
        shared[("htmt", model)] = htmt(model, data)
    ht = shared[("htmt", model)].copy()
    return CFAResults(
        model=model,
        estimator=est,
        missing=miss,
        fit=fit,
        params=params,
        std_solution=std,
        composite_reliability=cr,
        ave=ave,
        htmt=ht,
        vcov=vcov,
        converged=converged,
        iterations=nit,
        nobs=[d.n for d in gdata],
        group_labels=labels,
        warnings=warn_list,
        sem_model=sem,
        x=xhat,
    )


# --------------------------------------------------------------------------- fit measures
class _SaturatedModel:
    """Unrestricted model of one group: free ``vech(Sigma)`` (column-wise lower) and ``mu``."""

    def __init__(self, p: int):
        self.p, self.ngroups, self.meanstructure = p, 1, True
        self.linear = True
        self.rows, self.cols = np.tril_indices(p)
        self.nvech = len(self.rows)
        self.npar = self.nvech + p

    def pack(self, sigma, mu):
        return np.concatenate([sigma[self.rows, self.cols], mu])

    def implied(self, x):
        s = np.zeros((self.p, self.p))
        s[self.rows, self.cols] = x[: self.nvech]
        s[self.cols, self.rows] = x[: self.nvech]
        return [(s, x[self.nvech :])]

    def jacobian(self, x):
        ds = np.zeros((self.npar, self.p, self.p))
        k = np.arange(self.nvech)
        ds[k, self.rows, self.cols] = 1.0
        ds[k, self.cols, self.rows] = 1.0
        dm = np.zeros((self.npar, self.p))
        dm[self.nvech + np.arange(self.p), np.arange(self.p)] = 1.0
        return [(ds, dm)]

    def jacobian_factors(self, x):
        eye = np.eye(self.p)
        coef = np.where(self.rows == self.cols, 0.5, 1.0)
        return [(eye[:, self.rows], eye[:, self.cols], coef, np.arange(self.nvech))]


def _yb_trace_h1(gdata: list[_GroupData], ms: bool) -> list[float]:
    """tr(B1 A1^-1) per group at the saturated model (Yuan-Bentler, Mplus variant).

    ``A1`` is the observed information and ``B1`` the first-order information (mean outer
    product of the casewise scores) of the unrestricted model at the sample (or EM) moments.
    For complete data it is a Mardia-type kurtosis: with
    ``m_i = (y_i - ybar)' S^-1 (y_i - ybar)`` the covariance part is
    ``mean(0.5 (m_i^2 - 2 m_i + p))``, plus ``mean(m_i)`` for the means; with missing data
    both matrices are computed over the missing-data patterns.
    """
    out = []
    for d in gdata:
        p = d.x.shape[1]
        if d.complete:
            e = d.x - d.mean
            m = np.einsum("ij,ij->i", e @ np.linalg.inv(d.cov), e)
            t = np.mean(0.5 * (m**2 - 2 * m + p))
            if ms:
                t += np.mean(m)
            out.append(float(t))
            continue
        a1, b1 = _h1_information(d)
        out.append(float(np.sum(b1 * np.linalg.inv(a1).T)))
    return out


def _h1_information(d: _GroupData) -> tuple[np.ndarray, np.ndarray]:
    """Observed and first-order information of the saturated model over the missing-data
    patterns, at the EM moments, per case; parameters ``(vech(Sigma), mu)``."""
    if d.h1_info is None:
        sat = _SaturatedModel(d.x.shape[1])
        prob = _MLProblem(sat, [d], True)
        xh = sat.pack(d.cov, d.mean)
        a1 = prob.observed_information(xh)
        sc = prob.casewise_scores(xh, 0)
        d.h1_info = (a1, sc.T @ sc / d.n)
    return d.h1_info


def _pseudo_complete(d: _GroupData) -> _GroupData:
    """Complete-data stand-in whose sample moments are the EM (h1) moments of ``d``."""
    p = d.x.shape[1]
    pat = _Pattern(np.arange(p), d.n, d.mean, d.cov, np.zeros(0, dtype=int))
    return _GroupData(np.zeros((0, p)), d.n, [pat], True, d.mean, d.cov)


def _fiml_corrected(problem, xhat, bprob, xb, df, df_b, scaled: bool):
    """FIML-corrected statistics for robust CFI/TLI/RMSEA with missing data.

    As lavaan 0.6's ``lav_fit_fiml_corrected`` (Zhang & Savalei): ``T3`` is the
    complete-data ML statistic of the FIML estimates against the EM (h1) moments, scaled by
    ``c3 = k / df`` where, with block-diagonal (over groups, weights ``f_g = n_g/N``)
    ``Wm`` (observed information of the saturated FIML model), ``Wc`` (complete-data
    information at the EM moments), ``Jm`` (first-order information of the saturated FIML
    model), ``D`` the model Jacobian, ``E = D' Wm D`` and
    ``U = Wm - Wm D E^-1 D' Wm``: ``k = tr(Wc Wm^-1 U Wm^-1)`` for ML and
    ``k = tr(U Wm^-1 Wc Wm^-1 U Gamma)``, ``Gamma = Wm^-1 Jm Wm^-1``, for MLR.
    Returns ``(T3, c3, T3_null, c3_null)`` (the last two for the independence model).
    """
    from scipy.linalg import block_diag

    gdata = problem.data
    ntotal = problem.ntotal
    fgs = [d.n / ntotal for d in gdata]
    pseudo = [_pseudo_complete(d) for d in gdata]
    wc_l, wm_l, wmi_l, gam_l = [], [], [], []
    for d, ps, fg in zip(gdata, pseudo, fgs):
        sat = _SaturatedModel(d.x.shape[1])
        xh = sat.pack(d.cov, d.mean)
        wc = _MLProblem(sat, [ps], True).observed_information(xh)
        wm, jm = _h1_information(d)
        wmi = np.linalg.inv(wm)
        wc_l.append(fg * wc)
        wm_l.append(fg * wm)
        wmi_l.append(wmi / fg)
        gam_l.append(wmi @ jm @ wmi / fg)
    wc_all, wm_all, wmi_all = block_diag(*wc_l), block_diag(*wm_l), block_diag(*wmi_l)
    gam_all = block_diag(*gam_l)

    def piece(prob, x, dof):
        t3 = 0.0
        deltas = []
        for g, ((ds, dm), (sigma, mu)) in enumerate(
            zip(prob.model.jacobian(x), prob.model.implied(x))
        ):
            d = gdata[g]
            rows, cols = np.tril_indices(d.x.shape[1])
            deltas.append(np.vstack([ds[:, rows, cols].T, dm.T]))  # nmom x k
            ll_h1 = _loglik_patterns(d.cov, d.mean, pseudo[g].patterns)
            ll_h0 = _loglik_patterns(sigma, mu, pseudo[g].patterns)
            t3 += 2.0 * (ll_h1 - ll_h0)
        delta = np.vstack(deltas)
        e = delta.T @ wm_all @ delta
        u = wm_all - wm_all @ delta @ np.linalg.solve(e, delta.T @ wm_all)
        if scaled:
            k = np.trace(u @ wmi_all @ wc_all @ wmi_all @ u @ gam_all)
        else:
            k = np.trace(wc_all @ wmi_all @ u @ wmi_all)
        return t3, k / dof

    t3, c3 = piece(problem, xhat, df)
    t3b, c3b = piece(bprob, xb, df_b)
    return t3, c3, t3b, c3b


def _yb_scaling(problem, x, df, trace_h1, cross=None, info_inv=None):
    if df <= 0:
        return np.nan
    ntotal = problem.ntotal
    if info_inv is None:
        info_inv = np.linalg.inv(problem.observed_information(x))
    if cross is None:  # per group: sum of the outer products of the casewise scores
        cross = [_score_cross(problem, x, g) for g in range(len(problem.data))]
    tr_h0 = 0.0
    for g, ss in enumerate(cross):
        fg = problem.data[g].n / ntotal
        b0 = ss / problem.data[g].n
        tr_h0 += fg * np.sum(b0 * info_inv)
    return float((sum(trace_h1) - tr_h0) / df)


def _srmr(gdata, implied, ms, ntotal):
    vals = []
    for d, (sigma, mu) in zip(gdata, implied):
        s = d.cov
        sd = np.sqrt(np.diag(s))
        r = s / np.outer(sd, sd) - sigma / np.outer(sd, sd)
        iu = np.triu_indices(len(s))
        ss = np.sum(r[iu] ** 2)
        e = len(iu[0])
        if ms:
            ss += np.sum(((d.mean - mu) / sd) ** 2)
            e += len(s)
        vals.append(np.sqrt(ss / e) * d.n / ntotal)
    return float(sum(vals))


def _fit_measures(problem, sem, xhat, gdata, ms, est, miss, info_inv, cross, labels, shared=None):
    shared = {} if shared is None else shared  # model-free quantities of these data
    ntotal = problem.ntotal
    ngroups = len(gdata)
    p = len(sem.ov_names)
    npar = sem.npar
    logl = problem.loglik(xhat)
    if ("logl_h1",) not in shared:
        shared[("logl_h1",)] = sum(_loglik_patterns(d.cov, d.mean, d.patterns) for d in gdata)
    logl_h1 = shared[("logl_h1",)]
    chisq = max(2 * (logl_h1 - logl), 0.0)
    ndat = ngroups * (p * (p + 1) // 2 + (p if ms else 0))
    df = ndat - npar
    # baseline
    base = _IndependenceModel(p, ngroups, ms)
    xb0 = np.concatenate(
        [np.concatenate([np.diag(d.cov), d.mean]) if ms else np.diag(d.cov) for d in gdata]
    )
    if miss == "fiml":
        xb0 = np.concatenate(
            [np.concatenate([np.nanvar(d.x, axis=0), np.nanmean(d.x, axis=0)]) for d in gdata]
        )
    bprob = _MLProblem(base, gdata, ms)
    if ("baseline", ms) not in shared:
        xb = xb0
        if miss == "fiml":
            xb, _, _ = _minimize(bprob, xb0)
        shared[("baseline", ms)] = (xb, bprob.loglik(xb))
    xb, logl_b = shared[("baseline", ms)]
    chisq_b = 2 * (logl_h1 - logl_b)
    df_b = ndat - base.npar
    fit = {
        "npar": npar,
        "fmin": chisq / (2 * ntotal),
        "chisq": chisq,
        "df": df,
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "baseline_chisq": chisq_b,
        "baseline_df": df_b,
        "baseline_pvalue": float(stats.chi2.sf(chisq_b, df_b)),
        "cfi": _cfi(chisq, df, chisq_b, df_b),
        "tli": _tli(chisq, df, chisq_b, df_b),
        "rmsea": _rmsea(chisq, df, ntotal, ngroups),
    }
    fit["rmsea_ci_lower"], fit["rmsea_ci_upper"] = _rmsea_ci(chisq, df, ntotal, ngroups)
    fit["rmsea_pvalue"] = _rmsea_pvalue(chisq, df, ntotal, ngroups)
    fit["srmr"] = _srmr(
        gdata, [(s, problem._mu(g, m)) for g, (s, m) in enumerate(sem.implied(xhat))], ms, ntotal
    )
    fit["aic"] = -2 * logl + 2 * npar
    fit["bic"] = -2 * logl + npar * np.log(ntotal)
    fit["bic2"] = -2 * logl + npar * np.log((ntotal + 2) / 24)
    fit["logl"] = logl
    fit["unrestricted_logl"] = logl_h1
    fit["ntotal"] = ntotal
    if est == "MLR":
        if ("trace_h1", ms) not in shared:
            shared[("trace_h1", ms)] = _yb_trace_h1(gdata, ms)
        th1 = shared[("trace_h1", ms)]
        c = _yb_scaling(problem, xhat, df, th1, cross, info_inv)
        if ("baseline_scaling", ms) not in shared:
            shared[("baseline_scaling", ms)] = _yb_scaling(bprob, xb, df_b, th1)
        cb = shared[("baseline_scaling", ms)]
        chisq_s = chisq / c
        chisq_bs = chisq_b / cb
        fit.update(
            chisq_scaled=chisq_s,
            df_scaled=df,
            pvalue_scaled=float(stats.chi2.sf(chisq_s, df)),
            chisq_scaling_factor=c,
            scaling_factor=c,
            baseline_chisq_scaled=chisq_bs,
            baseline_df_scaled=df_b,
            baseline_pvalue_scaled=float(stats.chi2.sf(chisq_bs, df_b)),
            baseline_chisq_scaling_factor=cb,
            cfi_scaled=_cfi(chisq_s, df, chisq_bs, df_b),
            tli_scaled=_tli(chisq_s, df, chisq_bs, df_b),
            cfi_robust=_cfi(chisq, df, chisq_b, df_b, c, cb),
            tli_robust=_tli(chisq, df, chisq_b, df_b, c, cb),
            rmsea_scaled=_rmsea(chisq_s, df, ntotal, ngroups),
        )
        fit["rmsea_ci_lower_scaled"], fit["rmsea_ci_upper_scaled"] = _rmsea_ci(
            chisq, c * df, ntotal, ngroups
        )
        fit["rmsea_pvalue_scaled"] = _rmsea_pvalue(chisq, c * df, ntotal, ngroups)
        fit["rmsea_robust"] = _rmsea(chisq, df, ntotal, ngroups, c_hat=c)
        fit["rmsea_ci_lower_robust"], fit["rmsea_ci_upper_robust"] = _rmsea_ci(
            chisq_s, df, ntotal, ngroups, c_hat=c
        )
        fit["rmsea_pvalue_robust"] = _rmsea_pvalue(chisq_s, df, ntotal, ngroups, c_hat=c)
    if miss == "fiml" and df > 0:
        # robust CFI/TLI/RMSEA with missing data: FIML-corrected statistics (as lavaan)
        try:
            t3, c3, t3b, c3b = _fiml_corrected(
                problem, xhat, bprob, xb, df, df_b, scaled=(est == "MLR")
            )
        except np.linalg.LinAlgError:
            t3 = c3 = t3b = c3b = np.nan
        t3s = t3 / c3
        fit["cfi_robust"] = _cfi(t3, df, t3b, df_b, c3, c3b)
        fit["tli_robust"] = _tli(t3, df, t3b, df_b, c3, c3b)
        fit["rmsea_robust"] = _rmsea(t3, df, ntotal, ngroups, c_hat=c3)
        fit["rmsea_ci_lower_robust"], fit["rmsea_ci_upper_robust"] = _rmsea_ci(
            t3s, df, ntotal, ngroups, c_hat=c3
        )
        fit["rmsea_pvalue_robust"] = _rmsea_pvalue(t3s, df, ntotal, ngroups, c_hat=c3)
    return pd.Series(fit, dtype=float)


# --------------------------------------------------------------------------- standardisation
def _std_plan(sem: SEMModel, pt: pd.DataFrame) -> dict:
    """Index arrays that let :func:`_std_values` standardise every row at once."""
    nlv = len(sem.lv_names)
    pos = {f: i for i, f in enumerate(sem.lv_names)}
    pos.update({v: nlv + i for i, v in enumerate(sem.ov_names)})
    ops = pt["op"].to_numpy()
    lhs = np.array([pos.get(v, -1) for v in pt["lhs"]])
    rhs = np.array([pos.get(v, -1) for v in pt["rhs"]])
    # covariances are scaled by their own variance parameters (lavaan cov.std = TRUE)
    var_row = {
        (r.lhs, r.group): i
        for i, r in enumerate(pt.itertuples())
        if r.op == "~~" and r.lhs == r.rhs
    }
    grp = pt["group"].to_numpy()
    lvar = np.array([var_row.get((v, g), -1) for v, g in zip(pt["lhs"], grp)])
    rvar = np.array([var_row.get((v, g), -1) for v, g in zip(pt["rhs"], grp)])
    cov = (ops == "~~") & (pt["lhs"] != pt["rhs"]).to_numpy() & (lvar >= 0) & (rvar >= 0)
    conds = [ops == "=~", ops == "~", cov, ops == "~~", ops == "~1"]
    return dict(ops=ops, lhs=lhs, rhs=rhs, group=grp - 1, cov=cov, lvar=lvar, rvar=rvar,
                conds=conds)


def _std_values(sem: SEMModel, x: np.ndarray, plan: dict) -> np.ndarray:
    """std.all value of every row of the parameter table."""
    vals = sem.x_to_table(x)
    rows = []
    for mats in sem.matrices(x):  # latent and implied covariances (as latent_moments, implied)
        a = sem._ia(mats)
        lam_a = mats["lambda"] @ a
        lat = a @ mats["psi"] @ a.T
        imp = lam_a @ mats["psi"] @ lam_a.T + mats["theta"]
        rows.append(np.concatenate([np.sqrt(np.clip(np.diag(lat), 0, None)), np.sqrt(np.diag(imp))]))
    sds = np.array(rows)
    g = plan["group"]
    sd_l = np.where(plan["lhs"] >= 0, sds[g, np.maximum(plan["lhs"], 0)], 1.0)
    sd_r = np.where(plan["rhs"] >= 0, sds[g, np.maximum(plan["rhs"], 0)], 1.0)
    rv_l = np.sqrt(np.abs(vals[np.maximum(plan["lvar"], 0)]))
    rv_r = np.sqrt(np.abs(vals[np.maximum(plan["rvar"], 0)]))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.select(
            plan["conds"],
            [
                vals * sd_l / sd_r,
                vals * sd_r / sd_l,
                vals / (rv_l * rv_r),
                vals / (sd_l * sd_r),
                vals / sd_l,
            ],
            default=vals,
        )
    return out


def _standardized(sem, x, vcov, pt, level) -> pd.DataFrame:
    plan = _std_plan(sem, pt)
    est = _std_values(sem, x, plan)
    k = len(x)
    jac = np.zeros((len(pt), k))
    for j in range(k):
        h = 1e-6 * max(1.0, abs(x[j]))
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        jac[:, j] = (_std_values(sem, xp, plan) - _std_values(sem, xm, plan)) / (2 * h)
    cov = jac @ vcov @ jac.T
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    se[np.abs(se) < 1e-12] = 0.0
    zq = stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    return pd.DataFrame(
        {
            "lhs": pt["lhs"].to_numpy(),
            "op": pt["op"].to_numpy(),
            "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(),
            "estimate": est,
            "se": se,
            "statistic": z,
            "p_value": np.where(se > 0, 2 * stats.norm.sf(np.abs(z)), np.nan),
            "ci_low": est - zq * se,
            "ci_high": est + zq * se,
        }
    )


def _reliability(std: pd.DataFrame, sem: SEMModel, labels) -> tuple[pd.DataFrame, pd.DataFrame]:
    cr = pd.DataFrame(index=pd.Index(sem.lv_names, name="factor"), dtype=float)
    ave = pd.DataFrame(index=pd.Index(sem.lv_names, name="factor"), dtype=float)
    group = std["group"].to_numpy()
    op, lhs, rhs = (std[c].to_numpy(dtype=object) for c in ("op", "lhs", "rhs"))
    est = std["estimate"].to_numpy(dtype=float)
    for g, lab in enumerate(labels, start=1):
        in_g = group == g
        is_var = in_g & (op == "~~") & (lhs == rhs)
        crv, avev = [], []
        for f in sem.lv_names:
            ld = in_g & (op == "=~") & (lhs == f)
            lam = est[ld]
            th = is_var & np.isin(lhs, rhs[ld])
            num = lam.sum() ** 2
            crv.append(num / (num + est[th].sum()))
            avev.append(float(np.mean(lam**2)))
        cr[lab] = crv
        ave[lab] = avev
    return cr, ave


def htmt(model: str, data: pd.DataFrame, absolute: bool = True) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations between the factors of a model.

    Parameters
    ----------
    model : str
        Model in lavaan syntax (only the ``=~`` statements are used).
    data : pandas.DataFrame
        The indicators; Pearson correlations on the complete cases (listwise, as
        ``semTools::htmt``'s default).
    absolute : bool
        Use absolute values of the correlations (``semTools::htmt(absolute = TRUE)``, its
        default), so that reverse-keyed items do not cancel out.

    Returns
    -------
    pandas.DataFrame
        Square table factor x factor, ones on the diagonal.

    Notes
    -----
    ``HTMT_ij = mean(r_hetero(i, j)) / sqrt(mean(r_mono(i)) mean(r_mono(j)))`` where the
    heterotrait mean is over all correlations between indicators of ``i`` and ``j`` and the
    monotrait mean over the distinct correlations among indicators of one factor
    (Henseler, Ringle & Sarstedt, 2015), as ``semTools::htmt``.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. *Journal of the
    Academy of Marketing Science*, 43(1), 115-135.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis import config
    >>> from analysis.sem._cfa import htmt
    >>> hs = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
    >>> h = htmt("a =~ x1 + x2 + x3; b =~ x4 + x5 + x6", hs)  # R: semTools::htmt(model, data)
    >>> round(float(h.loc["a", "b"]), 4)
    0.4243
    """
    pt = build_partable(model)
    ov_set = set(pt.attrs["ov_names"])
    # first-order factors only (a higher-order factor has factors as indicators)
    rhs_all: dict[str, list] = {f: [] for f in pt.attrs["lv_names"]}
    rhs_g1: dict[str, list] = {f: [] for f in pt.attrs["lv_names"]}
    for op, lhs, rhs, grp in zip(pt["op"], pt["lhs"], pt["rhs"], pt["group"]):
        if op == "=~":
            rhs_all[lhs].append(rhs)
            if grp == 1:
                rhs_g1[lhs].append(rhs)
    lv = [f for f in pt.attrs["lv_names"] if all(v in ov_set for v in rhs_all[f])]
    ind = {f: rhs_g1[f] for f in lv}
    cols = list(dict.fromkeys(v for f in lv for v in ind[f]))
    r = data[cols].apply(pd.to_numeric, errors="coerce").dropna().corr().to_numpy()
    if absolute:
        r = np.abs(r)
    pos = {v: i for i, v in enumerate(cols)}

    def mono(f):
        ix = [pos[v] for v in ind[f]]
        sub = r[np.ix_(ix, ix)]
        return sub[np.triu_indices(len(ix), 1)].mean()

    mono_of = {f: mono(f) for f in lv}
    vals = np.eye(len(lv))
    for i, a in enumerate(lv):
        for j, b in enumerate(lv):
            if a != b:
                het = r[np.ix_([pos[v] for v in ind[a]], [pos[v] for v in ind[b]])].mean()
                vals[i, j] = het / np.sqrt(mono_of[a] * mono_of[b])
    out = pd.DataFrame(vals, index=lv, columns=lv)
    return out
