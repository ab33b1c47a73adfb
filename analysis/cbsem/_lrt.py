"""Chi-square difference tests of nested models (lavaan ``lavTestLRT``).

:func:`difference_test` for ML and MLR fits (plain, or Satorra-Bentler 2001 scaled);
:func:`wlsmv_difference_test` for WLSMV fits (Satorra 2000 scaled-and-shifted).

References
----------
Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for moment
structure analysis. *Psychometrika*, 66(4), 507-514.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis.cbsem._results import DifferenceTest, WLSMVResult
from analysis.cbsem._wlsmv_model import _blockdiag
from analysis.errors import InputError

__all__ = ["difference_test", "wlsmv_difference_test"]


def difference_test(res0, res1, method: str = "default") -> tuple[float, float, float]:
    """Chi-square difference test of a restricted model ``res1`` against ``res0``.

    Parameters
    ----------
    res0, res1 : CFAResults
        The less and the more restricted model (``res1.fit["df"] > res0.fit["df"]``).
    method : {"default", "standard", "satorra.bentler.2001"}
        ``"default"``: the plain difference for ML, the Satorra-Bentler (2001) scaled
        difference when both results carry a ``scaling_factor`` (MLR), as ``lavTestLRT``.

    Returns
    -------
    tuple of float
        ``(delta_chisq, delta_df, p_value)``.

    Notes
    -----
    Satorra-Bentler (2001): with unscaled statistics ``T0, T1``, degrees of freedom
    ``d0 < d1`` and scaling factors ``c0, c1``,
    ``cd = (d1 c1 - d0 c0) / (d1 - d0)`` and ``T = (T1 - T0) / cd`` on ``d1 - d0`` df.

    References
    ----------
    Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. *Psychometrika*, 66(4), 507-514.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from analysis.cbsem._lrt import difference_test
    >>> a = SimpleNamespace(fit=pd.Series({"chisq": 10.0, "df": 5}))
    >>> b = SimpleNamespace(fit=pd.Series({"chisq": 14.0, "df": 7}))
    >>> difference_test(a, b)[:2]  # R: lavaan::lavTestLRT(fit0, fit1)
    (4.0, 2.0)
    """
    f0, f1 = res0.fit, res1.fit
    t0, t1 = float(f0["chisq"]), float(f1["chisq"])
    d0, d1 = float(f0["df"]), float(f1["df"])
    dd = d1 - d0
    scaled = "scaling_factor" in f0.index and "scaling_factor" in f1.index
    scaled = scaled and np.isfinite(f0["scaling_factor"]) and np.isfinite(f1["scaling_factor"])
    if method == "default":
        method = "satorra.bentler.2001" if scaled else "standard"
    if method == "standard":
        dt = t1 - t0
    elif method == "satorra.bentler.2001":
        c0, c1 = float(f0["scaling_factor"]), float(f1["scaling_factor"])
        cd = (d1 * c1 - d0 * c0) / dd
        dt = (t1 - t0) / cd
    else:
        raise InputError(
            "unknown difference-test method",
            value=method,
            expected='"default", "standard" or "satorra.bentler.2001"',
        )
    p = float(stats.chi2.sf(dt, dd)) if dd > 0 else np.nan
    return float(dt), float(dd), p


def wlsmv_difference_test(h0: WLSMVResult, h1: WLSMVResult) -> DifferenceTest:
    """Scaled chi-square difference test of nested WLSMV models (lavaan ``lavTestLRT``).

    Parameters
    ----------
    h0 : WLSMVResult
        The restricted model (more degrees of freedom).
    h1 : WLSMVResult
        The less restricted model, fitted to the same data.

    Returns
    -------
    DifferenceTest

    Notes
    -----
    Satorra (2000), scaled-shifted version as lavaan 0.6 (``method = "satorra.2000"``,
    ``scaled.shifted = TRUE``): with :math:`A` the constraints that take ``h1`` to ``h0``
    (here obtained numerically as the Jacobian of ``h0``'s parameters in terms of ``h1``'s,
    :math:`\\Delta_0 = \\Delta_1 K`), :math:`P = \\Delta_1'W\\Delta_1`,
    :math:`M = P^{-1} - K(K'PK)^{-1}K'`, :math:`B = \\Delta_1'W\\Gamma W\\Delta_1`,
    :math:`U\\Gamma` traces :math:`t_1 = \\mathrm{tr}(MB)`, :math:`t_2 = \\mathrm{tr}((MB)^2)`,
    :math:`a = \\sqrt{m/t_2}`, statistic :math:`a(T_0 - T_1) + m - a t_1` with :math:`m` the
    df difference.

    References
    ----------
    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
    moment structures. In *Innovations in multivariate statistical analysis* (pp. 233-247).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.cbsem import fit_wlsmv, wlsmv_difference_test
    >>> rng = np.random.default_rng(2)
    >>> y = 0.7 * rng.normal(size=(3000, 1)) + rng.normal(size=(3000, 4)) * 0.71
    >>> d = pd.DataFrame(np.digitize(y, [-1, 0, 1]) + 1, columns=list("abcd"))
    >>> d["g"] = np.repeat([1, 2], 1500)
    >>> m = "F =~ a + b + c + d"
    >>> free = fit_wlsmv(m, d, group="g")
    >>> equal = fit_wlsmv(m, d, group="g", group_equal=["thresholds"])
    >>> t = wlsmv_difference_test(equal, free)  # R: lavaan::lavTestLRT(free, equal)
    >>> t.df
    7.0
    """
    m = h0.fit_measures["df"] - h1.fit_measures["df"]
    if m <= 0:
        raise InputError(
            "h0 must have more degrees of freedom than h1",
            value=m,
            expected="a positive df difference",
        )
    fg = [n_ / sum(h1.nobs) for n_ in h1.nobs]
    D1 = np.vstack(h1._delta)
    D0 = np.vstack(h0._delta)
    Wd = np.concatenate([ww * f for ww, f in zip(h1._w, fg)])
    Gm = _blockdiag([s.nacov * (s.n / (s.n - 1.0)) / f for s, f in zip(h1.sample, fg)])
    # K: columns of D0 expressed in D1's parameter space (least squares, exact for nesting)
    K, *_ = np.linalg.lstsq(D1, D0, rcond=None)
    P = D1.T @ (Wd[:, None] * D1)
    Pinv = np.linalg.pinv(P)
    KPK = K.T @ P @ K
    M = Pinv - K @ np.linalg.pinv(KPK) @ K.T
    WD = Wd[:, None] * D1
    B = WD.T @ Gm @ WD
    MB = M @ B
    t1 = np.trace(MB)
    t2 = np.sum(MB * MB.T)
    a = np.sqrt(m / t2)
    T = h0.fit_measures["chisq"] - h1.fit_measures["chisq"]
    stat = a * T + (m - a * t1)
    return DifferenceTest(
        statistic=float(stat),
        df=float(m),
        p_value=float(stats.chi2.sf(stat, m)),
        chisq_h0=float(h0.fit_measures["chisq"]),
        chisq_h1=float(h1.fit_measures["chisq"]),
    )
