"""Tests of the table writers: Markdown/LaTeX/HTML snapshots, Word and Excel structure.

Snapshots
---------
A small fixed table (spanners on two levels, row groups, stars, note, source,
special characters) is rendered in French and English to Markdown, LaTeX and
HTML and compared with the files committed under ``tests/snapshots/``. After an
intended change of output, regenerate them and review the diff::

    SI_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_table_writers.py

The Word file is opened again with python-docx and its structure checked (rows,
merged spanner cells, horizontal rules only, title above, notes below); the
Excel file with openpyxl (numbers stored as numbers, formulas neutralised).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import docx
import numpy as np
import openpyxl
import pandas as pd
import pytest
from docx.oxml.ns import qn
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import ConfigError, InputError
from analysis.tables import (
    Table,
    escape_latex,
    escape_markdown,
    model_table,
    neutralize_formula,
    to_html,
    to_latex,
    to_markdown,
    write_csv,
    write_docx,
    write_html_page,
    write_latex,
    write_markdown,
    write_xlsx,
)

SNAPSHOTS = Path(__file__).parents[1] / "snapshots"
UPDATE = os.environ.get("SI_UPDATE_SNAPSHOTS") == "1"


def sample_table() -> Table:
    df = pd.DataFrame(
        {
            "bloc": ["Gouvernance", "Gouvernance", "Financement", "Financement"],
            "item": ["Conseil élu", "AG & rapport", "Dons_privés #1", "Subventions (%)"],
            "a_n": [1234, 56, 7, None],
            "a_pct": [0.956, 0.044, 0.5, 0.25],
            "c_n": [300, 12, 45, 8],
            "c_pct": [0.5, 0.125, -0.0333, 1.0],
            "b": [0.456, -1.2, 0.0, 2.5],
            "p": [0.0004, 0.03, 0.2, 0.009],
        }
    )
    return (
        Table(df)
        .tab_header("Répartition des organisations", subtitle="Échantillon pondéré", number=3)
        .tab_stub("item", groupname_col="bloc")
        .tab_spanner("Associations", ["a_n", "a_pct"])
        .tab_spanner("Coopératives", ["c_n", "c_pct"])
        .tab_spanner("Ensemble", ["a_n", "a_pct", "c_n", "c_pct"], level=1)
        .cols_label({"item": "Item", "a_n": "n", "a_pct": "%", "c_n": "n", "c_pct": "%", "b": "B", "p": "p"})
        .fmt_integer(["a_n", "c_n"])
        .fmt_percent(["a_pct", "c_pct"])
        .fmt_number("b")
        .fmt_pvalue("p")
        .fmt_stars("p", "b")
        .tab_note("Pourcentages en ligne; 50 % = moitié.")
        .tab_source("Enquête SI-Maroc, 2026.")
        .tab_label("tab:repartition")
    )


RENDERERS = {"md": to_markdown, "tex": to_latex, "html": to_html}


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("ext", sorted(RENDERERS))
def test_snapshot(ext, locale):
    text = RENDERERS[ext](sample_table().with_locale(locale))
    path = SNAPSHOTS / f"sample_{locale}.{ext}"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing snapshot {path}; run with SI_UPDATE_SNAPSHOTS=1")
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert text == path.read_text(encoding="utf-8")


def word_body_xml(path: Path) -> str:
    """The body of a Word document as indented XML, without the namespace declarations (normalised text)."""
    import zipfile

    from lxml import etree

    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    body = root.find(qn("w:body"))
    text = etree.tostring(body, pretty_print=True, encoding="unicode")
    return re.sub(r' xmlns:\w+="[^"]+"', "", text)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_snapshot_word_xml(locale, tmp_path):
    """The Word XML of one table (caption field, rows, keep flags, languages), as reviewed text."""
    text = word_body_xml(write_docx([sample_table().with_locale(locale), model_table_fixture()],
                                    tmp_path / "t.docx"))
    path = SNAPSHOTS / f"sample_{locale}.docx.xml"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing snapshot {path}; run with SI_UPDATE_SNAPSHOTS=1")
        path.write_text(text, encoding="utf-8", newline="\n")
    assert text == path.read_text(encoding="utf-8")


def test_snapshot_model_table():
    coefs = pd.DataFrame(
        {"estimate": [1.2, 0.35], "se": [0.3, 0.1], "statistic": [4.0, 3.5], "p_value": [0.0001, 0.02],
         "ci_low": [0.6, 0.15], "ci_high": [1.8, 0.55]},
        index=["Intercept", "age"],
    )

    class Res:
        coefficients = coefs
        fit = pd.Series({"n": 412, "r2": 0.213})

    text = to_markdown(model_table({"(1)": Res(), "(2)": Res()}, coef_labels={"age": "Âge"}))
    path = SNAPSHOTS / "model_fr.md"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert text == path.read_text(encoding="utf-8")


def test_latex_escaping_and_structure():
    tex = to_latex(sample_table())
    assert r"AG \& rapport" in tex and r"Dons\_privés \#1" in tex and r"Subventions (\%)" in tex
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" in tex
    assert r"\begin{tablenotes}" in tex and r"\label{tab:repartition}" in tex
    assert "\u202f" not in tex and "\u00a0" not in tex and "\u2212" not in tex
    assert r"1\,234" in tex and r"\textminus{}1,20*" in tex


def test_markdown_escapes_pipes():
    t = Table(pd.DataFrame({"a": ["x|y"], "b": ["*gras*"]}))
    md = to_markdown(t)
    assert r"x\|y" in md and r"\*gras\*" in md


def test_text_writers_are_atomic_and_deterministic(tmp_path):
    t = sample_table()
    for writer, name in [(write_markdown, "t.md"), (write_latex, "t.tex"), (write_html_page, "t.html")]:
        a = writer([t, t.with_locale("en")], tmp_path / name)
        first = a.read_bytes()
        writer([t, t.with_locale("en")], tmp_path / name)
        assert a.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.html", "t.md", "t.tex"]  # no temp files left


def test_html_page_self_contained(tmp_path):
    p = write_html_page([sample_table(), sample_table().with_locale("en")], tmp_path / "page.html")
    html = p.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert html.count("<table>") == 2 and "<link" not in html and "<script" not in html
    assert "AG &amp; rapport" in html
    assert 'colspan="4"' in html and 'colspan="2"' in html


def test_writer_rejects_non_table(tmp_path):
    with pytest.raises(InputError):
        write_markdown([pd.DataFrame()], tmp_path / "x.md")


# ----------------------------------------------------------------------------- Word
def _borders(el, tag):
    node = el.find(qn(tag))
    if node is None:
        return {}
    return {child.tag.split("}")[1]: child.get(qn("w:val")) for child in node}


def test_docx_structure(tmp_path):
    t = sample_table()
    path = write_docx([t], tmp_path / "t.docx")
    d = docx.Document(path)
    assert len(d.tables) == 1
    table = d.tables[0]
    r = t.render()
    # 2 spanner rows + labels + 2 group label rows + 4 body rows
    assert len(table.rows) == 2 + 1 + 2 + 4
    assert len(table.columns) == 7
    # merged spanners: the same cell object spans the columns
    top = table.rows[0].cells
    assert top[1].text == "Ensemble" and all(top[k]._tc is top[1]._tc for k in range(1, 5))
    second = table.rows[1].cells
    assert second[1]._tc is second[2]._tc and second[3]._tc is second[4]._tc
    assert second[1]._tc is not second[3]._tc
    # horizontal rules only
    tbl_b = _borders(table._tbl.tblPr, "w:tblBorders")
    assert tbl_b["top"] == "single" and tbl_b["bottom"] == "single"
    assert tbl_b["left"] == tbl_b["right"] == tbl_b["insideV"] == tbl_b["insideH"] == "nil"
    for row in table.rows:
        for cell in row.cells:
            tcb = _borders(cell._tc.get_or_add_tcPr(), "w:tcBorders")
            assert set(tcb) <= {"top", "bottom"}
    # rule under spanners and under the column labels
    assert _borders(top[1]._tc.tcPr, "w:tcBorders") == {"bottom": "single"}
    assert all(_borders(c._tc.tcPr, "w:tcBorders") == {"bottom": "single"} for c in table.rows[2].cells)
    # row group label row merged and italic
    group = table.rows[3].cells
    assert group[0].text == "Gouvernance" and group[0]._tc is group[-1]._tc
    assert group[0].paragraphs[0].runs[0].italic
    # body text
    assert [c.text for c in table.rows[4].cells] == [c.text for c in r.sections[0].rows[0]]
    # title above, notes below, in document order
    body = list(d.element.body.iterchildren())
    tbl_pos = body.index(table._tbl)
    paras = [p for p in d.paragraphs]
    # the caption: "Tableau" and a SEQ field in bold, a line break, the title in italics
    assert paras[0].style.name == "Caption" and paras[0].text == "Tableau 3\nRépartition des organisations"
    assert paras[0].runs[0].bold and paras[0].runs[0].text == "Tableau "
    assert [run.italic for run in paras[0].runs if run.text == "Répartition des organisations"] == [True]
    instr = paras[0]._p.findall(".//" + qn("w:instrText"))
    assert [i.text for i in instr] == [" SEQ Tableau \\* ARABIC \\r 3 "]  # the document's first table is Tableau 3
    assert paras[0]._p.find(qn("w:bookmarkStart")).get(qn("w:name")) == "Tableau_3"
    assert body.index(paras[0]._p) < tbl_pos
    notes = [p for p in paras if body.index(p._p) > tbl_pos]
    assert [p.text.split(" ")[0] for p in notes] == ["Note.", "*p", "Source\u00a0:"]
    assert notes[0].runs[0].italic and notes[0].runs[0].text == "Note."
    assert [run.text for run in notes[1].runs if run.italic] == ["p", "p", "p"]  # APA italic p
    cell_size = table.rows[4].cells[1].paragraphs[0].runs[0].font.size
    assert all(run.font.size < cell_size for p in notes for run in p.runs)
    # default font, A4, French proofing
    assert d.styles["Normal"].font.name == "Times New Roman"
    assert round(d.sections[0].page_width.cm, 1) == 21.0 and round(d.sections[0].page_height.cm, 1) == 29.7
    langs = {el.get(qn("w:val")) for el in d.element.body.iter(qn("w:lang"))}
    assert langs == {"fr-FR"}
    # rows never split, header rows repeated, short table kept whole and with its notes
    trs = table._tbl.findall(qn("w:tr"))
    assert all(tr.trPr.find(qn("w:cantSplit")) is not None for tr in trs)
    assert [tr.trPr.find(qn("w:tblHeader")) is not None for tr in trs] == [True] * 3 + [False] * 6
    assert all(row.cells[0].paragraphs[0].paragraph_format.keep_with_next for row in table.rows)
    assert [p.paragraph_format.keep_with_next for p in notes] == [True, True, None]


def test_docx_english_proofing_language(tmp_path):
    d = docx.Document(write_docx(sample_table().with_locale("en"), tmp_path / "en.docx"))
    assert {el.get(qn("w:val")) for el in d.element.body.iter(qn("w:lang"))} == {"en-US"}
    assert 'w:val="en-US"' in d.styles["Normal"].element.xml
    assert " SEQ Table " in d.paragraphs[0]._p.xml


def _stub_table(n: int, se_rows: bool) -> Table:
    """A long table whose stub is empty on every other row (a coefficient and its standard error)."""
    stub = [f"x{i // 2}" if i % 2 == 0 or not se_rows else "" for i in range(n)]
    return (Table(pd.DataFrame({"v": stub, "b": np.arange(n, dtype=float)})).tab_stub("v")
            .tab_header("Long", number=1).tab_note("Note.").tab_source("Source"))


def test_docx_long_table_keeps_coefficient_with_se_and_last_rows_with_notes(tmp_path):
    from analysis.tables.render_docx import _keep_flags

    r = _stub_table(60, se_rows=True).render()
    flags = _keep_flags(r, 1, 30)
    assert len(flags) == 61
    assert flags[0] and flags[1] and flags[2]  # the header and the first two rows: no row alone under the header
    # a coefficient row (odd index: header + even body row) is kept with its standard error
    assert all(flags[1 + i] for i in range(0, 60, 2))
    # a standard-error row may end a page, except the last ones (kept with the notes)
    assert not flags[1 + 31] and flags[-1] and flags[-2] and flags[-3]
    # the Word table, taller than a page, is split into parts only where a break is allowed
    breakable = [not f for f in _keep_flags(r, 1, 0)]
    d = docx.Document(write_docx(_stub_table(60, se_rows=True), tmp_path / "long.docx"))
    assert len(d.tables) == 2
    first, last = ([bool(row.cells[0].paragraphs[0].paragraph_format.keep_with_next) for row in t.rows]
                   for t in d.tables)
    assert first == [True] * (len(first) - 1) + [False] and breakable[len(first) - 1]
    assert d.tables[0].rows[-1].cells[0].text == ""  # a standard error ends the first part
    assert last == [True] * len(last)  # kept whole, with the notes
    assert len(first) + len(last) == 61 + 1  # the header row on each part
    # a table that fits on one page is kept whole, with its notes
    d = docx.Document(write_docx(_stub_table(40, se_rows=True), tmp_path / "fits.docx"))
    assert len(d.tables) == 1
    assert all(row.cells[0].paragraphs[0].paragraph_format.keep_with_next for row in d.tables[0].rows)
    # without notes, the last row is not kept with what follows
    plain = Table(pd.DataFrame({"v": list("ab")})).render()
    assert _keep_flags(plain, 1, 30) == [True, True, False]


@pytest.mark.parametrize("locale, continued", [("fr", "Tableau 1 (suite)"), ("en", "Table 1 (continued)")])
def test_docx_long_table_continued_on_the_next_pages(tmp_path, locale, continued):
    """Each further part of a long table opens a page under "Tableau N (suite)", with the header rows."""
    from analysis.tables import add_table_to_document, new_document

    d = docx.Document(write_docx(_stub_table(150, se_rows=False).with_locale(locale), tmp_path / "l.docx"))
    body = [el for el in d.element.body if el.tag in (qn("w:p"), qn("w:tbl"))]
    kinds = ["tbl" if el.tag == qn("w:tbl") else docx.text.paragraph.Paragraph(el, d).text for el in body]
    n = len(d.tables)
    assert n == 4
    # the caption, then each part; the parts after the first under "(suite)", which opens a page
    heads = [k - 1 for k, x in enumerate(kinds) if x == "tbl"]
    assert kinds[heads[0]].startswith(continued.split(" (")[0]) and " (" not in kinds[heads[0]]
    assert [kinds[h] for h in heads[1:]] == [continued] * (n - 1)
    for h in heads[1:]:
        pf = docx.text.paragraph.Paragraph(body[h], d).paragraph_format
        assert pf.page_break_before and pf.keep_with_next
    assert all(t.rows[0].cells[1].text == "b" for t in d.tables)  # the header row on every part
    assert sum(len(t.rows) - 1 for t in d.tables) == 150
    assert kinds[-3] == "tbl" and kinds[-2].startswith("Note.") and kinds[-1].startswith("Source")
    # the caption of the first part is not moved to a new page at the top of the document,
    # but it is after another table
    first_caption = docx.text.paragraph.Paragraph(body[heads[0]], d).paragraph_format
    assert not first_caption.page_break_before
    document = new_document(lang=locale)
    add_table_to_document(document, Table(pd.DataFrame({"a": [1]})))
    add_table_to_document(document, _stub_table(150, se_rows=False).with_locale(locale))
    captions = [p for p in document.paragraphs if p.text.startswith(continued.split(" (")[0])]
    assert captions[0].paragraph_format.page_break_before


def test_docx_caption_numbers_follow_the_document(tmp_path):
    """In a document holding tables 1, 2, 3 in order the fields need no restart; a gap restarts them."""
    tables = [Table(pd.DataFrame({"a": [k]})).tab_header(f"T{k}", number=k) for k in (1, 2, 3, 7)]
    d = docx.Document(write_docx(tables, tmp_path / "n.docx"))
    instr = [el.text.strip() for el in d.element.body.iter(qn("w:instrText"))]
    assert instr == ["SEQ Tableau \\* ARABIC"] * 3 + ["SEQ Tableau \\* ARABIC \\r 7"]
    names = [el.get(qn("w:name")) for el in d.element.body.iter(qn("w:bookmarkStart"))]
    ids = [el.get(qn("w:id")) for el in d.element.body.iter(qn("w:bookmarkStart"))]
    assert names == ["Tableau_1", "Tableau_2", "Tableau_3", "Tableau_7"] and len(set(ids)) == 4


def test_docx_byte_stable(tmp_path):
    t = sample_table()
    a = write_docx([t, model_table_fixture()], tmp_path / "a.docx").read_bytes()
    b = write_docx([t, model_table_fixture()], tmp_path / "b.docx").read_bytes()
    assert a == b
    props = docx.Document(tmp_path / "a.docx").core_properties
    assert props.created.year == 2026 and props.modified == props.created


def model_table_fixture():
    coefs = pd.DataFrame(
        {"estimate": [1.0], "se": [0.5], "statistic": [2.0], "p_value": [0.04], "ci_low": [0.0], "ci_high": [2.0]},
        index=["x"],
    )

    class Res:
        coefficients = coefs
        fit = pd.Series({"n": 10})

    return model_table({"M": Res()})


# ----------------------------------------------------------------------------- Excel / CSV
def test_xlsx_values_and_layout(tmp_path):
    t = sample_table()
    path = write_xlsx([t, t.with_locale("en")], tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Tableau 3", "Table 3"]
    ws = wb["Tableau 3"]
    assert ws["A1"].value == "Tableau 3" and ws["A1"].font.b
    assert ws["A2"].value == "Répartition des organisations" and ws["A2"].font.i
    values = [[c.value for c in row] for row in ws.iter_rows()]
    labels_row = next(i for i, row in enumerate(values) if row[0] == "Item")
    assert values[labels_row - 1][1] == "Associations" and values[labels_row - 2][1] == "Ensemble"
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert any(m.startswith("B") and ":E" in m for m in merged)  # Ensemble over 4 columns
    first = values[labels_row + 2]
    assert first[0] == "Conseil élu"
    assert first[1] == 1234 and isinstance(first[1], int)
    assert first[2] == pytest.approx(0.956)
    assert ws.cell(row=labels_row + 3, column=3).number_format == "0.0%"
    assert first[5] == "0,46***"  # starred cells are text
    assert first[6] == "< ,001"
    notes = [row[0] for row in values if row[0] and str(row[0]).startswith(("Note.", "*", "Source"))]
    assert len(notes) == 3


def test_xlsx_formula_injection(tmp_path):
    evil = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok", "−1 (minus sign)"]
    df = pd.DataFrame({"=col": evil, "n": range(len(evil))})
    t = Table(df).tab_header("=titre", number=1).tab_note("+note").tab_source("@src")
    wb = openpyxl.load_workbook(write_xlsx(t, tmp_path / "e.xlsx"))
    ws = wb.active
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f"
            if isinstance(c.value, str):
                assert not c.value.startswith(("=", "+", "-", "@", "\t", "\r")), c.value
    col_a = [c.value for c in ws["A"]]
    assert "'=HYPERLINK(\"http://x\")" in col_a and "'-2+3" in col_a and "ok" in col_a
    assert "'=col" in col_a


def test_csv_formula_injection(tmp_path):
    df = pd.DataFrame({"a": ["=1+1", "-x", "fine"], "n": [1, -2, 3]})
    p = write_csv(Table(df), tmp_path / "e.csv")
    lines = p.read_text(encoding="utf-8-sig").splitlines()
    assert lines == ["a;n", "'=1+1;1", "'-x;\u22122", "fine;3"]
    p = write_csv(Table(df).with_locale("en"), tmp_path / "e.csv")
    assert p.read_text(encoding="utf-8-sig").splitlines()[1] == "'=1+1,1"


def test_neutralize_formula_values():
    assert neutralize_formula("=A1") == "'=A1"
    assert neutralize_formula(3) == 3 and neutralize_formula(np.nan) is not None


def test_xlsx_byte_stable(tmp_path):
    t = sample_table()
    a = write_xlsx(t, tmp_path / "a.xlsx").read_bytes()
    b = write_xlsx(t, tmp_path / "b.xlsx").read_bytes()
    assert a == b
    props = openpyxl.load_workbook(tmp_path / "a.xlsx").properties
    assert props.modified == props.created and props.created.year == 2026  # no saving time


# ----------------------------------------------------------------------------- properties
@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escape_latex_property(text):
    out = escape_latex(text)
    for special in "&%$#_":
        assert re.search(r"(?<!\\)" + re.escape(special), out) is None
    assert "\n" not in out and "\u202f" not in out


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escape_markdown_property(text):
    out = escape_markdown(text)
    assert re.search(r"(?<!\\)\|", out) is None and "\n" not in out


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_neutralize_formula_property(text):
    out = neutralize_formula(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out == text or out == "'" + text


def test_latex_size_and_docx_landscape(tmp_path):
    tex = to_latex(sample_table(), size="small")
    assert "\\centering\n\\small\n\\begin{threeparttable}" in tex
    with pytest.raises(ConfigError):
        to_latex(sample_table(), size="huge")
    d = docx.Document(write_docx(sample_table(), tmp_path / "l.docx", landscape=True))
    section = d.sections[0]
    assert section.page_width > section.page_height


# ----------------------------------------------------------------------------- Word: cells from templates
def _add_table_per_cell_api(document, table, *, font_size=10, note_font_size=9, keep_together_rows=30):
    """The former add_table_to_document: every cell through python-docx's per-cell API (reference)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Length, Pt
    from docx.table import _Cell

    from analysis.tables import render_docx as rd

    r = table.render()
    lang = rd.proofing_language(r.locale.code)
    size, note_size = Pt(font_size), Pt(note_font_size)
    rd._add_heading(document, r, size, lang)
    n_header = len(r.spanner_rows) + 1
    tbl = document.add_table(rows=0, cols=r.n_columns)
    tbl.alignment = WD_TABLE_ALIGNMENT.LEFT
    tbl.autofit = False
    rd._set_table_borders(tbl)
    section = document.sections[-1]
    widths = rd._column_widths(r, font_size, Length(section.page_width - section.left_margin
                                                    - section.right_margin))
    for j, w in enumerate(widths):
        tbl.columns[j].width = w
    center, left = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT
    how = {"l": left, "c": center, "r": WD_ALIGN_PARAGRAPH.RIGHT}
    keep = rd._keep_flags(r, n_header, keep_together_rows)
    row_index = 0

    def new_row(segments, *, header=False, rule_above=False):
        nonlocal row_index
        tr = tbl._tbl.add_tr()
        rd._cant_split_tr(tr)
        if header:
            rd._repeat_header_tr(tr)
        for start, stop, text, align, italic, indent, rule_below in segments:
            tc = tr.add_tc()
            tc.width = Length(sum(widths[start:stop]))
            if stop - start > 1:
                tc.grid_span = stop - start
            cell = _Cell(tc, tbl)
            rd._fill(cell, text, size=size, align=align, italic=italic, indent=indent, lang=lang)
            if keep[row_index]:
                cell.paragraphs[0].paragraph_format.keep_with_next = True
            if rule_below or rule_above:
                rd._cell_rules(cell, top=rule_above, bottom=rule_below)
        row_index += 1

    for spans in r.spanner_rows:
        segments, j = [], 0
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
            new_row([(j, j + 1, c.text, how[al], False, Pt(12) if j == 0 and grouped and r.has_stub else None,
                      False) for j, (c, al) in enumerate(zip(row, r.alignments))], rule_above=rule and k == 0)
    rd._add_notes(document, r, note_size, lang)


def _document_xml(add, tables, **kw) -> bytes:
    import io
    import zipfile

    from analysis.tables import new_document

    document = new_document()
    for k, t in enumerate(tables):
        if k:
            document.add_paragraph()
        add(document, t, **kw)
    buf = io.BytesIO()
    document.save(buf)
    return zipfile.ZipFile(buf).read("word/document.xml")


@pytest.mark.parametrize("kw", [{}, {"font_size": 9, "note_font_size": 8}, {"keep_together_rows": 100}])
def test_docx_cells_from_templates_same_xml_as_per_cell_api(kw):
    from analysis.tables import add_table_to_document

    odd = pd.DataFrame({"texte": [" devant", "tab\tici", "ligne\nsuivante", "cr\rici", "", "derrière ", "  ",
                                  "<&>\"'", "١٢٣ عربي", None],
                        "grp": ["A"] * 5 + ["B"] * 5, "n": range(10)})
    tables = [sample_table(), model_table_fixture(), sample_table().with_locale("en"),
              Table(odd).tab_stub("texte", groupname_col="grp").tab_header("Bizarre", number=9),
              Table(odd.drop(columns="grp")).tab_spanner("Tout", ["texte", "n"])]
    assert _document_xml(add_table_to_document, tables, **kw) == _document_xml(_add_table_per_cell_api, tables, **kw)
