"""Personal data found from the form and the values (issue 14, point 6)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from analysis.cleaning._clean import clean_data
from analysis.cleaning._personal import personal_columns


def _form(rows, pii=None):
    cb = pd.DataFrame(rows, columns=["variable", "type", "label_fr", "label_ar"])
    survey = pd.DataFrame({"name": cb["variable"]})
    if pii is not None:
        survey["pii"] = [pii.get(v, "") for v in cb["variable"]]
    return SimpleNamespace(survey=survey), cb


def test_types_names_and_labels_in_three_languages():
    q, cb = _form([
        ("gps", "geopoint", "Position", ""),
        ("trace", "geotrace", "Parcours", ""),
        ("photo", "image", "Photo du local", ""),
        ("imei", "imei", "", ""),
        ("name_", "text", "Name", ""),
        ("street_name", "text", "Street", ""),
        ("house_number", "integer", "House number", ""),
        ("grp_first_name_of_respondent", "text", "", ""),
        ("hh_phone", "text", "", ""),
        ("q7", "text", "Téléphone du répondant", ""),
        ("q8", "text", "", "الاسم الكامل"),
        ("q9", "text", "Adresse e-mail", ""),
        ("q10", "text", "Quelle rue ?", ""),
        ("comm_tools", "select_multiple", "Outils : téléphone, e-mail, WhatsApp", ""),
        ("n_members", "integer", "Nombre de membres", ""),
        ("activity", "text", "Activité principale", ""),
    ])
    found = personal_columns(q, cb)
    assert set(found) == {"gps", "trace", "photo", "imei", "name_", "street_name", "house_number",
                          "grp_first_name_of_respondent", "hh_phone", "q7", "q8", "q9", "q10"}
    assert found["gps"] == "question type geopoint"


def test_values_that_look_like_phones_or_emails():
    q, cb = _form([("notes", "text", "Remarques", ""), ("other", "text", "Autre", ""),
                   ("amount", "text", "Montant", "")])
    values = {
        "notes": np.array(["appeler 0612", "+212 6 12 34 56 78", "0661-223344", "06 61 22 33 45", ""], dtype=object),
        "other": np.array(["a@b.ma", "x.y@mail.com", "contact@asso.org", "rien"], dtype=object),
        "amount": np.array(["1500", "2000", "250", "12"], dtype=object),
    }
    found = personal_columns(q, cb, values)
    assert "phone numbers" in found["notes"]
    assert "e-mail addresses" in found["other"]
    assert "amount" not in found


def test_pii_column_forces_a_question_in_or_out():
    q, cb = _form([("org_name", "text", "Nom de l'organisation", ""), ("motto", "text", "Devise", "")],
                  pii={"org_name": "no", "motto": "yes"})
    found = personal_columns(q, cb)
    assert set(found) == {"motto"}
    assert found["motto"] == "pii = yes in the form"


def test_thesis_form_personal_columns_out_of_every_output(tmp_path):
    from pathlib import Path

    base = Path(__file__).parents[1] / "malformed" / "files" / "bom_crlf.csv"
    r = clean_data([base])
    removed = {d["column"] for d in r.manifest["personal_data_removed"]}
    # written by reading questionnaire/survey.csv: who answered, how to reach them, where, which device
    by_hand = {"org_name", "resp_name", "resp_phone", "resp_email", "gps", "deviceid", "_submitted_by"}
    assert by_hand <= removed
    assert not (by_hand & set(r.data.columns))
    raw = pd.read_csv(base, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    secrets = {v for c in ("resp_name", "resp_phone", "resp_email") for v in raw[c] if len(v) > 3}
    paths = r.write(tmp_path / "out")
    for p in paths.values():
        text = p.read_bytes().decode("utf-8", errors="replace") if p.suffix != ".parquet" else \
            pd.read_parquet(p).astype(str).to_csv()
        assert not any(v in text for v in secrets), p.name
