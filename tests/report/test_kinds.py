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


@pytest.mark.parametrize("n, fr, en", [(1, "la solution à 1 facteur", "the 1-factor solution"),
                                       (7, "la solution à 7 facteurs", "the 7-factor solution")])
def test_efa_sentence_agrees_with_the_number_of_factors(n, fr, en):
    """French agrees the noun with the number; English writes a compound adjective, singular."""
    key = "efa.solution_factors_one" if n == 1 else "efa.solution_factors_many"
    for lang, expected in (("fr", fr), ("en", en)):
        texts = load_texts(lang)
        sentence = texts("efa.apa", n=n, factors=texts(key), kmo=",96", bartlett_df=276, chi="1", pb="p < ,001",
                         cum="54,1")
        assert expected in sentence, sentence


def test_english_texts_read_as_english():
    en = load_texts("en")
    assert en("common.table_ref") == "Table"  # "(Table 12)", as APA capitalises it
    assert en("common.quoted", text="Impact by domain") == '"Impact by domain"'  # no French guillemets
    assert en("common.suppressed_others_many", n=3).strip().startswith("In addition, 3 other cells")  # no numeral first
    assert "(loadings below: 18)" in en("pls.measurement_note", weak=18)


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
    from analysis.study._instrument import codebook

    cb = codebook().set_index("variable")
    for lang, column in (("fr", "values"), ("en", "values_en")):  # the category in the report's language
        outputs, warnings = compute_report(survey, flow, lang=lang, plan=plan, questionnaire_dir=folder)
        table = outputs["m"].tables[0]
        mixte = dict(p.split("=", 1) for p in cb.at["milieu", column].split("; "))["mixte"].strip()
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
    labels = {"fr": [lab.strip() for _, lab in options],  # the answers in the report's language
              "en": [p.split("=", 1)[1].strip() for p in cb.at["target_groups", "values_en"].split("; ")]}
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
        assert list(rows["category"])[1:] == labels[lang]  # no combination rows
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


# --------------------------------------------------------------------------- labels' language


def test_one_lookup_gives_the_questionnaire_texts_in_the_report_language():
    """``ReportContext.codebook_text`` is the one look-up of question and answer labels: English
    in the English report, French in the French one, and French (with the note saying so) when
    the questionnaire has no English."""
    import pandas as pd

    from analysis.report._common import finish, new_table
    from analysis.report._context import ReportContext
    from analysis.report._plan import load_table_plan
    from analysis.study._instrument import codebook

    cb = codebook()
    plan = load_table_plan()
    en = ReportContext(pd.DataFrame(), None, cb, None, plan, lang="en")
    fr = ReportContext(pd.DataFrame(), None, cb, None, plan, lang="fr")
    assert en.label("si_nov_01") == "Our activities provide solutions that did not exist in our area before us."
    assert fr.label("si_nov_01").startswith("Nos activités apportent des solutions")
    assert en.value_labels("si_nov_01")["5"] == "Strongly agree"
    assert fr.value_labels("si_nov_01")["5"] == "Tout à fait d'accord"
    assert en.value_labels("region")["R02"] == "Oriental" and fr.value_labels("region")["R02"] == "L'Oriental"
    assert en.labels_translated and fr.labels_translated

    no_english = cb.drop(columns=["label_en", "values_en"])
    old = ReportContext(pd.DataFrame(), None, no_english, None, plan, lang="en")
    assert old.label("si_nov_01") == fr.label("si_nov_01")
    assert old.value_labels("milieu") == fr.value_labels("milieu")
    assert not old.labels_translated
    blank = cb.assign(label_en="", values_en="")  # columns present but empty: the same fallback
    assert ReportContext(pd.DataFrame(), None, blank, None, plan, lang="en").label("milieu") == "Milieu d'intervention"

    def notes(ctx):
        t = new_table(pd.DataFrame({"a": [1]}), ctx, {"id": "x", "title": {"fr": "x", "en": "x"}}, 1)
        return " ".join(n.text for n in finish(t, ctx, labels_note=True).render().notes)

    assert "English version of the questionnaire" in notes(en)
    assert "those of the French questionnaire" in notes(old)


def test_figure_words_come_from_the_texts_files(tmp_path, monkeypatch):
    """The words of the figures (axes, legends, notes) are read from texts/<lang>.yaml, as every text."""
    from analysis.report._figure_style import figure_labels

    folder = tmp_path / "questionnaire"
    shutil.copytree(config.QUESTIONNAIRE_DIR, folder)
    path = folder / "texts" / "en.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Share of respondents", "Part of those answering"),
                    encoding="utf-8")
    assert figure_labels("en")["likert_x"] == "Share of respondents"
    monkeypatch.setattr(config, "QUESTIONNAIRE_DIR", folder)
    assert figure_labels("en")["likert_x"] == "Part of those answering"
    assert figure_labels("fr")["path_r2"] == "R² = {v}"


def test_no_text_of_the_report_is_chosen_by_language_in_the_code():
    """No ``if lang == "fr"`` with literal words: the texts live in texts/<lang>.yaml. What is left
    chooses the language of the study's own labels (constructs.yaml, the questionnaire)."""
    from pathlib import Path

    import analysis.report as report

    allowed = {"_context.py", "problems.py", "_figure_captions.py"}  # label look-ups, no fixed words
    found = [f"{p.name}:{k}" for p in Path(report.__file__).parent.rglob("*.py") if p.name not in allowed
             for k, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
             if re.search(r"""lang\s*[!=]=\s*["'](fr|en)["']""", line)]
    assert not found, found


def test_missing_option_of_cfa_and_invariance_tables():
    """cfa and invariance default to fiml in the kinds; listwise stays an option; anything else is refused."""
    from analysis.report._common import missing_option

    assert missing_option("FIML", "cfa", "cfa") == "fiml"
    assert missing_option("listwise", "invariance", "invariance") == "listwise"
    with pytest.raises(ConfigError, match="missing must be fiml or listwise"):
        missing_option("pairwise", "cfa", "cfa")
