"""Negative binomial (NB2) count models, as ``MASS::glm.nb``: the shape ``theta`` by maximum likelihood.

The slopes are then fitted by statsmodels' GLM at that ``theta`` (:func:`analysis.regression.regress`).
"""

from __future__ import annotations

import math

import numpy as np

from analysis.regression._results import _warn

__all__: list[str] = []


def _theta_ml(y, mu, theta, tol=1e-12, maxiter=100):
    """ML estimate of the NB2 shape ``theta`` given the means ``mu`` (Newton on log theta)."""
    from scipy.special import digamma, polygamma

    uy, cnt = np.unique(y, return_counts=True)  # the special functions once per count
    lt = math.log(theta)
    for _ in range(maxiter):
        th = math.exp(lt)
        score = cnt @ digamma(th + uy) + np.sum(-digamma(th) + lt + 1 - np.log(th + mu)
                                                - (y + th) / (mu + th))
        hess = cnt @ polygamma(1, th + uy) + np.sum(-polygamma(1, th) + 1 / th - 2 / (mu + th)
                                                    + (y + th) / (mu + th) ** 2)
        # derivatives with respect to log theta
        g, h = score * th, hess * th**2 + score * th
        step = -g / h if h < 0 else math.copysign(1.0, g)
        step = max(min(step, 2.0), -2.0)
        lt += step
        if abs(step) < tol:
            break
    return math.exp(lt)


def _irls_log(y, X, alpha, beta=None, tol=1e-8, maxiter=100):
    """IRLS of a log-link Poisson (``alpha = 0``) or NB2 GLM by the normal equations.

    Only for starting values (:func:`_negbin_family`): ``X'WX`` costs a fraction of the
    least-squares solve of statsmodels' IRLS. Returns ``(beta, mu)``, or None on failure.
    """
    if beta is None:
        mu = (y + y.mean()) / 2.0  # statsmodels' start
        eta = np.log(mu)
    else:
        eta = X @ beta
        mu = np.exp(eta)
    for _ in range(maxiter):
        w = mu / (1.0 + alpha * mu)
        z = eta + (y - mu) / mu
        xw = X.T * w
        try:
            new = np.linalg.solve(xw @ X, xw @ z)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(new)):
            return None
        eta = X @ new
        with np.errstate(over="ignore"):
            mu = np.exp(eta)
        if not np.all(np.isfinite(mu)):
            return None
        done = beta is not None and np.max(np.abs(new - beta) / (np.abs(new) + 1.0)) < tol
        beta = new
        if done:
            break
    return beta, mu


def _negbin_family(y, X, messages):
    """ML estimate of the NB2 shape; returns (GLM family at that alpha, alpha, the joint ML
    estimates of the slopes).

    Starts with two rounds of the ``MASS::glm.nb`` alternation (IRLS for the slopes at fixed
    ``theta``, Newton for ``theta`` at fixed means), then maximises the same likelihood by joint
    Newton steps on ``(beta, log theta)`` to a relative change of 1e-12.
    """
    import statsmodels.api as sm

    y, X = np.asarray(y, dtype=float), np.asarray(X, dtype=float)
    # the start only needs to be close: IRLS by the normal equations (statsmodels' IRLS if
    # that fails)
    start = _irls_log(y, X, 0.0)
    if start is None:
        pois = sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-10, maxiter=100)
        start = np.asarray(pois.params, dtype=float), np.asarray(pois.fittedvalues, dtype=float)
    params, mu = start
    theta = _theta_ml(y, mu, 1.0)
    # two rounds of the glm.nb alternation give a start close to the optimum ...
    for _ in range(2):
        fam = sm.families.NegativeBinomial(alpha=1 / theta)
        step = _irls_log(y, X, 1 / theta, params)
        if step is None:
            res = sm.GLM(y, X, family=fam).fit(start_params=params, tol=1e-10, maxiter=200)
            step = np.asarray(res.params, dtype=float), np.asarray(res.fittedvalues, dtype=float)
        params, mu = step
        theta = _theta_ml(y, mu, theta)
    # ... then joint Newton steps on (beta, log theta) converge quadratically to the same
    # maximum that the alternation reaches linearly (and slowly when theta is small).
    params, theta, converged = _negbin_joint_newton(np.asarray(y, dtype=float), np.asarray(X, dtype=float),
                                                    params, theta)
    if not converged or not np.isfinite(theta) or theta > 1e8:
        _warn(messages, "the negative binomial shape (theta) did not converge")
    alpha = 1 / theta
    return sm.families.NegativeBinomial(alpha=alpha), alpha, params


def _negbin_se_theta(y, mu, theta) -> float:
    """SE of the NB2 shape from the observed information of theta given the means."""
    from scipy.special import polygamma

    info = -np.sum(polygamma(1, theta + y) - polygamma(1, theta) + 1 / theta
                   - 2 / (mu + theta) + (y + theta) / (mu + theta) ** 2)
    return float(1 / np.sqrt(info)) if info > 0 else np.nan


def _negbin_loglik(y, X, beta, theta, counts=None):
    from scipy.special import gammaln

    eta = X @ beta
    mu = np.exp(eta)
    uy, cnt = np.unique(y, return_counts=True) if counts is None else counts
    ll = cnt @ (gammaln(uy + theta) - gammaln(uy + 1)) + np.sum(
        -gammaln(theta) + theta * np.log(theta) + y * eta - (y + theta) * np.log(theta + mu))
    return float(ll), mu


def _negbin_joint_newton(y, X, beta, theta, tol=1e-12, maxiter=100):
    """Maximise the NB2 log-likelihood jointly in (beta, log theta) by damped Newton steps.

    Gradient and observed Hessian are analytic; returns (beta, theta, converged).
    """
    from scipy.special import polygamma, psi

    counts = np.unique(y, return_counts=True)  # the special functions once per count
    uy, cnt = counts
    ll, mu = _negbin_loglik(y, X, beta, theta, counts)
    for _ in range(maxiter):
        tm = theta + mu
        g_beta = X.T @ ((y - mu) * theta / tm)
        g_theta = cnt @ psi(uy + theta) + np.sum(-psi(theta) + np.log(theta) + 1 - np.log(tm)
                                                 - (y + theta) / tm)
        w = mu * theta * (y + theta) / tm**2
        h_bb = -(X.T * w) @ X
        h_bt = X.T @ ((y - mu) * mu / tm**2)
        h_tt = cnt @ polygamma(1, uy + theta) + np.sum(-polygamma(1, theta) + 1 / theta - 2 / tm
                                                       + (y + theta) / tm**2)
        # parameterise by log(theta): d/dlog = theta d/dtheta
        g = np.append(g_beta, g_theta * theta)
        H = np.empty((len(g), len(g)))
        H[:-1, :-1] = h_bb
        H[:-1, -1] = H[-1, :-1] = h_bt * theta
        H[-1, -1] = h_tt * theta**2 + g_theta * theta
        try:
            step = np.linalg.solve(H, -g)
        except np.linalg.LinAlgError:
            return beta, theta, False
        if not np.all(np.isfinite(step)):
            return beta, theta, False
        t = 1.0
        for _ in range(30):
            b_new = beta + t * step[:-1]
            th_new = theta * np.exp(t * step[-1])
            ll_new, mu_new = _negbin_loglik(y, X, b_new, th_new, counts)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        else:
            return beta, theta, False
        rel = max(np.max(np.abs(b_new - beta) / (np.abs(b_new) + 1e-8)), abs(th_new - theta) / theta)
        beta, theta, ll, mu = b_new, th_new, ll_new, mu_new
        if rel < tol:
            return beta, theta, True
    return beta, theta, False


def _negbin_null_llf(y, messages) -> float:
    """Log-likelihood of the intercept-only NB2 model (mu = mean(y), theta by ML)."""
    import statsmodels.api as sm

    mu = np.full(len(y), float(np.mean(y)))
    theta = _theta_ml(y, mu, 1.0)
    return float(sm.families.NegativeBinomial(alpha=1 / theta).loglike(y, mu, scale=1.0))
