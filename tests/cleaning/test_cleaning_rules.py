"""Tests of the individual cleaning rules (analysis.cleaning._rules)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.cleaning import _rules as R


def test_harmonise_text_nfc_trim_collapse():
    s = pd.Series(["  Fe\u0301s ", "a \u00a0  b", "", "ok"])
    assert R.harmonise_text(s).tolist() == ["Fés", "a b", "", "ok"]
    assert R.harmonise_text(s, collapse=False).tolist()[1] == "a \u00a0  b".replace("\u00a0", " ").strip()


def test_fold_text_arabic_and_french_variants():
    s = pd.Series(["Président(e) (principalement)", "PRESIDENT(E)", "مُدِيرَة", "مديرة", "مدیره", "إدارة", "ادارة",
                   "Services  et   tourisme", "services-et-tourisme", "مسـتشفى"])
    f = R.fold_text(s).tolist()
    assert f[0] == f[1] == "president"
    assert f[2] == f[3] == f[4]
    assert f[5] == f[6]
    assert f[7] == f[8] == "services et tourisme"
    assert f[9] == "مستشفي"


def test_choice_codes_statuses():
    vals, st_ = R.choice_codes(pd.Series(["1", "98", "99", "", "7", "97"]), ["1", "2", "98", "99", "97"],
                               ["97", "98", "99"])
    assert vals.tolist() == ["1", "", "", "", "", ""]
    assert st_.tolist() == ["ok", "dont_know", "refused", "empty", "not_allowed", "not_applicable"]


def test_numeric_values_missing_codes():
    v, st_ = R.numeric_values(pd.Series(["-98", "-99", "1 500", "x"]), missing_codes=(-98, -99))
    assert st_.tolist() == ["dont_know", "refused", "parsed", "invalid"]
    assert np.isnan(v[[0, 1, 3]]).all() and v[2] == 1500


def test_parse_datetimes_three_formats():
    s = pd.Series(["2026-04-14T10:21:33.512+01:00", "2026-04-14 10:21:33", "14/04/2026 10:21", "", "hier"])
    v, st_ = R.parse_datetimes(s, naive_offset="+01:00")
    assert st_.tolist() == ["ok", "ok", "reformatted", "empty", "invalid"]
    assert v[0] == pd.Timestamp("2026-04-14T09:21:33.512Z")
    assert v[1] == pd.Timestamp("2026-04-14T09:21:33Z")
    assert v[2] == pd.Timestamp("2026-04-14T09:21:00Z")
    assert pd.isna(v[3]) and pd.isna(v[4])


def test_out_of_range_never_clips():
    v = np.array([-5.0, 0.0, 100.0, 101.0, np.nan])
    assert R.out_of_range(v, 0, 100).tolist() == [True, False, False, True, False]
    assert R.out_of_range(v, None, None).tolist() == [False] * 5


def test_funding_shares_rules():
    mat = np.array([[50, 50, 0], [49, 50, 0], [50, 52, 0], [30, 30, 0], [np.nan] * 3, [100, np.nan, np.nan],
                    [-10, 110, 0]], dtype=float)
    new, st_ = R.funding_shares(mat, total=100, tolerance=2)
    assert st_.tolist() == ["ok", "renormalised", "renormalised", "off_total", "empty", "ok", "off_total"]
    np.testing.assert_allclose(np.nansum(new[[0, 1, 2, 5]], axis=1), 100)
    assert np.isnan(new[3]).all() and np.isnan(new[6]).all()
    assert new[5].tolist() == [100, 0, 0]  # empty shares count as 0


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, (20, 5), elements=st.floats(0, 100, allow_nan=False)))
def test_funding_shares_property(mat):
    new, st_ = R.funding_shares(mat, total=100, tolerance=2)
    tot = mat.sum(axis=1)
    ok = np.isin(st_, ["ok", "renormalised"])
    np.testing.assert_allclose(new[ok].sum(axis=1), 100, rtol=1e-9)
    assert (ok == (np.abs(tot - 100) <= 2)).all()
    assert np.isnan(new[~ok]).all()


def test_recode_other_single_and_multiple():
    table = pd.DataFrame({"text": ["Services et tourisme", "الخدمات والسياحة"], "code": ["services", "services"]})
    parent = pd.Series(["autre", "autre", "autre", "health"])
    text = pd.Series(["services et tourisme (principalement)", "Nouvelle activité", "الخدمات والسياحة", ""])
    new, hit = R.recode_other(parent, text, table)
    assert new.tolist() == ["services", "autre", "services", "health"]
    assert hit.tolist() == [True, False, True, False]
    new, hit = R.recode_other(pd.Series(["women autre", "autre"]), pd.Series(["Services et tourisme", "x"]), table,
                              multiple=True)
    assert new.tolist() == ["women services", "autre"]


def test_split_multiple():
    fr = R.split_multiple(pd.Series(["a c", "", "b", "a b c"]), ["a", "b", "c"], "q")
    assert list(fr.columns) == ["q/a", "q/b", "q/c", "q_count"]
    assert fr["q/a"].tolist()[0] == 1.0 and np.isnan(fr["q/a"].tolist()[1])
    assert fr["q_count"].fillna(-1).tolist() == [2, -1, 1, 3]


def test_flag_tests_reasons():
    df = pd.DataFrame({"interview_status": ["field", "pilot", "field", "field", "field"],
                       "_validation_status": ["", "", "validation_status_not_approved", "", ""],
                       "resp_name": ["Amina", "x", "y", "Essai", "Test Test"], "org_name": ["A", "B", "C", "D", "E"]})
    sub = pd.Series(pd.to_datetime(["2026-05-01", "2026-05-01", "2026-05-01", "2026-05-01", "2026-03-01"], utc=True))
    cfg = {"interview_status": ["pilot"], "validation_status": ["validation_status_not_approved"],
           "name_patterns": ["^(test|essai|test test)$"], "name_columns": ["resp_name"], "fieldwork_start": "2026-04-06"}
    flag, why = R.flag_tests(df, cfg, sub)
    assert flag.tolist() == [False, True, True, True, True]
    assert why.tolist() == ["", "interview_status", "validation_status", "resp_name_pattern", "resp_name_pattern"]


def test_flag_duplicates_keeps_most_complete_then_latest():
    uuid = pd.Series(["u1", "u1", "u2", "u3", "u4", "u5"])
    key = pd.Series(["k1", "k1", "k2", "k2", "", ""])
    complete = np.array([10, 10, 9, 10, 5, 5])
    order = np.array([1, 2, 3, 4, 5, 6], dtype=float)
    flag, kept, kind = R.flag_duplicates(uuid, key, complete, order)
    assert flag.tolist() == [True, False, True, False, False, False]
    assert kept[0] == 1 and kept[2] == 3
    assert kind.tolist()[:4] == ["same_uuid", "", "same_organisation", ""]
    flag, kept, kind = R.flag_duplicates(uuid, key, complete, order, eligible=np.array([1, 1, 1, 0, 1, 1], bool))
    assert flag.tolist() == [True, False, False, False, False, False]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 20)), min_size=1, max_size=40))
def test_flag_duplicates_property(rows):
    uuid = pd.Series([f"u{a}" for a, _, _ in rows])
    key = pd.Series([f"k{b}" if b else "" for _, b, _ in rows])
    complete = np.array([c for _, _, c in rows])
    order = np.arange(len(rows), dtype=float)
    flag, kept, _ = R.flag_duplicates(uuid, key, complete, order)
    survivors = ~flag
    assert uuid[survivors].is_unique
    k = key[survivors]
    assert k[k != ""].is_unique
    assert (kept[flag] >= 0).all() and (kept[~flag] == -1).all()
    final = kept.copy()
    for _ in range(3):  # a same-_uuid copy may point to a row later dropped as the same organisation
        nxt = np.where((final >= 0) & flag[np.maximum(final, 0)], kept[np.maximum(final, 0)], final)
        final = nxt
    assert survivors[final[flag]].all()


def test_flag_speeders_fraction_of_median():
    d = np.array([40, 38, 36, 42, 5, np.nan, 39, 11])
    flag, thr = R.flag_speeders(d, fraction_of_median=0.3)
    assert thr == pytest.approx(0.3 * np.median(d[np.isfinite(d)]))
    assert flag.tolist() == [False, False, False, False, True, False, False, True]
    flag, thr = R.flag_speeders(d, min_minutes=6)
    assert thr == 6 and flag.sum() == 1


def test_flag_straightliners():
    grids = {"g1": ["a1", "a2", "a3"], "g2": ["b1", "b2", "b3"], "g3": ["c1", "c2", "c3"], "g4": ["d1", "d2", "d3"]}
    rows = [
        [4] * 12,  # flat everywhere
        [4, 4, 4, 3, 3, 3, 5, 5, 5, 2, 2, 2],  # flat in each grid, varied across: still straightlining grids
        [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2],
        [4, 4, 4, 4, 4, 4, 1, 2, 3, 1, 2, 3],  # half the grids flat
        [4, np.nan, np.nan, 4, 4, 4, 4, 4, 4, 4, 4, 4],  # only 3 grids answered enough
    ]
    cols = [c for g in grids.values() for c in g]
    df = pd.DataFrame(rows, columns=cols, dtype=float)
    flag, share = R.flag_straightliners(df, grids, min_items=3, min_grids=4, min_share_flat=0.75)
    assert flag.tolist() == [True, True, False, False, False]
    assert share[3] == 0.5


def test_pseudonymous_id_stable_and_distinct():
    a = R.pseudonymous_id(pd.Series(["u1", "u2", "u1"]))
    assert a[0] == a[2] != a[1]
    assert a[0].startswith("R") and len(a[0]) == 13
    assert R.pseudonymous_id(pd.Series(["u1"]))[0] == a[0]
