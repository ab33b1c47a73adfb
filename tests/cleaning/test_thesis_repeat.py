"""The thesis's own form with a repeat group added after the pilot (issue 14, acceptance): XLSX export read right."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.cleaning._clean import clean_data

ROOT = Path(__file__).parents[2]
BASE = ROOT / "tests" / "malformed" / "files" / "bom_crlf.csv"
REPEAT = [
    "begin_repeat,projects,Projets de l'organisation,مشاريع المنظمة" + "," * 13,
    "text,project_title,Intitulé du projet,عنوان المشروع" + "," * 13,
    "decimal,project_share,Part du budget (%),حصة الميزانية (٪)" + "," * 13,
    "end_repeat,projects" + "," * 15,
]


@pytest.fixture(scope="module")
def with_repeat(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("thesis_repeat")
    qdir = tmp / "questionnaire"
    shutil.copytree(ROOT / "questionnaire", qdir)
    lines = (qdir / "survey.csv").read_text(encoding="utf-8").rstrip("\n").split("\n")
    ncols = lines[0].count(",")
    rows = [r + "," * (ncols - r.count(",")) for r in REPEAT]
    (qdir / "survey.csv").write_text("\n".join(lines[:-1] + rows + lines[-1:]) + "\n", encoding="utf-8")
    main = pd.read_csv(BASE, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    uuids = main["_uuid"].tolist()
    projects = pd.DataFrame({
        "sec_e/projects/project_title": ["Puits", "École", "Coopérative laitière"],
        "sec_e/projects/project_share": ["33.333", "66.667", "100"],
        "_index": [1, 2, 3], "_parent_table_name": "si_survey", "_parent_index": [1, 1, 4],
        "_submission__uuid": [uuids[0], uuids[0], uuids[3]]})
    xlsx = tmp / "export.xlsx"
    with pd.ExcelWriter(xlsx) as w:
        main.to_excel(w, sheet_name="si_survey", index=False)
        projects.to_excel(w, sheet_name="projects", index=False)
    return clean_data([xlsx], questionnaire_dir=qdir), main


def test_repeat_table_and_count(with_repeat):
    r, main = with_repeat
    p = r.repeats["projects"]
    assert p["project_share"].tolist() == [33.333, 66.667, 100.0]
    assert p["project_title"].tolist() == ["Puits", "École", "Coopérative laitière"]
    assert list(p["resp_id"]) == [r.data["resp_id"][0]] * 2 + [r.data["resp_id"][3]]
    assert r.data["projects_count"].tolist()[:4] == [2.0, 0.0, 0.0, 1.0]
    assert "project_title" not in r.data.columns
    assert not (r.validation["column"].isin(["project_title", "project_share"])).any()


def test_main_table_unchanged_by_the_repeat(with_repeat):
    r, _ = with_repeat
    base = clean_data([BASE])
    cols = [c for c in base.data.columns if c not in ("_source_file", "_source_row")]
    pd.testing.assert_frame_equal(r.data[cols], base.data[cols])
