"""Cleaning step 11: flags (test, duplicate, speeder, straightliner, ineligible, incomplete) and ``analysed``.

Each function is one step of :data:`analysis.cleaning._clean.STEPS`; it reads
and extends a :class:`~analysis.cleaning._state.CleaningState`. Flags mark
rows, they never drop them: ``analysed`` is true where no flag named in the
``exclude`` option is set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cleaning import _rules as R
from analysis.cleaning._config import DATETIME, DROP_SYSTEM, FLOW_STEPS
from analysis.cleaning._state import CleaningState, S, to_float

__all__ = ["flag_tests", "flag_duplicates", "flag_speeders", "flag_straightliners", "flag_ineligible",
           "flag_incomplete", "decide_analysed", "likert_grids"]


def _submission_time(s: CleaningState) -> pd.Series:
    return s.dt.get("_submission_time", pd.Series(pd.NaT, index=range(s.n), dtype="datetime64[ms, UTC]"))


def flag_tests(s: CleaningState) -> None:
    """Test and pilot interviews (status, validation status, names, dates: the ``tests`` options)."""
    s.say("flagging tests, duplicates, speeders, straightliners")
    cfg, cur = s.cfg, s.cur
    tcols = ["interview_status", "_validation_status"] + list((cfg.get("tests") or {}).get("name_columns") or [])
    flag, _why = R.flag_tests(pd.DataFrame({k: S(cur[k]) for k in tcols if k in cur}), cfg.get("tests") or {},
                              _submission_time(s))
    s.flags["flag_test"] = flag


def _organisation_key(s: CleaningState) -> pd.Series:
    """Folded organisation key (``organisation_key`` columns and the first contact), ``""`` when incomplete."""
    n, cur = s.n, s.cur
    dcfg = s.cfg.get("duplicates") or {}
    key_cols = [c for c in dcfg.get("organisation_key", []) if c in cur]
    if not key_cols:
        return S([""] * n)
    parts = []
    for c in key_cols:
        v = s.final.get(c, cur[c]) if c not in s.personal else cur[c]
        parts.append(R.fold_text(S(v)).to_numpy(dtype=object))
    empty_part = np.zeros(n, dtype=bool)
    for p in parts:
        empty_part |= p == ""
    contact = np.full(n, "", dtype=object)
    for c in dcfg.get("contact_columns", []):
        if c in cur:
            t = R.fold_text(S(cur[c])).to_numpy(dtype=object)
            contact = np.where(contact == "", t, contact)
    joined = parts[0].copy()
    for p in parts[1:]:
        joined = joined + "|" + p
    joined = joined + "|" + contact
    return S(np.where(empty_part, "", joined))


def flag_duplicates(s: CleaningState) -> None:
    """Duplicates: the same ``_uuid``, or the same organisation; the most complete, then latest, row is kept."""
    n, cur = s.n, s.cur
    answers = [c for c in s.known if c not in DROP_SYSTEM and not c.startswith("_") and c not in DATETIME]
    complete = np.sum([s.filled[c] for c in answers], axis=0).astype(np.int64)
    ids = np.nan_to_num(to_float(cur.get("_id", [""] * n)), nan=0.0)
    subs = np.asarray(_submission_time(s).array.asi8, dtype=np.int64)  # NaT is the smallest int64: "earliest"
    # reception order: submission time, then _id (a rank, so that "latest" = largest)
    order_key = np.lexsort((ids, subs)).argsort().astype(float)
    flag, s.kept, s.duplicate_kind = R.flag_duplicates(S(s.uuid), _organisation_key(s), complete, order_key,
                                                       ~s.flags["flag_test"])
    s.flags["flag_duplicate"] = flag


def flag_speeders(s: CleaningState) -> None:
    """Duration ``end - start`` in minutes (not positive: reported, not used); speeders below the threshold."""
    n, dt = s.n, s.dt
    scfg = s.cfg.get("speeders") or {}
    if "start" in dt and "end" in dt:
        dur = ((dt["end"] - dt["start"]).dt.total_seconds() / 60.0).to_numpy(dtype=float).copy()
    else:
        dur = np.full(n, np.nan)
    bad_dur = np.isfinite(dur) & (dur <= 0)
    if bad_dur.any():
        s.problems.add(bad_dur, "end", s.cur.get("end", np.full(n, "")), "constraint",
                       "duration not positive: not used")
        dur[bad_dur] = np.nan
    s.duration = dur
    s.flags["flag_speeder"], s.speeder_threshold = R.flag_speeders(
        dur, fraction_of_median=float(scfg.get("fraction_of_median", 0.3)), min_minutes=scfg.get("min_minutes"))


def likert_grids(q, cb) -> dict[str, list[str]]:
    """Innermost group -> Likert items (select_one on a 1-5 scale) in it."""
    likert = set(cb.loc[(cb["type"] == "select_one") & (cb["min"] == 1) & (cb["max"] == 5), "variable"])
    grids: dict[str, list[str]] = {}
    stack: list[str] = []
    for row in q.survey.itertuples(index=False):
        bt = row.base_type
        if bt in ("begin_group", "begin_repeat"):
            stack.append(row.name)
        elif bt in ("end_group", "end_repeat"):
            if stack:
                stack.pop()
        elif row.name in likert and stack:
            grids.setdefault(stack[-1], []).append(row.name)
    return grids


def flag_straightliners(s: CleaningState) -> None:
    """Straightliners: the same answer on most items of most Likert grids (the ``straightliners`` options)."""
    grids = likert_grids(s.q, s.cb)
    lik_vals = {c: np.asarray(s.final[c], dtype=float) for g in grids.values() for c in g if c in s.final}
    stcfg = s.cfg.get("straightliners") or {}
    if not lik_vals:  # a form without Likert grids
        s.flags["flag_straightliner"] = np.zeros(s.n, dtype=bool)
        return
    s.flags["flag_straightliner"], _share = R.flag_straightliners(
        lik_vals, grids, min_items=int(stcfg.get("min_items", 3)), min_grids=int(stcfg.get("min_grids", 4)),
        min_share_flat=float(stcfg.get("min_share_flat", 0.75)))


def flag_ineligible(s: CleaningState) -> None:
    """Ineligible organisations (inactive, or a legal form outside the groups); ``legal_form_group`` derived."""
    n, cur = s.n, s.cur
    ecfg = s.cfg.get("eligibility") or {}
    groups_map = s.cfg.get("legal_form_groups") or {}
    lf = np.asarray(s.final.get("legal_form", np.full(n, "", dtype=object)), dtype=object)
    s.legal_form_group = pd.Series(lf).map(lambda x: groups_map.get(x, "") if x else "").to_numpy(dtype=object)
    inel = np.zeros(n, dtype=bool)
    if "org_active" in cur and ecfg.get("org_active") is not None:
        inel |= (cur["org_active"] != "") & (cur["org_active"] != str(ecfg["org_active"]))
    if ecfg.get("require_legal_form_group", True):
        inel |= (lf != "") & (s.legal_form_group == "")
    s.flags["flag_ineligible"] = inel


def flag_incomplete(s: CleaningState) -> None:
    """Incomplete interviews (no consent, or too few required answers); missing required answers reported."""
    n, cur, cbi, types = s.n, s.cur, s.cbi, s.types
    ecfg = s.cfg.get("eligibility") or {}
    incomplete = np.zeros(n, dtype=bool)
    if "consent" in cur and ecfg.get("consent") is not None:
        incomplete |= cur["consent"] != str(ecfg["consent"])
    req = [c for c in s.known if bool(cbi.at[c, "required"]) and types.get(c) not in ("system",
                                                                                      "select_multiple_option")]
    if req:
        rel, filled = s.relevant, s.filled
        need = np.sum([rel[c] for c in req], axis=0)
        got = np.sum([rel[c] & filled[c] for c in req], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(need > 0, got / np.maximum(need, 1), 1.0)
        incomplete |= share < float((s.cfg.get("incomplete") or {}).get("min_share_required", 0.8))
        for c in req:
            miss_req = rel[c] & ~filled[c] & ~incomplete
            s.problems.add(miss_req, c, cur[c], "required_missing", "reported only")
    s.flags["flag_incomplete"] = incomplete


def decide_analysed(s: CleaningState) -> None:
    """``analysed``: no flag of an excluding flow step (the ``exclude`` option); the flags in flow order.

    What only the checks needed is released here (memory), before the analysis file is built.
    """
    # a flag whose step did not run (a study step on a generic form) marks no row
    s.flags = {col: s.flags.get(col, np.zeros(s.n, dtype=bool)) for _step, col, _d in FLOW_STEPS}
    if s.legal_form_group is None:
        s.legal_form_group = np.full(s.n, "", dtype=object)
    s.excluded_steps = set(s.cfg.get("exclude") or [])
    analysed = np.ones(s.n, dtype=bool)
    for step, col, _d in FLOW_STEPS:
        if step in s.excluded_steps:
            analysed &= ~s.flags[col]
    if s.removed is not None:
        analysed &= ~s.removed
    s.analysed = analysed
    s.relevant, s.filled, s.evaluator, s.numbers = {}, {}, None, {}
