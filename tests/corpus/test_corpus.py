"""Public-material corpus (issue 14): every export setting of the same submissions, personal data.

Each fixture folder holds a ``SOURCE.md``, the form (``form/``), the
exports (``exports/``) and ``personal_columns.txt`` (written by reading the
form, not by running the detector). For each group of exports of the same
submissions the analysis files must be identical (question columns, values,
row count); no personal column or value may appear in any output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cleaning._clean import clean_form

CORPUS = Path(__file__).parent
FIXTURES = sorted(p for p in CORPUS.iterdir() if (p / "SOURCE.md").exists())
WATER = CORPUS / "formpack_water_point"
SETTINGS = sorted(p.name for p in (WATER / "exports").iterdir() if p.name != "xml_values.csv")


def _personal(fixture: Path) -> list[str]:
    lines = (fixture / "personal_columns.txt").read_text(encoding="utf-8").splitlines()
    return [x.strip() for x in lines if x.strip() and not x.startswith("#")]


@pytest.fixture(scope="module")
def water(tmp_path_factory):
    out = {}
    for export in sorted((WATER / "exports").iterdir()):
        d = tmp_path_factory.mktemp(export.stem)
        r = clean_form([export], WATER / "form", d / "processed", private_dir=d / "private")
        out[export.name] = (r, d / "processed")
    return out


def _questions(r) -> pd.DataFrame:
    # <repeat>_count is known only where the export holds the repeat (XLSX sheets), not in a CSV export
    d = r.data.drop(columns=["_source_file", "_source_row", "members_count"])
    return d.sort_values("resp_id").reset_index(drop=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(a) == len(b)
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            assert np.allclose(x.to_numpy(dtype=float), y.to_numpy(dtype=float), equal_nan=True), c
        else:
            assert x.astype(object).where(x.notna(), None).tolist() == \
                y.astype(object).where(y.notna(), None).tolist(), c


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_export_setting_gives_the_same_analysis_file(water, setting):
    ref, _ = water["xml_values.csv"]
    got, _ = water[setting]
    assert len(got.data) == 5
    _same(_questions(ref), _questions(got))
    assert got.data.loc[got.data["resp_id"] == ref.data["resp_id"][0], "share_paid"].item() == pytest.approx(33.333)


def test_csv_export_has_no_repeat_count(water):
    r, _ = water["xml_values.csv"]
    assert r.data["members_count"].isna().all()


@pytest.mark.parametrize("setting", ["xml_values.xlsx", "typed.xlsx"])
def test_repeat_sheet_of_the_xlsx_exports(water, setting):
    r, out = water[setting]
    m = r.repeats["members"]
    assert len(m) == 7 and m["age"].notna().all() and set(m["sex"]) == {"f", "m"}
    assert r.data["members_count"].tolist() == [1.0, 0.0, 3.0, 1.0, 2.0]
    ref = water["xml_values.xlsx"][0].repeats["members"]
    pd.testing.assert_frame_equal(m, ref)
    assert (out / "repeats" / "members.parquet").exists()


def test_typed_xlsx_offset_inferred_and_reported(water):
    r, _ = water["typed.xlsx"]
    assert r.manifest["time_zone"] == {"offset": "+01:00", "source": "inferred"}
    ref, _ = water["xml_values.csv"]
    assert (r.data["end"].to_numpy() == ref.data["end"].to_numpy()).all()


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_no_personal_column_or_value_in_any_output(water, fixture):
    cols = _personal(fixture)
    raw = pd.read_csv(fixture / "exports" / "xml_values.csv", sep=";", dtype=str, keep_default_na=False)
    values = {v for c in cols if c in raw.columns for v in raw[c] if len(v) >= 6}
    assert values  # the fixture has personal values to look for
    for _setting, (r, out) in water.items():
        assert not set(cols) & set(r.data.columns)
        for t in r.repeats.values():
            assert not set(cols) & set(t.columns)
        for f in out.rglob("*"):
            if not f.is_file():
                continue
            if f.suffix == ".parquet":
                frame = pd.read_parquet(f)
                text = frame.astype(str).to_csv() + " ".join(map(str, frame.columns))
            else:
                text = f.read_text(encoding="utf-8")
            for v in values:
                assert v not in text, (f.name, v)
            if f.suffix == ".parquet":
                assert not set(cols) & set(frame.columns), f.name
