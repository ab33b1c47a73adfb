"""Cleaning steps 3-4: timestamps parsed to UTC, numbers typed as text parsed.

Each function is one step of :data:`analysis.cleaning._clean.STEPS`; it reads
and extends a :class:`~analysis.cleaning._state.CleaningState`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.cleaning import _rules as R
from analysis.cleaning._config import DATETIME
from analysis.cleaning._state import CleaningState, S

__all__ = ["parse_timestamps", "parse_numbers", "configured_time_zone", "infer_offset", "numeric_calculate",
           "timestamp_calculate", "timestamp_columns", "TIMESTAMP_TYPES"]


_OFFSET_RE = re.compile(r"^[+-]\d{2}:\d{2}$")
_HAS_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def _naive(values) -> np.ndarray:
    """Cells holding a timestamp without a UTC offset."""
    t = S(values).str.strip()
    return ((t != "") & ~t.str.contains(_HAS_OFFSET)).to_numpy(dtype=bool)


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def configured_time_zone(cfg: dict) -> str | None:
    """The ``time_zone`` option (``+01:00``; the older key ``timezone`` also read), or None.

    Examples
    --------
    >>> configured_time_zone({"time_zone": "+01:00"})
    '+01:00'
    >>> configured_time_zone({}) is None
    True
    """
    tz = cfg.get("time_zone", cfg.get("timezone"))
    if tz is None or str(tz).strip() == "":
        return None
    tz = str(tz).strip()
    if tz in ("Z", "UTC"):
        return "+00:00"
    if not _OFFSET_RE.match(tz):
        from analysis.errors import ConfigError

        raise ConfigError(f"time_zone '{tz}' in {cfg.get('_path', 'the cleaning options')} is not an offset "
                          "such as +01:00")
    return tz


def infer_offset(local: pd.Series, submitted: pd.Series) -> tuple[str | None, int]:
    """The device's UTC offset inferred from local ``end`` times and ``_submission_time`` (UTC).

    A form is submitted after it is finished: ``end(local) - offset <=
    submission(UTC)``, so ``end(local) - submission`` is the offset minus the
    delay before sending. The offset is that difference at its 90th
    percentile, rounded up to the quarter hour (delays are mostly minutes).

    Returns
    -------
    offset : str or None
        ``+hh:mm``, or None when no row has both times.
    rows : int
        Rows the inference used.

    Examples
    --------
    >>> loc = pd.Series(pd.to_datetime(["2026-04-01 12:00", "2026-04-01 15:30"])).dt.tz_localize("UTC")
    >>> sub = pd.Series(pd.to_datetime(["2026-04-01 11:03", "2026-04-01 14:45"])).dt.tz_localize("UTC")
    >>> infer_offset(loc, sub)
    ('+01:00', 2)
    """
    d = (local - submitted).dt.total_seconds().to_numpy(dtype=float) / 60.0
    d = d[np.isfinite(d)]
    if not len(d):
        return None, 0
    q = float(np.quantile(d, 0.9))
    minutes = int(np.ceil(q / 15.0) * 15)
    minutes = max(-12 * 60, min(14 * 60, minutes))
    return _offset_text(minutes), int(len(d))


#: Question types whose answers are timestamps (date and time): the start/end metadata and dateTime questions.
TIMESTAMP_TYPES = ("start", "end", "dateTime")
#: A calculation that is the device's clock: ``now()``, ``once(now())``.
_NOW_CALC = re.compile(r"^\s*(?:once\s*\(\s*)?now\s*\(\s*\)\s*\)?\s*$")
#: A timestamp as written: ISO 8601 date and time, with or without its offset.
_TIMESTAMP_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_OFFSET_IN = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def timestamp_calculate(calculation: str, values=()) -> bool:
    """Whether a ``calculate`` field holds a timestamp: ``now()`` (or ``once(now())``), else every value is one.

    Examples
    --------
    >>> timestamp_calculate("once(now())")
    True
    >>> timestamp_calculate("${visit_dt}", ["2026-03-02T10:00:00.000+01:00", ""])
    True
    >>> timestamp_calculate("today()", ["2026-03-02"]), timestamp_calculate("format-date-time(now(), '%H')", ["10"])
    (False, False)
    """
    if _NOW_CALC.match(str(calculation or "")):
        return True
    v = [str(x).strip() for x in values if str(x).strip() != ""]
    return bool(v) and all(_TIMESTAMP_TEXT.match(x) for x in v)


def timestamp_columns(s: CleaningState) -> list[str]:
    """The columns parsed as timestamps: ``start``, ``end``, ``_submission_time``, every ``start``/``end``/
    ``dateTime`` question and every calculate that is a timestamp (:func:`timestamp_calculate`)."""
    cols = [c for c in DATETIME if c in s.cur]
    calcs = _calculations(s.q)
    for c in s.known:
        if c in cols or c in s.personal or c not in s.cur:
            continue
        t = s.types.get(c)
        if t in TIMESTAMP_TYPES or (t == "calculate" and timestamp_calculate(calcs.get(c, ""), s.distinct(c)[1])):
            cols.append(c)
    return cols


def _written_offset(values) -> np.ndarray:
    """The UTC offset written in each cell (``+01:00``, ``Z`` as ``+00:00``), ``""`` where none is."""
    t = S(values).str.strip().str.extract(_OFFSET_IN, expand=False).fillna("")
    t = t.where(t != "Z", "+00:00")
    t = t.where(~t.str.fullmatch(r"[+-]\d{4}"), t.str[:3] + ":" + t.str[3:])
    return t.to_numpy(dtype=object)


def parse_timestamps(s: CleaningState) -> None:
    """Timestamps parsed to UTC: ``start``, ``end``, ``_submission_time`` and every dateTime question
    (:func:`timestamp_columns`); invalid dates set missing.

    A timestamp with its offset keeps it. ``_submission_time`` without one is
    UTC (the server's clock). A local timestamp without one (a typed XLSX
    export writes none) is never given one silently: the offset is the one
    the same submission's ``end`` (else ``start``) carries in the export,
    else the ``time_zone`` option (``cleaning.yaml``, or ``time_zone=`` of
    :func:`~analysis.cleaning._clean.clean_data`, ``--time-zone``), else it
    is inferred from ``_submission_time`` (:func:`infer_offset`) and the
    inference is reported (warning and manifest). ``end`` later than
    ``_submission_time`` is reported (``end_after_submission``).
    """
    columns = timestamp_columns(s)
    local = [c for c in columns if c != "_submission_time"]
    naive = {c: _naive(s.cur[c]) for c in local}
    device = next((c for c in ("end", "start") if c in s.cur), None)
    written = _written_offset(s.cur[device]) if device else np.full(s.n, "", dtype=object)
    needs = [c for c in local if c in DATETIME[:2]] + [c for c in local if c not in DATETIME[:2]
                                                       and (naive[c] & (written == "")).any()]
    missing = [c for c in needs if naive[c].any()]
    tz = configured_time_zone(s.cfg)
    source = "option" if tz is not None else None
    if tz is None:
        if missing and "_submission_time" in s.cur and device:
            sub, _st = R.parse_datetimes(S(s.cur["_submission_time"]), naive_offset="+00:00")
            loc, _st = R.parse_datetimes(S(s.cur[device]), naive_offset="+00:00")
            loc = loc.where(_naive(s.cur[device]))
            tz, used = infer_offset(loc, sub)
            if tz is not None:
                source = "inferred"
                s.warnings.append(f"{', '.join(missing)} without a UTC offset: {tz} inferred from "
                                  f"_submission_time ({used} row(s)); set time_zone to state it")
        if tz is None:
            tz = "+00:00"
            source = "none" if missing else "export"
            if missing:
                s.warnings.append(f"{', '.join(missing)} without a UTC offset and no _submission_time to infer it "
                                  "from: read as UTC; set time_zone to state the offset")
        elif source is None:
            source = "export"
    s.time_zone = {"offset": tz, "source": source}
    s.timestamp_columns = columns
    for c in columns:
        if c == "_submission_time":
            vals, st = R.parse_datetimes(S(s.cur[c]), naive_offset="+00:00")
        else:
            # a naive cell takes its submission's offset as the export writes it in end/start, else tz
            offset = np.where(naive[c] & (written != ""), written, tz) if c != device else np.full(s.n, tz)
            vals, st = _parse_at(S(s.cur[c]), offset)
        bad = st == "invalid"
        s.problems.add(bad, c, s.cur[c], "invalid_date", "set missing")
        s.changes.add(c, bad, "invalid_date")
        s.changes.add(c, st == "reformatted", "date_format")
        s.dt[c] = vals
        s.final[c] = vals
    if "end" in s.dt and "_submission_time" in s.dt:
        late = (s.dt["end"] > s.dt["_submission_time"]).to_numpy(dtype=bool, na_value=False)
        s.problems.add(late, "end", s.cur["end"], "end_after_submission",
                       "reported only (device clock or time zone wrong?)")


def _parse_at(values: pd.Series, offsets: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """:func:`~analysis.cleaning._rules.parse_datetimes` with each cell's own offset for a naive time."""
    kinds = pd.unique(offsets)
    if len(kinds) == 1:
        return R.parse_datetimes(values, naive_offset=str(kinds[0]))
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ms, UTC]")
    status = np.empty(len(values), dtype=object)
    for k in kinds:
        m = offsets == k
        v, st = R.parse_datetimes(values[m], naive_offset=str(k))
        out.loc[m] = v
        status[m] = st
    return out, status


#: Functions and operators that make a calculation a number.
_NUMERIC_CALC = re.compile(r"(?:[-+*]|\bdiv\b|\bmod\b|\b(?:sum|count|count-selected|number|int|round|pow|"
                           r"decimal-date-time|max|min|abs|sqrt|exp|log|log10|pi|random)\s*\()")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\$\{[^}]*\}")


def numeric_calculate(calculation: str, values=()) -> bool:
    """Whether a ``calculate`` field holds a number: by its use (an arithmetic calculation), else its values.

    A calculate is text unless its calculation is arithmetic (``+ - * div
    mod``, ``sum()``, ``number()``...) or every non-empty value as exported is
    a plain number: a ``uuid()`` or ``concat()`` calculate stays text.

    Examples
    --------
    >>> numeric_calculate("coalesce(${a}, 0) + coalesce(${b}, 0)")
    True
    >>> numeric_calculate("uuid()", ["a1b2c3d4-0000-4000-8000-000000000001"])
    False
    >>> numeric_calculate("${x}", ["12", "3.5", ""])
    True
    """
    expr = _QUOTED.sub(" ", str(calculation or ""))
    if _NUMERIC_CALC.search(expr):
        return True
    v = [str(x).strip() for x in values if str(x).strip() != ""]
    return bool(v) and all(re.fullmatch(r"-?\d+(?:\.\d+)?", x) for x in v)


def _calculations(q) -> dict:
    sv = q.survey
    if "calculation" not in sv.columns:
        return {}
    return {str(nm): str(ex) for nm, ex in zip(sv["name"], sv["calculation"]) if str(nm)}


#: A dot then three digits ending in 0 ("5.200"): a widget writes 5.2, so a person typed it.
_TYPED_GROUP = re.compile(r"^\s*-?[1-9][0-9]{0,2}\.[0-9]{2}0\s*$")


def _parse_distinct(uniq: np.ndarray, qtype: str, dot_thousands: bool) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column's distinct values by the question's type.

    ``decimal``: the ODK widget writes a plain number with no trailing zero
    (``33.333``, ``5.2``), read as written; only a text no widget writes
    (``5.200``, ``1 500``, ``2,5``) was typed by a person and gets the rules
    for people's text (``dot_thousands`` included). Other types: the
    ``numbers`` options as they are.

    Examples
    --------
    >>> v, st = _parse_distinct(np.array(["33.333", "5.200", "2,5"], dtype=object), "decimal", True)
    >>> v.tolist()
    [33.333, 5200.0, 2.5]
    >>> _parse_distinct(np.array(["1.500"], dtype=object), "integer", True)[0].tolist()
    [1500.0]
    """
    if qtype != "decimal" or not dot_thousands:
        return R.numeric_values(S(uniq), missing_codes=(), dot_thousands=dot_thousands)
    vals, st = R.numeric_values(S(uniq), missing_codes=(), dot_thousands=False)
    typed = np.array([bool(_TYPED_GROUP.match(str(u))) for u in uniq], dtype=bool)
    if typed.any():
        tv, tst = R.numeric_values(S(uniq[typed]), missing_codes=(), dot_thousands=True)
        vals = vals.copy()
        st = np.asarray(st, dtype=object).copy()
        vals[typed], st[typed] = tv, tst
    return vals, st


def parse_numbers(s: CleaningState) -> None:
    """Numbers parsed by their question type; words for "don't know"/"refused" and -98/-99 set missing.

    Types decide parsing. A ``decimal`` value is what the ODK widget wrote
    (``33.333`` is 33.333): a dot is a decimal point there, unless the text
    cannot come from a widget (see :func:`_parse_distinct`). An ``integer``
    widget never writes a dot or a space, so such text was typed by people
    (paper, Excel) and is read with the ``numbers`` options (``1.500`` ->
    1500 when ``dot_thousands``). A ``calculate`` is a number
    only when its use says so (:func:`numeric_calculate`); otherwise it stays
    the text it is.

    A column holding no number in any of its (3 or more) non-empty cells of
    a file is another column or another form version: it is set aside in that
    file (:meth:`CleaningState.set_aside_wrong_columns`), the rest is read.
    """
    ncfg = s.cfg.get("numbers") or {}
    n, cbi, types = s.n, s.cbi, s.types
    calcs = _calculations(s.q)
    s.numeric_columns = []
    for c in s.known:
        if c in s.personal or c in s.dt or types.get(c) not in ("integer", "decimal", "calculate"):
            continue
        if types.get(c) == "calculate" and not numeric_calculate(calcs.get(c, ""), s.distinct(c)[1]):
            s.text_calculates.add(c)
            continue
        s.numeric_columns.append(c)
    for c in s.numeric_columns:
        mc = [int(x) for x in str(cbi.at[c, "missing_codes"]).split(";") if x.strip()]
        ucodes, uniq = s.distinct(c)
        uv, us = _parse_distinct(uniq, types[c], bool(ncfg.get("dot_thousands", True)))
        vals, st = (uv[ucodes], us[ucodes]) if len(uniq) else (np.full(n, np.nan), np.full(n, "empty", object))
        bad = st == "invalid"
        if types[c] != "calculate":
            s.set_aside_wrong_columns(c, bad, st, f"no cell holds a number ({types[c]} question): wrong column, "
                                                  "or an export of another form version?")
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
