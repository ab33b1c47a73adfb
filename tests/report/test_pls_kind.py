"""Tests of the ``pls`` table kind: a Markdown snapshot on the small fixed data set, the
labels of higher-order, single-indicator and interaction constructs, and a bad model.

After an intended change of the output, regenerate the snapshot with::

    SI_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/report/test_pls_kind.py -k snapshot
"""

from __future__ import annotations

import pytest

from analysis.report._compute import compute_report
from analysis.report._plan import TablePlan
from analysis.tables import to_markdown
from tests.report.test_reports import SNAPSHOTS, _snapshot, small_survey

FIRST_ORDER = """\
capacity =~ ic_hr_01 + ic_hr_02 + ic_hr_03
si =~ si_nov_01 + si_nov_02 + si_nov_03 + si_nov_04
impact =~ imp_chg_01 + imp_chg_02 + imp_chg_03 + imp_chg_04
si ~ capacity
impact ~ si + capacity
"""

HIGHER_ORDER = """\
si_nov =~ si_nov_01 + si_nov_02 + si_nov_03 + si_nov_04
si_fin =~ si_fin_01 + si_fin_02 + si_fin_03 + si_fin_04
si_presence =~ si_nov + si_fin
ic_hr =~ ic_hr_01 + ic_hr_02 + ic_hr_03
members =~ n_members
si_presence ~ ic_hr
imp_chg =~ imp_chg_01 + imp_chg_02 + imp_chg_03 + imp_chg_04
imp_chg ~ si_presence + members + si_presence:members
"""


def _plan(model: str, n_boot: int, lang_title: str = "PLS") -> TablePlan:
    options = {"small_cell_threshold": 5, "loading_threshold": 0.30, "decimals": 2, "seed": 2026,
               "group": "legal_form_group"}
    return TablePlan(options=options, tables=({"id": "t11_pls", "kind": "pls",
                                               "title": {"fr": lang_title, "en": lang_title},
                                               "model": model, "bootstrap": n_boot},))


@pytest.fixture(scope="module")
def first_order():
    survey, flow = small_survey()
    outputs, warnings = compute_report(survey, flow, lang="fr", plan=_plan(FIRST_ORDER, 100))
    return outputs["t11_pls"], warnings


def test_snapshot_pls_tables(first_order):
    out, _ = first_order
    text = "\n\n".join(to_markdown(t) for t in out.tables) + "\n"
    _snapshot(SNAPSHOTS / "t11_pls.md", text)


def test_pls_tables_and_figure(first_order):
    out, warnings = first_order
    assert not [w for w in warnings if w.startswith("t11_pls")], warnings
    # measurement, reliability, HTMT, Fornell-Larcker, paths, R²
    assert len(out.tables) == 6
    assert list(out.figures) == ["t11_pls_paths"]
    res = out.results["pls"]
    paths = out.results["paths"]
    assert list(paths["estimate"].iloc[:3]) == list(res.params.query("type == 'path'")["estimate"])
    # no higher-order construct nor interaction: PLSpredict Q² is reported
    assert "q2" in out.results["r2"].columns
    md = to_markdown(out.tables[4])
    assert "Effets indirects" in md and "→" in md


def test_pls_labels_of_higher_order_single_and_interaction_constructs():
    survey, flow = small_survey()
    outputs, _ = compute_report(survey, flow, lang="en", plan=_plan(HIGHER_ORDER, 20))
    out = outputs["t11_pls"]
    md = "\n".join(to_markdown(t) for t in out.tables)
    assert "Social innovation presence" in md  # the construct of constructs.yaml
    assert "Novelty (new here, or reinvented)" in md  # a dimension, as lower-order construct
    assert "Higher-order constructs estimated in two stages" in md
    assert "Constructs measured by a single indicator" in md
    assert " × " in md  # the interaction term
    assert "(PLSpredict) not computed" in md
    assert "q2" not in out.results["r2"].columns


def test_a_bad_model_is_one_warning_naming_the_line():
    survey, flow = small_survey()
    outputs, warnings = compute_report(survey, flow, lang="fr",
                                       plan=_plan("si =~ si_nov_01 + nonsense\nimpact =~ imp_chg_01\nimpact ~ si", 0))
    assert "t11_pls" not in outputs or not outputs["t11_pls"].tables
    assert any("nonsense" in w and "si =~" in w for w in warnings), warnings


def test_no_bootstrap_and_bad_options():
    survey, flow = small_survey()
    outputs, warnings = compute_report(survey, flow, lang="en", plan=_plan(FIRST_ORDER, 0))
    md = "\n".join(to_markdown(t) for t in outputs["t11_pls"].tables)
    assert "No bootstrap (bootstrap: 0)" in md
    _, warnings = compute_report(survey, flow, lang="en", plan=_plan(FIRST_ORDER, "many"))
    assert any("bootstrap must be a number of draws" in w for w in warnings), warnings
