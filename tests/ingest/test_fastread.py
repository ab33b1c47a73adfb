"""The vectorised reading steps give exactly the cells of their cell-by-cell definitions."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analysis.errors import InputError
from analysis.ingest import _fastread
from analysis.ingest._readers import MAX_FIELD_CHARS, _cell_text, read_export


def _sheet_frame_cell_by_cell(header, rows) -> pd.DataFrame:
    """The definition: ``_cell_text`` of every cell, rows cut or padded to the header's width."""
    header = list(header)
    while header and (header[-1] is None or header[-1] == ""):
        header = header[:-1]
    ncols = len(header)
    body = [[_cell_text(v) for v in r[:ncols]] + [""] * max(0, ncols - len(r)) for r in rows]
    head = [_cell_text(h).strip() for h in header]
    df = pd.DataFrame(body, columns=range(ncols), dtype=object) if body else pd.DataFrame(columns=range(ncols))
    df.columns = head
    return df.astype(str) if len(df) else df.astype(object)


_CELLS = [None, "", "x", " a ", "٣", 0, 1, -5, 10**20, True, False, 0.0, -0.0, 1.0, 2.5, 65535.0, 65536.0,
          -3.0, 1e15, 1e16, 999999999999999.0, 1 / 3, 123456789.125, 1e-7, float("nan"), float("inf"),
          -float("inf"), np.float64(3.0), np.int64(4), dt.datetime(2024, 1, 2, 3, 4, 5), dt.date(2024, 1, 2),
          dt.time(1, 2)]


def test_sheet_frame_matches_cell_by_cell():
    rng = random.Random(0)
    for trial in range(200):
        ncols = rng.randint(0, 6)
        header = [f" h{i} " for i in range(ncols)] + rng.choice([[], [None], ["", None]])
        if trial % 3 == 0:  # text and numbers only (the python-calamine case), same widths
            rows = [[rng.choice(_CELLS[:16]) for _ in range(ncols)] for _ in range(rng.randint(0, 30))]
        else:  # any cell, ragged rows, tuples as openpyxl gives them
            rows = [tuple(rng.choice(_CELLS) for _ in range(rng.randint(0, 8))) for _ in range(rng.randint(0, 30))]
        got = _fastread.sheet_frame(header, rows, _cell_text)
        want = _sheet_frame_cell_by_cell(header, rows)
        pd.testing.assert_frame_equal(got, want)
        assert list(got.dtypes.astype(str)) == list(want.dtypes.astype(str))


def _parse_one_block(data: bytes, names, delimiter):
    return _fastread._parse(data, names, delimiter, _fastread.LARGE_BLOCK)


def test_parse_csv_same_cells_in_small_blocks(monkeypatch):
    monkeypatch.setattr(_fastread, "SMALL_BLOCK", 1 << 20)
    rng = random.Random(1)
    lines = ["a;b;c"]
    for i in range(80_000):  # about 3 MB: several blocks
        b = rng.choice(["", "x", '"q;uo""te"', '"multi\nline"', "é" * rng.randint(0, 40)])
        lines.append(f"{i};{b};{rng.random()}")
    data = ("\r\n".join(lines) + "\n").encode("utf-8")
    assert _fastread.block_size(len(data)) < len(data) / 2
    got = _fastread.parse_csv(data, ["a", "b", "c"], ";")
    assert got.equals(_parse_one_block(data, ["a", "b", "c"], ";"))
    assert got.num_rows == 80_000


def test_parse_csv_row_longer_than_a_block(monkeypatch):
    monkeypatch.setattr(_fastread, "SMALL_BLOCK", 1 << 20)
    big = ";".join("y" * 60_000 for _ in range(40))  # a row of 2.4 MB, cells under the limit
    rows = [f"{i};{'z' * 100}" for i in range(30_000)]
    text = "a;" + ";".join(f"c{j}" for j in range(39)) + "\n"
    text += "\n".join(r + ";" * 38 for r in rows[:15_000]) + "\n" + big + "\n"
    text += "\n".join(r + ";" * 38 for r in rows[15_000:]) + "\n"
    data = text.encode()
    names = ["a"] + [f"c{j}" for j in range(39)]
    assert _fastread.block_size(len(data)) < len(big)
    got = _fastread.parse_csv(data, names, ";")
    assert got.num_rows == 30_001
    assert got.column("c0").to_pylist()[15_000] == "y" * 60_000


def test_oversized_cell_over_chunks():
    col = pa.chunked_array([["a", "b"], ["é" * 5, "c"], []], type=pa.large_string())
    t = pa.table({"x": pa.chunked_array([["1", "2"], ["3", "4"]], type=pa.large_string()), "y": col})
    assert _fastread.oversized_cell(t, 5) is None  # 10 bytes, 5 characters: not too long
    assert _fastread.oversized_cell(t, 4) == (1, 5, 2)


def test_read_export_reports_an_oversized_cell(tmp_path):
    p = tmp_path / "export.csv"
    long = "w" * (MAX_FIELD_CHARS + 1)
    p.write_text(f"consent;org_name\n1;a\n1;{long}\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"a cell of {MAX_FIELD_CHARS + 1} characters") as info:
        read_export(p)
    assert info.value.row == 3 and info.value.column == "org_name"


def test_only_among_strips_spaces():
    assert _fastread.only_among(pd.Series([" 1", "2 ", ""], dtype="str"), {"1", "2"})
    assert not _fastread.only_among(pd.Series(["1", "Oui"], dtype="str"), {"1"})


def test_zero_one_matches_distinct_values():
    cases = [["1", "0", ""], ["", ""], ["1", "10"], ["1", " 1"], ["0", "oui"], ["٠"], [], ["1", None]]
    for values in cases:
        s = pd.Series(values, dtype="str")
        want = set(pd.unique(s)) <= {"", "0", "1"}
        assert _fastread.zero_one(s) == want, values
        assert _fastread.zero_one(s.iloc[1:]) == (set(pd.unique(s.iloc[1:])) <= {"", "0", "1"}), values
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["1", ""], ["0"], ["x"]])))
    assert not _fastread.zero_one(chunked) and _fastread.zero_one(chunked.iloc[:3])
    assert not _fastread.zero_one(pd.Series(["1", "0"], dtype=object))  # not Arrow: the caller checks
