"""Tests of analysis.report.writers: the registry of output formats and the results CSVs."""

from __future__ import annotations

import pandas as pd

from analysis.report import TableOutput, write_report
from analysis.report.writers import ALL_FORMATS, WRITERS, Writer
from analysis.report.writers.results import small_counts, write_results_csv
from analysis.tables import Table


def _outputs() -> dict:
    out = TableOutput("t01")
    out.add(Table(pd.DataFrame({"forme": ["Association", "Coopérative"], "n": [120, 80]})).tab_header("Effectifs"))
    out.results["counts"] = pd.DataFrame({"forme": ["=cmd", "B"], "n": [120, 80]})
    out.results["small"] = pd.DataFrame({"forme": ["A"], "n": [3]})
    return {"t01": out}


def test_the_registry_names_every_format_once():
    assert tuple(WRITERS) == ALL_FORMATS == ("docx", "tex", "html", "md", "xlsx")
    for name, writer in WRITERS.items():
        assert writer.name == name
        assert writer.combined is not None or writer.per_table is not None


def test_only_the_formats_asked_for_are_written(tmp_path):
    files = write_report(_outputs(), ["a warning"], tmp_path, ["md", "tex"], "fr", workers=1)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in files)
    assert names == ["md/t01.md", "results/t01__counts.csv", "tables.md", "tables.tex", "tex/t01.tex",
                     "warnings.txt"]
    assert (tmp_path / "warnings.txt").read_text(encoding="utf-8") == "a warning\n"


def test_a_new_format_is_one_entry_of_the_registry(tmp_path, monkeypatch):
    def combined(rendered, landscape, out_dir, lang):
        path = out_dir / "tables.txt"
        path.write_text("\n".join(r.caption_text() for r in rendered) + "\n", encoding="utf-8")
        return path

    monkeypatch.setitem(WRITERS, "txt", Writer("txt", combined=combined))
    files = write_report(_outputs(), [], tmp_path, ["txt"], "fr", workers=1)
    assert tmp_path / "tables.txt" in files
    assert "Effectifs" in (tmp_path / "tables.txt").read_text(encoding="utf-8")


def test_results_csv_neutralises_formulas_and_keeps_small_counts_out(tmp_path):
    assert write_results_csv(pd.DataFrame({"forme": ["=cmd"], "n": [120]}), tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_text(encoding="utf-8").splitlines()[1] == "'=cmd,120"
    assert not write_results_csv(pd.DataFrame({"n_total": [2]}), tmp_path / "b.csv")
    assert not (tmp_path / "b.csv").exists()
    assert not write_results_csv("not a frame", tmp_path / "c.csv")
    assert small_counts(pd.DataFrame({"group_count": [4]}), 5) and not small_counts(pd.DataFrame({"x": [1]}), 5)
