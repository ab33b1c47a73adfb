"""Results of the design-based estimators: :class:`SurveyEstimate` and how it is built.

The estimators (:mod:`analysis.survey._linear`, :mod:`analysis.survey._quantile`) compute point
estimates, linearised variables and design variances; :func:`make_estimate` packs them, with
their intervals, into one :class:`SurveyEstimate`.
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

__all__ = ["SurveyEstimate", "make_estimate"]

_ESTIMATE_COLUMNS = ("estimate", "se", "df", "ci_low", "ci_high", "deff", "n")


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


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return [str(v) for v in x]


def _critical(conf_level: float, df: float) -> float:
    a = 0.5 + conf_level / 2
    if math.isinf(df):
        return float(stats.norm.ppf(a))
    if df <= 0:
        return float("nan")
    return float(stats.t.ppf(a, df))


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


def make_estimate(kind, rows, est, v, deff, df_used, ns, conf_level, warns,
                   se=None, ci=None) -> SurveyEstimate:
    """Pack point estimates, their covariance ``v`` and intervals into a :class:`SurveyEstimate`.

    ``rows`` are the descriptors of each estimate (dicts); ``se`` and ``ci`` default to the
    square roots of the diagonal of ``v`` and Wald intervals on ``df_used`` degrees of freedom.
    ``warns`` are emitted once each as :class:`~analysis.errors.EstimationWarning`.
    """
    if not 0 < conf_level < 1:
        raise InputError("conf_level must lie in (0, 1)", value=conf_level)
    rows_df = pd.DataFrame(rows)
    labels = _labels(rows_df)
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
