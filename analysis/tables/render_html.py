"""HTML writer: table fragments and a self-contained page with embedded CSS (APA look).

Examples
--------
>>> import pandas as pd
>>> from analysis.tables.builder import Table
>>> html = to_html(Table(pd.DataFrame({"a": ["<b>"]})).tab_header("T", number=2))
>>> "&lt;b&gt;" in html and '<p class="tab-number">Tableau 2</p>' in html
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.tables._rendered import RenderedTable, as_rendered, as_rendered_list
from analysis.utils.atomic import atomic_write_text

if TYPE_CHECKING:
    from analysis.tables.builder import Table

__all__ = ["to_html", "write_html_page", "HTML_CSS"]

#: The style sheet embedded in pages written by :func:`write_html_page`.
HTML_CSS = """\
body { font-family: "Times New Roman", Times, serif; font-size: 12pt; color: #000;
       max-width: 60em; margin: 2em auto; padding: 0 1em; }
figure.si-table { margin: 2.5em 0; overflow-x: auto; }
.si-table .tab-number { font-weight: bold; margin: 0 0 .3em 0; }
.si-table .tab-title { font-style: italic; margin: 0 0 .3em 0; }
.si-table .tab-subtitle { margin: 0 0 .6em 0; }
.si-table table { border-collapse: collapse; border-top: 1.5px solid #000;
                  border-bottom: 1.5px solid #000; }
.si-table th, .si-table td { padding: .2em .7em; vertical-align: top; border: none; }
.si-table thead th { font-weight: normal; text-align: center; }
.si-table thead tr.labels th { border-bottom: 1px solid #000; }
.si-table thead th.spanner span { display: block; border-bottom: 1px solid #000;
                                  padding-bottom: .15em; }
.si-table td.num, .si-table th.num { text-align: right; white-space: nowrap; }
.si-table td.txt, .si-table th.txt { text-align: left; }
.si-table td.ctr, .si-table th.ctr { text-align: center; white-space: nowrap; }
.si-table tr.group td { font-style: italic; padding-top: .6em; }
.si-table tr.sep td { border-top: 1px solid #000; }
.si-table td.indent { padding-left: 1.8em; }
.si-table .tab-notes { font-size: 10pt; margin-top: .4em; }
.si-table .tab-notes p { margin: .15em 0; }
p.results-text { margin: -1.2em 0 2.5em 0; line-height: 1.4; }
"""


_CLASS = {"l": "txt", "c": "ctr", "r": "num"}


def _e(text: str) -> str:
    return escape(str(text), quote=True)


def to_html(table: Table | RenderedTable) -> str:
    """Render one table as an HTML ``<figure>`` fragment (styled by :data:`HTML_CSS`).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.tables.builder import Table
    >>> to_html(Table(pd.DataFrame({"n": [1]}))).count("<tr")
    2
    """
    r = as_rendered(table)
    n = r.n_columns
    out = ['<figure class="si-table">']
    if r.number_text:
        out.append(f'<p class="tab-number">{_e(r.number_text)}</p>')
    if r.title:
        out.append(f'<p class="tab-title">{_e(r.title)}</p>')
    if r.subtitle:
        out.append(f'<p class="tab-subtitle">{_e(r.subtitle)}</p>')
    out.append("<table>")
    out.append("<thead>")
    for row in r.spanner_rows:
        cells = []
        j = 0
        for span in row:
            cells.extend(["<th></th>"] * (span.start - j))
            colspan = f' colspan="{span.width}"' if span.width > 1 else ""
            cells.append(f'<th class="spanner"{colspan}><span>{_e(span.label)}</span></th>')
            j = span.stop
        cells.extend(["<th></th>"] * (n - j))
        out.append('<tr class="spanners">' + "".join(cells) + "</tr>")
    heads = [
        f'<th class="{_CLASS[al]}" scope="col">{_e(lab)}</th>'
        for lab, al in zip(r.column_labels, r.alignments)
    ]
    out.append('<tr class="labels">' + "".join(heads) + "</tr>")
    out.append("</thead>")
    out.append("<tbody>")
    for section in r.sections:
        grouped = bool(section.label)
        if grouped:
            out.append(f'<tr class="group"><td colspan="{n}">{_e(section.label)}</td></tr>')
        for k, row in enumerate(section.rows):
            cells = []
            for j, (cell, al) in enumerate(zip(row, r.alignments)):
                cls = _CLASS[al]
                if j == 0 and grouped and r.has_stub:
                    cls += " indent"
                cells.append(f'<td class="{cls}">{_e(cell.text)}</td>')
            sep = ' class="sep"' if k == 0 and section.label == "" else ""
            out.append(f"<tr{sep}>" + "".join(cells) + "</tr>")
    out.append("</tbody>")
    out.append("</table>")
    if r.notes:
        out.append('<div class="tab-notes">')
        for note in r.notes:
            text = "".join(f"<em>{_e(t)}</em>" if it else _e(t) for t, it in note.segments())
            out.append(f"<p>{text}</p>")
        out.append("</div>")
    out.append("</figure>")
    return "\n".join(out) + "\n"


def write_html_page(
    tables: Table | RenderedTable | Iterable[Table | RenderedTable],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    after: Sequence[str | None] | None = None,
) -> Path:
    """Write a self-contained HTML page (CSS embedded) gathering several tables, atomically.

    Parameters
    ----------
    tables : Table or iterable of Table
    path : path-like
    title : str, optional
        Page title; default "Tableaux" (fr) or "Tables" (en), after the first table's locale.
    after : sequence of (str or None), optional
        Per table, a paragraph of plain text printed right after it (escaped; None: nothing),
        e.g. the APA-style results text of the report.

    Returns
    -------
    Path

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from analysis.tables.builder import Table
    >>> p = write_html_page([Table(pd.DataFrame({"a": [1]}))] * 2, pathlib.Path(tempfile.mkdtemp()) / "t.html")
    >>> p.read_text(encoding="utf-8").count("<table>")
    2
    """
    rendered = as_rendered_list(tables)
    lang = rendered[0].locale.code
    page_title = title if title is not None else ("Tableaux" if lang == "fr" else "Tables")
    extra = list(after or []) + [None] * len(rendered)
    body = "\n".join(to_html(r) + (f'<p class="results-text">{_e(x)}</p>\n' if x else "")
                     for r, x in zip(rendered, extra))
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(page_title)}</title>\n<style>\n{HTML_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_e(page_title)}</h1>\n{body}</body>\n</html>\n"
    )
    return atomic_write_text(path, page)
