"""Every timestamp question gets the treatment of start/end (issue 14, point 4): the offset written in the
export, else the time_zone setting, else inferred from _submission_time and reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.cleaning._clean import clean_form_data

SURVEY = ("type,name,label,relevant,calculation\n"
          "start,start,,,\nend,end,,,\n"
          "select_one yn,visited,Visited?,,\n"
          "dateTime,visit_dt,When?,${visited} = 'yes',\n"
          "calculate,stamp,,,once(now())\n"
          "date,founded,Founded,,\n")
CHOICES = "list_name,name,label\nyn,yes,Yes\nyn,no,No\n"
UTC_VISIT = ["2026-03-02T09:00:00Z", "2026-03-03T08:30:00Z", None]


def _form(tmp: Path) -> Path:
    d = tmp / "form"
    d.mkdir(exist_ok=True)
    (d / "survey.csv").write_text(SURVEY, encoding="utf-8")
    (d / "choices.csv").write_text(CHOICES, encoding="utf-8")
    return d


def _export(tmp: Path, name: str, *, offsets: bool, start_end_offsets: bool | None = None) -> Path:
    """Three submissions at +01:00: written with their offsets (Kobo CSV) or without (typed XLSX)."""
    se = offsets if start_end_offsets is None else start_end_offsets
    o, oe = ("+01:00" if offsets else ""), ("+01:00" if se else "")
    rows = [
        {"start": f"2026-03-02T09:10:05.123{oe}", "end": f"2026-03-02T09:40:47.456{oe}", "visited": "yes",
         "visit_dt": f"2026-03-02T10:00:00.000{o}", "stamp": f"2026-03-02T09:10:06.000{o}", "founded": "1990-01-15",
         "_uuid": "u1", "_submission_time": "2026-03-02T08:41:12"},
        {"start": f"2026-03-03T09:11:05.123{oe}", "end": f"2026-03-03T09:41:47.456{oe}", "visited": "yes",
         "visit_dt": f"2026-03-03T09:30:00.000{o}", "stamp": f"2026-03-03T09:11:06.000{o}", "founded": "1993-02-15",
         "_uuid": "u2", "_submission_time": "2026-03-03T08:42:12"},
        {"start": f"2026-03-04T09:12:05.123{oe}", "end": f"2026-03-04T09:42:47.456{oe}", "visited": "no",
         "visit_dt": f"2026-03-04T10:00:00.000{o}", "stamp": f"2026-03-04T09:12:06.000{o}", "founded": "",
         "_uuid": "u3", "_submission_time": "2026-03-04T08:43:12"},
    ]
    p = tmp / name
    pd.DataFrame(rows).to_csv(p, sep=";", index=False)
    return p


def _utc(values) -> list:
    return [None if v is None else pd.Timestamp(v) for v in values]


def test_a_datetime_question_with_its_offset_is_read_in_utc(tmp_path):
    r = clean_form_data([_export(tmp_path, "csv.csv", offsets=True)], _form(tmp_path))
    assert str(r.data["visit_dt"].dtype) == "datetime64[ms, UTC]"
    assert r.data["visit_dt"].tolist()[:2] == _utc(UTC_VISIT)[:2]
    assert r.manifest["time_zone"] == {"offset": "+00:00", "source": "export"}
    assert {"visit_dt", "stamp"} <= set(r.manifest["timestamp_columns"])
    assert "founded" not in r.manifest["timestamp_columns"]  # a date, not a timestamp
    assert not any("offset" in w for w in r.warnings)


def test_naive_datetime_questions_get_the_inferred_offset_and_it_is_reported(tmp_path):
    form = _form(tmp_path)
    with_offsets = clean_form_data([_export(tmp_path, "csv.csv", offsets=True)], form)
    typed = clean_form_data([_export(tmp_path, "typed.csv", offsets=False)], form)
    assert typed.manifest["time_zone"] == {"offset": "+01:00", "source": "inferred"}
    warning = next(w for w in typed.warnings if "inferred from _submission_time" in w)
    assert "visit_dt" in warning and "stamp" in warning
    for c in ("start", "end", "visit_dt", "stamp"):
        pd.testing.assert_series_equal(typed.data[c], with_offsets.data[c], obj=c)


@pytest.mark.parametrize("zone", ["+02:00", "-03:30"])
def test_the_time_zone_setting_applies_to_every_datetime_question(tmp_path, zone):
    r = clean_form_data([_export(tmp_path, "typed.csv", offsets=False)], _form(tmp_path), time_zone=zone)
    assert r.manifest["time_zone"] == {"offset": zone, "source": "option"}
    local = pd.Timestamp("2026-03-02T10:00:00")
    assert r.data["visit_dt"].iloc[0] == (local - pd.Timedelta(zone.replace(":", "h") + "m")).tz_localize("UTC")
    assert not any("inferred" in w for w in r.warnings)


def test_a_naive_answer_takes_the_offset_its_submission_carries(tmp_path):
    """start/end written with +01:00 but visit_dt without: the export's own offset, no guess."""
    p = _export(tmp_path, "mixed.csv", offsets=False, start_end_offsets=True)
    r = clean_form_data([p], _form(tmp_path))
    assert r.data["visit_dt"].tolist()[:2] == _utc(UTC_VISIT)[:2]
    assert r.manifest["time_zone"]["source"] == "export"
    assert not any("offset" in w for w in r.warnings)


def test_a_hidden_datetime_answer_is_set_missing(tmp_path):
    r = clean_form_data([_export(tmp_path, "csv.csv", offsets=True)], _form(tmp_path))
    assert r.data["visit_dt"].isna().tolist() == [False, False, True]  # visited = no
    hit = r.validation[r.validation["rule"] == "not_relevant"]
    assert hit["column"].tolist() == ["visit_dt"]


def test_an_invalid_datetime_answer_is_reported(tmp_path):
    p = _export(tmp_path, "csv.csv", offsets=True)
    df = pd.read_csv(p, sep=";", dtype=str, keep_default_na=False)
    df.loc[1, "visit_dt"] = "le 3 mars"
    df.to_csv(p, sep=";", index=False)
    r = clean_form_data([p], _form(tmp_path))
    assert r.data["visit_dt"].isna().tolist() == [False, True, True]
    assert "invalid_date" in set(r.validation.loc[r.validation["column"] == "visit_dt", "rule"])
