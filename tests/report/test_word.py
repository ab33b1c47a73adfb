"""Tests of the Word report (issue 15, point 3): ready for a thesis, checked in the XML and on the page.

The small fixed data set of :mod:`tests.report.test_reports` is written as a report with
tables and figures (``tables.docx`` and ``docx/<id>.docx``), then checked:

* in the XML: A4 pages, proofing language ``fr-FR`` (``en-US`` in English) in the styles
  and the runs, caption fields ``SEQ Tableau`` / ``SEQ Figure`` in the "Caption" style with a
  bookmark each, the lists of tables and figures (``TOC \\c``) and ``w:updateFields``,
  repeated header rows (``w:tblHeader``), rows that never split (``w:cantSplit``), the
  figures after their table;
* on the page, when LibreOffice is installed (``soffice``): the document converted to PDF
  has A4 pages, no page opens on a note (a note or source line alone on a page), and every
  page of the tables opens on a caption (a table continued opens its page under
  "Tableau N (suite)").

The same checks run on the demo report (``slow``: the whole pipeline).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from analysis import pipeline
from analysis.report import build_reports, load_table_plan
from tests.report.test_reports import small_survey

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

PLAN = """\
version: 1
options:
  small_cell_threshold: 5
  seed: 2026
  group: legal_form_group
tables:
  - id: flow
    kind: flow
    title: {fr: "Flux des répondants", en: "Respondent flow"}
  - id: sample
    kind: sample
    title: {fr: "Description de l'échantillon", en: "Sample description"}
    categorical: [legal_form, milieu]
    numeric: [n_members]
  - id: likert
    kind: likert
    title: {fr: "Distribution des réponses", en: "Distribution of the answers"}
    constructs: [si_presence, internal_capacity]
  - id: problems
    kind: problems
    title: {fr: "Problèmes rencontrés", en: "Problems encountered"}
    serious_from: 4
"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The small data set's report in Word, in French and in English."""
    root = tmp_path_factory.mktemp("word")
    processed = root / "processed"
    processed.mkdir()
    survey, flow = small_survey()
    survey.to_parquet(processed / "survey.parquet")
    flow.to_csv(processed / "flow.csv", index=False)
    (root / "tables.yaml").write_text(PLAN, encoding="utf-8")
    plan = load_table_plan(root / "tables.yaml")
    out = {}
    for lang in ("fr", "en"):
        out[lang] = build_reports(processed, root / lang, plan=plan, formats=["docx"], lang=lang, demo=False)
    return {"root": root, **out}


def _xml(path: Path, part: str = "word/document.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode("utf-8")


def _check_word_xml(path: Path, lang: str, n_tables: int, n_figures: int, table_label: str) -> str:
    """The checks of a thesis-ready tables.docx on its XML; returns the document XML."""
    doc, styles, settings = _xml(path), _xml(path, "word/styles.xml"), _xml(path, "word/settings.xml")
    # A4 portrait (21 x 29.7 cm in twips), landscape sections the same turned
    sizes = set(re.findall(r'<w:pgSz w:w="(\d+)" w:h="(\d+)"', doc))
    assert sizes and sizes <= {("11906", "16838"), ("16838", "11906")}, sizes
    # proofing language in the default text, the styles and every run that names one
    assert f'<w:lang w:val="{lang}"' in styles
    run_langs = set(re.findall(r'<w:lang w:val="([^"]+)"', doc))
    assert run_langs == {lang}
    # caption fields, one per table and figure, each caption wrapped in a bookmark
    assert len(re.findall(rf"SEQ {table_label} \\\* ARABIC", doc)) == n_tables
    assert len(re.findall(r"SEQ Figure \\\* ARABIC", doc)) == n_figures
    assert len(re.findall(rf'w:name="{table_label}_\d+"', doc)) == n_tables
    assert len(re.findall(r'w:name="Figure_\d+"', doc)) == n_figures
    assert doc.count('<w:pStyle w:val="Caption"/>') == n_tables + n_figures
    # the lists of tables and figures, updated by Word on opening
    assert f'TOC \\h \\z \\c "{table_label}"' in doc
    assert ('TOC \\h \\z \\c "Figure"' in doc) == bool(n_figures)
    assert '<w:updateFields w:val="true"/>' in settings
    # header rows repeated, rows never split
    assert "<w:tblHeader" in doc and "<w:cantSplit" in doc
    assert doc.count("<w:tr>") + doc.count("<w:tr ") == doc.count("<w:cantSplit")
    # the figures are in the document
    assert doc.count("<pic:pic") == n_figures
    return doc


def test_word_report_is_ready_for_a_thesis(reports):
    root = reports["root"]
    outputs = reports["fr"].outputs
    n_tables = sum(len(o.tables) for o in outputs.values())
    n_figures = sum(len(o.figures) for o in outputs.values())
    assert n_figures >= 2
    doc = _check_word_xml(root / "fr" / "tables.docx", "fr-FR", n_tables, n_figures, "Tableau")
    assert "Liste des tableaux" in doc and "Liste des figures" in doc
    # each figure after its own table: the likert figures follow the likert tables, before the next table
    import docx

    likert_last = sum(len(outputs[t].tables) for t in ("flow", "sample", "likert"))
    captions = [p.text.split("\n")[0] for p in docx.Document(root / "fr" / "tables.docx").paragraphs
                if p.style.name == "Caption"]
    k = captions.index(f"Tableau {likert_last}")
    assert captions[k + 1:k + 1 + n_figures] == [f"Figure {i}" for i in range(1, n_figures + 1)]
    assert captions[k + 1 + n_figures] == f"Tableau {likert_last + 1}"


def test_word_report_in_english(reports):
    outputs = reports["en"].outputs
    n_tables = sum(len(o.tables) for o in outputs.values())
    n_figures = sum(len(o.figures) for o in outputs.values())
    doc = _check_word_xml(reports["root"] / "en" / "tables.docx", "en-US", n_tables, n_figures, "Table")
    assert "List of tables" in doc


def test_word_files_per_table_keep_the_report_numbers(reports):
    """docx/<id>.docx holds its tables under their numbers in the report (the field restarts there)."""
    import docx

    outputs = reports["fr"].outputs
    first = 1 + sum(len(outputs[t].tables) for t in ("flow", "sample"))
    d = docx.Document(reports["root"] / "fr" / "docx" / "likert.docx")
    caption = d.paragraphs[0]
    assert caption.style.name == "Caption" and caption.text.startswith(f"Tableau {first}\n")
    assert f"\\r {first}" in caption._p.xml
    assert sorted(p.name for p in (reports["root"] / "fr" / "docx").iterdir()) == [
        "flow.docx", "likert.docx", "problems.docx", "sample.docx"]


# --------------------------------------------------------------------------- on the page (LibreOffice)


def _to_pdf(docx_path: Path, out_dir: Path) -> Path:
    """The document converted to PDF by LibreOffice (skips when it is not installed)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / "lo-profile"  # a private profile: no clash with another soffice running
    proc = subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(out_dir), str(docx_path)], capture_output=True, text=True, timeout=600)
    pdf = out_dir / (docx_path.stem + ".pdf")
    assert proc.returncode == 0 and pdf.exists(), proc.stderr[-2000:]
    return pdf


def _check_pdf(pdf: Path, first_words: tuple[str, ...]) -> list[str]:
    """A4 pages, and no page that opens on a note or a source line; returns the text of each page."""
    if shutil.which("pdfinfo") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdfinfo, pdftotext) is not installed")
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert sizes
    for w, h in sizes:  # A4: 595.3 x 841.9 pt, either way
        assert sorted((round(float(w)), round(float(h)))) == [595, 842], (w, h)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    pages = text.split("\f")
    tables_started = False
    for k, page in enumerate(pages, start=1):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        if lines:
            assert not lines[0].startswith(("Note.", "Source")), f"page {k} opens on a note: {lines[0]!r}"
            # once the tables begin, every page opens on a caption: a table continued on a new
            # page opens it under "Tableau N (suite)", never on its rows
            tables_started = tables_started or bool(re.fullmatch(r"(Tableau|Table) 1", lines[0]))
            if tables_started:
                assert re.fullmatch(r"(Tableau|Table) \d+( \((suite|continued)\))?|Figure \d+", lines[0]), (
                    f"page {k} opens on {lines[0]!r}")
    assert all(word in text for word in first_words)
    return pages


def test_word_report_on_the_page(reports, tmp_path):
    pdf = _to_pdf(reports["root"] / "fr" / "tables.docx", tmp_path)
    pages = _check_pdf(pdf, ("Liste des tableaux", "Tableau 1", "Figure 1"))
    assert len(pages) >= 3


# --------------------------------------------------------------------------- the demo report


@pytest.mark.slow
def test_demo_word_report_on_the_page(tmp_path_factory):
    """The demo's tables.docx: the XML checks, then converted to PDF by LibreOffice."""
    root = tmp_path_factory.mktemp("demo-word")
    result = pipeline.run(processed_dir=root / "processed", out_dir=root / "reports", progress=lambda m: None)
    outputs = result.report.outputs
    n_tables = sum(len(o.tables) for o in outputs.values())
    n_figures = sum(len(o.figures) for o in outputs.values())
    _check_word_xml(root / "reports" / "tables.docx", "fr-FR", n_tables, n_figures, "Tableau")
    assert sorted(p.stem for p in (root / "reports" / "docx").iterdir()) == sorted(outputs)
    assert not any(re.match(r"table\d", tid) for tid in outputs)  # no number in a file name
    pdf = _to_pdf(root / "reports" / "tables.docx", root / "pdf")
    _check_pdf(pdf, ("Liste des tableaux", f"Tableau {n_tables}", f"Figure {n_figures}"))


def test_long_table_continued_on_the_page(tmp_path):
    """A table three pages long: each further page opens on "Tableau 1 (suite)" and the header,
    a coefficient and its standard error on the same page, the notes with the last rows."""
    import numpy as np
    import pandas as pd

    from analysis.tables import Table, write_docx

    n = 160
    stub = [f"x{i // 2}" if i % 2 == 0 else "" for i in range(n)]
    values = [f"{i},00" if i % 2 == 0 else f"({i},00)" for i in range(n)]
    table = (Table(pd.DataFrame({"Variable": stub, "Coef.": values, "n": np.arange(n)})).tab_stub("Variable")
             .tab_header("Coefficients", number=1).tab_note("Entre parenthèses : erreurs-types.").tab_source("Source"))
    pdf = _to_pdf(write_docx(table, tmp_path / "long.docx"), tmp_path)
    pages = [[ln.strip() for ln in page.splitlines() if ln.strip()] for page in _check_pdf(pdf, ("Tableau 1",))]
    pages = [p for p in pages if p]
    assert len(pages) >= 3
    assert pages[0][:2] == ["Tableau 1", "Coefficients"]
    for page in pages[1:]:
        assert page[0] == "Tableau 1 (suite)"
        assert page[1].split() == ["Variable", "Coef.", "n"]  # the header row, repeated
        assert page[2].startswith("x")  # a coefficient opens the page, never a standard error
    for page in pages[:-1]:
        assert page[-1].split()[0].startswith("(")  # a standard error ends the page
    assert pages[-1][-1].startswith("Source")
    rows = [ln for page in pages for ln in page if re.match(r"(x\d+ +)?\(?\d+,00", ln)]
    assert len(rows) == n
