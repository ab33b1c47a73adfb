"""Tests of analysis.descriptives._group_tests: test choice, tables, Monte Carlo, bad input.

The comparisons with R (t.test, wilcox.test, oneway.test, kruskal.test, chisq.test, fisher.test;
values in tests/reference/regression_reference.csv) are in the parity catalogue
(tests/parity/catalogue.py).
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


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(DATA / "apistrat.csv")


@pytest.fixture(scope="module")
def two(apistrat):
    return compare_groups(apistrat, "api00", "sch.wide")


def test_two_group_summary_and_frame(two, apistrat):
    assert list(two.groups["group"]) == ["No", "Yes"]
    assert two.n == len(apistrat)
    frame = two.to_frame()
    assert {"statistic", "df", "p_value", "estimate", "ci_low", "ci_high", "n"} <= set(
        frame.columns)
    assert not any(c in frame.columns for c in ["p-unc", "CI95%", "pval"])
    assert "<table" in two._repr_html_()


def test_chisq_rxc_table(apistrat):
    x = crosstab(apistrat, "stype", "awards")
    assert x.test == "chi2"
    tf = x.table_frame()
    assert tf["n"].sum() == 200
    assert_allclose(tf.groupby("row")["pct_row"].sum(), 100.0)


def test_2x2_test_names(apistrat):
    # the 2 x 2 table sch.wide x awards has a zero cell: expected counts are all >= 5, so
    # the chi-square test (with Yates' correction, R's default) applies
    assert crosstab(apistrat, "sch.wide", "awards").test == "chi2_yates"
    assert crosstab(apistrat, "sch.wide", "awards", exact="fisher").test == "fisher"


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
