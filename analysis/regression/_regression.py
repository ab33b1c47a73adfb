"""Regression models for the hypotheses H1-H3: OLS, logit, ordinal logit, Poisson, negative binomial.

One results object, :class:`RegressionResult`, is shared by every model of this module and by
:meth:`analysis.survey._design.SurveyDesign.glm` (design-based estimates), so that the tables layer
renders all of them in the same way (table 9 of the blueprint: models side by side, with fit rows).

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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import InputError
from analysis.utils.blas import one_blas_thread

__all__ = [
    "COEF_COLUMNS",
    "FIT_FIELDS",
    "MODEL_KINDS",
    "SE_TYPES",
    "MiceOptions",
    "ModelComparison",
    "RegressionResult",
    "compare_models",
    "pool_rubin",
    "regress",
    "simple_slopes",
]

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

    Build it with :func:`analysis.regression._regression.regress` or, from estimates computed elsewhere
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
    >>> from analysis.regression._regression import regress
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
        >>> from analysis.regression._regression import RegressionResult
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
        >>> from analysis.regression._regression import RegressionResult
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


# ====================================================================== model fitting
@dataclass(frozen=True)
class MiceOptions:
    """Options of multiple imputation by chained equations (``impute=`` of :func:`regress`).

    Attributes
    ----------
    m : int
        Number of imputed data sets (default 20).
    seed : int or None
        Seed of the random generator (``numpy.random.default_rng(seed)``).
    n_burnin : int
        Chained-equation cycles before the first data set and between two data sets
        (default 10).
    auxiliary : tuple of str
        Extra numeric columns used to impute but not in the analysis model.
    k_pmm : int
        Donor pool size of predictive mean matching (statsmodels default 20).

    Notes
    -----
    Imputation uses :class:`statsmodels.imputation.mice.MICEData`: each incomplete numeric
    variable is imputed in turn from all the others by predictive mean matching on an OLS fit
    with perturbed (Gaussian) coefficients, as ``mice::mice(method="pmm")``. Categorical
    variables in the model must be complete (they enter the imputation models as dummies).
    """

    m: int = 20
    seed: int | None = None
    n_burnin: int = 10
    auxiliary: tuple[str, ...] = ()
    k_pmm: int = 20


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




def _fail(message: str, **kw) -> InputError:
    return InputError(message, **kw)


def _ordinal_labels(values) -> list[str]:
    out = []
    for v in values:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return out


def _categorical_text(data: pd.DataFrame, rhs: str) -> pd.DataFrame:
    """Text columns named in ``rhs`` as pandas Categoricals (sorted levels, as patsy's own).

    patsy sniffs the levels of a text column value by value in Python (slow on large
    data, slower still on Arrow-backed strings); a Categorical gives them at once. The
    design matrix is the same: patsy sorts the observed levels of a text column, and
    ``pd.Categorical`` sorts its categories the same way; missing values stay missing.
    """
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", rhs))
    conv = {}
    for c in data.columns:
        if c not in names:
            continue
        dt = data[c].dtype
        if isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dt):
            continue
        if isinstance(dt, pd.StringDtype) or (
            pd.api.types.is_object_dtype(dt) and pd.api.types.infer_dtype(data[c], skipna=True) == "string"
        ):
            conv[c] = pd.Categorical(data[c].astype(object).where(data[c].notna(), None))
    return data.assign(**conv) if conv else data


def _categorical_C(data, contrast=None, levels=None):
    """patsy's ``C()``, passing a pandas Categorical through unboxed when nothing is set.

    ``C(x)`` boxes its argument, and patsy then maps a boxed column to level codes value by
    value in Python; a bare Categorical is coded at once from its own codes. Both give the
    same levels (the Categorical's categories), the same default treatment coding and the
    same column names (taken from the formula text, ``C(x)[T.level]``).
    """
    from patsy.builtins import C
    from patsy.util import safe_is_pandas_categorical

    if contrast is None and levels is None and safe_is_pandas_categorical(data):
        return data
    return C(data, contrast, levels)


def _design(formula: str, data: pd.DataFrame, model: str):
    """Outcome vector, design matrix (DataFrame) and term -> columns, listwise on formula vars."""
    import patsy

    if "~" not in formula:
        raise _fail("a formula needs '~'", value=formula, expected="'outcome ~ predictors'")
    lhs, rhs = formula.split("~", 1)
    lhs = lhs.strip()
    data = _categorical_text(data, rhs)
    # names are looked up as before (data, then this module, then patsy's builtins), with C()
    # first: the fast path for Categoricals above
    env = patsy.EvalEnvironment.capture(0)
    env = patsy.EvalEnvironment([{"C": _categorical_C}, env.namespace], env.flags)
    try:
        X = patsy.dmatrix(rhs, data, return_type="dataframe", NA_action="drop", eval_env=env)
    except patsy.PatsyError as exc:
        raise _fail(f"cannot build the design matrix: {exc}", value=rhs) from exc
    term_columns = {
        name: list(X.columns[sl]) for name, sl in X.design_info.term_name_slices.items()
    }
    if model == "ordinal":
        if lhs not in data.columns:
            raise _fail("the outcome of an ordinal model must be a column name", value=lhs)
        y_raw = data.loc[X.index, lhs]
        keep = y_raw.notna()
        X, y_raw = X.loc[keep], y_raw.loc[keep]
        if isinstance(y_raw.dtype, pd.CategoricalDtype):
            levels = [c for c in y_raw.cat.categories if (y_raw == c).any()]
            codes = pd.Categorical(y_raw, categories=levels).codes
        else:
            try:
                levels = sorted(pd.unique(y_raw))
            except TypeError as exc:
                raise _fail("ordinal outcome levels cannot be ordered; give an ordered "
                            "categorical", column=lhs) from exc
            codes = pd.Categorical(y_raw, categories=levels).codes
        if len(levels) < 3:
            raise _fail("an ordinal outcome needs at least 3 observed levels", column=lhs,
                        value=len(levels))
        X = X.drop(columns=[c for c in X.columns if c == "Intercept"])
        term_columns.pop("Intercept", None)
        y = pd.Series(codes.astype(float), index=X.index, name=lhs)
        return y, X, term_columns, _ordinal_labels(levels)
    try:
        Y = patsy.dmatrix(lhs + " - 1", data.loc[X.index], return_type="dataframe",
                          NA_action="drop", eval_env=env)
    except patsy.PatsyError as exc:
        raise _fail(f"cannot evaluate the outcome: {exc}", value=lhs) from exc
    if Y.shape[1] == 2:  # a two-level factor or boolean: success = second level
        Y = Y.iloc[:, [1]]
    if Y.shape[1] != 1:
        raise _fail("the outcome must be one numeric column (or a two-level factor for logit)",
                    value=lhs)
    X = X.loc[Y.index]
    y = Y.iloc[:, 0].astype(float).rename(lhs)
    if model == "logit" and not np.isin(y.unique(), [0.0, 1.0]).all():
        raise _fail("a logit outcome must be 0/1, boolean or a two-level factor", column=lhs,
                    value=sorted(y.unique())[:5])
    if model in ("poisson", "negbin") and ((y < 0).any() or (y != np.floor(y)).any()):
        raise _fail("a count outcome must hold non-negative integers", column=lhs)
    return y, X, term_columns, None


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


def _fit_ordinal(y_codes: np.ndarray, X: np.ndarray, n_cat: int, tol=1e-10, maxiter=200):
    """Proportional-odds logit by Newton-Raphson with the analytic Hessian.

    Parameters are ``(beta, zeta)``: logit P(Y <= j) = zeta_j - x'beta (MASS::polr).
    Returns (params, loglik, hessian, score_obs, converged).
    """
    n, p = X.shape
    J = n_cat - 1
    y = y_codes.astype(int)

    def parts(theta):
        beta, zeta = theta[:p], theta[p:]
        eta = X @ beta
        cut = np.concatenate(([-np.inf], zeta, [np.inf]))
        z_hi = cut[y + 1] - eta
        z_lo = cut[y] - eta
        F_hi, F_lo = stats.logistic.cdf(z_hi), stats.logistic.cdf(z_lo)
        prob = F_hi - F_lo
        f_hi = np.where(np.isfinite(z_hi), F_hi * (1 - F_hi), 0.0)
        f_lo = np.where(np.isfinite(z_lo), F_lo * (1 - F_lo), 0.0)
        d_hi = f_hi * (1 - 2 * F_hi)
        d_lo = f_lo * (1 - 2 * F_lo)
        # gradient of z_hi / z_lo with respect to (beta, zeta)
        G_hi = np.zeros((n, p + J))
        G_lo = np.zeros((n, p + J))
        G_hi[:, :p] = -X
        G_lo[:, :p] = -X
        rows = np.arange(n)
        hi_idx = y  # zeta index of the upper cut (valid when y < J)
        lo_idx = y - 1
        m_hi = y < J
        m_lo = y > 0
        G_hi[rows[m_hi], p + hi_idx[m_hi]] = 1.0
        G_lo[rows[m_lo], p + lo_idx[m_lo]] = 1.0
        return prob, f_hi, f_lo, d_hi, d_lo, G_hi, G_lo

    def loglik_score_hess(theta):
        prob, f_hi, f_lo, d_hi, d_lo, G_hi, G_lo = parts(theta)
        with np.errstate(divide="ignore"):
            ll = np.sum(np.log(prob))
        score_obs = (f_hi / prob)[:, None] * G_hi - (f_lo / prob)[:, None] * G_lo
        w_hh = d_hi / prob - (f_hi / prob) ** 2
        w_ll = -d_lo / prob - (f_lo / prob) ** 2
        w_hl = f_hi * f_lo / prob**2
        H = (G_hi * w_hh[:, None]).T @ G_hi + (G_lo * w_ll[:, None]).T @ G_lo
        cross = (G_hi * w_hl[:, None]).T @ G_lo
        H = H + cross + cross.T
        return ll, score_obs, H

    # start: thresholds from the marginal cumulative proportions, slopes 0
    counts = np.bincount(y, minlength=n_cat)
    cum = np.cumsum(counts)[:-1] / n
    theta = np.concatenate((np.zeros(p), np.log(cum / (1 - cum))))
    ll, score_obs, H = loglik_score_hess(theta)
    converged = False
    for _ in range(maxiter):
        g = score_obs.sum(axis=0)
        try:
            step = np.linalg.solve(H, -g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        for _half in range(30):
            cand = theta + t * step
            zeta = cand[p:]
            if np.all(np.diff(zeta) > 0):
                ll_new, s_new, H_new = loglik_score_hess(cand)
                if np.isfinite(ll_new) and ll_new >= ll - 1e-12:
                    break
            t /= 2
        else:
            break
        theta, ll_old, ll, score_obs, H = cand, ll, ll_new, s_new, H_new
        if np.max(np.abs(t * step)) < tol and abs(ll - ll_old) < tol * (abs(ll) + tol):
            converged = True
            break
    return theta, ll, H, score_obs, converged


def _fit_statistics(kind, n, k, llf, llnull=np.nan, **extra):
    aic = -2 * llf + 2 * k
    bic = -2 * llf + math.log(n) * k
    out = {"n": n, "aic": aic, "bic": bic, "llf": llf, "llnull": llnull}
    if kind != "ols":
        out["pseudo_r2"] = 1 - llf / llnull if np.isfinite(llnull) else np.nan
    out.update(extra)
    return out


def _warn(messages: list[str], text: str) -> None:
    import warnings

    from analysis.errors import EstimationWarning

    messages.append(text)
    warnings.warn(text, EstimationWarning, stacklevel=3)


def _variables_in(formula: str, data: pd.DataFrame) -> list[str]:
    import re

    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula)
    seen = []
    for t in tokens:
        if t in data.columns and t not in seen:
            seen.append(t)
    return seen


def regress(
    formula: str,
    data: pd.DataFrame | None = None,
    model: str = "ols",
    se: str = "classical",
    cluster: str | None = None,
    design=None,
    impute: MiceOptions | None = None,
    *,
    center: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Fit a regression model and return its tidy results.

    Parameters
    ----------
    formula : str
        Patsy formula, e.g. ``"api00 ~ ell + meals + C(stype)"``; ``x:m`` / ``x*m`` for
        interactions, ``I(awards == "Yes")`` for a derived outcome. For ``model="ordinal"`` the
        outcome must be a column (numeric, ordered by value, or an ordered categorical).
    data : pandas.DataFrame
        Data (not needed with ``design``). Rows with a missing value in a formula variable are
        dropped (listwise, as R's default ``na.omit``) unless ``impute`` is given.
    model : {"ols", "logit", "ordinal", "poisson", "negbin"}
        Linear model, binary logit (``glm(binomial)``), proportional-odds logit
        (``MASS::polr``), Poisson GLM, negative binomial NB2 (``MASS::glm.nb``).
    se : {"classical", "hc3", "cluster"}
        Model-based SEs; HC3 (``sandwich::vcovHC(type="HC3")``; not for ``ordinal``);
        cluster-robust CR1 (``sandwich::vcovCL(cluster=, type="HC1")``).
    cluster : str, optional
        Column of cluster ids (required for ``se="cluster"``).
    design : analysis.survey._design.SurveyDesign, optional
        Design-based fit: delegated to ``design.glm(formula, model=model)``.
    impute : MiceOptions, optional
        Multiple imputation of missing numeric variables, results pooled by Rubin's rules.
    center : sequence of str, optional
        Columns to mean-centre before fitting (moderation models, H3); the means are kept in
        ``result.extra["centered"]`` and used by :func:`simple_slopes`.
    conf_level : float
        Level of the Wald confidence intervals (default 0.95).

    Returns
    -------
    RegressionResult
        Coefficients, fit statistics, covariance and design matrix.

    Raises
    ------
    analysis.errors.InputError
        Unknown model / SE type, missing cluster column, an outcome of the wrong type, a
        formula that does not evaluate.

    Notes
    -----
    *OLS*: ``b = (X'X)^-1 X'y``; t tests with ``n - k`` df for every SE type (as
    ``lmtest::coeftest``). ``aic = -2 llf + 2 (k + 1)`` and ``bic`` with ``log(n)`` count the
    residual variance as a parameter (R's ``AIC(lm)``).

    *GLMs* (logit, Poisson, negbin): IRLS; classical SEs from the expected information; z tests.
    *Negative binomial*: ``theta`` (R's ``theta``; statsmodels' ``alpha = 1/theta``) is the ML
    estimate; the slopes' SEs are those of the GLM at that ``theta`` (as ``glm.nb``), and
    ``fit["theta"]``, ``fit["se_theta"]`` (observed information of theta given mu) are reported.
    AIC counts ``theta``.

    *Ordinal* (proportional odds): ``logit P(Y <= j | x) = zeta_j - x'beta``, the ``MASS::polr``
    parametrisation, so a positive ``beta`` moves the response towards *higher* categories.
    Thresholds ``zeta_j`` are rows named ``"<level j>|<level j+1>"`` after the slopes; no
    intercept. Fitted by Newton-Raphson with the analytic Hessian; SEs from its inverse
    (polr uses a numerical Hessian from ``optim``; its default tolerance leaves estimates about
    1e-5 relative from the maximum). statsmodels' ``OrderedModel`` has the same sign
    convention but reports increments of the thresholds on the log scale.

    *Sandwich SEs*: ``V = B M B`` with ``B`` the model covariance (inverse information) and
    score contributions ``u_i``. HC3: ``M = sum u_i u_i' / (1 - h_i)^2`` with ``h_i`` the hat
    values of the (weighted) least-squares fit. CR1: ``M = G/(G-1) (n-1)/(n-k) sum_g U_g U_g'``
    with ``U_g`` the sum of ``u_i`` in cluster ``g``. ``sandwich::vcovCL`` uses this factor by
    default for ``lm``, but only ``G/(G-1)`` (type ``"HC0"``) by default for ``glm``: match it
    with ``type="HC1"``.

    Fit: McFadden ``pseudo_r2 = 1 - llf / llnull`` (``llnull``: intercept- or
    threshold-only model); ``df_model`` = number of slopes.

    References
    ----------
    Zeileis, A., Koell, S., & Graham, N. (2020). Various versatile variances: an
    object-oriented implementation of clustered covariances in R. *JSS*, 95(1).
    Venables, W. N., & Ripley, B. D. (2002). *Modern Applied Statistics with S* (4th ed.),
    sections 7.3-7.4. Springer.
    Long, J. S., & Ervin, L. H. (2000). Using heteroscedasticity consistent standard errors in
    the linear regression model. *The American Statistician*, 54, 217-224.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.regression._regression import regress
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=200), "g": rng.integers(0, 20, 200)})
    >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=200)
    >>> r = regress("y ~ x", d, se="cluster", cluster="g")
    >>> # R: lmtest::coeftest(m <- lm(y ~ x, d), vcov. = sandwich::vcovCL(m, cluster = ~g))
    >>> list(r.coefficients.index)
    ['Intercept', 'x']
    >>> r.fit["n"]
    np.float64(200.0)
    """
    if model not in MODEL_KINDS:
        raise _fail("unknown model kind", value=model, expected=", ".join(MODEL_KINDS))
    if se not in ("classical", "hc3", "cluster"):
        raise _fail("unknown SE type", value=se, expected="classical, hc3 or cluster")
    if design is not None:
        if impute is not None or se != "classical" or cluster is not None:
            raise _fail("with a survey design the SEs come from the design; drop se=, "
                        "cluster= and impute=")
        return design.glm(formula, model=model)
    if not isinstance(data, pd.DataFrame):
        raise _fail("data must be a pandas DataFrame", value=type(data).__name__)
    if se == "cluster":
        if cluster is None or cluster not in data.columns:
            raise _fail("se='cluster' needs cluster= naming a column of data", value=cluster)
    if se == "hc3" and model == "ordinal":
        raise _fail("HC3 is not defined for the ordinal model here", value=se,
                    expected="classical or cluster")
    if impute is None:
        # only the columns the formula can name (its text holds their names): listwise deletion
        # and row selections then copy a few columns, not the whole analysis file
        keep = [c for c in data.columns if str(c) in formula or c == cluster
                or (center and c in center)]
        if len(keep) < data.shape[1]:
            data = data[keep]
    centered: dict[str, float] = {}
    if center:
        data = data.copy()
        for col in center:
            if col not in data.columns:
                raise _fail("column to centre not found", column=col)
            mean = float(pd.to_numeric(data[col]).mean())
            data[col] = pd.to_numeric(data[col]) - mean
            centered[col] = mean
    if impute is not None:
        with one_blas_thread():
            return _regress_mi(formula, data, model, se, cluster, impute, centered, conf_level)
    if cluster is not None:
        data = data.loc[data[cluster].notna()]
    with one_blas_thread():
        result = _fit_one(formula, data, model, se, cluster, conf_level)
    if centered:
        result.extra["centered"] = centered
    return result


def _fit_one(formula, data, model, se, cluster, conf_level) -> RegressionResult:
    import statsmodels.api as sm

    # listwise deletion on the variables of the formula first (R's model.frame): an
    # expression such as I(x >= 4) would otherwise turn a missing x into False
    used = _variables_in(formula, data)
    if used:
        data = data.loc[data[used].notna().all(axis=1)]
    y, X, term_columns, levels = _design(formula, data, model)
    n, k = X.shape
    if n <= k:
        raise _fail("fewer observations than parameters", value=n, expected=f"more than {k}")
    groups = data.loc[X.index, cluster].to_numpy() if se == "cluster" else None
    messages: list[str] = []
    Xa, ya = X.to_numpy(dtype=float), y.to_numpy(dtype=float)
    extra: dict = {}
    thresholds: tuple[str, ...] = ()
    terms = list(X.columns)
    df_resid: float | None
    if model == "ols":
        res = sm.OLS(ya, Xa).fit()
        params, bread = res.params, np.linalg.inv(Xa.T @ Xa)
        vcov = res.cov_params()
        resid = res.resid
        scores = Xa * resid[:, None]
        hat = np.einsum("ij,ij->i", Xa @ bread, Xa)
        df_resid = float(n - k)
        fit = _fit_statistics("ols", n, k + 1, res.llf, r2=res.rsquared,
                              adj_r2=res.rsquared_adj, df_model=k - 1, df_resid=df_resid,
                              ssr=res.ssr)
        extra["sm_result"] = res
    elif model == "ordinal":
        theta, llf, H, scores, converged = _fit_ordinal(ya.astype(int), Xa, len(levels))
        if not converged:
            _warn(messages, "the proportional-odds model did not converge")
        params = theta
        vcov = np.linalg.inv(-H)
        bread = vcov
        hat = None
        thresholds = tuple(f"{a}|{b}" for a, b in zip(levels[:-1], levels[1:]))
        terms = terms + list(thresholds)
        counts = np.bincount(ya.astype(int), minlength=len(levels))
        llnull = float(np.sum(counts[counts > 0] * np.log(counts[counts > 0] / n)))
        n_par = len(params)
        df_resid = None
        fit = _fit_statistics("ordinal", n, n_par, llf, llnull, df_model=k,
                              df_resid=float(n - n_par))
    else:
        start = None
        if model == "logit":
            family = sm.families.Binomial()
        elif model == "poisson":
            family = sm.families.Poisson()
        else:
            # IRLS at the ML theta, started from the joint ML estimates
            family, alpha, start = _negbin_family(ya, Xa, messages)
        import warnings as _warnings

        from statsmodels.tools.sm_exceptions import ModelWarning

        # from the joint ML estimates (negbin) IRLS only moves by rounding: a relative change
        # of the deviance below 1e-15 stops it (the deviance of 1e5 cases never repeats to 1e-12)
        # Otherwise a relative change below 1e-13: an absolute 1e-12 alone is below the rounding
        # of a deviance of 1e6 (a million cases), and IRLS would run to maxiter.
        rtol = 1e-15 if start is not None else 1e-13
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            res = sm.GLM(ya, Xa, family=family).fit(start_params=start, tol=1e-12, rtol=rtol,
                                                    maxiter=200)
        for w in caught:
            if issubclass(w.category, (ModelWarning, RuntimeWarning)):
                _warn(messages, f"{model} model: {w.message}")
        if not res.converged:
            _warn(messages, f"the {model} model did not converge")
        params = res.params
        vcov = res.cov_params()
        bread = vcov
        mu = res.fittedvalues
        eta = Xa @ params
        with np.errstate(over="ignore", invalid="ignore"):  # separation: reported above
            mu_eta = family.link.inverse_deriv(eta)
        var = family.variance(mu)
        scores = Xa * ((ya - mu) * mu_eta / var)[:, None]
        w = mu_eta**2 / var
        Xw = Xa * np.sqrt(w)[:, None]
        hat = np.einsum("ij,ij->i", Xw @ bread, Xw)
        n_par = k + (1 if model == "negbin" else 0)
        more = {}
        if model == "negbin":
            more = {"theta": 1 / alpha, "alpha": alpha,
                    "se_theta": _negbin_se_theta(ya, np.asarray(mu, dtype=float), 1 / alpha)}
            llf = float(family.loglike(ya, mu, scale=1.0))
            llnull = _negbin_null_llf(ya, messages)
        else:
            null = sm.GLM(ya, np.ones((n, 1)), family=family).fit(tol=1e-12, rtol=1e-13)
            llf, llnull = float(res.llf), float(null.llf)
        df_resid = None
        fit = _fit_statistics(model, n, n_par, llf, llnull, df_model=k - 1,
                              df_resid=float(n - k), deviance=float(res.deviance), **more)
        extra["sm_result"] = res
    if se == "hc3":
        vcov = _sandwich(bread, scores, hat=hat)
    elif se == "cluster":
        vcov = _sandwich(bread, scores, groups=groups)
        fit["n_clusters"] = float(pd.Series(groups).nunique())
    return RegressionResult.from_arrays(
        terms,
        params,
        vcov=vcov,
        df_resid=df_resid,
        fit=fit,
        model=model,
        se_type=se,
        formula=formula,
        conf_level=conf_level,
        thresholds=thresholds,
        exog=X,
        endog=y,
        term_columns=term_columns,
        warnings=messages,
        extra=extra,
    )


def _theta_ml(y, mu, theta, tol=1e-12, maxiter=100):
    """ML estimate of the NB2 shape ``theta`` given the means ``mu`` (Newton on log theta)."""
    from scipy.special import digamma, polygamma

    uy, cnt = np.unique(y, return_counts=True)  # the special functions once per count
    lt = math.log(theta)
    for _ in range(maxiter):
        th = math.exp(lt)
        score = cnt @ digamma(th + uy) + np.sum(-digamma(th) + lt + 1 - np.log(th + mu)
                                                - (y + th) / (mu + th))
        hess = cnt @ polygamma(1, th + uy) + np.sum(-polygamma(1, th) + 1 / th - 2 / (mu + th)
                                                    + (y + th) / (mu + th) ** 2)
        # derivatives with respect to log theta
        g, h = score * th, hess * th**2 + score * th
        step = -g / h if h < 0 else math.copysign(1.0, g)
        step = max(min(step, 2.0), -2.0)
        lt += step
        if abs(step) < tol:
            break
    return math.exp(lt)


def _irls_log(y, X, alpha, beta=None, tol=1e-8, maxiter=100):
    """IRLS of a log-link Poisson (``alpha = 0``) or NB2 GLM by the normal equations.

    Only for starting values (:func:`_negbin_family`): ``X'WX`` costs a fraction of the
    least-squares solve of statsmodels' IRLS. Returns ``(beta, mu)``, or None on failure.
    """
    if beta is None:
        mu = (y + y.mean()) / 2.0  # statsmodels' start
        eta = np.log(mu)
    else:
        eta = X @ beta
        mu = np.exp(eta)
    for _ in range(maxiter):
        w = mu / (1.0 + alpha * mu)
        z = eta + (y - mu) / mu
        xw = X.T * w
        try:
            new = np.linalg.solve(xw @ X, xw @ z)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(new)):
            return None
        eta = X @ new
        with np.errstate(over="ignore"):
            mu = np.exp(eta)
        if not np.all(np.isfinite(mu)):
            return None
        done = beta is not None and np.max(np.abs(new - beta) / (np.abs(new) + 1.0)) < tol
        beta = new
        if done:
            break
    return beta, mu


def _negbin_family(y, X, messages):
    """ML estimate of the NB2 shape; returns (GLM family at that alpha, alpha, the joint ML
    estimates of the slopes).

    Starts with two rounds of the ``MASS::glm.nb`` alternation (IRLS for the slopes at fixed
    ``theta``, Newton for ``theta`` at fixed means), then maximises the same likelihood by joint
    Newton steps on ``(beta, log theta)`` to a relative change of 1e-12.
    """
    import statsmodels.api as sm

    y, X = np.asarray(y, dtype=float), np.asarray(X, dtype=float)
    # the start only needs to be close: IRLS by the normal equations (statsmodels' IRLS if
    # that fails)
    start = _irls_log(y, X, 0.0)
    if start is None:
        pois = sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-10, maxiter=100)
        start = np.asarray(pois.params, dtype=float), np.asarray(pois.fittedvalues, dtype=float)
    params, mu = start
    theta = _theta_ml(y, mu, 1.0)
    # two rounds of the glm.nb alternation give a start close to the optimum ...
    for _ in range(2):
        fam = sm.families.NegativeBinomial(alpha=1 / theta)
        step = _irls_log(y, X, 1 / theta, params)
        if step is None:
            res = sm.GLM(y, X, family=fam).fit(start_params=params, tol=1e-10, maxiter=200)
            step = np.asarray(res.params, dtype=float), np.asarray(res.fittedvalues, dtype=float)
        params, mu = step
        theta = _theta_ml(y, mu, theta)
    # ... then joint Newton steps on (beta, log theta) converge quadratically to the same
    # maximum that the alternation reaches linearly (and slowly when theta is small).
    params, theta, converged = _negbin_joint_newton(np.asarray(y, dtype=float), np.asarray(X, dtype=float),
                                                    params, theta)
    if not converged or not np.isfinite(theta) or theta > 1e8:
        _warn(messages, "the negative binomial shape (theta) did not converge")
    alpha = 1 / theta
    return sm.families.NegativeBinomial(alpha=alpha), alpha, params


def _negbin_se_theta(y, mu, theta) -> float:
    """SE of the NB2 shape from the observed information of theta given the means."""
    from scipy.special import polygamma

    info = -np.sum(polygamma(1, theta + y) - polygamma(1, theta) + 1 / theta
                   - 2 / (mu + theta) + (y + theta) / (mu + theta) ** 2)
    return float(1 / np.sqrt(info)) if info > 0 else np.nan


def _negbin_loglik(y, X, beta, theta, counts=None):
    from scipy.special import gammaln

    eta = X @ beta
    mu = np.exp(eta)
    uy, cnt = np.unique(y, return_counts=True) if counts is None else counts
    ll = cnt @ (gammaln(uy + theta) - gammaln(uy + 1)) + np.sum(
        -gammaln(theta) + theta * np.log(theta) + y * eta - (y + theta) * np.log(theta + mu))
    return float(ll), mu


def _negbin_joint_newton(y, X, beta, theta, tol=1e-12, maxiter=100):
    """Maximise the NB2 log-likelihood jointly in (beta, log theta) by damped Newton steps.

    Gradient and observed Hessian are analytic; returns (beta, theta, converged).
    """
    from scipy.special import polygamma, psi

    counts = np.unique(y, return_counts=True)  # the special functions once per count
    uy, cnt = counts
    ll, mu = _negbin_loglik(y, X, beta, theta, counts)
    for _ in range(maxiter):
        tm = theta + mu
        g_beta = X.T @ ((y - mu) * theta / tm)
        g_theta = cnt @ psi(uy + theta) + np.sum(-psi(theta) + np.log(theta) + 1 - np.log(tm)
                                                 - (y + theta) / tm)
        w = mu * theta * (y + theta) / tm**2
        h_bb = -(X.T * w) @ X
        h_bt = X.T @ ((y - mu) * mu / tm**2)
        h_tt = cnt @ polygamma(1, uy + theta) + np.sum(-polygamma(1, theta) + 1 / theta - 2 / tm
                                                       + (y + theta) / tm**2)
        # parameterise by log(theta): d/dlog = theta d/dtheta
        g = np.append(g_beta, g_theta * theta)
        H = np.empty((len(g), len(g)))
        H[:-1, :-1] = h_bb
        H[:-1, -1] = H[-1, :-1] = h_bt * theta
        H[-1, -1] = h_tt * theta**2 + g_theta * theta
        try:
            step = np.linalg.solve(H, -g)
        except np.linalg.LinAlgError:
            return beta, theta, False
        if not np.all(np.isfinite(step)):
            return beta, theta, False
        t = 1.0
        for _ in range(30):
            b_new = beta + t * step[:-1]
            th_new = theta * np.exp(t * step[-1])
            ll_new, mu_new = _negbin_loglik(y, X, b_new, th_new, counts)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        else:
            return beta, theta, False
        rel = max(np.max(np.abs(b_new - beta) / (np.abs(b_new) + 1e-8)), abs(th_new - theta) / theta)
        beta, theta, ll, mu = b_new, th_new, ll_new, mu_new
        if rel < tol:
            return beta, theta, True
    return beta, theta, False


def _negbin_null_llf(y, messages) -> float:
    """Log-likelihood of the intercept-only NB2 model (mu = mean(y), theta by ML)."""
    import statsmodels.api as sm

    mu = np.full(len(y), float(np.mean(y)))
    theta = _theta_ml(y, mu, 1.0)
    return float(sm.families.NegativeBinomial(alpha=1 / theta).loglike(y, mu, scale=1.0))


# ====================================================================== multiple imputation
def _regress_mi(formula, data, model, se, cluster, opts: MiceOptions, centered, conf_level):
    from statsmodels.imputation.mice import MICEData

    if opts.m < 2:
        raise _fail("multiple imputation needs m >= 2", value=opts.m)
    used = _variables_in(formula, data)
    extra_cols = [c for c in opts.auxiliary if c not in used]
    cols = used + extra_cols + ([cluster] if cluster and cluster not in used else [])
    frame = data[cols].copy()
    numeric, dummies = [], []
    for c in cols:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            numeric.append(c)
        elif s.isna().any():
            raise _fail("categorical variables must be complete for imputation", column=c,
                        value=int(s.isna().sum()), expected="no missing values")
    if not any(frame[c].isna().any() for c in numeric):
        res = _fit_one(formula, data, model, se, cluster, conf_level)
        return res
    # imputation frame: numeric columns + dummies of complete categorical columns
    safe = {c: f"v{i}" for i, c in enumerate(numeric)}
    imp = frame[numeric].rename(columns=safe).astype(float).reset_index(drop=True)
    for c in cols:
        if c not in numeric and c != cluster:
            d = pd.get_dummies(frame[c].astype(str), prefix=f"d{len(dummies)}", drop_first=True,
                               dtype=float).reset_index(drop=True)
            d.columns = [f"d{len(dummies)}_{j}" for j in range(d.shape[1])]
            dummies.append(c)
            imp = pd.concat([imp, d], axis=1)
    rng = np.random.default_rng(opts.seed)
    mice = MICEData(imp, k_pmm=opts.k_pmm, rng=rng)
    fits = []
    for _ in range(opts.m):
        mice.update_all(opts.n_burnin)
        completed = data.copy()
        for c, s_name in safe.items():
            completed[c] = mice.data[s_name].to_numpy()
        fits.append(_fit_one(formula, completed, model, se, cluster, conf_level))
    return pool_rubin(fits, conf_level=conf_level, formula=formula)


def pool_rubin(fits: Sequence[RegressionResult], conf_level: float = 0.95,
               formula: str | None = None) -> RegressionResult:
    """Pool results fitted on ``m`` imputed data sets by Rubin's rules (``mice::pool``).

    Notes
    -----
    ``Q = mean(q_l)``; within ``W = mean(se_l^2)``; between ``B = var(q_l)`` (ddof 1);
    total ``T = W + (1 + 1/m) B``. For t-based models the df use the Barnard-Rubin (1999)
    small-sample correction: ``lambda = (1 + 1/m) B / T``, ``nu_old = (m-1) / lambda^2``,
    ``nu_obs = (nu_com + 1) / (nu_com + 3) nu_com (1 - lambda)``,
    ``nu = nu_old nu_obs / (nu_old + nu_obs)``, with ``nu_com`` the complete-data residual df
    (``n - k``) for every model and ``lambda`` floored at 1e-4, as ``mice::pool``; the pooled
    result is therefore t-based (``dist="t"``) with per-term df in ``extra["term_df"]``
    (the ``df`` column of :meth:`RegressionResult.to_frame`). Fit statistics are averaged over
    the imputations (``fit["m"]`` holds m).

    Parameters
    ----------
    fits : sequence of RegressionResult
        The same model fitted on each imputed data set (m >= 2).
    conf_level : float
        Level of the intervals.
    formula : str, optional
        Formula to record (default: that of the first fit).

    Returns
    -------
    RegressionResult
        ``se_type="mi"``; ``extra`` holds ``term_df``, ``fraction_missing_info`` (lambda)
        and the ``imputations`` (the m fits).

    References
    ----------
    Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
    Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple
    imputation. *Biometrika*, 86, 948-955.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> fits = []
    >>> for m in range(3):
    ...     df = pd.DataFrame({"x": rng.normal(size=200)})
    ...     df["y"] = 1 + 0.5 * df["x"] + rng.normal(size=200)
    ...     fits.append(regress("y ~ x", df))
    >>> pooled = pool_rubin(fits)
    >>> bool(abs(pooled.coefficients.loc["x", "estimate"] - 0.5) < 0.2)
    True
    """
    m = len(fits)
    if m < 2:
        raise _fail("pooling needs at least two imputed fits", value=m)
    first = fits[0]
    Q = np.vstack([f.coefficients["estimate"].to_numpy() for f in fits])
    U = np.vstack([f.coefficients["se"].to_numpy() ** 2 for f in fits])
    qbar = Q.mean(axis=0)
    W = U.mean(axis=0)
    B = Q.var(axis=0, ddof=1)
    T = W + (1 + 1 / m) * B
    lam = np.where(T > 0, (1 + 1 / m) * B / T, 0.0)
    lam_df = np.maximum(lam, 1e-4)  # as mice::pool, so that nu stays finite
    nu_old = (m - 1) / lam_df**2
    nu_com = float(first.fit["df_resid"])
    if np.isfinite(nu_com):
        nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lam_df)
        nu = nu_old * nu_obs / (nu_old + nu_obs)
    else:
        nu = nu_old
    se_pooled = np.sqrt(T)
    coefs = _coef_table(list(first.coefficients.index), qbar, se_pooled, nu, conf_level)
    fit = pd.concat([f.fit for f in fits], axis=1).mean(axis=1)
    fit["m"] = float(m)
    vcov = None
    if all(f.vcov is not None for f in fits):
        Wm = sum(f.vcov.to_numpy() for f in fits) / m
        dev = Q - qbar
        Bm = dev.T @ dev / (m - 1)
        vcov = pd.DataFrame(Wm + (1 + 1 / m) * Bm, index=coefs.index, columns=coefs.index)
    return RegressionResult(
        coefficients=coefs,
        fit=fit,
        model=first.model,
        se_type="mi",
        formula=formula or first.formula,
        vcov=vcov,
        dist="t",
        conf_level=conf_level,
        thresholds=first.thresholds,
        exog=None,
        endog=None,
        term_columns=first.term_columns,
        warnings=tuple(w for f in fits for w in f.warnings),
        extra={"term_df": nu, "fraction_missing_info": lam, "imputations": list(fits)},
    )


# ====================================================================== comparisons, moderation
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
    >>> from analysis.regression._regression import regress, compare_models
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"x": rng.normal(size=100), "z": rng.normal(size=100)})
    >>> d["y"] = d["x"] + rng.normal(size=100)
    >>> c = compare_models(regress("y ~ x", d), regress("y ~ x + z", d))  # R: anova(m0, m1)
    >>> c.test, c.df
    ('F', 1.0)
    """
    if m0.model != m1.model:
        raise _fail("models of different kinds cannot be compared", value=(m0.model, m1.model))
    if "mi" in (m0.se_type, m1.se_type) or "design" in (m0.se_type, m1.se_type):
        raise _fail("F and likelihood-ratio tests need model-based fits; pooled (multiple "
                    "imputation) or design-based results need Wald-type tests",
                    value=(m0.se_type, m1.se_type))
    n0, n1 = m0.fit["n"], m1.fit["n"]
    if n0 != n1:
        raise _fail("the models use different observations (listwise deletion?)",
                    value=(n0, n1), expected="the same n")
    q = float(len(m1.coefficients) - len(m0.coefficients))
    if q <= 0:
        raise _fail("the second model must have more parameters than the first", value=q)
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


def simple_slopes(result: RegressionResult, focal: str, moderator: str,
                  at: Sequence[float] | None = None) -> pd.DataFrame:
    """Conditional effect of ``focal`` at values of ``moderator`` (moderation, H3).

    Parameters
    ----------
    result : RegressionResult
        A model with terms ``focal``, ``moderator`` and their product (``focal:moderator``
        in either order).
    focal, moderator : str
        Column names (numeric).
    at : sequence of float, optional
        Moderator values on the *original* scale (centring, if any, is undone with
        ``result.extra["centered"]``). Default: mean - 1 SD, mean, mean + 1 SD.

    Returns
    -------
    pandas.DataFrame
        Columns ``moderator_value``, ``estimate``, ``se``, ``statistic``, ``df``, ``p_value``,
        ``ci_low``, ``ci_high``.

    Notes
    -----
    With ``m`` the moderator on the fitted scale, slope ``= b_f + b_fm m`` and
    ``se = sqrt(V_ff + m^2 V_mm + 2 m V_fm)`` (Aiken & West 1991), tested like the
    coefficients (t with ``df_resid`` or z).

    References
    ----------
    Aiken, L. S., & West, S. G. (1991). *Multiple Regression: Testing and Interpreting
    Interactions*. Sage.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.regression._regression import regress, simple_slopes
    >>> rng = np.random.default_rng(4)
    >>> d = pd.DataFrame({"x": rng.normal(size=400), "m": rng.integers(0, 4, 400)})
    >>> d["y"] = d["x"] * (1 + 0.5 * d["m"]) + rng.normal(size=400)
    >>> r = regress("y ~ x * m", d, center=["x", "m"])
    >>> ss = simple_slopes(r, "x", "m", at=[0, 3])
    >>> # R: interactions::sim_slopes(lm(y ~ x * m, d), pred = x, modx = m, modx.values = c(0, 3))
    >>> list(ss.columns)[:3]
    ['moderator_value', 'estimate', 'se']
    """
    if result.vcov is None:
        raise _fail("simple slopes need the covariance matrix of the estimates")
    idx = list(result.coefficients.index)
    inter = next((t for t in (f"{focal}:{moderator}", f"{moderator}:{focal}") if t in idx), None)
    if focal not in idx or inter is None:
        raise _fail("the model has no such focal term or interaction", value=(focal, moderator),
                    expected=f"terms {focal!r} and {focal}:{moderator}")
    shift = float(result.extra.get("centered", {}).get(moderator, 0.0))
    if at is None:
        if result.exog is None or moderator not in result.exog.columns:
            raise _fail("give at= (moderator values): the design matrix is not kept")
        mv = result.exog[moderator]
        mean, sd = float(mv.mean()) + shift, float(mv.std(ddof=1))
        at = [mean - sd, mean, mean + sd]
    at = np.asarray(at, dtype=float)
    mm = at - shift
    b = result.coefficients["estimate"]
    V = result.vcov
    est = b[focal] + b[inter] * mm
    se = np.sqrt(V.loc[focal, focal] + mm**2 * V.loc[inter, inter]
                 + 2 * mm * V.loc[focal, inter])
    df = result.fit["df_resid"] if result.dist == "t" else None
    tab = _coef_table([str(v) for v in at], est, se, df, result.conf_level).reset_index(drop=True)
    tab.insert(0, "moderator_value", at)
    tab.insert(4, "df", np.nan if df is None else float(df))
    return tab
