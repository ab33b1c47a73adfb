"""Design-based quantiles with Woodruff confidence intervals (R's ``svyquantile``).

:func:`quantile` is bound as :meth:`analysis.survey._design.SurveyDesign.quantile`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from analysis.errors import InputError
from analysis.survey._estimate import SurveyEstimate, _critical, make_estimate

__all__ = ["quantile"]


def _qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """Weighted quantile, R survey's ``qrule="math"`` (inverse of the weighted ECDF)."""
    keep = w != 0
    x, w = x[keep], w[keep]
    if len(x) == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cumw = np.cumsum(w)
    total = cumw[-1]
    below = np.nonzero(cumw <= p * total)[0]
    if len(below) == 0:  # p below the first jump: the smallest value
        return float(x[0])
    pos = below[-1]
    posnext = pos if pos == len(x) - 1 else pos + 1
    wlow = p - cumw[pos] / total
    return float(x[pos] if wlow == 0 else x[posnext])


def quantile(design, var: str, q: float | Sequence[float] = 0.5,
             by: str | Sequence[str] | None = None, *, na_rm: bool = False,
             conf_level: float = 0.95, df: float | None = None) -> SurveyEstimate:
    """Design-based quantile(s) with Woodruff confidence intervals (R's ``svyquantile``).

    Parameters
    ----------
    var : str
        Numeric column.
    q : float or list of float, default 0.5
        Probabilities in (0, 1).
    by, na_rm, conf_level
        As :meth:`mean`.
    df : float, optional
        Degrees of freedom; default the design df of the (group) design, R's
        ``degf(design)`` default of ``svyquantile``.

    Returns
    -------
    SurveyEstimate
        ``kind="quantile"``, column ``q``; ``deff`` is NaN (R gives none); ``vcov`` None.

    Notes
    -----
    Default method of R survey >= 4.1: ``qrule="math"`` (the smallest value whose
    weighted ECDF reaches ``q``; exact inverse of the weighted distribution function) and
    ``interval.type="mean"`` (Woodruff 1952): with ``p = F_w(q_hat)`` the estimated mean of
    ``1{y <= q_hat}`` and its SE, the interval of ``p`` is ``p -/+ t_{df} se`` and its
    bounds are mapped back through the same quantile rule; the reported SE is the interval
    width divided by ``2 t_{df}``.

    References
    ----------
    Woodruff, R. S. (1952). Confidence intervals for medians and other position measures.
    *JASA*, 47, 635-646. Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical
    packages. *The American Statistician*, 50, 361-365.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._design import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "w": [1.0, 1, 1, 1, 1]})
    >>> SurveyDesign(df, weights="w").quantile("y", 0.5).estimate
    3.0
    >>> # R: svyquantile(~y, design, 0.5)
    """
    qs = [float(v) for v in np.atleast_1d(q)]
    if any(not 0 < v < 1 for v in qs):
        raise InputError("quantile probabilities must lie in (0, 1)", value=qs)
    x, miss = design._numeric(var)
    groups, by_cols = design._groups(by)
    w = design._w
    rows, est, ses, lows, highs, dfs, ns, warns = [], [], [], [], [], [], [], []
    for label, values, gmask in groups:
        d = gmask & ~miss if na_rm else gmask
        missing_in = (not na_rm) and bool((miss & gmask).any())
        wd = np.where(d, w, 0.0)
        xx = np.where(d, np.nan_to_num(x), 0.0)
        nobs = int((wd != 0).sum())
        dfg = float(design._degf(d)) if df is None else float(df)
        crit = _critical(conf_level, dfg)
        psum = wd.sum()
        for p in qs:
            if missing_in or psum == 0:
                qhat = lo = hi = se = np.nan
                if missing_in:
                    warns.append(f"{var}: missing values (na_rm=False gives NaN, as R)")
            else:
                qhat = _qrule_math(xx, wd, p)
                ind = (xx <= qhat).astype(float)
                pm = float((wd * ind).sum() / psum)
                z = wd * (ind - pm) / psum
                se_p = math.sqrt(max(design.variance(z)[0, 0], 0.0))
                pl, pu = pm - crit * se_p, pm + crit * se_p
                lo = np.nan if (np.isnan(pl) or pl < 0) else _qrule_math(xx, wd, pl)
                hi = np.nan if (np.isnan(pu) or pu > 1) else _qrule_math(xx, wd, pu)
                se = (hi - lo) / (2 * crit)
            row = {}
            if by_cols:
                row["group"] = label
                row.update(values)
            row["variable"] = var
            row["q"] = p
            rows.append(row)
            est.append(qhat)
            ses.append(se)
            lows.append(lo)
            highs.append(hi)
            dfs.append(dfg)
            ns.append(nobs)
    return make_estimate("quantile", rows, np.array(est), None,
                               np.full(len(est), np.nan), dfs, ns, conf_level, warns,
                               se=np.array(ses), ci=(np.array(lows), np.array(highs)))
