"""Excel and CSV writers (openpyxl), safe against formula injection.

Excel: one sheet per table, the number and title on the first rows, spanners as
merged cells, numbers stored as numbers with a number format where possible,
notes below. CSV: the table as shown (text), one header row.

Every text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with ``'`` so that a spreadsheet never runs it as a formula.

Examples
--------
>>> import pandas as pd, tempfile, pathlib, openpyxl
>>> from analysis.tables.builder import Table
>>> p = write_xlsx(Table(pd.DataFrame({"a": ["=1+1"], "n": [3]})), pathlib.Path(tempfile.mkdtemp()) / "t.xlsx")
>>> ws = openpyxl.load_workbook(p).active
>>> [c.value for c in ws[2]]
["'=1+1", 3]
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from analysis.tables._formula import neutralize_formula
from analysis.tables._io import FIXED_TIMESTAMP, stable_zip
from analysis.tables._rendered import RenderedTable, as_rendered, as_rendered_list
from analysis.utils.atomic import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from analysis.tables.builder import Table
from analysis.tables.render_markdown import SPANNER_JOIN

__all__ = ["write_xlsx", "write_csv", "sheet_name_for"]

_THIN = Side(style="thin", color="000000")
_MEDIUM = Side(style="medium", color="000000")
_HOW = {"l": "left", "c": "center", "r": "right"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name_for(wanted: str | None, index: int, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (31 characters at most); `taken` is updated.

    Examples
    --------
    >>> taken = set()
    >>> sheet_name_for("Tableau 3", 0, taken), sheet_name_for("Tableau 3", 1, taken)
    ('Tableau 3', 'Tableau 3 (2)')
    >>> sheet_name_for("a/b: c?", 2, taken)
    'a b  c'
    """
    base = wanted or f"Table {index + 1}"
    base = _BAD_SHEET_CHARS.sub(" ", base).strip().strip("'")[:31] or f"Table {index + 1}"
    name, k = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({k})"
        name = base[: 31 - len(suffix)] + suffix
        k += 1
    taken.add(name)
    return name


def _put(ws, row: int, col: int, value: object, **style):
    cell = ws.cell(row=row, column=col, value=neutralize_formula(value))
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


def _fill_sheet(ws, r: RenderedTable) -> None:
    n = r.n_columns
    row = 1
    if r.number_text:
        _put(ws, row, 1, r.number_text, font=Font(bold=True))
        row += 1
    if r.title:
        _put(ws, row, 1, r.title, font=Font(italic=True))
        row += 1
    if r.subtitle:
        _put(ws, row, 1, r.subtitle)
        row += 1
    if row > 1:
        row += 1  # blank line before the table
    first_table_row = row
    widths = [len(x) for x in r.column_labels]
    for spans in r.spanner_rows:
        for span in spans:
            _put(ws, row, span.start + 1, span.label, alignment=Alignment(horizontal="center"))
            if span.width > 1:
                ws.merge_cells(start_row=row, start_column=span.start + 1, end_row=row, end_column=span.stop)
            for j in range(span.start, span.stop):
                ws.cell(row=row, column=j + 1).border = Border(bottom=_THIN)
        row += 1
    for j, (lab, al) in enumerate(zip(r.column_labels, r.alignments)):
        _put(ws, row, j + 1, lab, alignment=Alignment(horizontal=_HOW[al]),
             border=Border(bottom=_THIN))
    header_row = row
    row += 1
    for section in r.sections:
        if section.label:
            _put(ws, row, 1, section.label, font=Font(italic=True))
            row += 1
        elif section.label == "" and row > header_row + 1:
            for j in range(1, n + 1):
                ws.cell(row=row, column=j).border = Border(top=_THIN)
        for cells in section.rows:
            for j, c in enumerate(cells):
                value = c.value if c.excel_format is not None else c.text
                cell = _put(ws, row, j + 1, value)
                if c.excel_format is not None:
                    cell.number_format = c.excel_format
                cell.alignment = Alignment(horizontal=_HOW[r.alignments[j]],
                                           indent=1 if j == 0 and section.label and r.has_stub else 0)
                widths[j] = max(widths[j], len(c.text))
            row += 1
    last_table_row = row - 1
    for j in range(1, n + 1):
        top = ws.cell(row=first_table_row, column=j)
        top.border = Border(top=_MEDIUM, bottom=top.border.bottom)
        bottom = ws.cell(row=last_table_row, column=j)
        bottom.border = Border(top=bottom.border.top, bottom=_MEDIUM)
    row += 1
    for note in r.notes:
        _put(ws, row, 1, note.plain(), font=Font(size=9))
        row += 1
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, w + 2))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)


def write_xlsx(
    tables: Table | RenderedTable | Iterable[Table | RenderedTable],
    path: str | os.PathLike[str],
    *,
    sheet_names: Sequence[str] | None = None,
) -> Path:
    """Write tables to an Excel workbook, one sheet per table, atomically and byte-stably.

    Parameters
    ----------
    tables : Table or iterable of Table
    path : path-like
    sheet_names : sequence of str, optional
        Sheet names; default ``"Tableau <number>"`` or the title.

    Returns
    -------
    Path

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib, openpyxl
    >>> from analysis.tables.builder import Table
    >>> t = Table(pd.DataFrame({"p": [0.25]})).fmt_percent("p")
    >>> c = openpyxl.load_workbook(write_xlsx(t, pathlib.Path(tempfile.mkdtemp()) / "t.xlsx")).active["A2"]
    >>> c.value, c.number_format
    (0.25, '0.0%')
    """
    rendered = as_rendered_list(tables)
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for k, r in enumerate(rendered):
        if sheet_names is not None and k < len(sheet_names):
            wanted = sheet_names[k]
        else:
            wanted = r.number_text or r.title
        name = sheet_name_for(wanted, k, taken)
        _fill_sheet(wb.create_sheet(name), r)
    wb.properties.creator = "si-survey"
    wb.properties.lastModifiedBy = "si-survey"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, stable_zip(buf.getvalue()))


def write_csv(
    table: Table | RenderedTable, path: str | os.PathLike[str], *, sep: str | None = None
) -> Path:
    """Write the table as shown (text) to CSV, atomically, neutralising formulas.

    Spanner labels are joined to the column labels; row-group labels go to a first
    column. The file is UTF-8 with a byte-order mark (so that Excel reads accents).

    Parameters
    ----------
    table : Table or RenderedTable
    path : path-like
    sep : str, optional
        Field separator; default ``";"`` in French (the comma is the decimal mark), ``","`` in English.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from analysis.tables.builder import Table
    >>> p = write_csv(Table(pd.DataFrame({"a": ["@SUM(1)"]})), pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_text(encoding="utf-8-sig").splitlines()
    ['a', "'@SUM(1)"]
    """
    r = as_rendered(table)
    if sep is None:
        sep = ";" if r.locale.code == "fr" else ","
    labels = list(r.column_labels)
    for spans in reversed(r.spanner_rows):
        for span in spans:
            for j in range(span.start, span.stop):
                labels[j] = span.label + SPANNER_JOIN + labels[j]
    grouped = any(s.label for s in r.sections)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    writer.writerow([neutralize_formula(x) for x in ([""] if grouped else []) + labels])
    for s in r.sections:
        for row in s.rows:
            texts = ([s.label or ""] if grouped else []) + [c.text for c in row]
            writer.writerow([neutralize_formula(x) for x in texts])
    return atomic_write_text(path, buf.getvalue(), encoding="utf-8-sig")
