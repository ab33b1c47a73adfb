"""Read repeat groups from exports: Kobo XLSX sheets and ODK Central child CSVs.

A Kobo XLSX export has one sheet per repeat group after the main sheet; Kobo
cuts sheet titles to 31 characters, so a sheet is matched to its repeat by
its **columns**, never by its title: the repeat the group paths of its
headers name (``children/child/toy/name`` -> ``toy``), else the repeat whose
questions name most of them, among those whose parent is the sheet's
``_parent_table_name``. An ODK Central export has one CSV per repeat, named
by the last ``name[i]`` of its ``KEY`` (``uuid:…/children/child[1]/toy[2]``
-> ``toy``; the columns decide when the keys do not), linked to its parent by
``PARENT_KEY`` (``uuid:…`` for the submission, the parent's ``KEY`` for a
nested repeat). A legacy KoBoCAT CSV holds its repeats as numbered slots of
the main table (``project[2]/partner[1]/partner_org``); an unused slot is
not an instance (:mod:`analysis.ingest._kobocat`).

A question name may be used in several repeats (``name`` of a child and of
its toy): that is why the paths and keys decide before the columns.

Every repeat table is returned with the columns named by the XLSForm
``name``, plus ``_submission__uuid`` (the submission's ``_uuid``),
``_index`` (the instance's number in its table, from 1) and
``_parent_index`` (the parent row's ``_index``: the submission's row for a
first-level repeat, the parent instance's for a nested one; empty for a
first-level ODK Central repeat, whose main table has no ``_index``: cleaning
gives it the submission's row number, from 1).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.ingest._kobocat import NA_PLACEHOLDER
from analysis.ingest._labels import labels_to_codes

__all__ = ["read_repeat_tables", "is_child_csv", "REPEAT_KEYS"]

#: Link columns of a repeat table (besides the questions).
REPEAT_KEYS = ("_submission__uuid", "_index", "_parent_index")


def _resolve(header: str, names: set, groups: set) -> str | None:
    h = str(header).strip().lstrip("\ufeff")
    if h in names:
        return h
    for sep in ("/", ".", "-", ":"):
        if sep in h:
            parts = h.split(sep)
            while len(parts) > 1 and (parts[0] in groups or re.sub(r"\[\d+\]$", "", parts[0]) in groups):
                parts = parts[1:]
            for cand in ("/".join(parts), sep.join(parts)):
                if cand in names:
                    return cand
    return None


def _map_columns(columns: list, name: str, repeats: dict, groups: set, hmaps: dict | None = None) -> dict:
    """Header -> question name of repeat ``name`` for the ``columns`` that name one of its questions.

    ``hmaps`` (repeat -> :class:`~analysis.ingest._headers.HeaderMap`) also reads label headers
    (``Projets/Partenaires/Nom du contact`` of a labels export).
    """
    names = set(repeats[name]["variable"])
    mp: dict = {}
    for c in columns:
        r = _resolve(c, names, groups)
        if r is None and hmaps and name in hmaps and not str(c).startswith("_"):
            r = hmaps[name].labels.match(str(c).strip())[0]
            r = None if r in mp.values() else r
        if r is not None:
            mp[c] = r
    return mp


def _match(columns: list, repeats: dict, groups: set, hmaps: dict | None = None) -> tuple[str | None, dict]:
    """The repeat whose questions name most of ``columns``, and the header -> name mapping.

    Between repeats that name as many columns (a question name used in two
    repeats, e.g. ``name`` in ``child`` and in its nested ``toy``), the one
    with the fewest questions left without a column wins.
    """
    best, best_map, best_score = None, {}, (0, 0)
    for name, cb in repeats.items():
        mp = _map_columns(columns, name, repeats, groups, hmaps)
        score = (len(mp), -len(set(cb["variable"]) - set(mp.values())))
        if mp and score > best_score:
            best, best_map, best_score = name, mp, score
    return best, best_map


def _repeat_of_paths(columns: list, repeats: dict) -> str | None:
    """The repeat the group paths of a sheet's headers name, if they all name one.

    A Kobo header with group names (``children/child/toy/name``) names its
    repeat: the last repeat of its path. Headers without a path name none.
    """
    found = set()
    for c in columns:
        parts = re.split(r"[/.\-:]", str(c).strip().lstrip("\ufeff"))[:-1]
        reps = [re.sub(r"\[\d+\]$", "", x) for x in parts if re.sub(r"\[\d+\]$", "", x) in repeats]
        if reps:
            found.add(reps[-1])
    return found.pop() if len(found) == 1 else None


def _match_sheet(df: pd.DataFrame, repeats: dict, groups: set, parent_of: dict,
                 hmaps: dict | None = None) -> tuple[str | None, dict]:
    """The repeat of a sheet: the one its headers' group paths name, else the one its columns match best.

    Kobo's ``_parent_table_name`` column (the parent's sheet title, cut to 31
    characters) narrows the candidates: a repeat whose parent is that sheet.
    """
    columns = list(df.columns)
    name = _repeat_of_paths(columns, repeats)
    if name is None:
        if "_parent_table_name" in df and len(df):
            titles = set(df["_parent_table_name"].astype(str).str.strip())
            nested = {r[:31] for r in repeats}
            within = {r: cb for r, cb in repeats.items()
                      if (parent_of.get(r) or "")[:31] in titles
                      or (parent_of.get(r) is None and not titles & nested)}
            name, mp = _match(columns, within, groups, hmaps)
            if name is not None:
                return name, mp
        return _match(columns, repeats, groups, hmaps)
    return name, _map_columns(columns, name, repeats, groups, hmaps)


#: The last repeat instance of an ODK Central ``KEY``: ``uuid:…/children/child[1]/toy[2]`` -> ``toy``.
_LAST_INSTANCE = re.compile(r"/([^/\[\]]+)\[\d+\]\s*$")


def _repeat_of_keys(keys: pd.Series, repeats: dict) -> str | None:
    """The repeat an ODK Central child table's ``KEY`` column names (its last ``name[i]``), if one of the form's."""
    found = {m.group(1) for k in keys.astype(str) if (m := _LAST_INSTANCE.search(k.strip()))}
    return found.pop() if len(found) == 1 and next(iter(found)) in repeats else None


def _strip_uuid(v: pd.Series) -> pd.Series:
    return v.astype(str).str.strip().str.replace(r"^uuid:", "", regex=True).str.split("/").str[0]


def is_child_csv(path: str | Path) -> bool:
    """Whether a CSV is an ODK Central child table (its header has ``PARENT_KEY``)."""
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".txt"):
        return False
    with open(p, "rb") as fh:
        head = fh.read(65536).decode("utf-8", errors="replace").splitlines()
    return bool(head) and "PARENT_KEY" in head[0]


def read_repeat_tables(paths, form, main_uuids: dict | None = None) -> tuple[dict, list]:
    """Read the repeat tables of the exports (XLSX sheets after the first, ODK Central child CSVs).

    Parameters
    ----------
    paths : sequence of path
        The exports (main files and child CSVs).
    form : XLSForm
        The form (:func:`analysis.xlsform._workbook.load_xlsform`).
    main_uuids : dict, optional
        ``{(file name, Kobo _index or row): _uuid}`` of the main table, to
        link sheets that only carry ``_parent_index``.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        Repeat name -> its rows (text cells), see the module notes.
    notes : list of str
    """
    from analysis.ingest._headers import header_map
    from analysis.xlsform._workbook import form_codebook

    repeats = {r: form_codebook(form, repeat=r) for r in form.repeats}
    if not repeats:
        return {}, []
    hmaps = {r: header_map(cb, form) for r, cb in repeats.items()}
    groups = set(form.survey.loc[form.survey["base_type"].isin(["begin_group", "begin_repeat"]), "name"])
    parent_of = _parents(form)
    out: dict[str, list] = {}
    notes: list[str] = []
    for p in map(Path, paths):
        if p.suffix.lower() in (".xlsx", ".xlsm"):
            for title, df in _xlsx_sheets(p)[1:]:
                name, mp = _match_sheet(df, repeats, groups, parent_of, hmaps)
                if name is None:
                    notes.append(f"{p.name}: sheet '{title}' matches no repeat group of the form; ignored")
                    continue
                t = pd.DataFrame({v: df[h].to_numpy(dtype=object) for h, v in mp.items()})
                labels_to_codes(t, hmaps[name], notes, p)
                t["_submission__uuid"] = _strip_uuid(df["_submission__uuid"]) if "_submission__uuid" in df \
                    else ""
                t["_index"] = df["_index"].to_numpy(dtype=object) if "_index" in df else \
                    np.arange(1, len(df) + 1).astype(str)
                t["_parent_index"] = df["_parent_index"].to_numpy(dtype=object) if "_parent_index" in df else ""
                out.setdefault(name, []).append(t)
                if title != name:
                    notes.append(f"{p.name}: sheet '{title}' read as repeat '{name}' (matched by its columns)")
        elif is_child_csv(p):
            df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python")
            columns = [c for c in df.columns if c not in ("PARENT_KEY", "KEY")]
            name = _repeat_of_keys(df["KEY"], repeats) if "KEY" in df and len(df) else None
            if name is not None:  # the KEY path names the repeat: its columns are read against that repeat
                mp = _map_columns(columns, name, repeats, groups, hmaps)
            else:
                name, mp = _match(columns, repeats, groups, hmaps)
            if name is None:
                raise InputError("this child table matches no repeat group of the form", file=p, row=1,
                                 expected="an ODK Central repeat CSV of this form")
            t = pd.DataFrame({v: df[h].to_numpy(dtype=object) for h, v in mp.items()})
            labels_to_codes(t, hmaps[name], notes, p)
            t["_submission__uuid"] = _strip_uuid(df["KEY"] if "KEY" in df else df["PARENT_KEY"]).to_numpy()
            t["_KEY"] = df["KEY"].to_numpy(dtype=object) if "KEY" in df else ""
            t["_PARENT_KEY"] = df["PARENT_KEY"].to_numpy(dtype=object)
            out.setdefault(name, []).append(t)
        elif p.suffix.lower() in (".csv", ".txt", ".tsv"):  # legacy KoBoCAT: kids/kids_details[1]/kids_name
            _flattened(p, repeats, groups, out, notes, _na_codes(form, repeats))
    tables = {}
    for name, parts in out.items():
        t = pd.concat(parts, ignore_index=True)
        if "_KEY" in t:  # ODK Central: instance numbers and parent instance from the keys
            t["_index"] = np.arange(1, len(t) + 1).astype(str)
            tables[name] = t
        else:
            tables[name] = t
    for name, t in tables.items():  # nested ODK Central repeats: _parent_index from the parent's KEY
        if "_KEY" in t:
            parent = parent_of.get(name)
            if parent and parent in tables and "_KEY" in tables[parent]:
                idx = dict(zip(tables[parent]["_KEY"], tables[parent]["_index"]))
                t["_parent_index"] = [idx.get(k, "") for k in t["_PARENT_KEY"]]
            else:
                t["_parent_index"] = ""
    for name in list(tables):
        tables[name] = tables[name].drop(columns=[c for c in ("_KEY", "_PARENT_KEY") if c in tables[name]])
    return tables, notes


def _na_codes(form, repeats: dict) -> set:
    """``(repeat, question)`` of the select questions whose choice list has the code ``n/a``."""
    out = set()
    for rep, cb in repeats.items():
        for q, typ, lst in zip(cb["variable"], cb["type"], cb["list_name"]):
            if typ in ("select_one", "select_multiple") and lst and \
                    NA_PLACEHOLDER in set(form.choice_list(lst)["name"].astype(str)):
                out.add((rep, q))
    return out


def _flattened(p: Path, repeats: dict, groups: set, out: dict, notes: list, na_codes: set = frozenset()) -> None:
    """Repeat instances written as indexed columns of the main table (legacy KoBoCAT CSV).

    KoBoCAT's ``n/a`` placeholder is a missing cell (but in a select question
    whose list has the code ``n/a``, ``na_codes``), and a slot whose every cell,
    its nested slots' included, is missing is not an instance; a slot with
    answers only in its nested slots is one (see :mod:`analysis.ingest._kobocat`).
    """
    with open(p, "rb") as fh:
        head = fh.readline().decode("utf-8-sig", errors="replace")
    if "[" not in head:
        return
    df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python")
    flat = [c for c in df.columns if re.search(r"\[\d+\]/", c)]
    if not flat:
        return
    uuids = _strip_uuid(df["_uuid"]).to_numpy(dtype=object) if "_uuid" in df else \
        np.array([f"row:{p.name}:{i + 2}" for i in range(len(df))], dtype=object)
    main_index = df["_index"].to_numpy(dtype=object) if "_index" in df else np.arange(1, len(df) + 1).astype(str)
    # column -> (repeat name, chain of (repeat, k), question)
    cells: dict = {}
    for c in flat:
        parts = c.split("/")
        chain, q = [], parts[-1]
        for seg in parts[:-1]:
            m = re.match(r"^(.+)\[(\d+)\]$", seg)
            if m:
                chain.append((m.group(1), int(m.group(2))))
        if not chain:
            continue
        rep = chain[-1][0]
        if rep not in repeats or q not in set(repeats[rep]["variable"]):
            continue
        cells[c] = (rep, tuple(chain), q)
    instances: dict = {}  # (repeat, row, chain) -> {question: value}
    kept: dict = {}  # (repeat, row, chain) -> {question: n/a} where n/a is a code of the question's list
    for c, (rep, chain, q) in cells.items():
        col = df[c].to_numpy(dtype=object)
        na = col == NA_PLACEHOLDER
        for i in np.flatnonzero((col != "") & ~na):
            instances.setdefault((rep, int(i), chain), {})[q] = col[i]
            for depth in range(1, len(chain)):  # its enclosing slots are instances too
                instances.setdefault((chain[depth - 1][0], int(i), chain[:depth]), {})
        if (rep, q) in na_codes:
            for i in np.flatnonzero(na):
                kept.setdefault((rep, int(i), chain), {})[q] = NA_PLACEHOLDER
    for key, answers in kept.items():  # an n/a code is an answer of an instance, never makes a slot one
        if key in instances:
            instances[key].update(answers)
    order = sorted(instances, key=lambda k: (len(k[2]), k[1], k[2]))
    index: dict = {}
    rows: dict = {}
    for rep, i, chain in order:
        n = len(rows.get(rep, ())) + 1  # the instance's number in its repeat's table
        index[(rep, i, chain)] = n
        parent = index.get((chain[-2][0], i, chain[:-1])) if len(chain) > 1 else main_index[i]
        rec = dict(instances[(rep, i, chain)])
        rec.update({"_submission__uuid": uuids[i], "_index": str(n), "_parent_index": str(parent or "")})
        rows.setdefault(rep, []).append(rec)
    for rep, recs in rows.items():
        out.setdefault(rep, []).append(pd.DataFrame(recs).fillna(""))
    if rows:
        notes.append(f"{p.name}: {len(cells)} indexed repeat column(s) (legacy KoBoCAT) read as repeat tables "
                     f"({', '.join(sorted(rows))})")


def _parents(form) -> dict:
    stack, out = [], {}
    for row in form.survey.itertuples(index=False):
        if row.base_type == "begin_repeat":
            out[row.name] = next((s for s in reversed(stack) if s[1]), (None,))[0]
            stack.append((row.name, True))
        elif row.base_type == "begin_group":
            stack.append((row.name, False))
        elif row.base_type in ("end_group", "end_repeat") and stack:
            stack.pop()
    return out


def _xlsx_sheets(path: Path) -> list:
    from analysis.ingest._readers import xlsx_sheets

    fast = xlsx_sheets(path)
    if fast:
        return fast
    import openpyxl

    from analysis.ingest._readers import _cell_text

    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    try:
        out = []
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                continue
            head = [_cell_text(h).strip() for h in header]
            while head and head[-1] == "":
                head.pop()
            body = [[_cell_text(v) for v in r[:len(head)]] + [""] * max(0, len(head) - len(r)) for r in rows]
            out.append((ws.title, pd.DataFrame(body, columns=head, dtype=object) if body else
                        pd.DataFrame(columns=head, dtype=object)))
        return out
    finally:
        wb.close()
