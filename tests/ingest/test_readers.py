"""Tests of the raw export readers (analysis.ingest._readers)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.ingest._readers import header_map, read_export, read_exports, sniff_format
from analysis.study._instrument import codebook, load_questionnaire

Q = load_questionnaire()
CB = codebook(Q)
HMAP = header_map(CB, Q)
COLUMNS = ["_uuid", "org_name", "province", "comments", "n_members", "resp_name"]

_ALPHABET = st.characters(
    codec="utf-8", categories=("L", "N", "P", "Zs", "S"), exclude_characters="\x00\ufeff\u2028\u2029\x85"
) | st.sampled_from(list(';,"\'\n éàçâ«»٫ـ'))
_CELL = st.text(alphabet=_ALPHABET, max_size=12)


def _write(df: pd.DataFrame, sep: str, bom: bool, crlf: bool, quote_all: bool) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                   lineterminator="\r\n" if crlf else "\n")
    w.writerow(list(df.columns))
    w.writerows(df.itertuples(index=False, name=None))
    data = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" if bom else b"") + data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_CELL, _CELL, _CELL, _CELL, _CELL), min_size=1, max_size=8),
       sep=st.sampled_from([";", ","]), bom=st.booleans(), crlf=st.booleans(), quote_all=st.booleans())
def test_round_trip_kobo_csv(tmp_path, rows, sep, bom, crlf, quote_all):
    df = pd.DataFrame([(f"uuid-{i}",) + r for i, r in enumerate(rows)], columns=COLUMNS)
    p = tmp_path / "export.csv"
    p.write_bytes(_write(df, sep, bom, crlf, quote_all))
    t = read_export(p, hmap=HMAP)
    assert t.delimiter == sep
    got = t.data[COLUMNS]
    pd.testing.assert_frame_equal(got.astype(object).reset_index(drop=True), df.astype(object),
                                  check_dtype=False)
    assert t.data["_source_row"].tolist() == list(range(2, len(df) + 2))
    assert (t.data["_source_file"] == "export.csv").all()


def test_group_paths_spss_names_and_labels_in_headers(tmp_path):
    df = pd.DataFrame({"sec_a/org_name": ["A"], "sec_b/grp_si_nov/si_nov_01": ["4"], "kobo_uuid": ["u1"],
                       "target_groups_women": ["1"], "Forme juridique de l'organisation": ["cooperative"],
                       "الفئات المستهدفة (يمكن اختيار أكثر من جواب)": ["women"], "consent": ["1"]})
    p = tmp_path / "h.csv"
    df.to_csv(p, sep=";", index=False)
    t = read_export(p, hmap=HMAP)
    assert set(t.data.columns) >= {"org_name", "si_nov_01", "_uuid", "target_groups/women", "legal_form",
                                   "target_groups", "consent"}
    assert t.unknown_columns == []
    assert any("renamed" in n for n in t.notes)


def test_labels_mapped_back_to_codes_french_and_arabic(tmp_path):
    ch = Q.choice_list("legal_form")
    fr = dict(zip(ch["name"], ch["label_fr"]))
    ar = dict(zip(ch["name"], ch["label_ar"]))
    codes = ["association", "cooperative", "union_coop", "association"]
    df = pd.DataFrame({"_uuid": ["a", "b", "c", "d"], "legal_form": [fr[codes[0]], ar[codes[1]], fr[codes[2]],
                                                                    "ASSOCIATION"],
                       "consent": ["Oui", "نعم", "Non", "Oui"], "region": ["R01", "R02", "R03", "Casa"]})
    p = tmp_path / "labels.csv"
    df.to_csv(p, sep=";", index=False)
    t = read_export(p, hmap=HMAP)
    assert t.data["legal_form"].tolist() == codes
    assert t.data["consent"].tolist() == ["1", "1", "0", "1"]
    assert t.data["region"].tolist() == ["R01", "R02", "R03", "Casa"]  # a code column is left to the cleaning
    assert t.label_columns == {"legal_form": 4, "consent": 4}


def test_a_code_column_with_one_label_is_left_alone(tmp_path):
    df = pd.DataFrame({"_uuid": list("abcd"), "consent": ["1", "1", "0", "Oui"]})
    p = tmp_path / "x.csv"
    df.to_csv(p, sep=";", index=False)
    assert read_export(p, hmap=HMAP).data["consent"].tolist() == ["1", "1", "0", "Oui"]


def test_xlsx_sav_dta_read_as_text(tmp_path):
    import pyreadstat

    df = pd.DataFrame({"_uuid": ["u1", "u2"], "n_members": [12.0, np.nan], "budget_mad": [2500.5, 0.0],
                       "legal_form": ["association", "cooperative"]})
    df.to_excel(tmp_path / "x.xlsx", index=False)
    out = df.rename(columns={"_uuid": "kobo_uuid"})
    pyreadstat.write_sav(out, str(tmp_path / "x.sav"))
    pyreadstat.write_dta(out, str(tmp_path / "x.dta"))
    for name in ("x.xlsx", "x.sav", "x.dta"):
        t = read_export(tmp_path / name, hmap=HMAP)
        d = t.data
        assert d["_uuid"].tolist() == ["u1", "u2"], name
        assert d["n_members"].tolist() == ["12", ""], name
        assert d["budget_mad"].tolist() == ["2500.5", "0"], name
        assert d["legal_form"].tolist() == ["association", "cooperative"], name


def test_sniff_format_by_content():
    assert sniff_format("x", b"PK\x03\x04rest") == "xlsx"
    assert sniff_format("x", b"$FL2@(#) SPSS") == "sav"
    assert sniff_format("x", b"<stata_dta><header>") == "dta"
    assert sniff_format("x", b"\xd0\xcf\x11\xe0") == "xls"
    assert sniff_format("x", b"a;b\n1;2\n") == "csv"
    assert sniff_format("x", b"a\x00b\x00") == "binary"


@pytest.mark.parametrize("encoding", ["cp1256", "cp1252"])
def test_legacy_encodings_recovered(tmp_path, encoding):
    text = "مرحبا بكم" if encoding == "cp1256" else "Très bien, à bientôt"
    df = pd.DataFrame({"_uuid": ["u1", "u2"], "comments": [text, text], "province": ["x", "y"]})
    p = tmp_path / "legacy.csv"
    p.write_bytes(df.to_csv(sep=";", index=False).encode(encoding))
    t = read_export(p, hmap=HMAP)
    assert t.data["comments"].tolist() == [text, text]
    assert t.encoding == encoding
    assert any(encoding[-4:] in n for n in t.notes)


def test_errors_name_file_row_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text('"_uuid";"org_name";"comments"\n"a";"b";"c"\n"d";"e"\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_export(p, hmap=HMAP)
    assert e.value.row == 3 and "bad.csv" in str(e.value)
    p.write_text('"_uuid";"org_name";"_uuid"\n"a";"b";"c"\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_export(p, hmap=HMAP)
    assert e.value.column == "_uuid" and e.value.row == 1
    with pytest.raises(InputError, match="does not exist"):
        read_export(tmp_path / "nope.csv", hmap=HMAP)


def test_read_exports_union_of_columns(tmp_path):
    a = pd.DataFrame({"_uuid": ["u1"], "org_name": ["A"], "extra_col": ["x"]})
    b = pd.DataFrame({"_uuid": ["u2"], "province": ["Rabat"], "consent": ["1"]})
    a.to_csv(tmp_path / "a.csv", sep=";", index=False)
    b.to_csv(tmp_path / "b.csv", sep=",", index=False)
    df, tables = read_exports([tmp_path / "a.csv", tmp_path / "b.csv"], CB, Q)
    assert df["_uuid"].tolist() == ["u1", "u2"]
    assert df["province"].tolist() == ["", "Rabat"]
    assert df["extra_col"].tolist() == ["x", ""]
    assert tables[0].unknown_columns == ["extra_col"]
    assert list(df.columns)[-2:] == ["_source_file", "_source_row"]
