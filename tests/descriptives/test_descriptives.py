"""Tests of analysis.descriptives._describe: groups, multi-select questions, codebook missing
codes, Likert distributions, frequency weights, bad input. The comparisons with R (mean/sd/quantile,
weighted.mean, survey::svymean and svyquantile, prop.table) are in the parity catalogue
(tests/parity/catalogue.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis.config import PROJECT_ROOT
from analysis.descriptives._describe import (
    DESCRIBE_COLUMNS,
    LIKERT_COLUMNS,
    describe,
    likert_distribution,
    weighted_quantile,
)
from analysis.errors import InputError

DATA = PROJECT_ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(DATA / "apistrat.csv")


def _numeric_row(t: pd.DataFrame, variable: str, group="Total") -> pd.Series:
    return t[(t["variable"] == variable) & (t["group"] == group)].iloc[0]


def test_numeric_row_kind_and_weighted_n(apistrat):
    row = _numeric_row(describe(apistrat, ["api00"]), "api00")
    assert row["kind"] == "numeric" and row["missing"] == 0
    row = _numeric_row(describe(apistrat, ["api00"], weights="pw"), "api00")
    assert_allclose(row["n_weighted"], apistrat["pw"].sum())


def test_by_group_has_total_and_all_levels(apistrat):
    t = describe(apistrat, ["awards", "api00"], by="sch.wide")
    assert set(t["group"]) == {"Total", "No", "Yes"}
    aw = t[t["variable"] == "awards"]
    # every level appears in every group, with 0 where absent
    assert len(aw) == 6
    assert aw[(aw["group"] == "No") & (aw["level"] == "Yes")]["count"].item() == 0
    sub = apistrat[apistrat["sch.wide"] == "Yes"]["api00"]
    assert_allclose(_numeric_row(t, "api00", "Yes")["mean"], sub.mean(), rtol=1e-12)
    assert list(t.columns) == list(DESCRIBE_COLUMNS)


def test_multiselect_and_codebook_missing_codes():
    d = pd.DataFrame({
        "needs/food": [1, 0, 1, np.nan],
        "needs/school": [1, 1, 0, np.nan],
        "members": [10, 98, 30, 20],
        "form": ["1", "2", "99", "1"],
    })
    cb = pd.DataFrame({
        "variable": ["needs", "needs/food", "needs/school", "members", "form"],
        "type": ["select_multiple", "select_multiple_option", "select_multiple_option",
                 "integer", "select_one"],
        "label_fr": ["Besoins", "Besoins : Alimentation", "Besoins : École", "Membres",
                     "Forme"],
        "values": ["", "", "", "", "1=Association; 2=Coopérative; 99=Refus"],
        "missing_codes": ["", "", "", "98", "99"],
    })
    t = describe(d, ["needs", "members", "form"], codebook=cb)
    needs = t[t["variable"] == "needs"].set_index("level")
    assert needs["kind"].eq("multi").all()
    assert needs.loc["food", "level_label"] == "Alimentation"
    assert needs.loc["food", "n"] == 3 and needs.loc["food", "missing"] == 1
    assert_allclose(needs.loc["food", "percent"], 200 / 3)
    members = _numeric_row(t, "members")
    assert members["n"] == 3 and members["missing"] == 1 and members["mean"] == 20
    form = t[t["variable"] == "form"].set_index("level")
    assert list(form.index) == ["1", "2"]  # the missing code is not a level
    assert form.loc["1", "level_label"] == "Association"
    assert_allclose(form["percent"], [200 / 3, 100 / 3])


def test_multiselect_without_codebook():
    d = pd.DataFrame({"needs/food": [1, 0, 1], "needs/school": [1, 1, 0]})
    t = describe(d)
    assert list(t["variable"].unique()) == ["needs"]
    assert_allclose(t["percent"], [200 / 3, 200 / 3])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 4)), min_size=2, max_size=30))
def test_frequency_weights_equal_repeated_rows(pairs):
    x = np.array([p[0] for p in pairs], dtype=float)
    w = np.array([p[1] for p in pairs], dtype=float)
    if np.all(x == x[0]):
        x[0] += 1
    weighted = _numeric_row(describe(pd.DataFrame({"x": x, "w": w}), ["x"], weights="w"), "x")
    rep = np.repeat(x, w.astype(int))
    assert_allclose(weighted["mean"], rep.mean(), rtol=1e-12)
    assert_allclose(weighted["sd"], rep.std(ddof=1), rtol=1e-10)
    # weighted quantiles = R's type-1 quantiles of the repeated data
    for q, key in [(0.25, "q1"), (0.5, "median"), (0.75, "q3")]:
        assert weighted[key] == np.quantile(rep, q, method="inverted_cdf")


def test_weighted_quantile_unweighted_is_type7():
    assert weighted_quantile(np.arange(1.0, 11.0), None, 0.3) == pytest.approx(3.7)


def test_likert_distribution():
    d = pd.DataFrame({"q1": [1, 2, 2, 4, 5, 98, np.nan], "q2": [5, 5, 4, 4, 3, 2, 1],
                      "g": list("aabbbab")})
    t = likert_distribution(d, ["q1", "q2"], labels={"q1": "Item 1"},
                            point_labels={1: "Pas du tout", 5: "Tout à fait"})
    assert list(t.columns) == list(LIKERT_COLUMNS)
    q1 = t[t["item"] == "q1"]
    assert_allclose(q1["percent"], [20, 40, 0, 20, 20])
    assert q1["n"].iloc[0] == 5 and q1["missing"].iloc[0] == 2
    assert_allclose(q1["mean"].iloc[0], 2.8)
    assert_allclose(q1["top2_box"].iloc[0], 40)
    assert_allclose(q1["bottom2_box"].iloc[0], 60)
    assert q1["label"].iloc[0] == "Item 1" and q1["value_label"].iloc[0] == "Pas du tout"
    assert_allclose(t.groupby("item")["percent"].sum(), 100)
    by = likert_distribution(d, ["q2"], by="g")
    assert set(by["group"]) == {"Total", "a", "b"}
    wt = likert_distribution(d.assign(w=[1, 1, 1, 1, 1, 1, 2]), ["q2"], weights="w")
    assert_allclose(wt.loc[wt["value"] == 1, "percent"], 200 / 8)


def test_bfi_likert_shares_sum_to_100():
    bfi = pd.read_csv(DATA / "bfi.csv")
    t = likert_distribution(bfi, ["A1", "C1"], points=range(1, 7))
    a1 = t[t["item"] == "A1"]
    counts = bfi["A1"].value_counts().sort_index()
    assert_allclose(a1["count"], counts.to_numpy())
    assert a1["n"].iloc[0] == bfi["A1"].notna().sum()


def test_bad_input(apistrat):
    with pytest.raises(InputError):
        describe(apistrat, ["nope"])
    with pytest.raises(InputError):
        describe(apistrat, ["api00"], by="nope")
    with pytest.raises(InputError):
        describe(apistrat, ["api00"], weights="nope")
    with pytest.raises(InputError):
        describe(apistrat.assign(pw=-1.0), ["api00"], weights="pw")
    with pytest.raises(InputError):
        likert_distribution(apistrat, ["nope"])


def test_text_export_with_codebook():
    """Exports hold text: codebook types decide; empty texts and missing codes are missing."""
    d = pd.DataFrame({"members": ["10", "", "30", "98"], "form": ["1", "2", "", "1"]})
    cb = pd.DataFrame({"variable": ["members", "form"], "type": ["integer", "select_one"],
                       "label_fr": ["Membres", "Forme"],
                       "values": ["", "1=Association; 2=Coopérative"],
                       "missing_codes": ["98", ""]})
    t = describe(d, codebook=cb)
    members = _numeric_row(t, "members")
    assert members["n"] == 2 and members["missing"] == 2 and members["mean"] == 20
    form = t[t["variable"] == "form"]
    assert list(form["level"]) == ["1", "2"] and form["missing"].iloc[0] == 1
