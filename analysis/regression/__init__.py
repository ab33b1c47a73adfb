"""Regression models (OLS, logit, ordinal, counts) with robust and survey variances.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "COEF_COLUMNS": "_results",
    "FIT_FIELDS": "_results",
    "MODEL_KINDS": "_results",
    "SE_TYPES": "_results",
    "RegressionResult": "_results",
    "regress": "_fit",
    "MiceOptions": "_mice",
    "pool_rubin": "_mice",
    "ModelComparison": "_comparison",
    "compare_models": "_comparison",
    "simple_slopes": "_slopes",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
