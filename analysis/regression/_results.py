"""Results of the regression models: :class:`RegressionResult` and its vocabulary.

One results object is shared by every model of :func:`analysis.regression.regress` and by
:meth:`analysis.survey.SurveyDesign.glm` (design-based estimates), so that the tables layer
renders all of them in the same way (models side by side, with fit rows).

Conventions
-----------
* Coefficient tables are indexed by term; the constant is named ``Intercept`` and factor levels
  keep the formula names (``C(stype)[T.H]``). Columns: ``estimate, se, statistic, p_value,
  ci_low, ci_high``.
* Model kinds (``RegressionResult.model``): ``"ols"``, ``"logit"``, ``"ordinal"``, ``"poisson"``,
  ``"negbin"``. A design-based model uses the same kinds (Gaussian GLM = ``"ols"``).
* SE types (``RegressionResult.se_type``): ``"classical"``, ``"hc3"``, ``"cluster"`` (CR1 as
  ``sandwich::vcovCL``), ``"design"`` (linearisation from a survey design), ``"mi"``
  (Rubin's rules after multiple imputation).
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import EstimationWarning, InputError

__all__ = ["COEF_COLUMNS", "FIT_FIELDS", "MODEL_KINDS", "SE_TYPES", "RegressionResult"]


#: Columns of :attr:`RegressionResult.coefficients`, in this order.
COEF_COLUMNS: tuple[str, ...] = ("estimate", "se", "statistic", "p_value", "ci_low", "ci_high")

#: Entries of :attr:`RegressionResult.fit` (NaN where they do not apply).
FIT_FIELDS: tuple[str, ...] = (
    "n",
    "r2",
    "adj_r2",
    "pseudo_r2",
    "aic",
    "bic",
    "llf",
    "df_model",
    "df_resid",
)

MODEL_KINDS: tuple[str, ...] = ("ols", "logit", "ordinal", "poisson", "negbin")
SE_TYPES: tuple[str, ...] = ("classical", "hc3", "cluster", "design", "mi")

_EXP_KINDS = {"logit": "odds_ratio", "ordinal": "odds_ratio", "poisson": "rate_ratio",
              "negbin": "rate_ratio"}


def _as_fit_series(fit: Mapping[str, float] | pd.Series | None) -> pd.Series:
    values = {name: np.nan for name in FIT_FIELDS}
    if fit is not None:
        for key, value in dict(fit).items():
            values[str(key)] = np.nan if value is None else float(value)
    return pd.Series(values, dtype="float64", name="fit")


@dataclass(frozen=True, eq=False)
class RegressionResult:
    """Results of one regression model, in the package's tidy vocabulary.

    Build it with :func:`analysis.regression.regress` or, from estimates computed elsewhere
    (e.g. a survey design), with :meth:`RegressionResult.from_arrays`.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        Indexed by term (``Intercept`` for the constant; ordinal thresholds named ``1|2``,
        ``2|3``... as ``MASS::polr``, listed after the slopes). Columns ``estimate``, ``se``,
        ``statistic`` (t or z), ``p_value`` (two-sided), ``ci_low``, ``ci_high`` (Wald interval
        at ``conf_level``).
    fit : pandas.Series
        ``n`` (observations used), ``r2``, ``adj_r2`` (OLS), ``pseudo_r2`` (McFadden,
        1 - llf / llnull, for the other models), ``aic``, ``bic``, ``llf`` (log-likelihood),
        ``df_model`` (number of slopes), ``df_resid``; NaN where a value does not apply.
        Some models add entries (``ssr``, ``llnull``, ``alpha``/``theta`` for negbin,
        ``n_clusters``, ``m`` for imputations).
    model : str
        Model kind: ``"ols"``, ``"logit"``, ``"ordinal"``, ``"poisson"`` or ``"negbin"``.
    se_type : str
        ``"classical"``, ``"hc3"``, ``"cluster"``, ``"design"`` or ``"mi"``.
    formula : str or None
        The model formula as given.
    vcov : pandas.DataFrame or None
        Covariance matrix of the estimates used for ``se`` (terms x terms).
    dist : str
        Reference distribution of ``statistic``: ``"t"`` (with ``df_resid`` degrees of freedom)
        or ``"z"`` (standard normal).
    conf_level : float
        Level of the confidence intervals.
    thresholds : tuple of str
        Names of the threshold (cut-point) rows in ``coefficients`` (ordinal model only).
    exog : pandas.DataFrame or None
        Design matrix (rows used x terms), kept for :meth:`vif` and :attr:`std_coefficients`.
    endog : pandas.Series or None
        Outcome values used (numeric), kept for :attr:`std_coefficients`.
    term_columns : dict or None
        Formula term -> list of design-matrix columns (a factor has several), for the
        generalised VIF.
    warnings : tuple of str
        Estimation problems met (non-convergence, ...), also emitted as
        :class:`analysis.errors.EstimationWarning`.
    extra : dict
        Model-specific extras (e.g. the statsmodels results object under ``"sm_result"``,
        the centring constants of moderation models under ``"centered"``).

    Notes
    -----
    ``statistic = estimate / se``. With ``dist="t"``,
    ``p_value = 2 * (1 - F_t(|statistic|; df_resid))`` and
    ``ci = estimate -/+ t_{1-a/2, df_resid} * se``; with ``dist="z"`` the standard normal
    replaces the t distribution (as R's ``summary.glm`` for binomial/Poisson families and
    ``confint.default``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.regression import regress
    >>> rng = np.random.default_rng(3)
    >>> d = pd.DataFrame({"x": rng.normal(size=300)})
    >>> d["y"] = (rng.random(300) < 1 / (1 + np.exp(-d["x"]))).astype(int)
    >>> r = regress("y ~ x", d, model="logit")  # R: summary(glm(y ~ x, binomial, d))
    >>> list(r.coefficients.columns)
    ['estimate', 'se', 'statistic', 'p_value', 'ci_low', 'ci_high']
    >>> r.dist, r.model, r.se_type
    ('z', 'logit', 'classical')
    >>> bool(r.odds_ratios().loc["x", "estimate"] > 1)  # R: exp(coef(m))
    True
    """

    coefficients: pd.DataFrame
    fit: pd.Series
    model: str = "ols"
    se_type: str = "classical"
    formula: str | None = None
    vcov: pd.DataFrame | None = None
    dist: str = "t"
    conf_level: float = 0.95
    thresholds: tuple[str, ...] = ()
    exog: pd.DataFrame | None = field(default=None, repr=False)
    endog: pd.Series | None = field(default=None, repr=False)
    term_columns: dict[str, list[str]] | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        terms: Sequence[str],
        estimate: Sequence[float] | np.ndarray,
        se: Sequence[float] | np.ndarray | None = None,
        *,
        vcov: np.ndarray | pd.DataFrame | None = None,
        df_resid: float | None = None,
        fit: Mapping[str, float] | pd.Series | None = None,
        model: str = "ols",
        se_type: str = "classical",
        formula: str | None = None,
        conf_level: float = 0.95,
        thresholds: Sequence[str] = (),
        exog: pd.DataFrame | None = None,
        endog: pd.Series | None = None,
        term_columns: dict[str, list[str]] | None = None,
        warnings: Sequence[str] = (),
        extra: dict | None = None,
    ) -> RegressionResult:
        """Build a result from estimates and standard errors computed elsewhere.

        Parameters
        ----------
        terms : sequence of str
            Term names (``Intercept`` for the constant).
        estimate : array-like
            Point estimates, one per term.
        se : array-like, optional
            Standard errors; taken from the diagonal of ``vcov`` when omitted.
        vcov : array-like, optional
            Covariance matrix of the estimates (terms x terms).
        df_resid : float, optional
            Residual degrees of freedom. Given: t statistics, p-values and intervals use the
            t distribution with these df (``summary.lm``, ``summary.svyglm``). Omitted (None):
            standard normal (z).
        fit : mapping, optional
            Fit statistics; keys outside :data:`FIT_FIELDS` are kept, missing ones are NaN.
            ``df_resid`` is filled from the argument when absent.
        model, se_type, formula, conf_level, thresholds, exog, endog, term_columns, warnings, extra
            Stored as the attributes of the same name.

        Returns
        -------
        RegressionResult

        Raises
        ------
        analysis.errors.InputError
            If lengths differ, neither ``se`` nor ``vcov`` is given, or ``model`` / ``se_type``
            is unknown.

        Notes
        -----
        ``statistic = estimate / se``; ``p_value = 2 * (1 - F(|statistic|))`` and
        ``ci = estimate -/+ q_{(1+conf_level)/2} * se`` with ``F``, ``q`` from
        t(``df_resid``) or the standard normal.

        Examples
        --------
        >>> from analysis.regression import RegressionResult
        >>> r = RegressionResult.from_arrays(["Intercept", "x"], [1.0, 0.5], [0.1, 0.2],
        ...                                  df_resid=20, fit={"n": 22})
        >>> float(r.coefficients.loc["x", "statistic"])
        2.5
        >>> # R: summary(lm(y ~ x))$coefficients has the same four first columns
        """
        terms = [str(t) for t in terms]
        est = np.asarray(estimate, dtype=float).reshape(-1)
        if len(est) != len(terms):
            raise InputError("estimate and terms differ in length", value=len(est),
                             expected=f"{len(terms)} estimates")
        vcov_frame = None
        if vcov is not None:
            vc = np.asarray(vcov, dtype=float)
            if vc.shape != (len(terms), len(terms)):
                raise InputError("vcov has the wrong shape", value=vc.shape,
                                 expected=f"({len(terms)}, {len(terms)})")
            vcov_frame = pd.DataFrame(vc, index=terms, columns=terms)
        if se is None:
            if vcov_frame is None:
                raise InputError("give se or vcov", expected="standard errors or a covariance")
            se_arr = np.sqrt(np.diag(vcov_frame.to_numpy()))
        else:
            se_arr = np.asarray(se, dtype=float).reshape(-1)
            if len(se_arr) != len(terms):
                raise InputError("se and terms differ in length", value=len(se_arr),
                                 expected=f"{len(terms)} standard errors")
        if model not in MODEL_KINDS:
            raise InputError("unknown model kind", value=model, expected=", ".join(MODEL_KINDS))
        if se_type not in SE_TYPES:
            raise InputError("unknown SE type", value=se_type, expected=", ".join(SE_TYPES))
        if not 0 < conf_level < 1:
            raise InputError("conf_level must lie in (0, 1)", value=conf_level)
        fit_s = _as_fit_series(fit)
        if df_resid is not None and np.isnan(fit_s["df_resid"]):
            fit_s["df_resid"] = float(df_resid)
        dist = "z" if df_resid is None else "t"
        coefs = _coef_table(terms, est, se_arr, df_resid, conf_level)
        return cls(
            coefficients=coefs,
            fit=fit_s,
            model=model,
            se_type=se_type,
            formula=formula,
            vcov=vcov_frame,
            dist=dist,
            conf_level=float(conf_level),
            thresholds=tuple(str(t) for t in thresholds),
            exog=exog,
            endog=endog,
            term_columns=term_columns,
            warnings=tuple(str(w) for w in warnings),
            extra=dict(extra or {}),
        )

    # ------------------------------------------------------------------ derived tables
    @property
    def params(self) -> pd.Series:
        """Point estimates (``coefficients["estimate"]``)."""
        return self.coefficients["estimate"]

    @property
    def slopes(self) -> pd.DataFrame:
        """Coefficient rows other than ``Intercept`` and ordinal thresholds."""
        drop = set(self.thresholds) | {"Intercept"}
        return self.coefficients.loc[[t for t in self.coefficients.index if t not in drop]]

    @property
    def std_coefficients(self) -> pd.Series:
        """Standardised slopes of an OLS model (beta weights).

        Returns
        -------
        pandas.Series
            ``b_j * sd(x_j) / sd(y)`` for each non-constant column of the design matrix
            (sample SDs, ddof=1), as ``lm.beta::lm.beta`` / SPSS "Beta". Dummy columns are
            standardised like any column. NaN for every term if the design matrix was not kept.

        Raises
        ------
        analysis.errors.InputError
            For a model other than OLS.
        """
        if self.model != "ols":
            raise InputError("standardised coefficients are defined here for OLS only",
                             value=self.model, expected="ols")
        slopes = self.slopes["estimate"]
        if self.exog is None or self.endog is None:
            return pd.Series(np.nan, index=slopes.index, name="std_estimate")
        sd_y = float(np.std(np.asarray(self.endog, dtype=float), ddof=1))
        sd_x = self.exog[slopes.index].std(ddof=1)
        out = slopes * sd_x / sd_y
        out.name = "std_estimate"
        return out.astype("float64")

    def exponentiated(self) -> pd.DataFrame:
        """exp() of the estimates and interval bounds (odds ratios, rate ratios).

        Returns
        -------
        pandas.DataFrame
            Indexed by term (thresholds excluded); columns ``estimate``, ``ci_low``,
            ``ci_high`` (exponentiated Wald bounds), ``p_value`` (unchanged).
        """
        rows = self.coefficients.drop(index=list(self.thresholds))
        out = pd.DataFrame(
            {
                "estimate": np.exp(rows["estimate"]),
                "ci_low": np.exp(rows["ci_low"]),
                "ci_high": np.exp(rows["ci_high"]),
                "p_value": rows["p_value"],
            }
        )
        return out

    def odds_ratios(self) -> pd.DataFrame:
        """Odds ratios of a logit or ordinal (proportional-odds) model.

        Returns
        -------
        pandas.DataFrame
            See :meth:`exponentiated`. For the ordinal model ``exp(beta)`` is the odds ratio of
            being *above* any cut-point for a unit increase (``MASS::polr`` sign convention).

        Raises
        ------
        analysis.errors.InputError
            If the model is not ``logit`` or ``ordinal``.

        Examples
        --------
        >>> from analysis.regression import RegressionResult
        >>> r = RegressionResult.from_arrays(["Intercept", "x"], [0.0, math.log(2)], [1, 1],
        ...                                  model="logit")
        >>> float(r.odds_ratios().loc["x", "estimate"])  # R: exp(coef(glm(..., binomial)))
        2.0
        """
        if self.model not in ("logit", "ordinal"):
            raise InputError("odds ratios apply to logit and ordinal models", value=self.model,
                             expected="logit or ordinal")
        return self.exponentiated()

    def rate_ratios(self) -> pd.DataFrame:
        """Incidence-rate ratios of a Poisson or negative-binomial model (see :meth:`exponentiated`).

        Raises
        ------
        analysis.errors.InputError
            If the model is not ``poisson`` or ``negbin``.
        """
        if self.model not in ("poisson", "negbin"):
            raise InputError("rate ratios apply to count models", value=self.model,
                             expected="poisson or negbin")
        return self.exponentiated()

    def vif(self) -> pd.DataFrame:
        """Variance inflation factors of the predictors (``car::vif``).

        Returns
        -------
        pandas.DataFrame
            Indexed by formula term; columns ``vif`` (GVIF, equal to the classical VIF for a
            one-column term), ``df`` (columns of the term) and ``gvif_adj`` =
            ``GVIF^(1/(2 df))`` (comparable with sqrt(VIF)).

        Notes
        -----
        With ``R`` the correlation matrix of the non-constant design columns and ``R_11`` /
        ``R_22`` its blocks for the term and for the other columns,
        ``GVIF = det(R_11) det(R_22) / det(R)`` (Fox & Monette 1992); for one column this is
        ``1 / (1 - R^2_j)``. Ordinal thresholds are not part of the design matrix.

        References
        ----------
        Fox, J., & Monette, G. (1992). Generalized collinearity diagnostics. *JASA*, 87, 178-183.

        Raises
        ------
        analysis.errors.InputError
            If the design matrix was not kept or has fewer than two predictors.
        """
        if self.exog is None:
            raise InputError("VIFs need the design matrix, which this result does not keep")
        X = self.exog.drop(columns=[c for c in self.exog.columns if c == "Intercept"])
        X = X.loc[:, X.std(ddof=1) > 0]
        if X.shape[1] < 2:
            raise InputError("VIFs need at least two predictors", value=X.shape[1])
        groups = self.term_columns or {c: [c] for c in X.columns}
        groups = {t: [c for c in cols if c in X.columns] for t, cols in groups.items()}
        groups = {t: cols for t, cols in groups.items() if cols}
        R = np.corrcoef(X.to_numpy(dtype=float), rowvar=False)
        cols = list(X.columns)
        det_r = np.linalg.det(R)
        rows = []
        for term, tcols in groups.items():
            idx = [cols.index(c) for c in tcols]
            rest = [i for i in range(len(cols)) if i not in idx]
            d11 = np.linalg.det(R[np.ix_(idx, idx)])
            d22 = np.linalg.det(R[np.ix_(rest, rest)]) if rest else 1.0
            gvif = d11 * d22 / det_r
            rows.append((term, gvif, len(idx), gvif ** (1 / (2 * len(idx)))))
        return pd.DataFrame(rows, columns=["term", "vif", "df", "gvif_adj"]).set_index("term")

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficient table, one row per term.

        Returns
        -------
        pandas.DataFrame
            Columns ``term``, ``estimate``, ``se``, ``statistic``, ``df`` (``df_resid`` for
            t statistics, NaN for z), ``p_value``, ``ci_low``, ``ci_high``, ``n``,
            ``term_type`` (``"intercept"``, ``"slope"`` or ``"threshold"``), ``model``,
            ``se_type``.
        """
        out = self.coefficients.reset_index(names="term")
        if self.dist != "t":
            out.insert(4, "df", np.nan)
        elif "term_df" in self.extra:  # per-term df (Rubin's rules)
            out.insert(4, "df", np.asarray(self.extra["term_df"], dtype=float))
        else:
            out.insert(4, "df", float(self.fit["df_resid"]))
        out["n"] = self.fit["n"]
        thresholds = set(self.thresholds)
        out["term_type"] = [
            "threshold" if t in thresholds else "intercept" if t == "Intercept" else "slope"
            for t in out["term"]
        ]
        out["model"] = self.model
        out["se_type"] = self.se_type
        return out

    def fit_frame(self) -> pd.DataFrame:
        """Fit statistics as a one-column table (``statistic`` -> ``value``)."""
        return self.fit.rename("value").rename_axis("statistic").to_frame()

    def __repr__(self) -> str:
        head = f"RegressionResult(model={self.model!r}, se_type={self.se_type!r}"
        if self.formula:
            head += f", formula={self.formula!r}"
        head += f", n={self.fit['n']:g})"
        return head + "\n" + self.coefficients.to_string()

    def _repr_html_(self) -> str:
        title = html.escape(f"{self.model} ({self.se_type} SE): {self.formula or ''}")
        return (
            f"<div><p><b>{title}</b></p>{self.coefficients.to_html()}"
            f"{self.fit.dropna().to_frame('value').to_html()}</div>"
        )


def _coef_table(terms, est, se, df_resid, conf_level) -> pd.DataFrame:
    """Coefficient table; ``df_resid`` None/inf -> normal, scalar or per-term array -> t."""
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    if df_resid is None or (np.ndim(df_resid) == 0 and math.isinf(float(df_resid))):
        dist = stats.norm
    else:
        dist = stats.t(np.asarray(df_resid, dtype=float))
    q = dist.ppf(0.5 + conf_level / 2)
    p = 2 * dist.sf(np.abs(stat))
    return pd.DataFrame(
        {
            "estimate": est,
            "se": se,
            "statistic": stat,
            "p_value": p,
            "ci_low": est - q * se,
            "ci_high": est + q * se,
        },
        index=pd.Index(terms, name="term"),
    )


def _warn(messages: list[str], text: str) -> None:
    """Keep ``text`` for :attr:`RegressionResult.warnings` and emit it as an EstimationWarning."""
    messages.append(text)
    warnings.warn(text, EstimationWarning, stacklevel=3)
