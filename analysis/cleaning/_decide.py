"""Cleaning steps for the researcher's decisions on flagged answers (``data/decisions/``).

:func:`apply_decisions` runs right after the text is harmonised, on the answers as recorded:
a ``change_response`` replaces the answer, a ``blank_response`` empties it (each cell marked
with the rule ``decision``, so it is a row of ``cleaning_log.csv``), a ``remove_survey``
marks the submission removed (it leaves the analysis file and is counted in the respondent
flow), a ``no_action`` closes the point. Every later rule applies to the decided answer.
:func:`audit_columns` gives every log row its ``check_id``, ``issue`` and ``change_type``
(the cleaningtools vocabulary, for the automatic rules too) and adds one row per removal;
:func:`drop_removed` takes the removed submissions out of the analysis file and the link table.
Decisions apply to the study's own exports only (never with ``--form``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cleaning._personal import hash_value
from analysis.cleaning._state import CleaningState
from analysis.errors import InputError
from analysis.fieldwork._decisions import same_answer

__all__ = ["apply_decisions", "audit_columns", "drop_removed", "AUDIT_COLUMNS"]

#: The cleaningtools columns every row of ``cleaning_log.csv`` carries.
AUDIT_COLUMNS = ["check_id", "issue", "change_type"]


def apply_decisions(s: CleaningState) -> None:
    """Apply the decisions of ``s.decisions`` to the current answers (see the module notes)."""
    s.removed = np.zeros(s.n, dtype=bool)
    s.removal_reasons = {}
    s.decided = {}
    s.personal_decisions = []
    ds = s.decisions
    if ds is None or not len(ds):
        return
    positions: dict[str, list[int]] = {}
    for i, u in enumerate(s.uuid):
        positions.setdefault(str(u), []).append(i)
    for d in ds.decisions:
        pos = positions.get(d.uuid)
        if pos is None:
            raise InputError("the decision names a submission that is in no export", file=d.file, row=d.row,
                             column="uuid", value=d.uuid, expected="the _uuid of a submission of the exports read")
        if d.change_type == "no_action":
            continue
        if d.change_type == "remove_survey":
            s.removed[pos] = True
            s.removal_reasons[d.uuid] = d
            continue
        if d.question not in s.cur:
            raise InputError("the decision names a question that is not a column of the export", file=d.file,
                             row=d.row, column="question", value=d.question,
                             expected="a question of the questionnaire present in the export")
        cur = s.cur[d.question]
        if cur is s.asread.get(d.question):
            cur = np.array(cur, dtype=object, copy=True)
            s.cur[d.question] = cur
        current = "" if cur[pos[0]] is None else str(cur[pos[0]])
        if d.old_value and not same_answer(current, d.old_value):
            raise InputError(f"the answer changed since the decision was taken (the export now holds "
                             f"'{current}')", file=d.file, row=d.row, column="old_value", value=d.old_value,
                             expected=current)
        new = d.new_value if d.change_type == "change_response" else ""
        if d.question in s.personal:  # logged with hashes: a personal value never reaches the log
            s.personal_decisions.append((pos, d, current, new))
        cur[pos] = new
        mask = np.zeros(s.n, dtype=bool)
        mask[pos] = True
        s.changes.add(d.question, mask, "decision")
        s.decided[(d.uuid, d.question)] = d
    if s.removed.any():
        s.say(f"decisions: {int(s.removed.sum())} submission(s) removed")


def audit_columns(s: CleaningState) -> None:
    """``check_id``, ``issue`` and ``change_type`` of every log row; one row per removed submission."""
    log = s.log
    n = len(log)
    check = np.asarray(log["rule"], dtype=object) if n else np.array([], dtype=object)
    issue = np.full(n, "", dtype=object)
    new = np.asarray(log["new_value"], dtype=object) if n else np.array([], dtype=object)
    kind = np.where(pd.Series(new, dtype=object).fillna("").astype(str).to_numpy() == "",
                    "blank_response", "change_response").astype(object)
    decided = getattr(s, "decided", {}) or {}
    if decided and n:
        for i, (u, c, r) in enumerate(zip(log["_uuid"], log["column"], log["rule"])):
            d = decided.get((u, c))
            if d is not None and "decision" in str(r):
                check[i], issue[i], kind[i] = d.check_id or "manual", d.issue, d.change_type
    log = log.assign(check_id=check, issue=issue, change_type=kind)
    rows = []
    for pos, d, old, new in getattr(s, "personal_decisions", []) or []:
        for i in pos:  # a decision on a personal column: the values as hashes (the column is not published)
            rows.append({"file": s.files[i], "source_row": int(s.rows[i]), "_uuid": s.uuid[i], "column": d.question,
                         "old_value": hash_value(old), "new_value": hash_value(new), "rule": "decision",
                         "check_id": d.check_id or "manual", "issue": d.issue, "change_type": d.change_type})
    removed = getattr(s, "removal_reasons", {}) or {}
    if removed:
        for i in np.flatnonzero(s.removed):
            d = removed[str(s.uuid[i])]
            rows.append({"file": s.files[i], "source_row": int(s.rows[i]), "_uuid": s.uuid[i], "column": "",
                         "old_value": "", "new_value": "", "rule": "decision",
                         "check_id": d.check_id or "manual", "issue": d.issue, "change_type": "remove_survey"})
    if rows:
        log = pd.concat([log, pd.DataFrame(rows, columns=log.columns)], ignore_index=True)
        log["source_row"] = log["source_row"].astype(np.int64)
    s.log = log


def drop_removed(s: CleaningState) -> None:
    """The removed submissions leave the analysis file and the link table (they stay in the log and the flow)."""
    removed = getattr(s, "removed", None)
    if removed is None or not removed.any():
        return
    keep = ~removed
    s.data = s.data.loc[keep].reset_index(drop=True)
    if s.link is not None and len(s.link) == len(keep):
        s.link = s.link.loc[keep].reset_index(drop=True)
