"""Tests of analysis.descriptives._group_tests against R (t.test, wilcox.test, oneway.test, kruskal.test,
chisq.test, fisher.test; effect sizes from their definitions in R).

Reference values: tests/reference/regression_reference.csv (tests/reference/regression_reference.R).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.config import PROJECT_ROOT
from analysis.descriptives._group_tests import compare_groups, crosstab
from analysis.errors import InputError

DATA = PROJECT_ROOT / "tests" / "data"
REF = pd.read_csv(PROJECT_ROOT / "tests" / "reference" / "regression_reference.csv", comment="#")
REF["value"] = REF["value"].astype(float)

# Closed-form statistics agree with R to rounding (1e-9 relative); CIs found by root finding
# (tolerance 1e-12 in both) to 1e-7; p-values to 1e-7 relative.
RTOL = 1e-9
RTOL_ROOT = 1e-7


def ref(case: str) -> pd.Series:
    sub = REF[REF["case"] == case]
    return sub.set_index("quantity")["value"]


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(DATA / "apistrat.csv")


@pytest.fixture(scope="module")
def two(apistrat):
    return compare_groups(apistrat, "api00", "sch.wide")


@pytest.fixture(scope="module")
def three(apistrat):
    return compare_groups(apistrat, "api00", "stype")


def test_welch_t(two):
    r, t = ref("welch_t"), two.test("welch_t")
    assert_allclose([t["statistic"], t["df"], t["ci_low"], t["ci_high"]],
                    r[["statistic", "df", "ci_low", "ci_high"]], rtol=RTOL)
    assert_allclose(t["p_value"], r["p_value"], rtol=RTOL_ROOT)


def test_student_t(two):
    r, t = ref("student_t"), two.test("student_t")
    assert_allclose([t["statistic"], t["df"], t["p_value"]],
                    r[["statistic", "df", "p_value"]], rtol=RTOL_ROOT)


def test_mann_whitney(two):
    r, t = ref("mann_whitney"), two.test("mann_whitney")
    assert_allclose([t["statistic"], t["p_value"]], r[["statistic", "p_value"]],
                    rtol=RTOL_ROOT)


def test_two_group_effects(two):
    r = ref("effects_2groups")
    d, g, rb = two.effect("cohens_d"), two.effect("hedges_g"), two.effect("rank_biserial")
    assert_allclose(d["estimate"], r["cohens_d"], rtol=RTOL)
    assert_allclose([d["ci_low"], d["ci_high"]], r[["d_ci_low", "d_ci_high"]], rtol=RTOL_ROOT)
    assert_allclose(g["estimate"], r["hedges_g"], rtol=RTOL)
    assert_allclose([rb["estimate"], rb["ci_low"], rb["ci_high"]],
                    r[["rank_biserial", "rb_ci_low", "rb_ci_high"]], rtol=RTOL)


def test_two_group_summary_and_frame(two, apistrat):
    assert list(two.groups["group"]) == ["No", "Yes"]
    assert two.n == len(apistrat)
    frame = two.to_frame()
    assert {"statistic", "df", "p_value", "estimate", "ci_low", "ci_high", "n"} <= set(
        frame.columns)
    assert not any(c in frame.columns for c in ["p-unc", "CI95%", "pval"])
    assert "<table" in two._repr_html_()


def test_anova_welch_kruskal(three):
    for case, name in [("anova", "anova"), ("welch_anova", "welch_anova")]:
        r, t = ref(case), three.test(name)
        assert_allclose([t["statistic"], t["df"], t["df2"]],
                        r[["statistic", "df_num", "df_den"]], rtol=RTOL)
        assert_allclose(t["p_value"], r["p_value"], rtol=RTOL_ROOT)
    r, t = ref("kruskal"), three.test("kruskal_wallis")
    assert_allclose([t["statistic"], t["df"], t["p_value"]],
                    r[["statistic", "df", "p_value"]], rtol=RTOL_ROOT)


def test_k_group_effects(three):
    r = ref("effects_kgroups")
    e = three.effects.set_index("effect")
    assert_allclose(e.loc["eta_squared", "estimate"], r["eta_squared"], rtol=RTOL)
    assert_allclose(e.loc["eta_squared", "ci_high"], r["eta_ci_high"], rtol=RTOL_ROOT)
    assert e.loc["eta_squared", "ci_low"] == r["eta_ci_low"] == 0
    assert_allclose(e.loc["epsilon_squared", "estimate"], r["epsilon_squared"], rtol=RTOL)
    assert_allclose(e.loc["rank_epsilon_squared", "estimate"], r["rank_epsilon_squared"],
                    rtol=RTOL)


def test_chisq_rxc_and_cramers_v(apistrat):
    x = crosstab(apistrat, "stype", "awards")
    r = ref("chisq_stype_awards")
    assert x.test == "chi2"
    assert_allclose([x.statistic, x.df, x.cramers_v], r[["statistic", "df", "cramers_v"]],
                    rtol=RTOL)
    assert_allclose(x.p_value, r["p_value"], rtol=RTOL_ROOT)
    v = ref("cramers_v_ci")
    assert_allclose([x.ci_low, x.ci_high], v[["ci_low", "ci_high"]], rtol=RTOL_ROOT)
    tf = x.table_frame()
    assert tf["n"].sum() == 200
    assert_allclose(tf.groupby("row")["pct_row"].sum(), 100.0)


def test_chisq_2x2_yates_and_plain(apistrat):
    # the 2 x 2 table sch.wide x awards has a zero cell: expected counts are all >= 5, so
    # the chi-square test (with Yates' correction, R's default) applies
    x = crosstab(apistrat, "sch.wide", "awards")
    r = ref("chisq_2x2_yates")
    assert x.test == "chi2_yates"
    assert_allclose([x.statistic, x.p_value], r[["statistic", "p_value"]], rtol=RTOL_ROOT)
    y = crosstab(apistrat, "sch.wide", "awards", correct=False)
    assert_allclose([y.statistic, y.p_value], ref("chisq_2x2")[["statistic", "p_value"]],
                    rtol=RTOL_ROOT)


def test_fisher(apistrat):
    x = crosstab(apistrat, "sch.wide", "awards", exact="fisher")
    assert x.test == "fisher"
    assert_allclose(x.p_value, ref("fisher_2x2")["p_value"], rtol=1e-6)
    y = crosstab(apistrat, "yr.rnd", "awards", exact="fisher")
    r = ref("fisher_yrrnd_awards")
    assert_allclose(y.p_value, r["p_value"], rtol=1e-6)
    # conditional MLE of the odds ratio: fisher.test finds it with uniroot's default
    # tolerance (eps^0.25 ~ 1.2e-4 on the scale of the root), scipy more tightly
    assert_allclose(y.odds_ratio, r["odds_ratio"], rtol=2e-4)


def test_auto_fisher_for_sparse_2x2():
    d = pd.DataFrame({"a": ["x"] * 8 + ["y"] * 8, "b": ["u"] * 7 + ["v"] + ["u"] * 2 + ["v"] * 6})
    x = crosstab(d, "a", "b")
    assert x.test == "fisher" and x.warnings


def test_auto_monte_carlo_for_sparse_rxc():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"a": rng.choice(list("pqrs"), 40, p=[0.7, 0.1, 0.1, 0.1]),
                      "b": rng.choice(list("uvw"), 40, p=[0.8, 0.1, 0.1])})
    x = crosstab(d, "a", "b", seed=1)
    assert x.test == "chi2_monte_carlo" and x.n_simulations == 2000
    again = crosstab(d, "a", "b", seed=1)
    assert again.p_value == x.p_value
    # under independence the MC p-value is close to the asymptotic one for moderate X2
    assert 0 < x.p_value <= 1


@pytest.mark.slow
def test_monte_carlo_p_matches_exact_enumeration_for_2x2():
    # for a 2 x 2 table the chi-square Monte-Carlo p-value estimates Fisher's p (same ordering
    # of tables by X2 with fixed margins when margins are balanced)
    d = pd.DataFrame({"a": ["x"] * 10 + ["y"] * 10,
                      "b": ["u"] * 7 + ["v"] * 3 + ["u"] * 3 + ["v"] * 7})
    mc = crosstab(d, "a", "b", exact="monte_carlo", n_simulations=20000, seed=5)
    fi = crosstab(d, "a", "b", exact="fisher")
    assert abs(mc.p_value - fi.p_value) < 0.01


def test_bad_input(apistrat):
    with pytest.raises(InputError):
        compare_groups(apistrat, "api00", "nope")
    with pytest.raises(InputError):
        compare_groups(apistrat, "stype", "sch.wide")
    with pytest.raises(InputError):
        compare_groups(apistrat.assign(one="a"), "api00", "one")
    with pytest.raises(InputError):
        crosstab(apistrat, "stype", "awards", exact="fisher")
    with pytest.raises(InputError):
        crosstab(apistrat.assign(one="a"), "one", "awards")


def test_missing_values_dropped(apistrat):
    d = apistrat.copy()
    d.loc[d.index[:10], "api00"] = np.nan
    assert compare_groups(d, "api00", "stype").n == 190


def test_crosstab_blank_texts_are_missing():
    d = pd.DataFrame({"a": ["x", "y", "", "x", "y", "x"] * 10, "b": ["u", "v", "u", "", "u", "v"] * 10})
    x = crosstab(d, "a", "b")
    assert x.n == 40 and list(x.counts.index) == ["x", "y"]
