"""Structural equation models: CFA (ML, MLR, FIML), ordinal WLSMV, measurement invariance.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "cfa": "_cfa",
    "CFAResults": "_cfa",
    "htmt": "_cfa",
    "FIT_MEASURES": "_cfa",
    "SCALED_FIT_MEASURES": "_cfa",
    "measurement_invariance": "_invariance",
    "InvarianceResults": "_invariance",
    "InvarianceEngine": "_invariance",
    "register_engine": "_invariance",
    "CONTINUOUS_LEVELS": "_invariance",
    "ORDERED_LEVELS": "_invariance",
    "difference_test": "_invariance",
    "Statement": "_model",
    "Modifier": "_model",
    "parse_syntax": "_model",
    "build_partable": "_model",
    "SEMModel": "_model",
    "start_values": "_model",
    "GROUP_EQUAL_CHOICES": "_model",
    "WLSMVResult": "_wlsmv",
    "DifferenceTest": "_wlsmv",
    "fit_wlsmv": "_wlsmv",
    "wlsmv_difference_test": "_wlsmv",
    "ordinal_invariance": "_wlsmv",
    "sample_statistics": "_wlsmv",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
