"""Tests of the ``sem`` table kind: a Markdown snapshot on the small fixed data set, the tables
and the figure, the labels of defined effects, and bad options.

After an intended change of the output, regenerate the snapshot with::

    SI_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/report/test_sem_kind.py -k snapshot
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.report._compute import compute_report
from analysis.report._plan import TablePlan
from analysis.tables import to_markdown
from tests.report.test_reports import SNAPSHOTS, _snapshot, small_survey

MODEL = """\
capacity =~ score_internal_capacity__human_resources + score_internal_capacity__financial + score_internal_capacity__management
si_presence =~ score_si_presence__novelty + score_si_presence__social_finality + score_si_presence__participation
impact =~ imp_chg_01 + imp_chg_02 + imp_chg_03
si_presence ~ a*capacity
impact ~ b*si_presence
ind := a*b
"""


def _plan(model: str, **options) -> TablePlan:
    plan_options = {"small_cell_threshold": 5, "loading_threshold": 0.30, "decimals": 2, "seed": 2026,
                    "group": "legal_form_group"}
    return TablePlan(options=plan_options, tables=({"id": "t12_sem", "kind": "sem",
                                                    "title": {"fr": "CB-SEM", "en": "CB-SEM"},
                                                    "model": model, **options},))


@pytest.fixture(scope="module")
def bootstrapped():
    survey, flow = small_survey()
    outputs, warnings = compute_report(survey, flow, lang="fr",
                                       plan=_plan(MODEL, se="bootstrap", bootstrap=50))
    return outputs["t12_sem"], warnings


def test_snapshot_sem_tables(bootstrapped):
    out, _ = bootstrapped
    text = "\n\n".join(to_markdown(t) for t in out.tables) + "\n"
    _snapshot(SNAPSHOTS / "t12_sem.md", text)


def test_sem_tables_and_figure(bootstrapped):
    out, warnings = bootstrapped
    assert not [w for w in warnings if w.startswith("t12_sem")], warnings
    assert len(out.tables) == 4  # fit, paths, R², effects
    assert list(out.figures) == ["t12_sem_paths"]
    res = out.results["sem"]
    paths = out.results["paths"]
    assert list(paths["estimate"].iloc[:2]) == list(res.params.query("op == '~'")["estimate"])
    # the defined effect a*b is named by its chain of constructs
    md = to_markdown(out.tables[1])
    assert "Effets définis" in md
    # latent variables named by the model take the label of the construct or dimension they measure
    assert "Capacités internes → Présence de l'innovation sociale → Changement des comportements" in md
    # standardised indirect effect = product of the standardised paths
    eff = out.results["effects"].set_index(["effect", "predictor", "outcome"])
    std = res.params.query("op == '~'").set_index("rhs")["std_all"]
    assert np.isclose(eff.loc[("indirect", "capacity", "impact"), "std"], std["capacity"] * std["si_presence"])
    assert "Effets indirects" in to_markdown(out.tables[3])
    assert "bootstrap de 50 tirages" in md


def test_robust_english_without_defined_effects():
    survey, flow = small_survey()
    model = "\n".join(line for line in MODEL.splitlines() if ":=" not in line)
    outputs, warnings = compute_report(survey, flow, lang="en", plan=_plan(model, estimator="MLR", missing="fiml"))
    out = outputs["t12_sem"]
    md = "\n".join(to_markdown(t) for t in out.tables)
    assert "Robust standard errors" in md and "Scaled χ²" in md
    assert "full-information maximum likelihood" in md
    assert "Defined effects" not in md
    assert "Internal capacity → Social innovation presence" in md


def test_bad_options_are_one_warning():
    survey, flow = small_survey()
    for options, message in (({"se": "jackknife"}, "se must be standard, robust or bootstrap"),
                             ({"estimator": "WLSMV"}, "estimator must be ML or MLR"),
                             ({"missing": "pairwise"}, "missing must be listwise or fiml"),
                             ({"se": "bootstrap", "bootstrap": "many"}, "bootstrap must be a number of draws")):
        outputs, warnings = compute_report(survey, flow, lang="en", plan=_plan(MODEL, **options))
        assert "t12_sem" not in outputs or not outputs["t12_sem"].tables
        assert any(message in w for w in warnings), (options, warnings)
    _, warnings = compute_report(survey, flow, lang="en", plan=_plan("si =~ si_nov_01 + nonsense\nsi ~ imp_chg_01"))
    assert any("nonsense" in w for w in warnings), warnings
