"""LaTeX: ``tex/<id>.tex``, one file per plan entry (``\\input{}`` them); wide tables landscape."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analysis.report._layout import _PORTRAIT_CM, _natural_width_cm
from analysis.report.writers._base import Writer

__all__ = ["write_tex", "WRITER"]


def write_tex(rendered: Sequence, landscape: Sequence[bool], path: Path) -> Path:
    """One ``.tex`` file: wide tables in a ``landscape`` environment (package pdflscape)."""
    from analysis.tables import to_latex
    from analysis.utils.atomic import atomic_write_text

    parts = []
    for r, land in zip(rendered, landscape):
        tex = to_latex(r, size="small" if land or _natural_width_cm(r) > _PORTRAIT_CM * 0.9 else None)
        if land:
            tex = "\\begin{landscape}\n" + tex + "\\end{landscape}\n"
        parts.append(tex)
    head = "% si-survey: needs \\usepackage{booktabs, threeparttable" + (", pdflscape" if any(landscape) else "") + "}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, head + "\n".join(parts))


WRITER = Writer(
    "tex",
    per_table=lambda tid, rendered, landscape, out_dir: write_tex(rendered, landscape, out_dir / "tex" / f"{tid}.tex"),
)
