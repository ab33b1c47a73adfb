"""The notebooks of notebooks/: they run from top to bottom on a fresh clone, and are stored
without outputs.

Each notebook is executed with nbclient (kernel ``python3`` of the virtual environment, working
directory ``notebooks/``) and the test fails on the first cell that raises. The notebooks read
``data/processed/survey.parquet`` when it exists, else clean the bundled demo export in memory;
they write nothing into ``data/`` or ``questionnaire/`` (6.0 works on a temporary copy).
Executing all seven takes two to four minutes on two shared cores: marked ``slow``.
"""

from __future__ import annotations

import json
import re

import pytest

from analysis.config import PROCESSED_DIR, PROJECT_ROOT, QUESTIONNAIRE_DIR

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = [
    "1.0-echantillon-et-flux",
    "2.0-distributions-et-donnees-manquantes",
    "3.0-construits-fiabilite-afe",
    "4.0-afc-et-invariance",
    "5.0-modeles-des-hypotheses",
    "6.0-ajouter-une-question",
    "7.0-modele-structurel-pls",
    "8.0-une-semaine-de-terrain",
]
IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][\w.]*)", re.M)
ALLOWED_IMPORTS = {"analysis", "pandas", "numpy", "warnings", "shutil", "tempfile", "pathlib"}


def _ids(p):
    return p.stem


def test_numbered_notebooks_present():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_outputs_stripped_and_imports(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs", []) == [], f"{path.name}: outputs not stripped"
        assert cell.get("execution_count") is None, f"{path.name}: execution count not stripped"
        source = "".join(cell["source"])
        for module in IMPORT.findall(source):
            # project code comes only from the analysis package (no local helper modules)
            assert module.split(".")[0] in ALLOWED_IMPORTS, f"{path.name}: imports {module}"


def _snapshot(folder):
    if not folder.exists():
        return {}
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    before = (_snapshot(PROCESSED_DIR), _snapshot(QUESTIONNAIRE_DIR))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the failing cell, on an error
    after = (_snapshot(PROCESSED_DIR), _snapshot(QUESTIONNAIRE_DIR))
    assert after == before, f"{path.name} wrote into data/processed/ or questionnaire/"
