"""The table of estimators, chosen by name (as lavaan's ``estimator`` argument).

Each entry of :data:`ESTIMATORS` says how to fit a model with that estimator, which
measurement-invariance levels it knows (:func:`analysis.cbsem.measurement_invariance`) and how
to compare two nested fits. The table is written out here: importing a module registers
nothing, and the modules of the estimators do not know the table.

==========  ==========================================  ==========================  =========
name        fit                                         invariance levels           test
==========  ==========================================  ==========================  =========
``ML``      :func:`analysis.cbsem._ml_fit.fit_ml`         :data:`CONTINUOUS_LEVELS`   plain
``MLR``     :func:`analysis.cbsem._ml_fit.fit_ml`         :data:`CONTINUOUS_LEVELS`   SB 2001
``WLSMV``   :func:`analysis.cbsem._wlsmv.fit_wlsmv`       :data:`ORDERED_LEVELS`      Satorra 2000
==========  ==========================================  ==========================  =========

``DWLS`` is an alias of ``WLSMV`` (same estimates; lavaan reports the WLSMV test with it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.cbsem._lrt import difference_test, wlsmv_difference_test
from analysis.cbsem._ml_fit import fit_ml
from analysis.cbsem._wlsmv import fit_wlsmv

__all__ = ["InvarianceEngine", "ESTIMATORS", "CONTINUOUS_LEVELS", "ORDERED_LEVELS"]

#: ``group_equal`` of each level for continuous indicators (lavaan ``group.equal``)
CONTINUOUS_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
    "means": ("loadings", "intercepts", "residuals", "means"),
}

#: levels for ordered indicators (Wu & Estabrook 2016)
ORDERED_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "thresholds+loadings": ("thresholds", "loadings"),
    "loadings": ("thresholds", "loadings"),
}


@dataclass(frozen=True)
class InvarianceEngine:
    """What an estimator contributes to a fit and to the invariance sequence.

    Attributes
    ----------
    fit : callable
        ``fit(model, data, group=..., group_equal=..., **kw)`` returning a result with a
        ``fit`` Series (``chisq``, ``df``, ``cfi``, ``rmsea``, optionally ``scaling_factor``,
        ``cfi_robust``, ``rmsea_robust``, ...).
    levels : mapping
        Level name -> ``group_equal`` tuple.
    difference : callable
        ``difference(res0, res1) -> (delta_chisq, delta_df, p_value)`` of the more
        restricted ``res1`` against ``res0``.
    fit_kwargs : mapping
        Extra keyword arguments always passed to ``fit`` (e.g. ``estimator``).
    ordinal : bool
        The fit takes ordered indicators (``ordered=``) rather than a mean structure.
    shares_work : bool
        The fit accepts ``_shared`` (a dict kept across fits of the same data).

    Examples
    --------
    >>> from analysis.cbsem._estimators import ESTIMATORS
    >>> sorted(ESTIMATORS)
    ['DWLS', 'ML', 'MLR', 'WLSMV']
    >>> list(ESTIMATORS["WLSMV"].levels)[:2]
    ['configural', 'thresholds']
    """

    fit: Callable[..., Any]
    levels: Mapping[str, tuple[str, ...]]
    difference: Callable[[Any, Any], tuple[float, float, float]] = difference_test
    fit_kwargs: Mapping[str, Any] = field(default_factory=dict)
    ordinal: bool = False
    shares_work: bool = False


def _wlsmv_difference(res0, res1) -> tuple[float, float, float]:
    """(delta_chisq, delta_df, p_value) of the more restricted ``res1`` against ``res0``."""
    t = wlsmv_difference_test(res1, res0)
    return t.statistic, t.df, t.p_value


_WLSMV = InvarianceEngine(
    fit=fit_wlsmv, levels=ORDERED_LEVELS, difference=_wlsmv_difference, ordinal=True
)

#: estimator name (upper case) -> :class:`InvarianceEngine`
ESTIMATORS: dict[str, InvarianceEngine] = {
    "ML": InvarianceEngine(
        fit=fit_ml, levels=CONTINUOUS_LEVELS, fit_kwargs={"estimator": "ML"}, shares_work=True
    ),
    "MLR": InvarianceEngine(
        fit=fit_ml, levels=CONTINUOUS_LEVELS, fit_kwargs={"estimator": "MLR"}, shares_work=True
    ),
    "WLSMV": _WLSMV,
    "DWLS": _WLSMV,
}
