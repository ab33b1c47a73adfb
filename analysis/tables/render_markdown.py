"""Markdown writer: pipe tables with the number, title and notes as text.

Pipe tables have a single header row, so spanner labels are joined to the
column labels (``"Associations / n"``); row-group labels get their own bold row.

Examples
--------
>>> import pandas as pd
>>> from analysis.tables.builder import Table
>>> print(to_markdown(Table(pd.DataFrame({"a": ["x"], "n": [3]})).tab_header("T", number=1)))
**Tableau 1**
<BLANKLINE>
*T*
<BLANKLINE>
| a | n |
|:--|--:|
| x | 3 |
<BLANKLINE>
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.tables._rendered import RenderedTable, as_rendered, as_rendered_list
from analysis.utils.atomic import atomic_write_text

if TYPE_CHECKING:
    from analysis.tables.builder import Table

__all__ = ["to_markdown", "write_markdown", "escape_markdown", "SPANNER_JOIN"]

#: Text between a spanner label and a column label in the single Markdown header row.
SPANNER_JOIN = " / "

_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_|[]<>"})


def escape_markdown(text: str) -> str:
    """Escape characters that Markdown would read as markup (and pipes, for tables).

    Examples
    --------
    >>> escape_markdown("0,5** | a_b")
    '0,5\\\\*\\\\* \\\\| a\\\\_b'
    """
    return str(text).translate(_SPECIAL).replace("\n", " ")


def _header_labels(r: RenderedTable) -> list[str]:
    labels = [escape_markdown(x) for x in r.column_labels]
    prefixes: list[list[str]] = [[] for _ in labels]
    for row in r.spanner_rows:
        for span in row:
            for j in range(span.start, span.stop):
                prefixes[j].append(escape_markdown(span.label))
    return [SPANNER_JOIN.join(p + [lab]) for p, lab in zip(prefixes, labels)]


def to_markdown(table: Table | RenderedTable) -> str:
    """Render one table as Markdown text (ends with a newline).

    Parameters
    ----------
    table : Table or RenderedTable

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.tables.builder import Table
    >>> "*Note.* Test." in to_markdown(Table(pd.DataFrame({"a": [1]})).tab_note("Test."))
    True
    """
    r = as_rendered(table)
    out: list[str] = []
    if r.number_text:
        out += [f"**{escape_markdown(r.number_text)}**", ""]
    if r.title:
        out += [f"*{escape_markdown(r.title)}*", ""]
    if r.subtitle:
        out += [escape_markdown(r.subtitle), ""]
    out.append("| " + " | ".join(_header_labels(r)) + " |")
    rules = {"l": ":--", "c": ":-:", "r": "--:"}
    out.append("|" + "|".join(rules[al] for al in r.alignments) + "|")
    blank = [""] * (r.n_columns - 1)
    for section in r.sections:
        if section.label:
            out.append("| " + " | ".join([f"**{escape_markdown(section.label)}**"] + blank) + " |")
        for row in section.rows:
            out.append("| " + " | ".join(escape_markdown(c.text) for c in row) + " |")
    for note in r.notes:
        text = "".join(f"*{escape_markdown(t)}*" if it else escape_markdown(t) for t, it in note.segments())
        out += ["", text]
    return "\n".join(out) + "\n"


def write_markdown(
    tables: Table | RenderedTable | Iterable[Table | RenderedTable], path: str | os.PathLike[str]
) -> Path:
    """Write one or several tables to a Markdown file, atomically.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from analysis.tables.builder import Table
    >>> p = write_markdown(Table(pd.DataFrame({"a": [1]})), pathlib.Path(tempfile.mkdtemp()) / "t.md")
    >>> p.read_text(encoding="utf-8").splitlines()[0]
    '| a |'
    """
    texts = [to_markdown(r) for r in as_rendered_list(tables)]
    return atomic_write_text(path, "\n".join(texts))
