"""Cleaning step 13: the audit trail (cleaning log, respondent flow, validation table, manifest).

Each function is one step of :data:`analysis.cleaning._clean.STEPS`; it reads
and extends a :class:`~analysis.cleaning._state.CleaningState`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cleaning._config import CELL_LOG_COLUMNS, CONFIG_NAME, FLOW_STEPS
from analysis.cleaning._state import CleaningState, num_text, to_float
from analysis.utils.atomic import sha256_file

__all__ = ["build_log", "build_flow", "collect_problems", "build_manifest"]


def build_log(s: CleaningState) -> None:
    """``cleaning_log.csv``: one row per cell whose analysis value differs from the value as read.

    Each row names the rule(s) that changed the cell (``other`` when none was
    recorded); timestamps count as changed only when a rule touched them (the
    same instant in another notation is not a change); personal columns are
    never logged. Rows are in data order (row, then column); a cell is
    ``(file, source_row, column)``, so no two rows are the same (a submission
    received twice has two rows with the same ``_uuid``).
    """
    data, known, personal, asread, changes = s.data, s.known, s.personal, s.asread, s.changes
    uuid_arr, files, final, multi_frames, dt, fac, cur = s.uuid, s.files, s.final, s.multi_frames, s.dt, s.fac, s.cur
    cols_idx = {c: i for i, c in enumerate(data.columns)}
    acc = {k: [] for k in ("file", "source_row", "_uuid", "column", "old_value", "new_value", "rule", "_pos", "_col")}
    for c in list(known) + [oc for fr in multi_frames.values() for oc in fr.columns if oc in asread]:
        if c in personal or c not in data.columns or c not in asread:
            continue
        old = asread[c]
        col_data = data[c]
        if c in dt:
            # same instant in another notation is not a change; reformatted or invalid cells are
            parts = changes.parts.get(c, [])
            if not parts:
                continue
            changed = np.zeros(len(old), dtype=bool)
            for pos, _rule in parts:
                changed[pos] = True
            new = col_data.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3].fillna("").to_numpy(dtype=object)
            new = np.where(new != "", new + "Z", "").astype(object)
            v = None
        elif pd.api.types.is_float_dtype(col_data) or pd.api.types.is_integer_dtype(col_data):
            v = col_data.to_numpy(dtype=float)
            if fac and c in fac:
                codes, uniq = fac[c]
                un = pd.to_numeric(pd.Series(uniq, dtype=object), errors="coerce").to_numpy(dtype=float)
                rawnum = np.where(codes >= 0, un[np.maximum(codes, 0)], np.nan) if len(un) else np.full(len(old), np.nan)
            else:
                rawnum = to_float(old)
            changed = ~((rawnum == v) | (np.isnan(rawnum) & np.isnan(v) & (old == "")))
            new = None
        else:
            src = final.get(c) if c in final else (cur.get(c) if cur is not None else None)
            if src is not None and np.asarray(src).dtype == object and len(src) == len(old):
                new = np.asarray(src, dtype=object)  # the values the column was built from ("" = missing)
            else:
                new = col_data.to_numpy(dtype=object, na_value="")
            changed = old != new
            v = None
        if c in s.absent:  # a column the file does not have: built (select_multiple options), not changed
            changed = changed & ~s.absent[c]
        pos = np.flatnonzero(changed)
        if not len(pos):
            continue
        newv = num_text(v[pos]) if new is None else np.asarray(new, dtype=object)[pos]
        rules = changes.rules(c, pos)
        rules = np.where(rules == "", "other", rules).astype(object)
        k = len(pos)
        acc["file"].append(files[pos])
        acc["source_row"].append(np.asarray(s.rows)[pos].astype(np.int64))
        acc["_uuid"].append(uuid_arr[pos])
        acc["column"].append(np.full(k, c, dtype=object))
        acc["old_value"].append(np.asarray(old, dtype=object)[pos])
        acc["new_value"].append(newv)
        acc["rule"].append(rules)
        acc["_pos"].append(pos)
        acc["_col"].append(np.full(k, cols_idx[c]))
    if not acc["file"]:
        s.log = pd.DataFrame({c: pd.Series(dtype="str") for c in CELL_LOG_COLUMNS})
        return
    pos = np.concatenate(acc["_pos"])
    col = np.concatenate(acc["_col"])
    order = np.lexsort((col, pos))
    s.log = pd.DataFrame({c: np.concatenate(acc[c])[order] for c in CELL_LOG_COLUMNS}, dtype=object)
    s.log["source_row"] = s.log["source_row"].astype(np.int64)


def build_flow(s: CleaningState) -> None:
    """The respondent flow: received, the rows each excluding step removes, analysed; by legal form group."""
    flags, analysed, lf_group, excl = s.flags, s.analysed, s.legal_form_group, s.excluded_steps
    groups = {"all": np.ones(len(analysed), dtype=bool), "association": lf_group == "association",
              "cooperative": lf_group == "cooperative"}
    groups["other"] = ~groups["association"] & ~groups["cooperative"]
    rows = [{"step": "received", "description": "Soumissions reçues",
             **{g: int(m.sum()) for g, m in groups.items()}}]
    remaining = np.ones(len(analysed), dtype=bool)
    removed = getattr(s, "removed", None)
    if removed is not None and removed.any():  # removed by a decision (data/decisions/), before any flag
        rows.append({"step": "removed_by_decision",
                     "description": "Retirés après vérification (décision du chercheur)",
                     **{g: int((removed & m).sum()) for g, m in groups.items()}})
        remaining &= ~removed
    for step, col, desc in FLOW_STEPS:
        hit = flags[col] & remaining if step in excl else np.zeros(len(analysed), dtype=bool)
        rows.append({"step": step, "description": desc, **{g: int((hit & m).sum()) for g, m in groups.items()}})
        remaining &= ~hit
    rows.append({"step": "analysed", "description": "Organisations retenues pour l'analyse",
                 **{g: int((remaining & m).sum()) for g, m in groups.items()}})
    s.flow = pd.DataFrame(rows, columns=["step", "description", "all", "association", "cooperative", "other"])


def collect_problems(s: CleaningState) -> None:
    """The validation table, and the closing warnings (speeder threshold, duplicates, problems by rule)."""
    s.validation = s.problems.frame()
    n_dup = int(s.flags["flag_duplicate"].sum())
    fraction = (s.cfg.get("speeders") or {}).get("fraction_of_median", 0.3)
    s.warnings.append(f"speeder threshold: {s.speeder_threshold:.1f} minutes ({fraction} x median duration)")
    if n_dup:
        kind = s.duplicate_kind
        s.warnings.append(f"{n_dup} duplicate submission(s) dropped ({int((kind == 'same_uuid').sum())} same _uuid, "
                          f"{int((kind == 'same_organisation').sum())} same organisation)")
    if len(s.validation):
        counts = s.validation["rule"].value_counts().sort_index()
        s.warnings.append("validation: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def build_manifest(s: CleaningState) -> None:
    """``manifest.json`` (hashes of the raw and questionnaire files, code version, row counts, warnings)."""
    from importlib.metadata import PackageNotFoundError, version

    from analysis.utils.provenance import code_fingerprint

    tables, table_rows, qdir, cfg, data, flow = s.tables, s.table_rows, s.qdir, s.cfg, s.data, s.flow
    personal, unknown, thr = s.personal, s.unknown_columns, s.speeder_threshold
    try:
        ver = version("si-survey")
    except PackageNotFoundError:  # pragma: no cover
        ver = "unknown"
    qfiles = {}
    for name in ("survey.csv", "choices.csv", "settings.csv", "constructs.yaml", CONFIG_NAME,
                 str(cfg.get("recode_other") or "")):
        p = qdir / name
        if name and p.is_file():
            qfiles[name] = sha256_file(p)
    raw_files = []
    for t, n_rows in zip(tables, table_rows):
        raw_files.append({"name": t.path.name, "sha256": sha256_file(t.path), "bytes": t.path.stat().st_size,
                          "format": t.format, "encoding": t.encoding, "delimiter": t.delimiter,
                          "rows": int(n_rows), "notes": t.notes})
    f = flow.set_index("step")["all"]
    s.manifest = {
        "schema": 1,
        "raw_files": raw_files,
        "questionnaire": qfiles,
        "code": {"si_survey_version": ver, "fingerprint": code_fingerprint()},
        "rows": {"received": int(f["received"]), "analysed": int(f["analysed"]),
                 "columns": int(data.shape[1])},
        "speeder_threshold_minutes": float(thr),
        "time_zone": dict(s.time_zone),
        "timestamp_columns": list(s.timestamp_columns),
        "calculates_kept_as_text": sorted(s.text_calculates),
        "personal_columns_removed": sorted(personal),
        "personal_data_removed": [{"column": c, "reason": r, "answers": int(s.personal_answers.get(c, 0))}
                                  for c, r in s.personal_reasons.items()],
        "unknown_columns_dropped": list(unknown),
        "survey_parquet": "one row per submission received; analyse rows with analysed == True",
    }
    s.manifest["warnings"] = list(s.warnings)
