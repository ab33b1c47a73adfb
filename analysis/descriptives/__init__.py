"""Descriptive statistics and group comparisons.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DESCRIBE_COLUMNS": "_describe",
    "LIKERT_COLUMNS": "_describe",
    "describe": "_describe",
    "likert_distribution": "_describe",
    "weighted_quantile": "_describe",
    "CrosstabResult": "_group_tests",
    "GroupComparison": "_group_tests",
    "compare_groups": "_group_tests",
    "crosstab": "_group_tests",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
