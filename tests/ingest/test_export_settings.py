"""Every export setting of the same submissions gives the same analysis file (issue 14, point 2).

The variants are written from one small export of the thesis's own form (the
malformed corpus' valid base, 12 submissions) the way each exporter writes
them: Kobo CSV with group names and ``/``, ``.`` or ``-``, select_multiple
as one column or as 0/1 option columns only, the HXL hashtag row, XLSX, R's
``write.csv`` and ODK Central's CSV.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cleaning._clean import clean_data

BASE = Path(__file__).parents[1] / "malformed" / "files" / "bom_crlf.csv"
ID_COLUMNS = ("_source_file", "_source_row")


def _base() -> pd.DataFrame:
    return pd.read_csv(BASE, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _form():
    from analysis import config
    from analysis.cleaning._config import instrument

    return instrument(config.QUESTIONNAIRE_DIR)


def _group_paths() -> dict:
    """Variable -> its group path (``sec_a/grp_x``), from the form."""
    q, _cb, _h = _form()
    paths, stack = {}, []
    for row in q.survey.itertuples(index=False):
        if row.base_type in ("begin_group", "begin_repeat"):
            stack.append(row.name)
        elif row.base_type in ("end_group", "end_repeat"):
            if stack:
                stack.pop()
        elif row.name:
            paths[row.name] = list(stack)
    return paths


def _multi() -> list:
    _q, cb, _h = _form()
    return list(cb.loc[cb["type"] == "select_multiple", "variable"])


def _with_groups(df: pd.DataFrame, sep: str) -> pd.DataFrame:
    paths = _group_paths()
    cols = []
    for c in df.columns:
        if c.startswith("_"):
            cols.append(c)
            continue
        q, _, opt = c.partition("/")
        head = sep.join(paths.get(q, []) + [q])
        cols.append(head + (sep + opt if opt else ""))
    out = df.copy()
    out.columns = cols
    return out


def _write(df: pd.DataFrame, path: Path, sep: str = ";", bom: bool = False) -> Path:
    df.to_csv(path, sep=sep, index=False, quoting=csv.QUOTE_ALL, encoding="utf-8-sig" if bom else "utf-8")
    return path


def _variants(tmp: Path) -> dict:
    base = _base()
    multi = _multi()
    out = {"xml_values": _write(base, tmp / "xml_values.csv")}
    out["comma"] = _write(base, tmp / "comma.csv", sep=",")
    for name, sep in (("groups_slash", "/"), ("groups_dot", "."), ("groups_dash", "-")):
        out[name] = _write(_with_groups(base, sep), tmp / f"{name}.csv")
    opts_only = base.drop(columns=[c for c in multi if c in base.columns])
    out["multiple_details_only"] = _write(opts_only, tmp / "details.csv")
    tf = opts_only.copy()
    for c in tf.columns:
        if "/" in c and c.split("/", 1)[0] in multi:
            tf[c] = tf[c].map({"1": "True", "0": "False", "": ""})
    out["multiple_true_false"] = _write(tf, tmp / "true_false.csv")
    one_col = base.drop(columns=[c for c in base.columns if "/" in c and c.split("/", 1)[0] in multi])
    out["multiple_one_column"] = _write(one_col, tmp / "one_column.csv")
    hxl = pd.concat([pd.DataFrame([{c: ("#date+start" if c == "start" else ("#org+name" if c == "org_name" else ""))
                                    for c in base.columns}]), base], ignore_index=True)
    out["hxl_row"] = _write(hxl, tmp / "hxl.csv")
    xlsx = tmp / "export.xlsx"
    base.to_excel(xlsx, index=False)
    out["xlsx"] = xlsx
    r = _with_groups(base, ".")
    r.columns = [("X" + c if c.startswith("_") else c) for c in r.columns]
    r.columns = ["ï.." + r.columns[0]] + list(r.columns[1:])
    out["r_write_csv"] = _write(r, tmp / "r_export.csv", sep=",")
    central = _with_groups(base, "-")
    central = central.drop(columns=[c for c in central.columns if c in (
        "_id", "_index", "_notes", "_tags", "_status", "_validation_status", "__version__")
        or c.startswith("_gps_")])
    central = central.rename(columns={"_uuid": "meta-instanceID", "_submission_time": "SubmissionDate",
                                      "_submitted_by": "SubmitterName"})
    central["FormVersion"] = base["__version__"]
    central["meta-instanceID"] = "uuid:" + central["meta-instanceID"]
    central["KEY"] = central["meta-instanceID"]
    central["SubmissionDate"] = central["SubmissionDate"].where(central["SubmissionDate"] == "",
                                                                central["SubmissionDate"] + ".000Z")
    out["odk_central"] = _write(central, tmp / "central.csv", sep=",")
    out["labels_arabic"] = _write(_labels_export(base, "ar"), tmp / "labels_ar.csv")
    out["labels_french"] = _write(_labels_export(base, "fr"), tmp / "labels_fr.csv")
    return out


def _labels_export(base: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Kobo's "labels" export in one form language: question labels as headers, choice labels as values."""
    q, cb, _h = _form()
    cbi = cb.set_index("variable")
    out = base.copy()
    heads = {}
    used = set()
    for c in base.columns:
        if c not in cbi.index or cbi.at[c, "type"] in ("system", "calculate") or c.startswith("_"):
            continue
        t = cbi.at[c, "type"]
        if t == "select_one" and cbi.at[c, "list_name"] and c not in ("region", "province"):
            ch = q.choice_list(cbi.at[c, "list_name"])
            out[c] = out[c].map(dict(zip(ch["name"], ch[f"label_{lang}"]))).fillna(out[c])
        if t == "select_multiple_option":
            parent, code = c.split("/", 1)
            ch = q.choice_list(cbi.at[parent, "list_name"])
            opt = dict(zip(ch["name"], ch[f"label_{lang}"])).get(code, code)
            head = f"{cbi.at[parent, f'label_{lang}']}/{opt}"
        else:
            head = cbi.at[c, f"label_{lang}"]
        if head and head not in used and head not in base.columns:
            heads[c] = head
            used.add(head)
    return out.rename(columns=heads)


def _question_frame(result) -> pd.DataFrame:
    d = result.data.drop(columns=[c for c in ID_COLUMNS if c in result.data.columns])
    return d.sort_values("resp_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("settings")
    return {k: clean_data([p]) for k, p in _variants(tmp).items()}


SETTINGS = ["comma", "groups_slash", "groups_dot", "groups_dash", "multiple_details_only", "multiple_true_false",
            "multiple_one_column", "hxl_row", "xlsx", "r_write_csv", "odk_central", "labels_arabic", "labels_french"]


@pytest.mark.parametrize("setting", SETTINGS)
def test_same_analysis_file_for_every_export_setting(cleaned, setting):
    ref = _question_frame(cleaned["xml_values"])
    got = _question_frame(cleaned[setting])
    assert len(got) == len(ref) == 12
    assert list(got.columns) == list(ref.columns)
    for c in ref.columns:
        a, b = ref[c], got[c]
        if pd.api.types.is_float_dtype(a):
            assert np.allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), equal_nan=True), c
        else:
            assert a.astype(object).where(a.notna(), None).tolist() == \
                b.astype(object).where(b.notna(), None).tolist(), c


@pytest.mark.parametrize("setting", SETTINGS)
def test_no_column_unknown_or_rebuilt(cleaned, setting):
    r = cleaned[setting]
    v = r.validation
    assert not (v["rule"] == "unknown_column").any() or setting == "odk_central", \
        v.loc[v["rule"] == "unknown_column", "column"].tolist()
    assert not (r.log["rule"].str.contains("select_multiple_rebuilt")).any()
