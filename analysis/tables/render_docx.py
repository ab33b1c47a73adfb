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

from analysis.tables import _docx_pages as pages
from analysis.tables._io import FIXED_TIMESTAMP, stable_zip
from analysis.tables._rendered import RenderedTable, as_rendered, as_rendered_list
from analysis.utils.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from analysis.tables.builder import Table

__all__ = ["write_docx", "add_table_to_document", "new_document", "add_caption", "add_field", "set_page",
           "proofing_language"]

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


def _cant_split_tr(tr) -> None:
    """The row is never broken across two pages (``w:cantSplit``, before ``w:tblHeader``)."""
    trPr = tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    trPr.insert(0, el)


def _set_lang(rPr, lang: str | None) -> None:
    """Proofing language of a run (``w:lang``, last of the run properties it may follow)."""
    if lang:
        el = OxmlElement("w:lang")
        el.set(qn("w:val"), lang)
        rPr.append(el)


def proofing_language(code: str) -> str:
    """Word's proofing language of a table locale: ``fr-FR`` for ``fr``, ``en-US`` for ``en``.

    Examples
    --------
    >>> proofing_language("fr"), proofing_language("en")
    ('fr-FR', 'en-US')
    """
    return {"fr": "fr-FR", "en": "en-US"}.get(code, code)


def _fill(cell, text: str, *, size: Pt, align=None, italic: bool = False, indent: Pt | None = None,
          lang: str | None = None) -> None:
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
        _set_lang(run._r.get_or_add_rPr(), lang)


class _CellFactory:
    """Rows and cells of one Word table, deep-copied from templates.

    Setting up each cell through python-docx's per-cell API (paragraph format, run
    font, borders: a dozen XPath look-ups each) made a table of a few hundred rows
    take seconds. Each distinct cell format is built once with that same code
    (:func:`_fill`, :func:`_cell_rules`), so the XML is unchanged, and every cell is
    a deep copy of its template with the run of text appended.
    """

    def __init__(self, tbl, size: Pt, lang: str | None = None):
        self.tbl, self.size, self.lang = tbl, size, lang
        self._cells: dict = {}
        self._runs: dict = {}
        self._rows: dict = {}
        self._twips: dict = {}

    def row(self, header: bool):
        """A new ``w:tr`` never split across pages, repeated at the top of each page if ``header``."""
        template = self._rows.get(header)
        if template is None:
            template = self._rows[header] = OxmlElement("w:tr")
            _cant_split_tr(template)
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
            _set_lang(run._r.get_or_add_rPr(), self.lang)
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
    numbers and short headers never break in the middle. When the table is too wide, the
    column headers wrap first (down to the width of their column's body), then the stub
    gives way.
    """
    char = Cm(0.2 * font_size / 10)
    pad = Cm(0.35)
    longest = [len(x) for x in r.column_labels]
    word = [max((len(w) for w in x.split()), default=0) for x in r.column_labels]
    body = list(word)
    for s in r.sections:
        for row in s.rows:
            for j, c in enumerate(row):
                longest[j] = max(longest[j], len(c.text) + (2 if j == 0 and s.label else 0))
                body[j] = max(body[j], len(c.text))
                word[j] = max(word[j], max((len(w) for w in c.text.split()), default=0))
    widths = [int(char * n + pad) for n in longest]
    minimal = [int(char * n + pad) for n in word]
    if r.has_stub and sum(widths) > available:
        # wrap the headers of the other columns before the stub's every row
        slack = [0] + [max(0, w - int(char * b + pad)) for w, b in zip(widths[1:], body[1:])]
        if sum(slack):
            k = min(1.0, (sum(widths) - int(available)) / sum(slack))
            widths = [w - int(x * k) for w, x in zip(widths, slack)]
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



def _caption_paragraph(document, text: str, *, bold: bool = False, italic: bool = False, size: Pt | None = None,
                       lang: str | None = None):
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
    _set_lang(run._r.get_or_add_rPr(), lang)
    return para


def _text_run(para, text: str, *, bold: bool = False, italic: bool = False, lang: str | None = None):
    run = para.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    _set_lang(run._r.get_or_add_rPr(), lang)
    return run


def add_field(para, instruction: str, result: str, *, bold: bool = False, lang: str | None = None) -> None:
    r"""Append a Word field (``SEQ``, ``TOC``, ``REF``...) to a paragraph, with ``result`` as its shown value.

    A complex field: ``begin``, the instruction, ``separate``, the cached result, ``end``;
    Word recomputes it on update (F9, or on opening when ``w:updateFields`` is set).

    Examples
    --------
    >>> import docx
    >>> p = docx.Document().add_paragraph()
    >>> add_field(p, r"SEQ Tableau \* ARABIC", "3")
    >>> p.text
    '3'
    """
    def char(kind):
        r = _text_run(para, "", bold=bold, lang=lang)  # formatted like the result (LibreOffice shows it so)
        fld = OxmlElement("w:fldChar")
        fld.set(qn("w:fldCharType"), kind)
        r._r.append(fld)

    char("begin")
    r = _text_run(para, "", bold=bold, lang=lang)
    instr = OxmlElement("w:instrText")
    instr.set(_XML_SPACE, "preserve")
    instr.text = f" {instruction} "
    r._r.append(instr)
    char("separate")
    _text_run(para, result, bold=bold, lang=lang)
    char("end")


def _bookmark(para, name: str, ident: int) -> None:
    """Wrap the paragraph's content in a bookmark ``name`` (for cross-references)."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(ident))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(ident))
    pPr = para._p.pPr
    if pPr is not None:
        pPr.addnext(start)
    else:
        para._p.insert(0, start)
    para._p.append(end)


def _counters(document) -> dict:
    """Running numbers of the caption sequences (and bookmark ids) of a document."""
    counters = getattr(document, "_si_counters", None)
    if counters is None:
        counters = {"_bookmark": 0}
        document._si_counters = counters
    return counters


def add_caption(document, label: str, number: int | str, title: str | None = None, *,
                lang: str | None = None, bold_label: bool = True):
    r"""A caption paragraph in Word's "Caption" style: ``label`` and a ``SEQ label`` field, then the title.

    The number is a real caption field (``SEQ Tableau \* ARABIC``), so that Word's list
    of tables (``TOC \c "Tableau"``) and its cross-references find it; the paragraph is
    wrapped in a bookmark ``Tableau_3``. The field restarts at ``number`` (``\r``) when
    the running count of the document would give another number (a document holding
    one table of a larger report). The title follows a line break, in italics (APA).

    Examples
    --------
    >>> import docx
    >>> d = docx.Document()
    >>> p = add_caption(d, "Tableau", 3, "Effectifs")
    >>> p.style.name, p.text.split(), "SEQ Tableau" in p._p.xml, "Tableau_3" in p._p.xml
    ('Caption', ['Tableau', '3', 'Effectifs'], True, True)
    >>> "\\r 3" in p._p.xml  # the document's first table is number 3
    True
    """
    counters = _counters(document)
    para = document.add_paragraph()
    para._p.style = "Caption"  # the style id (a look-up by name costs more than the rest of the caption)
    pf = para.paragraph_format
    pf.keep_with_next = True
    pf.space_before = Pt(0)
    pf.space_after = Pt(6)
    seq = label.replace(" ", "_")
    instruction = f"SEQ {seq} \\* ARABIC"
    expected = counters.get(seq, 0) + 1
    try:
        value = int(number)
    except (TypeError, ValueError):
        value = expected
    if value != expected:
        instruction += f" \\r {value}"
    counters[seq] = value
    _text_run(para, f"{label} ", bold=bold_label, lang=lang)
    add_field(para, instruction, str(number), bold=bold_label, lang=lang)
    if title:
        para.add_run().add_break()
        _text_run(para, title, italic=True, lang=lang)
    counters["_bookmark"] += 1
    _bookmark(para, f"{seq}_{number}", counters["_bookmark"])
    return para


def _split_number(number_text: str) -> tuple[str, str]:
    """``"Tableau 3"`` -> ``("Tableau", "3")``."""
    label, _, number = number_text.rpartition(" ")
    return (label, number) if label and number else (number_text, "")


def _row_kinds(r: RenderedTable) -> list[str]:
    """Per body row: ``"group"`` (a group label), ``""`` (an empty stub: a standard error) or ``"row"``."""
    kinds: list[str] = []
    for s in r.sections:
        if s.label:
            kinds.append("group")
        kinds += ["" if r.has_stub and not row[0].text.strip() else "row" for row in s.rows]
    return kinds


def _keep_flags(r: RenderedTable, n_header: int, keep_together_rows: int) -> list[bool]:
    """Per table row: whether its paragraphs are kept with the next row (or the notes) on one page.

    A short table (at most ``keep_together_rows`` rows) is kept whole. A longer one may break
    between rows, but never under the header or a group label, nor within its first three
    rows, nor between a row and the next one when that one has an empty stub (a coefficient
    and its standard error), nor within its last three rows, which stay with the notes (no
    note alone on a page). The rows where a longer one may break are also where a table
    taller than a page is split into its parts (:func:`add_table_to_document`).
    """
    kinds = ["header"] * n_header + _row_kinds(r)
    n = len(kinds)
    last_keeps = bool(r.notes)
    if n <= keep_together_rows:
        return [True] * (n - 1) + [last_keeps]
    flags = []
    for i, kind in enumerate(kinds):
        if i == n - 1:
            flags.append(last_keeps)
        else:
            flags.append(kind in ("header", "group") or kinds[i + 1] == "" or i >= n - 3
                         or i < n_header + 2)
    return flags


def _add_notes(document, r: RenderedTable, note_size: Pt, lang: str | None) -> None:
    """The notes under the table, each kept with the next (the last ends the block)."""
    for k, note in enumerate(r.notes):
        para = document.add_paragraph()
        pf = para.paragraph_format
        pf.space_before = Pt(4) if k == 0 else Pt(0)
        pf.space_after = Pt(0)
        pf.line_spacing = 1.0
        if k < len(r.notes) - 1:
            pf.keep_with_next = True
        for text, italic in note.segments():
            run = para.add_run(text)
            run.italic = italic or None
            run.font.size = note_size
            _set_lang(run._r.get_or_add_rPr(), lang)


def _add_heading(document, r: RenderedTable, size: Pt, lang: str | None) -> None:
    """Caption (number field and title) and subtitle above the table."""
    if r.number_text:
        label, number = _split_number(r.number_text)
        add_caption(document, label, number, r.title, lang=lang)
    elif r.title:
        _caption_paragraph(document, r.title, italic=True, lang=lang)
    if r.subtitle:
        _caption_paragraph(document, r.subtitle, size=size, lang=lang)


def _continued_heading(document, r: RenderedTable, lang: str | None) -> None:
    """``Tableau 3 (suite)`` opening a new page, above a further part of a long table."""
    para = document.add_paragraph()
    pf = para.paragraph_format
    pf.page_break_before = True
    pf.keep_with_next = True
    pf.space_before = Pt(0)
    pf.space_after = Pt(6)
    if r.number_text:
        _text_run(para, r.number_text, bold=True, lang=lang)
        _text_run(para, " " + r.locale.continued, lang=lang)
    elif r.title:
        _text_run(para, r.title, italic=True, lang=lang)
        _text_run(para, " " + r.locale.continued, lang=lang)
    else:
        _text_run(para, r.locale.continued, lang=lang)


def _at_page_start(document) -> bool:
    """Whether what is added next opens a page: an empty document, a new section, after a page break."""
    body = document.element.body
    last = next((el for el in reversed(body) if el.tag != qn("w:sectPr")), None)
    if last is None:
        return True
    if last.tag != _W_P:
        return False
    ppr = last.find(qn("w:pPr"))
    if ppr is not None and ppr.find(qn("w:sectPr")) is not None:
        return True
    runs = last.findall(qn("w:r"))
    return bool(runs) and len(runs[-1]) > 0 and runs[-1][-1].tag == qn("w:br") \
        and runs[-1][-1].get(qn("w:type")) == "page"


def _body_size(document) -> float:
    """Font size of the document's body text (the captions), in points; 12 by default."""
    counters = _counters(document)
    if "_body_size" not in counters:
        size = document.styles["Normal"].font.size
        counters["_body_size"] = size.pt if size is not None else 12.0
    return counters["_body_size"]


def add_table_to_document(
    document,
    table: Table | RenderedTable,
    *,
    font_size: float = 10,
    note_font_size: float = 9,
    keep_together_rows: int | None = None,
) -> None:
    """Append one table (caption, Word table, notes) to a python-docx Document.

    The caption is a Word caption field (:func:`add_caption`); the header rows are
    repeated on each page, no row is split across pages. A table that fits on one page
    is kept whole, with its notes. A table taller than a page starts on a new page and
    is split into page-sized parts (as estimated by :mod:`analysis.tables._docx_pages`),
    each further part opening a new page under "Tableau N (suite)" (the locale's
    ``continued``) and the header rows; the parts end only where :func:`_keep_flags`
    allows a break (a coefficient stays with its standard error, the last rows with the
    notes). The text is marked in the table's language (``fr-FR``, ``en-US``) for Word's
    proofing.

    Parameters
    ----------
    document : docx.document.Document
    table : Table or RenderedTable
    font_size : float, default 10
        Font size of the table cells, in points.
    note_font_size : float, default 9
        Font size of the notes under the table.
    keep_together_rows : int, optional
        Tables with at most this many rows are kept on one page, longer ones may break
        between rows where :func:`_keep_flags` allows it; default: every table that fits
        on one page is kept whole. A table taller than a page is split into parts either way.

    Examples
    --------
    >>> import pandas as pd, docx
    >>> from analysis.tables.builder import Table
    >>> d = docx.Document()
    >>> add_table_to_document(d, Table(pd.DataFrame({"a": [1], "b": [2]})).tab_spanner("G", ["a", "b"]))
    >>> len(d.tables[0].rows), d.tables[0].cell(0, 0).text
    (3, 'G')
    >>> add_table_to_document(d, Table(pd.DataFrame({"a": range(120)})).tab_header("Long", number=2))
    >>> len(d.tables), [p.text for p in d.paragraphs if "suite" in p.text]  # 2 pages after the first
    (4, ['Tableau 2 (suite)', 'Tableau 2 (suite)'])
    """
    r = as_rendered(table)
    lang = proofing_language(r.locale.code)
    size, note_size = Pt(font_size), Pt(note_font_size)
    n_header = len(r.spanner_rows) + 1
    section = document.sections[-1]
    available = Length(section.page_width - section.left_margin - section.right_margin)
    widths = _column_widths(r, font_size, available)
    center, left = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT
    how = {"l": left, "c": center, "r": WD_ALIGN_PARAGRAPH.RIGHT}

    # the rows, as segments (start, stop, text, align, italic, indent, rule_below), and a rule above
    header_rows: list[list[tuple]] = []
    for spans in r.spanner_rows:
        segments = []
        j = 0
        for span in spans:
            segments += [(k, k + 1, "", left, False, None, False) for k in range(j, span.start)]
            segments.append((span.start, span.stop, span.label, center, False, None, True))
            j = span.stop
        segments += [(k, k + 1, "", left, False, None, False) for k in range(j, r.n_columns)]
        header_rows.append(segments)
    header_rows.append([(j, j + 1, lab, how[al], False, None, True)
                        for j, (lab, al) in enumerate(zip(r.column_labels, r.alignments))])
    body_rows: list[tuple[list[tuple], bool]] = []
    for s in r.sections:
        grouped = bool(s.label)
        rule = s.label == "" and bool(body_rows)
        if grouped:
            body_rows.append(([(0, r.n_columns, s.label, left, True, None, False)], False))
        for k, row in enumerate(s.rows):
            body_rows.append(([(j, j + 1, c.text, how[al], False, Pt(12) if j == 0 and grouped and r.has_stub else None,
                                False) for j, (c, al) in enumerate(zip(row, r.alignments))], rule and k == 0))

    # the page-sized parts
    def height(segments) -> float:
        return pages.row_height([(text, pages.text_width_pt(sum(widths[a:b]) - (indent or 0))
                                  - pages.CELL_MARGINS_PT) for a, b, text, _, _, indent, _ in segments], font_size)

    text_w, body = pages.text_width_pt(available), _body_size(document)
    head = (pages.paragraph_height(" ".join(x for x in (r.number_text, r.title) if x), text_w, body, 6)
            + (pages.paragraph_height(r.number_text, text_w, body) if r.number_text and r.title else 0)
            + (pages.paragraph_height(r.subtitle, text_w, font_size) if r.subtitle else 0))
    notes = sum(pages.paragraph_height(note.plain(), text_w, note_font_size) for note in r.notes) + 4 * bool(r.notes)
    continued = pages.paragraph_height(f"{r.number_text or r.title or ''} {r.locale.continued}", text_w, body, 6)
    breakable = [not keep for keep in _keep_flags(r, n_header, 0)[n_header:]]
    parts = pages.page_parts([height(segments) for segments, _ in body_rows], breakable, head=head,
                             header=sum(height(segments) for segments in header_rows), continued=continued,
                             notes=notes, page=pages.text_width_pt(section.page_height - section.top_margin
                                                                   - section.bottom_margin))
    if len(parts) == 1 and keep_together_rows is not None:
        keep = _keep_flags(r, n_header, keep_together_rows)
    else:  # each part kept whole; the last with the notes
        keep = [True] * n_header
        for start, stop in parts:
            keep += [True] * (stop - start - 1) + [stop == len(body_rows) and bool(r.notes)]

    opens_page = len(parts) > 1 and not _at_page_start(document)
    first = len(document.element.body.findall(_W_P))
    _add_heading(document, r, size, lang)
    if opens_page:
        added = document.element.body.findall(_W_P)[first:]
        para = Paragraph(added[0], document._body) if added else document.add_paragraph()  # no caption
        para.paragraph_format.page_break_before = True
    cells = None
    for part, (start, stop) in enumerate(parts):
        if part:
            _continued_heading(document, r, lang)
        tbl = document.add_table(rows=0, cols=r.n_columns)
        tbl.alignment = WD_TABLE_ALIGNMENT.LEFT
        tbl.autofit = False
        _set_table_borders(tbl)
        for j, w in enumerate(widths):
            tbl.columns[j].width = w
        cells = cells or _CellFactory(tbl, size, lang)  # templates: the first part's table is their parent

        def new_row(segments, index: int, *, header: bool = False, rule_above: bool = False,
                    cells=cells, tbl=tbl) -> None:
            tr = cells.row(header)
            for a, b, text, align, italic, indent, rule_below in segments:
                tr.append(cells.cell(sum(widths[a:b]), b - a, text, align, italic, indent, keep[index],
                                     rule_above, rule_below))
            tbl._tbl.append(tr)

        for i, segments in enumerate(header_rows):
            new_row(segments, i, header=True)
        for i in range(start, stop):
            segments, rule_above = body_rows[i]
            new_row(segments, n_header + i, rule_above=rule_above and i > start)
    _add_notes(document, r, note_size, lang)

#: Page size (A4) and margins of a thesis, in cm: (width, height), (top, right, bottom, left).
A4_CM = (21.0, 29.7)
MARGINS_CM = (2.5, 2.5, 2.5, 3.0)


def set_page(section, landscape: bool = False) -> None:
    """An A4 page with the margins of a thesis (wider on the binding side), portrait or landscape.

    Examples
    --------
    >>> import docx
    >>> s = docx.Document().sections[0]
    >>> set_page(s, landscape=True)
    >>> round(s.page_width.cm, 1), round(s.page_height.cm, 1), round(s.top_margin.cm, 1)
    (29.7, 21.0, 3.0)
    """
    width, height = (Cm(A4_CM[0]), Cm(A4_CM[1]))
    top, right, bottom, left = (Cm(x) for x in MARGINS_CM)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = height, width
        # the binding edge of a portrait page is the top of a page turned landscape
        section.top_margin, section.right_margin, section.bottom_margin, section.left_margin = left, right, bottom, top
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = width, height
        section.top_margin, section.right_margin, section.bottom_margin, section.left_margin = top, right, bottom, left
    section.header_distance = section.footer_distance = Cm(1.25)


def _style_lang(rPr, lang: str) -> None:
    for old in rPr.findall(qn("w:lang")):
        rPr.remove(old)
    _set_lang(rPr, lang)
    rPr[-1].set(qn("w:eastAsia"), lang)


def new_document(font: str = "Times New Roman", font_size: float = 12, lang: str = "fr"):
    """Return an empty python-docx Document for a thesis: A4, `font`, proofing language `lang`.

    The page is A4 with thesis margins (:func:`set_page`); the default text, the
    "Normal" and "Caption" styles are in `lang` (``fr-FR``: Word checks the French
    spelling), the "Caption" style black, upright, in the body size. The core
    properties get a fixed date so that saved files are byte-stable.

    Examples
    --------
    >>> d = new_document()
    >>> d.styles["Normal"].font.name, round(d.sections[0].page_width.cm, 1)
    ('Times New Roman', 21.0)
    >>> 'w:val="fr-FR"' in d.styles["Normal"].element.xml
    True
    """
    document = docx.Document()
    proofing = proofing_language(lang)
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _style_lang(rpr_default, proofing)
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
    _style_lang(rpr, proofing)
    caption = document.styles["Caption"]
    caption.font.bold = False
    caption.font.size = Pt(font_size)
    crpr = caption.element.get_or_add_rPr()
    for tag in ("w:color", "w:bCs", "w:b"):
        for old in crpr.findall(qn(tag)):
            crpr.remove(old)
    caption.element.remove(caption.element.find(qn("w:semiHidden")))
    caption.paragraph_format.keep_with_next = True
    _style_lang(crpr, proofing)
    set_page(document.sections[0])
    props = document.core_properties
    props.author = "si-survey"
    props.last_modified_by = "si-survey"
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    props.last_printed = FIXED_TIMESTAMP
    props.revision = 1
    props.title = ""
    props.language = proofing
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
    rendered = as_rendered_list(tables)
    document = new_document(font, font_size, lang=rendered[0].locale.code)
    if landscape:
        set_page(document.sections[-1], landscape=True)
    for k, r in enumerate(rendered):
        if k > 0:
            document.add_paragraph()
        add_table_to_document(document, r, font_size=table_font_size, note_font_size=note_font_size)
    buf = io.BytesIO()
    document.save(buf)
    return atomic_write_bytes(path, stable_zip(buf.getvalue()))
