"""Survey weights: design weights, post-stratification and raking (as R's ``survey``).

* :func:`design_weights` - inverse inclusion probabilities ``N_h / n_h`` of a stratified
  sample (strata such as region x size class), from known population counts.
* :func:`poststratify` - weights adjusted so that weighted counts equal known population
  counts in each post-stratum (R's ``postStratify``).
* :func:`rake` - iterative proportional fitting to several known margins (R's ``rake``).

Given a :class:`~analysis.survey._design.SurveyDesign`, :func:`poststratify` and :func:`rake`
return a calibrated design whose standard errors take the calibration into account exactly as
R's ``svyrecvar`` does; given a DataFrame they return the calibrated weights.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import EstimationWarning, InputError
from analysis.survey._calibration import (
    _as_list,
    _cell_keys,
    _totals_series,
    _weights_array,
    poststratified_weights,
    raked_weights,
)
from analysis.survey._design import SurveyDesign

__all__ = [
    "design_weights",
    "stratum_population",
    "poststratify",
    "rake",
]


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------
def stratum_population(sample: pd.DataFrame, population: Any,
                       strata: str | Sequence[str]) -> pd.Series:
    """Population size ``N_h`` of each sampled unit's stratum (for ``SurveyDesign(fpc=)``).

    Parameters
    ----------
    sample : pandas.DataFrame
        The sample, with the stratifying columns.
    population : pandas.Series, dict or pandas.DataFrame
        Population counts per stratum: a Series indexed by stratum value (a MultiIndex for
        several strata), a dict, or a DataFrame with the stratifying columns and one count
        column (``N``, ``Freq`` or ``count``).
    strata : str or list of str
        Stratifying column(s), e.g. ``["region", "size_class"]``.

    Returns
    -------
    pandas.Series
        ``N_h`` aligned with ``sample`` (name ``"N_h"``).

    Raises
    ------
    analysis.errors.InputError
        A sample stratum absent from the population, or missing stratum values.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._weighting import stratum_population
    >>> s = pd.DataFrame({"h": ["a", "a", "b"]})
    >>> stratum_population(s, {"a": 10, "b": 5}, "h").tolist()
    [10.0, 10.0, 5.0]
    """
    cols = _as_list(strata)
    totals = _totals_series(population, cols)
    keys = _cell_keys(sample, cols)
    absent = [k for k in pd.unique(keys) if k not in totals.index]
    if absent:
        raise InputError("a sample stratum is absent from the population counts",
                         value=absent[0], expected="a count for every sampled stratum")
    return pd.Series(totals.reindex(list(keys)).to_numpy(), index=sample.index, name="N_h")


def design_weights(sample: pd.DataFrame, population: Any,
                   strata: str | Sequence[str]) -> pd.Series:
    """Design weights of a stratified sample: inverse inclusion probabilities ``N_h / n_h``.

    Parameters
    ----------
    sample : pandas.DataFrame
        One row per responding unit, with the stratifying columns.
    population : pandas.Series, dict or pandas.DataFrame
        Population counts per stratum (see :func:`stratum_population`), e.g. the number of
        units per region x size class.
    strata : str or list of str
        Stratifying column(s).

    Returns
    -------
    pandas.Series
        Weights aligned with ``sample`` (name ``"weight"``); they sum to the population size of
        the sampled strata.

    Raises
    ------
    analysis.errors.InputError
        Missing stratum values or a sampled stratum absent from ``population``.

    Warns
    -----
    analysis.errors.EstimationWarning
        Population strata without any sampled unit (they are not represented by the weights;
        post-stratify on coarser cells, or collapse strata).

    Notes
    -----
    Stratified simple random sampling without replacement: :math:`\\pi_i = n_h / N_h` and
    :math:`w_i = N_h / n_h` for unit ``i`` of stratum ``h`` (R:
    ``svydesign(~1, strata=~h, fpc=~N_h, data=)`` computes the same weights when none are
    given). With non-response, ``n_h`` is the number of respondents (a response-homogeneity-
    group adjustment within strata).

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques* (3rd ed.), ch. 5. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._weighting import design_weights
    >>> s = pd.DataFrame({"h": ["a", "a", "b"]})
    >>> design_weights(s, {"a": 10, "b": 5}, "h").tolist()  # R: weights(svydesign(~1, strata=~h, fpc=~N, data=s))
    [5.0, 5.0, 5.0]
    """
    cols = _as_list(strata)
    n_pop = stratum_population(sample, population, cols)
    keys = _cell_keys(sample, cols)
    n_h = keys.map(keys.value_counts())
    totals = _totals_series(population, cols)
    unsampled = [k for k, v in totals.items() if v > 0 and k not in set(keys)]
    if unsampled:
        _warnings.warn(f"{len(unsampled)} population stratum(s) have no sampled unit, e.g. "
                       f"{unsampled[0]}: the design weights do not represent them",
                       EstimationWarning, stacklevel=2)
    too_many = n_h.to_numpy(dtype=float) > n_pop.to_numpy()
    if too_many.any():
        row = int(np.argmax(too_many))
        raise InputError("more sampled units than the stratum's population count",
                         row=row + 1, value=keys.iloc[row], expected="n_h <= N_h")
    return pd.Series(n_pop.to_numpy() / n_h.to_numpy(dtype=float), index=sample.index,
                     name="weight")


def poststratify(design_or_data: SurveyDesign | pd.DataFrame, weights: Any = None,
                 strata: str | Sequence[str] | None = None, population_totals: Any = None, *,
                 partial: bool = False) -> SurveyDesign | pd.Series:
    """Post-stratify: scale weights so that each post-stratum's weighted count is known.

    Parameters
    ----------
    design_or_data : SurveyDesign or pandas.DataFrame
        A design (its current weights are adjusted) or a data frame.
    weights : str or array-like, optional
        With a data frame: the weight column (or values); default 1 for every row. Ignored
        with a design (its current weights are used).
    strata : str or list of str
        Post-stratifying column(s) (crossed when several).
    population_totals : pandas.Series, dict or pandas.DataFrame
        Population count of each post-stratum (see :func:`stratum_population` for the forms).
    partial : bool, default False
        As R's ``partial``: if True, population cells without sampled units are ignored (with
        a warning); if False they are an error.

    Returns
    -------
    SurveyDesign or pandas.Series
        With a design: a new, post-stratified design (the variance then uses the
        post-stratification residuals, as R). With a data frame: the new weights (``"weight"``).

    Raises
    ------
    analysis.errors.InputError
        Sample cells absent from the totals, cells with a zero count, unsampled population
        cells (unless ``partial``), missing values in the stratifying columns.

    Notes
    -----
    :math:`w^*_i = w_i N_c / \\hat N_c` with :math:`\\hat N_c = \\sum_{j \\in c} w_j`. For the
    variance, R's ``svyrecvar`` replaces the linearised variable of an estimator by
    :math:`z_i - w^*_i \\sum_{j \\in c} (z_j w_j / w^*_j) / \\sum_{j \\in c} w_j`.

    References
    ----------
    Holt, D., & Smith, T. M. F. (1979). Post stratification. *JRSS A*, 142, 33-46.
    Lumley, T. (2010). *Complex Surveys*, ch. 7. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._weighting import poststratify
    >>> df = pd.DataFrame({"g": ["a", "a", "b"], "w": [1.0, 3.0, 2.0]})
    >>> poststratify(df, "w", strata="g", population_totals={"a": 8, "b": 6}).tolist()
    [2.0, 6.0, 6.0]
    >>> # R: weights(postStratify(design, ~g, data.frame(g=c("a","b"), Freq=c(8,6))))
    """
    if strata is None or population_totals is None:
        raise InputError("poststratify needs strata and population_totals",
                         expected="the post-stratifying column(s) and their population counts")
    if isinstance(design_or_data, SurveyDesign):
        return design_or_data.poststratify(strata, population_totals, partial=partial)
    if not isinstance(design_or_data, pd.DataFrame):
        raise InputError("poststratify needs a SurveyDesign or a DataFrame",
                         value=type(design_or_data).__name__)
    data = design_or_data
    w = _weights_array(data, weights)
    new, _ = poststratified_weights(data, w, strata, population_totals, partial=partial)
    return pd.Series(new, index=data.index, name="weight")


def rake(data_or_design: SurveyDesign | pd.DataFrame, weights: Any = None,
         margins: Mapping[str, Any] | None = None, max_iter: int = 100,
         tol: float = 1e-10) -> SurveyDesign | pd.Series:
    """Rake (iterative proportional fitting) weights to known marginal totals.

    Parameters
    ----------
    data_or_design : pandas.DataFrame or SurveyDesign
        Data (with ``weights``) or a design.
    weights : str or array-like, optional
        With a data frame: the starting weights (default 1). Ignored with a design.
    margins : dict
        Variable (or tuple of variables for a crossed margin) -> population totals of its
        levels (Series, dict or DataFrame as in :func:`stratum_population`).
    max_iter : int, default 100
        Maximum number of passes over all margins (R's ``control$maxit``, default 10 there).
    tol : float, default 1e-10
        Convergence threshold on the largest absolute change, between two passes, of the
        weighted counts of the cells crossing all margin variables. As R's
        ``control$epsilon``: a value < 1 is relative to the sum of the starting weights,
        a value >= 1 is absolute (R's default is 1 with ``maxit=10``; pass ``max_iter=10,
        tol=1`` to reproduce it exactly).

    Returns
    -------
    SurveyDesign or pandas.Series
        A raked design (whose variance accounts for raking as R's) or the raked weights.

    Raises
    ------
    analysis.errors.InputError
        As :func:`poststratify`, for each margin.

    Warns
    -----
    analysis.errors.EstimationWarning
        If raking has not converged after ``max_iter`` passes.

    Notes
    -----
    Each pass post-stratifies on each margin in turn (R's ``rake``), which converges to the
    weights closest to the starting ones in the raking (multiplicative) distance that match
    all margins (Deville & Särndal 1992). Variance: the linearised variables are backfitted
    on the margins (ten sweeps of ``z <- z - g * ave(z / g, margin)``), as R's ``svyrecvar``.

    References
    ----------
    Deming, W. E., & Stephan, F. F. (1940). On a least squares adjustment of a sampled
    frequency table when the expected marginal totals are known. *Ann. Math. Stat.*, 11,
    427-444. Deville, J.-C., & Särndal, C.-E. (1992). Calibration estimators in survey
    sampling. *JASA*, 87, 376-382.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._weighting import rake
    >>> df = pd.DataFrame({"a": list("xxyy"), "b": list("uvuv")})
    >>> w = rake(df, margins={"a": {"x": 30, "y": 70}, "b": {"u": 40, "v": 60}})
    >>> w.round(6).tolist()  # R: weights(rake(design, list(~a, ~b), list(pa, pb)))
    [12.0, 18.0, 28.0, 42.0]
    """
    if isinstance(data_or_design, SurveyDesign):
        return data_or_design.rake(margins, max_iter=max_iter, tol=tol)
    if not isinstance(data_or_design, pd.DataFrame):
        raise InputError("rake needs a SurveyDesign or a DataFrame",
                         value=type(data_or_design).__name__)
    data = data_or_design
    w = _weights_array(data, weights)
    new, _ = raked_weights(data, w, margins, max_iter=max_iter, tol=tol)
    return pd.Series(new, index=data.index, name="weight")
