"""Design-based generalised linear models (R's ``svyglm``).

:func:`glm` is bound as :meth:`analysis.survey._design.SurveyDesign.glm`; it returns the
:class:`analysis.regression.RegressionResult` shared with the model-based fits.
"""

from __future__ import annotations

import math
import warnings as _warnings

import numpy as np
from scipy import stats

from analysis.errors import EstimationWarning, InputError

__all__ = ["GLM_FAMILIES", "glm"]

#: Families accepted by :meth:`SurveyDesign.glm` and the model kind reported for each.
GLM_FAMILIES: dict[str, str] = {"gaussian": "ols", "binomial": "logit", "poisson": "poisson"}


def glm(design, formula: str, family: str = "gaussian", *, model: str | None = None,
        conf_level: float = 0.95, max_iter: int = 100, tol: float = 1e-12):
    """Design-based generalised linear model (R's ``svyglm``).

    Parameters
    ----------
    formula : str
        Patsy formula, e.g. ``"api00 ~ ell + meals + mobility"``; quote awkward names
        with ``Q("sch.wide")``; factors with ``C(x)``. For ``binomial`` the response is
        0/1 or boolean (``I(x == "Yes")``). Rows with a missing value in a model variable
        are dropped (R's ``na.omit``), and no longer count for the design df; so are the
        units outside a :meth:`subset` domain (weights rescaled to mean 1 over the units
        used, as R does for a subset of an uncalibrated design; for a subset of a
        calibrated design R rescales over all rows, which changes ``deviance`` and ``aic``
        but not the coefficients or their SEs).
    family : {"gaussian", "binomial", "poisson"}, default "gaussian"
        Identity, logit and log links. ``binomial`` / ``poisson`` give the same
        coefficients and SEs as R's ``quasibinomial`` / ``quasipoisson`` (and
        ``binomial`` / ``poisson``): the design-based variance does not use the
        dispersion.
    model : {"ols", "logit", "poisson"}, optional
        The same choice in :func:`analysis.regression.regress`'s vocabulary (which calls
        ``design.glm(formula, model=...)``); overrides ``family`` when given. ``"ordinal"``
        and ``"negbin"`` have no design-based version here.
    conf_level : float, default 0.95
        Level of the intervals.
    max_iter, tol : int, float
        IRLS limits: stop when the relative change in deviance is below ``tol``.

    Returns
    -------
    analysis.regression.RegressionResult
        ``se_type="design"``, model ``"ols"`` / ``"logit"`` / ``"poisson"``;
        ``coefficients`` with t statistics, p-values and intervals on
        ``df_resid = degf + 1 - p`` degrees of freedom (R's ``summary.svyglm`` and
        ``confint.svyglm``). ``fit``: ``n``, ``df_model``, ``df_resid``, ``deviance``,
        ``null_deviance``, ``aic`` (R's ``fit$aic``: the likelihood AIC of the glm
        fitted with weights rescaled to mean 1; *not* a design-based AIC, and NaN in R
        for quasi families).

    Raises
    ------
    analysis.errors.InputError
        Unknown family, bad formula, response outside the family's range.

    Notes
    -----
    Estimates solve the weighted score equations
    :math:`\\sum_i w_i x_i (y_i - \\mu_i) \\mu'(\\eta_i) / V(\\mu_i) = 0` by IRLS. Sandwich
    covariance: with :math:`A^{-1} = (X^\\top W X)^{-1}` (working weights) and
    :math:`u_i` the score of unit i, the linearised variables are :math:`z = U A^{-1}`,
    whose design covariance (:meth:`variance`, with calibration) is the covariance of
    :math:`\\hat\\beta` (Binder 1983; R's ``svy.varcoef``).

    References
    ----------
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from
    complex surveys. *International Statistical Review*, 51, 279-292.
    Lumley, T., & Scott, A. (2017). Fitting regression models to survey data.
    *Statistical Science*, 32, 265-278.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._design import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 3, 2, 5, 4, 6], "x": [1.0, 2, 3, 4, 5, 6],
    ...                    "w": [1.0, 2, 1, 2, 1, 2]})
    >>> res = SurveyDesign(df, weights="w").glm("y ~ x")  # R: svyglm(y ~ x, design)
    >>> list(res.coefficients.index)
    ['Intercept', 'x']
    """
    import patsy

    from analysis.regression import RegressionResult

    if model is not None:
        by_kind = {kind: fam for fam, kind in GLM_FAMILIES.items()}
        if model not in by_kind:
            raise InputError("no design-based version of this model kind", value=model,
                             expected=", ".join(by_kind))
        family = by_kind[model]
    if family not in GLM_FAMILIES:
        raise InputError("unknown GLM family", value=family,
                         expected=", ".join(GLM_FAMILIES))
    try:
        y_df, x_df = patsy.dmatrices(formula, design.data, NA_action="drop",
                                     return_type="dataframe")
    except Exception as exc:  # patsy raises PatsyError and others for bad formulas
        raise InputError(f"cannot build the model from the formula: {exc}",
                         value=formula) from exc
    if y_df.shape[1] == 2 and family == "binomial":  # boolean / two-level response
        y_df = y_df.iloc[:, [1]]
    if y_df.shape[1] != 1:
        raise InputError("the response must be one numeric column", value=formula,
                         expected="a numeric or 0/1 response")
    term_columns = {name: list(x_df.columns[sl])
                    for name, sl in x_df.design_info.term_name_slices.items()}
    positive = design._w[y_df.index.to_numpy()] > 0  # units outside a subset() domain
    y_df, x_df = y_df.loc[positive], x_df.loc[positive]
    used = np.zeros(len(design._w), dtype=bool)
    used[y_df.index.to_numpy()] = True
    idx = y_df.index.to_numpy()
    y = y_df.iloc[:, 0].to_numpy(dtype=float)
    X = x_df.to_numpy(dtype=float)
    terms = list(x_df.columns)
    if family == "binomial" and ((y < 0) | (y > 1)).any():
        raise InputError("binomial response must lie in [0, 1]", value=formula)
    if family == "poisson" and (y < 0).any():
        raise InputError("poisson response must be non-negative", value=formula)
    w_all = design._w
    w = w_all[idx] / w_all[idx].mean()  # R's rescale=TRUE
    beta, mu, eta, converged, iters = _irls(X, y, w, family, max_iter, tol)
    warns = []
    if not converged:
        warns.append(f"svyglm IRLS did not converge in {max_iter} iterations")
    mu_eta, varmu = _family_derivs(family, eta, mu)
    ww = w * mu_eta**2 / varmu
    xtwx = X.T @ (X * ww[:, None])
    rank = np.linalg.matrix_rank(xtwx)
    if rank < X.shape[1]:
        raise InputError("the model matrix is rank deficient (collinear predictors)",
                         value=formula, expected="linearly independent predictors")
    ainv = np.linalg.inv(xtwx)
    scores = X * (w * (y - mu) * mu_eta / varmu)[:, None]
    z = np.zeros((len(w_all), X.shape[1]))
    z[idx] = scores @ ainv
    vcov = design.variance(z)
    p = X.shape[1]
    degf = design._degf(used)
    df_resid = degf + 1 - p
    dev = _deviance(family, y, mu, w)
    null_mu = np.full_like(y, float((w * y).sum() / w.sum()))
    if "Intercept" not in terms:
        null_mu = _family_inverse(family, np.zeros_like(y))
    fit = {
        "n": float(len(y)),
        "df_model": float(p - (1 if "Intercept" in terms else 0)),
        "df_resid": float(df_resid),
        "deviance": dev,
        "null_deviance": _deviance(family, y, null_mu, w),
        "aic": _aic(family, y, mu, w, dev) + 2 * p,
        "iterations": float(iters),
    }
    for msg in warns:
        _warnings.warn(msg, EstimationWarning, stacklevel=2)
    return RegressionResult.from_arrays(
        terms, beta, vcov=vcov, df_resid=float(df_resid) if df_resid > 0 else math.inf,
        fit=fit, model=GLM_FAMILIES[family], se_type="design", formula=formula,
        conf_level=conf_level, exog=x_df, endog=y_df.iloc[:, 0], warnings=warns,
        term_columns=term_columns,
        extra={"family": family, "degf": degf, "naive_cov": ainv},
    )


# ---------------------------------------------------------------------------------------------
# GLM internals
# ---------------------------------------------------------------------------------------------
def _family_inverse(family: str, eta: np.ndarray) -> np.ndarray:
    if family == "gaussian":
        return eta
    if family == "binomial":
        return 1.0 / (1.0 + np.exp(-eta))
    return np.exp(eta)


def _family_derivs(family: str, eta: np.ndarray, mu: np.ndarray):
    """d mu / d eta and the variance function V(mu)."""
    if family == "gaussian":
        return np.ones_like(mu), np.ones_like(mu)
    if family == "binomial":
        e = np.maximum(mu * (1 - mu), np.finfo(float).eps)
        return e, e
    e = np.maximum(mu, np.finfo(float).eps)
    return e, e


def _deviance(family: str, y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    if family == "gaussian":
        return float((w * (y - mu) ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        if family == "binomial":
            t1 = np.where(y > 0, y * np.log(y / mu), 0.0)
            t2 = np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
            return float(2 * (w * (t1 + t2)).sum())
        t = np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)
        return float(2 * (w * t).sum())


def _aic(family: str, y, mu, w, dev) -> float:
    """R's family()$aic (without the 2 * rank term)."""
    n = len(y)
    if family == "gaussian":
        return float(n * (math.log(dev / n * 2 * math.pi) + 1) + 2 - np.log(w).sum())
    if family == "binomial":
        m = w
        return float(-2 * np.sum(np.where(m > 0, 1.0, 0.0) * stats.binom.logpmf(
            np.round(m * y), np.round(m), mu)))
    return float(-2 * np.sum(stats.poisson.logpmf(y, mu) * w))


def _irls(X, y, w, family, max_iter, tol):
    """Iteratively reweighted least squares as R's glm.fit (same starting values)."""
    if family == "gaussian":
        mu = y.copy()
    elif family == "binomial":
        mu = (w * y + 0.5) / (w + 1)
    else:
        mu = y + 0.1
    eta = mu.copy() if family == "gaussian" else (
        np.log(mu / (1 - mu)) if family == "binomial" else np.log(mu))
    dev_old = _deviance(family, y, mu, w)
    beta = np.zeros(X.shape[1])
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        mu_eta, varmu = _family_derivs(family, eta, mu)
        zwork = eta + (y - mu) / mu_eta
        ww = w * mu_eta**2 / varmu
        sw = np.sqrt(ww)
        beta, *_ = np.linalg.lstsq(X * sw[:, None], zwork * sw, rcond=None)
        eta = X @ beta
        mu = _family_inverse(family, eta)
        dev = _deviance(family, y, mu, w)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol or family == "gaussian":
            converged = True
            break
        dev_old = dev
    return beta, mu, eta, converged, iterations
