"""Simple slopes of a moderation model: the focal effect at values of the moderator (Aiken & West).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.regression._results import RegressionResult, _coef_table

__all__ = ["simple_slopes"]


def simple_slopes(result: RegressionResult, focal: str, moderator: str,
                  at: Sequence[float] | None = None) -> pd.DataFrame:
    """Conditional effect of ``focal`` at values of ``moderator`` (moderation).

    Parameters
    ----------
    result : RegressionResult
        A model with terms ``focal``, ``moderator`` and their product (``focal:moderator``
        in either order).
    focal, moderator : str
        Column names (numeric).
    at : sequence of float, optional
        Moderator values on the *original* scale (centring, if any, is undone with
        ``result.extra["centered"]``). Default: mean - 1 SD, mean, mean + 1 SD.

    Returns
    -------
    pandas.DataFrame
        Columns ``moderator_value``, ``estimate``, ``se``, ``statistic``, ``df``, ``p_value``,
        ``ci_low``, ``ci_high``.

    Notes
    -----
    With ``m`` the moderator on the fitted scale, slope ``= b_f + b_fm m`` and
    ``se = sqrt(V_ff + m^2 V_mm + 2 m V_fm)`` (Aiken & West 1991), tested like the
    coefficients (t with ``df_resid`` or z).

    References
    ----------
    Aiken, L. S., & West, S. G. (1991). *Multiple Regression: Testing and Interpreting
    Interactions*. Sage.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.regression import regress, simple_slopes
    >>> rng = np.random.default_rng(4)
    >>> d = pd.DataFrame({"x": rng.normal(size=400), "m": rng.integers(0, 4, 400)})
    >>> d["y"] = d["x"] * (1 + 0.5 * d["m"]) + rng.normal(size=400)
    >>> r = regress("y ~ x * m", d, center=["x", "m"])
    >>> ss = simple_slopes(r, "x", "m", at=[0, 3])
    >>> # R: interactions::sim_slopes(lm(y ~ x * m, d), pred = x, modx = m, modx.values = c(0, 3))
    >>> list(ss.columns)[:3]
    ['moderator_value', 'estimate', 'se']
    """
    if result.vcov is None:
        raise InputError("simple slopes need the covariance matrix of the estimates")
    idx = list(result.coefficients.index)
    inter = next((t for t in (f"{focal}:{moderator}", f"{moderator}:{focal}") if t in idx), None)
    if focal not in idx or inter is None:
        raise InputError("the model has no such focal term or interaction", value=(focal, moderator),
                         expected=f"terms {focal!r} and {focal}:{moderator}")
    shift = float(result.extra.get("centered", {}).get(moderator, 0.0))
    if at is None:
        if result.exog is None or moderator not in result.exog.columns:
            raise InputError("give at= (moderator values): the design matrix is not kept")
        mv = result.exog[moderator]
        mean, sd = float(mv.mean()) + shift, float(mv.std(ddof=1))
        at = [mean - sd, mean, mean + sd]
    at = np.asarray(at, dtype=float)
    mm = at - shift
    b = result.coefficients["estimate"]
    V = result.vcov
    est = b[focal] + b[inter] * mm
    se = np.sqrt(V.loc[focal, focal] + mm**2 * V.loc[inter, inter]
                 + 2 * mm * V.loc[focal, inter])
    df = result.fit["df_resid"] if result.dist == "t" else None
    tab = _coef_table([str(v) for v in at], est, se, df, result.conf_level).reset_index(drop=True)
    tab.insert(0, "moderator_value", at)
    tab.insert(4, "df", np.nan if df is None else float(df))
    return tab
