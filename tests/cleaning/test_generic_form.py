"""Any valid XLSForm is cleaned with the generic rules (issue 14, point 1): ``clean --form``."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.cleaning._clean import clean_form, clean_form_data
from analysis.errors import ConfigError
from analysis.xlsform._workbook import form_codebook, load_xlsform

SURVEY = [
    # type, name, label::English (en), label::Arabic (ar), relevant, calculation
    ("start", "start", "", "", "", ""),
    ("end", "end", "", "", "", ""),
    ("imei", "imei", "", "", "", ""),
    ("begin group", "hh", "Household", "الأسرة", "", ""),
    ("text", "Name", "Name of head", "اسم رب الأسرة", "", ""),
    ("select one from yn", "has_water", "Has water?", "هل يوجد ماء؟", "", ""),
    ("select all that apply from src", "sources", "Sources", "المصادر", "", ""),
    ("select_one crop or_other", "crop", "Main crop", "المحصول", "", ""),
    ("integer", "n_people", "People", "عدد الأفراد", "${has_water} = 'yes'", ""),
    ("decimal", "area", "Area (ha)", "المساحة", "", ""),
    ("calculate", "key", "", "", "", "uuid()"),
    ("geopoint", "loc", "Location", "الموقع", "", ""),
    ("text", "odd", "Odd", "", "jr:choice-name(${crop}, '${crop}') != ''", ""),
    ("end group", "", "", "", "", ""),
]
CHOICES = [("yn", "yes", "Yes", "نعم"), ("yn", "no", "No", "لا"), ("src", "well", "Well", "بئر"),
           ("src", "river", "River", "نهر"), ("crop", "maize", "Maize", "ذرة"), ("crop", "wheat", "Wheat", "قمح")]


def _sheets():
    survey = pd.DataFrame(SURVEY, columns=["type", "name", "label::English (en)", "label::Arabic (ar)", "relevant",
                                           "calculation"])
    choices = pd.DataFrame(CHOICES, columns=["list name", "name", "label::English (en)", "label::Arabic (ar)"])
    settings = pd.DataFrame([{"form_title": "Test", "form_id": "test1", "default_language": "English (en)"}])
    return survey, choices, settings


@pytest.fixture
def workbook(tmp_path):
    p = tmp_path / "old_syntax.xlsx"
    survey, choices, settings = _sheets()
    with pd.ExcelWriter(p) as w:
        survey.to_excel(w, sheet_name="survey", index=False)
        choices.to_excel(w, sheet_name="choices", index=False)
        settings.to_excel(w, sheet_name="settings", index=False)
    return p


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "form"
    d.mkdir()
    survey, choices, settings = _sheets()
    survey.to_csv(d / "survey.csv", index=False)
    choices.rename(columns={"list name": "list_name"}).to_csv(d / "choices.csv", index=False)
    settings.to_csv(d / "settings.csv", index=False)
    return d


def _export(tmp_path, sep="/"):
    rows = []
    for i in range(6):
        g = f"hh{sep}"
        rows.append({
            "start": f"2024-05-0{i + 1}T10:00:00.000+03:00", "end": f"2024-05-0{i + 1}T10:20:00.000+03:00",
            "imei": f"35693803564380{i}", g + "Name": f"Person {i}", g + "has_water": ["yes", "no"][i % 2],
            g + "sources": "well river" if i % 3 == 0 else "well", f"{g}sources{sep}well": "1",
            f"{g}sources{sep}river": "1" if i % 3 == 0 else "0", g + "crop": "other" if i == 2 else "maize",
            g + "crop_other": "sorghum" if i == 2 else "", g + "n_people": str(3 + i) if i % 2 == 0 else "",
            g + "area": "33.333" if i == 0 else "1.5", g + "key": f"a1b2c3d4-0000-4000-8000-00000000000{i}",
            g + "loc": "33.5 -7.6 10 5", g + "odd": "x",
            "_id": str(100 + i), "_uuid": f"u-{i}", "_submission_time": f"2024-05-0{i + 1}T07:30:00",
            "_validation_status": "", "_notes": "", "_status": "submitted_via_web", "_submitted_by": "enum1",
            "__version__": "v1", "_tags": "", "_index": str(i + 1)})
    p = tmp_path / f"export{'_dot' if sep == '.' else ''}.csv"
    pd.DataFrame(rows).to_csv(p, sep=";", index=False)
    return p


def test_old_syntax_any_languages_or_other(workbook):
    form = load_xlsform(workbook)
    assert form.languages == ["English (en)", "Arabic (ar)"]
    cb = form_codebook(form)
    types = dict(zip(cb["variable"], cb["type"]))
    assert types["has_water"] == "select_one" and types["sources"] == "select_multiple"
    assert types["crop_other"] == "text" and "other" in set(form.choice_list("crop")["name"])
    assert types["imei"] == "imei" and types["_loc_latitude"] == "geopoint_part"
    assert cb.set_index("variable").at["n_people", "relevant"] == "(${has_water} = 'yes')"


def test_workbook_and_folder_forms_clean_the_same(workbook, folder, tmp_path):
    export = _export(tmp_path)
    a = clean_form_data([export], workbook)
    b = clean_form_data([export], folder)
    cols = [c for c in a.data.columns if c not in ("_source_file", "_source_row")]
    pd.testing.assert_frame_equal(a.data[cols], b.data[cols])


def test_generic_rules_on_a_form_without_likert_grids(workbook, tmp_path):
    r = clean_form_data([_export(tmp_path), ], workbook)
    d = r.data
    assert len(d) == 6 and d["analysed"].all()
    assert d.loc[0, "area"] == pytest.approx(33.333)  # a decimal keeps its decimals
    assert d["key"].tolist()[0] == "a1b2c3d4-0000-4000-8000-000000000000"  # a uuid() calculate stays text
    assert r.manifest["calculates_kept_as_text"] == ["key"]
    assert d.loc[2, "crop"] == "other" and d.loc[2, "crop_other"] == "sorghum"
    assert d["sources/river"].tolist() == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert pd.isna(d.loc[1, "n_people"])
    # personal data (written by reading the form): the head's name, the device, the location, the enumerator
    for c in ("Name", "imei", "loc", "_loc_latitude", "_loc_longitude", "_submitted_by"):
        assert c not in d.columns
    assert any("relevance expression" in w for w in r.warnings)  # jr:choice-name: not checked, no crash
    assert not (r.validation["rule"] == "unknown_column").any()


def test_group_separator_dot(workbook, tmp_path):
    a = clean_form_data([_export(tmp_path)], workbook)
    b = clean_form_data([_export(tmp_path, sep=".")], workbook)
    cols = [c for c in a.data.columns if c not in ("_source_file", "_source_row")]
    pd.testing.assert_frame_equal(a.data[cols], b.data[cols])


def test_clean_form_writes_outputs_and_private_link_table(workbook, tmp_path):
    out = tmp_path / "out"
    clean_form([_export(tmp_path)], workbook, out, private_dir=tmp_path / "private")
    assert (out / "survey.parquet").exists() and (tmp_path / "private" / "link_table.csv").exists()
    for f in out.iterdir():
        if f.suffix in (".csv", ".json"):
            text = f.read_text(encoding="utf-8")
            assert "Person 1" not in text and "356938035643801" not in text, f.name


def test_not_a_form(tmp_path):
    p = tmp_path / "x.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(p, sheet_name="data", index=False)
    with pytest.raises(ConfigError, match="no 'survey' sheet"):
        load_xlsform(p)
