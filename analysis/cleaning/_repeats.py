"""Repeat groups: one table per repeat (``repeats/<name>.parquet``) and ``<name>_count`` in the main table.

Each repeat table has one row per instance: ``resp_id`` of its submission
(the same pseudonymous id as the main table), ``_index`` (the instance's
number in its table), ``_parent_index`` (the parent row's ``_index``: the
submission's ``_index`` for a first-level repeat, the parent instance's for
a nested one) and the repeat's questions by their XLSForm ``name``, typed by
the question type (numbers with the same rules as the main table, choices as
codes checked against their list, text as text). Personal columns (found as
in :mod:`analysis.cleaning._personal`) are removed. The number of instances
per submission joins the main table as ``<name>_count`` (first-level
repeats).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cleaning import _rules as R
from analysis.cleaning._personal import personal_columns, personal_log_rows
from analysis.cleaning._state import CleaningState, S, str_array
from analysis.cleaning._types import _parse_distinct

__all__ = ["add_repeat_tables"]


def _typed(t: pd.DataFrame, cb: pd.DataFrame, form, personal: set, problems: list, name: str) -> dict:
    cols = {}
    types = dict(zip(cb["variable"], cb["type"]))
    lists = dict(zip(cb["variable"], cb["list_name"]))
    for c in t.columns:
        if c in personal or c not in types:
            continue
        v = t[c].astype(str).str.strip().to_numpy(dtype=object)
        typ = types[c]
        if typ in ("integer", "decimal"):
            codes, uniq = pd.factorize(S(v))
            uniq = np.asarray(uniq, dtype=object)
            uv, st = _parse_distinct(uniq, typ, True)
            vals = np.where(codes >= 0, uv[np.maximum(codes, 0)], np.nan) if len(uniq) else np.full(len(v), np.nan)
            bad = (np.asarray(st, dtype=object)[np.maximum(codes, 0)] == "invalid") & (codes >= 0) if len(uniq) \
                else np.zeros(len(v), dtype=bool)
            for i in np.flatnonzero(bad):
                problems.append((name, int(i) + 1, c, v[i], f"{typ} value"))
            cols[c] = vals
        elif typ == "select_one" and lists.get(c):
            allowed = set(form.choice_list(lists[c])["name"])
            bad = np.array([x != "" and x not in allowed for x in v], dtype=bool)
            for i in np.flatnonzero(bad):
                problems.append((name, int(i) + 1, c, v[i], "a code of " + lists[c]))
            cols[c] = str_array(np.where(bad, "", v))
        elif typ == "select_multiple_option":
            continue  # rebuilt from the answer column below
        else:
            cols[c] = str_array(v)
    for c, typ in types.items():  # select_multiple: 0/1 option columns from the answer
        if typ == "select_multiple" and c in t.columns and c not in personal:
            codes = list(form.choice_list(lists[c])["name"])
            fr = R.split_multiple(S(t[c].astype(str).str.strip().to_numpy(dtype=object)), codes, c)
            for oc in fr.columns:
                cols[oc] = fr[oc].to_numpy(dtype=float)
    return cols


def add_repeat_tables(s: CleaningState, result, paths, form=None) -> None:
    """Read the repeat tables of the exports, type them, and add ``<name>_count`` to the main table.

    ``form`` is the :class:`~analysis.xlsform._workbook.XLSForm` (default: the state's form).
    """
    from analysis.ingest._repeats import read_repeat_tables
    from analysis.xlsform._workbook import form_codebook

    form = form if form is not None else s.q
    tables, notes = read_repeat_tables(paths, form)
    result.warnings.extend(notes)
    if not form.repeats:
        return
    # the submission of a sheet without _submission__uuid: its _parent_index is the main row's _index
    main_idx = np.asarray(s.asread.get("_index", np.full(s.n, "", dtype=object)), dtype=object)
    main_index = dict(zip(main_idx, np.asarray(s.uuid, dtype=object)))
    # a first-level instance without _parent_index (ODK Central): the main row's _index, else its number (from 1)
    if len(main_idx) != len(s.uuid) or any(str(x).strip() == "" for x in main_idx):
        main_idx = np.arange(1, len(s.uuid) + 1).astype(str)
    index_of = dict(zip(np.asarray(s.uuid, dtype=object), main_idx))
    top = set(form.survey.loc[(form.survey["base_type"] == "begin_repeat") & (form.survey["repeat"] == ""), "name"])
    problems: list = []
    removed: dict = {}
    answers: dict = {}
    log_rows: list = []
    counts_cols: dict = {}
    for name in form.repeats:
        cb = form_codebook(form, repeat=name)
        t = tables.get(name)
        if t is None:
            t = pd.DataFrame(columns=list(cb["variable"]) + ["_submission__uuid", "_index", "_parent_index"])
        uuid = t["_submission__uuid"].astype(str).to_numpy(dtype=object)
        if name in top:
            miss = uuid == ""
            if miss.any():
                uuid = np.where(miss, [main_index.get(p, "") for p in t["_parent_index"]], uuid)
            no_parent = (t["_parent_index"].astype(str).str.strip() == "").to_numpy()
            if no_parent.any():
                t = t.assign(_parent_index=np.where(no_parent, [index_of.get(u, "") for u in uuid],
                                                    t["_parent_index"].to_numpy(dtype=object)))
        values = {c: t[c].to_numpy(dtype=object) for c in t.columns if c in set(cb["variable"])}
        pers = personal_columns(form, cb, values, in_repeat=True)
        present = {c: r for c, r in pers.items() if c in t.columns}
        removed.update({f"{name}/{c}": r for c, r in present.items()})
        log_rows += personal_log_rows({c: t[c].to_numpy(dtype=object) for c in present}, present,
                                      files=np.full(len(t), f"repeats/{name}", dtype=object),
                                      rows=np.arange(1, len(t) + 1), uuids=uuid, table=name)
        answers.update({f"{name}/{c}": int((t[c].astype(str).str.strip() != "").sum()) for c in present})
        cols = {"resp_id": pd.array(R.pseudonymous_id(S(uuid)).to_numpy(dtype=object), dtype="str"),
                "_index": pd.to_numeric(t["_index"], errors="coerce").to_numpy(dtype=float),
                "_parent_index": pd.to_numeric(t["_parent_index"], errors="coerce").to_numpy(dtype=float)}
        cols.update(_typed(t, cb, form, set(pers), problems, name))
        result.repeats[name] = pd.DataFrame(cols)
        if name in top and name not in tables:  # the export holds no instance table (a CSV export)
            counts_cols[f"{name}_count"] = np.full(len(result.data), np.nan)
            result.labels[f"{name}_count"] = {"label_fr": f"{name}: number of instances (not in the export)",
                                             "type": "repeat_count"}
        elif name in top:
            counts = pd.Series(uuid).value_counts()
            n = pd.Series(np.asarray(s.uuid, dtype=object)).map(counts).fillna(0).to_numpy(dtype=float)
            counts_cols[f"{name}_count"] = n
            result.labels[f"{name}_count"] = {"label_fr": f"{name}: number of instances", "type": "repeat_count"}
    if counts_cols:  # in place where the codebook already has the column, else added at the end
        new = {k: v for k, v in counts_cols.items() if k not in result.data.columns}
        for k, v in counts_cols.items():
            if k in result.data.columns:
                result.data[k] = v
        if new:
            result.data = pd.concat([result.data, pd.DataFrame(new, index=result.data.index)], axis=1)
    if problems:
        extra = pd.DataFrame([{"file": f"repeats/{r}", "row": "", "source_row": i, "column": c, "value": v,
                               "rule": "not_allowed", "action": f"set missing (expected {e})"}
                              for r, i, c, v, e in problems])
        extra["source_row"] = extra["source_row"].astype("Int64")
        result.validation = pd.concat([result.validation, extra], ignore_index=True)
    result.manifest["repeats"] = {k: int(len(v)) for k, v in result.repeats.items()}
    result.manifest["personal_data_removed"] = list(result.manifest.get("personal_data_removed", [])) + [
        {"column": c, "reason": r, "answers": answers.get(c, 0)} for c, r in sorted(removed.items())]
    if log_rows:  # the removed personal columns of the repeats, as in the main table (hashes, never values)
        log = result.log
        result.log = pd.concat([log, pd.DataFrame(log_rows).reindex(columns=log.columns, fill_value="")],
                               ignore_index=True)
        result.log["source_row"] = result.log["source_row"].astype(np.int64)
