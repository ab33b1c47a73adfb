"""Proportional-odds (ordinal) logit, as ``MASS::polr``: Newton-Raphson with the analytic Hessian.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__: list[str] = []


def _fit_ordinal(y_codes: np.ndarray, X: np.ndarray, n_cat: int, tol=1e-10, maxiter=200):
    """Proportional-odds logit by Newton-Raphson with the analytic Hessian.

    Parameters are ``(beta, zeta)``: logit P(Y <= j) = zeta_j - x'beta (MASS::polr).
    Returns (params, loglik, hessian, score_obs, converged).
    """
    n, p = X.shape
    J = n_cat - 1
    y = y_codes.astype(int)

    def parts(theta):
        beta, zeta = theta[:p], theta[p:]
        eta = X @ beta
        cut = np.concatenate(([-np.inf], zeta, [np.inf]))
        z_hi = cut[y + 1] - eta
        z_lo = cut[y] - eta
        F_hi, F_lo = stats.logistic.cdf(z_hi), stats.logistic.cdf(z_lo)
        prob = F_hi - F_lo
        f_hi = np.where(np.isfinite(z_hi), F_hi * (1 - F_hi), 0.0)
        f_lo = np.where(np.isfinite(z_lo), F_lo * (1 - F_lo), 0.0)
        d_hi = f_hi * (1 - 2 * F_hi)
        d_lo = f_lo * (1 - 2 * F_lo)
        # gradient of z_hi / z_lo with respect to (beta, zeta)
        G_hi = np.zeros((n, p + J))
        G_lo = np.zeros((n, p + J))
        G_hi[:, :p] = -X
        G_lo[:, :p] = -X
        rows = np.arange(n)
        hi_idx = y  # zeta index of the upper cut (valid when y < J)
        lo_idx = y - 1
        m_hi = y < J
        m_lo = y > 0
        G_hi[rows[m_hi], p + hi_idx[m_hi]] = 1.0
        G_lo[rows[m_lo], p + lo_idx[m_lo]] = 1.0
        return prob, f_hi, f_lo, d_hi, d_lo, G_hi, G_lo

    def loglik_score_hess(theta):
        prob, f_hi, f_lo, d_hi, d_lo, G_hi, G_lo = parts(theta)
        with np.errstate(divide="ignore"):
            ll = np.sum(np.log(prob))
        score_obs = (f_hi / prob)[:, None] * G_hi - (f_lo / prob)[:, None] * G_lo
        w_hh = d_hi / prob - (f_hi / prob) ** 2
        w_ll = -d_lo / prob - (f_lo / prob) ** 2
        w_hl = f_hi * f_lo / prob**2
        H = (G_hi * w_hh[:, None]).T @ G_hi + (G_lo * w_ll[:, None]).T @ G_lo
        cross = (G_hi * w_hl[:, None]).T @ G_lo
        H = H + cross + cross.T
        return ll, score_obs, H

    # start: thresholds from the marginal cumulative proportions, slopes 0
    counts = np.bincount(y, minlength=n_cat)
    cum = np.cumsum(counts)[:-1] / n
    theta = np.concatenate((np.zeros(p), np.log(cum / (1 - cum))))
    ll, score_obs, H = loglik_score_hess(theta)
    converged = False
    for _ in range(maxiter):
        g = score_obs.sum(axis=0)
        try:
            step = np.linalg.solve(H, -g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        for _half in range(30):
            cand = theta + t * step
            zeta = cand[p:]
            if np.all(np.diff(zeta) > 0):
                ll_new, s_new, H_new = loglik_score_hess(cand)
                if np.isfinite(ll_new) and ll_new >= ll - 1e-12:
                    break
            t /= 2
        else:
            break
        theta, ll_old, ll, score_obs, H = cand, ll, ll_new, s_new, H_new
        if np.max(np.abs(t * step)) < tol and abs(ll - ll_old) < tol * (abs(ll) + tol):
            converged = True
            break
    return theta, ll, H, score_obs, converged
