"""Design-based estimation for complex survey samples (as R's ``survey`` package).

:class:`SurveyDesign` describes a sample drawn with stratification, one-stage clustering (or
the first stage of a multistage design, "ultimate clusters") and unequal weights, with an
optional finite population correction. Its methods return design-based estimates with
Taylor-linearisation standard errors that reproduce ``survey::svydesign`` + ``svymean``,
``svytotal``, ``svyratio``, ``svyquantile``, ``svyby`` and ``svyglm`` (parity tests against
R survey 4.1 in ``tests/test_survey_design.py``).

Calibrated designs (post-stratification, raking) are built by
:func:`analysis.survey.poststratify` and :func:`analysis.survey.rake` (or the
:meth:`SurveyDesign.poststratify` / :meth:`SurveyDesign.rake` shortcuts); their standard errors
account for the calibration as R does.
"""

from __future__ import annotations

import html
import math
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import EstimationWarning, InputError
from analysis.survey._calibration import poststratified_weights, raked_weights

__all__ = ["SurveyDesign", "SurveyEstimate", "LONELY_PSU_OPTIONS", "GLM_FAMILIES"]

#: Accepted values of ``lonely_psu`` (R's ``options(survey.lonely.psu)``).
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "remove", "certainty", "adjust", "average")

#: Families accepted by :meth:`SurveyDesign.glm` and the model kind reported for each.
GLM_FAMILIES: dict[str, str] = {"gaussian": "ols", "binomial": "logit", "poisson": "poisson"}

_ESTIMATE_COLUMNS = ("estimate", "se", "df", "ci_low", "ci_high", "deff", "n")


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SurveyEstimate:
    """Design-based estimates of one kind (means, totals, proportions, ratios or quantiles).

    One *row* per variable x level x group x quantile. For a single row the numeric fields are
    floats; for several rows they are :class:`pandas.Series` indexed by :attr:`labels`.

    Attributes
    ----------
    kind : str
        ``"mean"``, ``"total"``, ``"proportion"``, ``"ratio"`` or ``"quantile"``.
    estimate : float or pandas.Series
        Point estimate(s).
    se : float or pandas.Series
        Standard error(s) (Taylor linearisation; for quantiles, Woodruff's interval width
        divided by ``2 * t_{1-a/2, df}`` as R's ``svyquantile``).
    ci_low, ci_high : float or pandas.Series
        Confidence interval bounds at ``conf_level``.
    deff : float or pandas.Series
        Design effect (Kish's "deff" as R's ``deff=TRUE``, without-replacement SRS reference);
        NaN where R gives none (quantiles) or where the weights sum to less than the sample size.
    df : float or pandas.Series
        Degrees of freedom of the interval (``inf``: standard normal, R's default for
        ``confint(svymean(...))``).
    n : int or pandas.Series
        Number of observations used (non-missing, in the group).
    labels : tuple of str
        Row labels (group, variable, level or quantile joined by ``":"``).
    rows : pandas.DataFrame
        Descriptors of each row: ``group`` and the ``by`` columns (when ``by`` was given),
        ``variable``, and ``level`` (proportions) or ``q`` (quantiles).
    vcov : pandas.DataFrame or None
        Covariance matrix of the estimates (labels x labels); None for quantiles.
    conf_level : float
        Level of the intervals.
    warnings : tuple of str
        Problems met (also emitted as :class:`analysis.errors.EstimationWarning`).
    """

    kind: str
    estimate: Any
    se: Any
    ci_low: Any
    ci_high: Any
    deff: Any
    df: Any
    n: Any
    labels: tuple[str, ...]
    rows: pd.DataFrame = field(repr=False)
    vcov: pd.DataFrame | None = field(default=None, repr=False)
    conf_level: float = 0.95
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per estimate.

        Returns
        -------
        pandas.DataFrame
            The descriptor columns of :attr:`rows` (``group`` and the ``by`` variables when
            grouped, ``variable``, ``level`` or ``q``), then ``estimate``, ``se``, ``df``,
            ``ci_low``, ``ci_high``, ``deff``, ``n``, and ``statistic_type`` (:attr:`kind`).
        """
        out = self.rows.reset_index(drop=True).copy()
        for col in _ESTIMATE_COLUMNS:
            value = getattr(self, col)
            out[col] = np.asarray(value, dtype=float).reshape(-1) if col != "n" else (
                np.asarray(value, dtype="int64").reshape(-1))
        out["statistic_type"] = self.kind
        return out

    def contrast(self, coefficients: Any, *, conf_level: float | None = None,
                 df: float | None = None) -> SurveyEstimate:
        """Linear combination(s) of the estimates, e.g. a difference of group means.

        Parameters
        ----------
        coefficients : sequence of float, dict or dict of sequences
            One weight per row (in the order of :attr:`labels`), or a dict label -> weight
            (absent labels weigh 0), or a dict name -> either of these for several contrasts.
        conf_level : float, optional
            Level of the intervals; default :attr:`conf_level`.
        df : float, optional
            Degrees of freedom of the interval; default ``inf`` (R's ``confint`` default for
            ``svycontrast``).

        Returns
        -------
        SurveyEstimate
            ``kind="contrast"``, ``variable`` the contrast name (``"contrast"`` for one
            unnamed contrast); ``deff`` NaN; ``n`` the number of observations of the rows
            involved.

        Raises
        ------
        analysis.errors.InputError
            Quantiles (no covariance), wrong length or unknown labels.

        Notes
        -----
        :math:`\\hat\\theta = c^\\top \\hat\\beta`, :math:`\\mathrm{se} =
        \\sqrt{c^\\top V c}` with :math:`V` = :attr:`vcov` (the design covariance of all rows,
        domains included: R's ``svyby(..., covmat=TRUE)``).

        References
        ----------
        Lumley, T. (2010). *Complex Surveys*, 5.3 (``svycontrast``). Wiley.

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.survey._design import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("abab"), "w": [1.0, 1, 2, 2]})
        >>> m = SurveyDesign(df, weights="w").mean("y", by="g")
        >>> round(m.contrast({"b": 1, "a": -1}).estimate, 6)  # R: svycontrast(svyby(..., covmat=TRUE), c(-1, 1))
        1.0
        """
        if self.vcov is None:
            raise InputError("contrasts need a covariance matrix, which quantiles do not have",
                             value=self.kind)
        labels = list(self.labels)

        def as_vector(c) -> np.ndarray:
            if isinstance(c, dict):
                unknown = [k for k in c if k not in labels]
                if unknown:
                    raise InputError("unknown row label in the contrast", value=unknown[0],
                                     expected=", ".join(labels))
                return np.array([float(c.get(k, 0.0)) for k in labels])
            vec = np.asarray(c, dtype=float).reshape(-1)
            if len(vec) != len(labels):
                raise InputError("a contrast needs one coefficient per estimate", value=len(vec),
                                 expected=f"{len(labels)} coefficients ({', '.join(labels)})")
            return vec

        if isinstance(coefficients, dict) and coefficients and all(
                isinstance(v, (dict, list, tuple, np.ndarray)) for v in coefficients.values()):
            named = {str(k): as_vector(v) for k, v in coefficients.items()}
        else:
            named = {"contrast": as_vector(coefficients)}
        C = np.vstack(list(named.values()))
        est_vec = np.atleast_1d(np.asarray(self.estimate, dtype=float))
        n_vec = np.atleast_1d(np.asarray(self.n, dtype=float))
        est = C @ est_vec
        v = C @ self.vcov.to_numpy() @ C.T
        se = np.sqrt(np.clip(np.diag(v), 0, None))
        level = self.conf_level if conf_level is None else conf_level
        crit = _critical(level, math.inf if df is None else float(df))
        names = list(named)
        rows = pd.DataFrame({"variable": names})
        ns = [int(n_vec[c != 0].sum()) for c in C]

        def pack(values):
            arr = np.asarray(values, dtype=float)
            return arr[0].item() if len(arr) == 1 else pd.Series(arr, index=pd.Index(
                names, name="label"))

        return SurveyEstimate(
            kind="contrast", estimate=pack(est), se=pack(se), ci_low=pack(est - crit * se),
            ci_high=pack(est + crit * se), deff=pack(np.full(len(est), np.nan)),
            df=pack(np.full(len(est), math.inf if df is None else float(df))),
            n=ns[0] if len(ns) == 1 else pd.Series(ns, index=pd.Index(names, name="label")),
            labels=tuple(names), rows=rows, vcov=pd.DataFrame(v, index=names, columns=names),
            conf_level=float(level))

    def __repr__(self) -> str:
        return f"SurveyEstimate(kind={self.kind!r})\n" + self.to_frame().to_string()

    def _repr_html_(self) -> str:
        return f"<div><p><b>{html.escape(self.kind)}</b></p>{self.to_frame().to_html()}</div>"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return [str(v) for v in x]


def _rowsum(values: np.ndarray, codes: np.ndarray, ngroups: int) -> np.ndarray:
    """Sum the rows of ``values`` (n x p) by integer group ``codes`` -> (ngroups x p)."""
    out = np.empty((ngroups, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=ngroups)
    return out


def _qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """Weighted quantile, R survey's ``qrule="math"`` (inverse of the weighted ECDF)."""
    keep = w != 0
    x, w = x[keep], w[keep]
    if len(x) == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cumw = np.cumsum(w)
    total = cumw[-1]
    below = np.nonzero(cumw <= p * total)[0]
    if len(below) == 0:  # p below the first jump: the smallest value
        return float(x[0])
    pos = below[-1]
    posnext = pos if pos == len(x) - 1 else pos + 1
    wlow = p - cumw[pos] / total
    return float(x[pos] if wlow == 0 else x[posnext])


def _critical(conf_level: float, df: float) -> float:
    a = 0.5 + conf_level / 2
    if math.isinf(df):
        return float(stats.norm.ppf(a))
    if df <= 0:
        return float("nan")
    return float(stats.t.ppf(a, df))


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
            :meth:`pandas.DataFrame.query` expression, e.g. ``"legal_form == 'cooperative'"``.

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
    def _linear_estimates(self, kind, columns, by, na_rm, conf_level, df, var_names):
        """Means / totals of several numeric columns (n x k arrays with NaN for missing)."""
        groups, by_cols = self._groups(by)
        w = self._w
        rows, est, z_cols, deffs, ns, warns = [], [], [], [], [], []
        for label, values, gmask in groups:
            for name, (x, miss, level) in zip(var_names, columns):
                if na_rm:
                    d = gmask & ~miss
                    missing_in = False
                else:
                    d = gmask
                    missing_in = bool((miss & gmask).any())
                wd = np.where(d, w, 0.0)
                xz = np.where(d, np.nan_to_num(x), 0.0)
                psum = wd.sum()
                nobs = int((wd != 0).sum())
                if missing_in or psum == 0:
                    e = np.nan
                    z = np.zeros(len(w))
                    deff = np.nan
                    if missing_in:
                        warns.append(f"{name}: missing values (na_rm=False gives NaN, as R)")
                else:
                    mean = float((wd * xz).sum() / psum)
                    if kind == "total":
                        e = float((wd * xz).sum())
                        z = wd * xz
                    else:
                        e = mean
                        z = wd * (xz - mean) / psum
                    deff = self._deff_ratio(z, wd, xz, mean, psum, nobs, kind)
                row = {}
                if by_cols:
                    row["group"] = label
                    row.update(values)
                row["variable"] = name
                if level is not None:
                    row["level"] = level
                rows.append(row)
                est.append(e)
                z_cols.append(z)
                deffs.append(deff)
                ns.append(nobs)
        z = np.column_stack(z_cols)
        v = self.variance(z)
        # deff needs the design variance: computed above as vsrs; combine here
        with np.errstate(divide="ignore", invalid="ignore"):
            deff = np.array([np.nan if not np.isfinite(dv) else np.float64(v[i, i]) / dv
                             for i, dv in enumerate(deffs)])
        df_used = [math.inf if df is None else float(df)] * len(est)
        return self._make_estimate(kind, rows, np.array(est), v, deff, df_used, ns, conf_level,
                                   warns)

    def _deff_ratio(self, z, wd, xz, mean, psum, nobs, kind) -> float:
        """SRS (without replacement) variance used as the denominator of deff (R's rule)."""
        if nobs < 2:
            return float("nan")
        svyvar = float((wd * (xz - mean) ** 2).sum() / psum) * nobs / (nobs - 1)
        if kind == "total":
            return svyvar * psum**2 * (psum - nobs) / (psum * nobs)
        if psum < nobs:
            return float("nan")
        return svyvar * (psum - nobs) / (psum * nobs)

    def _make_estimate(self, kind, rows, est, v, deff, df_used, ns, conf_level, warns,
                       se=None, ci=None) -> SurveyEstimate:
        if not 0 < conf_level < 1:
            raise InputError("conf_level must lie in (0, 1)", value=conf_level)
        rows_df = pd.DataFrame(rows)
        labels = self._labels(rows_df)
        if se is None:
            se = np.sqrt(np.clip(np.diag(v), 0, None))
        if ci is None:
            crit = np.array([_critical(conf_level, d) for d in df_used])
            ci = (est - crit * se, est + crit * se)
        for msg in dict.fromkeys(warns):
            _warnings.warn(msg, EstimationWarning, stacklevel=3)
        vcov = None if v is None else pd.DataFrame(v, index=labels, columns=labels)

        def pack(values, dtype=float):
            arr = np.asarray(values, dtype=dtype)
            if len(arr) == 1:
                return arr[0].item()
            return pd.Series(arr, index=pd.Index(labels, name="label"))

        return SurveyEstimate(
            kind=kind, estimate=pack(est), se=pack(se), ci_low=pack(ci[0]), ci_high=pack(ci[1]),
            deff=pack(deff), df=pack(df_used), n=pack(ns, dtype="int64"), labels=tuple(labels),
            rows=rows_df, vcov=vcov, conf_level=float(conf_level),
            warnings=tuple(dict.fromkeys(warns)))

    @staticmethod
    def _labels(rows: pd.DataFrame) -> list[str]:
        parts = []
        if "group" in rows:
            parts.append(rows["group"].astype(str))
        has_sub = len(rows.columns.intersection(["level", "q"])) > 0
        if rows["variable"].nunique() > 1 or not (has_sub or "group" in rows):
            parts.append(rows["variable"].astype(str))
        for extra in ("level", "q"):
            if extra in rows:
                parts.append(rows[extra].astype(str))
        if not parts:
            return list(rows["variable"].astype(str))
        labels = parts[0]
        for p in parts[1:]:
            labels = labels + ":" + p
        return list(labels)

    def mean(self, var: str | Sequence[str], by: str | Sequence[str] | None = None, *,
             na_rm: bool = False, conf_level: float = 0.95,
             df: float | None = None) -> SurveyEstimate:
        """Design-based mean of numeric variable(s), overall or by group.

        Parameters
        ----------
        var : str or list of str
            Numeric column(s). A categorical column gives the proportion of each level (as
            R's ``svymean`` of a factor; see :meth:`proportion`).
        by : str or list of str, optional
            Grouping column(s): one estimate per group (domain), as R's ``svyby``.
        na_rm : bool, default False
            As R's ``na.rm``: False gives NaN (R's NA) when the variable has missing values;
            True drops them (domain estimation on the non-missing units, design kept whole).
        conf_level : float, default 0.95
            Level of the Wald interval.
        df : float, optional
            Degrees of freedom of the interval; default ``inf`` (standard normal), R's
            ``confint(svymean(...))`` default. Pass ``design.degf`` for a t interval.

        Returns
        -------
        SurveyEstimate
            ``kind="mean"``; ``deff`` as R's ``deff=TRUE``.

        Notes
        -----
        :math:`\\hat\\mu = \\sum_i w_i y_i / \\sum_i w_i`, linearised variable
        :math:`z_i = w_i (y_i - \\hat\\mu) / \\sum_i w_i` (restricted to the domain for
        ``by``), variance from :meth:`variance`. ``deff`` divides it by
        :math:`s^2_w (\\hat N - n) / (\\hat N n)` with :math:`s^2_w` the weighted variance
        times ``n / (n - 1)``.

        References
        ----------
        Lumley, T. (2010). *Complex Surveys*, ch. 2-3. Wiley.

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.survey._design import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("abab"), "w": [1.0, 1, 2, 2]})
        >>> SurveyDesign(df, weights="w").mean("y", by="g").estimate.round(6).tolist()
        [2.333333, 3.333333]
        >>> # R: svyby(~y, ~g, svydesign(~1, weights=~w, data=df), svymean)
        """
        names = _as_list(var)
        if any(not pd.api.types.is_numeric_dtype(self.data[v]) and
               not pd.api.types.is_bool_dtype(self.data[v])
               for v in names if v in self.data.columns):
            if len(names) == 1:
                return self.proportion(names[0], by=by, na_rm=na_rm, conf_level=conf_level,
                                       df=df)
        columns = [(*self._numeric(v), None) for v in names]
        return self._linear_estimates("mean", columns, by, na_rm, conf_level, df, names)

    def total(self, var: str | Sequence[str], by: str | Sequence[str] | None = None, *,
              na_rm: bool = False, conf_level: float = 0.95,
              df: float | None = None) -> SurveyEstimate:
        """Design-based population total of numeric variable(s), overall or by group.

        Parameters
        ----------
        var, by, na_rm, conf_level, df
            As :meth:`mean`. A categorical ``var`` gives the estimated number of population
            units at each level.

        Returns
        -------
        SurveyEstimate
            ``kind="total"``.

        Notes
        -----
        Horvitz-Thompson: :math:`\\hat Y = \\sum_i w_i y_i`, :math:`z_i = w_i y_i`. ``deff``
        as R: variance over :math:`s^2_w \\hat N^2 (\\hat N - n) / (\\hat N n)`.

        References
        ----------
        Horvitz, D. G., & Thompson, D. J. (1952). *JASA*, 47, 663-685.

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.survey._design import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [1.0, 1, 2, 2]})
        >>> SurveyDesign(df, weights="w").total("y").estimate  # R: svytotal(~y, design)
        17.0
        """
        names = _as_list(var)
        columns, labels = [], []
        for v in names:
            if v in self.data.columns and not (pd.api.types.is_numeric_dtype(self.data[v])
                                               or pd.api.types.is_bool_dtype(self.data[v])):
                levels, codes, miss = self._categorical(v)
                for k, lev in enumerate(levels):
                    x = np.where(miss, np.nan, (codes == k).astype(float))
                    columns.append((x, miss, lev))
                    labels.append(v)
            else:
                columns.append((*self._numeric(v), None))
                labels.append(v)
        return self._linear_estimates("total", columns, by, na_rm, conf_level, df, labels)

    def proportion(self, var: str, by: str | Sequence[str] | None = None, *,
                   na_rm: bool = False, conf_level: float = 0.95, df: float | None = None,
                   ci_method: str = "wald") -> SurveyEstimate:
        """Design-based proportion of each level of a categorical variable.

        Parameters
        ----------
        var : str
            Categorical column (any dtype; levels sorted, or the categories' order).
        by, na_rm, conf_level
            As :meth:`mean`.
        df : float, optional
            Degrees of freedom of the interval. Default: ``inf`` for ``ci_method="wald"``
            (R's ``confint(svymean(~factor))``), the design df (``degf`` of the group) for
            ``"logit"`` (R's ``svyciprop``).
        ci_method : {"wald", "logit"}, default "wald"
            ``"wald"``: estimate -/+ critical value x se, as ``confint(svymean(~f, design))``;
            ``"logit"``: interval on the logit scale back-transformed, as
            ``svyciprop(~I(f == level), design)`` (its default ``method="logit"``), which
            stays inside (0, 1).

        Returns
        -------
        SurveyEstimate
            ``kind="proportion"``, one row per level (and group), with column ``level``.

        Notes
        -----
        The proportion of level ``k`` is the mean of the indicator ``1{y_i = k}`` (see
        :meth:`mean`). Logit interval: with ``p`` and ``se``,
        ``expit(logit(p) -/+ t_{df} se / (p (1 - p)))``.

        References
        ----------
        Korn, E. L., & Graubard, B. I. (1998). Confidence intervals for proportions with small
        expected number of positive counts estimated from survey data. *Survey Methodology*,
        24, 193-201.

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.survey._design import SurveyDesign
        >>> df = pd.DataFrame({"f": list("aabb"), "w": [1.0, 1, 2, 4]})
        >>> SurveyDesign(df, weights="w").proportion("f").estimate.round(4).tolist()
        [0.25, 0.75]
        >>> # R: svymean(~f, svydesign(~1, weights=~w, data=df))
        """
        if ci_method not in ("wald", "logit"):
            raise InputError("unknown ci_method", value=ci_method, expected="'wald' or 'logit'")
        levels, codes, miss = self._categorical(var)
        columns = [(np.where(miss, np.nan, (codes == k).astype(float)), miss, lev)
                   for k, lev in enumerate(levels)]
        res = self._linear_estimates("mean", columns, by, na_rm, conf_level,
                                     df if ci_method == "wald" else None, [var] * len(levels))
        rows = res.rows
        est = np.atleast_1d(np.asarray(res.estimate, dtype=float))
        se = np.atleast_1d(np.asarray(res.se, dtype=float))
        dfs = np.atleast_1d(np.asarray(res.df, dtype=float))
        if ci_method == "logit":
            groups, _ = self._groups(by)
            gdf = {}
            for label, _values, gmask in groups:
                inset = gmask & ~miss if na_rm else gmask
                gdf[label] = self._degf(inset)
            dfs = np.array([float(df) if df is not None else
                            float(gdf[r.get("group")] if "group" in rows else gdf[None])
                            for r in rows.to_dict("records")])
            crit = np.array([_critical(conf_level, d) for d in dfs])
            with np.errstate(divide="ignore", invalid="ignore"):
                eta = np.log(est / (1 - est))
                se_eta = se / (est * (1 - est))
                lo = 1 / (1 + np.exp(-(eta - crit * se_eta)))
                hi = 1 / (1 + np.exp(-(eta + crit * se_eta)))
            ci = (lo, hi)
        else:
            crit = np.array([_critical(conf_level, d) for d in dfs])
            ci = (est - crit * se, est + crit * se)
        v = None if res.vcov is None else res.vcov.to_numpy()
        return self._make_estimate("proportion", rows.to_dict("records"), est, v,
                                   np.atleast_1d(np.asarray(res.deff, dtype=float)), list(dfs),
                                   list(np.atleast_1d(np.asarray(res.n))), conf_level, [],
                                   se=se, ci=ci)

    def ratio(self, num: str, den: str, by: str | Sequence[str] | None = None, *,
              na_rm: bool = False, conf_level: float = 0.95,
              df: float | None = None) -> SurveyEstimate:
        """Design-based ratio of two population totals, ``sum(w num) / sum(w den)``.

        Parameters
        ----------
        num, den : str
            Numeric columns of the numerator and denominator.
        by, conf_level, df
            As :meth:`mean`.
        na_rm : bool, default False
            True drops rows where either variable is missing (R's ``na.rm=TRUE``).

        Returns
        -------
        SurveyEstimate
            ``kind="ratio"``, ``variable`` = ``"num/den"``.

        Notes
        -----
        :math:`\\hat R = \\hat Y / \\hat X`, linearised variable
        :math:`z_i = w_i (y_i - \\hat R x_i) / \\hat X` (R's ``svyratio``); ``deff`` as R's
        ``deff(svytotal(r, design, deff=TRUE))`` with ``r_i = (y_i - R x_i) / \\hat X``.

        References
        ----------
        Cochran, W. G. (1977). *Sampling Techniques* (3rd ed.), ch. 6. Wiley.

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.survey._design import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3], "x": [2.0, 2, 4], "w": [1.0, 1, 1]})
        >>> SurveyDesign(df, weights="w").ratio("y", "x").estimate  # R: svyratio(~y, ~x, design)
        0.75
        """
        y, ymiss = self._numeric(num)
        x, xmiss = self._numeric(den)
        miss = ymiss | xmiss
        groups, by_cols = self._groups(by)
        w = self._w
        rows, est, zs, deffs, ns, warns = [], [], [], [], [], []
        for label, values, gmask in groups:
            d = gmask & ~miss if na_rm else gmask
            missing_in = (not na_rm) and bool((miss & gmask).any())
            wd = np.where(d, w, 0.0)
            yy, xx = np.where(d, np.nan_to_num(y), 0.0), np.where(d, np.nan_to_num(x), 0.0)
            X = float((wd * xx).sum())
            nobs = int((wd != 0).sum())
            if missing_in or X == 0:
                r_hat, z, dv = np.nan, np.zeros(len(w)), np.nan
                if missing_in:
                    warns.append(f"{num}/{den}: missing values (na_rm=False gives NaN, as R)")
            else:
                r_hat = float((wd * yy).sum()) / X
                r = np.where(d, (yy - r_hat * xx) / X, 0.0)
                z = wd * r
                psum = wd.sum()
                rbar = float((wd * r).sum() / psum)
                dv = self._deff_ratio(z, wd, r, rbar, psum, nobs, "total")
            row = {}
            if by_cols:
                row["group"] = label
                row.update(values)
            row["variable"] = f"{num}/{den}"
            rows.append(row)
            est.append(r_hat)
            zs.append(z)
            deffs.append(dv)
            ns.append(nobs)
        v = self.variance(np.column_stack(zs))
        with np.errstate(divide="ignore", invalid="ignore"):
            deff = np.array([np.nan if not np.isfinite(dv) else np.float64(v[i, i]) / dv
                             for i, dv in enumerate(deffs)])
        df_used = [math.inf if df is None else float(df)] * len(est)
        return self._make_estimate("ratio", rows, np.array(est), v, deff, df_used, ns, conf_level,
                                   warns)

    def quantile(self, var: str, q: float | Sequence[float] = 0.5,
                 by: str | Sequence[str] | None = None, *, na_rm: bool = False,
                 conf_level: float = 0.95, df: float | None = None) -> SurveyEstimate:
        """Design-based quantile(s) with Woodruff confidence intervals (R's ``svyquantile``).

        Parameters
        ----------
        var : str
            Numeric column.
        q : float or list of float, default 0.5
            Probabilities in (0, 1).
        by, na_rm, conf_level
            As :meth:`mean`.
        df : float, optional
            Degrees of freedom; default the design df of the (group) design, R's
            ``degf(design)`` default of ``svyquantile``.

        Returns
        -------
        SurveyEstimate
            ``kind="quantile"``, column ``q``; ``deff`` is NaN (R gives none); ``vcov`` None.

        Notes
        -----
        Default method of R survey >= 4.1: ``qrule="math"`` (the smallest value whose
        weighted ECDF reaches ``q``; exact inverse of the weighted distribution function) and
        ``interval.type="mean"`` (Woodruff 1952): with ``p = F_w(q_hat)`` the estimated mean of
        ``1{y <= q_hat}`` and its SE, the interval of ``p`` is ``p -/+ t_{df} se`` and its
        bounds are mapped back through the same quantile rule; the reported SE is the interval
        width divided by ``2 t_{df}``.

        References
        ----------
        Woodruff, R. S. (1952). Confidence intervals for medians and other position measures.
        *JASA*, 47, 635-646. Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical
        packages. *The American Statistician*, 50, 361-365.

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.survey._design import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "w": [1.0, 1, 1, 1, 1]})
        >>> SurveyDesign(df, weights="w").quantile("y", 0.5).estimate
        3.0
        >>> # R: svyquantile(~y, design, 0.5)
        """
        qs = [float(v) for v in np.atleast_1d(q)]
        if any(not 0 < v < 1 for v in qs):
            raise InputError("quantile probabilities must lie in (0, 1)", value=qs)
        x, miss = self._numeric(var)
        groups, by_cols = self._groups(by)
        w = self._w
        rows, est, ses, lows, highs, dfs, ns, warns = [], [], [], [], [], [], [], []
        for label, values, gmask in groups:
            d = gmask & ~miss if na_rm else gmask
            missing_in = (not na_rm) and bool((miss & gmask).any())
            wd = np.where(d, w, 0.0)
            xx = np.where(d, np.nan_to_num(x), 0.0)
            nobs = int((wd != 0).sum())
            dfg = float(self._degf(d)) if df is None else float(df)
            crit = _critical(conf_level, dfg)
            psum = wd.sum()
            for p in qs:
                if missing_in or psum == 0:
                    qhat = lo = hi = se = np.nan
                    if missing_in:
                        warns.append(f"{var}: missing values (na_rm=False gives NaN, as R)")
                else:
                    qhat = _qrule_math(xx, wd, p)
                    ind = (xx <= qhat).astype(float)
                    pm = float((wd * ind).sum() / psum)
                    z = wd * (ind - pm) / psum
                    se_p = math.sqrt(max(self.variance(z)[0, 0], 0.0))
                    pl, pu = pm - crit * se_p, pm + crit * se_p
                    lo = np.nan if (np.isnan(pl) or pl < 0) else _qrule_math(xx, wd, pl)
                    hi = np.nan if (np.isnan(pu) or pu > 1) else _qrule_math(xx, wd, pu)
                    se = (hi - lo) / (2 * crit)
                row = {}
                if by_cols:
                    row["group"] = label
                    row.update(values)
                row["variable"] = var
                row["q"] = p
                rows.append(row)
                est.append(qhat)
                ses.append(se)
                lows.append(lo)
                highs.append(hi)
                dfs.append(dfg)
                ns.append(nobs)
        return self._make_estimate("quantile", rows, np.array(est), None,
                                   np.full(len(est), np.nan), dfs, ns, conf_level, warns,
                                   se=np.array(ses), ci=(np.array(lows), np.array(highs)))

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
    def glm(self, formula: str, family: str = "gaussian", *, model: str | None = None,
            conf_level: float = 0.95, max_iter: int = 100, tol: float = 1e-12):
        """Design-based generalised linear model (R's ``svyglm``).

        Parameters
        ----------
        formula : str
            Patsy formula, e.g. ``"api00 ~ ell + meals + mobility"``; quote awkward names
            with ``Q("sch.wide")``; factors with ``C(x)``. For ``binomial`` the response is
            0/1 or boolean (``I(x == "Yes")``). Rows with a missing value in a model variable
            are dropped (R's ``na.omit``), and no longer count for the design df; so are the
            units outside a :meth:`subset` domain (weights rescaled to mean 1 over the units
            used, as R does for a subset of an uncalibrated design; for a subset of a
            calibrated design R rescales over all rows, which changes ``deviance`` and ``aic``
            but not the coefficients or their SEs).
        family : {"gaussian", "binomial", "poisson"}, default "gaussian"
            Identity, logit and log links. ``binomial`` / ``poisson`` give the same
            coefficients and SEs as R's ``quasibinomial`` / ``quasipoisson`` (and
            ``binomial`` / ``poisson``): the design-based variance does not use the
            dispersion.
        model : {"ols", "logit", "poisson"}, optional
            The same choice in :func:`analysis.regression._regression.regress`'s vocabulary (which calls
            ``design.glm(formula, model=...)``); overrides ``family`` when given. ``"ordinal"``
            and ``"negbin"`` have no design-based version here.
        conf_level : float, default 0.95
            Level of the intervals.
        max_iter, tol : int, float
            IRLS limits: stop when the relative change in deviance is below ``tol``.

        Returns
        -------
        analysis.regression._regression.RegressionResult
            ``se_type="design"``, model ``"ols"`` / ``"logit"`` / ``"poisson"``;
            ``coefficients`` with t statistics, p-values and intervals on
            ``df_resid = degf + 1 - p`` degrees of freedom (R's ``summary.svyglm`` and
            ``confint.svyglm``). ``fit``: ``n``, ``df_model``, ``df_resid``, ``deviance``,
            ``null_deviance``, ``aic`` (R's ``fit$aic``: the likelihood AIC of the glm
            fitted with weights rescaled to mean 1; *not* a design-based AIC, and NaN in R
            for quasi families).

        Raises
        ------
        analysis.errors.InputError
            Unknown family, bad formula, response outside the family's range.

        Notes
        -----
        Estimates solve the weighted score equations
        :math:`\\sum_i w_i x_i (y_i - \\mu_i) \\mu'(\\eta_i) / V(\\mu_i) = 0` by IRLS. Sandwich
        covariance: with :math:`A^{-1} = (X^\\top W X)^{-1}` (working weights) and
        :math:`u_i` the score of unit i, the linearised variables are :math:`z = U A^{-1}`,
        whose design covariance (:meth:`variance`, with calibration) is the covariance of
        :math:`\\hat\\beta` (Binder 1983; R's ``svy.varcoef``).

        References
        ----------
        Binder, D. A. (1983). On the variances of asymptotically normal estimators from
        complex surveys. *International Statistical Review*, 51, 279-292.
        Lumley, T., & Scott, A. (2017). Fitting regression models to survey data.
        *Statistical Science*, 32, 265-278.

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.survey._design import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 3, 2, 5, 4, 6], "x": [1.0, 2, 3, 4, 5, 6],
        ...                    "w": [1.0, 2, 1, 2, 1, 2]})
        >>> res = SurveyDesign(df, weights="w").glm("y ~ x")  # R: svyglm(y ~ x, design)
        >>> list(res.coefficients.index)
        ['Intercept', 'x']
        """
        import patsy

        from analysis.regression._regression import RegressionResult

        if model is not None:
            by_kind = {kind: fam for fam, kind in GLM_FAMILIES.items()}
            if model not in by_kind:
                raise InputError("no design-based version of this model kind", value=model,
                                 expected=", ".join(by_kind))
            family = by_kind[model]
        if family not in GLM_FAMILIES:
            raise InputError("unknown GLM family", value=family,
                             expected=", ".join(GLM_FAMILIES))
        try:
            y_df, x_df = patsy.dmatrices(formula, self.data, NA_action="drop",
                                         return_type="dataframe")
        except Exception as exc:  # patsy raises PatsyError and others for bad formulas
            raise InputError(f"cannot build the model from the formula: {exc}",
                             value=formula) from exc
        if y_df.shape[1] == 2 and family == "binomial":  # boolean / two-level response
            y_df = y_df.iloc[:, [1]]
        if y_df.shape[1] != 1:
            raise InputError("the response must be one numeric column", value=formula,
                             expected="a numeric or 0/1 response")
        term_columns = {name: list(x_df.columns[sl])
                        for name, sl in x_df.design_info.term_name_slices.items()}
        positive = self._w[y_df.index.to_numpy()] > 0  # units outside a subset() domain
        y_df, x_df = y_df.loc[positive], x_df.loc[positive]
        used = np.zeros(len(self._w), dtype=bool)
        used[y_df.index.to_numpy()] = True
        idx = y_df.index.to_numpy()
        y = y_df.iloc[:, 0].to_numpy(dtype=float)
        X = x_df.to_numpy(dtype=float)
        terms = list(x_df.columns)
        if family == "binomial" and ((y < 0) | (y > 1)).any():
            raise InputError("binomial response must lie in [0, 1]", value=formula)
        if family == "poisson" and (y < 0).any():
            raise InputError("poisson response must be non-negative", value=formula)
        w_all = self._w
        w = w_all[idx] / w_all[idx].mean()  # R's rescale=TRUE
        beta, mu, eta, converged, iters = _irls(X, y, w, family, max_iter, tol)
        warns = []
        if not converged:
            warns.append(f"svyglm IRLS did not converge in {max_iter} iterations")
        mu_eta, varmu = _family_derivs(family, eta, mu)
        ww = w * mu_eta**2 / varmu
        xtwx = X.T @ (X * ww[:, None])
        rank = np.linalg.matrix_rank(xtwx)
        if rank < X.shape[1]:
            raise InputError("the model matrix is rank deficient (collinear predictors)",
                             value=formula, expected="linearly independent predictors")
        ainv = np.linalg.inv(xtwx)
        scores = X * (w * (y - mu) * mu_eta / varmu)[:, None]
        z = np.zeros((len(w_all), X.shape[1]))
        z[idx] = scores @ ainv
        vcov = self.variance(z)
        p = X.shape[1]
        degf = self._degf(used)
        df_resid = degf + 1 - p
        dev = _deviance(family, y, mu, w)
        null_mu = np.full_like(y, float((w * y).sum() / w.sum()))
        if "Intercept" not in terms:
            null_mu = _family_inverse(family, np.zeros_like(y))
        fit = {
            "n": float(len(y)),
            "df_model": float(p - (1 if "Intercept" in terms else 0)),
            "df_resid": float(df_resid),
            "deviance": dev,
            "null_deviance": _deviance(family, y, null_mu, w),
            "aic": _aic(family, y, mu, w, dev) + 2 * p,
            "iterations": float(iters),
        }
        for msg in warns:
            _warnings.warn(msg, EstimationWarning, stacklevel=2)
        return RegressionResult.from_arrays(
            terms, beta, vcov=vcov, df_resid=float(df_resid) if df_resid > 0 else math.inf,
            fit=fit, model=GLM_FAMILIES[family], se_type="design", formula=formula,
            conf_level=conf_level, exog=x_df, endog=y_df.iloc[:, 0], warnings=warns,
            term_columns=term_columns,
            extra={"family": family, "degf": degf, "naive_cov": ainv},
        )


# ---------------------------------------------------------------------------------------------
# GLM internals
# ---------------------------------------------------------------------------------------------
def _family_inverse(family: str, eta: np.ndarray) -> np.ndarray:
    if family == "gaussian":
        return eta
    if family == "binomial":
        return 1.0 / (1.0 + np.exp(-eta))
    return np.exp(eta)


def _family_derivs(family: str, eta: np.ndarray, mu: np.ndarray):
    """d mu / d eta and the variance function V(mu)."""
    if family == "gaussian":
        return np.ones_like(mu), np.ones_like(mu)
    if family == "binomial":
        e = np.maximum(mu * (1 - mu), np.finfo(float).eps)
        return e, e
    e = np.maximum(mu, np.finfo(float).eps)
    return e, e


def _deviance(family: str, y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    if family == "gaussian":
        return float((w * (y - mu) ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        if family == "binomial":
            t1 = np.where(y > 0, y * np.log(y / mu), 0.0)
            t2 = np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
            return float(2 * (w * (t1 + t2)).sum())
        t = np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)
        return float(2 * (w * t).sum())


def _aic(family: str, y, mu, w, dev) -> float:
    """R's family()$aic (without the 2 * rank term)."""
    n = len(y)
    if family == "gaussian":
        return float(n * (math.log(dev / n * 2 * math.pi) + 1) + 2 - np.log(w).sum())
    if family == "binomial":
        m = w
        return float(-2 * np.sum(np.where(m > 0, 1.0, 0.0) * stats.binom.logpmf(
            np.round(m * y), np.round(m), mu)))
    return float(-2 * np.sum(stats.poisson.logpmf(y, mu) * w))


def _irls(X, y, w, family, max_iter, tol):
    """Iteratively reweighted least squares as R's glm.fit (same starting values)."""
    if family == "gaussian":
        mu = y.copy()
    elif family == "binomial":
        mu = (w * y + 0.5) / (w + 1)
    else:
        mu = y + 0.1
    eta = mu.copy() if family == "gaussian" else (
        np.log(mu / (1 - mu)) if family == "binomial" else np.log(mu))
    dev_old = _deviance(family, y, mu, w)
    beta = np.zeros(X.shape[1])
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        mu_eta, varmu = _family_derivs(family, eta, mu)
        zwork = eta + (y - mu) / mu_eta
        ww = w * mu_eta**2 / varmu
        sw = np.sqrt(ww)
        beta, *_ = np.linalg.lstsq(X * sw[:, None], zwork * sw, rcond=None)
        eta = X @ beta
        mu = _family_inverse(family, eta)
        dev = _deviance(family, y, mu, w)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol or family == "gaussian":
            converged = True
            break
        dev_old = dev
    return beta, mu, eta, converged, iterations
