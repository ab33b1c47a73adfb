"""Design-based estimation for complex survey samples (as R's ``survey`` package).

:class:`SurveyDesign` describes a sample drawn with stratification, one-stage clustering (or
the first stage of a multistage design, "ultimate clusters") and unequal weights, with an
optional finite population correction. Its methods return design-based estimates with
Taylor-linearisation standard errors that reproduce ``survey::svydesign`` + ``svymean``,
``svytotal``, ``svyratio``, ``svyquantile``, ``svyby`` and ``svyglm`` (parity tests against
R survey 4.1 in ``tests/survey/``). The design holds the sample's structure and the variance
engine (:meth:`SurveyDesign.variance`); the estimators are functions of the design in modules
of their own, bound as its methods: means, totals, proportions and ratios in
:mod:`analysis.survey._linear`, quantiles in :mod:`analysis.survey._quantile`, GLMs in
:mod:`analysis.survey._glm`; results in :mod:`analysis.survey._estimate`.

Calibrated designs (post-stratification, raking) are built by
:func:`analysis.survey.poststratify` and :func:`analysis.survey.rake` (or the
:meth:`SurveyDesign.poststratify` / :meth:`SurveyDesign.rake` shortcuts); their standard errors
account for the calibration as R does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.survey import _glm, _linear, _quantile
from analysis.survey._calibration import poststratified_weights, raked_weights
from analysis.survey._estimate import SurveyEstimate, _as_list
from analysis.survey._glm import GLM_FAMILIES

__all__ = ["SurveyDesign", "SurveyEstimate", "LONELY_PSU_OPTIONS", "GLM_FAMILIES"]

#: Accepted values of ``lonely_psu`` (R's ``options(survey.lonely.psu)``).
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "remove", "certainty", "adjust", "average")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _rowsum(values: np.ndarray, codes: np.ndarray, ngroups: int) -> np.ndarray:
    """Sum the rows of ``values`` (n x p) by integer group ``codes`` -> (ngroups x p)."""
    out = np.empty((ngroups, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=ngroups)
    return out


# ---------------------------------------------------------------------------------------------
# the design
# ---------------------------------------------------------------------------------------------
class SurveyDesign:
    """A complex survey design: strata, first-stage clusters, weights, finite population correction.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per sampled unit.
    weights : str, optional
        Column of sampling weights (inverse inclusion probabilities), all finite and > 0.
        Omitted: computed from ``fpc`` as ``N_h / n_h`` when ``fpc`` is given (as R), else 1.
    strata : str or list of str, optional
        Stratum column(s); several columns are crossed. Omitted: one stratum.
    cluster : str, optional
        First-stage sampling unit (PSU) column. Omitted: every row is its own PSU
        (R's ``id = ~1``). Later stages are not modelled: the variance is the with-replacement
        "ultimate cluster" estimator at the first stage, multiplied by the first-stage fpc.
    fpc : str, optional
        Finite population correction at the first stage, one value per stratum, as R's
        ``svydesign(fpc=)``: either the population number of PSUs in the stratum (all values
        >= 1) or the sampling fraction (all values <= 1). Omitted: sampling with replacement.
    nest : bool, default False
        As R's ``nest``: if True, cluster identifiers are only unique within strata. If False,
        a cluster identifier found in several strata is an error.
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}, default "fail"
        What to do with a stratum that has a single PSU, as R's
        ``options(survey.lonely.psu)`` (default ``"fail"`` as R). ``"fail"`` raises
        :class:`~analysis.errors.InputError` when the design is built (R fails later, at the
        first variance); ``"remove"`` and ``"certainty"`` give such a stratum no variance
        contribution; ``"adjust"`` centres its PSU total at zero (the grand mean of the
        linearised variable) instead of the stratum mean; ``"average"`` replaces its
        contribution by the average of the other strata. A stratum whose fpc says all its PSUs
        were taken (certainty stratum) contributes zero and is never "lonely".

    Attributes
    ----------
    data : pandas.DataFrame
        The data (index reset to 0..n-1; the original index is kept in :attr:`index`).
    weights : pandas.Series
        Current weights (calibrated ones after post-stratification or raking).
    degf : int
        Design degrees of freedom: number of PSUs minus number of strata (R's ``degf``).
    n_psu : pandas.Series
        Number of sampled PSUs per stratum.
    calibration : tuple
        Calibration steps applied (post-stratification, raking), in order.

    Raises
    ------
    analysis.errors.InputError
        Missing column, missing or non-positive weight, missing stratum or cluster value,
        inconsistent fpc, clusters not nested in strata (``nest=False``), or a stratum with a
        single PSU when ``lonely_psu="fail"``.

    Notes
    -----
    For an estimator with linearised variable (influence values) ``z_i``, R's ``svyrecvar``
    computes, with ``Z_hj`` the sum of ``z_i`` over PSU ``j`` of stratum ``h``, ``n_h`` the
    number of PSUs and ``f_h = n_h / N_h`` the first-stage sampling fraction (0 without fpc)

    .. math:: \\hat V = \\sum_h (1 - f_h) \\frac{n_h}{n_h - 1}
              \\sum_j (Z_{hj} - \\bar Z_h)^2 .

    Domain (``by``) estimates use the whole design with ``z_i = 0`` outside the domain, as R's
    ``svyby`` on ``subset()`` of a ``survey.design2``. After calibration the ``z_i`` are first
    replaced by their residuals on the calibration cells (see :mod:`analysis.survey._calibration`).

    References
    ----------
    Lumley, T. (2004). Analysis of complex survey samples. *Journal of Statistical Software*,
    9(8). Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
    Wolter, K. M. (2007). *Introduction to Variance Estimation* (2nd ed.). Springer.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.survey._design import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "h": list("aaabbb"),
    ...                    "w": [2.0, 2, 2, 3, 3, 3], "N": [6, 6, 6, 9, 9, 9]})
    >>> d = SurveyDesign(df, weights="w", strata="h", fpc="N")
    >>> round(d.mean("y").estimate, 6)  # R: svymean(~y, svydesign(~1, strata=~h, weights=~w, fpc=~N, data=df))
    3.8
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | None = None,
        strata: str | Sequence[str] | None = None,
        cluster: str | None = None,
        fpc: str | None = None,
        *,
        nest: bool = False,
        lonely_psu: str = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise InputError("the survey data must be a pandas DataFrame", value=type(data).__name__,
                             expected="a DataFrame")
        if len(data) == 0:
            raise InputError("the survey data has no rows", expected="at least two rows")
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise InputError("unknown lonely_psu option", value=lonely_psu,
                             expected=", ".join(LONELY_PSU_OPTIONS))
        strata_cols = _as_list(strata)
        for col in [weights, cluster, fpc, *strata_cols]:
            if col is not None and col not in data.columns:
                raise InputError("design column not found in the data", column=str(col),
                                 expected="one of the data's columns")
        self.index = data.index
        self.data = data.reset_index(drop=True)
        self.lonely_psu = lonely_psu
        self.spec = {"weights": weights, "strata": strata_cols or None, "cluster": cluster,
                     "fpc": fpc, "nest": nest}
        n = len(self.data)

        # strata ---------------------------------------------------------------------------
        if strata_cols:
            for col in strata_cols:
                miss = self.data[col].isna().to_numpy()
                if miss.any():
                    row = int(np.argmax(miss))
                    raise InputError("missing stratum value", row=row + 1, column=col,
                                     expected="a stratum for every row")
            keys = self.data[strata_cols].astype(str).agg(".".join, axis=1) if len(
                strata_cols) > 1 else self.data[strata_cols[0]]
            codes, uniques = pd.factorize(keys, sort=True)
            self._strata_codes = codes.astype(np.int64)
            self._strata_labels = [str(u) for u in uniques]
        else:
            self._strata_codes = np.zeros(n, dtype=np.int64)
            self._strata_labels = ["1"]
        n_strata = len(self._strata_labels)

        # clusters (PSUs) ------------------------------------------------------------------
        if cluster is not None:
            cl = self.data[cluster]
            miss = cl.isna().to_numpy()
            if miss.any():
                row = int(np.argmax(miss))
                raise InputError("missing cluster (PSU) identifier", row=row + 1, column=cluster,
                                 expected="a PSU identifier for every row")
            cl_codes, _ = pd.factorize(cl, sort=True)
            if nest:
                pair = pd.Series(self._strata_codes).astype(str) + "\x1f" + pd.Series(
                    cl_codes).astype(str)
                psu_codes, _ = pd.factorize(pair, sort=True)
            else:
                per_cluster = pd.Series(self._strata_codes).groupby(cl_codes).nunique()
                if (per_cluster > 1).any():
                    bad = int(per_cluster.index[per_cluster.to_numpy() > 1][0])
                    raise InputError("clusters are not nested in strata (the same cluster "
                                     "identifier appears in several strata); use nest=True if "
                                     "identifiers are only unique within strata",
                                     column=cluster, value=cl[cl_codes == bad].iloc[0])
                psu_codes = cl_codes
        else:
            psu_codes = np.arange(n)
        self._psu_codes = np.asarray(psu_codes, dtype=np.int64)
        n_psu_total = int(self._psu_codes.max()) + 1
        psu_stratum = np.zeros(n_psu_total, dtype=np.int64)
        psu_stratum[self._psu_codes] = self._strata_codes
        self._psu_stratum = psu_stratum
        self._n_psu_h = np.bincount(psu_stratum, minlength=n_strata).astype(float)

        # fpc --------------------------------------------------------------------------------
        self._popsize_h = np.full(n_strata, np.inf)
        if fpc is not None:
            f = pd.to_numeric(self.data[fpc], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(f) | (f <= 0)
            if bad.any():
                row = int(np.argmax(bad))
                raise InputError("fpc must be a positive number", row=row + 1, column=fpc,
                                 value=self.data[fpc].iloc[row],
                                 expected="a population size (>= 1) or sampling fraction (<= 1)")
            per_stratum = pd.Series(f).groupby(self._strata_codes).nunique()
            if (per_stratum > 1).any():
                h = int(per_stratum.index[per_stratum.to_numpy() > 1][0])
                raise InputError("fpc varies within a stratum", column=fpc,
                                 value=self._strata_labels[h], expected="one value per stratum")
            is_popsize = bool((f > 1).any())
            if is_popsize and not (f >= 1).all():
                raise InputError("fpc mixes population sizes (>= 1) and sampling fractions (< 1)",
                                 column=fpc, expected="all fpc >= 1 or all fpc <= 1")
            fh = np.zeros(n_strata)
            fh[self._strata_codes] = f
            popsize = fh if is_popsize else self._n_psu_h / fh
            if (popsize < self._n_psu_h - 1e-9).any():
                h = int(np.argmax(popsize < self._n_psu_h - 1e-9))
                raise InputError("fpc implies more than 100% sampling in a stratum", column=fpc,
                                 value=self._strata_labels[h],
                                 expected="population size >= number of sampled PSUs")
            self._popsize_h = popsize

        # weights ----------------------------------------------------------------------------
        if weights is not None:
            raw = self.data[weights]
            w = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
            miss = np.isnan(w)
            if miss.any():
                row = int(np.argmax(miss))
                raise InputError("missing or non-numeric weight", row=row + 1, column=weights,
                                 value=raw.iloc[row], expected="a positive number")
            bad = ~np.isfinite(w) | (w <= 0)
            if bad.any():
                row = int(np.argmax(bad))
                raise InputError("non-positive or infinite weight", row=row + 1, column=weights,
                                 value=float(w[row]), expected="a positive finite number")
        elif fpc is not None:
            w = (self._popsize_h / self._n_psu_h)[self._strata_codes]
        else:
            w = np.ones(n)
        self._w = w
        self.calibration: tuple = ()

        # lonely PSUs ------------------------------------------------------------------------
        lonely = (self._n_psu_h == 1) & ~self._certainty_h()
        if lonely.any() and lonely_psu == "fail":
            h = int(np.argmax(lonely))
            raise InputError(
                "a stratum has a single PSU, so its variance cannot be estimated (choose "
                "lonely_psu='remove', 'certainty', 'adjust' or 'average', as R's "
                "options(survey.lonely.psu))",
                column=", ".join(strata_cols) or None, value=self._strata_labels[h],
                expected="at least two PSUs per stratum")

    # ---------------------------------------------------------------------- basic properties
    def _certainty_h(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(np.isinf(self._popsize_h), 1.0,
                         (self._popsize_h - self._n_psu_h) / self._popsize_h)
        return f < 1e-7

    @property
    def weights(self) -> pd.Series:
        """Current weights, aligned with the original index of the data."""
        return pd.Series(self._w.copy(), index=self.index, name="weight")

    @property
    def n_psu(self) -> pd.Series:
        """Number of sampled PSUs per stratum."""
        return pd.Series(self._n_psu_h.astype(int), index=self._strata_labels, name="n_psu")

    @property
    def degf(self) -> int:
        """Design degrees of freedom, PSUs minus strata (R's ``degf(design)``)."""
        return self._degf(np.ones(len(self._w), dtype=bool))

    def _degf(self, inset: np.ndarray) -> int:
        inset = inset & (self._w != 0)
        return int(len(np.unique(self._psu_codes[inset])) - len(
            np.unique(self._strata_codes[inset])))

    def __repr__(self) -> str:
        parts = [f"n={len(self._w)}", f"strata={len(self._strata_labels)}",
                 f"psu={int(self._n_psu_h.sum())}", f"degf={self.degf}"]
        if self.calibration:
            parts.append("calibrated=" + "+".join(type(s).__name__ for s in self.calibration))
        return "SurveyDesign(" + ", ".join(parts) + ")"

    def _with_weights(self, new_w: np.ndarray, step: Any) -> SurveyDesign:
        """A copy of the design with new weights and one more calibration step (internal)."""
        other = object.__new__(SurveyDesign)
        other.__dict__.update(self.__dict__)
        other._w = np.asarray(new_w, dtype=float).copy()
        other.calibration = (*self.calibration, step)
        return other

    def subset(self, rows: Any) -> SurveyDesign:
        """Domain design: the units outside ``rows`` keep their place in the design, weight 0.

        Parameters
        ----------
        rows : array-like of bool, pandas.Series or str
            Units to keep: a boolean mask (a Series is aligned on the original index) or a
            :meth:`pandas.DataFrame.query` expression, e.g. ``"sector == 'agriculture'"``.

        Returns
        -------
        SurveyDesign
            A design whose estimates are domain estimates: strata, PSU counts and fpc stay
            those of the whole sample (R's ``subset(design, ...)``), so the SEs are correct;
            the design df counts only PSUs and strata with units in the domain.

        Raises
        ------
        analysis.errors.InputError
            A mask of the wrong length, with missing values, or a bad query.

        Notes
        -----
        Estimating on a filtered data frame instead would treat the domain size as fixed and
        drop the PSUs with no domain unit, which understates the SE (Lumley 2010, 2.3.1).

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.survey._design import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("abab"), "w": [1.0, 1, 2, 2]})
        >>> d = SurveyDesign(df, weights="w").subset("g == 'a'")
        >>> round(d.mean("y").estimate, 6)  # R: svymean(~y, subset(design, g == "a"))
        2.333333
        """
        if isinstance(rows, str):
            try:
                keep = self.data.eval(rows)
            except Exception as exc:  # pandas raises many error types for bad expressions
                raise InputError(f"cannot evaluate the subset expression: {exc}",
                                 value=rows) from exc
            keep = np.asarray(keep)
        elif isinstance(rows, pd.Series):
            aligned = rows.reindex(self.index)
            if aligned.isna().any():
                raise InputError("the subset mask does not cover every row or has missing values",
                                 expected="a boolean for every row")
            keep = aligned.to_numpy()
        else:
            keep = np.asarray(rows)
        if keep.shape != (len(self._w),) or keep.dtype != bool:
            raise InputError("the subset must be a boolean mask with one value per row",
                             value=getattr(keep, "shape", None),
                             expected=f"{len(self._w)} booleans")
        other = object.__new__(SurveyDesign)
        other.__dict__.update(self.__dict__)
        other._w = np.where(keep, self._w, 0.0)
        return other

    # ---------------------------------------------------------------------- variance engine
    def variance(self, z: np.ndarray) -> np.ndarray:
        """Design covariance matrix of estimators with linearised variables ``z``.

        Parameters
        ----------
        z : numpy.ndarray
            Array (n x p): for each estimator, its weighted influence values, e.g.
            ``w_i (y_i - ybar) / sum(w)`` for a mean (R's ``svyrecvar`` input).

        Returns
        -------
        numpy.ndarray
            p x p covariance matrix.

        Notes
        -----
        See the class Notes; calibration residuals first, then the stratified
        with-replacement PSU-total formula with fpc and the ``lonely_psu`` rule.
        """
        z = np.asarray(z, dtype=float)
        if z.ndim == 1:
            z = z[:, None]
        for step in self.calibration:
            z = step.residualize(z)
        n_strata = len(self._strata_labels)
        n_psu_total = len(self._psu_stratum)
        tot = _rowsum(z, self._psu_codes, n_psu_total)
        n_h = self._n_psu_h
        mean_h = _rowsum(tot, self._psu_stratum, n_strata) / n_h[:, None]
        centered = tot - mean_h[self._psu_stratum]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(np.isinf(self._popsize_h), 1.0,
                         (self._popsize_h - n_h) / self._popsize_h)
            scale_h = np.where(n_h > 1, f * n_h / (n_h - 1), f)
        certain = f < 1e-7
        scale_h = np.where(certain, 0.0, scale_h)
        lonely = (n_h == 1) & ~certain
        ok_h = np.ones(n_strata, dtype=bool)
        if lonely.any():
            lonely_psu = lonely[self._psu_stratum]
            if self.lonely_psu == "adjust":
                centered[lonely_psu] = tot[lonely_psu]
            elif self.lonely_psu in ("remove", "certainty"):
                centered[lonely_psu] = 0.0
            elif self.lonely_psu == "average":
                centered[lonely_psu] = 0.0
                ok_h = ~lonely
            else:  # "fail" is caught when the design is built
                raise InputError("a stratum has a single PSU", expected="lonely_psu option")
        weighted = centered * scale_h[self._psu_stratum][:, None]
        v = weighted.T @ centered
        n_ok = int(ok_h.sum())
        if n_ok < n_strata:
            v = v * n_strata / n_ok if n_ok > 0 else v * np.nan
        return v

    # ---------------------------------------------------------------------- data helpers
    def _groups(self, by: str | Sequence[str] | None):
        """Return a list of (label, values dict, mask) for the groups of ``by``."""
        cols = _as_list(by)
        if not cols:
            return [(None, {}, np.ones(len(self._w), dtype=bool))], []
        for col in cols:
            if col not in self.data.columns:
                raise InputError("grouping column not found in the data", column=col)
        frame = self.data[cols]
        present = frame.notna().all(axis=1).to_numpy()
        if len(cols) == 1:
            keys = frame[cols[0]]
            codes, uniques = pd.factorize(keys, sort=True)
            uniq_rows = [(u,) for u in uniques]
        else:
            tuples = pd.MultiIndex.from_frame(frame)
            codes, uniques = pd.factorize(tuples, sort=True)
            uniq_rows = list(uniques)
        out = []
        for k, values in enumerate(uniq_rows):
            mask = (codes == k) & present
            if not mask.any():
                continue
            label = ".".join(str(v) for v in values)
            out.append((label, dict(zip(cols, values)), mask))
        return out, cols

    def _numeric(self, var: str) -> tuple[np.ndarray, np.ndarray]:
        if var not in self.data.columns:
            raise InputError("variable not found in the data", column=var)
        col = self.data[var]
        if pd.api.types.is_bool_dtype(col):
            col = col.astype("float64")
        if not pd.api.types.is_numeric_dtype(col):
            raise InputError("variable is not numeric (use proportion() for categories)",
                             column=var, value=str(col.dtype), expected="a numeric column")
        x = col.to_numpy(dtype=float, na_value=np.nan)
        return x, np.isnan(x)

    def _categorical(self, var: str) -> tuple[list, np.ndarray, np.ndarray]:
        if var not in self.data.columns:
            raise InputError("variable not found in the data", column=var)
        col = self.data[var]
        miss = col.isna().to_numpy()
        if isinstance(col.dtype, pd.CategoricalDtype):
            levels = list(col.cat.categories)
            codes = col.cat.codes.to_numpy()
        else:
            codes, levels = pd.factorize(col, sort=True)
            levels = list(levels)
        return levels, np.asarray(codes), miss

    # ---------------------------------------------------------------------- estimators
    # Each estimator is a function of the design in a module of its own, bound here as a method.
    mean = _linear.mean
    total = _linear.total
    proportion = _linear.proportion
    ratio = _linear.ratio
    quantile = _quantile.quantile

    # ---------------------------------------------------------------------- calibration
    def poststratify(self, strata: str | Sequence[str], population_totals: Any, *,
                     partial: bool = False) -> SurveyDesign:
        """Post-stratified copy of the design (see :func:`analysis.survey.poststratify`)."""
        new, step = poststratified_weights(self.data, self._w, strata, population_totals,
                                           partial=partial)
        return self._with_weights(new, step)

    def rake(self, margins: dict, *, max_iter: int = 100, tol: float = 1e-10) -> SurveyDesign:
        """Raked copy of the design (see :func:`analysis.survey.rake`)."""
        new, step = raked_weights(self.data, self._w, margins, max_iter=max_iter, tol=tol)
        return self._with_weights(new, step)

    # ---------------------------------------------------------------------- regression
    glm = _glm.glm
