"""Complex survey designs, design weights, post-stratification and raking.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "SurveyDesign": "_design",
    "SurveyEstimate": "_estimate",
    "LONELY_PSU_OPTIONS": "_design",
    "GLM_FAMILIES": "_glm",
    "design_weights": "_weighting",
    "stratum_population": "_weighting",
    "poststratify": "_weighting",
    "rake": "_weighting",
    "PostStratification": "_calibration",
    "Raking": "_calibration",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
