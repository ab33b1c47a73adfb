"""Realistic post-pilot edits of questionnaire/ need no Python edit.

Ten edits a researcher makes after the pilot are applied to a copy of
``questionnaire/``: add an item to a dimension, drop one, add a construct with
its English label, add a dimension, add a factor covariate, add a descriptive
table of a select_multiple question, add a model, rename a choice label, add a
relevance condition, remove a whole block of questions with its tables. The
edited study must validate; then (slow) an export is simulated from the edited
form with ``si-survey simulate``, ``si-survey run`` processes it, and each test
checks that its edit shows in the outputs. The edits are applied together so
that the simulation and the run happen once.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis import config
from analysis.report.kinds import all_kind_options
from analysis.study import load_study, validate_study
from tests.study.test_plans import copy_questionnaire, edit, run_cli

KINDS = all_kind_options()

N_ORGANISATIONS = 150
_FR, _AR, _EN = "Français (fr)", "العربية (ar)", "English (en)"
_HEADER = next(csv.reader([(config.QUESTIONNAIRE_DIR / "survey.csv").read_text(encoding="utf-8").splitlines()[0]]))
_REQ = {"required": "yes", f"required_message::{_FR}": "Cette question est obligatoire.",
        f"required_message::{_AR}": "هذا السؤال إلزامي.", f"required_message::{_EN}": "This question is required."}


def _survey_row(cells: dict[str, str]) -> str:
    """One line of survey.csv in the file's column order (the columns not given left empty)."""
    unknown = set(cells) - set(_HEADER)
    assert not unknown, unknown
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([cells.get(c, "") for c in _HEADER])
    return buf.getvalue()


def _labels(fr: str, ar: str, en: str) -> dict[str, str]:
    """The three labels of a row (the questionnaire has French, Arabic and English)."""
    return {f"label::{_FR}": fr, f"label::{_AR}": ar, f"label::{_EN}": en}


def _likert_row(name: str, fr: str, ar: str, en: str) -> str:
    return _survey_row({"type": "select_one agree5", "name": name, **_labels(fr, ar, en), **_REQ,
                        "appearance": "likert"})


def _group(name: str, fr: str, ar: str, en: str, items: list[tuple[str, str, str, str]]) -> str:
    rows = "".join(_likert_row(*i) for i in items)
    return (_survey_row({"type": "begin_group", "name": name, **_labels(fr, ar, en), "appearance": "field-list"})
            + rows + _survey_row({"type": "end_group", "name": name}))


def _drop_lines(path: Path, predicate) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(ln for ln in lines if not predicate(ln)), encoding="utf-8")


def _drop_block(path: Path, begin: str, end: str) -> None:
    """Remove the lines from the one starting ``begin`` to the one holding ``end``, both included."""
    text = path.read_text(encoding="utf-8")
    a = text.index(begin)
    b = text.index("\n", text.index(end, a)) + 1
    path.write_text(text[:a] + text[b:], encoding="utf-8")


def _set_cell(path: Path, name: str, column: str, value: str) -> None:
    """Set one cell of survey.csv (the row of question ``name``), the other lines left as typed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    for k, line in enumerate(lines):
        cells = next(csv.reader([line]))
        if len(cells) > 1 and cells[1] == name:
            assert cells[header.index(column)] == ""
            cells[header.index(column)] = value
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(cells)
            lines[k] = buf.getvalue()
            path.write_text("".join(lines), encoding="utf-8")
            return
    raise AssertionError(f"no question {name!r} in {path}")


def apply_post_pilot_edits(q: Path) -> None:
    """The ten edits, as a researcher would type them in the text files."""
    survey, constructs, tables, plan, choices = (q / f for f in (
        "survey.csv", "constructs.yaml", "tables.yaml", "analysis_plan.yaml", "choices.csv"))

    # 1. add an item to a dimension (novelty): a question and one word in constructs.yaml
    text = survey.read_text(encoding="utf-8")
    k = text.index("\n", text.index("select_one agree5,si_nov_04,")) + 1
    survey.write_text(text[:k] + _likert_row(
        "si_nov_05", "Nous sommes les premiers à proposer ce service dans notre commune.",
        "نحن أول من يقدم هذه الخدمة في جماعتنا.", "We are the first to offer this service in our commune.")
        + text[k:], encoding="utf-8")
    edit(constructs, "items: [si_nov_01, si_nov_02, si_nov_03, si_nov_04]",
         "items: [si_nov_01, si_nov_02, si_nov_03, si_nov_04, si_nov_05]")

    # 2. drop an item (social finality): the question and its name in constructs.yaml
    _drop_lines(survey, lambda ln: ln.startswith("select_one agree5,si_fin_03,"))
    edit(constructs, "items: [si_fin_01, si_fin_02, si_fin_03, si_fin_04]", "items: [si_fin_01, si_fin_02, si_fin_04]")

    # 3. add a construct with its English label (three questions in section C)
    # 4. add a dimension to internal capacity (three questions in section C)
    new_groups = _group("grp_dig_use", "Usage du numérique", "استعمال الرقمي", "Use of digital technology", [
        ("dig_use_01", "Nous utilisons un logiciel de comptabilité.", "نستعمل برنامجا للمحاسبة.",
         "We use accounting software."),
        ("dig_use_02", "Nos membres reçoivent les informations par messagerie.", "يتوصل أعضاؤنا بالمعلومات عبر التراسل.",
         "Our members receive information through a messaging service."),
        ("dig_use_03", "Nous suivons nos activités dans un tableur partagé.", "نتتبع أنشطتنا في جدول مشترك.",
         "We track our activities in a shared spreadsheet."),
    ]) + _group("grp_ic_net", "Réseaux", "الشبكات", "Networks", [
        ("ic_net_01", "Nous faisons partie d'un réseau d'organisations.", "نحن جزء من شبكة منظمات.",
         "We are part of a network of organisations."),
        ("ic_net_02", "Nous échangeons régulièrement avec d'autres organisations.", "نتبادل بانتظام مع منظمات أخرى.",
         "We exchange regularly with other organisations."),
        ("ic_net_03", "Nos partenaires nous recommandent à d'autres.", "يوصي بنا شركاؤنا لدى الآخرين.",
         "Our partners recommend us to others."),
    ])
    edit(survey, "end_group,sec_c,", new_groups + "end_group,sec_c,")
    edit(constructs, "  hybridisation:\n", """  digital_maturity:
    label_fr: "Maturité numérique"
    label_en: "Digital maturity"
    label_ar: "النضج الرقمي"
    kind: reflective
    role: environment (internal)
    rule: mean_of_items
    min_valid: 2
    dimensions:
      use:
        label_fr: "Usage des outils numériques"
        label_en: "Use of digital tools"
        label_ar: "استعمال الأدوات الرقمية"
        items: [dig_use_01, dig_use_02, dig_use_03]
        reverse: []
        min_valid: 2

  hybridisation:
""")
    edit(constructs, """        items: [ic_com_01, ic_com_02, ic_com_03]
        reverse: [ic_com_03]
        min_valid: 2
""", """        items: [ic_com_01, ic_com_02, ic_com_03]
        reverse: [ic_com_03]
        min_valid: 2
      networks:
        label_fr: "Réseaux et partenariats"
        label_en: "Networks and partnerships"
        label_ar: "الشبكات والشراكات"
        items: [ic_net_01, ic_net_02, ic_net_03]
        reverse: []
        min_valid: 2
""")
    edit(tables, "constructs: [si_presence, internal_capacity, external_barriers, perceived_impact]\n\n",
         "constructs: [si_presence, internal_capacity, external_barriers, perceived_impact, digital_maturity]\n\n")

    # 5. add a factor covariate (milieu) to the controls, declared with its label and reference
    #    category under `factors` (the documented way: a factor not listed there gets no reference note)
    edit(plan, 'controls: "log_members + org_age + C(legal_form) + C(sector) + C(region)"',
         'controls: "log_members + org_age + C(legal_form) + C(milieu) + C(sector) + C(region)"')
    edit(plan, '  legal_form_group: {label_fr: "Forme juridique", label_en: "Legal form"}\n',
         '  legal_form_group: {label_fr: "Forme juridique", label_en: "Legal form"}\n'
         '  milieu: {label_fr: "Milieu d\'intervention", label_en: "Area of intervention", reference: mixte}\n')

    # 6. add a descriptive table of a select_multiple question
    tables.write_text(tables.read_text(encoding="utf-8") + """
  - id: table11_target_groups
    kind: sample
    title: {fr: "Groupes cibles des organisations", en: "Target groups of the organisations"}
    categorical: [target_groups]
""", encoding="utf-8")

    # 7. add a model (and show it in the models table)
    edit(plan, "  # ---------------------------------------------------------------- H2: environment -> SI",
         """  h1_impact_capacity:
    hypothesis: H1
    description: SI presence and perceived impact, net of internal capacity and the controls.
    formula: "score_perceived_impact ~ score_si_presence + score_internal_capacity + {controls}"
    model: ols

  # ---------------------------------------------------------------- H2: environment -> SI""")
    edit(tables, "models: [h1_impact,", "models: [h1_impact, h1_impact_capacity,")

    # 8. rename a choice label
    edit(choices, "milieu,rural,Rural,قروي,Rural",
         "milieu,rural,Rural (douars et centres ruraux),قروي,Rural (villages and rural centres)")

    # 9. add a relevance condition: premises asked of cooperatives only
    _set_cell(survey, "has_premises", "relevant", "${legal_form} = 'cooperative'")

    # 10. remove a whole block of questions with its tables: the problems grid (Annexe 2)
    _drop_block(survey, "begin_group,grp_problems,", "end_group,grp_problems,")
    _drop_block(constructs, "# Groups of the problems of Annexe 2", "prob_community_particip, prob_cultural_context]\n")
    _drop_block(tables, "  - id: problems", "serious_from: 4\n")


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("edits")
    q = copy_questionnaire(root)
    apply_post_pilot_edits(q)
    return q


def test_the_edited_study_validates_and_follows_the_edits(edited):
    study = load_study(edited)
    assert [str(p) for p in validate_study(study, kind_options=KINDS)] == []
    spec = study.constructs
    assert "si_nov =~ si_nov_01 + si_nov_02 + si_nov_03 + si_nov_04 + si_nov_05" in spec.measurement_model
    assert "si_fin =~ si_fin_01 + si_fin_02 + si_fin_04" in spec.measurement_model
    assert "ic_net =~ ic_net_01 + ic_net_02 + ic_net_03" in spec.measurement_model
    assert "internal_capacity =~ ic_hr + ic_fin + ic_mgt + ic_com + ic_net" in spec.measurement_model
    assert spec["digital_maturity"].label_en == "Digital maturity"
    assert not spec.problem_groups and "problems" not in study.tables.ids


# --------------------------------------------------------------------------- end to end (slow)


@pytest.fixture(scope="module")
def outputs(edited) -> dict[str, Path]:
    root = edited.parent
    res = run_cli("simulate", "--questionnaire", str(edited), "--n", str(N_ORGANISATIONS), "--seed", "7",
                  "--out", str(root / "raw"), cwd=root)
    assert res.returncode == 0, res.stderr
    res = run_cli("run", "--questionnaire", str(edited), str(root / "raw" / "si_survey_kobo.csv"),
                  "--processed", str(root / "processed"), "--out", str(root / "reports"), "--formats", "md",
                  cwd=root)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    res = run_cli("tables", "--questionnaire", str(edited), "--data", str(root / "processed"),
                  "--out", str(root / "reports_en"), "--formats", "md", "--lang", "en", cwd=root)
    assert res.returncode == 0, res.stderr[-3000:]
    return {"processed": root / "processed", "fr": root / "reports", "en": root / "reports_en"}


def _md(outputs, table: str, lang: str = "fr") -> str:
    return (outputs[lang] / "md" / f"{table}.md").read_text(encoding="utf-8")


def _warnings(outputs) -> str:
    path = outputs["fr"] / "warnings.txt"
    return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.mark.slow
def test_added_item_is_analysed(outputs):
    loadings = pd.read_csv(outputs["fr"] / "results" / "cfa__loadings.csv")
    assert loadings.astype(str).apply(lambda c: c.str.contains("si_nov_05")).any().any()
    assert "si_nov_05" in (outputs["fr"] / "results" / "reliability__items.csv").read_text(encoding="utf-8")


@pytest.mark.slow
def test_dropped_item_is_gone(outputs):
    for name in ("cfa__loadings.csv", "reliability__items.csv"):
        assert "si_fin_03" not in (outputs["fr"] / "results" / name).read_text(encoding="utf-8")


@pytest.mark.slow
def test_added_construct_with_its_english_label(outputs):
    assert (outputs["fr"] / "results" / "reliability__alpha_digital_maturity.csv").exists()
    assert "Maturité numérique" in _md(outputs, "reliability")


@pytest.mark.slow
def test_added_construct_english_label_in_the_report(outputs):
    assert "Digital maturity" in _md(outputs, "reliability", "en")


@pytest.mark.slow
def test_added_dimension(outputs):
    assert (outputs["fr"] / "results" / "reliability__alpha_internal_capacity__networks.csv").exists()
    assert "ic_net_01" in (outputs["fr"] / "results" / "cfa__loadings.csv").read_text(encoding="utf-8")


@pytest.mark.slow
def test_added_factor_covariate(outputs):
    md = _md(outputs, "models")
    # French typography: a no-break space before the colon; reference level = the first code (mixte)
    assert re.search(r"\| Milieu d'intervention\s: Rural \(douars et centres ruraux\) \|", md)
    assert re.search(r"\| Milieu d'intervention\s: Urbain \|", md)


@pytest.mark.slow
def test_added_factor_covariate_reference_in_the_note(outputs):
    note = _md(outputs, "models").split("*Note.*", 1)[1]
    assert re.search(r"Milieu d'intervention\s=\sMixte", note)


@pytest.mark.slow
def test_select_multiple_table_one_row_per_option(outputs):
    md = _md(outputs, "table11_target_groups")
    q = load_study().questionnaire
    labels = list(q.choices_for("target_groups")["label_fr"])
    rows = [ln.split("|")[1].strip() for ln in md.splitlines() if ln.startswith("| ") and "|" in ln[2:]]
    missing = [lab for lab in labels if lab not in rows]
    assert not missing, missing
    assert len([r for r in rows if r and not r.startswith("**")]) <= len(labels) + 1  # no combination rows


@pytest.mark.slow
def test_added_model(outputs):
    header = next(ln for ln in _md(outputs, "models").splitlines() if ln.startswith("| Variable"))
    assert "(7)" in header
    assert "h1_impact_capacity" not in _warnings(outputs)


@pytest.mark.slow
def test_renamed_choice_label(outputs):
    assert "Rural (douars et centres ruraux)" in _md(outputs, "sample")
    assert "Rural (villages and rural centres)" in _md(outputs, "sample", "en")  # the English report follows


@pytest.mark.slow
def test_relevance_condition(outputs):
    data = pd.read_parquet(outputs["processed"] / "survey.parquet")
    data = data[data["analysed"].astype(bool)]
    answered = data["has_premises"].replace("", pd.NA).notna()
    assert not answered[data["legal_form_group"] == "association"].any()
    assert answered[data["legal_form_group"] == "cooperative"].any()


@pytest.mark.slow
def test_removed_block_and_its_table(outputs):
    assert not (outputs["fr"] / "md" / "problems.md").exists()
    assert "prob_" not in _warnings(outputs)
    assert "table08" not in _warnings(outputs)
