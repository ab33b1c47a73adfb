"""The rendered form of a table: the texts of every cell, ready for a writer.

:meth:`analysis.tables.Table.render` gives a :class:`RenderedTable`; the writers
(``render_*``) take a Table or a RenderedTable (:func:`as_rendered`) and never
import the builder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis.errors import InputError
from analysis.tables.formatting import Locale

if TYPE_CHECKING:
    from analysis.tables.builder import Table

__all__ = ["Cell", "HeaderSpan", "BodySection", "NoteLine", "RenderedTable", "as_rendered", "as_rendered_list"]


@dataclass(frozen=True)
class Cell:
    """One rendered body cell.

    Attributes
    ----------
    text : str
        The text shown (already formatted for the locale).
    value : object
        The raw value a spreadsheet should hold (a number where possible, else `text`).
    numeric : bool
        True for a number-like cell (right-aligned).
    excel_format : str or None
        An Excel number format for `value` (``"0.00"``, ``"0.0%"``...), None for text.
    """

    text: str
    value: object = None
    numeric: bool = False
    excel_format: str | None = None


@dataclass(frozen=True)
class HeaderSpan:
    """A spanner label over visible columns ``start`` to ``stop - 1``."""

    label: str
    start: int
    stop: int

    @property
    def width(self) -> int:
        """Number of columns spanned."""
        return self.stop - self.start


@dataclass(frozen=True)
class BodySection:
    """A block of body rows and the row-group label above it.

    ``label`` None: no label row; ``""``: no label row, but a rule above the block
    (used to set fit statistics apart in model tables).
    """

    label: str | None
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class NoteLine:
    """One paragraph under the table: an optional lead (``"Note."``, italic) and the text."""

    lead: str | None
    text: str
    legend: bool = False

    def plain(self) -> str:
        """The paragraph as plain text."""
        return f"{self.lead} {self.text}" if self.lead else self.text

    def segments(self) -> list[tuple[str, bool]]:
        """The paragraph as ``(text, italic)`` pieces: the lead and, in a star legend, each *p*.

        Examples
        --------
        >>> NoteLine(None, "*p < ,05. **p < ,01.", legend=True).segments()
        [('*', False), ('p', True), (' < ,05. **', False), ('p', True), (' < ,01.', False)]
        >>> NoteLine("Note.", "Texte.").segments()
        [('Note.', True), (' ', False), ('Texte.', False)]
        """
        out: list[tuple[str, bool]] = []
        if self.lead:
            out += [(self.lead, True), (" ", False)]
        if self.legend:
            parts = re.split(r"(?<=\*)(p)(?= )", self.text)
            out += [(part, k % 2 == 1) for k, part in enumerate(parts) if part]
        else:
            out.append((self.text, False))
        return out


@dataclass(frozen=True)
class RenderedTable:
    """Everything a writer needs, already formatted as text for one locale.

    Attributes
    ----------
    number_text : str or None
        ``"Tableau 3"``; None when the table has no number.
    title, subtitle : str or None
    spanner_rows : tuple of tuple of HeaderSpan
        Spanner rows from the top one down; each lists the labelled spans only.
    column_labels : tuple of str
    numeric_columns : tuple of bool
        Whether each visible column holds numbers.
    alignments : tuple of str
        ``"l"``, ``"c"`` or ``"r"`` for each visible column (numbers right-aligned
        unless ``cols_align`` says otherwise).
    has_stub : bool
        True when the first column is the stub (row labels).
    sections : tuple of BodySection
    notes : tuple of NoteLine
    label : str or None
        LaTeX label.
    locale : Locale
    """

    number_text: str | None
    title: str | None
    subtitle: str | None
    spanner_rows: tuple[tuple[HeaderSpan, ...], ...]
    column_labels: tuple[str, ...]
    numeric_columns: tuple[bool, ...]
    alignments: tuple[str, ...]
    has_stub: bool
    sections: tuple[BodySection, ...]
    notes: tuple[NoteLine, ...]
    label: str | None
    locale: Locale

    @property
    def n_columns(self) -> int:
        """Number of visible columns."""
        return len(self.column_labels)

    @property
    def n_body_rows(self) -> int:
        """Number of data rows (group label rows not counted)."""
        return sum(len(s.rows) for s in self.sections)

    def body_text(self) -> list[list[str]]:
        """The body as a list of rows of text (group labels left out).

        Examples
        --------
        >>> import pandas as pd
        >>> from analysis.tables import Table
        >>> Table(pd.DataFrame({"a": [1.5]})).render().body_text()
        [['1,50']]
        """
        return [[c.text for c in row] for s in self.sections for row in s.rows]

    def caption_text(self) -> str:
        """Title line as plain text: ``"Tableau 3. Title"`` (or just the title)."""
        parts = [p for p in (self.number_text, self.title) if p]
        return ". ".join(parts)


def as_rendered(table: Table | RenderedTable) -> RenderedTable:
    """Render a :class:`~analysis.tables.Table` (a :class:`RenderedTable` is returned unchanged).

    Examples
    --------
    >>> as_rendered("not a table")
    Traceback (most recent call last):
    ...
    analysis.errors.InputError: A writer needs a Table; found 'str'; expected analysis.tables.Table.
    """
    if isinstance(table, RenderedTable):
        return table
    render = getattr(table, "render", None)  # a Table (duck-typed: the builder imports the writers)
    if callable(render):
        rendered = render()
        if isinstance(rendered, RenderedTable):
            return rendered
    raise InputError(
        "A writer needs a Table.", value=type(table).__name__, expected="analysis.tables.Table"
    )


def as_rendered_list(tables: Table | RenderedTable | Iterable[Table | RenderedTable]) -> list[RenderedTable]:
    """Accept one table or several and return them rendered."""
    if isinstance(tables, RenderedTable) or callable(getattr(tables, "render", None)):
        return [as_rendered(tables)]
    out = [as_rendered(t) for t in tables]
    if not out:
        raise InputError("No table to write.", expected="at least one Table")
    return out
