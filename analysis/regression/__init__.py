"""Regression models (OLS, logit, ordinal, counts) with robust and survey variances.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "COEF_COLUMNS": "_regression",
    "FIT_FIELDS": "_regression",
    "MODEL_KINDS": "_regression",
    "SE_TYPES": "_regression",
    "MiceOptions": "_regression",
    "ModelComparison": "_regression",
    "RegressionResult": "_regression",
    "compare_models": "_regression",
    "pool_rubin": "_regression",
    "regress": "_regression",
    "simple_slopes": "_regression",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
