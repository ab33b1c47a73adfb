"""Structural equation models: CFA (ML, MLR, FIML), ordinal WLSMV, measurement invariance.

One module per stage of a fit, as lavaan: ``_syntax`` (model syntax), ``_partable``
(parameter table, starting values), ``_matrices`` (:class:`SEMModel`), ``_ml`` (ML / FIML fit
function, gradient, information), ``_ml_fit`` and ``_wlsmv*`` (the estimators),
``_fit_measures``, ``_standardize``, ``_lrt`` (difference tests), ``_results``; the estimator
is chosen by name in the table of ``_estimators``. Public names are imported from their
private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "cfa": "_cfa",
    "sem": "_sem",
    "product_indicators": "_sem",
    "CFAResults": "_results",
    "htmt": "_htmt",
    "FIT_MEASURES": "_fit_measures",
    "SCALED_FIT_MEASURES": "_fit_measures",
    "measurement_invariance": "_invariance",
    "InvarianceResults": "_invariance",
    "InvarianceEngine": "_estimators",
    "ESTIMATORS": "_estimators",
    "CONTINUOUS_LEVELS": "_estimators",
    "ORDERED_LEVELS": "_estimators",
    "difference_test": "_lrt",
    "Statement": "_syntax",
    "Modifier": "_syntax",
    "parse_syntax": "_syntax",
    "build_partable": "_partable",
    "SEMModel": "_matrices",
    "start_values": "_partable",
    "GROUP_EQUAL_CHOICES": "_partable",
    "WLSMVResult": "_results",
    "DifferenceTest": "_results",
    "fit_wlsmv": "_wlsmv",
    "wlsmv_difference_test": "_lrt",
    "ordinal_invariance": "_wlsmv",
    "sample_statistics": "_wlsmv_stats",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
