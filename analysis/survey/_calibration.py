"""Calibration of survey weights: post-stratification and raking (as R's ``postStratify`` / ``rake``).

The functions here compute calibrated weights and the record of each calibration step
(:class:`PostStratification`, :class:`Raking`) that a design keeps to compute its variance
(:meth:`analysis.survey.SurveyDesign.variance` calls their ``residualize``). They work on a
DataFrame and a weight array; :func:`analysis.survey.poststratify` and
:func:`analysis.survey.rake` (and the :class:`~analysis.survey.SurveyDesign` methods of the same
names) are built on them.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import EstimationWarning, InputError

__all__ = ["PostStratification", "Raking", "poststratified_weights", "raked_weights"]


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
        _warnings.warn(msg + "; ignored (partial=True)", EstimationWarning, stacklevel=4)
    factor = pop / sample_tot
    return w * factor[codes], codes.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# calibrated weights
# ---------------------------------------------------------------------------------------------
def poststratified_weights(data: pd.DataFrame, w: np.ndarray, strata: str | Sequence[str],
                           population_totals: Any, *, partial: bool = False
                           ) -> tuple[np.ndarray, PostStratification]:
    """Post-stratified weights and the record of the step (R's ``postStratify``).

    Parameters
    ----------
    data : pandas.DataFrame
        The rows, with the post-stratifying column(s).
    w : numpy.ndarray
        Current weights, one per row.
    strata : str or list of str
        Post-stratifying column(s) (crossed when several).
    population_totals : pandas.Series, dict or pandas.DataFrame
        Population count of each post-stratum (see :func:`analysis.survey.stratum_population`).
    partial : bool, default False
        If True, population cells without sampled units are ignored (with a warning).

    Returns
    -------
    new_weights : numpy.ndarray
    step : PostStratification

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"g": ["a", "a", "b"]})
    >>> w, step = poststratified_weights(df, np.array([1.0, 3.0, 2.0]), "g", {"a": 8, "b": 6})
    >>> w.tolist()
    [2.0, 6.0, 6.0]
    """
    cols = _as_list(strata)
    totals = _totals_series(population_totals, cols)
    keys = _cell_keys(data, cols)
    new, codes = _poststrat_core(keys, w, totals, partial, "post-stratification")
    return new, PostStratification(codes=codes, new_weights=new, old_weights=np.array(w, copy=True))


def raked_weights(data: pd.DataFrame, w: np.ndarray, margins: Mapping[str, Any], *,
                  max_iter: int = 100, tol: float = 1e-10) -> tuple[np.ndarray, Raking]:
    """Raked weights (iterative proportional fitting) and the record of the step (R's ``rake``).

    Parameters
    ----------
    data : pandas.DataFrame
        The rows, with the margin variables.
    w : numpy.ndarray
        Starting weights, one per row.
    margins : dict
        Variable (or tuple of variables) -> population totals of its levels.
    max_iter, tol
        As :func:`analysis.survey.rake`.

    Returns
    -------
    new_weights : numpy.ndarray
    step : Raking

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"a": list("xxyy"), "b": list("uvuv")})
    >>> w, step = raked_weights(df, np.ones(4), {"a": {"x": 30, "y": 70}, "b": {"u": 40, "v": 60}})
    >>> w.round(6).tolist()
    [12.0, 18.0, 28.0, 42.0]
    """
    if not isinstance(margins, Mapping) or len(margins) == 0:
        raise InputError("margins must be a non-empty dict: variable -> population totals",
                         value=type(margins).__name__)
    w = np.array(w, dtype=float, copy=True)
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
                       stacklevel=3)
    step = Raking(margins=tuple(steps), names=tuple("+".join(c) for c, _, _ in specs))
    return w, step
