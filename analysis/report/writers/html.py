"""HTML: ``tables.html``, every table on one self-contained page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analysis.report.writers._base import Writer

__all__ = ["write_html", "WRITER", "PAGE_TITLE"]

#: Title of the combined pages (HTML), per language.
PAGE_TITLE = {"fr": "Tableaux de la thèse", "en": "Thesis tables"}


def write_html(rendered: Sequence, landscape: Sequence[bool], out_dir: Path, lang: str,
               after: Sequence[str | None] | None = None) -> Path:
    """``tables.html`` in ``out_dir`` (the page orientation does not apply); ``after``: per
    table, a paragraph printed right after it (the APA-style results text) or None."""
    from analysis.tables import write_html_page

    return write_html_page(list(rendered), out_dir / "tables.html", title=PAGE_TITLE[lang], after=after)


WRITER = Writer("html", combined=write_html, results_text=True)
