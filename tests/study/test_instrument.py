"""Tests of analysis.study._instrument: the questionnaire text files, the XForm, the codebook."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from analysis import config
from analysis.errors import ConfigError
from analysis.study._instrument import (
    LANG_AR,
    LANG_EN,
    LANG_FR,
    SYSTEM_COLUMNS,
    build_instrument,
    build_xform,
    codebook,
    java_available,
    load_questionnaire,
    validate_questionnaire,
)

XF = "{http://www.w3.org/2002/xforms}"
REF = re.compile(r"\$\{([^}]*)\}")


@pytest.fixture(scope="module")
def q():
    return load_questionnaire()


@pytest.fixture(scope="module")
def xform(q):
    return build_xform(q)


@pytest.fixture(scope="module")
def cb(q):
    return codebook(q)


def _copy_questionnaire(tmp_path: Path) -> Path:
    dest = tmp_path / "questionnaire"
    dest.mkdir(parents=True)
    for name in ("survey.csv", "choices.csv", "settings.csv", "constructs.yaml"):
        shutil.copy(config.QUESTIONNAIRE_DIR / name, dest / name)
    return dest


def _edit_csv(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------- XForm
def test_converts_with_pyxform(xform):
    root = ET.fromstring(xform)
    instance = root.find(f".//{XF}instance")
    assert instance is not None
    data = list(instance)[0]
    assert data.get("id") == "si_survey"
    leaves = {el.tag.replace(XF, "") for el in data.iter()}
    for name in ("legal_form", "year_created", "region", "fund_market", "prob_finance", "si_nov_01"):
        assert name in leaves


def test_xform_has_french_default_arabic_and_english(xform):
    root = ET.fromstring(xform)
    langs = {t.get("lang"): t.get("default") for t in root.iter(f"{XF}translation")}
    assert set(langs) == {LANG_FR, LANG_AR, LANG_EN}
    assert langs[LANG_FR] == "true()"
    assert langs[LANG_AR] is None and langs[LANG_EN] is None
    # the English texts reach the form: a question, a choice, a hint, a constraint message
    en = next(t for t in root.iter(f"{XF}translation") if t.get("lang") == LANG_EN)
    texts = {v.text for v in en.iter(f"{XF}value")}
    assert "Legal form of the organisation" in texts
    assert "Union of cooperatives" in texts
    assert "2015 regional division (12 regions)." in texts
    assert "The share must be between 0 and 100." in texts


def test_xform_binds_skip_logic_and_constraints(xform):
    root = ET.fromstring(xform)
    binds = {b.get("nodeset").rsplit("/", 1)[-1]: b for b in root.iter(f"{XF}bind")}
    assert "market_activity" in binds["surplus_use"].get("relevant")
    assert "legal_form" in binds["coop_income_members"].get("relevant")
    assert "fund_total" in binds["fund_check"].get("constraint")
    assert binds["fund_total"].get("calculate").count("coalesce") == 11
    assert binds["legal_form"].get("required") == "true()"


def test_pyxform_rejection_is_config_error_naming_row(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    _edit_csv(folder / "survey.csv", "integer,year_created", "integr,year_created")
    q = load_questionnaire(folder)
    with pytest.raises(ConfigError, match=r"line \d+ \('year_created'\).*integr"):
        build_xform(q)
    # the same error as reported by pyxform itself (own checks skipped) still names the line
    with pytest.raises(ConfigError, match=r"pyxform.*line \d+ \('year_created'\)"):
        build_xform(q, validate=False)


def test_pyxform_only_error_names_row(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    text = (folder / "survey.csv").read_text(encoding="utf-8").splitlines()
    k = next(i for i, line in enumerate(text) if line.startswith("select_one agree5,si_nov_01,"))
    assert text[k].endswith(",")
    text[k] += "not a parameter"  # last column is 'parameters'
    (folder / "survey.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"pyxform.*line {k + 1} \('si_nov_01'\)"):
        build_xform(load_questionnaire(folder))


# ------------------------------------------------------------- form checks
def test_validates(q):
    validate_questionnaire(q)


def test_fixed_variable_names_present(q):
    names = set(q.names)
    fixed = """legal_form year_created region province milieu sector target_groups n_members
    n_women_members respondent_role n_staff_full n_staff_part n_volunteers_regular
    n_volunteers_occasional market_activity budget_mad beneficiaries_y1 beneficiaries_y2
    beneficiaries_y3 jobs_created coop_income_members support_used support_types resp_name
    resp_phone resp_email gps""".split()
    assert not set(fixed) - names
    for src in ("dues", "donations", "sponsorship", "subsidy_state", "subsidy_local", "subsidy_indh",
                "international", "market", "crowdfunding", "loans", "other"):
        assert f"fund_{src}" in names
        assert q.question(f"fund_{src}")["base_type"] == "decimal"


def test_fixed_choice_lists(q):
    assert list(q.choices_for("legal_form")["name"]) == [
        "association", "association_rup", "cooperative", "union_coop", "fondation", "autre"]
    assert list(q.choices_for("milieu")["name"]) == ["urbain", "rural", "mixte"]
    regions = q.choices_for("region")
    assert list(regions["name"]) == [f"R{i:02d}" for i in range(1, 13)]
    assert regions["label_fr"].iloc[0] == "Tanger-Tétouan-Al Hoceïma"
    assert regions["label_fr"].iloc[5] == "Casablanca-Settat"
    assert regions["label_ar"].iloc[11] == "الداخلة-وادي الذهب"
    assert list(q.choices_for("support_types")["name"])[:5] == [
        "financial", "technical", "legal", "management", "market_data"]
    assert q.question("region")["base_type"] == "select_one"
    assert q.question("province")["base_type"] == "text"
    assert q.question("target_groups")["base_type"] == "select_multiple"
    assert q.question("gps")["base_type"] == "geopoint"
    assert list(q.choices_for("market_activity")["name"]) == ["1", "0"]


def test_problems_grid_covers_annexe_2(q):
    probs = [n for n in q.names if n.startswith("prob_")]
    assert len(probs) == 16
    assert set(probs) <= set(q.likert_items)
    for p in probs:
        ch = q.choices_for(p)
        assert ch["label_fr"].iloc[0] == "Pas un problème"
        assert ch["label_fr"].iloc[4] == "Problème très grave"


def test_names_unique_snake_case_xml(q):
    rows = q.survey.loc[~q.survey["base_type"].isin(["end_group", "end_repeat"])]
    names = list(rows["name"])
    assert len(names) == len(set(names))
    for n in names:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", n), n
        assert not n.lower().startswith("xml"), n


def test_every_question_has_french_and_arabic_label(q):
    lab_fr, lab_ar = f"label::{LANG_FR}", f"label::{LANG_AR}"
    meta = {"start", "end", "today", "deviceid", "calculate", "end_group"}
    rows = q.survey.loc[~q.survey["base_type"].isin(meta)]
    assert (rows[lab_fr] != "").all()
    assert (rows[lab_ar] != "").all()
    # Arabic labels are in Arabic script
    assert rows[lab_ar].str.contains(r"[\u0600-\u06FF]").all()
    assert (q.choices[lab_fr] != "").all() and (q.choices[lab_ar] != "").all()
    hinted = q.survey.loc[q.survey[f"hint::{LANG_FR}"] != ""]
    assert len(hinted) > 0 and (hinted[f"hint::{LANG_AR}"] != "").all()
    cons = q.survey.loc[q.survey["constraint"] != ""]
    assert (cons[f"constraint_message::{LANG_FR}"] != "").all()
    assert (cons[f"constraint_message::{LANG_AR}"] != "").all()


def test_every_choice_list_used_exists(q):
    lists = set(q.choices["list_name"])
    used = set(q.survey.loc[q.survey["list_name"] != "", "list_name"])
    assert used <= lists
    assert lists <= used  # no orphan list either


def test_missing_codes_same_everywhere(q):
    for code, label in (("98", "Je ne sais pas"), ("99", "Refus"), ("97", "Sans objet")):
        rows = q.choices.loc[q.choices["name"] == code]
        assert rows[f"label::{LANG_FR}"].str.startswith(label).all(), code
    for lst in q.choices["list_name"].unique():
        if q.is_likert_list(lst):
            codes = list(q.choices.loc[q.choices["list_name"] == lst, "name"])
            assert codes[:5] == ["1", "2", "3", "4", "5"]
            assert "98" in codes and "99" in codes


def test_likert_items_have_labelled_points(q):
    assert 60 <= len(q.likert_items) <= 100
    for item in q.likert_items:
        ch = q.choices_for(item)
        assert (ch["label_fr"] != "").all() and (ch["label_ar"] != "").all()


def test_skip_logic_references_earlier_fields(q):
    order = {n: i for i, n in enumerate(q.survey["name"]) if n}
    fields = set(q.names)
    for _, row in q.survey.iterrows():
        for col in ("relevant", "constraint", "calculation"):
            for ref in REF.findall(row[col]):
                assert ref in fields, (row["name"], col, ref)
                assert order[ref] < order[row["name"]], (row["name"], col, ref)


def test_skip_logic_rules(q):
    for n in ("surplus_use", "goal_conflict"):
        assert "${market_activity} = '1'" in q.question(n)["relevant"]
    rel = q.question("coop_income_members")["relevant"]
    assert "'cooperative'" in rel and "'union_coop'" in rel
    assert "${support_used} = '1'" in q.question("support_types")["relevant"]
    assert q.question("legal_form_other")["relevant"] == "${legal_form} = 'autre'"


def test_numeric_constraints(q):
    assert "1900" in q.question("year_created")["constraint"]
    assert "today()" in q.question("year_created")["constraint"]
    for n in ("n_members", "n_staff_full", "n_volunteers_regular", "budget_mad", "beneficiaries_y1",
              "jobs_created"):
        assert q.missing_codes(n) == [-98, -99], n
        assert q.numeric_range(n)[0] == 0
    for n in [c for c in q.names if c.startswith("fund_") and q.question(c)["base_type"] == "decimal"]:
        assert q.numeric_range(n) == (0.0, 100.0)
    assert "99.5" in q.question("fund_check")["constraint"]
    assert q.question("fund_check")["required"] == "yes"


def test_load_reports_unclosed_group(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    _edit_csv(folder / "survey.csv", "end_group,sec_e", "note,sec_e_end")
    with pytest.raises(ConfigError, match="never closed"):
        load_questionnaire(folder)


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("select_one legal_form,legal_form", "select_one legal_formz,legal_form", "legal_formz"),
        ("integer,year_created", "integer,Year_Created", "Year_Created"),
        ("${market_activity} = '1'", "${market_activty} = '1'", "market_activty"),
        ("integer,year_created,Année de création de l'organisation,سنة تأسيس المنظمة",
         "integer,year_created,Année de création de l'organisation,", "Arabic label"),
    ],
)
def test_validation_errors_name_the_problem(tmp_path, old, new, pattern):
    folder = _copy_questionnaire(tmp_path)
    _edit_csv(folder / "survey.csv", old, new)
    with pytest.raises(ConfigError, match=pattern) as err:
        validate_questionnaire(load_questionnaire(folder))
    assert "line" in str(err.value)


def test_duplicate_name_rejected(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    _edit_csv(folder / "survey.csv", "text,province,", "text,milieu,")
    with pytest.raises(ConfigError, match="already used"):
        validate_questionnaire(load_questionnaire(folder))


# ----------------------------------------------------------------- English (optional, complete when present)
def test_english_labels_complete_and_french_arabic_untouched(q):
    assert q.languages == [LANG_FR, LANG_AR, LANG_EN]
    for kind in ("label", "hint", "required_message", "constraint_message"):
        fr, en = q.survey[f"{kind}::{LANG_FR}"], q.survey[f"{kind}::{LANG_EN}"]
        assert ((fr != "") == (en != "")).all(), kind
        assert not en.str.contains(r"[\u0600-\u06FF]").any()  # no Arabic copied into English
    assert (q.choices[f"label::{LANG_EN}"] != "").all()
    assert q.question("si_nov_01")[f"label::{LANG_EN}"] == (
        "Our activities provide solutions that did not exist in our area before us.")
    assert "${fund_total}" in q.question("fund_check")[f"label::{LANG_EN}"]
    ch = q.choices_for("legal_form").set_index("name")
    assert ch.loc["cooperative", ["label_fr", "label_en"]].tolist() == ["Coopérative", "Cooperative"]


def test_an_incomplete_english_column_is_rejected_naming_file_line_and_column(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    _edit_csv(folder / "survey.csv", "Our activities provide solutions that did not exist in our area before us.", "")
    with pytest.raises(ConfigError, match=r"survey\.csv', line \d+ \('si_nov_01'\): column 'label::English \(en\)' "
                                          r"is empty, but the French text is 'Nos activités apportent"):
        validate_questionnaire(load_questionnaire(folder))
    folder = _copy_questionnaire(tmp_path / "b")
    _edit_csv(folder / "choices.csv", "legal_form,cooperative,Coopérative,تعاونية,Cooperative",
              "legal_form,cooperative,Coopérative,تعاونية,")
    with pytest.raises(ConfigError, match=r"choices\.csv', line \d+ \('cooperative'\): column 'label::English"):
        validate_questionnaire(load_questionnaire(folder))
    folder = _copy_questionnaire(tmp_path / "c")
    _edit_csv(folder / "survey.csv", "2015 regional division (12 regions).", "")
    with pytest.raises(ConfigError, match=r"\('region'\): column 'hint::English \(en\)' is empty"):
        validate_questionnaire(load_questionnaire(folder))


def _drop_columns(path: Path, language: str) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.drop(columns=[c for c in df.columns if c.endswith(f"::{language}")]).to_csv(path, index=False)


def test_english_is_optional_but_both_files_need_it(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    for sheet in ("survey.csv", "choices.csv"):
        _drop_columns(folder / sheet, LANG_EN)
    q = load_questionnaire(folder)
    validate_questionnaire(q)  # French and Arabic only: valid, as before
    assert q.languages == [LANG_FR, LANG_AR]
    cb = codebook(q)
    assert (cb.loc[cb["type"] == "select_one", "label_en"] == "").all() and (cb["values_en"].isin(["", "OK=Confirmed", "1=Selected; 0=Not selected"])).all()
    assert "<h:html" in build_xform(q)
    folder = _copy_questionnaire(tmp_path / "b")
    _drop_columns(folder / "choices.csv", LANG_EN)
    with pytest.raises(ConfigError, match=r"choices\.csv': no column 'label::English \(en\)', but survey\.csv has"):
        validate_questionnaire(load_questionnaire(folder))


def test_french_and_arabic_stay_required(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    _drop_columns(folder / "survey.csv", LANG_AR)
    with pytest.raises(ConfigError, match="no Arabic label"):
        validate_questionnaire(load_questionnaire(folder))


# ----------------------------------------------------------------- codebook
def test_codebook_has_english_labels(cb):
    c = cb.set_index("variable")
    assert list(cb.columns[3:8]) == ["label_fr", "label_ar", "label_en", "values", "values_en"]
    assert c.loc["legal_form", "label_en"] == "Legal form of the organisation"
    assert c.loc["legal_form", "values_en"].startswith("association=Association; association_rup=Association recognised")
    assert c.loc["si_nov_01", "values_en"].startswith("1=Strongly disagree; 2=Somewhat disagree")
    assert c.loc["target_groups/women", "label_en"] == "Target groups (several answers possible): Women"
    assert c.loc["_uuid", "label_en"] == "Unique identifier of the submission (UUID)"
    assert (cb.loc[cb["label_fr"] != "", "label_en"] != "").all()


def test_codebook_columns(cb):
    for col in ("variable", "type", "label_fr", "label_ar", "values", "relevant", "constraint", "required",
                "construct", "reverse", "list_name", "section", "personal", "min", "max", "missing_codes"):
        assert col in cb.columns
    assert cb["variable"].is_unique


def test_codebook_matches_form(q, cb):
    variables = list(cb["variable"])
    # every field (non-group, non-note) appears, in form order
    fields = q.names
    assert [v for v in variables if v in set(fields)] == fields
    # select_multiple: question column + one question/option column per option
    for sm in q.select_multiple:
        opts = [f"{sm}/{c}" for c in q.choices_for(sm)["name"]]
        i = variables.index(sm)
        assert variables[i + 1:i + 1 + len(opts)] == opts
        assert (cb.set_index("variable").loc[opts, "type"] == "select_multiple_option").all()
    n_opts = sum(len(q.choices_for(sm)) for sm in q.select_multiple)
    assert len(cb) == len(fields) + n_opts + 4 + len(SYSTEM_COLUMNS)  # 4 = gps parts
    # no layout rows
    assert not set(q.survey.loc[q.survey["base_type"].isin(["begin_group", "note"]), "name"]) & set(variables)


def test_number_of_data_columns(cb):
    assert 150 <= len(cb) <= 250


def test_codebook_content(cb):
    c = cb.set_index("variable")
    assert c.loc["legal_form", "values"].startswith("association=Association; ")
    assert c.loc["si_nov_04", "construct"] == "si_presence"
    assert bool(c.loc["si_nov_04", "reverse"]) and not bool(c.loc["si_nov_01", "reverse"])
    assert (c.loc["si_nov_01", "min"], c.loc["si_nov_01", "max"]) == (1.0, 5.0)
    assert c.loc["si_nov_01", "missing_codes"] == "98;99"
    assert c.loc["imp_dom_01", "missing_codes"] == "97;98;99"
    assert c.loc["n_members", "missing_codes"] == "-98;-99"
    assert c.loc["year_created", "min"] == 1900
    assert c.loc["fund_dues", "max"] == 100
    assert "consent" in c.loc["legal_form", "relevant"]
    assert "market_activity" in c.loc["surplus_use/new_projects", "relevant"]
    for v in ("resp_name", "resp_phone", "resp_email", "gps", "_gps_latitude", "sector_other",
              "target_groups_other"):
        assert bool(c.loc[v, "personal"]), v
    assert not c.loc[["legal_form", "fund_other", "si_nov_01", "target_groups/autre"], "personal"].any()
    assert set(c.loc[[n for n in c.index if n.startswith("si_")], "section"]) == {"B"}
    assert c.loc["prob_finance", "section"] == "E"
    assert bool(c.loc["legal_form", "required"]) and not bool(c.loc["resp_name", "required"])


# --------------------------------------------------------------------- build
def test_build_instrument_writes_files(tmp_path):
    from pyxform.xls2xform import convert

    out = tmp_path / "build"
    written = build_instrument(out, odk_validate=False)
    assert set(written) >= {"xlsform", "codebook_csv", "codebook_xlsx", "codebook_md"}
    for p in written.values():
        assert p.exists() and p.stat().st_size > 0
    assert written["xlsform"].name == "si_survey.xlsx"
    assert not list(out.glob(".*tmp"))  # atomic writes leave no temporary file
    # the uploaded workbook converts on its own
    assert "<h:html" in convert(str(written["xlsform"])).xform
    cb = pd.read_csv(written["codebook_csv"], keep_default_na=False)
    assert "target_groups/women" in set(cb["variable"])
    sheet = pd.read_excel(written["codebook_xlsx"])
    assert len(sheet) == len(cb)
    md = written["codebook_md"].read_text(encoding="utf-8")
    assert "| legal_form |" in md and "| label_fr | label_en |" in md and "| Legal form of the organisation |" in md
    assert cb.set_index("variable").loc["legal_form", "label_en"] == "Legal form of the organisation"


def test_build_writes_nothing_when_form_invalid(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    _edit_csv(folder / "survey.csv", "integer,year_created", "integr,year_created")
    out = tmp_path / "build"
    with pytest.raises(ConfigError):
        build_instrument(out, questionnaire=load_questionnaire(folder))
    assert not out.exists() or not any(out.iterdir())


def test_conversion_has_no_pyxform_warning(q):
    warnings: list[str] = []
    build_xform(q, warnings=warnings)
    assert warnings == []


def test_forward_reference_and_missing_constraint_message(tmp_path):
    folder = _copy_questionnaire(tmp_path)
    _edit_csv(folder / "survey.csv", "${market_activity} = '1'", "${support_used} = '1'")
    with pytest.raises(ConfigError, match="asked later"):
        validate_questionnaire(load_questionnaire(folder))
    folder2 = _copy_questionnaire(tmp_path / "b")
    _edit_csv(folder2 / "survey.csv", "L'année doit être comprise entre 1900 et l'année en cours.", "")
    with pytest.raises(ConfigError, match="constraint_message"):
        validate_questionnaire(load_questionnaire(folder2))


def test_questionnaire_helpers(q):
    assert q.default_language == LANG_FR
    assert q.question("legal_form")["base_type"] == "select_one"
    with pytest.raises(KeyError, match="no_such_question"):
        q.question("no_such_question")
    with pytest.raises(KeyError, match="no choice list"):
        q.choices_for("n_members")
    assert "target_groups" in q.select_multiple and "legal_form" in q.select_one
    assert "n_members" in q.numeric and "fund_market" in q.numeric
    assert {"resp_name", "resp_phone", "resp_email", "gps"} <= set(q.personal)
    assert q.data_columns[:3] == ["start", "end", "deviceid"]
    # blank lines in the CSV do not shift the reported line numbers
    row = q.question("year_created")
    text = (config.QUESTIONNAIRE_DIR / "survey.csv").read_text(encoding="utf-8").splitlines()
    assert text[int(row["line"]) - 1].split(",")[1] == "year_created"


def test_cli_instrument(tmp_path):
    from analysis.cli import main

    assert main(["instrument", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "si_survey.xlsx").exists() and (tmp_path / "codebook.md").exists()


@pytest.mark.skipif(not java_available(), reason="ODK Validate needs java")
def test_odk_validate_accepts_form_and_names_bad_xpath(q, tmp_path):
    build_xform(q, odk_validate=True)
    folder = _copy_questionnaire(tmp_path)
    _edit_csv(folder / "survey.csv", "${market_activity} = '1'", "${market_activity} = = '1'")
    bad = load_questionnaire(folder)
    build_xform(bad)  # pyxform alone lets it through
    with pytest.raises(ConfigError, match=r"ODK Validate.*line \d+ \('surplus_use'\)"):
        build_xform(bad, odk_validate=True)
