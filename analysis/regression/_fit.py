"""Fitting a regression model: OLS, logit, ordinal logit, Poisson and negative binomial.

:func:`regress` checks its options, selects the rows and dispatches: design-based fits to
``design.glm`` (:mod:`analysis.survey`), multiple imputation to :mod:`analysis.regression._mice`,
the rest to :func:`_fit_one` (OLS and GLMs by statsmodels, the ordinal model by
:mod:`analysis.regression._ordinal`, the negative binomial shape by
:mod:`analysis.regression._counts`, robust variances by :mod:`analysis.regression._variance`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.regression._counts import _negbin_family, _negbin_null_llf, _negbin_se_theta
from analysis.regression._formula import _design, _variables_in
from analysis.regression._mice import MiceOptions, _regress_mi
from analysis.regression._ordinal import _fit_ordinal
from analysis.regression._results import MODEL_KINDS, RegressionResult, _warn
from analysis.regression._variance import _sandwich
from analysis.utils.blas import one_blas_thread

__all__ = ["regress"]


def _fit_statistics(kind, n, k, llf, llnull=np.nan, **extra):
    aic = -2 * llf + 2 * k
    bic = -2 * llf + math.log(n) * k
    out = {"n": n, "aic": aic, "bic": bic, "llf": llf, "llnull": llnull}
    if kind != "ols":
        out["pseudo_r2"] = 1 - llf / llnull if np.isfinite(llnull) else np.nan
    out.update(extra)
    return out


def regress(
    formula: str,
    data: pd.DataFrame | None = None,
    model: str = "ols",
    se: str = "classical",
    cluster: str | None = None,
    design=None,
    impute: MiceOptions | None = None,
    *,
    center: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Fit a regression model and return its tidy results.

    Parameters
    ----------
    formula : str
        Patsy formula, e.g. ``"api00 ~ ell + meals + C(stype)"``; ``x:m`` / ``x*m`` for
        interactions, ``I(awards == "Yes")`` for a derived outcome. For ``model="ordinal"`` the
        outcome must be a column (numeric, ordered by value, or an ordered categorical).
    data : pandas.DataFrame
        Data (not needed with ``design``). Rows with a missing value in a formula variable are
        dropped (listwise, as R's default ``na.omit``) unless ``impute`` is given.
    model : {"ols", "logit", "ordinal", "poisson", "negbin"}
        Linear model, binary logit (``glm(binomial)``), proportional-odds logit
        (``MASS::polr``), Poisson GLM, negative binomial NB2 (``MASS::glm.nb``).
    se : {"classical", "hc3", "cluster"}
        Model-based SEs; HC3 (``sandwich::vcovHC(type="HC3")``; not for ``ordinal``);
        cluster-robust CR1 (``sandwich::vcovCL(cluster=, type="HC1")``).
    cluster : str, optional
        Column of cluster ids (required for ``se="cluster"``).
    design : analysis.survey._design.SurveyDesign, optional
        Design-based fit: delegated to ``design.glm(formula, model=model)``.
    impute : MiceOptions, optional
        Multiple imputation of missing numeric variables, results pooled by Rubin's rules.
    center : sequence of str, optional
        Columns to mean-centre before fitting (moderation models); the means are kept in
        ``result.extra["centered"]`` and used by :func:`simple_slopes`.
    conf_level : float
        Level of the Wald confidence intervals (default 0.95).

    Returns
    -------
    RegressionResult
        Coefficients, fit statistics, covariance and design matrix.

    Raises
    ------
    analysis.errors.InputError
        Unknown model / SE type, missing cluster column, an outcome of the wrong type, a
        formula that does not evaluate.

    Notes
    -----
    *OLS*: ``b = (X'X)^-1 X'y``; t tests with ``n - k`` df for every SE type (as
    ``lmtest::coeftest``). ``aic = -2 llf + 2 (k + 1)`` and ``bic`` with ``log(n)`` count the
    residual variance as a parameter (R's ``AIC(lm)``).

    *GLMs* (logit, Poisson, negbin): IRLS; classical SEs from the expected information; z tests.
    *Negative binomial*: ``theta`` (R's ``theta``; statsmodels' ``alpha = 1/theta``) is the ML
    estimate; the slopes' SEs are those of the GLM at that ``theta`` (as ``glm.nb``), and
    ``fit["theta"]``, ``fit["se_theta"]`` (observed information of theta given mu) are reported.
    AIC counts ``theta``.

    *Ordinal* (proportional odds): ``logit P(Y <= j | x) = zeta_j - x'beta``, the ``MASS::polr``
    parametrisation, so a positive ``beta`` moves the response towards *higher* categories.
    Thresholds ``zeta_j`` are rows named ``"<level j>|<level j+1>"`` after the slopes; no
    intercept. Fitted by Newton-Raphson with the analytic Hessian; SEs from its inverse
    (polr uses a numerical Hessian from ``optim``; its default tolerance leaves estimates about
    1e-5 relative from the maximum). statsmodels' ``OrderedModel`` has the same sign
    convention but reports increments of the thresholds on the log scale.

    *Sandwich SEs*: ``V = B M B`` with ``B`` the model covariance (inverse information) and
    score contributions ``u_i``. HC3: ``M = sum u_i u_i' / (1 - h_i)^2`` with ``h_i`` the hat
    values of the (weighted) least-squares fit. CR1: ``M = G/(G-1) (n-1)/(n-k) sum_g U_g U_g'``
    with ``U_g`` the sum of ``u_i`` in cluster ``g``. ``sandwich::vcovCL`` uses this factor by
    default for ``lm``, but only ``G/(G-1)`` (type ``"HC0"``) by default for ``glm``: match it
    with ``type="HC1"``.

    Fit: McFadden ``pseudo_r2 = 1 - llf / llnull`` (``llnull``: intercept- or
    threshold-only model); ``df_model`` = number of slopes.

    References
    ----------
    Zeileis, A., Koell, S., & Graham, N. (2020). Various versatile variances: an
    object-oriented implementation of clustered covariances in R. *JSS*, 95(1).
    Venables, W. N., & Ripley, B. D. (2002). *Modern Applied Statistics with S* (4th ed.),
    sections 7.3-7.4. Springer.
    Long, J. S., & Ervin, L. H. (2000). Using heteroscedasticity consistent standard errors in
    the linear regression model. *The American Statistician*, 54, 217-224.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.regression import regress
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=200), "g": rng.integers(0, 20, 200)})
    >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=200)
    >>> r = regress("y ~ x", d, se="cluster", cluster="g")
    >>> # R: lmtest::coeftest(m <- lm(y ~ x, d), vcov. = sandwich::vcovCL(m, cluster = ~g))
    >>> list(r.coefficients.index)
    ['Intercept', 'x']
    >>> r.fit["n"]
    np.float64(200.0)
    """
    if model not in MODEL_KINDS:
        raise InputError("unknown model kind", value=model, expected=", ".join(MODEL_KINDS))
    if se not in ("classical", "hc3", "cluster"):
        raise InputError("unknown SE type", value=se, expected="classical, hc3 or cluster")
    if design is not None:
        if impute is not None or se != "classical" or cluster is not None:
            raise InputError("with a survey design the SEs come from the design; drop se=, "
                             "cluster= and impute=")
        return design.glm(formula, model=model)
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a pandas DataFrame", value=type(data).__name__)
    if se == "cluster":
        if cluster is None or cluster not in data.columns:
            raise InputError("se='cluster' needs cluster= naming a column of data", value=cluster)
    if se == "hc3" and model == "ordinal":
        raise InputError("HC3 is not defined for the ordinal model here", value=se,
                         expected="classical or cluster")
    if impute is None:
        # only the columns the formula can name (its text holds their names): listwise deletion
        # and row selections then copy a few columns, not the whole analysis file
        keep = [c for c in data.columns if str(c) in formula or c == cluster
                or (center and c in center)]
        if len(keep) < data.shape[1]:
            data = data[keep]
    centered: dict[str, float] = {}
    if center:
        data = data.copy()
        for col in center:
            if col not in data.columns:
                raise InputError("column to centre not found", column=col)
            mean = float(pd.to_numeric(data[col]).mean())
            data[col] = pd.to_numeric(data[col]) - mean
            centered[col] = mean
    if impute is not None:
        with one_blas_thread():
            return _regress_mi(formula, data, model, se, cluster, impute, conf_level, _fit_one)
    if cluster is not None:
        data = data.loc[data[cluster].notna()]
    with one_blas_thread():
        result = _fit_one(formula, data, model, se, cluster, conf_level)
    if centered:
        result.extra["centered"] = centered
    return result


def _fit_one(formula, data, model, se, cluster, conf_level) -> RegressionResult:
    import statsmodels.api as sm

    # listwise deletion on the variables of the formula first (R's model.frame): an
    # expression such as I(x >= 4) would otherwise turn a missing x into False
    used = _variables_in(formula, data)
    if used:
        data = data.loc[data[used].notna().all(axis=1)]
    y, X, term_columns, levels = _design(formula, data, model)
    n, k = X.shape
    if n <= k:
        raise InputError("fewer observations than parameters", value=n, expected=f"more than {k}")
    groups = data.loc[X.index, cluster].to_numpy() if se == "cluster" else None
    messages: list[str] = []
    Xa, ya = X.to_numpy(dtype=float), y.to_numpy(dtype=float)
    extra: dict = {}
    thresholds: tuple[str, ...] = ()
    terms = list(X.columns)
    df_resid: float | None
    if model == "ols":
        res = sm.OLS(ya, Xa).fit()
        params, bread = res.params, np.linalg.inv(Xa.T @ Xa)
        vcov = res.cov_params()
        resid = res.resid
        scores = Xa * resid[:, None]
        hat = np.einsum("ij,ij->i", Xa @ bread, Xa)
        df_resid = float(n - k)
        fit = _fit_statistics("ols", n, k + 1, res.llf, r2=res.rsquared,
                              adj_r2=res.rsquared_adj, df_model=k - 1, df_resid=df_resid,
                              ssr=res.ssr)
        extra["sm_result"] = res
    elif model == "ordinal":
        theta, llf, H, scores, converged = _fit_ordinal(ya.astype(int), Xa, len(levels))
        if not converged:
            _warn(messages, "the proportional-odds model did not converge")
        params = theta
        vcov = np.linalg.inv(-H)
        bread = vcov
        hat = None
        thresholds = tuple(f"{a}|{b}" for a, b in zip(levels[:-1], levels[1:]))
        terms = terms + list(thresholds)
        counts = np.bincount(ya.astype(int), minlength=len(levels))
        llnull = float(np.sum(counts[counts > 0] * np.log(counts[counts > 0] / n)))
        n_par = len(params)
        df_resid = None
        fit = _fit_statistics("ordinal", n, n_par, llf, llnull, df_model=k,
                              df_resid=float(n - n_par))
    else:
        start = None
        if model == "logit":
            family = sm.families.Binomial()
        elif model == "poisson":
            family = sm.families.Poisson()
        else:
            # IRLS at the ML theta, started from the joint ML estimates
            family, alpha, start = _negbin_family(ya, Xa, messages)
        import warnings as _warnings

        from statsmodels.tools.sm_exceptions import ModelWarning

        # from the joint ML estimates (negbin) IRLS only moves by rounding: a relative change
        # of the deviance below 1e-15 stops it (the deviance of 1e5 cases never repeats to 1e-12)
        # Otherwise a relative change below 1e-13: an absolute 1e-12 alone is below the rounding
        # of a deviance of 1e6 (a million cases), and IRLS would run to maxiter.
        rtol = 1e-15 if start is not None else 1e-13
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            res = sm.GLM(ya, Xa, family=family).fit(start_params=start, tol=1e-12, rtol=rtol,
                                                    maxiter=200)
        for w in caught:
            if issubclass(w.category, (ModelWarning, RuntimeWarning)):
                _warn(messages, f"{model} model: {w.message}")
        if not res.converged:
            _warn(messages, f"the {model} model did not converge")
        params = res.params
        vcov = res.cov_params()
        bread = vcov
        mu = res.fittedvalues
        eta = Xa @ params
        with np.errstate(over="ignore", invalid="ignore"):  # separation: reported above
            mu_eta = family.link.inverse_deriv(eta)
        var = family.variance(mu)
        scores = Xa * ((ya - mu) * mu_eta / var)[:, None]
        w = mu_eta**2 / var
        Xw = Xa * np.sqrt(w)[:, None]
        hat = np.einsum("ij,ij->i", Xw @ bread, Xw)
        n_par = k + (1 if model == "negbin" else 0)
        more = {}
        if model == "negbin":
            more = {"theta": 1 / alpha, "alpha": alpha,
                    "se_theta": _negbin_se_theta(ya, np.asarray(mu, dtype=float), 1 / alpha)}
            llf = float(family.loglike(ya, mu, scale=1.0))
            llnull = _negbin_null_llf(ya, messages)
        else:
            null = sm.GLM(ya, np.ones((n, 1)), family=family).fit(tol=1e-12, rtol=1e-13)
            llf, llnull = float(res.llf), float(null.llf)
        df_resid = None
        fit = _fit_statistics(model, n, n_par, llf, llnull, df_model=k - 1,
                              df_resid=float(n - k), deviance=float(res.deviance), **more)
        extra["sm_result"] = res
    if se == "hc3":
        vcov = _sandwich(bread, scores, hat=hat)
    elif se == "cluster":
        vcov = _sandwich(bread, scores, groups=groups)
        fit["n_clusters"] = float(pd.Series(groups).nunique())
    return RegressionResult.from_arrays(
        terms,
        params,
        vcov=vcov,
        df_resid=df_resid,
        fit=fit,
        model=model,
        se_type=se,
        formula=formula,
        conf_level=conf_level,
        thresholds=thresholds,
        exog=X,
        endog=y,
        term_columns=term_columns,
        warnings=messages,
        extra=extra,
    )
