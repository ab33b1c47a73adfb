"""Markdown: ``tables.md`` (every table) and ``md/<id>.md``."""

from __future__ import annotations

from analysis.report.writers._base import Writer

__all__ = ["WRITER"]


def _combined(rendered, landscape, out_dir, lang):
    from analysis.tables import write_markdown

    return write_markdown(list(rendered), out_dir / "tables.md")


def _per_table(tid, rendered, landscape, out_dir):
    from analysis.tables import write_markdown

    return write_markdown(list(rendered), out_dir / "md" / f"{tid}.md")


WRITER = Writer("md", combined=_combined, per_table=_per_table)
