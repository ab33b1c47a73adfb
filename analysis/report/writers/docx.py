"""Word: ``tables.docx`` (every table and figure) and ``docx/<id>.docx``; wide tables on landscape pages.

Both are laid out for a thesis (:func:`analysis.tables.new_document`): A4 pages with
thesis margins, proofing language of the report (``fr-FR``, ``en-US``), captions as
Word caption fields (``SEQ Tableau``, ``SEQ Figure``) in the "Caption" style. The
combined ``tables.docx`` opens on a list of tables (and of figures), Word fields
(``TOC \\c "Tableau"``) that Word fills in when it opens the file (``w:updateFields``);
each table's figures follow it, with their caption and note.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analysis.report._layout import _TABLE_FONT, _natural_width_cm
from analysis.report.writers._base import ReportFigure, Writer

__all__ = ["write_docx", "WRITER"]

_FIGURE_LABEL = "Figure"


def _update_fields_on_open(document) -> None:
    """``w:updateFields`` in the settings: Word refreshes the lists and numbers on opening."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    settings = document.settings.element
    el = OxmlElement("w:updateFields")
    el.set(qn("w:val"), "true")
    anchor = next((settings.find(qn(t)) for t in ("w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat")
                   if settings.find(qn(t)) is not None), None)
    if anchor is not None:
        anchor.addprevious(el)
    else:
        settings.append(el)


def _add_list(document, title: str, label: str, entries: list[str]) -> None:
    """A title and a ``TOC \\c "label"`` field (list of tables or figures), ``entries`` as its cached text."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    head = document.add_paragraph()
    head.paragraph_format.space_after = Pt(12)
    run = head.add_run(title)
    run.bold = True
    run.font.size = Pt(14)

    def char(para, kind):
        fld = OxmlElement("w:fldChar")
        fld.set(qn("w:fldCharType"), kind)
        para.add_run()._r.append(fld)

    paras = [document.add_paragraph() for _ in range(max(1, len(entries)))]
    first, last = paras[0], paras[-1]
    char(first, "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f' TOC \\h \\z \\c "{label}" '
    first.add_run()._r.append(instr)
    char(first, "separate")
    for para, text in zip(paras, entries):
        para.paragraph_format.space_after = Pt(3)
        para.add_run(text)
    char(last, "end")


def _add_figure(document, fig: ReportFigure, number: int, lang: str, note_label: str) -> None:
    """Caption ``Figure N`` (a field) and title above, the picture, the note below, kept together."""
    import io

    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Emu, Inches, Pt

    from analysis.tables.render_docx import add_caption, proofing_language

    proofing = proofing_language(lang)
    document.add_paragraph().paragraph_format.keep_with_next = True
    add_caption(document, _FIGURE_LABEL, number, fig.caption, lang=proofing)
    section = document.sections[-1]
    max_w = section.page_width - section.left_margin - section.right_margin
    max_h = section.page_height - section.top_margin - section.bottom_margin - Inches(1.6)
    scale = min(1.0, max_w / Inches(fig.width_in), max_h / Inches(fig.height_in))
    para = document.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pf = para.paragraph_format
    pf.keep_with_next = bool(fig.note)
    pf.space_after = Pt(0)
    para.add_run().add_picture(io.BytesIO(fig.png), width=Emu(int(Inches(fig.width_in) * scale)),
                               height=Emu(int(Inches(fig.height_in) * scale)))
    if fig.note:
        note = document.add_paragraph()
        note.paragraph_format.space_before = Pt(4)
        lead = note.add_run(note_label)
        lead.italic = True
        lead.font.size = Pt(_TABLE_FONT - 1)
        body = note.add_run(" " + fig.note)
        body.font.size = Pt(_TABLE_FONT - 1)


def write_docx(rendered: Sequence, landscape: Sequence[bool], path: Path, *, lang: str | None = None,
               figures: Sequence[ReportFigure] | None = None, lists: bool = False) -> Path:
    """Word document with one table after the other; wide tables on landscape pages.

    ``lists``: open on the lists of tables and figures (and have Word update the
    fields on opening); ``figures``: inserted after the table they follow.
    """
    import io

    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_BREAK

    from analysis.tables import add_table_to_document, new_document, stable_zip
    from analysis.tables.render_docx import set_page
    from analysis.utils.atomic import atomic_write_bytes

    lang = lang or (rendered[0].locale.code if rendered else "fr")
    figures = list(figures or [])
    document = new_document(lang=lang)
    if lists:
        from analysis.report._texts import load_texts

        texts = load_texts(lang)  # the titles of the lists, in texts/<lang>.yaml
        titles = (texts("figures.list_of_tables"), texts("figures.list_of_figures"))
        label = rendered[0].locale.table_label if rendered else "Tableau"
        _add_list(document, titles[0], label, [r.caption_text() for r in rendered if r.number_text])
        if figures:
            document.add_paragraph()
            _add_list(document, titles[1], _FIGURE_LABEL,
                      [f"{_FIGURE_LABEL} {k}. {f.caption}" for k, f in enumerate(figures, start=1)])
        document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
        _update_fields_on_open(document)
    section = document.sections[-1]
    current = False
    n_figure = 0
    for k, (r, land) in enumerate(zip(rendered, landscape)):
        if k > 0 and land != current:
            section = document.add_section(WD_SECTION.NEW_PAGE)
            set_page(section, landscape=land)
        elif k == 0 and land:
            set_page(section, landscape=True)
        elif k > 0:
            document.add_paragraph()
        current = land
        size = 9.0 if land and _natural_width_cm(r) > 24 else _TABLE_FONT
        add_table_to_document(document, r, font_size=size, note_font_size=size - 1)
        for fig in (f for f in figures if f.after == k):
            if current:  # figures are laid out for a portrait page
                set_page(document.add_section(WD_SECTION.NEW_PAGE), landscape=False)
                current = False
            n_figure += 1
            _add_figure(document, fig, n_figure, lang, r.locale.note_label)
    buf = io.BytesIO()
    document.save(buf)
    return atomic_write_bytes(path, stable_zip(buf.getvalue()))


WRITER = Writer(
    "docx",
    combined=lambda rendered, landscape, out_dir, lang, figures=None: write_docx(
        rendered, landscape, out_dir / "tables.docx", lang=lang, figures=figures, lists=True),
    per_table=lambda tid, rendered, landscape, out_dir: write_docx(rendered, landscape, out_dir / "docx" / f"{tid}.docx"),
    figures=True,
)
