"""Tests of the table-kind registry and of the study files the report reads (no Python edit needed).

The report's study knowledge lives in ``questionnaire/``: these tests edit a copy of that
folder as a researcher would and check that the report follows.
"""

from __future__ import annotations

import inspect
import re
import shutil

import pytest
import yaml

from analysis import config
from analysis.errors import ConfigError
from analysis.report._compute import compute_report
from analysis.report._plan import TablePlan
from analysis.report._texts import load_study_labels, load_texts
from analysis.report.kinds import KINDS, kind_module, kind_options
from analysis.tables import to_markdown
from tests.report.test_reports import small_survey

# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_build_and_lists_the_options_it_reads(kind):
    module = kind_module(kind)
    assert list(inspect.signature(module.build).parameters) == ["ctx", "spec", "number"]
    options = kind_options(kind)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in options.items())
    source = inspect.getsource(module)
    read = set(re.findall(r"""spec(?:\.get\(|\[)["'](\w+)["']""", source))
    read |= set(re.findall(r"""ctx\.option\(spec, ["'](\w+)["']""", source))
    if "default_construct(ctx, spec)" in source:
        read.add("construct")
    assert read - {"id", "kind", "title"} == set(options), kind


def test_the_registry_imports_no_kind_module_until_asked():
    import subprocess
    import sys

    code = ("import sys, analysis.report.kinds as k; "
            "print(sorted(m for m in sys.modules if m.startswith('analysis.report.kinds.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- texts


def test_texts_have_the_same_keys_and_placeholders_in_every_language():
    def flat(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                yield from flat(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}", v

    fr, en = (dict(flat(load_texts(lang).entries)) for lang in ("fr", "en"))
    steps = {k for k in en if k.startswith("flow.steps.")}  # French steps come from flow.csv
    assert set(fr) == set(en) - steps
    for key in fr:
        assert set(re.findall(r"\{(\w+)", fr[key])) == set(re.findall(r"\{(\w+)", en[key])), key


def test_an_unknown_text_or_language_names_the_file():
    texts = load_texts("fr")
    with pytest.raises(ConfigError, match=r"fr\.yaml: no text 'cfa\.nonsense'"):
        texts("cfa.nonsense")
    with pytest.raises(ConfigError, match="unknown language 'de'"):
        load_texts("de")


def test_legal_form_group_order_comes_from_cleaning_yaml():
    raw = yaml.safe_load((config.QUESTIONNAIRE_DIR / "cleaning.yaml").read_text(encoding="utf-8"))
    assert load_study_labels().group_order == tuple(dict.fromkeys(raw["legal_form_groups"].values()))


# --------------------------------------------------------------------------- edits of the study files


@pytest.fixture
def study(tmp_path):
    """A copy of questionnaire/ to edit, and the small survey."""
    folder = tmp_path / "questionnaire"
    shutil.copytree(config.QUESTIONNAIRE_DIR, folder, ignore=shutil.ignore_patterns("build"))
    survey, flow = small_survey()
    return folder, survey, flow


def _plan(*tables: dict) -> TablePlan:
    options = {"small_cell_threshold": 5, "loading_threshold": 0.30, "decimals": 2, "seed": 2026,
               "group": "legal_form_group"}
    return TablePlan(options=options, tables=tuple(tables))


def _edit_yaml(path, change) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_label_en_written_in_constructs_yaml_is_used_in_the_english_report(study):
    folder, survey, flow = study

    def change(raw):
        raw["constructs"]["si_presence"]["dimensions"]["novelty"]["label_en"] = "Newness, as the researcher put it"
        raw["constructs"]["internal_capacity"]["label_en"] = "Capacity inside the organisation"

    _edit_yaml(folder / "constructs.yaml", change)
    plan = _plan({"id": "rel", "kind": "reliability", "title": {"fr": "Fiabilité", "en": "Reliability"}})
    outputs, _ = compute_report(survey, flow, lang="en", plan=plan, questionnaire_dir=folder)
    md = "\n".join(to_markdown(t) for t in outputs["rel"].tables)
    assert "Newness, as the researcher put it" in md
    assert "Capacity inside the organisation" in md
    assert "Novelty (new here, or reinvented)" not in md


def test_a_new_factor_covariate_gets_its_reference_category_in_the_note(study):
    folder, survey, flow = study

    def change(raw):
        raw["models"]["h_setting"] = {"hypothesis": "H1", "description": "Impact by setting.",
                                      "formula": "score_perceived_impact ~ score_si_presence + C(milieu)",
                                      "model": "ols"}
        raw["factors"]["milieu"] = {"label_fr": "Milieu", "label_en": "Setting", "reference": "mixte"}

    _edit_yaml(folder / "analysis_plan.yaml", change)
    plan = _plan({"id": "m", "kind": "models", "title": {"fr": "Modèle", "en": "Model"}, "models": ["h_setting"]})
    mixte = None
    for lang in ("fr", "en"):
        outputs, warnings = compute_report(survey, flow, lang=lang, plan=plan, questionnaire_dir=folder)
        table = outputs["m"].tables[0]
        if mixte is None:
            from analysis.study._instrument import codebook

            cb = codebook().set_index("variable")
            values = dict(p.split("=", 1) for p in cb.at["milieu", "values"].split("; "))
            mixte = values["mixte"].strip()
        notes = " ".join(table.notes)
        assert f"{'Milieu' if lang == 'fr' else 'Setting'} = {mixte}" in notes, notes
        assert not [w for w in warnings if "analysis_plan.yaml" in w]


def test_a_declared_reference_the_model_does_not_use_is_flagged(study):
    folder, survey, flow = study

    def change(raw):
        raw["models"]["h_setting"] = {"hypothesis": "H1", "description": "Impact by setting.",
                                      "formula": "score_perceived_impact ~ score_si_presence + C(milieu)",
                                      "model": "ols"}
        raw["factors"]["milieu"] = {"label_fr": "Milieu", "label_en": "Setting", "reference": "rural"}

    _edit_yaml(folder / "analysis_plan.yaml", change)
    plan = _plan({"id": "m", "kind": "models", "title": {"fr": "Modèle", "en": "Model"}, "models": ["h_setting"]})
    _, warnings = compute_report(survey, flow, lang="fr", plan=plan, questionnaire_dir=folder)
    assert any("analysis_plan.yaml" in w and "'rural'" in w and "mixte" in w for w in warnings), warnings


def test_the_shipped_plan_uses_only_declared_options():
    from analysis.report._plan import load_table_plan

    for table in load_table_plan().tables:
        unknown = set(table) - {"id", "kind", "title"} - set(kind_options(table["kind"]))
        assert not unknown, (table["id"], unknown)


def test_every_text_of_the_texts_files_is_used_by_the_report():
    from pathlib import Path

    import analysis.report as report

    folder = Path(report.__file__).parent
    code = "\n".join(p.read_text(encoding="utf-8") for p in folder.rglob("*.py"))
    used = set(re.findall(r"""["']([a-z_]+\.[\w.]+)["']""", code))  # every "section.key" literal
    used |= set(re.findall(r"""\.text\(\s*f["']([\w.]+)\.\{""", code))  # a section looked up by name
    used |= set(re.findall(r"""_named\(ctx, ["'](\w+)["']""", code))
    used.add("group_labels")  # ctx.group_label

    def flat(d, prefix=""):
        for k, v in d.items():
            yield from (flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"])

    for lang in ("fr", "en"):
        unused = [k for k in flat(load_texts(lang).entries)
                  if k not in used and not any(k.startswith(u + ".") for u in used)]
        assert not unused, (lang, unused)


def test_a_select_multiple_question_is_described_one_row_per_option(study):
    """Listed under ``categorical`` of a sample table, a select_multiple question gets one row per
    option (n and % of the organisations answering that chose it) from its ``q/option`` columns,
    never one row per combination of answers; weighted shares use the same base."""
    import numpy as np
    import pandas as pd

    from analysis.study._instrument import codebook

    folder, survey, flow = study
    cb = codebook().set_index("variable")
    options = [p.split("=", 1) for p in cb.at["target_groups", "values"].split("; ")]
    rng = np.random.default_rng(5)
    n = len(survey)
    picked = pd.DataFrame(rng.random((n, len(options))) < 0.3, columns=[c for c, _ in options]).astype(float)
    picked.iloc[:10] = np.nan  # not asked: every option column empty
    survey = survey.assign(
        target_groups=[" ".join(c for c in picked.columns if row[c] == 1) if row.notna().all() else None
                       for _, row in picked.iterrows()],
        design_weight=rng.uniform(0.5, 2.0, size=n),
        **{f"target_groups/{c}": picked[c] for c in picked.columns})
    table = {"id": "tg", "kind": "sample", "title": {"fr": "Groupes cibles", "en": "Target groups"},
             "categorical": ["milieu", "target_groups"], "weights": "design_weight"}
    for lang in ("fr", "en"):
        outputs, warnings = compute_report(survey, flow, lang=lang, plan=_plan(table), questionnaire_dir=folder)
        rows = outputs["tg"].results["sample"]
        rows = rows[rows["var"] == "target_groups"]
        assert list(rows["category"])[1:] == [lab.strip() for _, lab in options]  # no combination rows
        answered = picked.notna().all(axis=1)
        assert rows["n_Total"].iloc[0] == answered.sum() and rows["pct_Total"].iloc[0] == 100
        w = survey["design_weight"][answered]
        for (code, _), (_, row) in zip(options, rows.iloc[1:].iterrows()):
            chosen = picked.loc[answered, code] == 1
            assert row["n_Total"] == chosen.sum()
            assert row["pct_Total"] == pytest.approx(100 * chosen.mean())
            assert row["pct_weighted"] == pytest.approx(100 * w[chosen].sum() / w.sum())
        assert rows["pct_Total"].iloc[1:].sum() > 100
        notes = " ".join(outputs["tg"].tables[0].notes)
        assert ("ne totalisent pas 100" if lang == "fr" else "do not sum to 100") in notes
        assert ("khi-deux" if lang == "fr" else "chi-square") in notes  # milieu keeps its test
        assert "test_target_groups" not in outputs["tg"].results


def test_missing_option_of_cfa_and_invariance_tables():
    """cfa and invariance default to fiml in the kinds; listwise stays an option; anything else is refused."""
    from analysis.report._common import missing_option

    assert missing_option("FIML", "cfa", "cfa") == "fiml"
    assert missing_option("listwise", "invariance", "invariance") == "listwise"
    with pytest.raises(ConfigError, match="missing must be fiml or listwise"):
        missing_option("pairwise", "cfa", "cfa")
