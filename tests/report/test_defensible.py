"""Regression tests of issue 15, points 1 and 2: numbers and defaults a methodologist
defends, labels that are true.

One module-scoped fixture runs the whole job (clean + report, Markdown only) on two data
sets: the bundled demo export and a second simulated export (n = 800, seed 7). Every test
runs on both.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import pipeline
from analysis.report import load_table_plan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["demo", "seed7"])
def run(request, tmp_path_factory):
    """The job on one data set: ``{"name", "result", "outputs", "md": {id: text}, "processed"}``."""
    root = tmp_path_factory.mktemp(request.param)
    raw = None
    if request.param == "seed7":
        from analysis.simulate import simulate_export

        raw = [simulate_export(n=800, seed=7, out_dir=root / "raw")["export"]]
    result = pipeline.run(raw=raw, processed_dir=root / "processed", out_dir=root / "reports",
                          formats=("md",), progress=lambda m: None)
    md = {p.stem: p.read_text(encoding="utf-8") for p in (root / "reports" / "md").glob("*.md")}
    return {"name": request.param, "result": result, "outputs": result.report.outputs, "md": md,
            "processed": root / "processed", "plan": load_table_plan()}


def _kind(run, kind):
    tid = next(t["id"] for t in run["plan"].tables if t["kind"] == kind)
    return tid, run["outputs"][tid]


def _rows(md: str, label_start: str) -> list[list[str]]:
    """Cells of the Markdown rows whose first cell starts with ``label_start``."""
    out = []
    for line in md.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0].startswith(label_start):
                out.append(cells)
    return out


def _num(text: str) -> float:
    return float(text.replace("\u202f", "").replace(" ", "").replace(",", "."))


# --------------------------------------------------------------------------- 1. EFA derived rows


def test_efa_cumulative_variance_adds_up_in_the_order_shown(run):
    tid, out = _kind(run, "efa")
    md = run["md"][tid]
    prop = [_num(c) for c in _rows(md, "Variance expliquée")[0][1:] if c]
    cum = [_num(c) for c in _rows(md, "Variance cumulée")[0][1:] if c]
    assert len(prop) == len(cum) >= 2
    assert all(b > a for a, b in zip(cum, cum[1:])), cum  # increasing, as shown
    np.testing.assert_allclose(cum, np.cumsum(prop), atol=0.1 * len(prop))
    total = float(out.results["efa"].variance.loc["proportion"].sum()) * 100
    assert abs(cum[-1] - total) < 0.06


# --------------------------------------------------------------------------- 2. omega's group factors


def _analysed(run) -> pd.DataFrame:
    data = pd.read_parquet(run["processed"] / "survey.parquet")
    if "analysed" in data.columns:
        data = data[data["analysed"].astype(bool)]
    return data


def test_omega_has_one_group_factor_per_dimension_and_equals_the_notebook(run):
    from analysis.psychometrics import omega
    from analysis.study._constructs import load_constructs, prepare_items

    tid, out = _kind(run, "reliability")
    spec = load_constructs()
    data = _analysed(run)
    checked = 0
    for c in spec.reflective:
        o = out.results.get(f"omega_{c.name}")
        if len(c.dimensions) < 3:
            assert o is None
            continue
        assert out.results["omega_groups"][c.name] == len(c.dimensions)
        assert o.phi.shape == (len(c.dimensions), len(c.dimensions))
        # the computation of notebook 3.0
        nb = omega(prepare_items(data, spec, construct=c.name), n_factors=len(c.dimensions))
        assert o.omega_h == pytest.approx(nb.omega_h, abs=1e-9)
        assert o.omega_total == pytest.approx(nb.omega_total, abs=1e-9)
        checked += 1
    assert checked >= 1
    assert "un facteur par dimension" in run["md"][tid]
    nb_text = (Path(__file__).parents[2] / "notebooks" / "3.0-construits-fiabilite-afe.ipynb").read_text(encoding="utf-8")
    assert "n_factors=len(spec" in nb_text and "n_factors=6" not in nb_text
