"""Where a Word table's pages end: estimated heights, and the page-sized parts of a long table.

Word has no continued caption: a table that runs over a page only repeats its header rows.
So the Word writer lays out pages itself. It estimates the height of each row (from the
column widths, the font size and a word-wrap of the cell texts, on the conservative side)
and of the caption and notes. A table that fits on one page is kept whole (moved to the
next page if need be); a longer one starts on a new page and is split into parts that each
fill at most :data:`FILL` of a page, every part after the first under a line
"Tableau N (suite)" that opens a new page. The breaks fall only where
:func:`analysis.tables.render_docx._keep_flags` allows one (never under a group label,
between a coefficient and its standard error, nor among the first and last rows).

Examples
--------
>>> page_parts([10.0] * 10, [True] * 10, head=0, header=0, continued=0, notes=0, page=50)
[(0, 4), (4, 8), (8, 10)]
>>> page_parts([10.0] * 9, [True] * 9, head=0, header=0, continued=0, notes=0, page=80)  # evenly
[(0, 5), (5, 9)]
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["FILL", "LEADING", "wrapped_lines", "row_height", "paragraph_height", "page_parts", "text_width_pt"]

#: Share of a page's text height a part of a long table may fill (the estimate's safety margin).
FILL = 0.94
#: Height of a line of single-spaced Times New Roman (Liberation Serif), in font sizes.
LEADING = 1.16
#: Advance widths of Times New Roman (and of its metric clone Liberation Serif), in thousandths
#: of the font size; accented letters take their base letter's, other characters :data:`_OTHER`.
_WIDTHS = dict(zip(
    " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"()[]-\u2013\u2014/%&*+=<>",
    (250, 444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500, 500, 500, 333, 389, 278,
     500, 500, 722, 500, 500, 444, 722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722,
     556, 722, 667, 556, 611, 722, 722, 944, 722, 722, 611) + (500,) * 10
    + (250, 250, 278, 278, 333, 444, 180, 408, 333, 333, 333, 333, 333, 500, 1000, 278, 833, 778, 500, 564,
       564, 564, 564)))
_OTHER = 600
#: Widths are taken this much wider than the font's (rounding; the bold "Tableau" of captions).
_MARGIN = 1.01
#: Left and right cell margins of a Word table (0.19 cm each), in points.
CELL_MARGINS_PT = 10.8
#: Space above and below the paragraph of a table cell, in points.
_CELL_SPACING_PT = 2.0


def _text_width(text: str) -> float:
    """Width of ``text`` in font sizes (Times New Roman metrics)."""
    total = 0
    for ch in text:
        w = _WIDTHS.get(ch)
        if w is None:
            w = _WIDTHS.get(unicodedata.normalize("NFD", ch)[:1], _OTHER)
        total += w
    return total * _MARGIN / 1000


def wrapped_lines(text: str, width_pt: float, size_pt: float) -> int:
    """Number of lines ``text`` takes once wrapped at word breaks in ``width_pt`` points.

    Examples
    --------
    >>> wrapped_lines("", 100, 10), wrapped_lines("court", 100, 10), wrapped_lines("a\\nb", 100, 10)
    (1, 1, 2)
    >>> wrapped_lines("un deux trois", width_pt=30, size_pt=10)
    3
    """
    line = max(width_pt / size_pt, 0.5)  # in font sizes
    space = _text_width(" ")
    lines = 0
    for para in text.splitlines() or [""]:
        n, used = 1, 0.0
        for word in para.split():
            w = _text_width(word)
            if used == 0:
                used = w
            elif used + space + w <= line:
                used += space + w
            else:
                n, used = n + 1, w
            while used > line:  # a word longer than the line breaks anywhere
                n, used = n + 1, used - line
        lines += n
    return lines


def row_height(cells: Sequence[tuple[str, float]], size_pt: float) -> float:
    """Height of a table row, in points: its tallest cell; ``cells`` are (text, text width in points).

    Examples
    --------
    >>> round(row_height([("a", 50.0), ("b c d", 10.0)], 10), 1)
    36.8
    """
    lines = max((wrapped_lines(text, width, size_pt) for text, width in cells), default=1)
    return lines * LEADING * size_pt + _CELL_SPACING_PT


def paragraph_height(text: str, width_pt: float, size_pt: float, space_pt: float = 0.0) -> float:
    """Height of a paragraph, in points: its wrapped lines and the space around it.

    Examples
    --------
    >>> round(paragraph_height("Tableau 3", 400, 12, space_pt=6), 1)
    19.9
    """
    return wrapped_lines(text, width_pt, size_pt) * LEADING * size_pt + space_pt


def page_parts(rows: Sequence[float], breakable: Sequence[bool], *, head: float, header: float,
               continued: float, notes: float, page: float, fill: float = FILL) -> list[tuple[int, int]]:
    """Split the body rows of a table into page-sized parts: ``[(start, stop), ...]``.

    Parameters
    ----------
    rows : sequence of float
        Height of each body row, in points.
    breakable : sequence of bool
        Whether a page may end after each body row.
    head, header, continued, notes : float
        Heights of the caption above the table, of its header rows (repeated on every
        part), of the "Tableau N (suite)" line above each further part, and of the notes
        under the last part.
    page : float
        Text height of a page, in points.
    fill : float, default :data:`FILL`
        Share of ``page`` a part may fill.

    Returns
    -------
    list of (int, int)
        One part when the whole table fits on a page; otherwise as few parts as fit
        each on one page, filled as evenly as the breaks allow (a part that cannot fit,
        for want of a row to break after, runs over).

    Examples
    --------
    >>> page_parts([10.0] * 4, [True] * 4, head=10, header=10, continued=5, notes=5, page=100)
    [(0, 4)]
    >>> page_parts([10.0] * 6, [True, True, False, True, True, False], head=0, header=0, continued=0,
    ...            notes=0, page=30, fill=1.0)  # no break after the third row
    [(0, 2), (2, 4), (4, 6)]
    """
    top = [0.0]
    for h in rows:
        top.append(top[-1] + h)

    def greedy(limit: float) -> list[tuple[int, int]]:
        n = len(rows)
        parts: list[tuple[int, int]] = []
        start, above = 0, head
        while True:
            room = limit - above - header
            if top[n] - top[start] + notes <= room or start >= n:
                parts.append((start, n))
                return parts
            fits = [stop for stop in range(start + 1, n) if breakable[stop - 1] and top[stop] - top[start] <= room]
            if fits:
                stop = fits[-1]
            else:  # no break within a page: the first one allowed (the part runs over), or none left
                later = [stop for stop in range(start + 1, n) if breakable[stop - 1]]
                if not later:
                    parts.append((start, n))
                    return parts
                stop = later[0]
            parts.append((start, stop))
            start, above = stop, continued

    parts = greedy(page * fill)
    if len(parts) > 1:  # as many pages, evenly filled: the smallest page height that needs no more
        low, high = 0.0, page * fill
        for _ in range(30):
            mid = (low + high) / 2
            low, high = (low, mid) if len(greedy(mid)) <= len(parts) else (mid, high)
        parts = greedy(high)
    return parts


def text_width_pt(width_emu: int) -> float:
    """A Word length (EMU) in points.

    Examples
    --------
    >>> text_width_pt(12700)
    1.0
    """
    return width_emu / 12700

