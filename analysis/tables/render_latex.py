r"""LaTeX writer for a thesis: ``booktabs`` rules, notes kept with the table, pages that fit.

Every table is laid out for the page it goes on (A4, 16 cm of text, or 24.7 cm in landscape):
the width of each column is estimated from its text, the stub (row labels) takes what is left
and wraps, column headers wrap between words, and the table steps down in font size, then
turns to landscape, before it would run into the margin. A table of more than
:data:`LONG_ROWS` rows is a ``longtable`` (package ``xltabular``) whose header is repeated on
each page under "Tableau N (suite)"; a shorter one is a ``table`` float with its notes in a
``threeparttable``. Special characters (``% & _ # $ { } ~ ^ \``) are escaped, the French
spaces become ``\,`` and ``~``, and the symbols of statistics (α ω χ λ Δ ≤ ≥ ², ...) become
LaTeX commands, so that the code compiles with pdflatex as with lualatex.

:func:`latex_document` writes a complete document (``reports/tables.tex``) with the packages
it needs in its preamble and a list of tables.

Examples
--------
>>> escape_latex("50 % & a_b #1")
'50 \\% \\& a\\_b \\#1'
>>> escape_latex("α = ,84 ; Δχ² ≤ 3")
'\\ensuremath{\\alpha} = ,84 ; \\ensuremath{\\Delta}\\ensuremath{\\chi}\\textsuperscript{2} \\ensuremath{\\leq} 3'
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import ConfigError
from analysis.tables._rendered import RenderedTable, as_rendered, as_rendered_list
from analysis.utils.atomic import atomic_write_text

if TYPE_CHECKING:
    from analysis.tables.builder import Table

__all__ = [
    "to_latex",
    "write_latex",
    "escape_latex",
    "latex_document",
    "latex_layout",
    "LatexLayout",
    "LATEX_PREAMBLE",
    "LONG_ROWS",
]

#: Packages the generated tables need (the preamble of :func:`latex_document` has them all).
LATEX_PREAMBLE = (
    "\\usepackage{booktabs}\n\\usepackage{threeparttable}\n\\usepackage{array}\n"
    "\\usepackage{tabularx}\n\\usepackage{xltabular}\n\\usepackage{pdflscape}\n"
)
#: Tables with more body rows than this are long tables (continued on the next page).
LONG_ROWS = 32

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "varepsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "φ": "phi", "χ": "chi", "ψ": "psi",
    "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Σ": "Sigma",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}
_MATH = {"≤": "leq", "≥": "geq", "≠": "neq", "±": "pm", "×": "times", "≈": "approx",
         "∞": "infty", "√": "surd", "→": "rightarrow", "∑": "sum", "·": "cdot"}
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
    "\u2009": r"\,",
    "\u00a0": "~",
    "\u2212": r"\textminus{}",
    "\u2014": "---",
    "\u2013": "--",
    "\u2026": r"\ldots{}",
    "\u00b2": r"\textsuperscript{2}",
    "\u00b3": r"\textsuperscript{3}",
    "\u00b9": r"\textsuperscript{1}",
    "\u1d43": r"\textsuperscript{a}",
    "\u1d47": r"\textsuperscript{b}",
    "\u1d9c": r"\textsuperscript{c}",
    "\u1d48": r"\textsuperscript{d}",
    "\u2020": r"\textdagger{}",
    "\u2021": r"\textdaggerdbl{}",
    "\u2032": r"\ensuremath{'}",
    "\n": " ",
    **{k: f"\\ensuremath{{\\{v}}}" for k, v in _GREEK.items()},
    **{k: f"\\ensuremath{{\\{v}}}" for k, v in _MATH.items()},
}
_TRANS = str.maketrans(_LATEX_MAP)
_COMBINING = re.compile("(.)([\u0300-\u036f])")
_ACCENTS = {"\u0304": "bar", "\u0302": "hat", "\u0303": "tilde", "\u0307": "dot"}


def escape_latex(text: str) -> str:
    r"""Escape LaTeX special characters, French spaces and the symbols of statistics.

    A letter followed by a combining mark (``r̄``: r + U+0304) becomes the math accent
    (``\ensuremath{\bar{r}}``).

    Examples
    --------
    >>> escape_latex("1\u202f234,5")
    '1\\,234,5'
    >>> escape_latex("Source\u00a0: x")
    'Source~: x'
    >>> escape_latex("r\u0304 = ,31")
    '\\ensuremath{\\bar{r}} = ,31'
    """
    s = str(text)
    if any(unicodedata.combining(ch) for ch in s):
        def accent(m: re.Match) -> str:
            cmd = _ACCENTS.get(m.group(2))
            if cmd is None:
                return unicodedata.normalize("NFC", m.group(0))
            return f"\u0000{cmd}\u0001{m.group(1)}\u0002"

        s = _COMBINING.sub(accent, s)
        s = s.translate(_TRANS)
        return (s.replace("\u0000", "\\ensuremath{\\").replace("\u0001", "{")
                .replace("\u0002", "}}"))
    return s.translate(_TRANS)


# --------------------------------------------------------------------------- layout

#: Text width of an A4 page with 2.5 cm margins, in points: portrait and landscape.
_PORTRAIT_PT = 455.0
_LANDSCAPE_PT = 700.0
_SIZES_PT = {"normalsize": 10.0, "small": 9.0, "footnotesize": 8.0, "scriptsize": 7.0}
_SIZES = ("tiny", "scriptsize", "footnotesize", "small", "normalsize")
_PAD_PT = 12.0  # two \tabcolsep of 6 pt between columns
_STUB_MIN_EM = 14.0
_STUB_GOOD_EM = 26.0



def _text_em(text: str) -> float:
    """Rough width of a text in em (digits and lower case about half an em)."""
    w = 0.0
    for ch in text:
        if ch.isdigit():
            w += 0.5
        elif ch.isupper() or ch in "mwMW%—\u2212<>=+±≤≥×":
            w += 0.8
        elif ch in "il.,;:'|!()[]":
            w += 0.3
        elif ch in " \u202f\u00a0":
            w += 0.33
        else:
            w += 0.55
    return w * 1.04


def _longest_word_em(text: str) -> float:
    return max((_text_em(w) for w in re.split(r"[ \u00a0]", text) if w), default=0.0)


@dataclass(frozen=True)
class LatexLayout:
    """How a table is set on the page.

    Attributes
    ----------
    size : str
        Font size command (``normalsize``, ``small``, ``footnotesize``, ``scriptsize``).
    landscape : bool
        The table is on a landscape page.
    long : bool
        The table is a long table (``xltabular``), continued on the next page.
    widths : tuple of float
        Width of each non-stub column, in em of the table's font (the stub takes the rest).
    """

    size: str
    landscape: bool
    long: bool
    widths: tuple[float, ...]


def latex_layout(r: RenderedTable, *, long_rows: int = LONG_ROWS) -> LatexLayout:
    """Choose font size, orientation and column widths so that the table fits the page.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.tables.builder import Table
    >>> lay = latex_layout(Table(pd.DataFrame({"a": ["x"], "b": [1.5]})).render())
    >>> lay.size, lay.landscape, lay.long
    ('normalsize', False, False)
    """
    body = r.body_text()
    first = 1 if r.has_stub else 0
    widths = []
    for j in range(first, r.n_columns):
        data = max((_text_em(row[j]) for row in body if j < len(row)), default=0.0)
        label = r.column_labels[j]
        whole = _text_em(label) * 1.04
        # a short header stays on one line; a long one wraps between its words
        head = whole if whole <= max(1.6 * data, 6.0) else _longest_word_em(label) * 1.08
        widths.append(max(data, head, 1.2))
    # a spanner wider than the columns it spans widens them evenly
    for row in r.spanner_rows:
        for span in row:
            cols = [j - first for j in range(span.start, span.stop) if j >= first]
            if not cols:
                continue
            need = _longest_word_em(span.label) * 1.08 - sum(widths[c] for c in cols) \
                - 1.2 * (len(cols) - 1)
            if need > 0:
                for c in cols:
                    widths[c] += need / len(cols)
    stub_natural = max([_text_em(row[0]) for row in body if row] +
                       [_text_em(s.label) for s in r.sections if s.label] + [0.0]) if first else 0
    stub_word = max([_longest_word_em(row[0]) for row in body if row] + [0.0]) if first else 0
    stub_need = max(min(stub_natural, _STUB_MIN_EM), stub_word) if first else 0.0
    n_body = r.n_body_rows + sum(1 for s in r.sections if s.label)
    pad = _PAD_PT * (r.n_columns - 1)  # \tabcolsep on both sides, none at the outer edges
    # upright pages first, the stub keeping most of its natural width, then at least a
    # readable column; landscape only when the columns do not fit upright
    good = max(min(stub_natural, _STUB_GOOD_EM), stub_need)
    passes = [(False, good), (False, stub_need), (True, good), (True, stub_need)]
    fitting = []
    for landscape, want in passes:
        for size in ("normalsize", "small", "footnotesize"):
            pt = _SIZES_PT[size]
            avail = _LANDSCAPE_PT if landscape else _PORTRAIT_PT
            if (sum(widths) + want) * pt + pad > 0.97 * avail:
                continue
            stub_pt = avail - sum(widths) * pt - pad
            height = _height_pt(r, widths, stub_pt / pt if first else 0.0, avail / pt, pt, first)
            page = 440.0 if landscape else 690.0
            fitting.append((landscape, size))
            if height <= 0.85 * page and n_body <= long_rows:
                return LatexLayout(size, landscape, False, tuple(widths))
    if fitting:  # too tall for one page: the first layout that fits the width, continued
        landscape, size = fitting[0]
        return LatexLayout(size, landscape, True, tuple(widths))
    return LatexLayout("scriptsize", True, True, tuple(widths))


def _height_pt(r: RenderedTable, widths: Sequence[float], stub_em: float, table_em: float,
               pt: float, first: int) -> float:
    """Rough height of the table (rows wrapped in their columns, header, notes), in points."""
    lines = 0
    for j, label in enumerate(r.column_labels[first:]):
        lines = max(lines, math.ceil(_text_em(label) / max(widths[j], 1.0)))
    lines += len(r.spanner_rows)
    for s in r.sections:
        lines += 1 if s.label else 0
        for row in s.rows:
            n = math.ceil(_text_em(row[0].text) / max(stub_em, 1.0)) if first and row else 1
            for j, c in enumerate(row[first:]):
                n = max(n, math.ceil(_text_em(c.text) / max(widths[j], 1.0)))
            lines += max(n, 1)
    note_lines = sum(math.ceil(_text_em(n.plain()) / (table_em * pt / 8.0)) for n in r.notes)
    return lines * 1.25 * pt + note_lines * 1.2 * 8.0 + 40.0


def _colspec(r: RenderedTable, lay: LatexLayout) -> str:
    first = 1 if r.has_stub else 0
    parts = []
    if first:
        parts.append(r">{\raggedright\arraybackslash}X")
    for j, w in zip(range(first, r.n_columns), lay.widths):
        align = {"l": r"\raggedright", "c": r"\centering", "r": r"\raggedleft"}[r.alignments[j]]
        parts.append(f">{{{align}\\arraybackslash}}p{{{math.ceil(w * 10) / 10:g}em}}")
    if not first:  # no stub: let the last column absorb the width
        parts[-1] = parts[-1].rsplit("p{", 1)[0] + "X"
    return "@{}" + "".join(parts) + "@{}"


def _header_lines(r: RenderedTable) -> list[str]:
    n = r.n_columns
    lines: list[str] = []
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
    return lines


def _body_lines(r: RenderedTable) -> list[str]:
    n = r.n_columns
    lines: list[str] = []
    for k, section in enumerate(r.sections):
        indent = ""
        if section.label == "" and k > 0:
            lines.append("\\midrule")
        elif section.label:
            if k > 0:
                lines.append("\\addlinespace")
            lines.append(f"\\multicolumn{{{n}}}{{@{{}}l}}{{\\textit{{{escape_latex(section.label)}}}}}"
                         " \\\\*")
            indent = "\\quad " if r.has_stub else ""
        rows = list(section.rows)
        for i, row in enumerate(rows):
            # "{}" keeps a cell starting with "[" from being read as the optional argument of \\
            texts = [("{}" if c.text.startswith("[") else "") + escape_latex(c.text) for c in row]
            if indent:
                texts[0] = indent + texts[0]
            # a row followed by a row without a label (a coefficient and its standard error)
            # stays on the same page as it: \\* forbids the page break
            joined = r.has_stub and i + 1 < len(rows) and rows[i + 1] and not rows[i + 1][0].text
            lines.append(" & ".join(texts) + (" \\\\*" if joined else " \\\\"))
    return lines


def _note_texts(r: RenderedTable) -> list[str]:
    return ["".join(f"\\textit{{{escape_latex(t)}}}" if it else escape_latex(t)
                    for t, it in note.segments()) for note in r.notes]


def to_latex(
    table: Table | RenderedTable,
    *,
    placement: str = "htbp",
    size: str | None = None,
    landscape: bool | None = None,
    long: bool | None = None,
    continued: str | None = None,
) -> str:
    r"""Render one table for a thesis page (float, or long table continued on the next page).

    Parameters
    ----------
    table : Table or RenderedTable
    placement : str, default "htbp"
        Float placement of a short table.
    size : {"tiny", "scriptsize", "footnotesize", "small", "normalsize"}, optional
        Font size; default: the largest that fits (:func:`latex_layout`).
    landscape : bool, optional
        Put the table on a landscape page; default: only when it does not fit upright.
    long : bool, optional
        Long table (``xltabular``) continued on the next pages; default: more than
        :data:`LONG_ROWS` rows.
    continued : str, optional
        Caption of the continuation pages (default "(suite)" in French, "(continued)").

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
    >>> long = to_latex(Table(pd.DataFrame({"a": range(60)})).tab_header("T"))
    >>> "\\begin{xltabular}" in long and "\\endhead" in long
    True
    """
    r = as_rendered(table)
    lay = latex_layout(r)
    if size is not None:
        if size not in _SIZES:
            raise ConfigError(f"to_latex: size must be one of {list(_SIZES)}, got {size!r}.")
        lay = LatexLayout(size, lay.landscape, lay.long, lay.widths)
    if landscape is not None:
        lay = LatexLayout(lay.size, landscape, lay.long, lay.widths)
    if long is not None:
        lay = LatexLayout(lay.size, lay.landscape, long, lay.widths)
    if continued is None:
        continued = r.locale.continued
    spec = _colspec(r, lay)
    title = escape_latex(r.title) if r.title else ""
    label = f"\\label{{{r.label}}}" if r.label else ""
    notes = _note_texts(r)
    lines: list[str] = []
    if lay.long:
        lines.append("\\begingroup")
        lines.append(f"\\{lay.size}")
        lines.append(f"\\begin{{xltabular}}{{\\linewidth}}{{{spec}}}")
        if title:
            lines.append(f"\\caption{{{title}}}{label} \\\\")
        if r.subtitle:
            lines.append(f"\\multicolumn{{{r.n_columns}}}{{@{{}}l}}{{{escape_latex(r.subtitle)}}} \\\\")
        lines.append("\\toprule")
        lines += _header_lines(r)
        lines.append("\\midrule")
        lines.append("\\endfirsthead")
        if title:
            lines.append(f"\\caption[]{{{title} {escape_latex(continued)}}} \\\\")
        lines.append("\\toprule")
        lines += _header_lines(r)
        lines.append("\\midrule")
        lines.append("\\endhead")
        lines.append("\\midrule")
        lines.append(f"\\multicolumn{{{r.n_columns}}}{{@{{}}r@{{}}}}{{\\footnotesize\\ldots{{}}}} \\\\")
        lines.append("\\endfoot")
        lines.append("\\bottomrule")
        for note in notes:
            lines.append(f"\\multicolumn{{{r.n_columns}}}{{@{{}}p{{\\linewidth}}@{{}}}}"
                         f"{{\\footnotesize {note}}} \\\\")
        lines.append("\\endlastfoot")
        lines += _body_lines(r)
        lines.append("\\end{xltabular}")
        lines.append("\\endgroup")
    else:
        lines.append(f"\\begin{{table}}[{placement}]")
        lines.append("\\centering")
        lines.append(f"\\{lay.size}")
        lines.append("\\begin{threeparttable}")
        if title:
            lines.append(f"\\caption{{{title}}}")
        if label:
            lines.append(label)
        if r.subtitle:
            lines.append(f"{{\\small {escape_latex(r.subtitle)}\\par}}")
        lines.append(f"\\begin{{tabularx}}{{\\linewidth}}{{{spec}}}")
        lines.append("\\toprule")
        lines += _header_lines(r)
        lines.append("\\midrule")
        lines += _body_lines(r)
        lines.append("\\bottomrule")
        lines.append("\\end{tabularx}")
        if notes:
            lines.append("\\begin{tablenotes}[flushleft]")
            lines.append("\\footnotesize")
            for note in notes:
                lines.append(f"\\item[] {note}")
            lines.append("\\end{tablenotes}")
        lines.append("\\end{threeparttable}")
        lines.append("\\end{table}")
    tex = "\n".join(lines) + "\n"
    if lay.landscape:
        tex = "\\begin{landscape}\n" + tex + "\\end{landscape}\n"
    return tex


def latex_document(tables: Iterable[Table | RenderedTable], *, lang: str = "fr",
                   title: str | None = None) -> str:
    r"""A complete LaTeX document holding the tables, compilable with pdflatex or lualatex.

    A4, 2.5 cm margins, babel in French (or English), Latin Modern fonts (T1 under pdflatex,
    OpenType under lualatex), a list of tables, then every table.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.tables.builder import Table
    >>> doc = latex_document([Table(pd.DataFrame({"a": [1]})).tab_header("T")])
    >>> "\\documentclass" in doc and "\\listoftables" in doc and doc.rstrip().endswith("\\end{document}")
    True
    """
    babel = "english" if lang == "en" else "french"
    parts = [
        "% Generated by si-survey: every table of the report. Compile with pdflatex or lualatex.",
        "\\documentclass[11pt,a4paper]{article}",
        "\\usepackage{iftex}",
        "\\ifPDFTeX",
        "  \\usepackage[utf8]{inputenc}",
        "  \\usepackage[T1]{fontenc}",
        "  \\usepackage{lmodern}",
        "  \\usepackage{textcomp}",
        "\\else",
        "  \\usepackage{fontspec}",
        "\\fi",
        f"\\usepackage[{babel}]{{babel}}",
        "\\usepackage[a4paper,margin=2.5cm]{geometry}",
        LATEX_PREAMBLE.rstrip("\n"),
        "\\usepackage[font=normalsize,labelfont=bf]{caption}",
    ]
    if babel == "french":
        parts.append("\\frenchsetup{AutoSpacePunctuation=false}")
        parts.append("\\addto\\captionsfrench{\\def\\tablename{Tableau}"
                     "\\def\\listtablename{Liste des tableaux}}")
    parts += ["\\begin{document}"]
    if title:
        parts.append(f"\\section*{{{escape_latex(title)}}}")
    parts += ["\\listoftables", "\\clearpage", ""]
    parts += [to_latex(r) for r in as_rendered_list(list(tables))]
    parts.append("\\end{document}")
    return "\n".join(parts) + "\n"


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
