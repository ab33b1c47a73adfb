"""Group comparisons and cross-tabulations.

* :func:`crosstab`: two-way table with counts and percentages, Pearson's chi-square test
  (Fisher's exact test for a sparse 2 x 2 table, a Monte-Carlo p-value for a sparse larger
  table), Cramer's V with a confidence interval.
* :func:`compare_groups`: a numeric outcome across groups. Two groups: Welch and Student t,
  Mann-Whitney U, Cohen's d and Hedges' g with CIs, rank-biserial correlation. Three or more:
  one-way ANOVA, Welch ANOVA, Kruskal-Wallis, eta-squared and epsilon-squared.

Unweighted (simple random sampling) tests; design-based tests (Rao-Scott) belong to
:mod:`analysis.survey`. Rows with a missing value in the variables used are dropped
(R's default ``na.omit``), and the numbers of rows used are reported.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis.errors import InputError

__all__ = ["CrosstabResult", "GroupComparison", "compare_groups", "crosstab"]


# ====================================================================== helpers
def _check_columns(data: pd.DataFrame, *columns: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a pandas DataFrame", value=type(data).__name__)
    for c in columns:
        if c not in data.columns:
            raise InputError("column not found", column=c, expected="a column of data")


def _levels(series: pd.Series, order=None) -> list:
    if order is not None:
        return list(order)
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [c for c in series.cat.categories if (series == c).any()]
    return sorted(series.dropna().unique(), key=lambda v: (str(type(v)), v))


def _ncp_interval(stat_cdf, observed: float, conf_level: float, upper_start: float):
    """Bounds (lo, hi) of a non-centrality parameter by inverting ``stat_cdf(observed, ncp)``.

    ``lo`` solves cdf = 1 - a/2 and ``hi`` solves cdf = a/2 (0 when the root would be < 0).
    """
    a = 1 - conf_level

    def solve(target):
        f = lambda ncp: stat_cdf(observed, ncp) - target  # noqa: E731
        if f(0.0) <= 0:  # already below target at ncp = 0
            return 0.0
        hi = max(upper_start, 1.0)
        while f(hi) > 0:
            hi *= 2
            if hi > 1e7:
                return np.nan
        return optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-12)

    return solve(1 - a / 2), solve(a / 2)


# ====================================================================== cross-tabulation
@dataclass(frozen=True)
class CrosstabResult:
    """Two-way table and its test of independence.

    Attributes
    ----------
    counts : pandas.DataFrame
        Observed counts, rows x columns (levels in sorted or categorical order).
    expected : pandas.DataFrame
        Expected counts under independence, ``row_total * col_total / n``.
    test : str
        ``"chi2"`` (Pearson), ``"chi2_yates"`` (2 x 2 with continuity correction),
        ``"fisher"`` (exact, 2 x 2) or ``"chi2_monte_carlo"`` (Monte-Carlo p-value).
    statistic : float
        Chi-square statistic of the test (for ``"fisher"``: Pearson's, uncorrected).
    df : float
        Degrees of freedom ``(r - 1)(c - 1)``.
    p_value : float
        p-value of ``test``.
    cramers_v : float
        Cramer's V from the uncorrected Pearson chi-square.
    ci_low, ci_high : float
        Confidence interval of V (non-central chi-square inversion).
    n : int
        Observations in the table.
    min_expected : float
        Smallest expected count.
    odds_ratio : float
        Conditional ML odds ratio (2 x 2 only, as ``fisher.test``; NaN otherwise).
    conf_level : float
        Level of the interval.
    n_simulations : int
        Monte-Carlo replications (0 when none).
    warnings : tuple of str
        Notes such as small expected counts.
    """

    counts: pd.DataFrame
    expected: pd.DataFrame
    test: str
    statistic: float
    df: float
    p_value: float
    cramers_v: float
    ci_low: float
    ci_high: float
    n: int
    min_expected: float
    odds_ratio: float = np.nan
    conf_level: float = 0.95
    n_simulations: int = 0
    warnings: tuple[str, ...] = field(default=())

    def percentages(self, margin: str = "row") -> pd.DataFrame:
        """Percentages of the counts by ``"row"``, ``"col"`` or of the ``"total"`` (0-100)."""
        c = self.counts
        if margin == "row":
            return c.div(c.sum(axis=1), axis=0) * 100
        if margin == "col":
            return c.div(c.sum(axis=0), axis=1) * 100
        if margin == "total":
            return c / c.to_numpy().sum() * 100
        raise InputError("margin must be 'row', 'col' or 'total'", value=margin)

    def table_frame(self) -> pd.DataFrame:
        """Long table: ``row``, ``col``, ``n``, ``expected``, ``pct_row``, ``pct_col``, ``pct_total``."""
        long = self.counts.stack().rename("n").reset_index()
        long.columns = ["row", "col", "n"]
        long["expected"] = self.expected.stack().to_numpy()
        long["pct_row"] = self.percentages("row").stack().to_numpy()
        long["pct_col"] = self.percentages("col").stack().to_numpy()
        long["pct_total"] = self.percentages("total").stack().to_numpy()
        return long

    def to_frame(self) -> pd.DataFrame:
        """One row: ``test, statistic, df, p_value, effect, estimate, ci_low, ci_high, n``."""
        return pd.DataFrame([{
            "test": self.test, "statistic": self.statistic, "df": self.df,
            "p_value": self.p_value, "effect": "cramers_v", "estimate": self.cramers_v,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n,
        }])

    def _repr_html_(self) -> str:
        return (f"<div><p><b>{html.escape(self.test)}</b></p>{self.counts.to_html()}"
                f"{self.to_frame().to_html(index=False)}</div>")


def crosstab(
    data: pd.DataFrame,
    row: str,
    col: str,
    *,
    correct: bool = True,
    exact: str = "auto",
    n_simulations: int = 2000,
    seed: int | None = None,
    conf_level: float = 0.95,
) -> CrosstabResult:
    """Cross-tabulate two categorical variables and test their independence.

    Parameters
    ----------
    data : pandas.DataFrame
    row, col : str
        Column names. Rows with a missing value (or an empty text) in either are dropped.
    correct : bool
        Yates' continuity correction for a 2 x 2 chi-square (R's ``chisq.test`` default True).
    exact : {"auto", "never", "fisher", "monte_carlo"}
        ``"auto"``: Fisher's exact test for a 2 x 2 table with an expected count < 5; a
        Monte-Carlo p-value for a larger table with more than 20 % of expected counts < 5 or
        any < 1 (Cochran's rule); the chi-square test otherwise.
    n_simulations : int
        Replications of the Monte-Carlo test (R's ``B = 2000``).
    seed : int, optional
        Seed of the Monte-Carlo test.
    conf_level : float
        Level of the interval of Cramer's V.

    Returns
    -------
    CrosstabResult

    Raises
    ------
    analysis.errors.InputError
        Missing columns, or fewer than two levels in a variable.

    Notes
    -----
    ``X2 = sum (O - E)^2 / E`` on ``(r-1)(c-1)`` df; Yates: ``sum (|O - E| - 1/2)^2 / E``
    (R caps the correction at ``|O - E|``). ``V = sqrt(X2 / (n (min(r, c) - 1)))`` with the
    uncorrected X2. The CI inverts the non-central chi-square distribution of X2 for its
    non-centrality ``lambda`` and maps each bound to ``sqrt(lambda / (n (min(r, c) - 1)))``
    (two-sided, like ``effectsize::cramers_v(alternative = "two.sided")``).
    Monte-Carlo test: tables with the observed margins are drawn uniformly (Patefield's
    algorithm, ``scipy.stats.random_table``; R's ``r2dtable``), and
    ``p = (1 + #{X2_sim >= X2_obs}) / (B + 1)`` as ``chisq.test(simulate.p.value = TRUE)``.
    Fisher: two-sided p sums the tables no more probable than the observed one; the odds ratio
    is the conditional ML estimate (``fisher.test``).

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis* (3rd ed.). Wiley.
    Cochran, W. G. (1954). Some methods for strengthening the common chi-square tests.
    *Biometrics*, 10, 417-451.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.descriptives._group_tests import crosstab
    >>> d = pd.DataFrame({"a": list("xxxxyyyy") * 10, "b": list("uvuuvvvu") * 10})
    >>> r = crosstab(d, "a", "b")  # R: chisq.test(table(d$a, d$b))
    >>> r.test, r.df, r.n
    ('chi2_yates', 1.0, 80)
    """
    _check_columns(data, row, col)
    if exact not in ("auto", "never", "fisher", "monte_carlo"):
        raise InputError("unknown exact option", value=exact,
                         expected="auto, never, fisher or monte_carlo")
    sub = data[[row, col]].copy()
    for c in (row, col):  # empty texts (skipped questions in an export) are missing
        if not pd.api.types.is_numeric_dtype(sub[c]):
            blank = sub[c].astype("string").str.strip().eq("").fillna(False).astype(bool)
            sub[c] = sub[c].mask(blank)
    sub = sub.dropna()
    r_levels, c_levels = _levels(sub[row]), _levels(sub[col])
    if len(r_levels) < 2 or len(c_levels) < 2:
        raise InputError("a cross-table needs at least two levels in each variable",
                         column=row if len(r_levels) < 2 else col)
    counts = pd.crosstab(sub[row], sub[col]).reindex(index=r_levels, columns=c_levels,
                                                     fill_value=0)
    counts.index.name, counts.columns.name = row, col
    obs = counts.to_numpy(dtype=float)
    n = int(obs.sum())
    exp_ = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / n
    expected = pd.DataFrame(exp_, index=counts.index, columns=counts.columns)
    nr, nc = obs.shape
    df = float((nr - 1) * (nc - 1))
    x2 = float(np.sum((obs - exp_) ** 2 / exp_))
    is_2x2 = obs.shape == (2, 2)
    small = exp_ < 5
    notes = []
    if exact == "auto":
        if is_2x2 and small.any():
            method = "fisher"
        elif not is_2x2 and (small.mean() > 0.2 or (exp_ < 1).any()):
            method = "monte_carlo"
        else:
            method = "chi2"
    else:
        method = {"never": "chi2", "fisher": "fisher", "monte_carlo": "monte_carlo"}[exact]
    if method == "fisher" and not is_2x2:
        raise InputError("Fisher's exact test is provided for 2 x 2 tables; use monte_carlo",
                         value=obs.shape)
    if small.any():
        notes.append(f"{int(small.sum())} of {small.size} expected counts are below 5")
    odds = np.nan
    if is_2x2:
        odds = float(stats.contingency.odds_ratio(obs.astype(int), kind="conditional").statistic)
    n_sim = 0
    if method == "fisher":
        p = float(stats.fisher_exact(obs.astype(int)).pvalue)
        test, stat = "fisher", x2
    elif method == "monte_carlo":
        rng = np.random.default_rng(seed)
        tables = stats.random_table(obs.sum(axis=1).astype(int), obs.sum(axis=0).astype(int),
                                    seed=rng).rvs(n_simulations)
        sims = np.sum((tables - exp_) ** 2 / exp_, axis=(1, 2))
        # R compares with a relative tolerance to count ties as ">="
        hits = np.sum(sims >= x2 * (1 - 64 * np.finfo(float).eps))
        p = float((1 + hits) / (n_simulations + 1))
        test, stat, n_sim = "chi2_monte_carlo", x2, n_simulations
    else:
        if is_2x2 and correct:
            yates = np.minimum(0.5, np.abs(obs - exp_))
            stat = float(np.sum((np.abs(obs - exp_) - yates) ** 2 / exp_))
            test = "chi2_yates"
        else:
            stat, test = x2, "chi2"
        p = float(stats.chi2.sf(stat, df))
    k = min(nr, nc) - 1
    v = float(np.sqrt(x2 / (n * k)))
    lo, hi = _ncp_interval(lambda x, ncp: stats.ncx2.cdf(x, df, ncp) if ncp > 0
                           else stats.chi2.cdf(x, df), x2, conf_level, upper_start=x2 + 10)
    ci_low = float(np.sqrt(lo / (n * k))) if np.isfinite(lo) else np.nan
    ci_high = float(min(1.0, np.sqrt(hi / (n * k)))) if np.isfinite(hi) else np.nan
    return CrosstabResult(
        counts=counts, expected=expected, test=test, statistic=float(stat), df=df,
        p_value=p, cramers_v=v, ci_low=ci_low, ci_high=ci_high, n=n,
        min_expected=float(exp_.min()), odds_ratio=odds, conf_level=conf_level,
        n_simulations=n_sim, warnings=tuple(notes),
    )


# ====================================================================== numeric outcome by group
@dataclass(frozen=True)
class GroupComparison:
    """A numeric outcome compared across groups.

    Attributes
    ----------
    dv, group : str
        Outcome and grouping columns.
    groups : pandas.DataFrame
        One row per group: ``group``, ``n``, ``mean``, ``sd``, ``median``, ``q1``, ``q3``.
    tests : pandas.DataFrame
        One row per test: ``test`` (``welch_t``, ``student_t``, ``mann_whitney`` for two
        groups; ``anova``, ``welch_anova``, ``kruskal_wallis`` for more), ``statistic``,
        ``df``, ``df2`` (denominator df of F tests, else NaN), ``p_value``, ``estimate``
        (difference in means ``group1 - group2`` for t tests, else NaN), ``ci_low``,
        ``ci_high`` (its interval).
    effects : pandas.DataFrame
        One row per effect size: ``effect`` (``cohens_d``, ``hedges_g``, ``rank_biserial``;
        or ``eta_squared``, ``epsilon_squared``, ``rank_epsilon_squared``), ``estimate``,
        ``ci_low``, ``ci_high``.
    n : int
        Observations used.
    conf_level : float
    """

    dv: str
    group: str
    groups: pd.DataFrame
    tests: pd.DataFrame
    effects: pd.DataFrame
    n: int
    conf_level: float = 0.95

    def test(self, name: str) -> pd.Series:
        """The row of ``tests`` named ``name``."""
        return self.tests.set_index("test").loc[name]

    def effect(self, name: str) -> pd.Series:
        """The row of ``effects`` named ``name``."""
        return self.effects.set_index("effect").loc[name]

    def to_frame(self) -> pd.DataFrame:
        """Tests and effect sizes stacked: ``kind`` (``test``/``effect``), ``name``,
        ``statistic``, ``df``, ``df2``, ``p_value``, ``estimate``, ``ci_low``, ``ci_high``,
        ``n``."""
        t = self.tests.rename(columns={"test": "name"}).assign(kind="test")
        e = self.effects.rename(columns={"effect": "name"}).assign(kind="effect")
        out = pd.concat([t, e], ignore_index=True)
        out["n"] = self.n
        cols = ["kind", "name", "statistic", "df", "df2", "p_value", "estimate", "ci_low",
                "ci_high", "n"]
        return out.reindex(columns=cols)

    def _repr_html_(self) -> str:
        return (f"<div><p><b>{html.escape(self.dv)} by {html.escape(self.group)}</b></p>"
                f"{self.groups.to_html(index=False)}{self.to_frame().to_html(index=False)}</div>")


def _hedges_j(df: float) -> float:
    return float(np.exp(special.gammaln(df / 2) - np.log(np.sqrt(df / 2))
                        - special.gammaln((df - 1) / 2)))


def _nct_interval(t_obs: float, df: float, conf_level: float) -> tuple[float, float]:
    """CI of the non-centrality of a t statistic (two-sided, by inversion)."""
    a = 1 - conf_level

    def root(target):
        f = lambda ncp: stats.nct.cdf(t_obs, df, ncp) - target  # noqa: E731
        # bracket around t_obs, widened gradually (the cdf is decreasing in ncp; scipy's
        # non-central t is unreliable far in the tails, so stay close)
        w = 2.0 * np.sqrt(1 + t_obs**2 / (2 * df)) + 0.5
        for _ in range(20):
            lo, hi = t_obs - w, t_obs + w
            f_lo, f_hi = f(lo), f(hi)
            if np.isfinite(f_lo) and np.isfinite(f_hi) and f_lo > 0 > f_hi:
                return optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12)
            w *= 1.3
        return np.nan

    return root(1 - a / 2), root(a / 2)


def compare_groups(
    data: pd.DataFrame,
    dv: str,
    group: str,
    *,
    groups: list | None = None,
    conf_level: float = 0.95,
) -> GroupComparison:
    """Compare a numeric outcome across two or more groups.

    Parameters
    ----------
    data : pandas.DataFrame
    dv : str
        Numeric outcome column.
    group : str
        Grouping column (e.g. ``sector``).
    groups : list, optional
        Groups to compare, in this order (default: sorted levels, or categorical order). The
        direction of differences is ``groups[0] - groups[1]`` (R's factor-level order).
    conf_level : float
        Level of the intervals.

    Returns
    -------
    GroupComparison

    Raises
    ------
    analysis.errors.InputError
        Missing columns, a non-numeric outcome, fewer than two groups or a group with fewer
        than two observations.

    Notes
    -----
    Two groups (means ``m1, m2``, SDs ``s1, s2``, sizes ``n1, n2``):

    * Welch: ``t = (m1 - m2) / sqrt(s1^2/n1 + s2^2/n2)`` with Welch-Satterthwaite df
      (``t.test``); Student with the pooled variance (``var.equal = TRUE``).
    * Mann-Whitney: ``W = U_1`` (``wilcox.test`` with ``exact = FALSE, correct = TRUE``:
      normal approximation with tie and continuity corrections).
    * Cohen's d = ``(m1 - m2) / s_pooled``; CI from the non-central t (``ncp`` bounds times
      ``sqrt(1/n1 + 1/n2)``), as ``effectsize::cohens_d``. Hedges' g = ``J d`` with
      ``J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2))``, ``df = n1 + n2 - 2``; its CI is J
      times d's.
    * Rank-biserial ``r = 2 U_1 / (n1 n2) - 1`` (positive when group 1 tends to be larger);
      CI by Fisher's z with ``se = sqrt((n1 + n2 + 1) / (3 n1 n2))``
      (``effectsize::rank_biserial``).

    k groups: one-way ANOVA ``F`` (``oneway.test(var.equal = TRUE)``), Welch's ANOVA
    (``oneway.test``), Kruskal-Wallis ``H`` with tie correction (``kruskal.test``).
    ``eta2 = SS_between / SS_total``, CI from the non-central F: bounds ``lambda`` of the
    non-centrality mapped to ``lambda / (lambda + N)`` (Steiger 2004);
    ``epsilon2 = (SS_between - (k-1) MS_within) / SS_total``; rank
    ``epsilon2_R = H / ((N^2 - 1) / (N + 1))`` (Tomczak & Tomczak 2014).

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach.
    *Biometrika*, 38, 330-336.
    Steiger, J. H. (2004). Beyond the F test: effect size confidence intervals and tests of
    close fit in the analysis of variance and contrast analysis. *Psychological Methods*, 9,
    164-182.
    Kerby, D. S. (2014). The simple difference formula: an approach to teaching
    nonparametric correlation. *Comprehensive Psychology*, 3.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.descriptives._group_tests import compare_groups
    >>> d = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 3, 4, 5, 6, 8], "g": ["a"] * 5 + ["b"] * 5})
    >>> r = compare_groups(d, "y", "g")  # R: t.test(y ~ g, d); wilcox.test(y ~ g, d)
    >>> float(r.test("welch_t")["estimate"])
    -2.2
    """
    _check_columns(data, dv, group)
    sub = data[[dv, group]].dropna()
    if not pd.api.types.is_numeric_dtype(sub[dv]) or pd.api.types.is_bool_dtype(sub[dv]):
        raise InputError("the outcome must be numeric", column=dv, value=str(sub[dv].dtype))
    levels = _levels(sub[group], groups)
    samples = [sub.loc[sub[group] == g, dv].to_numpy(dtype=float) for g in levels]
    if len(samples) < 2:
        raise InputError("need at least two groups", column=group, value=len(samples))
    for g, s in zip(levels, samples):
        if len(s) < 2:
            raise InputError("each group needs at least two observations", column=group,
                             value=g)
    summary = pd.DataFrame({
        "group": levels,
        "n": [len(s) for s in samples],
        "mean": [s.mean() for s in samples],
        "sd": [s.std(ddof=1) for s in samples],
        "median": [np.median(s) for s in samples],
        "q1": [np.quantile(s, 0.25) for s in samples],
        "q3": [np.quantile(s, 0.75) for s in samples],
    })
    n_total = int(sum(len(s) for s in samples))
    a = 1 - conf_level
    nan = np.nan
    if len(samples) == 2:
        x, y = samples
        n1, n2 = len(x), len(y)
        diff = x.mean() - y.mean()
        welch = stats.ttest_ind(x, y, equal_var=False)
        wci = welch.confidence_interval(conf_level)
        student = stats.ttest_ind(x, y, equal_var=True)
        sci = student.confidence_interval(conf_level)
        mw = stats.mannwhitneyu(x, y, use_continuity=True, alternative="two-sided",
                                method="asymptotic")
        tests = pd.DataFrame([
            ("welch_t", welch.statistic, welch.df, nan, welch.pvalue, diff, wci.low, wci.high),
            ("student_t", student.statistic, student.df, nan, student.pvalue, diff, sci.low,
             sci.high),
            ("mann_whitney", mw.statistic, nan, nan, mw.pvalue, nan, nan, nan),
        ], columns=["test", "statistic", "df", "df2", "p_value", "estimate", "ci_low",
                    "ci_high"])
        df_p = n1 + n2 - 2
        sp = np.sqrt(((n1 - 1) * x.var(ddof=1) + (n2 - 1) * y.var(ddof=1)) / df_p)
        d = diff / sp
        scale = np.sqrt(1 / n1 + 1 / n2)
        lo, hi = _nct_interval(float(student.statistic), df_p, conf_level)
        j = _hedges_j(df_p)
        u1 = float(mw.statistic)
        rb = 2 * u1 / (n1 * n2) - 1
        z = np.arctanh(np.clip(rb, -1 + 1e-15, 1 - 1e-15))
        se_z = np.sqrt((n1 + n2 + 1) / (3 * n1 * n2))
        q = stats.norm.ppf(1 - a / 2)
        effects = pd.DataFrame([
            ("cohens_d", d, lo * scale, hi * scale),
            ("hedges_g", j * d, j * lo * scale, j * hi * scale),
            ("rank_biserial", rb, np.tanh(z - q * se_z), np.tanh(z + q * se_z)),
        ], columns=["effect", "estimate", "ci_low", "ci_high"])
    else:
        k = len(samples)
        anova = stats.f_oneway(*samples)
        welch = stats.f_oneway(*samples, equal_var=False)
        kw = stats.kruskal(*samples)
        df1, df2 = k - 1, n_total - k
        # Welch's denominator df (not returned by scipy): Welch (1951)
        w = np.array([len(s) / s.var(ddof=1) for s in samples])
        means = np.array([s.mean() for s in samples])
        mw_ = np.sum(w * means) / w.sum()
        tmp = np.sum((1 - w / w.sum()) ** 2 / (np.array([len(s) for s in samples]) - 1))
        welch_df2 = (k**2 - 1) / (3 * tmp)
        tests = pd.DataFrame([
            ("anova", anova.statistic, df1, df2, anova.pvalue, nan, nan, nan),
            ("welch_anova", welch.statistic, df1, welch_df2, welch.pvalue, nan, nan, nan),
            ("kruskal_wallis", kw.statistic, df1, nan, kw.pvalue, nan, nan, nan),
        ], columns=["test", "statistic", "df", "df2", "p_value", "estimate", "ci_low",
                    "ci_high"])
        del mw_
        allv = np.concatenate(samples)
        ss_t = np.sum((allv - allv.mean()) ** 2)
        ss_b = sum(len(s) * (s.mean() - allv.mean()) ** 2 for s in samples)
        ms_w = (ss_t - ss_b) / df2
        eta2 = ss_b / ss_t
        eps2 = (ss_b - df1 * ms_w) / ss_t
        f_obs = float(anova.statistic)
        lo, hi = _ncp_interval(lambda f, ncp: stats.ncf.cdf(f, df1, df2, ncp) if ncp > 0
                               else stats.f.cdf(f, df1, df2), f_obs, conf_level,
                               upper_start=f_obs * df1 + 10)
        rank_eps = float(kw.statistic) / ((n_total**2 - 1) / (n_total + 1))
        effects = pd.DataFrame([
            ("eta_squared", eta2, lo / (lo + n_total), hi / (hi + n_total)),
            ("epsilon_squared", eps2, nan, nan),
            ("rank_epsilon_squared", rank_eps, nan, nan),
        ], columns=["effect", "estimate", "ci_low", "ci_high"])
    for frame in (tests, effects):
        for c in frame.columns[1:]:
            frame[c] = frame[c].astype("float64")
    return GroupComparison(dv=dv, group=group, groups=summary, tests=tests, effects=effects,
                           n=n_total, conf_level=conf_level)
