"""Cleaning steps 5, 7 and 8: skip logic, regions, choice codes, hidden answers, ranges and constraints.

Each function is one step of :data:`analysis.cleaning._clean.STEPS`; it reads
and extends a :class:`~analysis.cleaning._state.CleaningState`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.cleaning import _rules as R
from analysis.cleaning._config import DATETIME
from analysis.cleaning._state import CleaningState, S, to_float
from analysis.cleaning._validation import RelevanceEvaluator
from analysis.errors import ConfigError, InputError
from analysis.study._regions import match_provinces, match_regions

#: Errors of an expression the evaluator cannot compute (unsupported function, reference into a repeat...).
_EXPRESSION_ERRORS = (ConfigError, KeyError, ValueError, TypeError, IndexError)

__all__ = ["evaluate_relevance", "match_places", "check_choices", "check_file_fit", "apply_skip_logic", "check_ranges",
           "check_constraints"]


def evaluate_relevance(s: CleaningState) -> None:
    """The skip logic (``relevant``) of every question, evaluated on the answers as recorded."""
    cbi, types, n, cur = s.cbi, s.types, s.n, s.cur
    s.multi = {c: list(s.q.choice_list(cbi.at[c, "list_name"])["name"]) for c in s.known
               if types.get(c) == "select_multiple"}
    years = s.dt.get("start")
    s.year = int(years.dt.year.max()) if years is not None and years.notna().any() else 2026
    opts = {}
    for c, codes in s.multi.items():
        ocols = [f"{c}/{k}" for k in codes]
        if all(o in cur for o in ocols) and any((cur[o] != "").any() for o in ocols):
            answered = cur[c] != ""
            opts[c] = (np.column_stack([cur[o] == "1" for o in ocols]) & answered[:, None], answered)
    s.evaluator = RelevanceEvaluator({c: cur[c] for c in s.known}, s.numbers, s.multi, n, today_year=s.year,
                                     options=opts)
    unsupported = []
    for c in s.known:
        expr = cbi.at[c, "relevant"]
        try:
            s.relevant[c] = s.evaluator.relevant(expr) if expr else np.ones(n, dtype=bool)
        except _EXPRESSION_ERRORS:  # outside the evaluator's subset: the question counts as shown
            s.relevant[c] = np.ones(n, dtype=bool)
            unsupported.append(c)
    if unsupported:
        s.warnings.append(f"{len(unsupported)} relevance expression(s) outside the supported XLSForm subset "
                          f"not checked (answers kept): {', '.join(unsupported[:6])}"
                          + (" ..." if len(unsupported) > 6 else ""))


def match_places(s: CleaningState) -> None:
    """Region and province mapped to the official names (pre-2015 regions resolved by the province)."""
    cur, V, C = s.cur, s.problems, s.changes
    rcfg = s.cfg.get("regions") or {}
    cutoff = float(rcfg.get("fuzzy_cutoff", 0.9))
    if "province" in cur and "province" not in s.personal:
        pm = match_provinces(cur["province"], fuzzy_cutoff=cutoff)
        prov = np.where(pd.isna(pm.codes), cur["province"], pm.codes).astype(object)
        unm = pm.status == "unmatched"
        V.add(unm, "province", cur["province"], "province_unmatched", "kept as written")
        C.add("province", (pm.status == "mapped") | (pm.status == "fuzzy"), "province_matched")
        s.final["province"] = prov
    if "region" in cur:
        rm = match_regions(cur["region"], provinces=cur.get("province"), fuzzy_cutoff=cutoff,
                           resolve_by_province=bool(rcfg.get("resolve_ambiguous_by_province", True)))
        amb = rm.status == "ambiguous"
        unm = rm.status == "unmatched"
        V.add(amb, "region", cur["region"], "region_ambiguous",
              "set missing (pre-2015 region split over several regions; the province does not decide)")
        V.add(unm, "region", cur["region"], "region_unmatched", "set missing")
        C.add("region", np.isin(rm.status, ["mapped", "fuzzy"]), "region_matched")
        C.add("region", rm.status == "resolved_by_province", "region_resolved_by_province")
        C.add("region", amb, "region_ambiguous")
        C.add("region", unm, "region_unmatched")
        s.final["region"] = np.where(pd.isna(rm.codes), "", rm.codes).astype(object)
        if amb.any():
            s.warnings.append(f"{int(amb.sum())} region(s) written with a pre-2015 name now split over several "
                              "regions, and no province to decide: left missing (validation.csv, region_ambiguous)")


def check_choices(s: CleaningState) -> None:
    """select_one codes checked: 97/98/99 set missing with their reason, labels typed instead of codes
    mapped back, other values set missing; numeric codes stored as float codes (``likert``)."""
    cbi, types, n, cur, V, C = s.cbi, s.types, s.n, s.cur, s.problems, s.changes
    for c in s.known:
        if types.get(c) != "select_one" or c in s.personal or (c == "region" and s.study):
            continue
        ch = s.q.choice_list(cbi.at[c, "list_name"])
        allowed = list(ch["name"])
        mcodes = [x for x in str(cbi.at[c, "missing_codes"]).split(";") if x.strip()]
        ucodes, uniq = s.distinct(c)
        uvals, ust = R.choice_codes(S(uniq), allowed, mcodes)
        uvals = uvals.to_numpy(dtype=object)
        if len(uniq):
            vals, st = uvals[ucodes], ust[ucodes]
        else:
            vals, st = np.full(n, "", dtype=object), np.full(n, "empty", dtype=object)
        row_level = bool((ust == "not_allowed").any())  # labels or bad codes: fixed cell by cell below
        bad = st == "not_allowed"
        if bad.any():  # a label typed instead of a code
            lut = {}
            kfr = R.fold_text(pd.Series(ch["label_fr"])).tolist()
            kar = R.fold_text(pd.Series(ch["label_ar"])).tolist()
            for code, fr, ar in zip(ch["name"], kfr, kar):
                lut[fr] = code
                lut[ar] = code
            key = R.fold_text(S(cur[c][bad])).to_numpy(dtype=object)
            hit = np.array([k in lut for k in key], dtype=bool)
            pos = np.flatnonzero(bad)[hit]
            mapped = np.array([lut[k] for k in key[hit]], dtype=object)
            is_miss = np.isin(mapped, mcodes)
            vals[pos[~is_miss]] = mapped[~is_miss]
            st[pos[~is_miss]] = "ok"
            C.add(c, np.isin(np.arange(n), pos[~is_miss]), "label_to_code")
            for code in set(mapped[is_miss]):
                p2 = pos[is_miss][mapped[is_miss] == code]
                st[p2] = R.MISSING_REASONS.get(code, "missing_code")
            bad = st == "not_allowed"
            s.set_aside_wrong_columns(c, bad, st, f"no cell holds a code or label of the choice list "
                                                  f"'{cbi.at[c, 'list_name']}' (codes {', '.join(allowed[:8])}): "
                                                  "wrong column, or an export of another form version?")
            V.add(bad, c, cur[c], "not_allowed", "set missing")
            C.add(c, bad, "not_allowed")
        for reason in ("dont_know", "refused", "not_applicable"):
            C.add(c, st == reason, reason)
        num_codes = all(re.fullmatch(r"-?\d+", a) for a in allowed)
        if num_codes:
            s.likert.add(c)
            if row_level:
                s.final[c] = to_float(vals)
            else:  # the same codes, as numbers, from the distinct values
                uf = to_float(uvals)
                s.final[c] = uf[ucodes] if len(uniq) else np.full(n, np.nan)
        else:
            s.final[c] = vals


def check_file_fit(s: CleaningState) -> None:
    """Stop when a file cannot be this form's export: most of its typed columns were set aside.

    One wrong column is set aside and the rest is read; a file where more than
    half of the number and choice columns holding data match nothing of the
    form is another form (or another version of it): one clear sentence.
    """
    if not s.set_aside:
        return
    typed = [c for c in s.known if c not in s.personal and s.types.get(c) in ("integer", "decimal", "select_one")]
    for f in pd.unique(s.files):
        name = Path(str(f)).name
        aside = [c for (fn, c, _r) in s.set_aside if fn == name]
        if not aside:
            continue
        m = s.files == f
        with_data = [c for c in typed if (s.cur[c][m] != "").any()]
        s.warnings.append(f"{name}: {len(aside)} column(s) set aside, matching nothing the form allows "
                          f"(validation.csv, column_set_aside): {', '.join(repr(c) for c in aside[:6])}"
                          + (" ..." if len(aside) > 6 else ""))
        if len(with_data) >= 4 and len(aside) > len(with_data) / 2:
            i = int(np.flatnonzero(m)[0])
            raise InputError(
                f"this does not look like an export of this form: {len(aside)} of its {len(with_data)} number "
                f"and choice columns match nothing the form allows (first: '{aside[0]}')",
                file=next((p for p in s.paths if p.name == name), name), row=int(s.rows[i]),
                expected="an export of this form (its codes and numbers)",
            )


def apply_skip_logic(s: CleaningState) -> None:
    """Answers to questions the skip logic hides set missing (``filled``: answered cells as recorded)."""
    cur, final, types = s.cur, s.final, s.types
    s.filled = {c: cur[c] != "" for c in s.known}  # answered cells as recorded (after harmonising)
    for c in s.known:
        if c in s.personal or types.get(c) in ("system", "select_multiple_option") or c in DATETIME:
            continue
        hidden = ~s.relevant[c] & s.filled[c]
        if hidden.any():
            s.problems.add(hidden, c, cur[c], "not_relevant", "set missing")
            s.changes.add(c, hidden, "skip_logic")
            v = final.get(c)
            if c in s.dt:  # a dateTime question
                s.dt[c] = s.dt[c].mask(hidden)
                final[c] = s.dt[c]
            elif v is None:
                final[c] = np.where(hidden, "", cur[c]).astype(object)
            elif isinstance(v, np.ndarray) and v.dtype.kind == "f":
                v[hidden] = np.nan
            else:
                v = np.asarray(v, dtype=object).copy()
                v[hidden] = ""
                final[c] = v
            if types.get(c) == "select_multiple":
                cur[c] = np.where(hidden, "", cur[c]).astype(object)


def check_ranges(s: CleaningState) -> None:
    """Out-of-range numbers set missing (never clipped); ``year_created`` bounded by the interview year."""
    cbi = s.cbi
    for c in s.numeric_columns:
        lo, hi = cbi.at[c, "min"], cbi.at[c, "max"]
        if c == "year_created":
            hi = float(s.year)
        v = s.final[c]
        oor = R.out_of_range(v, lo, hi)
        if oor.any():
            s.problems.add(oor, c, s.cur[c], "out_of_range", "set missing")
            s.changes.add(c, oor, "out_of_range")
            v[oor] = np.nan


def check_constraints(s: CleaningState) -> None:
    """Numbers breaking a cross-question constraint set missing; select_multiple constraints reported."""
    cbi, cur = s.cbi, s.cur
    for c in s.numeric_columns:
        expr = cbi.at[c, "constraint"]
        if not expr or "${" not in expr:
            continue
        try:
            ok = s.evaluator.constraint(expr, c)
        except _EXPRESSION_ERRORS:
            s.warnings.append(f"{c}: constraint outside the supported XLSForm subset, not checked")
            continue
        bad = ~ok & np.isfinite(s.final[c]) & s.relevant[c]
        if bad.any():
            s.problems.add(bad, c, cur[c], "constraint", "set missing")
            s.changes.add(c, bad, "constraint")
            s.final[c][bad] = np.nan
    for c in s.multi:
        expr = cbi.at[c, "constraint"]
        if expr:
            try:
                ok = s.evaluator.constraint(expr, c)
            except _EXPRESSION_ERRORS:
                s.warnings.append(f"{c}: constraint outside the supported XLSForm subset, not checked")
                continue
            s.problems.add(~ok & (cur[c] != ""), c, cur[c], "constraint", "reported only")
