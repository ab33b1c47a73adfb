"""Cleaning steps 3-4: timestamps parsed to UTC, numbers typed as text parsed.

Each function is one step of :data:`analysis.cleaning._clean.STEPS`; it reads
and extends a :class:`~analysis.cleaning._state.CleaningState`.
"""

from __future__ import annotations

import numpy as np

from analysis.cleaning import _rules as R
from analysis.cleaning._config import DATETIME
from analysis.cleaning._state import CleaningState, S
from analysis.errors import InputError

__all__ = ["parse_timestamps", "parse_numbers"]


def parse_timestamps(s: CleaningState) -> None:
    """``start``, ``end`` and ``_submission_time`` parsed to UTC; invalid dates set missing."""
    tz = str(s.cfg.get("timezone", "+01:00"))
    for c in DATETIME:
        if c not in s.cur:
            continue
        vals, st = R.parse_datetimes(S(s.cur[c]), naive_offset="+00:00" if c == "_submission_time" else tz)
        bad = st == "invalid"
        s.problems.add(bad, c, s.cur[c], "invalid_date", "set missing")
        s.changes.add(c, bad, "invalid_date")
        s.changes.add(c, st == "reformatted", "date_format")
        s.dt[c] = vals
        s.final[c] = vals


def parse_numbers(s: CleaningState) -> None:
    """Numbers typed as text parsed; words for "don't know"/"refused" and -98/-99 set missing.

    A column holding no number in any of its (3 or more) non-empty cells is
    another column or another form version: the file is refused.
    """
    ncfg = s.cfg.get("numbers") or {}
    n, cbi, types = s.n, s.cbi, s.types
    s.numeric_columns = [c for c in s.known if types.get(c) in ("integer", "decimal", "calculate")
                         and c not in s.personal]
    for c in s.numeric_columns:
        mc = [int(x) for x in str(cbi.at[c, "missing_codes"]).split(";") if x.strip()]
        ucodes, uniq = s.distinct(c)
        uv, us = R.numeric_values(S(uniq), missing_codes=(), dot_thousands=bool(ncfg.get("dot_thousands", True)))
        vals, st = (uv[ucodes], us[ucodes]) if len(uniq) else (np.full(n, np.nan), np.full(n, "empty", object))
        bad = st == "invalid"
        nonempty = int((st != "empty").sum())
        if bad.any() and bad.sum() == nonempty and nonempty >= 3 and types[c] != "calculate":
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"the column holds no number in any of its {nonempty} non-empty cells (wrong column, or an "
                "export of another form version?)", file=s.files[i], row=int(s.rows[i]), column=c,
                value=s.cur[c][i], expected=f"{types[c]} values",
            )
        s.problems.add(bad, c, s.cur[c], "not_a_number", "set missing")
        s.changes.add(c, bad, "not_a_number")
        s.changes.add(c, st == "parsed", "number_text")
        for reason in ("dont_know", "refused", "not_applicable"):  # the words typed instead of a number
            s.changes.add(c, st == reason, reason)
        s.numbers[c] = vals
        for code in mc:
            hit = vals == float(code)
            s.changes.add(c, hit, R.MISSING_REASONS.get(str(code), "missing_code"))
        s.final[c] = np.where(np.isin(vals, [float(x) for x in mc]), np.nan, vals) if mc else vals.copy()
