"""The plans are checked before any work starts: one sentence per problem, file, line, name, suggestion.

Each broken edit is made on a copy of ``questionnaire/`` in ``tmp_path``; the
in-process tests check the problems of :func:`validate_study`, the subprocess
tests check that the command line stops before the cleaning with one sentence,
no traceback and nothing written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import config
from analysis.errors import ConfigError
from analysis.report.kinds import all_kind_options
from analysis.study import check_study, formula_variables, load_study, validate_study
from analysis.study._problems import StudyError

KINDS = all_kind_options()


def copy_questionnaire(tmp_path: Path) -> Path:
    """A copy of questionnaire/ (without build/) to edit."""
    folder = tmp_path / "questionnaire"
    shutil.copytree(config.PROJECT_ROOT / "questionnaire", folder, ignore=shutil.ignore_patterns("build"))
    return folder


def edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace ``old`` by ``new`` in a file (``old`` must be there); return the line of the first change."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)}
    env.pop("SI_SURVEY_QUESTIONNAIRE", None)
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


# --------------------------------------------------------------------------- in process


def test_the_bundled_study_is_valid():
    assert validate_study(load_study(), kind_options=KINDS) == []


@pytest.fixture
def folder(tmp_path):
    return copy_questionnaire(tmp_path)


def only_problem(folder: Path):
    problems = validate_study(load_study(folder), kind_options=KINDS)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_misspelt_option(folder):
    line = edit(folder / "tables.yaml", "    rotation: oblimin", "    rotaton: oblimin")
    p = only_problem(folder)
    assert p.file.endswith("tables.yaml") and p.line == line
    assert "'rotaton'" in p.message and "efa" in p.message
    assert p.suggestion == "; did you mean 'rotation'?"


def test_unknown_construct_in_a_table(folder):
    line = edit(folder / "tables.yaml", "constructs: [si_presence, internal_capacity, external_barriers, perceived_impact]",
                "constructs: [si_presence, internal_capacity, external_barriers, perceived_impacts]")
    p = only_problem(folder)
    assert p.line == line and "'perceived_impacts'" in p.message and "'perceived_impact'" in p.suggestion


def test_unknown_table_kind(folder):
    line = edit(folder / "tables.yaml", "kind: reliability", "kind: reliabilty")
    p = only_problem(folder)
    assert p.line == line and "unknown kind 'reliabilty'" in p.message and "'reliability'" in p.suggestion


def test_formula_with_an_unknown_column(folder):
    line = edit(folder / "analysis_plan.yaml", '"score_perceived_impact ~ score_si_presence + {controls}"',
                '"score_perceived_impact ~ score_si_presense + {controls}"')
    p = only_problem(folder)
    assert p.file.endswith("analysis_plan.yaml") and p.line == line
    assert "h1_impact" in p.message and "'score_si_presense'" in p.message
    assert p.suggestion == "; did you mean 'score_si_presence'?"


def test_unknown_column_through_a_term(folder):
    edit(folder / "analysis_plan.yaml", 'controls: "log_members + org_age', 'controls: "log_member + org_age')
    problems = validate_study(load_study(folder), kind_options=KINDS)
    assert problems and all("'log_member' (through {controls})" in p.message for p in problems)
    assert problems[0].suggestion == "; did you mean 'log_members'?"


def test_misspelt_model_key_and_unknown_model_in_a_table(folder):
    edit(folder / "analysis_plan.yaml", "    model: negbin", "    modle: negbin")
    edit(folder / "tables.yaml", "models: [h1_impact,", "models: [h1_impakt,")
    messages = [str(p) for p in validate_study(load_study(folder), kind_options=KINDS)]
    assert any("unknown key 'modle'" in m and "did you mean 'model'?" in m for m in messages)
    assert any("'h1_impakt' is not a model of analysis_plan.yaml; did you mean 'h1_impact'?" in m for m in messages)


def test_unknown_item_of_a_construct(folder):
    line = edit(folder / "constructs.yaml", "items: [si_nov_01, si_nov_02, si_nov_03, si_nov_04]",
                "items: [si_nov_01, si_nov_02, si_nov_03, si_nov_04, si_nov_5]")
    p = only_problem(folder)
    assert p.file.endswith("constructs.yaml") and p.line == line
    assert "item 'si_nov_5'" in p.message and "not a question of survey.csv" in p.message
    assert "did you mean 'si_nov_0" in p.suggestion


def test_a_deleted_question_still_used_by_the_plans(folder):
    survey = folder / "survey.csv"
    lines = survey.read_text(encoding="utf-8").splitlines(keepends=True)
    survey.write_text("".join(ln for ln in lines if not ln.startswith("select_one milieu,milieu,")),
                      encoding="utf-8")
    p = only_problem(folder)
    assert p.file.endswith("tables.yaml") and p.line == line_of(folder / "tables.yaml", "categorical:")
    assert "'milieu' is not a column of the analysis file" in p.message


def test_a_list_missing_from_choices(folder):
    edit(folder / "survey.csv", "select_one milieu,milieu,", "select_one milieux,milieu,")
    p = only_problem(folder)
    assert "survey.csv" in str(p) and "choice list 'milieux' does not exist in choices.csv" in str(p)
    assert "did you mean 'milieu'?" in str(p)


def test_cleaning_and_population_keys(folder):
    edit(folder / "cleaning.yaml", "organisation_key: [org_name, legal_form, province, sector]",
         "organisation_key: [org_name, legal_form, province, sectr]")
    edit(folder / "population.yaml", "{code: association, count: 187834, source: hcp2019}",
         "{code: association, cout: 187834, source: hcp2019}")
    messages = [str(p) for p in validate_study(load_study(folder), kind_options=KINDS)]
    assert len(messages) == 2, messages
    assert "cleaning.yaml" in messages[0] and "'sectr'" in messages[0] and "did you mean 'sector'?" in messages[0]
    assert "population.yaml" in messages[1] and "'cout'" in messages[1] and "did you mean 'count'?" in messages[1]


def test_yaml_syntax_error_names_the_file_and_line(folder):
    line = edit(folder / "tables.yaml", "    serious_from: 4", "    serious_from: [4")
    with pytest.raises(ConfigError, match=r"tables\.yaml', line \d+: the YAML cannot be read") as err:
        load_study(folder)
    assert abs(int(str(err.value).split("line ")[1].split(":")[0]) - line) <= 2


def test_check_study_raises_one_sentence_per_problem(folder):
    edit(folder / "tables.yaml", "    rotation: oblimin", "    rotaton: oblimin")
    edit(folder / "tables.yaml", "serious_from: 4", "serius_from: 4")
    with pytest.raises(StudyError) as err:
        check_study(load_study(folder), kind_options=KINDS)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and all(ln.startswith("file '") and ln.endswith("?") for ln in lines)


def test_label_keys_are_accepted(folder):
    edit(folder / "constructs.yaml", '    label_fr: "Capacités internes"',
         '    label_fr: "Capacités internes"\n    label_en: "Internal capacity"')
    edit(folder / "constructs.yaml", '        label_fr: "Ressources humaines"',
         '        label_fr: "Ressources humaines"\n        label_en: "Human resources"')
    study = load_study(folder)
    assert validate_study(study, kind_options=KINDS) == []
    ic = study.constructs["internal_capacity"]
    assert ic.label_en == "Internal capacity" and ic.dimensions[0].label_en == "Human resources"


def test_kind_options_can_come_from_the_report():
    study = load_study()
    kinds = {"flow": {}, "sample": {}, "likert": {}, "reliability": {}, "efa": {}, "cfa": {}, "invariance": {},
             "funding": {}, "problems": {}, "models": {}, "groups": {}, "pls": {}, "sem": {}}
    problems = validate_study(study, kind_options=kinds)
    assert problems and all("unknown option" in p.message for p in problems)


def test_formula_variables():
    assert formula_variables("score_a ~ score_b * support_n_types + C(region) + I(x >= 4) + a:b") == [
        "score_a", "score_b", "support_n_types", "region", "x", "a", "b"]


# --------------------------------------------------------------------------- command line

BROKEN = {
    "unknown item": ("constructs.yaml", "items: [ic_hr_01, ic_hr_02, ic_hr_03]",
                     "items: [ic_hr_01, ic_hr_02, ic_hr_03, ic_hr_04]", "ic_hr_04"),
    "unknown construct in a table": ("tables.yaml", "construct: si_presence\n    method", "construct: si_presense\n    method",
                                     "si_presense"),
    "misspelt option": ("tables.yaml", "    rotation: oblimin", "    rotaton: oblimin", "rotaton"),
    "formula with an unknown column": ("analysis_plan.yaml", "score_perceived_impact ~ score_si_presence + {controls}",
                                       "score_perceived_impact ~ score_si_presense + {controls}", "score_si_presense"),
    "list missing from choices.csv": ("survey.csv", "select_one milieu,milieu,", "select_one milieux,milieu,",
                                      "milieux"),
    "YAML syntax error": ("analysis_plan.yaml", "  se: hc3", "  se: [hc3", "analysis_plan.yaml"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_edit_stops_run_before_cleaning(tmp_path, case):
    folder = copy_questionnaire(tmp_path)
    name, old, new, bad = BROKEN[case]
    edit(folder / name, old, new)
    res = run_cli("run", "--questionnaire", str(folder), "--processed", str(tmp_path / "processed"),
                  "--out", str(tmp_path / "reports"), cwd=tmp_path)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    errors = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1, res.stderr
    assert errors[0].startswith("si-survey: error: file '") and bad in errors[0]
    assert ", line " in errors[0] and "file ''" not in errors[0]
    assert not (tmp_path / "processed").exists() and not (tmp_path / "reports").exists()


@pytest.mark.parametrize("command", ["instrument", "clean", "tables"])
def test_other_commands_validate_first(tmp_path, command):
    folder = copy_questionnaire(tmp_path)
    edit(folder / "tables.yaml", "    rotation: oblimin", "    rotaton: oblimin")
    out = tmp_path / "out"
    extra = {"instrument": [], "clean": [], "tables": ["--data", str(tmp_path / "processed")]}[command]
    res = run_cli(command, "--questionnaire", str(folder), "--out", str(out), *extra, cwd=tmp_path)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "did you mean 'rotation'?" in res.stderr
    assert not out.exists() and not (folder / "build").exists()


# --------------------------------------------------------------------------- the study object


def test_study_is_read_once_into_frozen_objects():
    import dataclasses

    study = load_study()
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.constructs = None
    assert study.tables.doc.path.name == "tables.yaml" and study.tables.tables[4].kind == "efa"
    assert study.tables.tables[4].line == study.tables.doc.line("tables", 4)
    assert study.cleaning.legal_form_groups["fondation"] == "association"
    assert set(study.analysis_plan.models) >= {"h1_impact", "h2_si_presence"}


def test_legal_form_groups_have_one_source():
    from analysis.study._dataset import LEGAL_FORM_GROUPS

    assert LEGAL_FORM_GROUPS == load_study().cleaning.legal_form_groups


def test_questionnaire_option_needs_a_questionnaire_folder(tmp_path, capsys):
    from analysis.cli import main

    assert main(["instrument", "--questionnaire", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "has no survey.csv" in err and "Traceback" not in err
