"""Cleaning steps 1-2: read the raw exports, identify the submissions, check the columns, harmonise the text.

Each function is one step of :data:`analysis.cleaning._clean.STEPS`; it reads
and extends a :class:`~analysis.cleaning._state.CleaningState`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.cleaning import _rules as R
from analysis.cleaning._state import Changes, CleaningState, code_dtype
from analysis.cleaning._validation import ProblemLog
from analysis.errors import InputError
from analysis.ingest._readers import read_exports

__all__ = ["read_raw", "identify_submissions", "check_columns", "harmonise_text"]

#: Columns written by the device or the server: only trimmed, never harmonised.
MACHINE_COLUMNS = {"_id", "_uuid", "_index", "_submission_time", "start", "end", "deviceid", "__version__",
                   "_submitted_by", "_notes", "_tags", "_status"}
#: System columns an export may lack without a ``missing_column`` problem.
OPTIONAL_SYSTEM = ("_notes", "_tags", "_index", "_validation_status", "_status", "_submitted_by", "__version__",
                   "_id")


def read_raw(s: CleaningState) -> None:
    """Read every file as text (:func:`analysis.ingest._readers.read_exports`); the readers' notes become warnings."""
    s.say(f"reading {len(s.paths)} raw file(s)")
    s.raw, s.tables = read_exports(s.paths, s.cb, s.q, hmap=s.hmap)
    s.n = len(s.raw)
    if s.n == 0:
        raise InputError("the raw files hold no submission (header only)", file=s.paths[0],
                         expected="one line per submission under the header")
    for t in s.tables:
        s.warnings.extend(t.notes)
    s.cbi = s.cb.set_index("variable")
    s.types = s.cbi["type"].to_dict()
    s.personal = set(s.cb.loc[s.cb["personal"], "variable"])
    s.files = s.raw["_source_file"].to_numpy(dtype=object)
    s.rows = s.raw["_source_row"].to_numpy()


def identify_submissions(s: CleaningState) -> None:
    """``_uuid`` of each row (file and row when missing); the problem log and the change registry start."""
    raw, n = s.raw, s.n
    uuid = raw["_uuid"].astype(str).str.strip() if "_uuid" in raw else pd.Series([""] * n)
    no_uuid = (uuid == "").to_numpy()
    if no_uuid.any():
        uuid = uuid.where(~no_uuid, "row:" + raw["_source_file"].astype(str) + ":" + raw["_source_row"].astype(str))
        s.warnings.append(f"{int(no_uuid.sum())} row(s) without _uuid: identified by file and row instead")
    s.uuid = uuid.to_numpy(dtype=object)
    s.problems = ProblemLog(s.files, s.uuid, s.rows, s.personal)
    s.changes = Changes(n)


def check_columns(s: CleaningState) -> None:
    """Unknown columns reported and dropped; missing codebook columns reported and left empty."""
    raw, cb = s.raw, s.cb
    option_of = {c: c.split("/", 1)[0] for c, t in s.types.items() if t == "select_multiple_option"}
    for t in s.tables:
        for c in t.unknown_columns:
            if not s.study and re.search(r"\[\d+\]/", str(c)):
                continue  # a legacy KoBoCAT repeat instance column: read into its repeat table
            s.problems.add_column(t.path.name, c, "unknown_column", "dropped from the analysis file")
        present = set(t.data.columns)
        for c in cb["variable"]:
            if c in present or c in OPTIONAL_SYSTEM:
                continue
            if c in option_of and option_of[c] in present:
                continue  # an export setting: select_multiple as one column (the 0/1 columns are rebuilt)
            if s.types.get(c) == "repeat_count":
                continue  # counted from the repeat tables
            if s.types.get(c) == "geopoint" and f"_{c}_latitude" in present:
                continue  # an export setting: ODK Central writes a geopoint as its parts only (gps-Latitude...)
            s.problems.add_column(t.path.name, c, "missing_column", "left empty")
    for t in s.tables:
        present = set(t.data.columns)
        absent = [c for c in cb["variable"] if c not in present]
        if absent:
            m = s.files == (t.data["_source_file"].iloc[0] if len(t.data) else t.path.name)
            for c in absent:
                s.absent[c] = s.absent.get(c, np.zeros(s.n, dtype=bool)) | m
    for c in cb["variable"]:
        if c not in raw.columns:
            raw[c] = ""
    s.known = [c for c in cb["variable"]]
    s.unknown_columns = [c for c in raw.columns if c not in s.cbi.index and c not in ("_source_file", "_source_row")
                         and (s.study or not re.search(r"\[\d+\]/", str(c)))]
    unknown = s.unknown_columns
    if unknown:
        s.warnings.append(f"{len(unknown)} unknown column(s) dropped: {', '.join(unknown[:6])}"
                          + (" ..." if len(unknown) > 6 else ""))


def harmonise_text(s: CleaningState) -> None:
    """Text harmonised (NFC, trimmed, spaces collapsed); the values as read kept in ``asread``.

    Memory: a column's cells are held as references to its distinct values (8
    bytes a cell), not as one Python string per cell, with the codes in the
    smallest integer type. Afterwards only the source columns of the raw table
    are kept and the readers' tables keep their header only.
    """
    s.say("validating and cleaning")
    raw, n = s.raw, s.n
    tcfg = s.cfg.get("text") or {}
    for c in s.known:
        codes, uniq = pd.factorize(raw[c])
        uniq = np.asarray(uniq, dtype=object)
        codes = codes.astype(code_dtype(len(uniq)))
        s.asread[c] = uniq[codes] if len(uniq) else np.full(n, "", dtype=object)
        if c in s.personal or c in MACHINE_COLUMNS:
            if c in s.personal or not len(uniq):
                s.cur[c] = s.asread[c]
            else:
                stripped = pd.Series(uniq, dtype=object).str.strip().to_numpy(dtype=object)
                s.cur[c] = s.asread[c] if (stripped == uniq).all() else stripped[codes]
            continue
        s.fac[c] = (codes, uniq)
        newu = R.harmonise_text(pd.Series(uniq, dtype=object), form=tcfg.get("unicode_form", "NFC"),
                                collapse=bool(tcfg.get("collapse_spaces", True))).to_numpy(dtype=object)
        diff_u = newu != uniq
        if not diff_u.any():
            s.cur[c] = s.asread[c]
            continue
        s.cur[c] = newu[codes]
        s.changes.add(c, diff_u[codes], "text_harmonised")
    # only the source columns are needed from here on (the values as read are in `asread`)
    s.raw = raw[["_source_file", "_source_row"]]
    s.table_rows = [len(t.data) for t in s.tables]  # for the manifest
    for t in s.tables:
        t.data = t.data.iloc[:0]
