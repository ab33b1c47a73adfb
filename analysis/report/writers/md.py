"""Markdown: ``tables.md`` (every table) and ``md/<id>.md``.

Given ``after=`` (per table, a paragraph or None), each paragraph is printed right
after its table: the APA-style results text of the report.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.report.writers._base import Writer

__all__ = ["WRITER", "markdown_text"]


def markdown_text(rendered: Sequence, after: Sequence[str | None] | None = None) -> str:
    """The Markdown of the tables, each followed by its paragraph of ``after`` (None: nothing).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.tables.builder import Table
    >>> t = Table(pd.DataFrame({"a": [1]})).render()
    >>> markdown_text([t], ["Results: a = 1."]).splitlines()[-1]
    'Results: a = 1.'
    """
    from analysis.tables import to_markdown
    from analysis.tables.render_markdown import escape_markdown

    extra = list(after or []) + [None] * len(rendered)
    return "\n".join(to_markdown(r) + (f"\n{escape_markdown(x)}\n" if x else "") for r, x in zip(rendered, extra))


def _combined(rendered, landscape, out_dir, lang, after=None):
    from analysis.utils.atomic import atomic_write_text

    return atomic_write_text(out_dir / "tables.md", markdown_text(rendered, after))


def _per_table(tid, rendered, landscape, out_dir, after=None):
    from analysis.utils.atomic import atomic_write_text

    return atomic_write_text(out_dir / "md" / f"{tid}.md", markdown_text(rendered, after))


WRITER = Writer("md", combined=_combined, per_table=_per_table, results_text=True)
