"""Reading XLSForm workbooks: old .xls files (python-calamine), the older syntax, pyxform's type aliases."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from analysis.errors import ConfigError
from analysis.xlsform._workbook import _base_type, form_codebook, load_xlsform

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SPECIFY_OTHER = CORPUS / "pyxform_specify_other" / "form.xls"  # pyxform's own test form (see its SOURCE)
OWN_FORM = CORPUS / "own_form" / "form.xlsx"


@pytest.fixture
def no_xlrd(monkeypatch):
    """xlrd is not a dependency of si-survey: reading must not need it."""
    monkeypatch.setitem(sys.modules, "xlrd", None)


def test_an_xls_form_is_read_without_xlrd(no_xlrd):
    form = load_xlsform(SPECIFY_OTHER)
    assert form.languages == ["English"]  # the older header label:English
    assert form.survey[["name", "base_type", "list_name", "or_other"]].to_dict("records") == [
        {"name": "sex", "base_type": "select_one", "list_name": "sexes", "or_other": True}]
    assert list(form.choice_list("sexes")["name"]) == ["male", "female", "other"]
    assert list(form.choice_list("sexes")["label_fr"][:2]) == ["Male", "Female"]


def test_or_specify_other_gives_the_other_text_column(no_xlrd):
    cb = form_codebook(load_xlsform(SPECIFY_OTHER))
    assert list(cb["variable"][:2]) == ["sex", "sex_other"]
    assert list(cb["type"][:2]) == ["select_one", "text"]


@pytest.mark.parametrize("type_, expected", [
    ("select one from sexes or specify other", ("select_one", "sexes", True)),
    ("select_one sexes or_other", ("select_one", "sexes", True)),
    ("select_one sexes or other", ("select_one", "sexes", True)),
    ("select all that apply from list", ("select_multiple", "list", False)),
    ("select_multiple  happy_sad", ("select_multiple", "happy_sad", False)),
    ("string", ("text", "", False)),
    ("int", ("integer", "", False)),
    ("trigger", ("acknowledge", "", False)),
    ("phone number", ("text", "", False)),
    ("dateTime", ("dateTime", "", False)),
    ("date time", ("dateTime", "", False)),
    ("add dateTime prompt", ("dateTime", "", False)),
    ("get device id", ("deviceid", "", False)),
    ("start time", ("start", "", False)),
])
def test_old_type_names(type_, expected):
    assert _base_type(type_) == expected


def test_a_workbook_is_read_by_its_content_not_its_extension(tmp_path, no_xlrd):
    xlsx_named_xls = tmp_path / "form.xls"
    shutil.copy(OWN_FORM, xlsx_named_xls)
    xls_named_xlsx = tmp_path / "other.xlsx"
    shutil.copy(SPECIFY_OTHER, xls_named_xlsx)
    assert len(load_xlsform(xlsx_named_xls).survey) == len(load_xlsform(OWN_FORM).survey)
    assert list(load_xlsform(xls_named_xlsx).survey["name"]) == ["sex"]


def test_a_broken_xls_is_a_config_error(tmp_path):
    bad = tmp_path / "form.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(ConfigError, match="cannot be read as an XLSForm workbook"):
        load_xlsform(bad)


def test_single_colon_label_headers(tmp_path):
    (tmp_path / "survey.csv").write_text("type,name,label:English,label:Français,jr:constraintMsg\n"
                                         "integer,n,People,Personnes,\n", encoding="utf-8")
    form = load_xlsform(tmp_path)
    assert form.languages == ["English", "Français"]
    assert "jr:constraintmsg" in form.survey.columns  # not a translation
    cb = form_codebook(form)
    assert cb.loc[0, "label_fr"] == "People" and cb.loc[0, "label_ar"] == "Personnes"
