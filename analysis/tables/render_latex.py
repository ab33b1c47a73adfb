r"""LaTeX writer: ``booktabs`` rules inside a ``threeparttable`` with ``tablenotes``.

The preamble needs ``\usepackage{booktabs,threeparttable}`` (and, for a French
thesis, ``\usepackage[french]{babel}``). French texts already carry their
no-break spaces (before ``; : ! ? %``), written ``\,`` and ``~``; with babel-french
add ``\frenchsetup{AutoSpacePunctuation=false}`` so that they are not doubled. Special characters (``% & _ # $ { } ~ ^ \``)
are escaped; the narrow no-break space of French numbers becomes ``\,``, the
no-break space ``~`` and the minus sign ``\textminus{}``.

Examples
--------
>>> escape_latex("50 % & a_b #1")
'50 \\% \\& a\\_b \\#1'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import ConfigError
from analysis.tables._rendered import RenderedTable, as_rendered, as_rendered_list
from analysis.utils.atomic import atomic_write_text

if TYPE_CHECKING:
    from analysis.tables.builder import Table

__all__ = ["to_latex", "write_latex", "escape_latex", "LATEX_PREAMBLE"]

#: Packages the generated code needs.
LATEX_PREAMBLE = "\\usepackage{booktabs}\n\\usepackage{threeparttable}\n"

_LATEX_MAP = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "\u202f": r"\,",
    "\u00a0": "~",
    "\u2212": r"\textminus{}",
    "\u2014": "---",
    "\u2013": "--",
    "\u00b2": r"\textsuperscript{2}",
    "\u00b3": r"\textsuperscript{3}",
    "\n": " ",
}
_TRANS = str.maketrans(_LATEX_MAP)


def escape_latex(text: str) -> str:
    r"""Escape LaTeX special characters and map French spaces to LaTeX spacing.

    Examples
    --------
    >>> escape_latex("1\u202f234,5")
    '1\\,234,5'
    >>> escape_latex("Source\u00a0: x")
    'Source~: x'
    """
    return str(text).translate(_TRANS)


def _align(r: RenderedTable) -> str:
    return "".join(r.alignments)


_SIZES = ("tiny", "scriptsize", "footnotesize", "small", "normalsize")


def to_latex(table: Table | RenderedTable, *, placement: str = "htbp", size: str | None = None) -> str:
    r"""Render one table as a LaTeX ``table`` environment.

    Parameters
    ----------
    table : Table or RenderedTable
    placement : str, default "htbp"
        Float placement of the ``table`` environment.
    size : {"tiny", "scriptsize", "footnotesize", "small", "normalsize"}, optional
        Font size command put before the table (for wide tables).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.tables.builder import Table
    >>> tex = to_latex(Table(pd.DataFrame({"a": [1]})).tab_header("T").tab_label("tab:t"))
    >>> "\\caption{T}" in tex and "\\label{tab:t}" in tex and "\\toprule" in tex
    True
    """
    r = as_rendered(table)
    n = r.n_columns
    lines = [f"\\begin{{table}}[{placement}]", "\\centering"]
    if size is not None:
        if size not in _SIZES:
            raise ConfigError(f"to_latex: size must be one of {list(_SIZES)}, got {size!r}.")
        lines.append(f"\\{size}")
    lines.append("\\begin{threeparttable}")
    if r.title:
        lines.append(f"\\caption{{{escape_latex(r.title)}}}")
    if r.label:
        lines.append(f"\\label{{{r.label}}}")
    if r.subtitle:
        lines.append(f"{{\\small {escape_latex(r.subtitle)}\\par}}")
    lines.append(f"\\begin{{tabular}}{{@{{}}{_align(r)}@{{}}}}")
    lines.append("\\toprule")
    for row in r.spanner_rows:
        cells: list[str] = []
        rules: list[str] = []
        j = 0
        for span in row:
            cells.extend([""] * (span.start - j))
            cells.append(f"\\multicolumn{{{span.width}}}{{c}}{{{escape_latex(span.label)}}}")
            left = "l" if span.start > 0 else ""
            right = "r" if span.stop < n else ""
            trim = f"({left}{right})" if left or right else ""
            rules.append(f"\\cmidrule{trim}{{{span.start + 1}-{span.stop}}}")
            j = span.stop
        cells.extend([""] * (n - j))
        lines.append(" & ".join(cells) + " \\\\")
        lines.append(" ".join(rules))
    lines.append(" & ".join(escape_latex(x) for x in r.column_labels) + " \\\\")
    lines.append("\\midrule")
    for k, section in enumerate(r.sections):
        indent = ""
        if section.label == "" and k > 0:
            lines.append("\\midrule")
        elif section.label:
            if k > 0:
                lines.append("\\addlinespace")
            lines.append(f"\\multicolumn{{{n}}}{{@{{}}l}}{{\\textit{{{escape_latex(section.label)}}}}} \\\\")
            indent = "\\quad " if r.has_stub else ""
        for row in section.rows:
            # "{}" keeps a cell starting with "[" from being read as the optional argument of \\
            texts = [("{}" if c.text.startswith("[") else "") + escape_latex(c.text) for c in row]
            if indent:
                texts[0] = indent + texts[0]
            lines.append(" & ".join(texts) + " \\\\")
    lines.append("\\bottomrule")
    lines.append("\\end{tabular}")
    if r.notes:
        lines.append("\\begin{tablenotes}[flushleft]")
        lines.append("\\footnotesize")
        for note in r.notes:
            text = "".join(f"\\textit{{{escape_latex(t)}}}" if it else escape_latex(t) for t, it in note.segments())
            lines.append(f"\\item[] {text}")
        lines.append("\\end{tablenotes}")
    lines.append("\\end{threeparttable}")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def write_latex(
    tables: Table | RenderedTable | Iterable[Table | RenderedTable], path: str | os.PathLike[str]
) -> Path:
    r"""Write one or several tables to a ``.tex`` file (for ``\input``), atomically.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from analysis.tables.builder import Table
    >>> p = write_latex(Table(pd.DataFrame({"a": [1]})), pathlib.Path(tempfile.mkdtemp()) / "t.tex")
    >>> p.read_text(encoding="utf-8").startswith("\\begin{table}")
    True
    """
    texts = [to_latex(r) for r in as_rendered_list(tables)]
    return atomic_write_text(path, "\n".join(texts))
