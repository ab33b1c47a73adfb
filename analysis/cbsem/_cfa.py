"""Confirmatory factor analysis by maximum likelihood, matching R lavaan.

:func:`cfa` fits a measurement model written in lavaan syntax (see :mod:`analysis.cbsem._syntax`)
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

The estimator is chosen by name in the table :data:`analysis.cbsem._estimators.ESTIMATORS`
(``"ML"``, ``"MLR"``: :func:`analysis.cbsem._ml_fit.fit_ml`; ``"WLSMV"``:
:func:`analysis.cbsem._wlsmv.fit_wlsmv`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.cbsem._estimators import ESTIMATORS
from analysis.cbsem._htmt import htmt
from analysis.cbsem._results import CFAResults
from analysis.errors import InputError

__all__ = ["cfa", "CFAResults", "htmt"]


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
        (:func:`analysis.cbsem.fit_wlsmv`, which returns a ``WLSMVResult`` with the same
        core attributes).
    missing : {"listwise", "fiml"}
        ``"listwise"`` (lavaan's default) drops incomplete rows; ``"fiml"`` uses every
        observed value (casewise ML, lavaan ``missing = "ml"``).
    group : str, optional
        Column defining groups (multiple-group CFA); groups in order of appearance.
    group_equal : sequence of str
        Parameters held equal across groups, e.g. ``("loadings",)`` (metric) or
        ``("loadings", "intercepts")`` (scalar); see
        :data:`analysis.cbsem.GROUP_EQUAL_CHOICES`.
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
        :func:`analysis.cbsem._invariance.measurement_invariance` does), holding what does not
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
    >>> from analysis.cbsem import cfa
    >>> hs = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
    >>> model = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
    >>> res = cfa(model, hs)  # R: lavaan::cfa(model, data = HolzingerSwineford1939)
    >>> round(float(res.fit["chisq"]), 3), int(res.fit["df"])
    (85.306, 24)
    """
    est = "WLSMV" if ordered not in (None, False) else str(estimator).upper()
    entry = ESTIMATORS.get(est)
    if entry is None:
        raise InputError("unknown estimator", value=estimator, expected='"ML", "MLR" or "WLSMV"')
    if entry.ordinal:
        return entry.fit(model, data, ordered=True if ordered in (None, True) else ordered,
                         group=group, group_equal=group_equal, group_partial=group_partial,
                         std_lv=std_lv, missing=missing, level=level, **entry.fit_kwargs)
    return entry.fit(model, data, missing=missing, group=group, group_equal=group_equal,
                     group_partial=group_partial, std_lv=std_lv, meanstructure=meanstructure,
                     level=level, _shared=_shared, **entry.fit_kwargs)
