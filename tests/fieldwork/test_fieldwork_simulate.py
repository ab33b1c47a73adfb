"""The simulator plays the field: sample from a frame, enumerators with habits, answering habits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.simulate import simulate_survey
from analysis.simulate._fieldwork import simulate_fieldwork


@pytest.fixture(scope="module")
def fw():
    return simulate_fieldwork(300, seed=5, enumerators=8, fabricators=2, speeders=1, dont_know=1, days=12)


def test_export_shape_matches_the_survey_simulator(fw):
    plain = simulate_survey(50, seed=1, clean_only=True).to_frame()
    assert list(fw.raw.columns) == list(plain.columns)
    assert "_submitted_by" in fw.raw.columns
    assert len(fw.raw) == 300 and fw.raw["_uuid"].is_unique


def test_sample_drawn_from_the_frame(fw):
    main = fw.sample.sample[fw.sample.sample["reserve_rank"] == 0]
    assert len(main) == 300 and set(main["org_id"]) <= set(fw.frame["org_id"])
    key = (fw.raw["region"] + "_" + fw.raw["legal_form"]).value_counts()
    alloc = fw.sample.allocation.set_index("stratum")["n_h"]
    assert (key == alloc.loc[key.index]).all()
    assert set(fw.raw["org_name"]) <= set(main["org_name"])


def test_collection_days_and_habits_in_the_ledger(fw):
    days = fw.raw["start"].str.slice(0, 10)
    assert days.nunique() == 12 and days.min() == "2026-04-06"
    habit = dict(zip(fw.enumerators["enumerator"], fw.enumerators["habit"]))
    assert sorted(habit.values()).count("fabricator") == 2
    for kind, h in (("speeder", "speeder"), ("fabricated", "fabricator"), ("dont_know", "dont_know")):
        rows = fw.ledger[fw.ledger["kind"] == kind]
        assert len(rows) and rows["enumerator"].map(habit).eq(h).all()
    fab = fw.ledger[fw.ledger["kind"] == "fabricated"]
    by = dict(zip(fw.raw["_uuid"], fw.raw["_submitted_by"]))
    assert (fab["original_uuid"].map(by) == fab["enumerator"]).all()   # copies of the same account


def test_deterministic_and_checked_arguments():
    a = simulate_fieldwork(80, seed=9, enumerators=4, days=5)
    b = simulate_fieldwork(80, seed=9, enumerators=4, days=5)
    pd.testing.assert_frame_equal(a.raw, b.raw)
    pd.testing.assert_frame_equal(a.ledger, b.ledger)
    with pytest.raises(InputError):
        simulate_fieldwork(80, enumerators=2, fabricators=2, speeders=1)


def test_reverse_keyed_items_mirror_positive_ones_with_acquiescence():
    """A reverse-keyed agreement item is mostly disagreed with (its thresholds mirror the list's),
    but acquiescence keeps its agreement above the mirror image of the positive items'
    disagreement; a share of respondents fall back on the midpoint."""
    r = simulate_survey(4000, seed=3, clean_only=True)
    df = r.to_frame()
    meas = r.sim.measurement
    agree = {True: [], False: []}
    disagree = {True: [], False: []}
    for it, m in meas.items():
        if m["role"] != "construct" or m["list_name"] != "agree5":
            continue
        x = pd.to_numeric(df[it], errors="coerce")
        x = x[x.between(1, 5)]
        agree[m["reverse"]].append((x >= 4).mean())
        disagree[m["reverse"]].append((x <= 2).mean())
    pos_agree, rev_agree = np.mean(agree[False]), np.mean(agree[True])
    assert pos_agree > 0.5 and rev_agree < 0.4          # not the same marginal any more
    assert np.mean(disagree[True]) > rev_agree           # reverse items: more disagree than agree
    assert rev_agree > np.mean(disagree[False])          # acquiescence: above the mirror image
    lat = r.latent_frame()
    assert 0.1 < lat["habit_midpoint"].mean() < 0.2
    # the midpoint habit shows: those respondents choose the middle category more often
    items = [i for i, m in meas.items() if m["midpoint"]]
    mid = (df[items].apply(pd.to_numeric, errors="coerce") == 3).mean(axis=1).to_numpy()
    h = lat.set_index("_uuid").loc[df["_uuid"], "habit_midpoint"].to_numpy()
    assert mid[h].mean() > mid[~h].mean() + 0.15
