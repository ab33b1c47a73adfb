"""Measurement invariance across groups: the configural / metric / scalar sequence.

:func:`measurement_invariance` fits a sequence of multiple-group CFA models with more and more
parameters held equal across groups and compares each model with the previous one by a
chi-square difference test (lavaan ``lavTestLRT``), with the changes in CFI and RMSEA.

The estimator-specific work (fitting a model, the difference test, which parameters each level
constrains) is held in an :class:`InvarianceEngine`; ``"ML"`` and ``"MLR"`` are built in
(:func:`analysis.sem._cfa.cfa`). An ordinal estimator registers its own engine with
:func:`register_engine`, e.g. ``"WLSMV"`` with the levels of :data:`ORDERED_LEVELS`
(configural, thresholds, thresholds + loadings; Wu & Estabrook, 2016) and a scaled-shifted
difference test; :func:`measurement_invariance` imports ``analysis.sem._wlsmv`` on first use of
``estimator="WLSMV"`` so that the module can register itself.

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

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import InputError

__all__ = [
    "measurement_invariance",
    "InvarianceResults",
    "InvarianceEngine",
    "register_engine",
    "CONTINUOUS_LEVELS",
    "ORDERED_LEVELS",
    "difference_test",
]

#: ``group_equal`` of each level for continuous indicators (lavaan ``group.equal``)
CONTINUOUS_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
    "means": ("loadings", "intercepts", "residuals", "means"),
}

#: levels for ordered indicators (Wu & Estabrook 2016), for an ordinal engine
ORDERED_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "thresholds+loadings": ("thresholds", "loadings"),
    "loadings": ("thresholds", "loadings"),
}


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
    >>> from analysis.sem._invariance import difference_test
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


@dataclass(frozen=True)
class InvarianceEngine:
    """What an estimator contributes to the invariance sequence.

    Attributes
    ----------
    fit : callable
        ``fit(model, data, group=..., group_equal=..., **kw)`` returning a result with a
        ``fit`` Series (``chisq``, ``df``, ``cfi``, ``rmsea``, optionally ``scaling_factor``,
        ``cfi_robust``, ``rmsea_robust``, ...).
    levels : mapping
        Level name -> ``group_equal`` tuple.
    difference : callable
        ``difference(res0, res1) -> (delta_chisq, delta_df, p_value)``.
    fit_kwargs : mapping
        Extra keyword arguments always passed to ``fit`` (e.g. ``estimator``).
    """

    fit: Callable[..., Any]
    levels: Mapping[str, tuple[str, ...]]
    difference: Callable[[Any, Any], tuple[float, float, float]] = difference_test
    fit_kwargs: Mapping[str, Any] = field(default_factory=dict)


_ENGINES: dict[str, InvarianceEngine] = {}

_SCALED_COLUMNS = (
    "chisq_scaled",
    "scaling_factor",
    "cfi_scaled",
    "rmsea_scaled",
    "cfi_robust",
    "rmsea_robust",
)
_SCALED_DELTAS = ("cfi_scaled", "rmsea_scaled", "cfi_robust", "rmsea_robust")


def register_engine(estimator: str, engine: InvarianceEngine) -> None:
    """Make ``estimator`` available to :func:`measurement_invariance`.

    Examples
    --------
    >>> from analysis.sem._invariance import register_engine, InvarianceEngine, ORDERED_LEVELS
    >>> register_engine("TOY", InvarianceEngine(fit=print, levels=ORDERED_LEVELS))
    """
    _ENGINES[estimator.upper()] = engine


def _builtin() -> None:
    from analysis.sem._cfa import cfa

    for est in ("ML", "MLR"):
        _ENGINES.setdefault(
            est, InvarianceEngine(fit=cfa, levels=CONTINUOUS_LEVELS, fit_kwargs={"estimator": est})
        )


@dataclass
class InvarianceResults:
    """Results of :func:`measurement_invariance`.

    Attributes
    ----------
    models : dict
        Level name -> fitted model (e.g. :class:`analysis.sem._cfa.CFAResults`), in sequence order.
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
    estimator : str
        ``"ML"`` or ``"MLR"`` (built in), or any estimator registered with
        :func:`register_engine` (``"WLSMV"`` once ``analysis.sem._wlsmv`` provides it).
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
    >>> from analysis.sem._invariance import measurement_invariance
    >>> hs = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
    >>> model = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
    >>> mi = measurement_invariance(model, hs, "school")  # R: lavaan::lavTestLRT(conf, metr, scal)
    >>> mi.comparison["df"].tolist()
    [48.0, 54.0, 60.0]
    """
    est = str(estimator).upper()
    _builtin()
    if est not in _ENGINES and est == "WLSMV":
        try:
            importlib.import_module("analysis.sem._wlsmv")
        except ImportError:
            pass
    if est not in _ENGINES:
        raise InputError(
            "no invariance engine for this estimator", value=estimator, expected=", ".join(_ENGINES)
        )
    if "group_equal" in kw:
        raise InputError(
            "group_equal is set by the levels; do not pass it", value=kw["group_equal"]
        )
    engine = _ENGINES[est]
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
    from analysis.sem._cfa import cfa

    # the built-in fit keeps what does not depend on the model (prepared data, baseline model)
    shared = {"_shared": {}} if engine.fit is cfa else {}
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
