"""Round trip of issue 17: review -> filled decisions -> clean -> verify, every decision in the log;
bad decision files stop the command with one sentence and nothing written."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from analysis.cleaning import clean
from analysis.fieldwork import review, verify
from analysis.simulate import simulate_export


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    export = simulate_export(n=150, seed=21, out_dir=tmp / "raw")["export"]
    points = pd.read_excel(review([export], tmp / "review"), sheet_name="decisions", dtype=str,
                           engine="openpyxl").fillna("")
    return tmp, export, points


def _decide(points: pd.DataFrame) -> pd.DataFrame:
    d = points.copy()
    d["change_type"] = "no_action"
    one_q = d[d["question"].isin(["n_members", "year_created"]) & (d["old_value"] != "")].head(1)
    if len(one_q):
        i = one_q.index[0]
        d.loc[i, "change_type"] = "blank_response"
    sub = d[d["question"] == ""].head(1)
    if len(sub):
        d.loc[sub.index[0], "change_type"] = "remove_survey"
    other = d[d["check_id"] == "other_specify"].head(1)
    if len(other):
        d.loc[other.index[0], ["change_type", "new_value"]] = ["change_response", "Texte recodé par le chercheur"]
    return d


def test_review_decide_clean_verify(field):
    tmp, export, points = field
    decisions = _decide(points)
    ddir = tmp / "decisions"
    ddir.mkdir(exist_ok=True)
    decisions.to_csv(ddir / "semaine1.csv", index=False)
    result = clean([export], out_dir=tmp / "processed", private_dir=tmp / "private", decisions=ddir)
    log = pd.read_csv(tmp / "processed" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    assert {"check_id", "issue", "change_type"} <= set(log.columns)
    assert (log["check_id"] != "").all() and set(log["change_type"]) <= {
        "change_response", "blank_response", "remove_survey", "remove_column"}  # remove_column: personal data
    acted = decisions[decisions["change_type"] != "no_action"]
    for rec in acted.to_dict("records"):
        rows = log[(log["_uuid"] == rec["uuid"]) & (log["rule"].str.contains("decision"))
                   & (log["change_type"] == rec["change_type"])]
        assert len(rows) >= 1, rec
    removed = acted.loc[acted["change_type"] == "remove_survey", "uuid"]
    if len(removed):
        assert "removed_by_decision" in set(result.flow["step"])
        link = pd.read_csv(tmp / "private" / "link_table.csv", dtype=str)
        assert not set(removed) & set(link.get("_uuid", pd.Series(dtype=str)))
    check = verify([export], tmp / "processed")
    assert check.ok, (check.unexplained.head(), check.unapplied.head(), check.rows.head())


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("zz-unknown,year_created,,2019,,x,change_response", "in no export"),
        ("{uuid},year_created,,1800,,x,change_response", "out of range"),
        ("{uuid},legal_form,,ngo,,x,change_response", "not a choice of legal_form"),
        ("{uuid},year_created,,2019,,x,change_answer", "unknown change_type"),
    ],
)
def test_bad_decision_file_stops_clean_with_one_sentence(field, tmp_path, row, words):
    _tmp, export, points = field
    raw = pd.read_csv(export, sep=None, engine="python", dtype=str, nrows=1)
    ddir = tmp_path / "decisions"
    ddir.mkdir()
    (ddir / "bad.csv").write_text("uuid,question,old_value,new_value,issue,check_id,change_type\n"
                                  + row.format(uuid=raw["_uuid"].iloc[0]) + "\n", encoding="utf-8")
    out = tmp_path / "processed"
    proc = subprocess.run([sys.executable, "-m", "analysis", "clean", str(export), "--out", str(out),
                           "--private", str(tmp_path / "private"), "--decisions", str(ddir)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and words in proc.stderr
    assert "bad.csv" in proc.stderr and "row 2" in proc.stderr
    assert not out.exists() or not any(out.iterdir())
