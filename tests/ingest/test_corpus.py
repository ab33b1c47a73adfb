"""The issue-14 corpus: real XLSForms and exports, every export setting of the same submissions.

``tests/corpus/catalogue.yaml`` lists each export (fixture, form, files, the setting that made it,
the group of exports holding the same submissions, the expected rows, question columns and repeat
tables). Each fixture folder has its ``SOURCE`` note and a hand-written ``personal.yaml``.

Two kinds of tests:

- the corpus itself (files present, SOURCE notes, personal lists, catalogue consistent with the
  files): these must pass;
- si-survey on the corpus: ``si-survey clean EXPORT... --form FORM --out DIR`` is run on every
  export and its outputs are checked: (a) the exports of one group give identical analysis files,
  (b) no personal column or value reaches any output, (c) repeat tables exist with their rows,
  (d) decimals such as 33.333 are kept. These are plain tests; the exports on which si-survey is
  still wrong are marked ``xfail(strict=True)`` case by case with the defect in one sentence
  (:data:`DEFECTS`), so a fix shows up as an XPASS that fails until its mark is removed. The reader
  (``analysis.ingest.read_export``) is checked for the row count of every export the same way.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load((CORPUS / "catalogue.yaml").read_text(encoding="utf-8"))
FIXTURES: dict = CATALOGUE["fixtures"]
EXPORTS: list = CATALOGUE["exports"]
BY_ID = {e["id"]: e for e in EXPORTS}

#: Exports whose main table today's reader counts wrongly, and why.
READER_TODAY_FAILS: dict[str, str] = {}

# --------------------------------------------------------------------------- si-survey defects on the corpus



#: The si-survey defects the corpus shows: test -> {export id (the other export of a pair) -> the defect}.
#: Each case is ``xfail(strict=True)``: when the defect is fixed, the XPASS fails until its line goes.
DEFECTS: dict[str, dict[str, str]] = {
    "columns": {},
    "group": {},
    "group_repeats": {},
    "repeats": {},
    "personal": {},
    "decimal": {},
}


def _cases(test: str, values: list, ids: list[str]) -> list:
    """``values`` as pytest params, the known defects of ``test`` marked ``xfail(strict=True)``."""
    known = DEFECTS[test]
    unknown = set(known) - set(ids)
    assert not unknown, f"DEFECTS[{test!r}] names no case of the test: {sorted(unknown)}"
    return [pytest.param(*(v if isinstance(v, tuple) else (v,)), id=i,
                         marks=[pytest.mark.xfail(strict=True, reason=known[i])] if i in known else [])
            for v, i in zip(values, ids)]


def _ids(items):
    return [e["id"] for e in items]


def _personal(fixture: str) -> dict:
    return yaml.safe_load((CORPUS / fixture / "personal.yaml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- reading the corpus


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV export (delimiter `;` or `,`, BOM tolerated)."""
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    rows = [r for r in rows if r]
    return rows[0], rows[1:]


def _xlsx_sheets(path: Path) -> dict[str, list[list]]:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def _is_hxl_row(row) -> bool:
    cells = [str(c) for c in row if c not in (None, "")]
    return bool(cells) and all(c.startswith("#") for c in cells)


def _main_rows_in_file(entry) -> int:
    path = CORPUS / entry["files"][0]
    if path.suffix == ".xlsx":
        rows = next(iter(_xlsx_sheets(path).values()))[1:]
    else:
        rows = _csv_rows(path)[1]
    return sum(1 for r in rows if not _is_hxl_row(r))


def _repeat_rows_in_files(entry) -> dict[str, int]:
    """Rows per repeat as the export holds them, found without si-survey."""
    fixture = FIXTURES[entry["fixture"]]
    names = list(fixture["repeats"])
    paths = [CORPUS / f for f in entry["files"]]
    out: dict[str, int] = {}
    if paths[0].suffix == ".xlsx":
        for title, sheet in list(_xlsx_sheets(paths[0]).items())[1:]:
            header = [str(h) for h in sheet[0]]
            # Kobo cuts sheet titles to 31 characters: the title, else the columns, name the repeat
            for name in names:
                qs = fixture["repeats"][name]["question_columns"] or [name]
                if title == name[:31] or any(re.split(r"[/.\-]", h)[-1] == qs[0] for h in header):
                    out[name] = sum(1 for r in sheet[1:] if not _is_hxl_row(r))
        return out
    if len(paths) > 1:  # ODK Central: one child CSV per repeat, named <form>-<repeat>.csv
        for p in paths[1:]:
            out[p.stem.rsplit("-", 1)[-1]] = len(_csv_rows(p)[1])
        return out
    header, rows = _csv_rows(paths[0])
    for name in names:  # legacy KoBoCAT: flattened name[i]/... columns
        pat = re.compile(rf"(?:^|/){re.escape(name)}\[(\d+)\]/")
        count = 0
        for r in rows:
            seen = set()
            for h, v in zip(header, r):
                if v in ("", "n/a"):
                    continue
                prefixes = [h[: m.end()] for m in pat.finditer(h)]
                seen.update(prefixes)
            count += len(seen)
        out[name] = count
    return out


def _export_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        return "\n".join(
            "\t".join("" if c is None else str(c) for c in row)
            for rows in _xlsx_sheets(path).values() for row in rows
        )
    return path.read_text(encoding="utf-8-sig")


def _xls_survey(path: Path) -> list[dict]:
    """Rows of the survey sheet of an old .xls workbook."""
    xlrd = pytest.importorskip("xlrd")
    sheet = xlrd.open_workbook(path).sheet_by_name("survey")
    header = [str(h) for h in sheet.row_values(0)]
    return [dict(zip(header, map(str, sheet.row_values(i)))) for i in range(1, sheet.nrows)]


def _form_names(form: str) -> set[str]:
    """Every name on the form's survey sheet."""
    path = CORPUS / form
    if form.endswith("/"):
        rows = list(csv.DictReader((path / "survey.csv").open(encoding="utf-8")))
    elif path.suffix == ".xls":
        rows = _xls_survey(path)
    else:
        rows = pd.read_excel(path, sheet_name="survey", dtype=str).fillna("").to_dict("records")
    return {str(r.get("name", "")).strip() for r in rows} - {""}


# --------------------------------------------------------------------------- the corpus itself


#: Fixture folders with a test module of their own instead of a catalogue entry.
OWN_TESTS = {"formpack_water_point": "tests/corpus/test_corpus.py"}


def test_every_fixture_folder_is_catalogued():
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders - set(OWN_TESTS) == set(FIXTURES)
    assert {e["fixture"] for e in EXPORTS} == set(FIXTURES)


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_fixture_has_source_form_and_personal_list(fixture):
    folder = CORPUS / fixture
    source = (folder / "SOURCE").read_text(encoding="utf-8")
    assert "Source:" in source and ("licence" in source.lower() or "Licence" in source)
    assert (CORPUS / FIXTURES[fixture]["form"]).exists()
    personal = _personal(fixture)
    assert personal["fixture"] == fixture
    assert isinstance(personal["personal"], list) and isinstance(personal["staff"], list)
    for p in personal["personal"]:
        assert {"column", "path", "table", "kind", "values"} <= set(p), p
        assert p["table"] == "main" or p["table"] in FIXTURES[fixture]["repeats"], p


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_personal_columns_are_questions_of_the_form(fixture):
    names = _form_names(FIXTURES[fixture]["form"])
    for p in _personal(fixture)["personal"]:
        assert p["column"] in names, f"{p['column']} is not a question of {FIXTURES[fixture]['form']}"


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_personal_values_occur_in_the_exports(fixture):
    text = "\n".join(_export_text(CORPUS / f) for e in EXPORTS if e["fixture"] == fixture for f in e["files"])
    p = _personal(fixture)
    for item in p["personal"] + p["staff"]:
        for value in item["values"]:
            assert str(value) in text, f"{value!r} ({item['column']}) is in no export of {fixture}"


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_forms_are_accepted_by_pyxform(fixture, tmp_path):
    convert = pytest.importorskip("pyxform.xls2xform").convert
    form = CORPUS / FIXTURES[fixture]["form"]
    if form.suffix == ".xls":
        pytest.importorskip("xlrd")
    if form.is_dir():
        openpyxl = pytest.importorskip("openpyxl")
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for sheet in ("survey", "choices", "settings"):
            ws = wb.create_sheet(sheet)
            for row in csv.reader((form / f"{sheet}.csv").open(encoding="utf-8")):
                ws.append(row)
        form = tmp_path / "form.xlsx"
        wb.save(form)
    assert convert(xlsform=str(form)).xform.startswith("<?xml")


@pytest.mark.parametrize("entry", EXPORTS, ids=_ids(EXPORTS))
def test_catalogue_entry_matches_its_files(entry):
    assert entry["fixture"] in FIXTURES and entry["form"] == FIXTURES[entry["fixture"]]["form"]
    for f in entry["files"]:
        assert (CORPUS / f).is_file(), f
    assert entry["rows"] == FIXTURES[entry["fixture"]]["rows"]
    assert _main_rows_in_file(entry) == entry["rows"]
    assert set(entry["repeats"]) <= set(FIXTURES[entry["fixture"]]["repeats"])
    if entry["repeats"]:
        assert _repeat_rows_in_files(entry) == entry["repeats"]
        for name, rows in entry["repeats"].items():
            assert rows == FIXTURES[entry["fixture"]]["repeats"][name]["rows"]


def test_own_form_covers_every_export_setting_of_issue_14():
    settings = [e["setting"] for e in EXPORTS if e["group"] == "own_form"]
    kobo = [s for s in settings if s["tool"].startswith("KoboToolbox")]
    seen = {
        "csv ;": any(s.get("delimiter") == ";" for s in kobo),
        "csv ,": any(s.get("delimiter") == "," for s in kobo),
        "xlsx": any(s["format"] == "xlsx" for s in kobo),
        "xml values": any(s["values"] == "xml" for s in kobo),
        "labels fr": any(s["language"] == "fr" for s in kobo),
        "labels ar": any(s["language"] == "ar" for s in kobo),
        "labels in xlsx": any(s["language"] and s["format"] == "xlsx" for s in kobo),
        "no group names": any(not s["group_names_in_headers"] for s in kobo),
        "separator /": any(s["group_names_in_headers"] and s["group_separator"] == "/" for s in kobo),
        "separator .": any(s["group_names_in_headers"] and s["group_separator"] == "." for s in kobo),
        "separator -": any(s["group_names_in_headers"] and s["group_separator"] == "-" for s in kobo),
        "select_multiple one column": any(s["select_multiple"] == "single column" for s in kobo),
        "select_multiple 0/1 columns": any(s["select_multiple"] == "separate 0/1 columns" for s in kobo),
        "select_multiple both": any(s["select_multiple"] == "single and separate columns" for s in kobo),
        "HXL row": any(s["hxl_row"] for s in kobo),
        "typed XLSX": any(s["format"] == "xlsx" and not s["types_as_text"] for s in kobo),
        "legacy KoBoCAT": any("KoBoCAT" in s["tool"] for s in settings),
        "R write.csv": any(s["tool"].startswith("R write.csv") for s in settings),
        "ODK Central": any(s["tool"].startswith("ODK Central") for s in settings),
    }
    assert all(seen.values()), [k for k, v in seen.items() if not v]
    repeats = FIXTURES["own_form"]["repeats"]
    assert [r["parent"] for r in repeats.values()] == ["main", "project", "partner"]  # 3 levels


def test_corpus_covers_the_form_features_of_issue_14():
    text = {f: "\n".join(_export_text(CORPUS / x) for e in EXPORTS if e["fixture"] == f for x in e["files"])
            for f in FIXTURES}
    assert any("_other" in " ".join(FIXTURES[f]["question_columns"]) for f in FIXTURES)  # or_other
    assert sum(1 for f in FIXTURES if FIXTURES[f]["repeats"]) >= 3
    assert any(k["kind"] == "geo" for f in FIXTURES for k in _personal(f)["personal"])
    assert "geotrace" in (CORPUS / "central_all_types/form/survey.csv").read_text()
    assert any(f.startswith("pyxform_") for f in FIXTURES)  # old syntax (list name, select one from, begin group)
    assert "select one from" in _old_syntax_types()
    assert "meta-instanceID" in text["central_all_types"] and "PARENT_KEY" in text["central_nested_repeats"]


def _old_syntax_types() -> str:
    return "\n".join(" ".join(r.get("type", "") for r in _xls_survey(CORPUS / f / "form.xls"))
                     for f in FIXTURES if f.startswith("pyxform_"))


def test_corpus_is_small():
    size = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert size < 3_000_000


# --------------------------------------------------------------------------- today's reader


@functools.lru_cache(maxsize=1)
def _study_header_map():
    from analysis.ingest import header_map
    from analysis.study._instrument import codebook, load_questionnaire

    q = load_questionnaire()
    return header_map(codebook(q), q)


@pytest.mark.parametrize(
    "entry",
    [pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=READER_TODAY_FAILS[e["id"]]))
     if e["id"] in READER_TODAY_FAILS else e for e in EXPORTS],
    ids=_ids(EXPORTS),
)
def test_reader_counts_every_submission(entry):
    """``read_export`` (any form's columns accepted) reads one row per submission of the main file."""
    from analysis.ingest import read_export

    table = read_export(CORPUS / entry["files"][0], hmap=_study_header_map(), min_known_share=0.0)
    assert len(table.data) == entry["rows"]


# --------------------------------------------------------------------------- the thesis's own form, today

#: The thesis form's exports read by the study's own ``clean`` (questionnaire/): the issue-14 acceptance cases.
THESIS_IDS = [
    "thesis_form/kobo_csv-semicolon_xml_groups-slash_multi-both",
    "thesis_form/kobo_csv-semicolon_labels-ar_groups-slash_multi-both",
    "thesis_form/kobo_xlsx_labels-fr_groups-slash_multi-both_typed",
    "thesis_form/kobo_csv-comma_xml_groups-dot_multi-details",
    "thesis_form_repeat/kobo_xlsx_xml_groups-slash_multi-both",
    "thesis_form_repeat/kobo_xlsx_labels-ar_groups-slash_multi-both",
]
#: Those the study's ``clean`` still reads wrong, and why.
THESIS_TODAY_FAILS: dict[str, str] = {}

#: English texts of the questions the fixture's form adds to the study's (the study's questionnaire,
#: once it has English, needs English on every new row): what the researcher writes with the edit.
_ADDED_ENGLISH = {"partners": "Main partners", "partner_org": "Name of the partner organisation",
                  "partner_type": "Legal form of the partner", "partner_since": "Partner since (year)"}


def _study_questionnaire(entry, tmp_path: Path) -> Path | None:
    """The study's questionnaire/ as the researcher edits it after the pilot: a copy where the rows the
    export's form adds (e.g. a repeat group ``partners``) are inserted where the form has them.
    ``None`` when the form adds nothing (the study's own questionnaire is used)."""
    import shutil

    from analysis import config

    form = pd.read_excel(CORPUS / entry["form"], sheet_name="survey", dtype=str, engine="calamine").fillna("")
    study_csv = config.QUESTIONNAIRE_DIR / "survey.csv"
    study = pd.read_csv(study_csv, dtype=str, keep_default_na=False)
    known = set(study["name"])
    added = [k for k, name in enumerate(form["name"]) if name and name not in known]
    if not added:
        return None
    anchor = form.loc[added[0] - 1, "name"]
    rows = form.loc[added].reindex(columns=study.columns, fill_value="")
    english = [c for c in study.columns if c.startswith("label::English")]
    for c in english:
        rows[c] = rows["name"].map(_ADDED_ENGLISH).fillna("").where(rows["type"] != "end_repeat", "")
    at = int(study.index[study["name"] == anchor][0]) + 1
    edited = pd.concat([study.iloc[:at], rows, study.iloc[at:]], ignore_index=True)
    folder = tmp_path / "questionnaire"
    shutil.copytree(config.QUESTIONNAIRE_DIR, folder, ignore=shutil.ignore_patterns("build"))
    edited.to_csv(folder / "survey.csv", index=False)
    return folder
THESIS = [BY_ID[i] for i in THESIS_IDS]


@pytest.mark.parametrize(
    "entry",
    [pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=THESIS_TODAY_FAILS[e["id"]]))
     if e["id"] in THESIS_TODAY_FAILS else e for e in THESIS],
    ids=_ids(THESIS),
)
def test_thesis_form_read_right_by_the_study_clean(entry, tmp_path):
    """The study's own ``clean`` (questionnaire/) on Kobo exports of the thesis form (issue 14 acceptance)."""
    from analysis.cleaning import clean

    out = tmp_path / "processed"
    clean([CORPUS / f for f in entry["files"]], out_dir=out, private_dir=tmp_path / "private",
          questionnaire_dir=_study_questionnaire(entry, tmp_path))
    survey = _survey(out)
    assert len(survey) == entry["rows"]
    for d in FIXTURES[entry["fixture"]]["decimals"]:
        values = pd.to_numeric(survey[d["column"]], errors="coerce")
        assert ((values - float(d["value"])).abs() < 1e-9).any(), f"{d['column']} lost {d['value']}"
    assert survey["region"].notna().all()
    for name, rows in entry["repeats"].items():
        assert len(pd.read_parquet(out / "repeats" / f"{name}.parquet")) == rows
    personal = _personal(entry["fixture"])
    assert not {p["column"] for p in personal["personal"]} & set(survey.columns)


# --------------------------------------------------------------------------- si-survey clean --form


def _cli() -> list[str]:
    """The si-survey command; ``SI_SURVEY_CORPUS_CLI`` (a command line) replaces it, e.g. for an installed build."""
    override = os.environ.get("SI_SURVEY_CORPUS_CLI")
    return override.split() if override else [sys.executable, "-m", "analysis"]


@functools.lru_cache(maxsize=1)
def _clean_help() -> str:
    proc = subprocess.run([*_cli(), "clean", "--help"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=_env(), timeout=120)
    return proc.stdout + proc.stderr


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    """``run(export_id)`` -> output folder of ``si-survey clean FILES --form FORM --out DIR`` (one run per export)."""
    assert "--form" in _clean_help() and "--private" in _clean_help(), "si-survey clean lacks --form or --private"
    root = tmp_path_factory.mktemp("corpus_clean")
    done: dict[str, tuple[Path, subprocess.CompletedProcess]] = {}

    def run(export_id: str) -> Path:
        if export_id not in done:
            e = BY_ID[export_id]
            out = root / export_id.replace("/", "__")
            cmd = [*_cli(), "clean", *[str(CORPUS / f) for f in e["files"]],
                   "--form", str(CORPUS / e["form"]), "--out", str(out / "processed"),
                   "--private", str(out / "private")]
            done[export_id] = (out / "processed", subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_ROOT,
                                                                 env=_env(), timeout=300))
        out, proc = done[export_id]
        assert proc.returncode == 0, f"si-survey clean failed on {export_id}:\n{proc.stdout}\n{proc.stderr}"
        return out

    return run


def _survey(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "survey.parquet")


def _plain(column: str) -> str:
    """A column's XLSForm name: group path, geopoint parts and a leading underscore taken off."""
    c = re.sub(r"[-_](latitude|longitude|altitude|accuracy|precision)$", "", str(column), flags=re.I)
    return re.split(r"[/.\-]", c.lstrip("_"))[-1].lstrip("_")


@pytest.mark.parametrize("entry", _cases("columns", EXPORTS, _ids(EXPORTS)))
def test_clean_gives_the_question_columns(entry, cleaned):
    survey = _survey(cleaned(entry["id"]))
    assert len(survey) == entry["rows"]
    assert "resp_id" in survey.columns and survey["resp_id"].notna().all()
    missing = [c for c in FIXTURES[entry["fixture"]]["question_columns"] if c not in survey.columns]
    assert not missing, f"question columns missing from survey.parquet: {missing}"


def _reference(group: str, with_repeats: bool = False) -> dict:
    """The export a group is compared with: Kobo's XML values export (XLSX when repeats matter)."""
    members = [x for x in EXPORTS if x["group"] == group and (x["repeats"] or not with_repeats)]

    def distance(x):  # 0 for Kobo's XML values export with `/` groups, both select_multiple forms, no HXL
        s = x["setting"]
        return (not s["tool"].startswith("Kobo"), s.get("values") != "xml", s.get("group_separator") != "/",
                not s.get("group_names_in_headers"), s.get("select_multiple") != "single and separate columns",
                bool(s.get("hxl_row")), not s.get("types_as_text", True))

    return min(members, key=distance)


def _group_pairs():
    pairs = []
    for e in EXPORTS:
        reference = _reference(e["group"])
        if reference["id"] != e["id"]:
            pairs.append((reference["id"], e["id"]))
    return pairs


@functools.cache
def _has_submission_ids(export_id: str) -> bool:
    """Whether the main file names its submissions (``_uuid``, ``meta/instanceID``, ``KEY`` not all empty)."""
    path = CORPUS / BY_ID[export_id]["files"][0]
    if path.suffix == ".xlsx":
        sheet = next(iter(_xlsx_sheets(path).values()))
        header, rows = [str(h) for h in sheet[0]], sheet[1:]
    else:
        header, rows = _csv_rows(path)
    cols = [i for i, h in enumerate(header) if _plain(h) in ("uuid", "instanceID", "KEY")]
    return any(str(r[i] or "").strip() for r in rows if not _is_hxl_row(r) for i in cols if i < len(r))


def _comparable(df: pd.DataFrame, columns: list[str], by_id: bool = True) -> pd.DataFrame:
    """The columns compared, rows sorted by ``resp_id`` (and repeat indexes), or in file order without ids."""
    if not by_id:
        return df[columns].reset_index(drop=True)
    key = [c for c in ("resp_id", "_index", "_parent_index") if c in df.columns]
    return df[key + columns].sort_values(key).reset_index(drop=True)


@pytest.mark.parametrize("reference,other", _cases("group", _group_pairs(), [o for _, o in _group_pairs()]))
def test_same_submissions_give_the_same_analysis_file(reference, other, cleaned):
    """Exports without submission ids (formpack's test data: empty ``_uuid``) get pseudonyms from the file and
    the row, which differ from file to file: their rows are compared in file order, without ``resp_id``."""
    columns = FIXTURES[BY_ID[other]["fixture"]]["question_columns"]
    a, b = _survey(cleaned(reference)), _survey(cleaned(other))
    assert len(a) == len(b)
    by_id = _has_submission_ids(reference) and _has_submission_ids(other)
    pd.testing.assert_frame_equal(_comparable(a, columns, by_id), _comparable(b, columns, by_id))


def _repeat_pairs():
    pairs = []
    for e in EXPORTS:
        if not e["repeats"]:
            continue
        reference = _reference(e["group"], with_repeats=True)
        if reference["id"] != e["id"]:
            pairs.append((reference["id"], e["id"]))
    return pairs


@pytest.mark.parametrize("reference,other", _cases("group_repeats", _repeat_pairs(), [o for _, o in _repeat_pairs()]))
def test_same_submissions_give_the_same_repeat_tables(reference, other, cleaned):
    repeats = FIXTURES[BY_ID[other]["fixture"]]["repeats"]
    for name in BY_ID[other]["repeats"]:
        a = pd.read_parquet(cleaned(reference) / "repeats" / f"{name}.parquet")
        b = pd.read_parquet(cleaned(other) / "repeats" / f"{name}.parquet")
        pd.testing.assert_frame_equal(_comparable(a, repeats[name]["question_columns"]),
                                      _comparable(b, repeats[name]["question_columns"]))


WITH_REPEATS = [e for e in EXPORTS if e["repeats"]]


@pytest.mark.parametrize("entry", _cases("repeats", WITH_REPEATS, _ids(WITH_REPEATS)))
def test_repeat_tables_and_their_counts(entry, cleaned):
    out = cleaned(entry["id"])
    survey = _survey(out)
    spec = FIXTURES[entry["fixture"]]["repeats"]
    for name, rows in entry["repeats"].items():
        table = pd.read_parquet(out / "repeats" / f"{name}.parquet")
        assert len(table) == rows, name
        assert {"resp_id", "_index", "_parent_index"} <= set(table.columns), name
        assert set(table["resp_id"]) <= set(survey["resp_id"]), name
        missing = [c for c in spec[name]["question_columns"] if c not in table.columns]
        assert not missing, f"{name}: {missing}"
        if spec[name]["parent"] == "main":
            assert survey[f"{name}_count"].sum() == rows, name
        else:
            parent = pd.read_parquet(out / "repeats" / f"{spec[name]['parent']}.parquet")
            assert set(table["_parent_index"]) <= set(parent["_index"]), name


def _output_files(out: Path):
    for p in sorted(out.rglob("*")):
        if p.is_file() and "private" not in p.relative_to(out).parts:
            yield p


def _tables(out: Path):
    """(table name, DataFrame) of every parquet file written: main and repeats."""
    for p in _output_files(out):
        if p.suffix == ".parquet":
            name = "main" if p.parent == out else p.stem
            yield p, name, pd.read_parquet(p)


@pytest.mark.parametrize("entry", _cases("personal", EXPORTS, _ids(EXPORTS)))
def test_no_personal_data_in_any_output(entry, cleaned):
    out = cleaned(entry["id"])
    personal = _personal(entry["fixture"])
    found = []
    for path, table, df in _tables(out):
        plain = {_plain(c): c for c in df.columns}
        for p in personal["personal"]:
            if p["table"] == table and p["column"] in plain:
                found.append(f"{path.name}: column {plain[p['column']]!r} ({p['kind']})")
        if table == "main" or path.parent.name == "repeats":
            for s in personal["staff"]:
                for name in [s["column"], *s.get("also", [])]:
                    if name in df.columns or _plain(name) in plain:
                        found.append(f"{path.name}: staff column {name!r}")
                text = df.astype(str).to_csv(index=False)
                found += [f"{path.name}: staff value {v!r}" for v in s["values"] if str(v) in text]
    values = [str(v) for p in personal["personal"] for v in p["values"]]
    for path in _output_files(out):
        if path.suffix == ".parquet":
            text = pd.read_parquet(path).astype(str).to_csv(index=False)
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        found += [f"{path.relative_to(out)}: value {v!r}" for v in values if v in text]
    assert not found, "personal data in the outputs:\n" + "\n".join(found)


WITH_DECIMALS = [e for e in EXPORTS if FIXTURES[e["fixture"]]["decimals"]]


@pytest.mark.parametrize("entry", _cases("decimal", WITH_DECIMALS, _ids(WITH_DECIMALS)))
def test_decimals_are_kept(entry, cleaned):
    survey = _survey(cleaned(entry["id"]))
    for d in FIXTURES[entry["fixture"]]["decimals"]:
        values = pd.to_numeric(survey[d["column"]], errors="coerce")
        assert ((values - float(d["value"])).abs() < 1e-9).any(), f"{d['column']} lost {d['value']}"


def test_catalogue_groups_and_personal_lists_are_json_clean():
    # the catalogue is plain data (no YAML tags), usable from R or a notebook as JSON
    json.dumps(CATALOGUE)
