"""Other exporters' system columns (ODK Central) never collide with the form's questions (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.cleaning._clean import clean_form_data
from analysis.ingest._readers import header_map, read_export
from analysis.xlsform._workbook import form_codebook, load_xlsform

DEVICE = "collect:Xq7Lm2Pz9Rt0Kd4W"
CENTRAL_DEVICE = "collect:CENTRALdevice0001"


def _form(tmp: Path) -> Path:
    d = tmp / "form"
    d.mkdir()
    (d / "survey.csv").write_text("type,name,label\nstart,start,\nend,end,\ndeviceid,deviceid,\n"
                                  "integer,staff,Staff\ntext,status,Status of the site\ngeopoint,gps,Where\n",
                                  encoding="utf-8")
    return d


def _central(tmp: Path) -> Path:
    """An ODK Central CSV: the form's own ``deviceid`` and ``status``, and Central's ``DeviceID``, ``Status``..."""
    rows = []
    for i in range(4):
        u = f"uuid:0000000{i}-aaaa-4bbb-8ccc-00000000000{i}"
        rows.append({"SubmissionDate": f"2026-03-0{i + 1}T08:41:12.000Z",
                     "start": f"2026-03-0{i + 1}T09:10:05.123+01:00", "end": f"2026-03-0{i + 1}T09:40:05.123+01:00",
                     "deviceid": DEVICE, "staff": str(3 + i), "status": "open", "gps-Latitude": f"36.75{i}",
                     "gps-Longitude": "3.42", "gps-Altitude": "45", "gps-Accuracy": "4.5", "meta-instanceID": u, "KEY": u,
                     "SubmitterID": "17", "SubmitterName": "enq_amina", "AttachmentsPresent": "0",
                     "AttachmentsExpected": "0", "Status": "", "ReviewState": "approved",
                     "DeviceID": CENTRAL_DEVICE, "Edits": "0", "FormVersion": "2026-03-01"})
    p = tmp / "central.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_central_system_columns_are_mapped_or_set_aside(tmp_path):
    form = load_xlsform(_form(tmp_path))
    cb = form_codebook(form)
    t = read_export(_central(tmp_path), hmap=header_map(cb, form))
    assert t.set_aside == ["KEY", "SubmitterID", "AttachmentsPresent", "AttachmentsExpected", "Status", "DeviceID",
                           "Edits"]
    assert not t.unknown_columns
    d = t.data
    assert d["deviceid"].tolist() == [DEVICE] * 4  # the form's question, not Central's DeviceID
    assert d["status"].tolist() == ["open"] * 4  # nor Central's Status
    assert d["_uuid"].str.startswith("0000000").all()
    assert d["_submitted_by"].tolist() == ["enq_amina"] * 4
    assert d["__version__"].tolist() == ["2026-03-01"] * 4
    assert d["_submission_time"].iloc[0] == "2026-03-01T08:41:12.000Z"
    assert not {"DeviceID", "Status", "KEY", "Edits"} & set(d.columns)
    assert any("set aside" in n and "DeviceID" in n for n in t.notes)


def test_central_device_ids_never_reach_the_analysis_file(tmp_path):
    r = clean_form_data([_central(tmp_path)], _form(tmp_path))
    assert len(r.data) == 4 and r.data["staff"].tolist() == [3.0, 4.0, 5.0, 6.0]
    assert not {"deviceid", "DeviceID"} & set(r.data.columns)
    for frame in (r.data, r.log, r.validation):
        text = frame.astype(str).to_csv(index=False)
        assert DEVICE not in text and CENTRAL_DEVICE not in text
    assert not (r.validation["rule"] == "unknown_column").any()
    assert not (r.validation["rule"] == "missing_column").any()  # gps is there, as Central writes it: its parts
    assert not [c for c in r.data.columns if "gps" in c] and "36.751" not in r.data.astype(str).to_csv()


def test_a_question_named_like_a_central_column_keeps_it(tmp_path):
    d = tmp_path / "form"
    d.mkdir()
    (d / "survey.csv").write_text("type,name,label\ntext,Status,Status\n", encoding="utf-8")
    form = load_xlsform(d)
    cb = form_codebook(form)
    p = tmp_path / "e.csv"
    p.write_text("Status,_uuid\nopen,u1\n", encoding="utf-8")
    t = read_export(p, hmap=header_map(cb, form))
    assert t.data["Status"].tolist() == ["open"] and not t.set_aside
