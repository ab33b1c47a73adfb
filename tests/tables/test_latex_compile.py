"""The LaTeX output compiles, with pdflatex and with lualatex, and fits the page.

Compiles a document holding a short table, a long table (continued on the next page), a wide
table (landscape), a table whose stub is long, and every symbol of statistics the report uses,
and reads the log: no error, no overfull line, no float too large. Skipped when TeX is not
installed (``.ci/run`` installs it: texlive-latex-recommended, -latex-extra, -lang-french,
-luatex).
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from analysis.tables import Table
from analysis.tables.render_latex import escape_latex, latex_document, latex_layout, to_latex
from tests.tables.test_table_writers import sample_table


def _tables() -> list[Table]:
    rng = np.random.default_rng(3)
    long = pd.DataFrame({"item": [f"Élément {i} du questionnaire" for i in range(70)],
                         "m": rng.normal(3, 1, 70), "p": rng.uniform(0, 1, 70)})
    wide = pd.DataFrame({"dimension": [f"{i}. Dimension numéro {i} de l'échelle" for i in range(1, 17)],
                         **{str(j): rng.uniform(0, 1, 16) for j in range(1, 16)}})
    symbols = pd.DataFrame({
        "stat": ["α de Cronbach", "ω hiérarchique", "χ² (ddl)", "ΔCFI ≤ ,01", "λ ≥ ,50",
                 "r̄ inter-items", "η²", "Modèleᵃ", "Valeur − 1 ± 2 × 3"],
        "v": rng.uniform(0, 1, 9)})
    return [
        sample_table(),
        Table(long).tab_header("Un long tableau qui continue").tab_stub("item").fmt_number(["m", "p"])
        .tab_note("Note longue : " + "les réponses sont décrites ligne par ligne. " * 6),
        Table(wide).tab_header("Un tableau large").tab_stub("dimension").fmt_number([str(j) for j in range(1, 16)]),
        Table(symbols).tab_header("Symboles α ω χ² Δ ≤ ≥").tab_stub("stat").fmt_number("v"),
    ]


def test_layout_choices():
    tabs = [t.render() for t in _tables()]
    assert latex_layout(tabs[1]).long and not latex_layout(tabs[0]).long
    wide = latex_layout(tabs[2])
    assert wide.landscape or wide.size in ("small", "footnotesize")
    tex = to_latex(tabs[1])
    assert "(suite)" in tex and "\\endhead" in tex and "\\endlastfoot" in tex


def test_symbols_are_latex_commands():
    out = escape_latex("α ω χ λ Δ ≤ ≥ ᵃ r̄ η ² −")
    assert out.isascii(), out
    assert "\\ensuremath{\\bar{r}}" in out and "\\textsuperscript{a}" in out


@pytest.mark.parametrize("engine", ["pdflatex", "lualatex"])
def test_document_compiles_without_overfull_or_float_too_large(engine, tmp_path):
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed")
    (tmp_path / "t.tex").write_text(latex_document(_tables(), lang="fr"), encoding="utf-8")
    for _ in range(2):  # twice: the list of tables
        proc = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = (tmp_path / "t.log").read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, log[-3000:]
    problems = [ln for ln in log.splitlines()
                if ln.startswith("!") or "Overfull" in ln or "Float too large" in ln]
    assert not problems, problems
    assert (tmp_path / "t.pdf").stat().st_size > 10_000
