"""Measurement invariance across groups: the configural / metric / scalar sequence.

:func:`measurement_invariance` fits a sequence of multiple-group CFA models with more and more
parameters held equal across groups and compares each model with the previous one by a
chi-square difference test (lavaan ``lavTestLRT``), with the changes in CFI and RMSEA.

The estimator-specific work (fitting a model, the difference test, which parameters each level
constrains) comes from the estimator table :data:`analysis.cbsem._estimators.ESTIMATORS`
(``"ML"``, ``"MLR"``: :data:`CONTINUOUS_LEVELS`; ``"WLSMV"``: :data:`ORDERED_LEVELS`,
configural, thresholds, thresholds + loadings, Wu & Estabrook, 2016, with a scaled-shifted
difference test). Another estimator is used by passing its :class:`InvarianceEngine` as
``estimator``.

References
----------
Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
*Psychometrika*, 58(4), 525-543.
Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for moment
structure analysis. *Psychometrika*, 66(4), 507-514.
Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
different levels of invariance for ordered categorical outcomes. *Psychometrika*, 81(4),
1014-1045.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.cbsem._estimators import (
    CONTINUOUS_LEVELS,
    ESTIMATORS,
    ORDERED_LEVELS,
    InvarianceEngine,
)
from analysis.cbsem._lrt import difference_test
from analysis.errors import InputError

__all__ = [
    "measurement_invariance",
    "InvarianceResults",
    "InvarianceEngine",
    "CONTINUOUS_LEVELS",
    "ORDERED_LEVELS",
    "difference_test",
]

_SCALED_COLUMNS = (
    "chisq_scaled",
    "scaling_factor",
    "cfi_scaled",
    "rmsea_scaled",
    "cfi_robust",
    "rmsea_robust",
)
_SCALED_DELTAS = ("cfi_scaled", "rmsea_scaled", "cfi_robust", "rmsea_robust")



@dataclass
class InvarianceResults:
    """Results of :func:`measurement_invariance`.

    Attributes
    ----------
    models : dict
        Level name -> fitted model (e.g. :class:`analysis.cbsem.CFAResults`), in sequence order.
    comparison : pandas.DataFrame
        One row per level: ``model, npar, chisq, df, delta_chisq, delta_df, p_value, cfi,
        rmsea, delta_cfi, delta_rmsea`` (``delta_*`` against the previous level, ``p_value``
        of the difference test; the first row has NaN there). With a scaled estimator (MLR,
        WLSMV) also ``chisq_scaled, scaling_factor, cfi_scaled, rmsea_scaled, cfi_robust,
        rmsea_robust`` and their ``delta_`` columns (NaN when the estimator does not report
        the measure).
    estimator : str
        Estimator used.
    group : str
        Grouping column.
    """

    models: dict
    comparison: pd.DataFrame
    estimator: str
    group: str

    def to_frame(self) -> pd.DataFrame:
        """The comparison table."""
        return self.comparison.copy()

    summary_frame = to_frame

    def _repr_html_(self) -> str:
        return (
            f"<p><b>Measurement invariance across {self.group} ({self.estimator})</b></p>"
            + self.comparison.to_html(index=False, float_format=lambda v: f"{v:.4f}")
        )


def measurement_invariance(
    model: str,
    data: pd.DataFrame,
    group: str,
    estimator: str = "ML",
    levels: Sequence[str] = ("configural", "metric", "scalar"),
    **kw,
) -> InvarianceResults:
    """Fit a sequence of invariance models and compare each with the previous one.

    Parameters
    ----------
    model : str
        Measurement model in lavaan syntax.
    data : pandas.DataFrame
        Data with the indicators and the ``group`` column.
    group : str
        Grouping column.
    estimator : str or InvarianceEngine
        A name of the estimator table (``"ML"``, ``"MLR"``, ``"WLSMV"``), or an
        :class:`InvarianceEngine` for another estimator.
    levels : sequence of str
        Levels in order; for ML/MLR from :data:`CONTINUOUS_LEVELS` (``configural``,
        ``metric``, ``scalar``, ``strict``, ``means``).
    **kw
        Passed to the estimator's fit function (e.g. ``missing="fiml"``, ``std_lv``).

    Returns
    -------
    InvarianceResults
        ``models`` and the ``comparison`` table.

    Raises
    ------
    InputError
        For an unknown estimator or level, or ``group_equal`` passed in ``kw``.

    Notes
    -----
    Level ``k`` is fitted with the ``group_equal`` of the level (lavaan ``group.equal``);
    ``delta_chisq`` is ``chisq_k - chisq_{k-1}`` for ML and the Satorra-Bentler (2001)
    scaled difference for MLR (``lavTestLRT`` default), ``delta_cfi = cfi_k - cfi_{k-1}``,
    ``delta_rmsea = rmsea_k - rmsea_{k-1}``.

    References
    ----------
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
    invariance. *Structural Equation Modeling*, 14(3), 464-504.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis import config
    >>> from analysis.cbsem import measurement_invariance
    >>> hs = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
    >>> model = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
    >>> mi = measurement_invariance(model, hs, "school")  # R: lavaan::lavTestLRT(conf, metr, scal)
    >>> mi.comparison["df"].tolist()
    [48.0, 54.0, 60.0]
    """
    if isinstance(estimator, InvarianceEngine):
        engine, est = estimator, "custom"
    else:
        est = str(estimator).upper()
        if est not in ESTIMATORS:
            raise InputError(
                "unknown estimator", value=estimator, expected=", ".join(ESTIMATORS)
            )
        engine = ESTIMATORS[est]
    if "group_equal" in kw:
        raise InputError(
            "group_equal is set by the levels; do not pass it", value=kw["group_equal"]
        )
    unknown = [lv for lv in levels if lv not in engine.levels]
    if unknown:
        raise InputError(
            "unknown invariance level", value=unknown[0], expected=", ".join(engine.levels)
        )
    if len(levels) == 0:
        raise InputError("no invariance level requested", value=levels)
    models: dict[str, Any] = {}
    rows = []
    prev = None
    # the ML fit keeps what does not depend on the model (prepared data, baseline model)
    shared = {"_shared": {}} if engine.shares_work else {}
    for lv in levels:
        res = engine.fit(
            model, data, group=group, group_equal=engine.levels[lv], **engine.fit_kwargs, **kw,
            **shared,
        )
        models[lv] = res
        f = res.fit

        def get(name, f=f):
            return float(f[name]) if name in f.index else np.nan

        row = {
            "model": lv,
            "npar": get("npar"),
            "chisq": get("chisq"),
            "df": get("df"),
            "delta_chisq": np.nan,
            "delta_df": np.nan,
            "p_value": np.nan,
            "cfi": get("cfi"),
            "rmsea": get("rmsea"),
            "delta_cfi": np.nan,
            "delta_rmsea": np.nan,
        }
        scaled = "chisq_scaled" in f.index
        if scaled:
            for name in _SCALED_COLUMNS:
                row[name] = get(name)
            for name in _SCALED_DELTAS:
                row[f"delta_{name}"] = np.nan
        if prev is not None:
            dt, dd, p = engine.difference(models[prev["model"]], res)
            row.update(delta_chisq=dt, delta_df=dd, p_value=p)
            row["delta_cfi"] = row["cfi"] - prev["cfi"]
            row["delta_rmsea"] = row["rmsea"] - prev["rmsea"]
            if scaled:
                for name in _SCALED_DELTAS:
                    row[f"delta_{name}"] = row[name] - prev.get(name, np.nan)
        rows.append(row)
        prev = row
    return InvarianceResults(models, pd.DataFrame(rows), est, group)
