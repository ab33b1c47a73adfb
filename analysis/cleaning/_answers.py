"""Cleaning steps 6, 9 and 10: "autre (précisez)" recoded, funding shares, select_multiple split.

Each function is one step of :data:`analysis.cleaning._clean.STEPS`; it reads
and extends a :class:`~analysis.cleaning._state.CleaningState`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cleaning import _rules as R
from analysis.cleaning._state import CleaningState, S, to_float

__all__ = ["recode_other", "funding_shares", "split_select_multiple"]


def recode_other(s: CleaningState) -> None:
    """"autre (précisez)" answers recoded through ``questionnaire/recode_other.csv``."""
    types, cur, final = s.types, s.cur, s.final
    for qn, sub in s.recode.groupby("question", sort=False):
        other = f"{qn}_other"
        if qn not in final and types.get(qn) != "select_multiple":
            continue
        if other not in cur:
            continue
        multiple = types.get(qn) == "select_multiple"
        parent = S(final[qn] if not multiple else cur[qn])
        new, hit = R.recode_other(parent, S(cur[other]), sub, multiple=multiple)
        if hit.any():
            s.changes.add(qn, hit, "recode_other")
            if multiple:
                cur[qn] = new.to_numpy(dtype=object)
            else:
                final[qn] = new.to_numpy(dtype=object)
            s.warnings.append(f"{qn}: {int(hit.sum())} 'autre (précisez)' answer(s) recoded through "
                              "recode_other.csv")


def funding_shares(s: CleaningState) -> None:
    """Funding shares re-normalised when their sum is within the tolerance, else all set missing."""
    fcfg = s.cfg.get("funding") or {}
    prefix = fcfg.get("prefix", "fund_")
    cur, final, C = s.cur, s.final, s.changes
    fcols = [c for c in s.numeric_columns if c.startswith(prefix) and s.types.get(c) in ("integer", "decimal")]
    if not fcols:
        return
    mat = np.column_stack([final[c] for c in fcols])
    answered = np.column_stack([(cur[c] != "") for c in fcols]).any(axis=1) & s.relevant[fcols[0]]
    mat[~answered] = np.nan
    new, st = R.funding_shares(mat, total=float(fcfg.get("total", 100)), tolerance=float(fcfg.get("tolerance", 2)))
    total_before = np.nansum(np.where(np.isnan(mat), 0, mat), axis=1)
    for j, c in enumerate(fcols):
        changed_re = (st == "renormalised") & (mat[:, j] != new[:, j]) & np.isfinite(mat[:, j])
        C.add(c, changed_re, "funding_renormalised")
        C.add(c, (st == "off_total") & (cur[c] != ""), "funding_off_total")
        final[c] = np.where(answered, new[:, j], final[c])
    first = fcols[0]
    s.problems.add(st == "renormalised", first, total_before.astype(str), "funding_sum",
                   f"re-normalised to {fcfg.get('total', 100)} (sum within the tolerance)")
    s.problems.add(st == "off_total", first, total_before.astype(str), "funding_sum",
                   "all shares of the row set missing")
    if "fund_total" in final:
        ft = np.where(answered & (st != "off_total"), np.nansum(np.nan_to_num(new, nan=0.0), axis=1), np.nan)
        ft = np.where(answered, ft, final["fund_total"])
        C.add("fund_total", ~np.isclose(ft, final["fund_total"], equal_nan=True), "fund_total_recomputed")
        final["fund_total"] = ft


def split_select_multiple(s: CleaningState) -> None:
    """select_multiple answers: unknown codes dropped, split into 0/1 columns plus ``<question>_count``."""
    n, cur = s.n, s.cur
    for c, codes in s.multi.items():
        if c in s.personal:
            continue
        v = S(cur[c])
        cs = set(codes)
        ucodes, uniq = pd.factorize(v)
        uok = np.array([all(x in cs for x in str(u).split()) for u in uniq], dtype=bool)
        toks_ok = uok[np.maximum(ucodes, 0)] if len(uniq) else np.ones(n, dtype=bool)
        bad = ~toks_ok & (v != "").to_numpy()
        if bad.any():
            s.problems.add(bad, c, cur[c], "not_allowed", "unknown codes dropped")
            s.changes.add(c, bad, "not_allowed")
            fixed = np.array([" ".join(x for x in str(u).split() if x in cs) for u in uniq], dtype=object)
            v = S(np.where(toks_ok, v.to_numpy(dtype=object), fixed[np.maximum(ucodes, 0)]))
        # one order for the same answer whatever the export setting (0/1 columns rebuild it in choice order)
        rank = {k: i for i, k in enumerate(codes)}
        ucodes, uniq = pd.factorize(v)
        ordered = np.array([" ".join(sorted(str(u).split(), key=lambda t: rank.get(t, len(rank)))) for u in uniq],
                           dtype=object)
        reordered = (ordered != np.asarray(uniq, dtype=object)) if len(uniq) else np.zeros(0, dtype=bool)
        if reordered.any():
            s.changes.add(c, reordered[ucodes] & (ucodes >= 0), "select_multiple_order")
            v = S(ordered[ucodes])
        s.final[c] = v.to_numpy(dtype=object)
        fr = R.split_multiple(v, codes, c)
        for oc in fr.columns:
            if oc in cur:
                rawnum = to_float(cur[oc])
                diff = ~((rawnum == fr[oc].to_numpy()) | (np.isnan(rawnum) & np.isnan(fr[oc].to_numpy())))
                if oc in s.absent:  # a file without the 0/1 columns (an export setting): built, not changed
                    diff &= ~s.absent[oc]
                s.changes.add(oc, diff, "select_multiple_rebuilt")
        s.multi_frames[c] = fr
