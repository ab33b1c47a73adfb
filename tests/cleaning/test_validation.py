"""Tests of the validation checks (analysis.cleaning._validation) and of what cleaning reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cleaning._clean import clean_data
from analysis.cleaning._validation import (
    PERSONAL_MASK,
    VALIDATION_COLUMNS,
    ProblemLog,
    RelevanceEvaluator,
)

BASE = Path(__file__).parents[1] / "malformed" / "files" / "bom_crlf.csv"


def test_problem_log_masks_personal_values():
    log = ProblemLog(["f.csv"] * 3, ["u1", "u2", "u3"], [2, 3, 4], personal={"resp_phone"})
    log.add(np.array([True, False, True]), "resp_phone", np.array(["0612", "x", ""], dtype=object), "constraint",
            "reported only")
    log.add(np.array([False, True, False]), "n_members", np.array(["1", "-5", "2"], dtype=object), "out_of_range",
            "set missing")
    log.add_column("f.csv", "extra", "unknown_column", "dropped from the analysis file")
    f = log.frame()
    assert list(f.columns) == VALIDATION_COLUMNS
    assert f["value"].tolist() == [PERSONAL_MASK, "", "-5", ""]
    assert f["row"].tolist() == ["u1", "u3", "u2", ""]
    assert f["source_row"].tolist()[:3] == [2, 4, 3]
    assert log.counts().to_dict() == {"constraint": 2, "out_of_range": 1, "unknown_column": 1}


def test_relevance_evaluator_on_whole_columns():
    text = {"consent": np.array(["1", "0", "1", ""], dtype=object),
            "org_active": np.array(["1", "", "0", ""], dtype=object),
            "legal_form": np.array(["cooperative", "", "association", ""], dtype=object),
            "target_groups": np.array(["women autre", "", "youth", ""], dtype=object)}
    ev = RelevanceEvaluator(text, {"fund_other": np.array([0, np.nan, 5, np.nan])},
                            {"target_groups": ["women", "youth", "autre"]}, 4)
    assert ev.relevant("${consent} = '1' and ${org_active} = '1'").tolist() == [True, False, False, False]
    assert ev.relevant("(${legal_form} = 'cooperative' or ${legal_form} = 'union_coop')").tolist() == \
        [True, False, False, False]
    assert ev.relevant("selected(${target_groups}, 'autre')").tolist() == [True, False, False, False]
    assert ev.relevant("${fund_other} > 0").tolist() == [False, False, True, False]
    assert ev.relevant("").all()


def test_constraint_women_not_more_than_members(tmp_path):
    df = pd.read_csv(BASE, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    ok = df.index[(df["consent"] == "1") & (df["org_active"] == "1")][0]
    df.loc[ok, "n_members"] = "10"
    df.loc[ok, "n_women_members"] = "25"
    p = tmp_path / "w.csv"
    df.to_csv(p, sep=";", index=False)
    r = clean_data([p])
    v = r.validation
    hit = v[(v["rule"] == "constraint") & (v["column"] == "n_women_members")]
    assert hit["value"].tolist() == ["25"]
    assert hit["action"].tolist() == ["set missing"]
    assert np.isnan(r.data.loc[ok, "n_women_members"])
    assert r.data.loc[ok, "n_members"] == 10


def test_each_problem_is_reported_with_what_was_done(tmp_path):
    df = pd.read_csv(BASE, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = df.index[(df["consent"] == "1") & (df["org_active"] == "1")]
    a, b, c, d = rows[:4]
    df.loc[a, "year_created"] = "2099"                # out of range
    df.loc[b, "milieu"] = "banlieue"                  # not in the choice list
    df.loc[c, "n_staff_full"] = "beaucoup"            # not a number
    df.loc[d, "si_nov_01"] = "98"                     # don't know: not a problem, logged
    df.loc[d, "start"] = "hier"                       # not a date
    df.loc[a, "n_volunteers_regular"] = "Je ne sais pas"  # typed instead of -98: missing, reason logged
    df["extra"] = "x"                                 # unknown column
    p = tmp_path / "p.csv"
    df.drop(columns=["_notes"]).to_csv(p, sep=";", index=False)
    r = clean_data([p])
    v = r.validation.set_index(["column", "rule"])
    assert v.loc[("year_created", "out_of_range"), "action"] == "set missing"
    assert v.loc[("milieu", "not_allowed"), "value"] == "banlieue"
    assert v.loc[("n_staff_full", "not_a_number"), "source_row"] == c + 2
    assert v.loc[("start", "invalid_date"), "row"] == df.loc[d, "_uuid"]
    assert v.loc[("extra", "unknown_column"), "action"].startswith("dropped")
    assert ("si_nov_01", "dont_know") not in v.index
    log = r.log.set_index(["_uuid", "column"])
    assert log.loc[(df.loc[d, "_uuid"], "si_nov_01"), "rule"] == "dont_know"
    assert log.loc[(df.loc[a, "_uuid"], "year_created"), "new_value"] == ""
    assert log.loc[(df.loc[a, "_uuid"], "n_volunteers_regular"), "rule"] == "dont_know"
    assert np.isnan(r.data.loc[a, "year_created"])  # never clipped


@pytest.mark.parametrize("total,expected", [("101", "re-normalised"), ("150", "set missing")])
def test_funding_shares(tmp_path, total, expected):
    df = pd.read_csv(BASE, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    i = df.index[(df["consent"] == "1") & (df["org_active"] == "1")][0]
    fund = [c for c in df.columns if c.startswith("fund_") and c not in ("fund_total", "fund_check",
                                                                           "fund_sources_other")]
    df.loc[i, fund] = "0"
    df.loc[i, "fund_dues"] = str(int(total) - 50)
    df.loc[i, "fund_donations"] = "50"
    p = tmp_path / "f.csv"
    df.to_csv(p, sep=";", index=False)
    r = clean_data([p])
    v = r.validation[r.validation["rule"] == "funding_sum"]
    assert len(v) == 1 and expected in v["action"].iloc[0]
    shares = r.data.loc[i, fund].to_numpy(dtype=float)
    if expected == "re-normalised":
        assert shares.sum() == pytest.approx(100)
    else:
        assert np.isnan(shares).all()
