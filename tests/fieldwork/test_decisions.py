"""Decision files: read, checked with one clear sentence per problem, applied to raw answers."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.fieldwork._decisions import (
    DECISION_COLUMNS,
    Decision,
    DecisionSet,
    apply_decisions,
    read_decisions,
)
from analysis.study import codebook, load_questionnaire

HEADER = ",".join(DECISION_COLUMNS)


@pytest.fixture(scope="module")
def cb():
    return codebook(load_questionnaire())


def _write(tmp_path, rows, name="d.csv"):
    p = tmp_path / name
    p.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p


def test_reads_decisions_and_skips_open_points(cb, tmp_path):
    p = _write(tmp_path, [
        "u1,year_created,1019,2019,typo,out_of_range,change_response",
        "u2,legal_form,association,,,outlier,",  # still open
        "u3,,,,fabricated,soft_duplicate,remove_survey",
        "u4,n_members,5000,,,outlier,no_action",
    ])
    ds = read_decisions(p, cb)
    assert [d.change_type for d in ds.decisions] == ["change_response", "remove_survey", "no_action"]
    assert [d.row for d in ds.decisions] == [2, 4, 5]


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("u1,year_created,1019,2019,typo,x,change_responce", "change_type", "did you mean 'change_response'"),
        ("u1,year_creatd,1019,2019,typo,x,change_response", "question", "did you mean 'year_created'"),
        ("u1,legal_form,association,ngo,,x,change_response", "new_value", "not a choice of legal_form"),
        ("u1,year_created,1019,1019,,x,change_response", "new_value", "out of range"),
        ("u1,year_created,1019,twenty,,x,change_response", "new_value", "not a number"),
        ("u1,year_created,1019,2019,,x,blank_response", "new_value", "blank_response with a new value"),
        (",year_created,1019,2019,,x,change_response", "uuid", "without a submission uuid"),
    ],
)
def test_bad_decision_names_file_row_column(cb, tmp_path, row, column, words):
    p = _write(tmp_path, [row])
    with pytest.raises(InputError) as err:
        read_decisions(p, cb)
    msg = str(err.value)
    assert words in msg and "d.csv" in msg and "row 2" in msg and column in msg
    assert "\n" not in msg.strip()


def test_contradicting_decisions_stop(cb, tmp_path):
    _write(tmp_path, ["u1,year_created,1019,2019,typo,x,change_response"], "a.csv")
    _write(tmp_path, ["u1,year_created,1019,2018,typo,x,change_response"], "b.csv")
    with pytest.raises(InputError) as err:
        read_decisions(tmp_path, cb)
    assert "contradicts a.csv, row 2" in str(err.value) and "b.csv" in str(err.value)


def test_same_decision_twice_is_kept_once(cb, tmp_path):
    _write(tmp_path, ["u1,year_created,1019,2019,typo,x,change_response"], "a.csv")
    _write(tmp_path, ["u1,year_created,1019,2019,typo,x,change_response"], "b.csv")
    assert len(read_decisions(tmp_path, cb)) == 1


def test_missing_column_and_unreadable_file(cb, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("uuid,question\nu1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks the column"):
        read_decisions(p, cb)
    bad = tmp_path / "e.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="cannot be read"):
        read_decisions(bad, cb)


def _raw():
    return pd.DataFrame({
        "_uuid": ["u1", "u2", "u3"],
        "year_created": ["1019", "2001", "1999"],
        "target_groups": ["women", "youth rural", ""],
        "target_groups/women": ["1", "0", ""],
        "target_groups/youth": ["0", "1", ""],
        "target_groups/rural": ["0", "1", ""],
        "_source_file": ["x.csv"] * 3,
    })


def _d(uuid, q, old, new, ct, row=2):
    return Decision(uuid, q, old, new, "issue", "check", ct, "d.csv", row)


def test_apply_change_blank_remove():
    ds = DecisionSet((
        _d("u1", "year_created", "1019", "2019", "change_response"),
        _d("u2", "target_groups", "youth rural", "women", "change_response", 3),
        _d("u3", "", "", "", "remove_survey", 4),
        _d("u2", "year_created", "2001", "", "blank_response", 5),
    ))
    out = apply_decisions(_raw(), ds)
    assert out.data["_uuid"].tolist() == ["u1", "u2"]
    assert out.data["year_created"].tolist() == ["2019", ""]
    assert out.data.loc[1, ["target_groups/women", "target_groups/youth", "target_groups/rural"]] \
        .tolist() == ["1", "0", "0"]
    assert out.removed["_uuid"].tolist() == ["u3"]
    assert set(out.log["change_type"]) == {"change_response", "blank_response", "remove_survey"}
    # u1 year, u2 answer + its 3 option columns, u3 removal, u2 blank
    assert len(out.log) == 1 + (1 + 3) + 1 + 1


def test_apply_refuses_unknown_uuid_and_changed_answer():
    with pytest.raises(InputError, match="in no export"):
        apply_decisions(_raw(), DecisionSet((_d("zz", "year_created", "", "2019", "change_response"),)))
    with pytest.raises(InputError, match="answer changed since"):
        apply_decisions(_raw(), DecisionSet((_d("u1", "year_created", "1018", "2019", "change_response"),)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["u1", "u2", "u3"]),
                          st.integers(min_value=1900, max_value=2026)), max_size=6, unique_by=lambda t: t[0]))
def test_apply_then_log_replays_to_the_same_table(changes):
    """Property: the raw table plus the log rows gives the table with decisions applied."""
    raw = _raw()
    ds = DecisionSet(tuple(_d(u, "year_created", "", str(v), "change_response", i + 2)
                           for i, (u, v) in enumerate(changes)))
    out = apply_decisions(raw, ds)
    replay = raw.set_index("_uuid")
    for rec in out.log.to_dict("records"):
        assert replay.at[rec["_uuid"], rec["column"]] == rec["old_value"]
        replay.at[rec["_uuid"], rec["column"]] = rec["new_value"]
    assert replay["year_created"].tolist() == out.data["year_created"].tolist()
