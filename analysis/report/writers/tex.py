"""LaTeX: ``tex/<id>.tex``, one file per plan entry (``\\input{}`` them), and ``tables.tex``.

Each table is laid out for an A4 page by :func:`analysis.tables.to_latex` (column widths
from the text, smaller type then landscape when it is wide, ``xltabular`` continued under
"(suite)" when it is long); ``tables.tex`` is a complete document holding them all, with its
preamble and a list of tables, that compiles with pdflatex and with lualatex.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analysis.report.writers._base import Writer

__all__ = ["write_tex", "write_tex_document", "WRITER"]

_HEAD = ("% si-survey: needs \\usepackage{booktabs, threeparttable, array, tabularx, xltabular, "
         "pdflscape} (see reports/tables.tex for a complete preamble)\n")


def write_tex(rendered: Sequence, landscape: Sequence[bool], path: Path) -> Path:
    """One ``.tex`` file holding the tables of one plan entry (for ``\\input``)."""
    from analysis.tables import to_latex
    from analysis.utils.atomic import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, _HEAD + "\n".join(to_latex(r) for r in rendered))


def write_tex_document(rendered: Sequence, landscape: Sequence[bool], out_dir: Path, lang: str) -> Path:
    """``tables.tex``: every table in one document that compiles (pdflatex or lualatex)."""
    from analysis.tables import latex_document
    from analysis.utils.atomic import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out_dir / "tables.tex", latex_document(rendered, lang=lang))


WRITER = Writer(
    "tex",
    combined=write_tex_document,
    per_table=lambda tid, rendered, landscape, out_dir: write_tex(rendered, landscape, out_dir / "tex" / f"{tid}.tex"),
)
