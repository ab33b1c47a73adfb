"""Prove the cleaning: the analysis file is the raw exports plus the logged changes, nothing else.

As IMPACT's ``cleaningtools::review_cleaning`` does, :func:`verify` starts again from the raw
exports, applies exactly the changes listed in ``cleaning_log.csv`` (automatic rules and human
decisions alike), removes the submissions whose removal is logged, and compares the result with
``survey.parquet`` cell by cell. It shares no code with the cleaning stage beyond the reader of
the raw files and the definition of the pseudonymous id; the comparison is on values (``"12"``
in the export and ``12.0`` in the analysis file are the same answer; a timestamp is compared as
an instant).

It lists every cell that differs without a log row, every log row whose change is not what the
analysis file holds, and every submission present or absent without a reason. ``si-survey
verify`` exits 0 only when all three lists are empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__ = ["VerifyResult", "verify", "verify_frames"]

_KEY = ["resp_id", "_occurrence"]


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found.

    Attributes
    ----------
    unexplained : pandas.DataFrame
        Cells that differ from the raw export without a log row: ``_uuid``, ``resp_id``,
        ``column``, ``raw_value`` (after the logged changes), ``processed_value``.
    unapplied : pandas.DataFrame
        Log rows whose change is not in the data: the log row's ``_uuid``, ``column``,
        ``old_value``, ``new_value``, ``rule`` plus ``found`` (what the raw export or the
        analysis file holds) and ``problem``.
    rows : pandas.DataFrame
        Submissions present without reason or absent without a logged removal: ``_uuid``,
        ``resp_id``, ``problem``.
    cells_checked : int
        Number of cells compared.
    log_rows_checked : int
        Number of log rows checked.
    """

    unexplained: pd.DataFrame
    unapplied: pd.DataFrame
    rows: pd.DataFrame
    cells_checked: int
    log_rows_checked: int

    @property
    def ok(self) -> bool:
        """True when the analysis file is exactly the raw exports plus the log."""
        return self.unexplained.empty and self.unapplied.empty and self.rows.empty

    def summary(self) -> str:
        """One paragraph in French for the command line."""
        head = (f"{self.cells_checked:,} cellules et {self.log_rows_checked:,} lignes du journal "
                "vérifiées".replace(",", "\u202f"))
        if self.ok:
            return head + " : le fichier d'analyse est l'export brut plus les changements du " \
                          "journal, et rien d'autre."
        parts = []
        if len(self.unexplained):
            parts.append(f"{len(self.unexplained)} cellule(s) modifiée(s) sans ligne au journal")
        if len(self.unapplied):
            parts.append(f"{len(self.unapplied)} ligne(s) du journal non appliquée(s)")
        if len(self.rows):
            parts.append(f"{len(self.rows)} soumission(s) présente(s) ou absente(s) sans raison")
        return head + " : " + " ; ".join(parts) + "."


def _unneutralise(values: pd.Series) -> pd.Series:
    """Undo the quote that the CSV writers put before a cell a spreadsheet would run."""
    from analysis.tables import FORMULA_PREFIXES

    quoted = values.str.startswith("'") & values.str[1:2].isin(list(FORMULA_PREFIXES))
    return values.where(~quoted, values.str[1:])


def _blank(values: pd.Series) -> np.ndarray:
    s = values.astype(object)
    return (s.isna() | s.astype(str).str.strip().eq("")).to_numpy()


def _same_values(expected: pd.Series, processed: pd.Series) -> np.ndarray:
    """Element-wise: is the expected answer (text) the processed value?"""
    exp_blank = _blank(expected)
    proc_blank = processed.isna().to_numpy()
    out = exp_blank & proc_blank
    both = ~exp_blank & ~proc_blank
    if not both.any():
        return out
    e = expected.astype(object).where(~exp_blank, "").astype(str).str.strip()
    if pd.api.types.is_bool_dtype(processed):
        got = e.str.lower().map({"true": True, "false": False, "1": True, "0": False})
        ok = (got == processed).fillna(False).to_numpy()
    elif pd.api.types.is_numeric_dtype(processed):
        num = pd.to_numeric(e.str.replace(",", ".", regex=False), errors="coerce").to_numpy(float)
        p = processed.to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(num) & (np.abs(num - p) <= 1e-9 * np.maximum(1.0, np.abs(p)))
    elif pd.api.types.is_datetime64_any_dtype(processed):
        t = pd.to_datetime(e, utc=True, errors="coerce", format="ISO8601")
        p = processed.dt.tz_convert("UTC") if processed.dt.tz is not None else \
            processed.dt.tz_localize("UTC")
        ok = (t.to_numpy() == p.to_numpy())
    else:
        ok = (e.to_numpy() == processed.astype(object).astype(str).str.strip().to_numpy())
    return out | (both & ok)


def verify_frames(raw: pd.DataFrame, processed: pd.DataFrame, log: pd.DataFrame, *,
                  pseudonymise) -> VerifyResult:
    """Compare a raw table (strings, ``_uuid``) with an analysis file (``resp_id``) and a log.

    Parameters
    ----------
    raw : pandas.DataFrame
        Raw answers as strings, one row per submission received, with ``_uuid``.
    processed : pandas.DataFrame
        The analysis file, one row per submission kept, with ``resp_id``.
    log : pandas.DataFrame
        The cleaning log (strings): ``_uuid``, ``column``, ``old_value``, ``new_value``,
        ``rule`` and, for human decisions, ``change_type`` (``remove_survey`` rows remove a
        submission).
    pseudonymise : callable
        ``_uuid`` Series -> ``resp_id`` Series (the study's pseudonymous id).

    Returns
    -------
    VerifyResult

    Examples
    --------
    >>> raw = pd.DataFrame({"_uuid": ["a", "b"], "x": ["1", "98"]})
    >>> proc = pd.DataFrame({"resp_id": ["Ra", "Rb"], "x": [1.0, np.nan]})
    >>> log = pd.DataFrame({"_uuid": ["b"], "column": ["x"], "old_value": ["98"],
    ...                     "new_value": [""], "rule": ["dont_know"]})
    >>> verify_frames(raw, proc, log, pseudonymise=lambda u: "R" + u).ok
    True
    >>> proc.loc[0, "x"] = 2.0
    >>> verify_frames(raw, proc, log, pseudonymise=lambda u: "R" + u).unexplained[
    ...     ["column", "raw_value", "processed_value"]].values.tolist()
    [['x', '1', 2.0]]
    """
    log = log.fillna("").astype(str)
    for c in ("old_value", "new_value"):  # CSV cells neutralised against spreadsheet formulas
        if c in log:
            log[c] = _unneutralise(log[c])
    if "change_type" not in log:
        log["change_type"] = ""
    raw = raw.copy()
    raw["_uuid"] = raw["_uuid"].astype(str).str.strip()
    raw["resp_id"] = np.asarray(pseudonymise(raw["_uuid"]))
    raw["_occurrence"] = raw.groupby("resp_id").cumcount()
    proc = processed.copy()
    proc["_occurrence"] = proc.groupby("resp_id").cumcount()

    removed = set(log.loc[log["change_type"].eq("remove_survey"), "_uuid"])
    keep_raw = raw.loc[~raw["_uuid"].isin(removed)]
    rk = pd.MultiIndex.from_frame(keep_raw[_KEY])
    pk = pd.MultiIndex.from_frame(proc[_KEY])
    uuid_of = dict(zip(raw["resp_id"], raw["_uuid"]))
    rows = []
    for key in pk.difference(rk):
        why = "removed by a logged decision, still in the analysis file" if \
            uuid_of.get(key[0]) in removed else "in the analysis file, in no raw export"
        rows.append({"_uuid": uuid_of.get(key[0], ""), "resp_id": key[0], "problem": why})
    for key in rk.difference(pk):
        rows.append({"_uuid": uuid_of.get(key[0], ""), "resp_id": key[0],
                     "problem": "in the raw export, missing from the analysis file without a "
                                "logged removal"})
    both = pk.intersection(rk, sort=False)
    R = keep_raw.set_index(_KEY).reindex(both)
    P = proc.set_index(_KEY).reindex(both)

    # a removed personal column (remove_column) is not in the analysis file: nothing to replay
    cells = log.loc[log["column"].ne("") & ~log["change_type"].isin(["remove_survey", "remove_column"])]
    first = cells.drop_duplicates(["_uuid", "column"], keep="first")
    last = cells.drop_duplicates(["_uuid", "column"], keep="last")
    unapplied = []
    # the first change of a cell starts from the raw answer
    raw_by_uuid = raw.drop_duplicates("_uuid").set_index("_uuid")
    for rec in first.to_dict("records"):
        if rec["_uuid"] not in raw_by_uuid.index:
            unapplied.append({**rec, "found": "", "problem": "the submission is in no raw export"})
        elif rec["column"] in raw_by_uuid.columns:
            found = raw_by_uuid.at[rec["_uuid"], rec["column"]]
            found = "" if pd.isna(found) else str(found)
            if rec["old_value"].startswith("sha256:"):  # a personal value, logged as its hash
                from analysis.cleaning._personal import hash_value

                found = hash_value(found)
            if found.strip() != rec["old_value"].strip():
                unapplied.append({**rec, "found": found,
                                  "problem": "old value is not the raw answer"})

    common = [c for c in P.columns if c in R.columns and c not in ("_uuid",)]
    rid = pd.Series(both.get_level_values(0))
    expected = R[common].astype(object).copy()
    expected.index = range(len(expected))
    Pv = P[common].copy()
    Pv.index = range(len(Pv))
    pos_of: dict[str, list[int]] = {}
    for i, r in enumerate(rid):
        pos_of.setdefault(r, []).append(i)
    last_rid = pseudonymise(last["_uuid"]) if len(last) else pd.Series([], dtype=object)
    col_pos = {c: j for j, c in enumerate(common)}
    logged = np.zeros(expected.shape, dtype=bool)
    for r, col, new in zip(np.asarray(last_rid), last["column"], last["new_value"]):
        j = col_pos.get(col)
        if j is None:
            continue
        for i in pos_of.get(r, ()):
            expected.iat[i, j] = new
            logged[i, j] = True
    unexplained = []
    n_cells = 0
    for j, c in enumerate(common):
        same = _same_values(expected[c], Pv[c])
        n_cells += len(same)
        for i in np.flatnonzero(~same):
            if logged[i, j]:
                rec = last.loc[(last["_uuid"] == uuid_of.get(rid[i])) & (last["column"] == c)]
                unapplied.append({**rec.iloc[0].to_dict(), "found": Pv[c].iloc[i],
                                  "problem": "the analysis file does not hold the new value"})
            else:
                unexplained.append({"_uuid": uuid_of.get(rid[i], ""), "resp_id": rid[i],
                                    "column": c, "raw_value": expected[c].iloc[i],
                                    "processed_value": Pv[c].iloc[i]})
    ucols = ["_uuid", "resp_id", "column", "raw_value", "processed_value"]
    acols = list(log.columns) + ["found", "problem"]
    return VerifyResult(
        unexplained=pd.DataFrame(unexplained, columns=ucols),
        unapplied=pd.DataFrame(unapplied, columns=acols),
        rows=pd.DataFrame(rows, columns=["_uuid", "resp_id", "problem"]),
        cells_checked=n_cells,
        log_rows_checked=len(log),
    )


def verify(raw_paths: Sequence[str | Path], processed_dir: str | Path, *,
           questionnaire=None) -> VerifyResult:
    """Check that ``processed_dir`` holds the raw exports plus the changes of its log.

    Parameters
    ----------
    raw_paths : sequence of path
        The raw exports the cleaning read.
    processed_dir : path
        The folder with ``survey.parquet`` and ``cleaning_log.csv``.
    questionnaire : Questionnaire, optional
        Default: the study's.

    Returns
    -------
    VerifyResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.simulate import simulate_export
    >>> from analysis.cleaning import clean
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> files = [simulate_export(n=80, seed=5, out_dir=tmp / "raw")["export"]]
    >>> _ = clean(files, out_dir=tmp / "processed", private_dir=tmp / "private")
    >>> verify(files, tmp / "processed").ok
    True
    """
    from analysis.cleaning._rules import pseudonymous_id
    from analysis.ingest import read_exports
    from analysis.study import codebook, load_questionnaire

    d = Path(processed_dir)
    for name in ("survey.parquet", "cleaning_log.csv"):
        if not (d / name).exists():
            raise InputError(f"{name} is missing: run si-survey clean first", file=d / name,
                             expected="the outputs of si-survey clean")
    q = questionnaire if questionnaire is not None else load_questionnaire()
    raw, _ = read_exports([Path(p) for p in raw_paths], codebook(q), q)
    processed = pd.read_parquet(d / "survey.parquet")
    log = pd.read_csv(d / "cleaning_log.csv", dtype=str, keep_default_na=False)
    return verify_frames(raw, processed, log, pseudonymise=pseudonymous_id)
