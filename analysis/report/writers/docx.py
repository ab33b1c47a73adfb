"""Word: ``tables.docx`` (every table) and ``docx/<id>.docx``; wide tables on landscape pages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analysis.report._layout import _TABLE_FONT, _natural_width_cm
from analysis.report.writers._base import Writer

__all__ = ["write_docx", "WRITER"]


def write_docx(rendered: Sequence, landscape: Sequence[bool], path: Path) -> Path:
    """Word document with one table after the other; wide tables on landscape pages."""
    import io

    from docx.enum.section import WD_ORIENT, WD_SECTION

    from analysis.tables import add_table_to_document, new_document, stable_zip
    from analysis.utils.atomic import atomic_write_bytes

    document = new_document()
    section = document.sections[-1]
    portrait = (section.page_width, section.page_height)
    current = False
    for k, (r, land) in enumerate(zip(rendered, landscape)):
        if k > 0 and land != current:
            section = document.add_section(WD_SECTION.NEW_PAGE)
            if land:
                section.orientation = WD_ORIENT.LANDSCAPE
                section.page_width, section.page_height = portrait[1], portrait[0]
            else:
                section.orientation = WD_ORIENT.PORTRAIT
                section.page_width, section.page_height = portrait
        elif k == 0 and land:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = portrait[1], portrait[0]
        elif k > 0:
            document.add_paragraph()
        current = land
        size = 9.0 if land and _natural_width_cm(r) > 24 else _TABLE_FONT
        add_table_to_document(document, r, font_size=size, note_font_size=size - 1)
    buf = io.BytesIO()
    document.save(buf)
    return atomic_write_bytes(path, stable_zip(buf.getvalue()))


WRITER = Writer(
    "docx",
    combined=lambda rendered, landscape, out_dir, lang: write_docx(rendered, landscape, out_dir / "tables.docx"),
    per_table=lambda tid, rendered, landscape, out_dir: write_docx(rendered, landscape, out_dir / "docx" / f"{tid}.docx"),
)
