"""Word writer (python-docx): real Word tables in APA style.

Layout: ``Tableau 3`` in bold, then the title in italics, above the table;
horizontal rules only (top, under the header, bottom, and under each spanner,
whose cells are merged); no vertical lines; row-group labels in italics on a
merged row; notes below the table in a smaller font, the ``Note.`` lead in italics.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> from analysis.tables.builder import Table
>>> p = write_docx(Table(pd.DataFrame({"a": [1.5]})).tab_header("T", number=1),
...                pathlib.Path(tempfile.mkdtemp()) / "t.docx")
>>> import docx
>>> [t.cell(1, 0).text for t in docx.Document(p).tables]
['1,50']
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from copy import deepcopy
from pathlib import Path
from typing import TYPE_CHECKING

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.simpletypes import ST_TwipsMeasure
from docx.shared import Cm, Length, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from analysis.tables._io import FIXED_TIMESTAMP, stable_zip
from analysis.tables._rendered import RenderedTable, as_rendered, as_rendered_list
from analysis.utils.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from analysis.tables.builder import Table

__all__ = ["write_docx", "add_table_to_document", "new_document"]

_RULE_THICK = "8"  # eighths of a point: 1 pt
_RULE_THIN = "4"  # 0.5 pt
_W_T = qn("w:t")
_W_P = qn("w:p")
_W_W = qn("w:w")
_W_TCW = qn("w:tcW")
_XML_SPACE = qn("xml:space")


def _border_el(tag: str, val: str, size: str = _RULE_THIN) -> OxmlElement:
    el = OxmlElement(f"w:{tag}")
    el.set(qn("w:val"), val)
    if val != "nil":
        el.set(qn("w:sz"), size)
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
    return el


def _set_table_borders(tbl) -> None:
    tblPr = tbl._tbl.tblPr
    for old in tblPr.findall(qn("w:tblBorders")):
        tblPr.remove(old)
    borders = OxmlElement("w:tblBorders")
    borders.append(_border_el("top", "single", _RULE_THICK))
    borders.append(_border_el("left", "nil"))
    borders.append(_border_el("bottom", "single", _RULE_THICK))
    borders.append(_border_el("right", "nil"))
    borders.append(_border_el("insideH", "nil"))
    borders.append(_border_el("insideV", "nil"))
    tblPr.append(borders)


def _cell_rules(cell, *, top: bool = False, bottom: bool = False) -> None:
    """Thin horizontal rules above and/or below a cell (never vertical ones)."""
    tcPr = cell._tc.get_or_add_tcPr()
    for old in tcPr.findall(qn("w:tcBorders")):
        tcPr.remove(old)
    borders = OxmlElement("w:tcBorders")
    if top:
        borders.append(_border_el("top", "single", _RULE_THIN))
    if bottom:
        borders.append(_border_el("bottom", "single", _RULE_THIN))
    # schema order inside tcPr: tcW, gridSpan, ..., tcBorders, ... -> insert after gridSpan/tcW
    anchor = tcPr.find(qn("w:gridSpan"))
    if anchor is None:
        anchor = tcPr.find(qn("w:tcW"))
    if anchor is not None:
        anchor.addnext(borders)
    else:
        tcPr.insert(0, borders)


def _repeat_header_tr(tr) -> None:
    trPr = tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trPr.append(el)


def _fill(cell, text: str, *, size: Pt, align=None, italic: bool = False, indent: Pt | None = None) -> None:
    para = cell.paragraphs[0]
    for extra in cell.paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    for run in list(para.runs):
        run._r.getparent().remove(run._r)
    pf = para.paragraph_format
    pf.space_before = Pt(1)
    pf.space_after = Pt(1)
    pf.line_spacing = 1.0
    if indent is not None:
        pf.left_indent = indent
    if align is not None:
        para.alignment = align
    # size the paragraph mark too, so that empty cells are not taller than the others
    pPr = para._p.get_or_add_pPr()
    for old in pPr.findall(qn("w:rPr")):
        pPr.remove(old)
    mark = OxmlElement("w:rPr")
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), str(int(round(size.pt * 2))))
    mark.append(sz)
    pPr.append(mark)
    if text:
        run = para.add_run(text)
        run.font.size = size
        run.italic = italic or None


class _CellFactory:
    """Rows and cells of one Word table, deep-copied from templates.

    Setting up each cell through python-docx's per-cell API (paragraph format, run
    font, borders: a dozen XPath look-ups each) made a table of a few hundred rows
    take seconds. Each distinct cell format is built once with that same code
    (:func:`_fill`, :func:`_cell_rules`), so the XML is unchanged, and every cell is
    a deep copy of its template with the run of text appended.
    """

    def __init__(self, tbl, size: Pt):
        self.tbl, self.size = tbl, size
        self._cells: dict = {}
        self._runs: dict = {}
        self._rows: dict = {}
        self._twips: dict = {}

    def row(self, header: bool):
        """A new ``w:tr``, repeated at the top of each page if ``header``."""
        template = self._rows.get(header)
        if template is None:
            template = self._rows[header] = OxmlElement("w:tr")
            if header:
                _repeat_header_tr(template)
        return deepcopy(template)

    def cell(self, width: int, span: int, text: str, align, italic: bool, indent, keep: bool,
             rule_above: bool, rule_below: bool):
        """A new ``w:tc`` holding ``text``, as ``_fill`` and ``_cell_rules`` make it."""
        key = (span, align, indent, keep, rule_above, rule_below)
        template = self._cells.get(key)
        if template is None:
            tc = OxmlElement("w:tr").add_tc()
            tc.width = Length(0)
            if span > 1:
                tc.grid_span = span
            cell = _Cell(tc, self.tbl)
            _fill(cell, "", size=self.size, align=align, indent=indent)
            if keep:
                cell.paragraphs[0].paragraph_format.keep_with_next = True
            if rule_above or rule_below:
                _cell_rules(cell, top=rule_above, bottom=rule_below)
            assert tc[0][0].tag == _W_TCW and tc[-1].tag == _W_P  # w:tc/w:tcPr/w:tcW, w:tc/w:p
            template = self._cells[key] = tc
        tc = deepcopy(template)
        twips = self._twips.get(width)
        if twips is None:
            twips = self._twips[width] = ST_TwipsMeasure.convert_to_xml(Length(width))
        tc[0][0].set(_W_W, twips)  # as tc.width = Length(width) sets it
        if text:
            tc[-1].append(self._run(text, italic))
        return tc

    def _run(self, text: str, italic: bool):
        """A ``w:r`` as ``paragraph.add_run(text)`` then the font size and italic make it."""
        template = self._runs.get(italic)
        if template is None:
            run = Paragraph(OxmlElement("w:p"), None).add_run()
            run.font.size = self.size
            run.italic = italic or None
            template = self._runs[italic] = run._r
        r = deepcopy(template)
        if "\t" in text or "\n" in text or "\r" in text:
            r.text = text  # tabs and line breaks: python-docx's own translation
        else:
            t = etree.SubElement(r, _W_T)
            t.text = text
            if len(text.strip()) < len(text):
                t.set(_XML_SPACE, "preserve")
        return r


def _column_widths(r: RenderedTable, font_size: float, available: Length) -> list[Length]:
    """Widths from the longest text of each column; text wraps at word breaks if the table is too wide.

    No column is made narrower than its longest single word (a number, a header word), so
    numbers and short headers never break in the middle; the stub gives way first.
    """
    char = Cm(0.2 * font_size / 10)
    pad = Cm(0.35)
    longest = [len(x) for x in r.column_labels]
    word = [max((len(w) for w in x.split()), default=0) for x in r.column_labels]
    for s in r.sections:
        for row in s.rows:
            for j, c in enumerate(row):
                longest[j] = max(longest[j], len(c.text) + (2 if j == 0 and s.label else 0))
                word[j] = max(word[j], max((len(w) for w in c.text.split()), default=0))
    widths = [int(char * n + pad) for n in longest]
    minimal = [int(char * n + pad) for n in word]
    for spans in r.spanner_rows:
        for span in spans:
            need = int(char * len(span.label) + pad)
            have = sum(widths[span.start:span.stop])
            if need > have:
                for j in range(span.start, span.stop):
                    widths[j] += (need - have) // span.width + 1
    total = sum(widths)
    if total > available:
        wide = 0 if r.has_stub else max(range(len(widths)), key=widths.__getitem__)
        others = total - widths[wide]
        widths[wide] = max(int(Cm(2.5)), minimal[wide] if not r.has_stub else 0, int(available) - others)
        total = sum(widths)
        if total > available:
            floor = sum(minimal)
            if floor < available:
                # shrink only what lies above each column's longest word
                k = (int(available) - floor) / (total - floor)
                widths = [int(m + (w - m) * k) for w, m in zip(widths, minimal)]
            else:
                widths = [int(w * available / total) for w in widths]
    return [Length(w) for w in widths]


def _caption_paragraph(document, text: str, *, bold: bool = False, italic: bool = False, size: Pt | None = None):
    para = document.add_paragraph()
    pf = para.paragraph_format
    pf.keep_with_next = True
    pf.space_before = Pt(0)
    pf.space_after = Pt(6) if italic else Pt(0)
    run = para.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    if size is not None:
        run.font.size = size
    return para


def add_table_to_document(
    document,
    table: Table | RenderedTable,
    *,
    font_size: float = 10,
    note_font_size: float = 9,
    keep_together_rows: int = 30,
) -> None:
    """Append one table (number, title, Word table, notes) to a python-docx Document.

    Parameters
    ----------
    document : docx.document.Document
    table : Table or RenderedTable
    font_size : float, default 10
        Font size of the table cells, in points.
    note_font_size : float, default 9
        Font size of the notes under the table.
    keep_together_rows : int, default 30
        Tables with at most this many rows are kept on one page.

    Examples
    --------
    >>> import pandas as pd, docx
    >>> from analysis.tables.builder import Table
    >>> d = docx.Document()
    >>> add_table_to_document(d, Table(pd.DataFrame({"a": [1], "b": [2]})).tab_spanner("G", ["a", "b"]))
    >>> len(d.tables[0].rows), d.tables[0].cell(0, 0).text
    (3, 'G')
    """
    r = as_rendered(table)
    size, note_size = Pt(font_size), Pt(note_font_size)
    if r.number_text:
        _caption_paragraph(document, r.number_text, bold=True)
    if r.title:
        _caption_paragraph(document, r.title, italic=True)
    if r.subtitle:
        _caption_paragraph(document, r.subtitle, size=size)
    n_header = len(r.spanner_rows) + 1
    n_rows = n_header + sum(len(s.rows) + bool(s.label) for s in r.sections)
    tbl = document.add_table(rows=0, cols=r.n_columns)
    tbl.alignment = WD_TABLE_ALIGNMENT.LEFT
    tbl.autofit = False
    _set_table_borders(tbl)
    section = document.sections[-1]
    available = Length(section.page_width - section.left_margin - section.right_margin)
    widths = _column_widths(r, font_size, available)
    for j, w in enumerate(widths):
        tbl.columns[j].width = w
    center, left = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT
    how = {"l": left, "c": center, "r": WD_ALIGN_PARAGRAPH.RIGHT}
    keep = n_rows <= keep_together_rows
    row_index = 0
    cells = _CellFactory(tbl, size)

    def new_row(segments, *, header: bool = False, rule_above: bool = False) -> None:
        """Append a row; `segments` lists (start, stop, text, align, italic, indent, rule_below)."""
        nonlocal row_index
        tr = cells.row(header)
        last = row_index == n_rows - 1
        for start, stop, text, align, italic, indent, rule_below in segments:
            tr.append(cells.cell(sum(widths[start:stop]), stop - start, text, align, italic, indent,
                                 keep and not last, rule_above, rule_below))
        tbl._tbl.append(tr)
        row_index += 1

    for spans in r.spanner_rows:
        segments = []
        j = 0
        for span in spans:
            segments += [(k, k + 1, "", left, False, None, False) for k in range(j, span.start)]
            segments.append((span.start, span.stop, span.label, center, False, None, True))
            j = span.stop
        segments += [(k, k + 1, "", left, False, None, False) for k in range(j, r.n_columns)]
        new_row(segments, header=True)
    new_row([(j, j + 1, lab, how[al], False, None, True)
             for j, (lab, al) in enumerate(zip(r.column_labels, r.alignments))], header=True)
    for section in r.sections:
        grouped = bool(section.label)
        rule = section.label == "" and row_index > n_header
        if grouped:
            new_row([(0, r.n_columns, section.label, left, True, None, False)])
        for k, row in enumerate(section.rows):
            new_row(
                [(j, j + 1, c.text, how[al], False, Pt(12) if j == 0 and grouped and r.has_stub else None, False)
                 for j, (c, al) in enumerate(zip(row, r.alignments))],
                rule_above=rule and k == 0,
            )
    for k, note in enumerate(r.notes):
        para = document.add_paragraph()
        pf = para.paragraph_format
        pf.space_before = Pt(4) if k == 0 else Pt(0)
        pf.space_after = Pt(0)
        pf.line_spacing = 1.0
        for text, italic in note.segments():
            run = para.add_run(text)
            run.italic = italic or None
            run.font.size = note_size


def new_document(font: str = "Times New Roman", font_size: float = 12):
    """Return an empty python-docx Document with `font` as the default font.

    The core properties get a fixed date so that saved files are byte-stable.

    Examples
    --------
    >>> new_document().styles["Normal"].font.name
    'Times New Roman'
    """
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = font
    normal.font.size = Pt(font_size)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), font)
    props = document.core_properties
    props.author = "si-survey"
    props.last_modified_by = "si-survey"
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    props.last_printed = FIXED_TIMESTAMP
    props.revision = 1
    props.title = ""
    return document


def write_docx(
    tables: Table | RenderedTable | Iterable[Table | RenderedTable],
    path: str | os.PathLike[str],
    *,
    font: str = "Times New Roman",
    font_size: float = 12,
    table_font_size: float = 10,
    note_font_size: float = 9,
    landscape: bool = False,
) -> Path:
    """Write one or several tables to a new Word document, atomically and byte-stably.

    Parameters
    ----------
    tables : Table or iterable of Table
    path : path-like
    font : str, default "Times New Roman"
    font_size : float, default 12
        Body text size (title lines).
    table_font_size, note_font_size : float
        Sizes of the table cells and of the notes.
    landscape : bool, default False
        Landscape pages, for wide tables.

    Returns
    -------
    Path

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from analysis.tables.builder import Table
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t = Table(pd.DataFrame({"a": [1]}))
    >>> write_docx(t, d / "a.docx").read_bytes() == write_docx(t, d / "b.docx").read_bytes()
    True
    """
    document = new_document(font, font_size)
    if landscape:
        section = document.sections[-1]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    for k, r in enumerate(as_rendered_list(tables)):
        if k > 0:
            document.add_paragraph()
        add_table_to_document(document, r, font_size=table_font_size, note_font_size=note_font_size)
    buf = io.BytesIO()
    document.save(buf)
    return atomic_write_bytes(path, stable_zip(buf.getvalue()))
