"""Robust variances of model coefficients: HC3 and cluster-robust CR1 sandwiches (R's ``sandwich``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__: list[str] = []


def _sandwich(bread, scores, *, hat=None, groups=None, small_sample=True):
    """bread @ meat @ bread with HC3 (``hat`` given) or CR1 (``groups`` given) meat."""
    n, k = scores.shape
    if groups is not None:
        g_codes, g_uniques = pd.factorize(pd.Series(groups), sort=True)
        G = len(g_uniques)
        U = np.zeros((G, k))
        np.add.at(U, g_codes, scores)
        meat = U.T @ U
        if small_sample:
            meat = meat * (G / (G - 1)) * ((n - 1) / (n - k))
    else:
        u = scores / (1.0 - hat)[:, None]
        meat = u.T @ u
    return bread @ meat @ bread
