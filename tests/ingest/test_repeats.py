"""Repeat groups of ODK Central child CSVs and legacy KoBoCAT CSVs (issue 14, point 3), and KoBoCAT's ``n/a``.

The Central export is written by hand in the layout of ``tests/corpus/central_nested_repeats`` (central-backend's
briefcase test): one CSV per repeat, ``PARENT_KEY``/``KEY`` paths, a question name (``name``) used in the main
table and in every repeat, and here one more level (``part`` inside ``toy``).
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.cleaning._clean import clean_form_data
from analysis.ingest._readers import header_map, read_export
from analysis.ingest._repeats import read_repeat_tables
from analysis.xlsform._workbook import form_codebook, load_xlsform

SURVEY = """type,name,label
text,name,What is your name?
integer,age,What is your age?
begin_group,children,
begin_repeat,child,Child
text,name,What is the child's name?
integer,age,What is the child's age?
begin_repeat,toy,Toy
text,name,What is the toy's name?
begin_repeat,part,Part
text,name,What is the part's name?
select_one cond,condition,Condition
end_repeat,,
end_repeat,,
end_repeat,,
end_group,,
"""
CHOICES = "list_name,name,label\ncond,good,Good\ncond,n/a,Not applicable\n"

MAIN = """SubmissionDate,meta-instanceID,name,age,KEY,SubmitterID,SubmitterName,Status,FormVersion
2018-01-01T00:00:00.000Z,uuid:one,Alice,30,uuid:one,,,,1
2018-01-01T00:00:00.000Z,uuid:two,Bob,34,uuid:two,,,,1
2018-01-01T00:00:00.000Z,uuid:three,Chelsea,38,uuid:three,,,,1
"""
CHILD = """name,age,PARENT_KEY,KEY
Billy,4,uuid:two,uuid:two/children/child[1]
Blaine,6,uuid:two,uuid:two/children/child[2]
Baker,7,uuid:two,uuid:two/children/child[3]
Candace,2,uuid:three,uuid:three/children/child[1]
"""
TOY = """name,PARENT_KEY,KEY
R2-D2,uuid:two/children/child[1],uuid:two/children/child[1]/toy[1]
BB-8,uuid:two/children/child[2],uuid:two/children/child[2]/toy[1]
Porg plushie,uuid:two/children/child[2],uuid:two/children/child[2]/toy[2]
Millennium Falcon,uuid:three/children/child[1],uuid:three/children/child[1]/toy[1]
X-Wing,uuid:three/children/child[1],uuid:three/children/child[1]/toy[2]
Pod racer,uuid:three/children/child[1],uuid:three/children/child[1]/toy[3]
"""
PART = """name,condition,PARENT_KEY,KEY
wheel,good,uuid:two/children/child[2]/toy[2],uuid:two/children/child[2]/toy[2]/part[1]
wing,n/a,uuid:three/children/child[1]/toy[2],uuid:three/children/child[1]/toy[2]/part[1]
engine,good,uuid:three/children/child[1]/toy[2],uuid:three/children/child[1]/toy[2]/part[2]
"""


@pytest.fixture
def form_dir(tmp_path):
    d = tmp_path / "form"
    d.mkdir()
    (d / "survey.csv").write_text(SURVEY, encoding="utf-8")
    (d / "choices.csv").write_text(CHOICES, encoding="utf-8")
    (d / "settings.csv").write_text("form_id,form_title\nmultirepeat,multirepeat\n", encoding="utf-8")
    return d


@pytest.fixture
def central(tmp_path):
    out = []
    # the child CSVs in an order that is not the form's: each is matched by its KEY path and columns
    for name, text in (("multirepeat.csv", MAIN), ("multirepeat-part.csv", PART), ("multirepeat-toy.csv", TOY),
                       ("multirepeat-child.csv", CHILD)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        out.append(tmp_path / name)
    return out


def test_central_child_csvs_go_to_their_own_repeat(form_dir, central):
    tables, _ = read_repeat_tables(central, load_xlsform(form_dir))
    assert {k: len(v) for k, v in tables.items()} == {"child": 4, "toy": 6, "part": 3}
    assert tables["child"]["name"].tolist() == ["Billy", "Blaine", "Baker", "Candace"]
    assert tables["child"]["age"].tolist() == ["4", "6", "7", "2"]
    toy = tables["toy"]
    assert toy["name"].tolist() == ["R2-D2", "BB-8", "Porg plushie", "Millennium Falcon", "X-Wing", "Pod racer"]
    assert "age" not in toy.columns
    assert toy["_submission__uuid"].tolist() == ["two"] * 3 + ["three"] * 3
    # _parent_index: the child's _index (child[1] of two = 1, child[2] = 2, child[1] of three = 4)
    assert toy["_parent_index"].tolist() == ["1", "2", "2", "4", "4", "4"]
    part = tables["part"]
    assert part["name"].tolist() == ["wheel", "wing", "engine"]
    assert part["_parent_index"].tolist() == ["3", "5", "5"]  # Porg plushie is toy 3, X-Wing toy 5


def test_central_nested_repeats_cleaned(form_dir, central):
    r = clean_form_data(central, form_dir)
    assert r.data["child_count"].tolist() == [0.0, 3.0, 1.0]
    child, toy, part = r.repeats["child"], r.repeats["toy"], r.repeats["part"]
    rid = r.data["resp_id"].tolist()
    assert child["resp_id"].tolist() == [rid[1]] * 3 + [rid[2]]
    assert toy["resp_id"].tolist() == [rid[1]] * 3 + [rid[2]] * 3
    assert part["resp_id"].tolist() == [rid[1], rid[2], rid[2]]
    assert child["_index"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert child["_parent_index"].tolist() == [2.0, 2.0, 2.0, 3.0]  # the submission's row (from 1)
    assert child["age"].tolist() == [4.0, 6.0, 7.0, 2.0]
    assert toy["_parent_index"].tolist() == [1.0, 2.0, 2.0, 4.0, 4.0, 4.0]
    assert set(toy["_parent_index"]) <= set(child["_index"])
    assert part["_parent_index"].tolist() == [3.0, 5.0, 5.0]
    assert part["condition"].tolist() == ["good", "n/a", "good"]  # n/a is a code of its list, not a placeholder


def test_central_child_csv_without_key_paths_is_matched_by_columns(form_dir, tmp_path):
    """Without usable KEY paths, the repeat naming as many columns with the fewest questions left wins."""
    (tmp_path / "main.csv").write_text(MAIN, encoding="utf-8")
    (tmp_path / "t.csv").write_text("name,PARENT_KEY,KEY\nR2-D2,uuid:two/c,uuid:two/x\n", encoding="utf-8")
    tables, _ = read_repeat_tables([tmp_path / "main.csv", tmp_path / "t.csv"], load_xlsform(form_dir))
    assert list(tables) == ["toy"]


@pytest.mark.parametrize("paths", [True, False], ids=["group-paths", "bare-names"])
def test_kobo_sheets_of_repeats_sharing_a_question_name(form_dir, tmp_path, paths):
    """Kobo XLSX: the child sheet holds only ``name`` (as the toy sheet does); titles say nothing (cut, swapped).

    With group names in the headers the path names the repeat; without, ``_parent_table_name`` does.
    """
    pre = {"child": "children/child/", "toy": "children/child/toy/"} if paths else {"child": "", "toy": ""}
    main = pd.DataFrame({"name": ["Bob", "Chelsea"], "age": ["34", "38"], "_uuid": ["two", "three"],
                         "_index": [1, 2]})
    child = pd.DataFrame({pre["child"] + "name": ["Billy", "Candace"], "_index": [1, 2],
                          "_parent_table_name": "multirepeat", "_parent_index": [1, 2],
                          "_submission__uuid": ["two", "three"]})
    toy = pd.DataFrame({pre["toy"] + "name": ["R2-D2", "X-Wing", "Pod racer"], "_index": [1, 2, 3],
                        "_parent_table_name": "child", "_parent_index": [1, 2, 2],
                        "_submission__uuid": ["two", "three", "three"]})
    p = tmp_path / "kobo.xlsx"
    with pd.ExcelWriter(p) as w:
        main.to_excel(w, sheet_name="multirepeat", index=False)
        toy.to_excel(w, sheet_name="sheet one", index=False)
        child.to_excel(w, sheet_name="sheet two", index=False)
    tables, _ = read_repeat_tables([p], load_xlsform(form_dir))
    assert tables["child"]["name"].tolist() == ["Billy", "Candace"]
    assert tables["toy"]["name"].tolist() == ["R2-D2", "X-Wing", "Pod racer"]
    assert tables["toy"]["_parent_index"].astype(str).tolist() == ["1", "2", "2"]


# --------------------------------------------------------------------------- legacy KoBoCAT


LEGACY_HEADER = ["name", "age", "children/child[1]/name", "children/child[1]/age",
                 "children/child[1]/toy[1]/name", "children/child[1]/toy[1]/part[1]/name",
                 "children/child[1]/toy[1]/part[1]/condition",
                 "children/child[2]/name", "children/child[2]/age", "children/child[2]/toy[1]/name",
                 "children/child[2]/toy[1]/part[1]/name", "children/child[2]/toy[1]/part[1]/condition",
                 "_id", "_uuid", "_submission_time", "_total_media", "_media_count", "_media_all_received"]
LEGACY_ROWS = [
    # one: no child at all (every slot n/a)
    ["Alice", "30", *["n/a"] * 10, "1", "one", "2018-01-01T00:00:00", "0", "0", "True"],
    # two: child 1 with a toy with a part whose condition is the code n/a; child 2's own cells n/a
    # but a toy inside it: child 2 is an instance
    ["Bob", "34", "Billy", "4", "R2-D2", "wheel", "n/a", "n/a", "n/a", "BB-8", "n/a", "n/a",
     "2", "two", "2018-01-01T00:00:00", "0", "0", "True"],
    # three: one child, the second slot empty ("" as well as n/a)
    ["n/a", "38", "Candace", "2", "n/a", "n/a", "n/a", "", "n/a", "", "n/a", "",
     "3", "three", "2018-01-01T00:00:00", "0", "0", "True"],
]


def _legacy(tmp_path):
    p = tmp_path / "legacy.csv"
    pd.DataFrame(LEGACY_ROWS, columns=LEGACY_HEADER).to_csv(p, index=False)
    return p


def test_legacy_empty_slots_are_not_instances(form_dir, tmp_path):
    tables, _ = read_repeat_tables([_legacy(tmp_path)], load_xlsform(form_dir))
    child, toy, part = tables["child"], tables["toy"], tables["part"]
    assert child["_submission__uuid"].tolist() == ["two", "two", "three"]
    assert child["name"].fillna("").tolist() == ["Billy", "", "Candace"]  # child 2 of two: n/a is missing
    assert child["_parent_index"].tolist() == ["2", "2", "3"]
    assert toy["name"].tolist() == ["R2-D2", "BB-8"]
    assert toy["_parent_index"].tolist() == ["1", "2"]
    assert part["name"].tolist() == ["wheel"]
    assert part["condition"].tolist() == ["n/a"]  # a code of its list: kept


def test_legacy_na_is_missing_in_the_main_table(form_dir, tmp_path):
    q = load_xlsform(form_dir)
    raw = read_export(_legacy(tmp_path), hmap=header_map(form_codebook(q), q), min_known_share=0.0)
    assert raw.data["name"].tolist() == ["Alice", "Bob", ""]
    assert any("'n/a' placeholder" in n for n in raw.notes)
    r = clean_form_data([_legacy(tmp_path)], form_dir)
    assert r.data["child_count"].tolist() == [0.0, 2.0, 1.0]
    assert len(r.repeats["child"]) == 3 and len(r.repeats["toy"]) == 2 and len(r.repeats["part"]) == 1


def test_na_typed_in_a_kobo_export_stays_an_answer(form_dir, tmp_path):
    """Only KoBoCAT's legacy layout writes n/a as a placeholder: in a formpack export it was typed."""
    p = tmp_path / "kobo.csv"
    p.write_text("name;age;_id;_uuid;_submission_time;__version__\nn/a;30;1;one;2018-01-01T00:00:00;v1\n",
                 encoding="utf-8")
    q = load_xlsform(form_dir)
    raw = read_export(p, hmap=header_map(form_codebook(q), q), min_known_share=0.0)
    assert raw.data["name"].tolist() == ["n/a"]
