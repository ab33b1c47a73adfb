"""Multiple imputation by chained equations and Rubin's rules (``mice::mice`` + ``mice::pool``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.regression._formula import _variables_in
from analysis.regression._results import RegressionResult, _coef_table

__all__ = ["MiceOptions", "pool_rubin"]


@dataclass(frozen=True)
class MiceOptions:
    """Options of multiple imputation by chained equations (``impute=`` of :func:`regress`).

    Attributes
    ----------
    m : int
        Number of imputed data sets (default 20).
    seed : int or None
        Seed of the random generator (``numpy.random.default_rng(seed)``).
    n_burnin : int
        Chained-equation cycles before the first data set and between two data sets
        (default 10).
    auxiliary : tuple of str
        Extra numeric columns used to impute but not in the analysis model.
    k_pmm : int
        Donor pool size of predictive mean matching (statsmodels default 20).

    Notes
    -----
    Imputation uses :class:`statsmodels.imputation.mice.MICEData`: each incomplete numeric
    variable is imputed in turn from all the others by predictive mean matching on an OLS fit
    with perturbed (Gaussian) coefficients, as ``mice::mice(method="pmm")``. Categorical
    variables in the model must be complete (they enter the imputation models as dummies).
    """

    m: int = 20
    seed: int | None = None
    n_burnin: int = 10
    auxiliary: tuple[str, ...] = ()
    k_pmm: int = 20


def _regress_mi(formula, data, model, se, cluster, opts: MiceOptions, conf_level, fit_one):
    """Impute the missing numeric values ``opts.m`` times, fit each data set, pool (Rubin).

    ``fit_one(formula, data, model, se, cluster, conf_level)`` fits one complete data set.
    """
    from statsmodels.imputation.mice import MICEData

    if opts.m < 2:
        raise InputError("multiple imputation needs m >= 2", value=opts.m)
    used = _variables_in(formula, data)
    extra_cols = [c for c in opts.auxiliary if c not in used]
    cols = used + extra_cols + ([cluster] if cluster and cluster not in used else [])
    frame = data[cols].copy()
    numeric, dummies = [], []
    for c in cols:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            numeric.append(c)
        elif s.isna().any():
            raise InputError("categorical variables must be complete for imputation", column=c,
                             value=int(s.isna().sum()), expected="no missing values")
    if not any(frame[c].isna().any() for c in numeric):
        res = fit_one(formula, data, model, se, cluster, conf_level)
        return res
    # imputation frame: numeric columns + dummies of complete categorical columns
    safe = {c: f"v{i}" for i, c in enumerate(numeric)}
    imp = frame[numeric].rename(columns=safe).astype(float).reset_index(drop=True)
    for c in cols:
        if c not in numeric and c != cluster:
            d = pd.get_dummies(frame[c].astype(str), prefix=f"d{len(dummies)}", drop_first=True,
                               dtype=float).reset_index(drop=True)
            d.columns = [f"d{len(dummies)}_{j}" for j in range(d.shape[1])]
            dummies.append(c)
            imp = pd.concat([imp, d], axis=1)
    rng = np.random.default_rng(opts.seed)
    mice = MICEData(imp, k_pmm=opts.k_pmm, rng=rng)
    fits = []
    for _ in range(opts.m):
        mice.update_all(opts.n_burnin)
        completed = data.copy()
        for c, s_name in safe.items():
            completed[c] = mice.data[s_name].to_numpy()
        fits.append(fit_one(formula, completed, model, se, cluster, conf_level))
    return pool_rubin(fits, conf_level=conf_level, formula=formula)


def pool_rubin(fits: Sequence[RegressionResult], conf_level: float = 0.95,
               formula: str | None = None) -> RegressionResult:
    """Pool results fitted on ``m`` imputed data sets by Rubin's rules (``mice::pool``).

    Notes
    -----
    ``Q = mean(q_l)``; within ``W = mean(se_l^2)``; between ``B = var(q_l)`` (ddof 1);
    total ``T = W + (1 + 1/m) B``. For t-based models the df use the Barnard-Rubin (1999)
    small-sample correction: ``lambda = (1 + 1/m) B / T``, ``nu_old = (m-1) / lambda^2``,
    ``nu_obs = (nu_com + 1) / (nu_com + 3) nu_com (1 - lambda)``,
    ``nu = nu_old nu_obs / (nu_old + nu_obs)``, with ``nu_com`` the complete-data residual df
    (``n - k``) for every model and ``lambda`` floored at 1e-4, as ``mice::pool``; the pooled
    result is therefore t-based (``dist="t"``) with per-term df in ``extra["term_df"]``
    (the ``df`` column of :meth:`RegressionResult.to_frame`). Fit statistics are averaged over
    the imputations (``fit["m"]`` holds m).

    Parameters
    ----------
    fits : sequence of RegressionResult
        The same model fitted on each imputed data set (m >= 2).
    conf_level : float
        Level of the intervals.
    formula : str, optional
        Formula to record (default: that of the first fit).

    Returns
    -------
    RegressionResult
        ``se_type="mi"``; ``extra`` holds ``term_df``, ``fraction_missing_info`` (lambda)
        and the ``imputations`` (the m fits).

    References
    ----------
    Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
    Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple
    imputation. *Biometrika*, 86, 948-955.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.regression import regress
    >>> rng = np.random.default_rng(0)
    >>> fits = []
    >>> for m in range(3):
    ...     df = pd.DataFrame({"x": rng.normal(size=200)})
    ...     df["y"] = 1 + 0.5 * df["x"] + rng.normal(size=200)
    ...     fits.append(regress("y ~ x", df))
    >>> pooled = pool_rubin(fits)
    >>> bool(abs(pooled.coefficients.loc["x", "estimate"] - 0.5) < 0.2)
    True
    """
    m = len(fits)
    if m < 2:
        raise InputError("pooling needs at least two imputed fits", value=m)
    first = fits[0]
    Q = np.vstack([f.coefficients["estimate"].to_numpy() for f in fits])
    U = np.vstack([f.coefficients["se"].to_numpy() ** 2 for f in fits])
    qbar = Q.mean(axis=0)
    W = U.mean(axis=0)
    B = Q.var(axis=0, ddof=1)
    T = W + (1 + 1 / m) * B
    lam = np.where(T > 0, (1 + 1 / m) * B / T, 0.0)
    lam_df = np.maximum(lam, 1e-4)  # as mice::pool, so that nu stays finite
    nu_old = (m - 1) / lam_df**2
    nu_com = float(first.fit["df_resid"])
    if np.isfinite(nu_com):
        nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lam_df)
        nu = nu_old * nu_obs / (nu_old + nu_obs)
    else:
        nu = nu_old
    se_pooled = np.sqrt(T)
    coefs = _coef_table(list(first.coefficients.index), qbar, se_pooled, nu, conf_level)
    fit = pd.concat([f.fit for f in fits], axis=1).mean(axis=1)
    fit["m"] = float(m)
    vcov = None
    if all(f.vcov is not None for f in fits):
        Wm = sum(f.vcov.to_numpy() for f in fits) / m
        dev = Q - qbar
        Bm = dev.T @ dev / (m - 1)
        vcov = pd.DataFrame(Wm + (1 + 1 / m) * Bm, index=coefs.index, columns=coefs.index)
    return RegressionResult(
        coefficients=coefs,
        fit=fit,
        model=first.model,
        se_type="mi",
        formula=formula or first.formula,
        vcov=vcov,
        dist="t",
        conf_level=conf_level,
        thresholds=first.thresholds,
        exog=None,
        endog=None,
        term_columns=first.term_columns,
        warnings=tuple(w for f in fits for w in f.warnings),
        extra={"term_df": nu, "fraction_missing_info": lam, "imputations": list(fits)},
    )
