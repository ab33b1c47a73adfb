"""Nested model comparisons: F test (OLS) or likelihood-ratio test (R's ``anova(m0, m1)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import InputError
from analysis.regression._results import RegressionResult

__all__ = ["ModelComparison", "compare_models"]


@dataclass(frozen=True)
class ModelComparison:
    """Test of a model against a nested, smaller model (see :func:`compare_models`).

    Attributes
    ----------
    test : str
        ``"F"`` (OLS) or ``"LR"`` (likelihood ratio, chi-square).
    statistic : float
        F or LR chi-square statistic.
    df : float
        Numerator degrees of freedom (number of added parameters).
    df_resid : float
        Denominator df of the F test (residual df of the larger model); NaN for LR.
    p_value : float
        Upper-tail p-value.
    delta_r2 : float
        Increase in R2 (OLS) or McFadden pseudo R2 (other models).
    n : int
        Observations (the same in both models).
    """

    test: str
    statistic: float
    df: float
    df_resid: float
    p_value: float
    delta_r2: float
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One-row table with the attributes as columns."""
        return pd.DataFrame([self.__dict__])


def compare_models(m0: RegressionResult, m1: RegressionResult) -> ModelComparison:
    """Test a model ``m1`` against a nested smaller model ``m0`` fitted on the same rows.

    Parameters
    ----------
    m0, m1 : RegressionResult
        Smaller and larger model, same kind, same observations.

    Returns
    -------
    ModelComparison

    Raises
    ------
    analysis.errors.InputError
        Different kinds or numbers of observations, or ``m1`` not larger than ``m0``.

    Notes
    -----
    OLS: ``F = ((SSR_0 - SSR_1) / q) / (SSR_1 / df_1)`` with ``q`` added parameters
    (``anova(m0, m1)``). Other models: ``LR = 2 (llf_1 - llf_0)`` on ``q`` df
    (``anova(m0, m1, test = "LRT")``, ``lmtest::lrtest``). Both use the model-based
    likelihood, whatever the SE type. ``delta_r2``: change in R2 (OLS) or McFadden R2.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.regression import regress, compare_models
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"x": rng.normal(size=100), "z": rng.normal(size=100)})
    >>> d["y"] = d["x"] + rng.normal(size=100)
    >>> c = compare_models(regress("y ~ x", d), regress("y ~ x + z", d))  # R: anova(m0, m1)
    >>> c.test, c.df
    ('F', 1.0)
    """
    if m0.model != m1.model:
        raise InputError("models of different kinds cannot be compared", value=(m0.model, m1.model))
    if "mi" in (m0.se_type, m1.se_type) or "design" in (m0.se_type, m1.se_type):
        raise InputError("F and likelihood-ratio tests need model-based fits; pooled (multiple "
                         "imputation) or design-based results need Wald-type tests",
                         value=(m0.se_type, m1.se_type))
    n0, n1 = m0.fit["n"], m1.fit["n"]
    if n0 != n1:
        raise InputError("the models use different observations (listwise deletion?)",
                         value=(n0, n1), expected="the same n")
    q = float(len(m1.coefficients) - len(m0.coefficients))
    if q <= 0:
        raise InputError("the second model must have more parameters than the first", value=q)
    if m1.model == "ols":
        ssr0, ssr1 = m0.fit["ssr"], m1.fit["ssr"]
        df1 = m1.fit["df_resid"]
        F = ((ssr0 - ssr1) / q) / (ssr1 / df1)
        p = float(stats.f.sf(F, q, df1))
        return ModelComparison("F", float(F), q, float(df1), p,
                               float(m1.fit["r2"] - m0.fit["r2"]), int(n1))
    lr = 2 * (m1.fit["llf"] - m0.fit["llf"])
    p = float(stats.chi2.sf(lr, q))
    return ModelComparison("LR", float(lr), q, np.nan, p,
                           float(m1.fit["pseudo_r2"] - m0.fit["pseudo_r2"]), int(n1))
