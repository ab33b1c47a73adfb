"""Survey weights: design weights, post-stratification and raking (as R's ``survey``).

* :func:`design_weights` - inverse inclusion probabilities ``N_h / n_h`` of a stratified
  sample (strata such as region x legal form), from known population counts.
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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import EstimationWarning, InputError
from analysis.survey._design import SurveyDesign

__all__ = [
    "design_weights",
    "stratum_population",
    "poststratify",
    "rake",
    "PostStratification",
    "Raking",
]


# ---------------------------------------------------------------------------------------------
# calibration steps kept by a design (used by SurveyDesign.variance)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PostStratification:
    """Record of one post-stratification of a design (for the variance).

    Attributes
    ----------
    codes : numpy.ndarray
        Post-stratum code (0..K-1) of each row.
    new_weights : numpy.ndarray
        Weights after the step.
    old_weights : numpy.ndarray
        Weights before the step.
    """

    codes: np.ndarray
    new_weights: np.ndarray
    old_weights: np.ndarray

    def residualize(self, z: np.ndarray) -> np.ndarray:
        """Replace linearised variables by their residuals within post-strata.

        Notes
        -----
        As R's ``svyrecvar`` for a post-stratified design: with ``g`` the new and ``w`` the
        old weights, ``z_i - g_i * sum_{j in c}(z_j w_j / g_j) / sum_{j in c} w_j`` for unit
        ``i`` in post-stratum ``c``.
        """
        psw = self.new_weights.copy()
        old = self.old_weights
        zero = (psw == 0) & (old == 0)
        psw[zero] = 1.0
        k = int(self.codes.max()) + 1
        sums = np.zeros((k, z.shape[1]))
        np.add.at(sums, self.codes, z * (old / psw)[:, None])
        denom = np.bincount(self.codes, weights=old, minlength=k)
        means = sums / denom[:, None]
        return z - means[self.codes] * psw[:, None]


@dataclass(frozen=True, eq=False)
class Raking:
    """Record of a raking of a design (for the variance).

    Attributes
    ----------
    margins : tuple of (numpy.ndarray, numpy.ndarray)
        For each margin, the cell code of each row and the weights right after that margin
        was matched in the last raking pass.
    names : tuple of str
        Names of the margins.
    """

    margins: tuple
    names: tuple = ()

    def residualize(self, z: np.ndarray) -> np.ndarray:
        """Residuals of the linearised variables after raking (R's ``svyrecvar``).

        Notes
        -----
        Ten backfitting sweeps over the margins, as R: ``z <- z - g * ave(z / g, margin)``
        where ``ave`` is the unweighted mean within the margin's cells and ``g`` the weights
        after that margin.
        """
        z = z.copy()
        for _ in range(10):
            for codes, psw in self.margins:
                k = int(codes.max()) + 1
                ratio = z / psw[:, None]
                sums = np.zeros((k, z.shape[1]))
                np.add.at(sums, codes, ratio)
                counts = np.bincount(codes, minlength=k)
                z = z - psw[:, None] * (sums / counts[:, None])[codes]
        return z


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _as_list(x: str | Sequence[str]) -> list[str]:
    return [x] if isinstance(x, str) else [str(v) for v in x]


def _totals_series(population: Any, strata: list[str], what: str = "population totals"
                   ) -> pd.Series:
    """Normalise known totals to a Series indexed by stratum value(s) (tuples if several)."""
    if isinstance(population, Mapping):
        population = pd.Series(dict(population), dtype="float64")
    if isinstance(population, pd.DataFrame):
        missing = [s for s in strata if s not in population.columns]
        if missing:
            raise InputError(f"{what}: stratifying column missing", column=missing[0],
                             expected="columns " + ", ".join(strata) + " and a count column")
        others = [c for c in population.columns if c not in strata]
        count_col = next((c for c in ("N", "Freq", "count", "total") if c in others), None)
        if count_col is None:
            if len(others) != 1:
                raise InputError(f"{what}: cannot tell which column holds the counts",
                                 value=others, expected="one count column (N, Freq, count)")
            count_col = others[0]
        if len(strata) == 1:
            index = pd.Index(population[strata[0]])
        else:
            index = pd.MultiIndex.from_frame(population[strata])
        population = pd.Series(population[count_col].to_numpy(dtype=float), index=index)
    if not isinstance(population, pd.Series):
        raise InputError(f"{what} must be a Series, a dict or a DataFrame",
                         value=type(population).__name__)
    values = pd.to_numeric(population, errors="coerce").astype("float64")
    if values.isna().any() or (values < 0).any():
        raise InputError(f"{what}: counts must be non-negative numbers",
                         value=population[values.isna() | (values < 0)].iloc[0])
    if len(strata) > 1 and not isinstance(values.index, pd.MultiIndex):
        raise InputError(f"{what}: several strata need a MultiIndex or a DataFrame",
                         expected="one index level per stratifying column")
    keys = [k if isinstance(k, tuple) else (k,) for k in values.index]
    out = pd.Series(values.to_numpy(), index=pd.Index([tuple(str(v) for v in k) for k in keys],
                                                      tupleize_cols=False))
    if out.index.has_duplicates:
        raise InputError(f"{what}: a stratum is listed twice",
                         value=out.index[out.index.duplicated()][0])
    return out


def _cell_keys(data: pd.DataFrame, strata: list[str]) -> pd.Series:
    for col in strata:
        if col not in data.columns:
            raise InputError("stratifying column not found in the data", column=col)
        miss = data[col].isna().to_numpy()
        if miss.any():
            row = int(np.argmax(miss))
            raise InputError("missing value in a stratifying variable", row=row + 1, column=col,
                             expected="a value for every row (impute or drop before weighting)")
    frame = data[strata].astype(str)
    return pd.Series(list(map(tuple, frame.to_numpy())), index=data.index, dtype=object)


def _weights_array(data: pd.DataFrame, weights: Any) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    if isinstance(weights, str):
        if weights not in data.columns:
            raise InputError("weight column not found in the data", column=weights)
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float).reshape(-1)
        if len(w) != len(data):
            raise InputError("weights and data differ in length", value=len(w),
                             expected=f"{len(data)} weights")
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError("missing, non-positive or infinite weight", row=row + 1,
                         column=weights if isinstance(weights, str) else None,
                         value=float(w[row]), expected="a positive finite number")
    return w


def _poststrat_core(keys: pd.Series, w: np.ndarray, totals: pd.Series, partial: bool,
                    what: str) -> tuple[np.ndarray, np.ndarray]:
    """New weights and cell codes for one post-stratification (R's postStratify)."""
    codes, cells = pd.factorize(keys, sort=False)
    sample_tot = np.bincount(codes, weights=w, minlength=len(cells))
    absent = [c for c in cells if c not in totals.index]
    if absent:
        raise InputError(f"{what}: a cell of the sample is absent from the population totals",
                         value=absent[0], expected="a population count for every sample cell")
    pop = totals.reindex(list(cells)).to_numpy(dtype=float)
    zero_pop = pop == 0
    if zero_pop.any():
        raise InputError(f"{what}: a sample cell has a population count of zero",
                         value=cells[int(np.argmax(zero_pop))], expected="a positive count")
    only_pop = [c for c, v in totals.items() if v > 0 and c not in set(cells)]
    if only_pop:
        msg = (f"{what}: {len(only_pop)} population cell(s) have no sampled unit, e.g. "
               f"{only_pop[0]}")
        if not partial:
            raise InputError(msg + " (use partial=True to ignore them, as R's partial=TRUE)",
                             value=only_pop[0], expected="at least one unit per cell")
        _warnings.warn(msg + "; ignored (partial=True)", EstimationWarning, stacklevel=3)
    factor = pop / sample_tot
    return w * factor[codes], codes.astype(np.int64)


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
        Stratifying column(s), e.g. ``["region", "legal_form"]``.

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
        associations per region x legal form.
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
    cols = _as_list(strata)
    totals = _totals_series(population_totals, cols)
    if isinstance(design_or_data, SurveyDesign):
        design = design_or_data
        keys = _cell_keys(design.data, cols)
        old = design._w
        new, codes = _poststrat_core(keys, old, totals, partial, "post-stratification")
        step = PostStratification(codes=codes, new_weights=new, old_weights=old.copy())
        return design._with_weights(new, step)
    if not isinstance(design_or_data, pd.DataFrame):
        raise InputError("poststratify needs a SurveyDesign or a DataFrame",
                         value=type(design_or_data).__name__)
    data = design_or_data
    w = _weights_array(data, weights)
    new, _ = _poststrat_core(_cell_keys(data, cols), w, totals, partial, "post-stratification")
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
    if not isinstance(margins, Mapping) or len(margins) == 0:
        raise InputError("margins must be a non-empty dict: variable -> population totals",
                         value=type(margins).__name__)
    if isinstance(data_or_design, SurveyDesign):
        data = data_or_design.data
        w = data_or_design._w.copy()
    elif isinstance(data_or_design, pd.DataFrame):
        data = data_or_design
        w = _weights_array(data, weights)
    else:
        raise InputError("rake needs a SurveyDesign or a DataFrame",
                         value=type(data_or_design).__name__)
    if max_iter < 1:
        raise InputError("max_iter must be at least 1", value=max_iter)
    specs = []
    all_vars: list[str] = []
    for var, totals in margins.items():
        cols = _as_list(var) if not isinstance(var, tuple) else list(var)
        specs.append((cols, _cell_keys(data, cols), _totals_series(totals, cols, f"margin {var}")))
        all_vars += [c for c in cols if c not in all_vars]
    cross_codes, _ = pd.factorize(_cell_keys(data, all_vars), sort=False)
    n_cross = int(cross_codes.max()) + 1
    eps = tol * w.sum() if tol < 1 else tol
    old_table = np.bincount(cross_codes, weights=w, minlength=n_cross)
    converged = False
    steps = []
    for _ in range(max_iter):
        steps = []
        for cols, keys, totals in specs:
            w, codes = _poststrat_core(keys, w, totals, False, f"margin {'+'.join(cols)}")
            steps.append((codes, w.copy()))
        new_table = np.bincount(cross_codes, weights=w, minlength=n_cross)
        delta = float(np.max(np.abs(old_table - new_table)))
        old_table = new_table
        if delta < eps:
            converged = True
            break
    if not converged:
        _warnings.warn(f"raking did not converge after {max_iter} passes", EstimationWarning,
                       stacklevel=2)
    if isinstance(data_or_design, SurveyDesign):
        step = Raking(margins=tuple(steps), names=tuple("+".join(c) for c, _, _ in specs))
        return data_or_design._with_weights(w, step)
    return pd.Series(w, index=data.index, name="weight")
