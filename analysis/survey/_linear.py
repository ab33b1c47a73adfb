"""Design-based means, totals, proportions and ratios (Taylor linearisation, as R's ``svymean``,
``svytotal``, ``svyciprop`` and ``svyratio``).

Each estimator is a function of the design, bound as a method of
:class:`~analysis.survey._design.SurveyDesign` (``design.mean(...)``). It computes the point
estimates and the linearised variables ``z_i`` of each domain and asks the design for their
covariance (:meth:`~analysis.survey._design.SurveyDesign.variance`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.survey._estimate import SurveyEstimate, _as_list, _critical, make_estimate

__all__ = ["mean", "total", "proportion", "ratio"]


def _linear_estimates(design, kind, columns, by, na_rm, conf_level, df, var_names):
    """Means / totals of several numeric columns (n x k arrays with NaN for missing)."""
    groups, by_cols = design._groups(by)
    w = design._w
    rows, est, z_cols, deffs, ns, warns = [], [], [], [], [], []
    for label, values, gmask in groups:
        for name, (x, miss, level) in zip(var_names, columns):
            if na_rm:
                d = gmask & ~miss
                missing_in = False
            else:
                d = gmask
                missing_in = bool((miss & gmask).any())
            wd = np.where(d, w, 0.0)
            xz = np.where(d, np.nan_to_num(x), 0.0)
            psum = wd.sum()
            nobs = int((wd != 0).sum())
            if missing_in or psum == 0:
                e = np.nan
                z = np.zeros(len(w))
                deff = np.nan
                if missing_in:
                    warns.append(f"{name}: missing values (na_rm=False gives NaN, as R)")
            else:
                mean = float((wd * xz).sum() / psum)
                if kind == "total":
                    e = float((wd * xz).sum())
                    z = wd * xz
                else:
                    e = mean
                    z = wd * (xz - mean) / psum
                deff = _deff_ratio(z, wd, xz, mean, psum, nobs, kind)
            row = {}
            if by_cols:
                row["group"] = label
                row.update(values)
            row["variable"] = name
            if level is not None:
                row["level"] = level
            rows.append(row)
            est.append(e)
            z_cols.append(z)
            deffs.append(deff)
            ns.append(nobs)
    z = np.column_stack(z_cols)
    v = design.variance(z)
    # deff needs the design variance: computed above as vsrs; combine here
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.array([np.nan if not np.isfinite(dv) else np.float64(v[i, i]) / dv
                         for i, dv in enumerate(deffs)])
    df_used = [math.inf if df is None else float(df)] * len(est)
    return make_estimate(kind, rows, np.array(est), v, deff, df_used, ns, conf_level,
                               warns)

def _deff_ratio(z, wd, xz, mean, psum, nobs, kind) -> float:
    """SRS (without replacement) variance used as the denominator of deff (R's rule)."""
    if nobs < 2:
        return float("nan")
    svyvar = float((wd * (xz - mean) ** 2).sum() / psum) * nobs / (nobs - 1)
    if kind == "total":
        return svyvar * psum**2 * (psum - nobs) / (psum * nobs)
    if psum < nobs:
        return float("nan")
    return svyvar * (psum - nobs) / (psum * nobs)

def mean(design, var: str | Sequence[str], by: str | Sequence[str] | None = None, *,
         na_rm: bool = False, conf_level: float = 0.95,
         df: float | None = None) -> SurveyEstimate:
    """Design-based mean of numeric variable(s), overall or by group.

    Parameters
    ----------
    var : str or list of str
        Numeric column(s). A categorical column gives the proportion of each level (as
        R's ``svymean`` of a factor; see :meth:`proportion`).
    by : str or list of str, optional
        Grouping column(s): one estimate per group (domain), as R's ``svyby``.
    na_rm : bool, default False
        As R's ``na.rm``: False gives NaN (R's NA) when the variable has missing values;
        True drops them (domain estimation on the non-missing units, design kept whole).
    conf_level : float, default 0.95
        Level of the Wald interval.
    df : float, optional
        Degrees of freedom of the interval; default ``inf`` (standard normal), R's
        ``confint(svymean(...))`` default. Pass ``design.degf`` for a t interval.

    Returns
    -------
    SurveyEstimate
        ``kind="mean"``; ``deff`` as R's ``deff=TRUE``.

    Notes
    -----
    :math:`\\hat\\mu = \\sum_i w_i y_i / \\sum_i w_i`, linearised variable
    :math:`z_i = w_i (y_i - \\hat\\mu) / \\sum_i w_i` (restricted to the domain for
    ``by``), variance from :meth:`variance`. ``deff`` divides it by
    :math:`s^2_w (\\hat N - n) / (\\hat N n)` with :math:`s^2_w` the weighted variance
    times ``n / (n - 1)``.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys*, ch. 2-3. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._design import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("abab"), "w": [1.0, 1, 2, 2]})
    >>> SurveyDesign(df, weights="w").mean("y", by="g").estimate.round(6).tolist()
    [2.333333, 3.333333]
    >>> # R: svyby(~y, ~g, svydesign(~1, weights=~w, data=df), svymean)
    """
    names = _as_list(var)
    if any(not pd.api.types.is_numeric_dtype(design.data[v]) and
           not pd.api.types.is_bool_dtype(design.data[v])
           for v in names if v in design.data.columns):
        if len(names) == 1:
            return proportion(design, names[0], by=by, na_rm=na_rm, conf_level=conf_level,
                                   df=df)
    columns = [(*design._numeric(v), None) for v in names]
    return _linear_estimates(design, "mean", columns, by, na_rm, conf_level, df, names)

def total(design, var: str | Sequence[str], by: str | Sequence[str] | None = None, *,
          na_rm: bool = False, conf_level: float = 0.95,
          df: float | None = None) -> SurveyEstimate:
    """Design-based population total of numeric variable(s), overall or by group.

    Parameters
    ----------
    var, by, na_rm, conf_level, df
        As :meth:`mean`. A categorical ``var`` gives the estimated number of population
        units at each level.

    Returns
    -------
    SurveyEstimate
        ``kind="total"``.

    Notes
    -----
    Horvitz-Thompson: :math:`\\hat Y = \\sum_i w_i y_i`, :math:`z_i = w_i y_i`. ``deff``
    as R: variance over :math:`s^2_w \\hat N^2 (\\hat N - n) / (\\hat N n)`.

    References
    ----------
    Horvitz, D. G., & Thompson, D. J. (1952). *JASA*, 47, 663-685.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._design import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [1.0, 1, 2, 2]})
    >>> SurveyDesign(df, weights="w").total("y").estimate  # R: svytotal(~y, design)
    17.0
    """
    names = _as_list(var)
    columns, labels = [], []
    for v in names:
        if v in design.data.columns and not (pd.api.types.is_numeric_dtype(design.data[v])
                                           or pd.api.types.is_bool_dtype(design.data[v])):
            levels, codes, miss = design._categorical(v)
            for k, lev in enumerate(levels):
                x = np.where(miss, np.nan, (codes == k).astype(float))
                columns.append((x, miss, lev))
                labels.append(v)
        else:
            columns.append((*design._numeric(v), None))
            labels.append(v)
    return _linear_estimates(design, "total", columns, by, na_rm, conf_level, df, labels)

def proportion(design, var: str, by: str | Sequence[str] | None = None, *,
               na_rm: bool = False, conf_level: float = 0.95, df: float | None = None,
               ci_method: str = "wald") -> SurveyEstimate:
    """Design-based proportion of each level of a categorical variable.

    Parameters
    ----------
    var : str
        Categorical column (any dtype; levels sorted, or the categories' order).
    by, na_rm, conf_level
        As :meth:`mean`.
    df : float, optional
        Degrees of freedom of the interval. Default: ``inf`` for ``ci_method="wald"``
        (R's ``confint(svymean(~factor))``), the design df (``degf`` of the group) for
        ``"logit"`` (R's ``svyciprop``).
    ci_method : {"wald", "logit"}, default "wald"
        ``"wald"``: estimate -/+ critical value x se, as ``confint(svymean(~f, design))``;
        ``"logit"``: interval on the logit scale back-transformed, as
        ``svyciprop(~I(f == level), design)`` (its default ``method="logit"``), which
        stays inside (0, 1).

    Returns
    -------
    SurveyEstimate
        ``kind="proportion"``, one row per level (and group), with column ``level``.

    Notes
    -----
    The proportion of level ``k`` is the mean of the indicator ``1{y_i = k}`` (see
    :meth:`mean`). Logit interval: with ``p`` and ``se``,
    ``expit(logit(p) -/+ t_{df} se / (p (1 - p)))``.

    References
    ----------
    Korn, E. L., & Graubard, B. I. (1998). Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data. *Survey Methodology*,
    24, 193-201.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._design import SurveyDesign
    >>> df = pd.DataFrame({"f": list("aabb"), "w": [1.0, 1, 2, 4]})
    >>> SurveyDesign(df, weights="w").proportion("f").estimate.round(4).tolist()
    [0.25, 0.75]
    >>> # R: svymean(~f, svydesign(~1, weights=~w, data=df))
    """
    if ci_method not in ("wald", "logit"):
        raise InputError("unknown ci_method", value=ci_method, expected="'wald' or 'logit'")
    levels, codes, miss = design._categorical(var)
    columns = [(np.where(miss, np.nan, (codes == k).astype(float)), miss, lev)
               for k, lev in enumerate(levels)]
    res = _linear_estimates(design, "mean", columns, by, na_rm, conf_level,
                                 df if ci_method == "wald" else None, [var] * len(levels))
    rows = res.rows
    est = np.atleast_1d(np.asarray(res.estimate, dtype=float))
    se = np.atleast_1d(np.asarray(res.se, dtype=float))
    dfs = np.atleast_1d(np.asarray(res.df, dtype=float))
    if ci_method == "logit":
        groups, _ = design._groups(by)
        gdf = {}
        for label, _values, gmask in groups:
            inset = gmask & ~miss if na_rm else gmask
            gdf[label] = design._degf(inset)
        dfs = np.array([float(df) if df is not None else
                        float(gdf[r.get("group")] if "group" in rows else gdf[None])
                        for r in rows.to_dict("records")])
        crit = np.array([_critical(conf_level, d) for d in dfs])
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.log(est / (1 - est))
            se_eta = se / (est * (1 - est))
            lo = 1 / (1 + np.exp(-(eta - crit * se_eta)))
            hi = 1 / (1 + np.exp(-(eta + crit * se_eta)))
        ci = (lo, hi)
    else:
        crit = np.array([_critical(conf_level, d) for d in dfs])
        ci = (est - crit * se, est + crit * se)
    v = None if res.vcov is None else res.vcov.to_numpy()
    return make_estimate("proportion", rows.to_dict("records"), est, v,
                               np.atleast_1d(np.asarray(res.deff, dtype=float)), list(dfs),
                               list(np.atleast_1d(np.asarray(res.n))), conf_level, [],
                               se=se, ci=ci)

def ratio(design, num: str, den: str, by: str | Sequence[str] | None = None, *,
          na_rm: bool = False, conf_level: float = 0.95,
          df: float | None = None) -> SurveyEstimate:
    """Design-based ratio of two population totals, ``sum(w num) / sum(w den)``.

    Parameters
    ----------
    num, den : str
        Numeric columns of the numerator and denominator.
    by, conf_level, df
        As :meth:`mean`.
    na_rm : bool, default False
        True drops rows where either variable is missing (R's ``na.rm=TRUE``).

    Returns
    -------
    SurveyEstimate
        ``kind="ratio"``, ``variable`` = ``"num/den"``.

    Notes
    -----
    :math:`\\hat R = \\hat Y / \\hat X`, linearised variable
    :math:`z_i = w_i (y_i - \\hat R x_i) / \\hat X` (R's ``svyratio``); ``deff`` as R's
    ``deff(svytotal(r, design, deff=TRUE))`` with ``r_i = (y_i - R x_i) / \\hat X``.

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques* (3rd ed.), ch. 6. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._design import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 2, 3], "x": [2.0, 2, 4], "w": [1.0, 1, 1]})
    >>> SurveyDesign(df, weights="w").ratio("y", "x").estimate  # R: svyratio(~y, ~x, design)
    0.75
    """
    y, ymiss = design._numeric(num)
    x, xmiss = design._numeric(den)
    miss = ymiss | xmiss
    groups, by_cols = design._groups(by)
    w = design._w
    rows, est, zs, deffs, ns, warns = [], [], [], [], [], []
    for label, values, gmask in groups:
        d = gmask & ~miss if na_rm else gmask
        missing_in = (not na_rm) and bool((miss & gmask).any())
        wd = np.where(d, w, 0.0)
        yy, xx = np.where(d, np.nan_to_num(y), 0.0), np.where(d, np.nan_to_num(x), 0.0)
        X = float((wd * xx).sum())
        nobs = int((wd != 0).sum())
        if missing_in or X == 0:
            r_hat, z, dv = np.nan, np.zeros(len(w)), np.nan
            if missing_in:
                warns.append(f"{num}/{den}: missing values (na_rm=False gives NaN, as R)")
        else:
            r_hat = float((wd * yy).sum()) / X
            r = np.where(d, (yy - r_hat * xx) / X, 0.0)
            z = wd * r
            psum = wd.sum()
            rbar = float((wd * r).sum() / psum)
            dv = _deff_ratio(z, wd, r, rbar, psum, nobs, "total")
        row = {}
        if by_cols:
            row["group"] = label
            row.update(values)
        row["variable"] = f"{num}/{den}"
        rows.append(row)
        est.append(r_hat)
        zs.append(z)
        deffs.append(dv)
        ns.append(nobs)
    v = design.variance(np.column_stack(zs))
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.array([np.nan if not np.isfinite(dv) else np.float64(v[i, i]) / dv
                         for i, dv in enumerate(deffs)])
    df_used = [math.inf if df is None else float(df)] * len(est)
    return make_estimate("ratio", rows, np.array(est), v, deff, df_used, ns, conf_level,
                               warns)
