"""HTML: ``tables.html``, every table on one self-contained page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analysis.report.writers._base import Writer

__all__ = ["write_html", "WRITER"]


def write_html(rendered: Sequence, landscape: Sequence[bool], out_dir: Path, lang: str,
               after: Sequence[str | None] | None = None) -> Path:
    """``tables.html`` in ``out_dir`` (the page orientation does not apply); ``after``: per
    table, a paragraph printed right after it (the APA-style results text) or None."""
    from analysis.report._texts import load_texts
    from analysis.tables import write_html_page

    title = load_texts(lang)("figures.page_title")  # the page's title, in texts/<lang>.yaml
    return write_html_page(list(rendered), out_dir / "tables.html", title=title, after=after)


WRITER = Writer("html", combined=write_html, results_text=True)
