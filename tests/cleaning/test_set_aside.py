"""One bad column never aborts a file (issue 14, point 5): it is set aside, reported, and the rest is read."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from analysis.cleaning._clean import clean_data
from analysis.errors import InputError

FILES = Path(__file__).parents[1] / "malformed" / "files"


def _base() -> pd.DataFrame:
    return pd.read_csv(FILES / "bom_crlf.csv", sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, sep=";", index=False, quoting=csv.QUOTE_ALL, encoding="utf-8")
    return path


def test_column_set_aside_only_in_the_file_where_it_is_wrong(tmp_path):
    good = _base()
    bad = _base()
    bad["_uuid"] = bad["_uuid"].str[:-4] + "beef"
    bad["n_members"] = "beaucoup"
    bad["legal_form"] = "zzz"
    r = clean_data([_write(good, tmp_path / "a.csv"), _write(bad, tmp_path / "b.csv")])
    v = r.validation
    aside = v[v["rule"] == "column_set_aside"]
    assert sorted(zip(aside["file"], aside["column"])) == [("b.csv", "legal_form"), ("b.csv", "n_members")]
    # every wrong cell is a row of validation.csv with the value found
    cells = v[(v["rule"] == "not_a_number") & (v["column"] == "n_members")]
    assert len(cells) == len(bad) and set(cells["value"]) == {"beaucoup"} and set(cells["file"]) == {"b.csv"}
    d = r.data
    in_b = d["_source_file"] == "b.csv"
    assert d.loc[in_b, "n_members"].isna().all() and d.loc[in_b, "legal_form"].isna().all()
    assert d.loc[~in_b, "n_members"].notna().any()
    assert d.loc[~in_b, "legal_form"].notna().all()
    # the rest of the wrong file is read
    assert d.loc[in_b, "si_nov_01"].notna().any()
    assert r.manifest["rows"]["received"] == 2 * len(good)


def test_a_file_of_another_form_stops_with_one_sentence():
    with pytest.raises(InputError) as info:
        clean_data([FILES / "another_form_same_headers.csv"])
    text = str(info.value)
    assert "does not look like an export of this form" in text
    assert "\n" not in text
