"""Reliability, exploratory factor analysis, rotations and polychoric correlations.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "KMOResult": "_adequacy",
    "BartlettResult": "_adequacy",
    "ParallelResult": "_parallel",
    "FactorFit": "_factor_fit",
    "EFAResult": "_efa_result",
    "kmo": "_adequacy",
    "bartlett": "_adequacy",
    "parallel_analysis": "_parallel",
    "efa": "_factor",
    "factor_scores": "_scores",
    "correlation_matrix": "_correlation",
    "smc": "_correlation",
    "PolychoricResult": "_polychoric",
    "polychoric": "_polychoric",
    "tetrachoric": "_polychoric",
    "bivariate_normal_cdf": "_polychoric",
    "AlphaResult": "_reliability",
    "OmegaResult": "_reliability",
    "alpha": "_reliability",
    "omega": "_reliability",
    "RotationResult": "_rotation",
    "rotate": "_rotation",
    "varimax": "_rotation",
    "gpa_varimax": "_rotation",
    "oblimin": "_rotation",
    "quartimin": "_rotation",
    "geomin": "_rotation",
    "promax": "_rotation",
    "kaiser_promax": "_rotation",
    "ROTATIONS": "_rotation",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
